//! Relation rules: disruption budgets, autoscalers, Services and Ingresses
//! against the workloads they refer to. Each asks the inventory's indexes
//! (per namespace, by name) and answers not-evaluated when the related
//! kind is absent from the input.
use super::workloads::{describe_selector, multi_replica};
use super::{autoscaler, replicas, IntOrPercent, SCALABLE};
use crate::object::Object;
use crate::path::FieldPath;
use crate::rules::{Ctx, Outcome, Violation, Workload};
use crate::selector::label_selector_matches;
use crate::yaml::Node;

/// Whether a PDB selects pods with these labels. No selector selects
/// nothing; an empty one selects everything in policy/v1 but nothing in
/// policy/v1beta1.
pub fn pdb_selects(pdb: &Object, labels: Option<&Node>) -> bool {
    let Some(sel) = pdb.root.at(&["spec", "selector"]) else {
        return false;
    };
    if sel.is_empty() && pdb.api_version == "policy/v1beta1" {
        return false;
    }
    label_selector_matches(sel, labels)
}

/// Workloads of the PDB's namespace whose pods it selects.
fn pdb_workloads<'a>(cx: &Ctx<'a>, pdb: &'a Object) -> Vec<Workload<'a>> {
    let ns = pdb.effective_namespace().unwrap_or("");
    let Some(sel) = pdb.root.at(&["spec", "selector"]) else {
        return Vec::new();
    };
    // The index finds the candidates; `pdb_selects` keeps the verdict
    // (policy/v1beta1's empty selector).
    cx.inv
        .workloads_selected_by_label(ns, sel)
        .filter(|w| pdb_selects(pdb, w.labels()))
        .collect()
}

/// Multi-replica Deployments and StatefulSets need a PDB so voluntary
/// disruptions (node drains, upgrades) keep enough of them running.
pub fn pdb_missing(cx: &Ctx, w: &Workload) -> Outcome {
    if !matches!(w.obj.kind.as_str(), "Deployment" | "StatefulSet") {
        return Outcome::Skip;
    }
    let Some(how_many) = multi_replica(cx, w.obj) else {
        return Outcome::Skip;
    };
    if let Err(reason) = cx.inv.related("PodDisruptionBudget") {
        return Outcome::NotEvaluated(reason);
    }
    let ns = w.obj.effective_namespace().unwrap_or("");
    let covered = cx
        .inv
        .in_namespace(ns, "PodDisruptionBudget")
        .any(|(_, pdb)| pdb_selects(pdb, w.labels()));
    if covered {
        return Outcome::Pass;
    }
    Outcome::fail(
        FieldPath::of(&["metadata", "name"]),
        format!(
            "{} {} {how_many} but no PodDisruptionBudget selects its pods",
            w.obj.kind, w.obj.name
        ),
    )
}

/// How many pods the selected workloads run, when it is fixed: None when
/// one of them is autoscaled, a DaemonSet (one per node) or batch.
fn fixed_pod_count(cx: &Ctx, ws: &[Workload]) -> Option<(i64, String)> {
    let mut total = 0;
    let mut names = Vec::new();
    for w in ws {
        let n = if SCALABLE.contains(&w.obj.kind.as_str()) && autoscaler(cx, w.obj).is_none() {
            replicas(&w.obj.root)
        } else if w.obj.kind == "Pod" && !w.is_batch() {
            1
        } else {
            return None;
        };
        total += n;
        names.push(format!("{} {}: {n}", w.obj.kind, w.obj.name));
    }
    Some((total, names.join(", ")))
}

/// A PDB that can never allow a disruption blocks every node drain (and so
/// cluster upgrades): `maxUnavailable: 0`, `minAvailable: 100%`, or a
/// `minAvailable` at least the number of pods it selects. When the count
/// depends on an autoscaler, see `pdb-min-available-exceeds-hpa-min`.
pub fn pdb_blocks_eviction(cx: &Ctx, pdb: &Object) -> Outcome {
    let spec = pdb.root.get("spec");
    let what = format!("PodDisruptionBudget {}", pdb.name);
    if let Some(mu) = spec.and_then(|s| s.get("maxUnavailable")) {
        return match IntOrPercent::of(mu) {
            Some(IntOrPercent::Int(0)) => Outcome::fail(
                FieldPath::of(&["spec", "maxUnavailable"]),
                format!("{what} sets maxUnavailable 0: no pod it selects can ever be evicted, so node drains hang"),
            ),
            Some(IntOrPercent::Percent(p)) if p <= 0.0 => Outcome::fail(
                FieldPath::of(&["spec", "maxUnavailable"]),
                format!("{what} sets maxUnavailable {p}%: no pod it selects can ever be evicted, so node drains hang"),
            ),
            _ => Outcome::Pass,
        };
    }
    let Some(ma) = spec.and_then(|s| s.get("minAvailable")) else {
        return Outcome::Skip;
    };
    let Some(min) = IntOrPercent::of(ma) else {
        return Outcome::Skip;
    };
    let path = FieldPath::of(&["spec", "minAvailable"]);
    if let IntOrPercent::Percent(p) = min {
        if p >= 100.0 {
            return Outcome::fail(
                path,
                format!("{what} sets minAvailable {p}%: no pod it selects can ever be evicted, so node drains hang"),
            );
        }
    }
    let ws = pdb_workloads(cx, pdb);
    if ws.is_empty() {
        return Outcome::NotEvaluated(format!("no workload selected by {what} in the input"));
    }
    let Some((total, names)) = fixed_pod_count(cx, &ws) else {
        return Outcome::Pass;
    };
    let required = match min {
        IntOrPercent::Int(i) => i,
        // The disruption controller rounds a percentage up.
        IntOrPercent::Percent(p) => (p * total as f64 / 100.0).ceil() as i64,
    };
    if total > 0 && required >= total {
        return Outcome::fail(
            path,
            format!("{what} requires minAvailable {min} but selects only {total} pod{} ({names}): none can ever be evicted, so node drains hang",
                if total == 1 { "" } else { "s" }),
        );
    }
    Outcome::Pass
}

/// A PDB `minAvailable` (a number) at or above the `minReplicas` of the
/// autoscaler of a workload it selects: once the HPA scales down to its
/// minimum, no pod can be evicted and node drains hang.
pub fn pdb_min_available_exceeds_hpa_min(cx: &Ctx, pdb: &Object) -> Outcome {
    let Some(IntOrPercent::Int(min)) = pdb
        .root
        .at(&["spec", "minAvailable"])
        .and_then(IntOrPercent::of)
    else {
        return Outcome::Skip;
    };
    if let Err(reason) = super::autoscalers_related(cx) {
        return Outcome::NotEvaluated(reason);
    }
    let ws = pdb_workloads(cx, pdb);
    if ws.is_empty() {
        return Outcome::NotEvaluated(format!(
            "no workload selected by PodDisruptionBudget {} in the input",
            pdb.name
        ));
    }
    let mut judged = false;
    let mut v = Vec::new();
    for w in &ws {
        let Some(a) = autoscaler(cx, w.obj) else {
            continue;
        };
        judged = true;
        let floor = a.min.max(1);
        if min >= floor {
            v.push(Violation::new(
                FieldPath::of(&["spec", "minAvailable"]),
                format!(
                    "PodDisruptionBudget {} requires minAvailable {min} but {} {} may scale {} {} down to {floor} replica{}: then no pod can be evicted",
                    pdb.name, a.obj.kind, a.obj.name, w.obj.kind, w.obj.name,
                    if floor == 1 { "" } else { "s" }
                ),
            ));
        }
    }
    if !judged {
        return Outcome::Skip;
    }
    Outcome::from(v)
}

/// Custom resources from which operators create pods (Prometheus
/// Operator, Strimzi, ECK, CloudNativePG, RabbitMQ, ...). Their pods carry
/// the resource's name in a label, so a Service selecting that name is
/// probably right even though no workload of the input matches.
const POD_CREATING_KINDS: &[&str] = &[
    "Prometheus",
    "Alertmanager",
    "ThanosRuler",
    "PrometheusAgent",
    "Kafka",
    "KafkaNodePool",
    "KafkaConnect",
    "KafkaBridge",
    "KafkaMirrorMaker2",
    "Elasticsearch",
    "Kibana",
    "Logstash",
    "Beat",
    "Agent",
    "Cluster",
    "Pooler",
    "PostgresCluster",
    "RabbitmqCluster",
    "MongoDBCommunity",
    "PerconaXtraDBCluster",
    "RedisFailover",
    "Redis",
    "RedisCluster",
    "Grafana",
    "OpenTelemetryCollector",
    "Jaeger",
    "Tenant",
    "VMCluster",
    "VMSingle",
    "VMAgent",
    "VMAlertmanager",
    "Keycloak",
    "ArgoCD",
    "Gateway",
    "IstioOperator",
    "TaskRun",
    "PipelineRun",
];

/// A pod-creating custom resource of the namespace named like one of the
/// selector's values, as `Kind name`.
fn operator_resource(cx: &Ctx, ns: &str, sel: &Node) -> Option<String> {
    sel.entries()
        .filter_map(|(_, v)| v.as_str())
        .find_map(|value| {
            POD_CREATING_KINDS
                .iter()
                .find_map(|k| cx.inv.get(k, ns, value))
                .map(|(_, o)| format!("{} {}", o.kind, o.name))
        })
}

/// A Service whose selector matches no workload's pods has no endpoints.
/// ExternalName Services and Services without a selector (manual
/// Endpoints) are not judged; not-evaluated when the namespace holds no
/// workload in the input (the pods live elsewhere), or when a selector
/// value names a pod-creating custom resource of the namespace (an
/// operator makes the pods).
pub fn service_selects_nothing(cx: &Ctx, svc: &Object) -> Outcome {
    let spec = svc.root.get("spec");
    if spec.and_then(|s| s.get("type")).and_then(Node::as_str) == Some("ExternalName") {
        return Outcome::Skip;
    }
    let Some(sel) = spec
        .and_then(|s| s.get("selector"))
        .filter(|s| !s.is_empty())
    else {
        return Outcome::Skip;
    };
    let ns = svc.effective_namespace().unwrap_or("");
    if cx.inv.workloads_in(ns).next().is_none() {
        return Outcome::NotEvaluated(format!("no workload in namespace {ns} in the input"));
    }
    if cx.inv.workloads_selected_by_map(ns, sel).next().is_some() {
        return Outcome::Pass;
    }
    if let Some(cr) = operator_resource(cx, ns, sel) {
        return Outcome::NotEvaluated(format!("its pods may be created by an operator from {cr}"));
    }
    Outcome::fail(
        FieldPath::of(&["spec", "selector"]),
        format!(
            "Service {} selects {} but no workload in namespace {ns} has pods with these labels: it has no endpoints",
            svc.name,
            describe_selector(sel)
        ),
    )
}

/// Backends of an Ingress (networking/v1 and the older v1beta1 shape):
/// (path of the backend, Service name, port as written, path of the port).
type Backend<'a> = (FieldPath, String, Option<&'a Node>, FieldPath);

/// Adds one backend (service.name/port, or serviceName/servicePort).
fn push_backend<'a>(out: &mut Vec<Backend<'a>>, backend: &'a Node, at: FieldPath) {
    if let Some(name) = backend.at(&["service", "name"]).and_then(Node::as_str) {
        let port = backend.at(&["service", "port"]);
        let number = port.and_then(|p| p.get("number"));
        let (port, port_path) = match number {
            Some(n) => (Some(n), at.keys(&["service", "port", "number"])),
            None => (
                port.and_then(|p| p.get("name")),
                at.keys(&["service", "port", "name"]),
            ),
        };
        out.push((
            at.keys(&["service", "name"]),
            name.to_string(),
            port,
            port_path,
        ));
    } else if let Some(name) = backend.get("serviceName").and_then(Node::as_str) {
        out.push((
            at.key("serviceName"),
            name.to_string(),
            backend.get("servicePort"),
            at.key("servicePort"),
        ));
    }
}

fn ingress_backends(ing: &Object) -> Vec<Backend<'_>> {
    let mut out = Vec::new();
    for key in ["defaultBackend", "backend"] {
        if let Some(b) = ing.root.at(&["spec", key]) {
            push_backend(&mut out, b, FieldPath::of(&["spec", key]));
        }
    }
    let rules = ing
        .root
        .at(&["spec", "rules"])
        .map(Node::items)
        .unwrap_or(&[]);
    for (i, r) in rules.iter().enumerate() {
        let paths = r.at(&["http", "paths"]).map(Node::items).unwrap_or(&[]);
        for (j, p) in paths.iter().enumerate() {
            if let Some(b) = p.get("backend") {
                let at = FieldPath::of(&["spec", "rules"])
                    .idx(i)
                    .keys(&["http", "paths"])
                    .idx(j)
                    .key("backend");
                push_backend(&mut out, b, at);
            }
        }
    }
    out
}

/// Whether a Service exposes the port an Ingress backend names (by
/// number or by name). A Service declaring no ports is not judged.
fn service_has_port(svc: &Object, port: &Node) -> bool {
    let ports = svc
        .root
        .at(&["spec", "ports"])
        .map(Node::items)
        .unwrap_or(&[]);
    if ports.is_empty() {
        return true;
    }
    match port.as_i64() {
        Some(n) => ports
            .iter()
            .any(|p| p.get("port").and_then(Node::as_i64) == Some(n)),
        None => ports
            .iter()
            .any(|p| p.get("name").and_then(Node::as_str) == port.as_str()),
    }
}

/// Every Ingress backend must name a Service of its namespace, and a port
/// that Service exposes; otherwise the route answers 503. Not-evaluated
/// when the input holds no Service at all, or none in the Ingress's
/// namespace (the Services are then defined elsewhere). Several Services of
/// the same name (overlays scanned together) count as one that has every
/// port any of them has.
pub fn ingress_backend_missing(cx: &Ctx, ing: &Object) -> Outcome {
    let backends = ingress_backends(ing);
    if backends.is_empty() {
        return Outcome::Skip;
    }
    if let Err(reason) = cx.inv.related("Service") {
        return Outcome::NotEvaluated(reason);
    }
    let ns = ing.effective_namespace().unwrap_or("");
    if cx.inv.in_namespace(ns, "Service").next().is_none() {
        return Outcome::NotEvaluated(format!("no Service in namespace {ns} in the input"));
    }
    let mut v = Vec::new();
    for (at, name, port, port_at) in backends {
        let named: Vec<&Object> = cx.inv.named("Service", ns, &name).map(|(_, s)| s).collect();
        if named.is_empty() {
            v.push(Violation::new(
                at,
                format!(
                    "Ingress {} routes to Service {name}, which is not in namespace {ns} in the input",
                    ing.name
                ),
            ));
        } else if let Some(p) = port.filter(|p| !named.iter().any(|s| service_has_port(s, p))) {
            v.push(Violation::new(
                port_at,
                format!(
                    "Ingress {} routes to port {} of Service {name}, which exposes no such port",
                    ing.name,
                    p.as_str().unwrap_or("?")
                ),
            ));
        }
    }
    Outcome::from(v)
}

/// An HPA whose `scaleTargetRef` names no object of the input scales
/// nothing. Not-evaluated when the target kind is absent from the input.
pub fn hpa_target_missing(cx: &Ctx, hpa: &Object) -> Outcome {
    let t = hpa.root.at(&["spec", "scaleTargetRef"]);
    let (Some(kind), Some(name)) = (
        t.and_then(|t| t.get("kind")).and_then(Node::as_str),
        t.and_then(|t| t.get("name")).and_then(Node::as_str),
    ) else {
        return Outcome::Skip;
    };
    if let Err(reason) = cx.inv.related(kind) {
        return Outcome::NotEvaluated(reason);
    }
    let ns = hpa.effective_namespace().unwrap_or("");
    if cx.inv.get(kind, ns, name).is_some() {
        return Outcome::Pass;
    }
    Outcome::fail(
        FieldPath::of(&["spec", "scaleTargetRef", "name"]),
        format!(
            "HorizontalPodAutoscaler {} targets {kind} {name}, which is not in namespace {ns} in the input",
            hpa.name
        ),
    )
}

/// An HPA with `minReplicas` below the threshold (default 2; unset means
/// 1) scales its workload down to a single pod at low load. `minReplicas:
/// 0` (scale to zero, an explicit choice) is not judged.
pub fn hpa_min_replicas_low(cx: &Ctx, hpa: &Object) -> Outcome {
    let node = hpa.root.at(&["spec", "minReplicas"]);
    let min = node.and_then(Node::as_i64).unwrap_or(1);
    if min == 0 {
        return Outcome::Skip;
    }
    if min >= cx.settings.thresholds.min_replicas {
        return Outcome::Pass;
    }
    let target = hpa
        .root
        .at(&["spec", "scaleTargetRef"])
        .map(|t| {
            format!(
                " {} {}",
                t.get("kind").and_then(Node::as_str).unwrap_or("?"),
                t.get("name").and_then(Node::as_str).unwrap_or("?")
            )
        })
        .unwrap_or_default();
    let (path, what) = match node {
        Some(_) => (
            FieldPath::of(&["spec", "minReplicas"]),
            format!("has minReplicas {min}"),
        ),
        None => (
            FieldPath::of(&["spec"]),
            "sets no minReplicas (defaults to 1)".to_string(),
        ),
    };
    Outcome::fail(
        path,
        format!(
            "HorizontalPodAutoscaler {} {what}: at low load it scales{target} down to a single pod",
            hpa.name
        ),
    )
}

/// A workload managed by an HPA (or KEDA ScaledObject) should not set
/// `spec.replicas`: every `kubectl apply` resets the count the autoscaler
/// chose. Judged from the autoscaler, so inputs without one raise nothing;
/// the finding points at the workload's `spec.replicas`. A target absent
/// from the input is `hpa-target-missing`'s business.
pub fn hpa_replicas_conflict(cx: &Ctx, a: &Object) -> Outcome {
    let t = a.root.at(&["spec", "scaleTargetRef"]);
    let default_kind = if a.kind == "ScaledObject" {
        Some("Deployment")
    } else {
        None
    };
    let (Some(kind), Some(name)) = (
        t.and_then(|t| t.get("kind"))
            .and_then(Node::as_str)
            .or(default_kind),
        t.and_then(|t| t.get("name")).and_then(Node::as_str),
    ) else {
        return Outcome::Skip;
    };
    if !SCALABLE.contains(&kind) {
        return Outcome::Skip;
    }
    let ns = a.effective_namespace().unwrap_or("");
    let Some((i, target)) = cx.inv.get(kind, ns, name) else {
        return Outcome::Skip;
    };
    let Some(n) = target.root.at(&["spec", "replicas"]) else {
        return Outcome::Pass;
    };
    Outcome::Fail(vec![Violation::on(
        i,
        FieldPath::of(&["spec", "replicas"]),
        format!(
            "{kind} {name} sets replicas: {} but {} {} manages its replica count: every apply resets it",
            n.as_str().unwrap_or("?"),
            a.kind,
            a.name
        ),
    )])
}
