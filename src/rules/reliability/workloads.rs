//! Workload-shape rules: replica count, spreading, rollout strategy,
//! priority, bare Pods, selectors, CronJob scheduling.
use super::{autoscaler, replicas, IntOrPercent, SCALABLE};
use crate::object::Object;
use crate::path::FieldPath;
use crate::rules::{Ctx, Outcome, Violation, Workload};
use crate::selector::{label_selector_matches, map_selector_matches};
use crate::yaml::Node;

pub const HOSTNAME: &str = "kubernetes.io/hostname";
pub const ZONE_KEYS: &[&str] = &[
    "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/zone",
];

/// A Deployment or StatefulSet with fewer than `minReplicas` (default 2)
/// replicas and no autoscaler. Scaled to 0 on purpose is not judged; an
/// HPA with a low `minReplicas` is `hpa-min-replicas-low`'s business.
pub fn single_replica(cx: &Ctx, obj: &Object) -> Outcome {
    let n = replicas(&obj.root);
    let min = cx.settings.thresholds.min_replicas;
    if n >= min || autoscaler(cx, obj).is_some() {
        return Outcome::Pass;
    }
    // Scaled to zero on purpose (a parked workload) is not a single replica.
    if n == 0 {
        return Outcome::Skip;
    }
    let set = obj.root.at(&["spec", "replicas"]).is_some();
    let path = if set {
        FieldPath::of(&["spec", "replicas"])
    } else {
        FieldPath::of(&["spec"])
    };
    let what = if set {
        format!("runs {n} replica{}", if n == 1 { "" } else { "s" })
    } else {
        "sets no replicas (defaults to 1)".to_string()
    };
    Outcome::fail(
        path,
        format!(
            "{} {} {what} and has no HorizontalPodAutoscaler: one node drain or crash takes it down",
            obj.kind, obj.name
        ),
    )
}

/// "runs 3 replicas" / "is scaled by HorizontalPodAutoscaler web", when the
/// workload runs (or may run) several replicas; None for single-replica
/// or non-scalable workloads (DaemonSets, Jobs, Pods).
pub fn multi_replica(cx: &Ctx, obj: &Object) -> Option<String> {
    if !SCALABLE.contains(&obj.kind.as_str()) {
        return None;
    }
    if let Some(a) = autoscaler(cx, obj) {
        let max = a
            .obj
            .root
            .at(&["spec", "maxReplicas"])
            .or_else(|| a.obj.root.at(&["spec", "maxReplicaCount"]))
            .and_then(Node::as_i64)
            .unwrap_or(2);
        return (max >= 2).then(|| format!("is scaled by {} {}", a.obj.kind, a.obj.name));
    }
    let n = replicas(&obj.root);
    (n >= 2).then(|| format!("runs {n} replicas"))
}

/// Whether a pod affinity term / spread constraint selects the pod's own
/// replicas: its `labelSelector` matches the template labels, or it uses
/// `matchLabelKeys` (which refers to the pod's own label values). A term
/// without either selects no pods (Kubernetes semantics).
fn targets_own_pods(term: &Node, w: &Workload) -> bool {
    let by_keys = term
        .get("matchLabelKeys")
        .is_some_and(|k| !k.items().is_empty());
    let by_selector = term
        .get("labelSelector")
        .is_some_and(|s| s.as_map().is_some() && label_selector_matches(s, w.labels()));
    by_keys || by_selector
}

/// Topology keys on which the pod spreads its own replicas: pod
/// anti-affinity terms (required, and preferred unless `required_only`)
/// and topology spread constraints.
fn spread_keys<'a>(w: &Workload<'a>, required_only: bool) -> Vec<&'a str> {
    let mut keys = Vec::new();
    let anti = w.spec.at(&["affinity", "podAntiAffinity"]);
    let required = anti
        .and_then(|a| a.get("requiredDuringSchedulingIgnoredDuringExecution"))
        .map(Node::items)
        .unwrap_or(&[]);
    let preferred = anti
        .and_then(|a| a.get("preferredDuringSchedulingIgnoredDuringExecution"))
        .map(Node::items)
        .unwrap_or(&[]);
    let mut terms: Vec<&Node> = required.iter().collect();
    if !required_only {
        terms.extend(preferred.iter().filter_map(|p| p.get("podAffinityTerm")));
    }
    for t in terms {
        if targets_own_pods(t, w) {
            keys.extend(t.get("topologyKey").and_then(Node::as_str));
        }
    }
    if !required_only {
        for c in w
            .get("topologySpreadConstraints")
            .map(Node::items)
            .unwrap_or(&[])
        {
            if targets_own_pods(c, w) {
                keys.extend(c.get("topologyKey").and_then(Node::as_str));
            }
        }
    }
    keys
}

/// A multi-replica workload should keep its replicas on different nodes:
/// pod anti-affinity or a topology spread constraint on
/// `kubernetes.io/hostname` selecting its own pods. A *required* zone
/// anti-affinity also implies distinct nodes and is accepted.
pub fn anti_affinity_missing(cx: &Ctx, w: &Workload) -> Outcome {
    let Some(how_many) = multi_replica(cx, w.obj) else {
        return Outcome::Skip;
    };
    if spread_keys(w, false).contains(&HOSTNAME)
        || spread_keys(w, true).iter().any(|k| ZONE_KEYS.contains(k))
    {
        return Outcome::Pass;
    }
    Outcome::fail(
        w.path("affinity"),
        format!(
            "{} {} {how_many} but has no pod anti-affinity or topology spread on {HOSTNAME}: several replicas may land on one node",
            w.obj.kind, w.obj.name
        ),
    )
}

/// A multi-replica workload should spread over zones: a topology spread
/// constraint or pod anti-affinity on `topology.kubernetes.io/zone`.
pub fn zone_spread_missing(cx: &Ctx, w: &Workload) -> Outcome {
    let Some(how_many) = multi_replica(cx, w.obj) else {
        return Outcome::Skip;
    };
    if spread_keys(w, false).iter().any(|k| ZONE_KEYS.contains(k)) {
        return Outcome::Pass;
    }
    Outcome::fail(
        w.path("topologySpreadConstraints"),
        format!(
            "{} {} {how_many} but has no topology spread or anti-affinity on topology.kubernetes.io/zone: a zone outage may take every replica",
            w.obj.kind, w.obj.name
        ),
    )
}

/// A Pod no controller manages is not recreated when its node fails or
/// is drained. Mirror (static) Pods and Helm hook/test Pods are not judged.
pub fn naked_pod(_cx: &Ctx, obj: &Object) -> Outcome {
    if obj.annotation("kubernetes.io/config.mirror").is_some()
        || obj.annotation("helm.sh/hook").is_some()
    {
        return Outcome::Skip;
    }
    let controlled = obj
        .root
        .at(&["metadata", "ownerReferences"])
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .any(|r| r.get("controller").and_then(Node::as_bool) == Some(true));
    if controlled {
        return Outcome::Pass;
    }
    Outcome::fail(
        FieldPath::of(&["metadata", "ownerReferences"]),
        format!(
            "Pod {} has no controller: it is not recreated if its node fails or is drained (use a Deployment, StatefulSet or Job)",
            obj.name
        ),
    )
}

/// Whether the pod template mounts a PersistentVolumeClaim that cannot be
/// shared between nodes (ReadWriteOnce/ReadWriteOncePod, or not in the input).
fn mounts_exclusive_pvc(cx: &Ctx, w: &Workload) -> bool {
    let ns = w.obj.effective_namespace().unwrap_or("");
    w.get("volumes")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|v| v.at(&["persistentVolumeClaim", "claimName"]))
        .filter_map(Node::as_str)
        .any(
            |claim| match cx.inv.get("PersistentVolumeClaim", ns, claim) {
                Some((_, pvc)) => !pvc
                    .root
                    .at(&["spec", "accessModes"])
                    .map(Node::items)
                    .unwrap_or(&[])
                    .iter()
                    .any(|m| matches!(m.as_str(), Some("ReadWriteMany" | "ReadOnlyMany"))),
                None => true,
            },
        )
}

/// A rollout should keep serving: no `Recreate` strategy on a Deployment
/// of several replicas (unless the pods mount a ReadWriteOnce volume,
/// which forces it; with one replica `single-replica` reports), and no
/// `maxUnavailable` of 100% (or, with a known replica count, ≥ replicas).
pub fn rolling_update_unsafe(cx: &Ctx, obj: &Object) -> Outcome {
    let n = replicas(&obj.root);
    if SCALABLE.contains(&obj.kind.as_str()) && n == 0 {
        return Outcome::Skip;
    }
    let strategy_key = if obj.kind == "Deployment" {
        "strategy"
    } else {
        "updateStrategy"
    };
    let strategy = obj.root.at(&["spec", strategy_key]);
    let base = FieldPath::of(&["spec", strategy_key]);
    let mut v = Vec::new();
    // With one replica (and no autoscaler) there is no redundancy to keep
    // during a rollout either way: single-replica reports that, not this rule.
    let several = n >= 2 || autoscaler(cx, obj).is_some();
    if obj.kind == "Deployment"
        && several
        && strategy.and_then(|s| s.get("type")).and_then(Node::as_str) == Some("Recreate")
    {
        let forced =
            crate::rules::Workload::of(obj, 0).is_some_and(|w| mounts_exclusive_pvc(cx, &w));
        if forced {
            return Outcome::Pass;
        }
        v.push(Violation::new(
            base.key("type"),
            format!(
                "Deployment {} uses the Recreate strategy: every rollout stops all pods before starting new ones",
                obj.name
            ),
        ));
    }
    let max_unavailable = strategy.and_then(|s| s.at(&["rollingUpdate", "maxUnavailable"]));
    if let Some(mu) = max_unavailable.and_then(IntOrPercent::of) {
        let known_replicas = SCALABLE.contains(&obj.kind.as_str()) && autoscaler(cx, obj).is_none();
        let all = match mu {
            IntOrPercent::Percent(p) => p >= 100.0,
            IntOrPercent::Int(i) => known_replicas && n >= 2 && i >= n,
        };
        if all {
            v.push(Violation::new(
                base.keys(&["rollingUpdate", "maxUnavailable"]),
                format!(
                    "{} {} allows maxUnavailable {mu}: a rollout may take every pod down at once",
                    obj.kind, obj.name
                ),
            ));
        }
    }
    Outcome::from(v)
}

/// Long-running workloads should set a `priorityClassName`: without one
/// their pods have priority 0, are preempted first and cannot preempt.
/// Run-to-completion workloads (Jobs, CronJobs, Pods that do not restart)
/// are not judged, nor any pod when the input holds a PriorityClass with
/// `globalDefault: true`.
pub fn priority_class_missing(cx: &Ctx, w: &Workload) -> Outcome {
    if w.is_batch() {
        return Outcome::Skip;
    }
    let set = w
        .get("priorityClassName")
        .and_then(Node::as_str)
        .is_some_and(|s| !s.is_empty());
    // A PriorityClass with globalDefault: true applies to pods naming none.
    let global_default = cx
        .inv
        .of_kind("PriorityClass")
        .any(|(_, pc)| pc.root.get("globalDefault").and_then(Node::as_bool) == Some(true));
    if set || global_default {
        return Outcome::Pass;
    }
    Outcome::fail(
        w.path("priorityClassName"),
        format!(
            "{} {} sets no priorityClassName: its pods run at priority 0, the first to be preempted",
            w.obj.kind, w.obj.name
        ),
    )
}

/// `app=web,tier in (a,b)` for messages.
pub fn describe_selector(sel: &Node) -> String {
    let mut parts: Vec<String> = sel
        .get("matchLabels")
        .into_iter()
        .flat_map(Node::entries)
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    for e in sel.get("matchExpressions").map(Node::items).unwrap_or(&[]) {
        let key = e.get("key").and_then(Node::as_str).unwrap_or("?");
        let op = e.get("operator").and_then(Node::as_str).unwrap_or("?");
        let vals: Vec<&str> = e
            .get("values")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter_map(Node::as_str)
            .collect();
        parts.push(if vals.is_empty() {
            format!("{key} {op}")
        } else {
            format!("{key} {op} ({})", vals.join(","))
        });
    }
    // Map selectors (ReplicationController, Service).
    if sel.get("matchLabels").is_none() && sel.get("matchExpressions").is_none() {
        parts = sel
            .entries()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect();
    }
    parts.join(",")
}

/// A controller's selector must match its own pod template labels, or the
/// API rejects it (apps/v1) or the controller never sees its pods. An
/// absent selector is defaulted from the labels (older APIs, Jobs,
/// ReplicationControllers) and not judged; Jobs only with `manualSelector`.
pub fn selector_mismatch(_cx: &Ctx, obj: &Object) -> Outcome {
    let Some(sel) = obj.root.at(&["spec", "selector"]) else {
        return Outcome::Skip;
    };
    if obj.kind == "Job"
        && obj
            .root
            .at(&["spec", "manualSelector"])
            .and_then(Node::as_bool)
            != Some(true)
    {
        return Outcome::Skip;
    }
    // A view of the pod template (the index is not used here).
    let Some(w) = Workload::of(obj, 0) else {
        return Outcome::Skip;
    };
    let labels = w.labels();
    let ok = if obj.kind == "ReplicationController" {
        sel.is_empty() || map_selector_matches(sel, labels)
    } else {
        sel.as_map().is_none() || label_selector_matches(sel, labels)
    };
    if ok {
        return Outcome::Pass;
    }
    let have = labels
        .map(|l| {
            l.entries()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    Outcome::fail(
        FieldPath::of(&["spec", "selector"]),
        format!(
            "{} {} selects {} but its pod template is labelled {}",
            obj.kind,
            obj.name,
            describe_selector(sel),
            if have.is_empty() {
                "with nothing".to_string()
            } else {
                have
            }
        ),
    )
}

/// A CronJob should bound how late a missed run may start
/// (`startingDeadlineSeconds`) and not let runs overlap
/// (`concurrencyPolicy` Forbid or Replace; the default is Allow).
pub fn cronjob_deadline_missing(_cx: &Ctx, obj: &Object) -> Outcome {
    let spec = obj.root.get("spec");
    let mut v = Vec::new();
    if spec
        .and_then(|s| s.get("startingDeadlineSeconds"))
        .and_then(Node::as_i64)
        .is_none()
    {
        v.push(Violation::new(
            FieldPath::of(&["spec", "startingDeadlineSeconds"]),
            format!(
                "CronJob {} sets no startingDeadlineSeconds: a run missed during an outage may start at any later time",
                obj.name
            ),
        ));
    }
    let policy = spec
        .and_then(|s| s.get("concurrencyPolicy"))
        .and_then(Node::as_str);
    if policy.is_none_or(|p| p == "Allow") {
        v.push(Violation::new(
            FieldPath::of(&["spec", "concurrencyPolicy"]),
            format!(
                "CronJob {} has concurrencyPolicy {}: a slow run overlaps the next one",
                obj.name,
                if policy.is_some() {
                    "Allow"
                } else {
                    "Allow (the default)"
                }
            ),
        ));
    }
    Outcome::from(v)
}
