//! Rule logic, one module per pillar. A rule is a pure function of
//! (subject, inventory, settings): no I/O, no global state, so the engine
//! can run them in parallel and tests can call them directly.
//!
//! To add a rule: write `rules/<id>.yaml` (the words), a function in the
//! pillar module (the logic) registered in that module's `RULES`, and
//! `fixtures/rules/<id>/{pass,fail}.yaml`. The catalog test checks all three.

pub mod control_plane;
pub mod disaster_recovery;
pub mod observability;
pub mod performance;
pub mod pod;
pub mod reliability;
pub mod security;

use crate::inventory::Inventory;
use crate::object::Object;
use crate::path::FieldPath;
use crate::settings::Settings;
pub use pod::{Container, ContainerKind, Workload};

/// What a rule reads.
pub struct Ctx<'a> {
    pub inv: &'a Inventory,
    pub settings: &'a Settings,
}

/// The logic of one rule, and what it judges.
#[derive(Clone, Copy)]
pub enum Check {
    /// Objects of these kinds (`&[]`: every object).
    Object(&'static [&'static str], fn(&Ctx, &Object) -> Outcome),
    /// Every pod spec: Pods and the templates of workload controllers
    /// (a Pod owned by a controller in the input is judged through it).
    Pod(fn(&Ctx, &Workload) -> Outcome),
    /// Each namespace that holds workloads.
    Namespace(fn(&Ctx, &str) -> Outcome),
    /// The cluster as a whole (live, or static with `--cluster-profile`).
    Cluster(fn(&Ctx) -> Outcome),
}

#[derive(Clone, Copy)]
pub struct RuleImpl {
    pub id: &'static str,
    pub check: Check,
}

/// One rule's verdict on one subject.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The rule does not apply to this subject (not counted anywhere).
    Skip,
    Pass,
    Fail(Vec<Violation>),
    /// The rule applies but cannot be judged (related kind absent, list refused).
    NotEvaluated(String),
}

impl Outcome {
    /// `Pass` when there is nothing wrong, else `Fail`.
    pub fn from(violations: Vec<Violation>) -> Outcome {
        if violations.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail(violations)
        }
    }

    pub fn fail(path: FieldPath, message: impl Into<String>) -> Outcome {
        Outcome::Fail(vec![Violation::new(path, message)])
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub message: String,
    /// The offending field (or where it should be), relative to `object`.
    pub path: FieldPath,
    /// For namespace and cluster rules: the object to point at, by index
    /// in the inventory (object rules point at their own object).
    pub object: Option<usize>,
}

impl Violation {
    pub fn new(path: FieldPath, message: impl Into<String>) -> Self {
        Violation {
            message: message.into(),
            path,
            object: None,
        }
    }

    pub fn on(object: usize, path: FieldPath, message: impl Into<String>) -> Self {
        Violation {
            message: message.into(),
            path,
            object: Some(object),
        }
    }

    /// A cluster or namespace finding that points at no object.
    pub fn general(message: impl Into<String>) -> Self {
        Violation {
            message: message.into(),
            path: FieldPath::root(),
            object: None,
        }
    }
}

/// Every implemented rule.
pub fn all() -> Vec<RuleImpl> {
    [
        security::rules(),
        reliability::RULES.to_vec(),
        observability::RULES.to_vec(),
        disaster_recovery::RULES.to_vec(),
        performance::RULES.to_vec(),
    ]
    .concat()
}

/// Where a namespace-scope finding points: the Namespace object when the
/// input has it, else the namespace's first workload.
pub fn namespace_violation(cx: &Ctx, ns: &str, msg: String) -> Violation {
    let at = cx
        .inv
        .get("Namespace", "", ns)
        .map(|(i, _)| i)
        .or_else(|| cx.inv.workloads_in(ns).next().map(|w| w.index));
    match at {
        Some(i) => Violation::on(i, FieldPath::of(&["metadata", "name"]), msg),
        None => Violation::general(msg),
    }
}
