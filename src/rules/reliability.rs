//! Rules of the reliability pillar: replicas and disruption budgets
//! (`workloads`, `relations`), probes (`probes`), API versions (`apis`),
//! nodes and live status (`nodes`, `live`). Helpers shared by several
//! rules (replica counts, autoscalers, selectors) live here.
use super::{Check, Ctx, RuleImpl};
use crate::object::Object;
use crate::yaml::Node;

pub mod apis;
pub mod live;
pub mod nodes;
pub mod probes;
pub mod relations;
pub mod workloads;

pub const RULES: &[RuleImpl] = &[
    RuleImpl {
        id: "single-replica",
        check: Check::Object(&["Deployment", "StatefulSet"], workloads::single_replica),
    },
    RuleImpl {
        id: "pdb-missing",
        check: Check::Pod(relations::pdb_missing),
    },
    RuleImpl {
        id: "pdb-blocks-eviction",
        check: Check::Object(&["PodDisruptionBudget"], relations::pdb_blocks_eviction),
    },
    RuleImpl {
        id: "pdb-min-available-exceeds-hpa-min",
        check: Check::Object(
            &["PodDisruptionBudget"],
            relations::pdb_min_available_exceeds_hpa_min,
        ),
    },
    RuleImpl {
        id: "anti-affinity-missing",
        check: Check::Pod(workloads::anti_affinity_missing),
    },
    RuleImpl {
        id: "zone-spread-missing",
        check: Check::Pod(workloads::zone_spread_missing),
    },
    RuleImpl {
        id: "readiness-probe-missing",
        check: Check::Pod(probes::readiness_probe_missing),
    },
    RuleImpl {
        id: "liveness-probe-missing",
        check: Check::Pod(probes::liveness_probe_missing),
    },
    RuleImpl {
        id: "probes-identical",
        check: Check::Pod(probes::probes_identical),
    },
    RuleImpl {
        id: "probe-port-not-exposed",
        check: Check::Pod(probes::probe_port_not_exposed),
    },
    RuleImpl {
        id: "naked-pod",
        check: Check::Object(&["Pod"], workloads::naked_pod),
    },
    RuleImpl {
        id: "rolling-update-unsafe",
        check: Check::Object(
            &["Deployment", "StatefulSet", "DaemonSet"],
            workloads::rolling_update_unsafe,
        ),
    },
    RuleImpl {
        id: "priority-class-missing",
        check: Check::Pod(workloads::priority_class_missing),
    },
    RuleImpl {
        id: "service-selects-nothing",
        check: Check::Object(&["Service"], relations::service_selects_nothing),
    },
    RuleImpl {
        id: "ingress-backend-missing",
        check: Check::Object(&["Ingress"], relations::ingress_backend_missing),
    },
    RuleImpl {
        id: "hpa-target-missing",
        check: Check::Object(&["HorizontalPodAutoscaler"], relations::hpa_target_missing),
    },
    RuleImpl {
        id: "hpa-min-replicas-low",
        check: Check::Object(
            &["HorizontalPodAutoscaler"],
            relations::hpa_min_replicas_low,
        ),
    },
    RuleImpl {
        id: "hpa-replicas-conflict",
        check: Check::Object(
            &["HorizontalPodAutoscaler", "ScaledObject"],
            relations::hpa_replicas_conflict,
        ),
    },
    RuleImpl {
        id: "selector-mismatch",
        check: Check::Object(
            &[
                "Deployment",
                "StatefulSet",
                "DaemonSet",
                "ReplicaSet",
                "ReplicationController",
                "Job",
            ],
            workloads::selector_mismatch,
        ),
    },
    RuleImpl {
        id: "cronjob-deadline-missing",
        check: Check::Object(&["CronJob"], workloads::cronjob_deadline_missing),
    },
    RuleImpl {
        id: "deprecated-api-version",
        check: Check::Object(&[], apis::deprecated_api_version),
    },
    RuleImpl {
        id: "removed-api-version",
        check: Check::Object(&[], apis::removed_api_version),
    },
    RuleImpl {
        id: "control-plane-not-ha",
        check: Check::Cluster(nodes::control_plane_not_ha),
    },
    RuleImpl {
        id: "control-plane-not-dedicated",
        check: Check::Cluster(nodes::control_plane_not_dedicated),
    },
    RuleImpl {
        id: "worker-nodes-too-few",
        check: Check::Cluster(nodes::worker_nodes_too_few),
    },
    RuleImpl {
        id: "single-zone",
        check: Check::Cluster(nodes::single_zone),
    },
    RuleImpl {
        id: "node-not-ready",
        check: Check::Cluster(live::node_not_ready),
    },
    RuleImpl {
        id: "workload-unavailable",
        check: Check::Pod(live::workload_unavailable),
    },
];

/// Kinds whose replica count comes from `spec.replicas`.
pub const SCALABLE: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
];

/// `spec.replicas`, defaulting to 1 as the API server does.
pub fn replicas(obj_root: &Node) -> i64 {
    obj_root
        .at(&["spec", "replicas"])
        .and_then(Node::as_i64)
        .unwrap_or(1)
}

/// An autoscaler managing a workload.
pub struct Autoscaler<'a> {
    pub index: usize,
    pub obj: &'a Object,
    /// The fewest replicas it scales to (HPA `minReplicas`, default 1;
    /// KEDA `minReplicaCount`, default 0).
    pub min: i64,
}

/// The HPA (or KEDA ScaledObject) in the namespace that targets this object.
pub fn autoscaler<'a>(cx: &Ctx<'a>, obj: &Object) -> Option<Autoscaler<'a>> {
    let ns = obj.effective_namespace().unwrap_or("");
    let hpa = cx
        .inv
        .in_namespace(ns, "HorizontalPodAutoscaler")
        .find(|(_, h)| {
            let t = h.root.at(&["spec", "scaleTargetRef"]);
            t.and_then(|t| t.get("kind")).and_then(Node::as_str) == Some(obj.kind.as_str())
                && t.and_then(|t| t.get("name")).and_then(Node::as_str) == Some(obj.name.as_str())
        })
        .map(|(index, h)| Autoscaler {
            index,
            obj: h,
            min: h
                .root
                .at(&["spec", "minReplicas"])
                .and_then(Node::as_i64)
                .unwrap_or(1),
        });
    hpa.or_else(|| {
        cx.inv
            .in_namespace(ns, "ScaledObject")
            .find(|(_, s)| {
                let t = s.root.at(&["spec", "scaleTargetRef"]);
                let kind = t
                    .and_then(|t| t.get("kind"))
                    .and_then(Node::as_str)
                    .unwrap_or("Deployment");
                kind == obj.kind
                    && t.and_then(|t| t.get("name")).and_then(Node::as_str)
                        == Some(obj.name.as_str())
            })
            .map(|(index, s)| Autoscaler {
                index,
                obj: s,
                min: s
                    .root
                    .at(&["spec", "minReplicaCount"])
                    .and_then(Node::as_i64)
                    .unwrap_or(0),
            })
    })
}

/// Whether autoscalers can be judged: HPAs are in the input (or listed
/// live), or KEDA ScaledObjects are. The reason names the HPA, the usual one.
pub fn autoscalers_related(cx: &Ctx) -> Result<(), String> {
    cx.inv
        .related("HorizontalPodAutoscaler")
        .or_else(|reason| cx.inv.related("ScaledObject").map_err(|_| reason))
}

/// Whether an HPA (or KEDA ScaledObject) in the namespace targets this object.
pub fn has_autoscaler(cx: &Ctx, obj: &Object) -> bool {
    autoscaler(cx, obj).is_some()
}

/// An `IntOrString` count: `3` or `"25%"`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum IntOrPercent {
    Int(i64),
    Percent(f64),
}

impl IntOrPercent {
    pub fn of(n: &Node) -> Option<IntOrPercent> {
        if let Some(i) = n.as_i64() {
            return Some(IntOrPercent::Int(i));
        }
        let s = n.as_str()?.trim();
        if let Some(p) = s.strip_suffix('%') {
            return p.trim().parse().ok().map(IntOrPercent::Percent);
        }
        s.parse().ok().map(IntOrPercent::Int)
    }
}

impl std::fmt::Display for IntOrPercent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IntOrPercent::Int(i) => write!(f, "{i}"),
            IntOrPercent::Percent(p) => write!(f, "{p}%"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{load, Limits};

    fn n(s: &str) -> Node {
        load(s, &Limits::default()).docs.remove(0).root
    }

    #[test]
    fn int_or_percent() {
        assert_eq!(IntOrPercent::of(&n("3")), Some(IntOrPercent::Int(3)));
        assert_eq!(IntOrPercent::of(&n("'2'")), Some(IntOrPercent::Int(2)));
        assert_eq!(
            IntOrPercent::of(&n("25%")),
            Some(IntOrPercent::Percent(25.0))
        );
        assert_eq!(IntOrPercent::of(&n("lots")), None);
        assert_eq!(IntOrPercent::Percent(67.0).to_string(), "67%");
    }

    #[test]
    fn replicas_default_to_one() {
        assert_eq!(replicas(&n("spec: {replicas: 4}")), 4);
        assert_eq!(replicas(&n("spec: {}")), 1);
        assert_eq!(replicas(&n("spec: {replicas: '{{ .Values.n }}'}")), 1);
    }
}
