//! YAML and JSON with positions.
pub mod de;
pub mod load;
pub mod node;
pub mod unkept;

pub use load::{load, Document, Limits, Loaded, Problem, ProblemKind};
pub use node::{Key, Map, Node, Pos, Resolved, Scalar, Text, Value};
