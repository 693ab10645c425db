//! kready: audits Kubernetes manifests and clusters for production readiness.
//!
//! The flow, one module per stage:
//! `source` → `inventory` → `engine` (running `rules`) → `score` → `report`.

pub mod catalog;
pub mod components;
pub mod config;
pub mod diagnostic;
pub mod engine;
pub mod inventory;
pub mod object;
pub mod path;
pub mod phases;
pub mod quantity;
pub mod report;
pub mod rules;
pub mod scan;
pub mod score;
pub mod selector;
pub mod settings;
pub mod source;
pub mod suppress;
pub mod yaml;

/// jemalloc instead of the system allocator: parsing allocates a node
/// per key and value on two threads, and glibc's malloc/free took a fifth
/// of a scan's time (perf, bench/run.sh). Set here so the binary, the
/// benchmark's floor and the tests all use it.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
