//! Rules of the reliability pillar.
use super::{Check, Ctx, Outcome, RuleImpl, Violation, Workload};
use crate::path::FieldPath;
use crate::selector::label_selector_matches;
use crate::yaml::Node;

pub const RULES: &[RuleImpl] = &[
    RuleImpl {
        id: "single-replica",
        check: Check::Object(&["Deployment", "StatefulSet"], single_replica),
    },
    RuleImpl {
        id: "pdb-missing",
        check: Check::Pod(pdb_missing),
    },
];

/// `spec.replicas`, defaulting to 1 as the API server does.
pub fn replicas(obj_root: &Node) -> i64 {
    obj_root
        .at(&["spec", "replicas"])
        .and_then(Node::as_i64)
        .unwrap_or(1)
}

/// Whether an HPA (or KEDA ScaledObject) in the namespace targets this object.
pub fn has_autoscaler(cx: &Ctx, obj: &crate::object::Object) -> bool {
    let ns = obj.effective_namespace().unwrap_or("");
    cx.inv
        .in_namespace(ns, "HorizontalPodAutoscaler")
        .any(|(_, h)| {
            let t = h.root.at(&["spec", "scaleTargetRef"]);
            t.and_then(|t| t.get("kind")).and_then(Node::as_str) == Some(obj.kind.as_str())
                && t.and_then(|t| t.get("name")).and_then(Node::as_str) == Some(obj.name.as_str())
        })
        || cx.inv.in_namespace(ns, "ScaledObject").any(|(_, s)| {
            s.root
                .at(&["spec", "scaleTargetRef", "name"])
                .and_then(Node::as_str)
                == Some(obj.name.as_str())
        })
}

fn single_replica(cx: &Ctx, obj: &crate::object::Object) -> Outcome {
    let n = replicas(&obj.root);
    let min = cx.settings.thresholds.min_replicas;
    if n >= min || has_autoscaler(cx, obj) {
        return Outcome::Pass;
    }
    // Scaled to zero on purpose (a parked workload) is not a single replica.
    if n == 0 {
        return Outcome::Skip;
    }
    let path = if obj.root.at(&["spec", "replicas"]).is_some() {
        FieldPath::of(&["spec", "replicas"])
    } else {
        FieldPath::of(&["spec"])
    };
    let what = if obj.root.at(&["spec", "replicas"]).is_some() {
        format!("runs {n} replica")
    } else {
        "sets no replicas (defaults to 1)".to_string()
    };
    Outcome::fail(path, format!("{} {} {what} and has no HorizontalPodAutoscaler: one node drain or crash takes it down", obj.kind, obj.name))
}

/// Multi-replica Deployments and StatefulSets need a PDB so voluntary
/// disruptions (node drains, upgrades) keep enough of them running.
fn pdb_missing(cx: &Ctx, w: &Workload) -> Outcome {
    if !matches!(w.obj.kind.as_str(), "Deployment" | "StatefulSet")
        || (replicas(&w.obj.root) < 2 && !has_autoscaler(cx, w.obj))
    {
        return Outcome::Skip;
    }
    if let Err(reason) = cx.inv.related("PodDisruptionBudget") {
        return Outcome::NotEvaluated(reason);
    }
    let ns = w.obj.effective_namespace().unwrap_or("");
    let labels = w.labels();
    let covered = cx
        .inv
        .in_namespace(ns, "PodDisruptionBudget")
        .any(|(_, pdb)| {
            pdb.root
                .at(&["spec", "selector"])
                .is_some_and(|s| label_selector_matches(s, labels))
        });
    if covered {
        Outcome::Pass
    } else {
        Outcome::Fail(vec![Violation::new(
            FieldPath::of(&["metadata", "name"]),
            format!(
                "{} {} runs {} replicas but no PodDisruptionBudget selects its pods",
                w.obj.kind,
                w.obj.name,
                replicas(&w.obj.root)
            ),
        )])
    }
}
