//! Rules of the performance pillar: container resources, namespace
//! guard-rails (LimitRange, ResourceQuota), autoscaling and node pressure.
//!
//! Resource rules judge the containers that run for the pod's lifetime
//! (regular containers and sidecar init containers). Plain init containers
//! run one at a time before the app starts: the scheduler reserves the
//! largest of them, so a missing value there is rarely what starves a node.
//! Jobs and CronJobs are judged like services: while they run they compete
//! for the same node memory.
//!
//! What the API server fills in at admission counts as set: a request
//! missing next to a limit is copied from the limit, and a LimitRange of the
//! namespace fills missing requests and limits with its defaults (`default`,
//! `defaultRequest`, and `max`/`min`, as the API server defaults them).
use super::reliability::{has_autoscaler, replicas};
use super::{Check, Container, ContainerKind, Ctx, Outcome, RuleImpl, Violation, Workload};
use crate::components::image_name;
use crate::object::Object;
use crate::path::FieldPath;
use crate::quantity::parse_quantity;
use crate::yaml::Node;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub const RULES: &[RuleImpl] = &[
    RuleImpl {
        id: "cpu-request-missing",
        check: Check::Pod(cpu_request_missing),
    },
    RuleImpl {
        id: "memory-request-missing",
        check: Check::Pod(memory_request_missing),
    },
    RuleImpl {
        id: "memory-limit-missing",
        check: Check::Pod(memory_limit_missing),
    },
    RuleImpl {
        id: "cpu-limit-missing",
        check: Check::Pod(cpu_limit_missing),
    },
    RuleImpl {
        id: "ephemeral-storage-unbounded",
        check: Check::Pod(ephemeral_storage_unbounded),
    },
    RuleImpl {
        id: "requests-exceed-limits",
        check: Check::Pod(requests_exceed_limits),
    },
    RuleImpl {
        id: "limit-request-ratio-high",
        check: Check::Pod(limit_request_ratio_high),
    },
    RuleImpl {
        id: "stateful-not-guaranteed",
        check: Check::Pod(stateful_not_guaranteed),
    },
    RuleImpl {
        id: "namespace-limitrange-missing",
        check: Check::Namespace(namespace_limitrange_missing),
    },
    RuleImpl {
        id: "namespace-quota-missing",
        check: Check::Namespace(namespace_quota_missing),
    },
    RuleImpl {
        id: "hpa-missing",
        check: Check::Object(&["Deployment"], hpa_missing),
    },
    RuleImpl {
        id: "hpa-without-requests",
        check: Check::Object(&["HorizontalPodAutoscaler"], hpa_without_requests),
    },
    RuleImpl {
        id: "cluster-autoscaler-missing",
        check: Check::Cluster(cluster_autoscaler_missing),
    },
    RuleImpl {
        id: "node-overcommitted",
        check: Check::Cluster(node_overcommitted),
    },
];

// ---------------------------------------------------------------------------
// Effective resources: what a container has after admission.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Requests,
    Limits,
}

impl Kind {
    fn field(self) -> &'static str {
        match self {
            Kind::Requests => "requests",
            Kind::Limits => "limits",
        }
    }
    fn noun(self) -> &'static str {
        match self {
            Kind::Requests => "request",
            Kind::Limits => "limit",
        }
    }
}

/// Defaults the LimitRanges of a namespace give containers at admission,
/// per resource name, as the API server defaults a `Container` item: the
/// default limit is `default`, else `max`; the default request is
/// `defaultRequest`, else the default limit, else `min`.
#[derive(Default)]
struct LimitRangeDefaults {
    requests: BTreeMap<String, String>,
    limits: BTreeMap<String, String>,
}

/// LimitRange defaults by namespace (only namespaces that have LimitRanges).
struct NamespaceDefaults(HashMap<String, Arc<LimitRangeDefaults>>);

impl LimitRangeDefaults {
    fn of(inv: &crate::inventory::Inventory, ns: &str) -> Self {
        let mut d = LimitRangeDefaults::default();
        for (_, lr) in inv.in_namespace(ns, "LimitRange") {
            for item in lr
                .root
                .at(&["spec", "limits"])
                .map(Node::items)
                .unwrap_or(&[])
            {
                if item.get("type").and_then(Node::as_str) != Some("Container") {
                    continue;
                }
                let list = |k: &str| -> Vec<(String, String)> {
                    item.get(k)
                        .into_iter()
                        .flat_map(Node::entries)
                        .filter_map(|(n, v)| Some((n.to_string(), v.as_str()?.to_string())))
                        .collect()
                };
                let mut limits: BTreeMap<String, String> = list("max").into_iter().collect();
                limits.extend(list("default"));
                let mut requests: BTreeMap<String, String> = list("min").into_iter().collect();
                requests.extend(limits.clone());
                requests.extend(list("defaultRequest"));
                for (k, v) in limits {
                    d.limits.entry(k).or_insert(v);
                }
                for (k, v) in requests {
                    d.requests.entry(k).or_insert(v);
                }
            }
        }
        d
    }

    /// The defaults of the workload's namespace, from an index of every
    /// namespace holding LimitRanges built once per scan.
    fn for_workload(cx: &Ctx, w: &Workload) -> Arc<Self> {
        let all = cx.inv.derived(|inv| {
            let mut by_ns = HashMap::new();
            for (_, lr) in inv.of_kind("LimitRange") {
                if let Some(ns) = lr.effective_namespace() {
                    by_ns
                        .entry(ns.to_string())
                        .or_insert_with(|| Arc::new(Self::of(inv, ns)));
                }
            }
            NamespaceDefaults(by_ns)
        });
        w.obj
            .effective_namespace()
            .and_then(|ns| all.0.get(ns).cloned())
            .unwrap_or_default()
    }

    fn get(&self, kind: Kind) -> &BTreeMap<String, String> {
        match kind {
            Kind::Requests => &self.requests,
            Kind::Limits => &self.limits,
        }
    }
}

/// The value a container writes for `resources.<kind>.<name>`.
fn explicit<'a>(c: &Container<'a>, kind: Kind, name: &str) -> Option<&'a str> {
    c.at(&["resources", kind.field(), name])
        .and_then(Node::as_str)
}

/// Whether the container ends up with a value for `<kind>.<name>`: written,
/// copied from the limit (requests), set at pod level, or defaulted by a
/// LimitRange of its namespace.
fn has_effective(
    w: &Workload,
    c: &Container,
    d: &LimitRangeDefaults,
    kind: Kind,
    name: &str,
) -> bool {
    explicit(c, kind, name).is_some()
        || (kind == Kind::Requests && explicit(c, Kind::Limits, name).is_some())
        || w.spec.at(&["resources", kind.field(), name]).is_some()
        || d.get(kind).contains_key(name)
}

/// One violation per long-running container that ends up without `<kind>.<name>`.
fn missing_resource(cx: &Ctx, w: &Workload, kind: Kind, name: &str, what: &str) -> Outcome {
    let d = LimitRangeDefaults::for_workload(cx, w);
    let v = w
        .long_running_containers()
        .filter(|c| !has_effective(w, c, &d, kind, name))
        .map(|c| {
            Violation::new(
                c.path().keys(&["resources", kind.field(), name]),
                format!("{} has no {what} {}", c.label(), kind.noun()),
            )
        })
        .collect();
    Outcome::from(v)
}

/// Without a CPU request the scheduler places the pod as if it needed no
/// CPU, and under contention it gets the smallest share.
fn cpu_request_missing(cx: &Ctx, w: &Workload) -> Outcome {
    missing_resource(cx, w, Kind::Requests, "cpu", "CPU")
}

/// Without a memory request the scheduler may pack the pod onto a full node,
/// and it is among the first evicted under memory pressure.
fn memory_request_missing(cx: &Ctx, w: &Workload) -> Outcome {
    missing_resource(cx, w, Kind::Requests, "memory", "memory")
}

/// Without a memory limit a leaking container can take the node's memory
/// and get other pods OOM-killed.
fn memory_limit_missing(cx: &Ctx, w: &Workload) -> Outcome {
    missing_resource(cx, w, Kind::Limits, "memory", "memory")
}

/// Without a CPU limit a container can burst to the whole node. Low: many
/// operators leave CPU unlimited on purpose (throttling hurts latency).
fn cpu_limit_missing(cx: &Ctx, w: &Workload) -> Outcome {
    missing_resource(cx, w, Kind::Limits, "cpu", "CPU")
}

/// Without an ephemeral-storage limit, logs and scratch files can fill the
/// node's disk and get every pod on it evicted.
fn ephemeral_storage_unbounded(cx: &Ctx, w: &Workload) -> Outcome {
    missing_resource(
        cx,
        w,
        Kind::Limits,
        "ephemeral-storage",
        "ephemeral-storage",
    )
}

/// Init and regular containers (what the API server validates and what QoS
/// is computed from).
fn init_and_regular<'a>(w: &'a Workload<'a>) -> impl Iterator<Item = Container<'a>> + 'a {
    w.containers_of(ContainerKind::Init)
        .chain(w.containers_of(ContainerKind::Regular))
}

/// A request above its limit is rejected by the API server: the manifest
/// does not apply. Checked on every container the API server validates.
fn requests_exceed_limits(_cx: &Ctx, w: &Workload) -> Outcome {
    let mut v = Vec::new();
    for c in init_and_regular(w) {
        let Some(requests) = c.at(&["resources", "requests"]) else {
            continue;
        };
        for (name, req) in requests.entries() {
            let (Some(req_txt), Some(lim_txt)) = (req.as_str(), explicit(&c, Kind::Limits, name))
            else {
                continue;
            };
            if let (Some(r), Some(l)) = (parse_quantity(req_txt), parse_quantity(lim_txt)) {
                if r > l {
                    v.push(Violation::new(
                        c.path().keys(&["resources", "requests", name]),
                        format!(
                            "{} requests {name} {req_txt}, above its limit {lim_txt}: the API server rejects it",
                            c.label()
                        ),
                    ));
                }
            }
        }
    }
    Outcome::from(v)
}

/// A limit far above the request overcommits the node: the scheduler counts
/// the request, the container may use the limit. Judged on written values
/// only (both the request and the limit set on the container).
fn limit_request_ratio_high(cx: &Ctx, w: &Workload) -> Outcome {
    let max = cx.settings.thresholds.max_limit_request_ratio;
    let mut v = Vec::new();
    for c in w.long_running_containers() {
        for name in ["cpu", "memory"] {
            let (Some(req_txt), Some(lim_txt)) = (
                explicit(&c, Kind::Requests, name),
                explicit(&c, Kind::Limits, name),
            ) else {
                continue;
            };
            let (Some(r), Some(l)) = (parse_quantity(req_txt), parse_quantity(lim_txt)) else {
                continue;
            };
            if l <= 0.0 || (r > 0.0 && l / r <= max) {
                continue;
            }
            let ratio = if r > 0.0 {
                format!("{:.1}×", l / r)
            } else {
                "unbounded".to_string()
            };
            v.push(Violation::new(
                c.path().keys(&["resources", "limits", name]),
                format!(
                    "{} has a {name} limit of {lim_txt} for a request of {req_txt} ({ratio}, above the maximum {max}×)",
                    c.label()
                ),
            ));
        }
    }
    Outcome::from(v)
}

/// Image repository names of databases and other stateful servers.
const DATABASE_IMAGES: &[&str] = &[
    "postgres",
    "postgresql",
    "postgresql-repmgr",
    "postgis",
    "mysql",
    "mysql-server",
    "percona-server",
    "mariadb",
    "mongo",
    "mongodb",
    "mongodb-community-server",
    "redis",
    "redis-cluster",
    "redis-stack-server",
    "valkey",
    "elasticsearch",
    "opensearch",
    "kafka",
    "cp-kafka",
    "cp-server",
    "zookeeper",
    "cp-zookeeper",
    "etcd",
    "cassandra",
    "scylla",
    "cockroach",
    "couchdb",
    "clickhouse-server",
    "influxdb",
    "neo4j",
    "rabbitmq",
];

/// Words in an image name that mark a tool around a database, not the
/// database itself (`postgres-exporter`, `mongo-express`, `kafka-ui`).
const DATABASE_TOOL_WORDS: &[&str] = &[
    "exporter",
    "operator",
    "proxy",
    "backup",
    "ui",
    "express",
    "admin",
    "client",
    "cli",
    "tools",
    "agent",
    "controller",
    "sidecar",
    "init",
    "metrics",
    "dashboard",
    "commander",
    "insight",
    "manager",
    "connect",
    "rest",
    "bridge",
    "webhook",
];

/// Whether an image repository name is a database: a known name, or a
/// known name followed by a variant (`etcd-20-centos7`, `redis-sentinel`)
/// that is not a tool around it.
pub fn is_database_image(name: &str) -> bool {
    DATABASE_IMAGES.iter().any(|db| {
        name == *db
            || name
                .strip_prefix(db)
                .and_then(|r| r.strip_prefix('-'))
                .is_some_and(|rest| {
                    !rest
                        .split(['-', '_', '.'])
                        .any(|w| DATABASE_TOOL_WORDS.contains(&w))
                })
    })
}

/// The database image a container runs, if any.
fn database_image<'a>(w: &Workload<'a>) -> Option<(Container<'a>, &'a str)> {
    w.containers_of(ContainerKind::Regular).find_map(|c| {
        let img = c.get("image").and_then(Node::as_str)?;
        is_database_image(image_name(img)).then_some((c, img))
    })
}

/// Why one container keeps the pod out of the Guaranteed QoS class, if it does.
fn not_guaranteed(c: &Container, d: &LimitRangeDefaults) -> Option<(FieldPath, String)> {
    for name in ["cpu", "memory"] {
        let limit = explicit(c, Kind::Limits, name).or(d.limits.get(name).map(String::as_str));
        let Some(limit) = limit else {
            return Some((
                c.path().keys(&["resources", "limits", name]),
                format!("{} has no {name} limit", c.label()),
            ));
        };
        // A request left out is copied from a written limit; with a
        // defaulted limit, the LimitRange's default request applies.
        let request = explicit(c, Kind::Requests, name).or_else(|| {
            if explicit(c, Kind::Limits, name).is_some() {
                Some(limit)
            } else {
                d.requests.get(name).map(String::as_str)
            }
        });
        let equal = match request {
            Some(r) => match (parse_quantity(r), parse_quantity(limit)) {
                (Some(a), Some(b)) => (a - b).abs() <= b.abs() * 1e-9,
                _ => r == limit,
            },
            None => true,
        };
        if !equal {
            return Some((
                c.path().keys(&["resources", "requests", name]),
                format!(
                    "{} requests {name} {}, not equal to its limit {limit}",
                    c.label(),
                    request.unwrap_or_default()
                ),
            ));
        }
    }
    None
}

/// Pod-level resources (`spec.resources`) with cpu and memory limits equal
/// to the requests make the pod Guaranteed whatever its containers say.
fn pod_level_guaranteed(w: &Workload) -> bool {
    ["cpu", "memory"].iter().all(|name| {
        let lim = w
            .spec
            .at(&["resources", "limits", name])
            .and_then(Node::as_str);
        let req = w
            .spec
            .at(&["resources", "requests", name])
            .and_then(Node::as_str);
        match (lim, req) {
            (Some(l), Some(r)) => parse_quantity(l) == parse_quantity(r),
            (Some(_), None) => true,
            _ => false,
        }
    })
}

/// Databases and StatefulSets holding data should be in the Guaranteed QoS
/// class (every container: cpu and memory requests equal to limits), so that
/// under node pressure they are evicted last and never lose memory they were
/// promised. A StatefulSet without volume claim templates (kube-state-metrics
/// sharding, a mesh demo) uses the kind for stable names, not for data, and
/// is not judged unless it runs a database image. Batch workloads (a backup
/// CronJob running `etcd`) are not judged.
fn stateful_not_guaranteed(cx: &Ctx, w: &Workload) -> Outcome {
    if w.is_batch() {
        return Outcome::Skip;
    }
    let db = database_image(w);
    let keeps_data = w.obj.kind == "StatefulSet"
        && w.obj
            .root
            .at(&["spec", "volumeClaimTemplates"])
            .is_some_and(|v| !v.items().is_empty());
    if !keeps_data && db.is_none() {
        return Outcome::Skip;
    }
    if pod_level_guaranteed(w) {
        return Outcome::Pass;
    }
    let d = LimitRangeDefaults::for_workload(cx, w);
    let why = match &db {
        Some((_, img)) => format!("runs the database image {img}"),
        None => "keeps data in volume claims".to_string(),
    };
    let v: Vec<Violation> = init_and_regular(w)
        .filter_map(|c| not_guaranteed(&c, &d))
        .map(|(path, msg)| {
            Violation::new(
                path,
                format!(
                    "{} {} {why} but is not Guaranteed QoS: {msg}",
                    w.obj.kind, w.obj.name
                ),
            )
        })
        .collect();
    Outcome::from(v)
}

// ---------------------------------------------------------------------------
// Namespace guard-rails.

/// A namespace with workloads needs a LimitRange giving containers default
/// requests and limits (a `Container` or `Pod` item); one that only bounds
/// PersistentVolumeClaims does not count.
fn namespace_limitrange_missing(cx: &Ctx, ns: &str) -> Outcome {
    if let Err(reason) = cx.inv.related("LimitRange") {
        return Outcome::NotEvaluated(reason);
    }
    let mut others = Vec::new();
    for (_, lr) in cx.inv.in_namespace(ns, "LimitRange") {
        let bounds_pods = lr
            .root
            .at(&["spec", "limits"])
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .any(|i| {
                matches!(
                    i.get("type").and_then(Node::as_str),
                    Some("Container" | "Pod")
                )
            });
        if bounds_pods {
            return Outcome::Pass;
        }
        others.push(lr.name.as_str());
    }
    let msg = if others.is_empty() {
        format!("namespace {ns} has workloads but no LimitRange: containers without requests or limits get none")
    } else {
        format!(
            "namespace {ns} has workloads but its LimitRange {} bounds no containers",
            others.join(", ")
        )
    };
    Outcome::Fail(vec![super::namespace_violation(cx, ns, msg)])
}

/// Quota keys that cap what a namespace's pods consume.
fn caps_compute(key: &str) -> bool {
    let k = key
        .strip_prefix("requests.")
        .or_else(|| key.strip_prefix("limits."))
        .unwrap_or(key);
    matches!(k, "cpu" | "memory" | "ephemeral-storage" | "pods")
}

/// A quota scoped to the system-*-critical priority classes only lets
/// critical pods run outside kube-system (what Gatekeeper and Flux ship):
/// it caps nothing else.
fn only_critical_priority(q: &Node) -> bool {
    let exprs = q
        .at(&["spec", "scopeSelector", "matchExpressions"])
        .map(Node::items)
        .unwrap_or(&[]);
    !exprs.is_empty()
        && exprs.iter().all(|e| {
            e.get("scopeName").and_then(Node::as_str) == Some("PriorityClass")
                && e.get("operator").and_then(Node::as_str) == Some("In")
                && e.get("values").map(Node::items).is_some_and(|vs| {
                    !vs.is_empty()
                        && vs.iter().all(|v| {
                            matches!(
                                v.as_str(),
                                Some("system-node-critical" | "system-cluster-critical")
                            )
                        })
                })
        })
}

/// A namespace with workloads needs a ResourceQuota capping its compute
/// (cpu, memory, ephemeral-storage or pod count), so that one team cannot
/// take the cluster.
fn namespace_quota_missing(cx: &Ctx, ns: &str) -> Outcome {
    if let Err(reason) = cx.inv.related("ResourceQuota") {
        return Outcome::NotEvaluated(reason);
    }
    let mut others = Vec::new();
    for (_, q) in cx.inv.in_namespace(ns, "ResourceQuota") {
        let caps = q
            .root
            .at(&["spec", "hard"])
            .into_iter()
            .flat_map(Node::entries)
            .any(|(k, _)| caps_compute(k));
        if caps && !only_critical_priority(&q.root) {
            return Outcome::Pass;
        }
        others.push(q.name.as_str());
    }
    let msg = if others.is_empty() {
        format!("namespace {ns} has workloads but no ResourceQuota capping its cpu, memory or pods")
    } else {
        format!(
            "namespace {ns} has workloads but its ResourceQuota {} caps no cpu, memory or pods of ordinary pods",
            others.join(", ")
        )
    };
    Outcome::Fail(vec![super::namespace_violation(cx, ns, msg)])
}

// ---------------------------------------------------------------------------
// Autoscaling.

/// A Deployment run with a fixed replica count (≥ 2) and no HPA or KEDA
/// ScaledObject cannot follow its load. Single-replica Deployments are left
/// to `single-replica`; Deployments scaled to zero are parked; databases
/// and quorum members are not autoscaled.
fn hpa_missing(cx: &Ctx, o: &Object) -> Outcome {
    let n = replicas(&o.root);
    if n < 2 {
        return Outcome::Skip;
    }
    // Quorum and database members (etcd, zookeeper, redis replicas) are
    // sized by hand: an HPA adding or removing members would hurt them.
    if Workload::of(o, 0).is_some_and(|w| database_image(&w).is_some()) {
        return Outcome::Skip;
    }
    if let Err(reason) = cx
        .inv
        .related_any(&["HorizontalPodAutoscaler", "ScaledObject"])
    {
        return Outcome::NotEvaluated(reason);
    }
    if has_autoscaler(cx, o) {
        return Outcome::Pass;
    }
    Outcome::fail(
        FieldPath::of(&["spec", "replicas"]),
        format!(
            "Deployment {} runs a fixed {n} replicas and no HorizontalPodAutoscaler scales it",
            o.name
        ),
    )
}

/// Resources an HPA scales on by utilization (percent of the request):
/// `(resource, container name when a ContainerResource metric, path)`.
fn utilization_metrics(hpa: &Node) -> Vec<(String, Option<String>, FieldPath)> {
    let mut out = Vec::new();
    if hpa
        .at(&["spec", "targetCPUUtilizationPercentage"])
        .is_some()
    {
        out.push((
            "cpu".to_string(),
            None,
            FieldPath::of(&["spec", "targetCPUUtilizationPercentage"]),
        ));
    }
    let metrics = hpa.at(&["spec", "metrics"]).map(Node::items).unwrap_or(&[]);
    for (i, m) in metrics.iter().enumerate() {
        let (key, container) = match m.get("type").and_then(Node::as_str) {
            Some("Resource") => ("resource", None),
            Some("ContainerResource") => (
                "containerResource",
                m.at(&["containerResource", "container"])
                    .and_then(Node::as_str)
                    .map(str::to_string),
            ),
            _ => continue,
        };
        let Some(r) = m.get(key) else { continue };
        // autoscaling/v2: target.type Utilization; v2beta1: targetAverageUtilization.
        let by_utilization = r.at(&["target", "type"]).and_then(Node::as_str)
            == Some("Utilization")
            || r.get("targetAverageUtilization").is_some();
        if let (true, Some(name)) = (by_utilization, r.get("name").and_then(Node::as_str)) {
            out.push((
                name.to_string(),
                container,
                FieldPath::of(&["spec", "metrics"]).idx(i).key(key),
            ));
        }
    }
    out
}

/// An HPA scaling on cpu or memory utilization computes usage as a percent
/// of the containers' requests: a container without that request makes the
/// HPA fail to compute a metric, and the workload never scales. Judged only
/// when the target is in the input (a missing target is `hpa-target-missing`).
fn hpa_without_requests(cx: &Ctx, hpa: &Object) -> Outcome {
    let metrics = utilization_metrics(&hpa.root);
    if metrics.is_empty() {
        return Outcome::Skip;
    }
    let ns = hpa.effective_namespace().unwrap_or("default");
    let target = hpa.root.at(&["spec", "scaleTargetRef"]);
    let kind = target.and_then(|t| t.get("kind")).and_then(Node::as_str);
    let name = target.and_then(|t| t.get("name")).and_then(Node::as_str);
    let (Some(kind), Some(name)) = (kind, name) else {
        return Outcome::Skip;
    };
    let Some((ti, tobj)) = cx.inv.get(kind, ns, name) else {
        return Outcome::NotEvaluated(format!(
            "the HPA's target {kind} {name} is not in the input"
        ));
    };
    let Some(w) = Workload::of(tobj, ti) else {
        return Outcome::Skip;
    };
    let d = LimitRangeDefaults::for_workload(cx, &w);
    let mut v = Vec::new();
    for (resource, only, _) in &metrics {
        for c in w.long_running_containers() {
            if only.as_deref().is_some_and(|o| o != c.name) {
                continue;
            }
            if !has_effective(&w, &c, &d, Kind::Requests, resource) {
                v.push(Violation::on(
                    ti,
                    c.path().keys(&["resources", "requests", resource]),
                    format!(
                        "HorizontalPodAutoscaler {} scales {kind} {name} on {resource} utilization, but {} has no {resource} request: the HPA cannot compute it",
                        hpa.name,
                        c.label()
                    ),
                ));
            }
        }
    }
    Outcome::from(v)
}

/// A cluster without a node autoscaler (Cluster Autoscaler, Karpenter)
/// cannot add nodes when pods are pending, nor remove idle ones.
fn cluster_autoscaler_missing(cx: &Ctx) -> Outcome {
    if cx.inv.components().provides("node-autoscaling") {
        Outcome::Pass
    } else {
        Outcome::Fail(vec![Violation::general(
            "no node autoscaler is installed (Cluster Autoscaler or Karpenter): pending pods wait for someone to add nodes",
        )])
    }
}

/// Sum of the cpu and memory limits of the pods bound to each node (pods
/// that finished are left out), from live or snapshot input.
fn limits_by_node<'a>(cx: &Ctx<'a>) -> HashMap<&'a str, (f64, f64)> {
    let mut sums: HashMap<&str, (f64, f64)> = HashMap::new();
    for (i, pod) in cx.inv.of_kind("Pod") {
        let phase = pod.root.at(&["status", "phase"]).and_then(Node::as_str);
        if matches!(phase, Some("Succeeded" | "Failed")) {
            continue;
        }
        let Some(node) = pod.root.at(&["spec", "nodeName"]).and_then(Node::as_str) else {
            continue;
        };
        let Some(w) = Workload::of(pod, i) else {
            continue;
        };
        let entry = sums.entry(node).or_default();
        for c in w.long_running_containers() {
            let lim = |n| explicit(&c, Kind::Limits, n).and_then(parse_quantity);
            entry.0 += lim("cpu").unwrap_or(0.0);
            entry.1 += lim("memory").unwrap_or(0.0);
        }
    }
    sums
}

/// Pods may use up to their limits: when the limits of the pods on a node
/// add up to far more than it can allocate, a burst on a few of them gets
/// others throttled or OOM-killed. Needs pods with their node and the
/// nodes' allocatable, so only with live or snapshot input (`read_status`).
fn node_overcommitted(cx: &Ctx) -> Outcome {
    if !cx.settings.read_status {
        return Outcome::NotEvaluated(
            "needs live or snapshot input: node allocatable and pod placement are status".into(),
        );
    }
    if let Err(reason) = cx.inv.related("Node").and(cx.inv.related("Pod")) {
        return Outcome::NotEvaluated(reason);
    }
    let max = cx.settings.thresholds.max_node_overcommit;
    let sums = limits_by_node(cx);
    let mut v = Vec::new();
    for (i, node) in cx.inv.of_kind("Node") {
        let Some(&(cpu, mem)) = sums.get(node.name.as_str()) else {
            continue;
        };
        for (res, used, unit) in [("cpu", cpu, "cores"), ("memory", mem, "bytes")] {
            let alloc = node
                .root
                .at(&["status", "allocatable", res])
                .and_then(Node::as_str)
                .and_then(parse_quantity);
            let Some(alloc) = alloc.filter(|a| *a > 0.0) else {
                continue;
            };
            if used > max * alloc {
                let shown = |x: f64| {
                    if res == "memory" {
                        format!("{:.1}Gi", x / 1024f64.powi(3))
                    } else {
                        format!("{x:.2} {unit}")
                    }
                };
                v.push(Violation::on(
                    i,
                    FieldPath::of(&["status", "allocatable", res]),
                    format!(
                        "node {} has pods with {res} limits of {} for {} allocatable ({:.1}×, above the maximum {max}×)",
                        node.name,
                        shown(used),
                        shown(alloc),
                        used / alloc
                    ),
                ));
            }
        }
    }
    Outcome::from(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Inventory;
    use crate::settings::Settings;

    fn inventory(text: &str) -> Inventory {
        Inventory::from_yaml(text)
    }

    const APP: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  template:
    spec:
      containers:
      - {name: cart, image: 'cart:1.0'}
";

    #[test]
    fn namespace_guard_rails_are_judged_on_a_whole_cluster() {
        let mut inv = inventory(APP);
        let settings = Settings::default();
        let cx = Ctx {
            inv: &inv,
            settings: &settings,
        };
        assert!(matches!(
            namespace_limitrange_missing(&cx, "shop"),
            Outcome::NotEvaluated(_)
        ));
        assert!(matches!(
            namespace_quota_missing(&cx, "shop"),
            Outcome::NotEvaluated(_)
        ));
        // --cluster-profile declares the input complete (scan::evaluate sets this).
        inv.complete = true;
        let cx = Ctx {
            inv: &inv,
            settings: &settings,
        };
        assert!(matches!(
            namespace_limitrange_missing(&cx, "shop"),
            Outcome::Fail(_)
        ));
        assert!(matches!(
            namespace_quota_missing(&cx, "shop"),
            Outcome::Fail(_)
        ));
    }

    #[test]
    fn node_overcommit_needs_status() {
        let inv = inventory(APP);
        let settings = Settings::default();
        let cx = Ctx {
            inv: &inv,
            settings: &settings,
        };
        assert!(matches!(node_overcommitted(&cx), Outcome::NotEvaluated(_)));
    }

    #[test]
    fn database_images() {
        use super::is_database_image as db;
        for yes in [
            "postgres",
            "etcd-20-centos7",
            "redis-sentinel",
            "mysql-server",
            "cp-kafka",
        ] {
            assert!(db(yes), "{yes}");
        }
        for no in [
            "postgres-exporter",
            "redis_exporter",
            "mongo-express",
            "kafka-ui",
            "etcd-backup-operator",
            "redisinsight",
            "nginx",
        ] {
            assert!(!db(no), "{no}");
        }
    }
}
