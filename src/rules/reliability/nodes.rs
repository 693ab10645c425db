//! Cluster-shape rules over Node objects: control-plane redundancy and
//! isolation, worker count, zones. They run live, or on static input the
//! user declares to be a whole cluster (`--cluster-profile`); with no Node
//! in the input they are not-evaluated.
use crate::object::Object;
use crate::path::FieldPath;
use crate::rules::{Ctx, Outcome, Violation};
use crate::yaml::Node;

const CONTROL_PLANE_LABELS: &[&str] = &[
    "node-role.kubernetes.io/control-plane",
    "node-role.kubernetes.io/master",
];
pub const ZONE_LABELS: &[&str] = &[
    "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/zone",
];

/// The Nodes of the input, or why they cannot be judged.
pub fn nodes<'a>(cx: &Ctx<'a>) -> Result<Vec<(usize, &'a Object)>, Outcome> {
    cx.inv.related("Node").map_err(Outcome::NotEvaluated)?;
    Ok(cx.inv.of_kind("Node").collect())
}

/// A control-plane node: the kubeadm/k3s role labels (any value), or the
/// older `kubernetes.io/role: master`.
pub fn is_control_plane(n: &Object) -> bool {
    // Presence counts, whatever the value (kubeadm sets "", k3s "true").
    CONTROL_PLANE_LABELS
        .iter()
        .any(|l| n.labels().and_then(|ls| ls.get(l)).is_some())
        || n.label("kubernetes.io/role") == Some("master")
}

/// Whether ordinary pods can land on the node: not cordoned, and no
/// NoSchedule/NoExecute taint (PreferNoSchedule is only a preference).
pub fn is_schedulable(n: &Object) -> bool {
    let cordoned = n
        .root
        .at(&["spec", "unschedulable"])
        .and_then(Node::as_bool)
        == Some(true);
    let tainted = n
        .root
        .at(&["spec", "taints"])
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .any(|t| {
            matches!(
                t.get("effect").and_then(Node::as_str),
                Some("NoSchedule" | "NoExecute")
            )
        });
    !cordoned && !tainted
}

fn names(ns: &[(usize, &Object)]) -> String {
    ns.iter()
        .map(|(_, n)| n.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Fewer than 3 control-plane nodes (one failure stops the API server or
/// loses etcd quorum), or an even number (no more failures tolerated than
/// with one fewer). Not-evaluated when no control-plane Node is visible,
/// as with managed control planes (EKS, GKE, AKS).
pub fn control_plane_not_ha(cx: &Ctx) -> Outcome {
    let all = match nodes(cx) {
        Ok(n) => n,
        Err(o) => return o,
    };
    let cps: Vec<_> = all
        .into_iter()
        .filter(|(_, n)| is_control_plane(n))
        .collect();
    let Some(&(first, _)) = cps.first() else {
        return Outcome::NotEvaluated(
            "no control-plane Node in the input (managed control plane?)".to_string(),
        );
    };
    let n = cps.len();
    let why = if n < 3 {
        "losing one stops the API server or etcd quorum"
    } else if n % 2 == 0 {
        "an even count tolerates no more failures than one node fewer"
    } else {
        return Outcome::Pass;
    };
    Outcome::Fail(vec![Violation::on(
        first,
        FieldPath::of(&["metadata", "labels"]),
        format!(
            "the cluster has {} ({}): {why}",
            plural(n, "control-plane node"),
            names(&cps)
        ),
    )])
}

/// Control-plane nodes should carry a NoSchedule (or NoExecute) taint so
/// ordinary workloads do not compete with etcd and the API server.
pub fn control_plane_not_dedicated(cx: &Ctx) -> Outcome {
    let all = match nodes(cx) {
        Ok(n) => n,
        Err(o) => return o,
    };
    let cps: Vec<_> = all
        .into_iter()
        .filter(|(_, n)| is_control_plane(n))
        .collect();
    if cps.is_empty() {
        return Outcome::NotEvaluated(
            "no control-plane Node in the input (managed control plane?)".to_string(),
        );
    }
    let v = cps
        .iter()
        .filter(|(_, n)| is_schedulable(n))
        .map(|&(i, n)| {
            Violation::on(
                i,
                FieldPath::of(&["spec", "taints"]),
                format!(
                    "control-plane node {} has no NoSchedule taint: ordinary workloads can run next to etcd and the API server",
                    n.name
                ),
            )
        })
        .collect();
    Outcome::from(v)
}

/// At least 2 schedulable worker nodes (not control-plane, not cordoned,
/// not tainted NoSchedule/NoExecute), or one node failure stops every workload.
pub fn worker_nodes_too_few(cx: &Ctx) -> Outcome {
    let all = match nodes(cx) {
        Ok(n) => n,
        Err(o) => return o,
    };
    let workers: Vec<_> = all
        .iter()
        .copied()
        .filter(|(_, n)| !is_control_plane(n) && is_schedulable(n))
        .collect();
    if workers.len() >= 2 {
        return Outcome::Pass;
    }
    let msg = format!(
        "the cluster has {} ({} in all){}: one node failure or drain stops the workloads",
        plural(workers.len(), "schedulable worker node"),
        plural(all.len(), "node"),
        if workers.is_empty() {
            String::new()
        } else {
            format!(": {}", names(&workers))
        }
    );
    let at = workers.first().or(all.first()).map(|&(i, _)| i);
    Outcome::Fail(vec![match at {
        Some(i) => Violation::on(i, FieldPath::of(&["metadata", "name"]), msg),
        None => Violation::general(msg),
    }])
}

/// The zone label of a node, if any.
pub fn zone(n: &Object) -> Option<(&'static str, &str)> {
    ZONE_LABELS.iter().find_map(|l| n.label(l).map(|z| (*l, z)))
}

/// Nodes spread over at least two zones (`topology.kubernetes.io/zone`), or
/// a zone outage takes the whole cluster. Not-evaluated when no node has a
/// zone label (bare metal without topology labels).
pub fn single_zone(cx: &Ctx) -> Outcome {
    let all = match nodes(cx) {
        Ok(n) => n,
        Err(o) => return o,
    };
    let zoned: Vec<(usize, &str, &str)> = all
        .iter()
        .filter_map(|&(i, n)| zone(n).map(|(l, z)| (i, l, z)))
        .collect();
    let Some(&(first, label, z)) = zoned.first() else {
        return Outcome::NotEvaluated(
            "no Node has a topology.kubernetes.io/zone label".to_string(),
        );
    };
    if zoned.iter().any(|&(_, _, other)| other != z) {
        return Outcome::Pass;
    }
    Outcome::Fail(vec![Violation::on(
        first,
        FieldPath::of(&["metadata", "labels", label]),
        format!(
            "all {} with a zone label are in zone {z}: a zone outage takes the whole cluster",
            plural(zoned.len(), "node")
        ),
    )])
}
