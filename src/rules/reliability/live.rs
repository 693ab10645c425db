//! Rules that read `status`: only with live input or a kready snapshot
//! (`settings.read_status`). Plain manifests carry no status, or a stale
//! one, so these rules are then not-evaluated.
use super::nodes::nodes;
use super::replicas;
use crate::object::Object;
use crate::path::FieldPath;
use crate::rules::{Ctx, Outcome, Violation, Workload};
use crate::selector::label_selector_matches;
use crate::yaml::Node;

pub const NEEDS_STATUS: &str = "needs live status (--live or a kready snapshot)";

/// Node conditions that are bad when `True`.
const PRESSURE: &[&str] = &[
    "MemoryPressure",
    "DiskPressure",
    "PIDPressure",
    "NetworkUnavailable",
];

/// Nodes that are NotReady (Ready not True) or under memory, disk or PID
/// pressure. Nodes without status are not judged.
pub fn node_not_ready(cx: &Ctx) -> Outcome {
    if !cx.settings.read_status {
        return Outcome::NotEvaluated(NEEDS_STATUS.to_string());
    }
    let all = match nodes(cx) {
        Ok(n) => n,
        Err(o) => return o,
    };
    let mut judged = false;
    let mut v = Vec::new();
    for (i, n) in all {
        let conds = n
            .root
            .at(&["status", "conditions"])
            .map(Node::items)
            .unwrap_or(&[]);
        if conds.is_empty() {
            continue;
        }
        judged = true;
        for (ci, c) in conds.iter().enumerate() {
            let (Some(t), status) = (
                c.get("type").and_then(Node::as_str),
                c.get("status").and_then(Node::as_str).unwrap_or("Unknown"),
            ) else {
                continue;
            };
            let reason = c
                .get("reason")
                .and_then(Node::as_str)
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            let msg = if t == "Ready" && status != "True" {
                format!("node {} is NotReady: Ready is {status}{reason}", n.name)
            } else if PRESSURE.contains(&t) && status == "True" {
                format!("node {} reports {t}{reason}", n.name)
            } else {
                continue;
            };
            v.push(Violation::on(
                i,
                FieldPath::of(&["status", "conditions"]).idx(ci),
                msg,
            ));
        }
    }
    if !judged {
        return Outcome::NotEvaluated("no Node status in the input".to_string());
    }
    Outcome::from(v)
}

/// Waiting reasons that mean a container cannot run.
const BAD_WAITING: &[&str] = &[
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

/// Containers of a Pod stuck in a bad waiting state, located in its status.
fn pod_problems(pod: &Object) -> Vec<(FieldPath, String)> {
    let mut out = Vec::new();
    for key in ["initContainerStatuses", "containerStatuses"] {
        let statuses = pod
            .root
            .at(&["status", key])
            .map(Node::items)
            .unwrap_or(&[]);
        for (i, s) in statuses.iter().enumerate() {
            let Some(reason) = s.at(&["state", "waiting", "reason"]).and_then(Node::as_str) else {
                continue;
            };
            if !BAD_WAITING.contains(&reason) {
                continue;
            }
            let name = s.get("name").and_then(Node::as_str).unwrap_or("?");
            let restarts = s.get("restartCount").and_then(Node::as_i64).unwrap_or(0);
            out.push((
                FieldPath::of(&["status", key])
                    .idx(i)
                    .keys(&["state", "waiting", "reason"]),
                format!(
                    "pod {}: container \"{name}\" is in {reason} ({restarts} restart{})",
                    pod.name,
                    if restarts == 1 { "" } else { "s" }
                ),
            ));
        }
    }
    out
}

/// Desired and ready pod counts from a controller's status, with the
/// path of the ready count.
fn ready_counts(w: &Workload) -> Option<(i64, i64, FieldPath)> {
    let st = w.obj.root.get("status")?;
    let get = |k: &str| st.get(k).and_then(Node::as_i64).unwrap_or(0);
    if w.obj.kind == "DaemonSet" {
        Some((
            get("desiredNumberScheduled"),
            get("numberReady"),
            FieldPath::of(&["status", "numberReady"]),
        ))
    } else {
        Some((
            replicas(&w.obj.root),
            get("readyReplicas"),
            FieldPath::of(&["status", "readyReplicas"]),
        ))
    }
}

/// A workload with fewer ready pods than desired, or whose pods are stuck
/// crash-looping or unable to pull their image. Controllers are judged
/// from their status and the Pods their selector matches; bare Pods from
/// their container statuses. Jobs and CronJobs are not judged.
pub fn workload_unavailable(cx: &Ctx, w: &Workload) -> Outcome {
    if matches!(w.obj.kind.as_str(), "Job" | "CronJob") {
        return Outcome::Skip;
    }
    if !cx.settings.read_status {
        return Outcome::NotEvaluated(NEEDS_STATUS.to_string());
    }
    if w.obj.kind == "Pod" {
        if w.obj.root.get("status").is_none() {
            return Outcome::NotEvaluated(format!("Pod {} has no status", w.obj.name));
        }
        let v = pod_problems(w.obj)
            .into_iter()
            .map(|(p, m)| Violation::new(p, m))
            .collect();
        return Outcome::from(v);
    }
    let Some((desired, ready, path)) = ready_counts(w) else {
        return Outcome::NotEvaluated(format!("{} {} has no status", w.obj.kind, w.obj.name));
    };
    let mut v = Vec::new();
    if desired > 0 && ready < desired {
        v.push(Violation::new(
            path,
            format!(
                "{} {} has {ready} of {desired} pods ready",
                w.obj.kind, w.obj.name
            ),
        ));
    }
    // Pods of the controller, found by its selector in the namespace.
    let ns = w.obj.effective_namespace().unwrap_or("");
    if let Some(sel) = w.obj.root.at(&["spec", "selector"]) {
        let map_style = w.obj.kind == "ReplicationController";
        for (i, pod) in cx.inv.in_namespace(ns, "Pod") {
            // A Pod judged on its own (no controller of it in the input) is
            // reported there, not twice. (Workload indexes are ascending.)
            if cx.inv.workload_indexes().binary_search(&i).is_ok() {
                continue;
            }
            let labels = pod.labels();
            let selected = if map_style {
                crate::selector::map_selector_matches(sel, labels)
            } else {
                sel.as_map().is_some() && !sel.is_empty() && label_selector_matches(sel, labels)
            };
            if selected {
                v.extend(pod_problems(pod).into_iter().map(|(p, m)| {
                    Violation::on(i, p, format!("{} {}: {m}", w.obj.kind, w.obj.name))
                }));
            }
        }
    }
    Outcome::from(v)
}
