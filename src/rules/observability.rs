//! Rules of the observability pillar: is there a metrics stack, resource
//! metrics, node-level log collection with somewhere to send logs,
//! alerting with infrastructure alert rules, dashboards, a highly available
//! Prometheus, monitors that select something, metrics that are scraped,
//! and API server audit logs. Tools are recognised through the capabilities
//! of `rules/data/components.yaml`.
use super::control_plane;
use super::{Check, Ctx, Outcome, RuleImpl, Violation, Workload};
use crate::components::{definitions, image_name, Component};
use crate::inventory::Inventory;
use crate::object::Object;
use crate::path::FieldPath;
use crate::selector::label_selector_matches;
use crate::yaml::{self, Limits, Node};

pub const RULES: &[RuleImpl] = &[
    RuleImpl {
        id: "metrics-stack-missing",
        check: Check::Cluster(metrics_stack_missing),
    },
    RuleImpl {
        id: "metrics-server-missing",
        check: Check::Cluster(metrics_server_missing),
    },
    RuleImpl {
        id: "log-collector-missing",
        check: Check::Cluster(log_collector_missing),
    },
    RuleImpl {
        id: "log-backend-missing",
        check: Check::Cluster(log_backend_missing),
    },
    RuleImpl {
        id: "alerting-missing",
        check: Check::Cluster(alerting_missing),
    },
    RuleImpl {
        id: "infra-alert-rules-missing",
        check: Check::Cluster(infra_alert_rules_missing),
    },
    RuleImpl {
        id: "dashboards-missing",
        check: Check::Cluster(dashboards_missing),
    },
    RuleImpl {
        id: "prometheus-not-ha",
        check: Check::Cluster(prometheus_not_ha),
    },
    RuleImpl {
        id: "servicemonitor-selects-nothing",
        check: Check::Object(&["ServiceMonitor", "PodMonitor"], monitor_selects_nothing),
    },
    RuleImpl {
        id: "workload-not-scraped",
        check: Check::Object(&["Service"], workload_not_scraped),
    },
    RuleImpl {
        id: "audit-logging-disabled",
        check: Check::Cluster(audit_logging_disabled),
    },
];

const PROMETHEUS_OPERATOR_GROUP: &str = "monitoring.coreos.com";

/// Pass when a component provides `capability`, else one general failure.
fn capability(cx: &Ctx, capability: &str, missing: &str) -> Outcome {
    if cx.inv.components().provides(capability) {
        Outcome::Pass
    } else {
        Outcome::Fail(vec![Violation::general(missing)])
    }
}

/// A metrics backend: Prometheus (operator, CR or plain), VictoriaMetrics,
/// Mimir, a managed Prometheus, or an agent shipping to a SaaS backend.
fn metrics_stack_missing(cx: &Ctx) -> Outcome {
    capability(
        cx,
        "metrics",
        "no metrics stack is installed (Prometheus, VictoriaMetrics, Mimir, a managed Prometheus or an equivalent agent): nothing records how workloads and nodes behave",
    )
}

const METRICS_API: &str = "v1beta1.metrics.k8s.io";

/// The resource metrics API (`metrics.k8s.io`) serves `kubectl top` and
/// the CPU/memory targets of HorizontalPodAutoscalers: metrics-server, or
/// any component registering the APIService (prometheus-adapter...).
fn metrics_server_missing(cx: &Ctx) -> Outcome {
    if cx.inv.get("APIService", "", METRICS_API).is_some()
        || cx.inv.components().provides("resource-metrics")
    {
        return Outcome::Pass;
    }
    let hpas = cx.inv.of_kind("HorizontalPodAutoscaler").count();
    let why = if hpas > 0 {
        format!("the {hpas} HorizontalPodAutoscaler(s) of the input cannot read CPU or memory usage, and `kubectl top` fails")
    } else {
        "HorizontalPodAutoscalers cannot scale on CPU or memory and `kubectl top` fails".to_string()
    };
    Outcome::Fail(vec![Violation::general(format!(
        "no metrics.k8s.io API is served (no metrics-server, no APIService {METRICS_API}): {why}"
    ))])
}

// --- components on workloads ----------------------------------------------

/// Components this workload runs (by image or by `app.kubernetes.io/name`
/// / `app` / `k8s-app` label).
fn workload_components(w: &Workload) -> Vec<&'static Component> {
    let images: Vec<&str> = w
        .all_containers()
        .filter_map(|c| c.get("image").and_then(Node::as_str))
        .map(image_name)
        .collect();
    let labels: Vec<&str> = ["app.kubernetes.io/name", "app", "k8s-app"]
        .iter()
        .flat_map(|k| {
            [
                w.obj.label(k),
                w.labels().and_then(|l| l.get(k)).and_then(Node::as_str),
            ]
        })
        .flatten()
        .collect();
    definitions()
        .iter()
        .filter(|c| {
            c.images.iter().any(|i| images.contains(&i.as_str()))
                || c.labels.iter().any(|l| labels.contains(&l.as_str()))
        })
        .collect()
}

/// Workloads running a known component (any capability), found once per
/// scan: several cluster rules ask, each for its capability.
struct ComponentWorkloads(Vec<(usize, Vec<&'static Component>)>);

/// Workloads running a component that provides `capability`.
fn workloads_providing<'a>(
    inv: &'a Inventory,
    capability: &str,
) -> Vec<(Workload<'a>, Vec<&'static Component>)> {
    let all = inv.derived(|inv| {
        ComponentWorkloads(
            inv.workloads()
                .filter_map(|w| {
                    let c = workload_components(&w);
                    (!c.is_empty()).then_some((w.index, c))
                })
                .collect(),
        )
    });
    all.0
        .iter()
        .filter_map(|(i, comps)| {
            let c: Vec<&'static Component> = comps
                .iter()
                .copied()
                .filter(|c| c.provides.iter().any(|p| p == capability))
                .collect();
            let w = Workload::of(&inv.objects[*i], *i)?;
            (!c.is_empty()).then_some((w, c))
        })
        .collect()
}

/// Custom objects (not CRDs) of the operators of components providing
/// `capability`: a `FluentBit` or `Logging` object makes the operator run
/// the collector. OpenTelemetryCollectors count only in daemonset mode.
fn operator_objects<'a>(inv: &'a Inventory, capability: &str) -> Vec<(usize, &'a Object)> {
    let groups: Vec<&str> = definitions()
        .iter()
        .filter(|c| c.provides.iter().any(|p| p == capability))
        .flat_map(|c| c.api_groups.iter().map(String::as_str))
        .collect();
    inv.objects
        .iter()
        .enumerate()
        .filter(|(_, o)| o.kind != "CustomResourceDefinition" && groups.contains(&o.api_group()))
        .filter(|(_, o)| {
            o.kind != "OpenTelemetryCollector"
                || o.root.at(&["spec", "mode"]).and_then(Node::as_str) == Some("daemonset")
        })
        .collect()
}

/// A node-level log collector: a DaemonSet running Fluent Bit, Fluentd,
/// Vector, Promtail, Alloy, an OpenTelemetry collector, Filebeat... or an
/// operator object that makes one. A collector running only as a
/// Deployment (an aggregator) does not read the nodes' container logs.
fn log_collector_missing(cx: &Ctx) -> Outcome {
    let collectors = workloads_providing(cx.inv, "log-collector");
    if collectors.iter().any(|(w, _)| w.obj.kind == "DaemonSet")
        || !operator_objects(cx.inv, "log-collector").is_empty()
    {
        return Outcome::Pass;
    }
    if let Some((w, comps)) = collectors.first() {
        let name = comps
            .first()
            .map(|c| c.name.as_str())
            .unwrap_or("a log collector");
        return Outcome::Fail(vec![Violation::on(
            w.index,
            FieldPath::of(&["kind"]),
            format!(
                "{name} runs as {} {}, not as a DaemonSet: container logs on the nodes are not collected",
                w.obj.kind, w.obj.name
            ),
        )]);
    }
    Outcome::Fail(vec![Violation::general(
        "no node-level log collector DaemonSet (Fluent Bit, Fluentd, Vector, Promtail, Alloy, OpenTelemetry collector...): container logs are lost when a pod or node goes away",
    )])
}

// --- log outputs ----------------------------------------------------------

/// Outputs that keep logs on the node or discard them.
const LOCAL_OUTPUTS: &[&str] = &[
    "stdout",
    "null",
    "counter",
    "console",
    "blackhole",
    "file",
    "debug",
    "logging",
    "nop",
    "flowcounter",
    "exit",
    "copy",
    "relabel",
    "rewrite_tag_filter",
];

/// Indentation of a line.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Lines nested under a YAML key line `header:` (at any indentation).
fn yaml_block<'t>(text: &'t str, header: &str) -> Vec<Vec<&'t str>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.trim() != format!("{header}:") {
            continue;
        }
        let base = indent(l);
        let body: Vec<&str> = lines[i + 1..]
            .iter()
            .copied()
            .filter(|x| !x.trim().is_empty())
            .take_while(|x| {
                indent(x) > base || x.trim_start().starts_with("- ") && indent(x) == base
            })
            .collect();
        blocks.push(body);
    }
    blocks
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches(|c| c == '"' || c == '\'')
}

/// Output plugins configured in a log collector's configuration text:
/// Fluent Bit (`[OUTPUT]` Name, YAML `outputs`), Fluentd (`<match>`
/// `@type`), Vector (`sinks`), Promtail (`clients`), Alloy (`loki.write`,
/// `otelcol.exporter.*`) and OpenTelemetry (`exporters`).
fn log_outputs(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut section = String::new();
    let mut in_match = 0usize;
    for raw in text.lines() {
        let line = raw.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') && !line.contains("[[") {
            section = line[1..line.len() - 1].trim().to_ascii_lowercase();
            continue;
        }
        let mut words = line.split_whitespace();
        let key = words.next().unwrap_or("");
        let value = words.next().map(unquote).unwrap_or("");
        // Fluent Bit classic.
        if section == "output" && key.eq_ignore_ascii_case("name") {
            out.push(value.to_ascii_lowercase());
        }
        // Vector TOML: [sinks.x] type = "loki".
        if section.starts_with("sinks.") && key == "type" {
            out.push(unquote(line.split_once('=').map(|(_, v)| v).unwrap_or("")).to_string());
        }
        // Fluentd.
        if line.starts_with("<match") || line.starts_with("<store") {
            in_match += 1;
        } else if line.starts_with("</match") || line.starts_with("</store") {
            in_match = in_match.saturating_sub(1);
        } else if in_match > 0 && (key == "@type" || key == "type") {
            out.push(value.to_string());
        }
        // Alloy / Grafana Agent flow.
        if line.starts_with("loki.write ") {
            out.push("loki".into());
        }
        if let Some(rest) = line.strip_prefix("otelcol.exporter.") {
            out.push(rest.split_whitespace().next().unwrap_or("otlp").to_string());
        }
    }
    for block in yaml_block(text, "outputs") {
        for l in block {
            if let Some(v) = l.trim().strip_prefix("- name:") {
                out.push(unquote(v).to_string());
            }
        }
    }
    for block in yaml_block(text, "sinks") {
        for l in block {
            if let Some(v) = l.trim().strip_prefix("type:") {
                out.push(unquote(v).to_string());
            }
        }
    }
    let logs_pipeline = yaml_block(text, "pipelines").iter().flatten().any(|l| {
        let t = l.trim();
        t.starts_with("logs:") || t.starts_with("logs/")
    });
    for block in yaml_block(text, "exporters")
        .into_iter()
        .filter(|_| logs_pipeline)
    {
        let Some(first) = block.first() else { continue };
        let level = indent(first);
        for l in block.iter().filter(|l| indent(l) == level) {
            if let Some((k, _)) = l.trim().split_once(':') {
                out.push(k.split('/').next().unwrap_or(k).trim().to_string());
            }
        }
    }
    for block in yaml_block(text, "clients") {
        if block.iter().any(|l| l.contains("url:")) {
            out.push("loki".into());
        }
    }
    out.retain(|o| !o.is_empty());
    out.sort();
    out.dedup();
    out
}

/// The texts of the ConfigMaps (and stringData of Secrets) a workload mounts.
fn mounted_config_texts<'a>(inv: &'a Inventory, w: &Workload) -> Vec<&'a str> {
    let ns = w.obj.effective_namespace().unwrap_or("default");
    let mut names: Vec<(&str, &str)> = Vec::new();
    for v in w.get("volumes").map(Node::items).unwrap_or(&[]) {
        if let Some(n) = v.at(&["configMap", "name"]).and_then(Node::as_str) {
            names.push(("ConfigMap", n));
        }
        if let Some(n) = v.at(&["secret", "secretName"]).and_then(Node::as_str) {
            names.push(("Secret", n));
        }
        for s in v
            .at(&["projected", "sources"])
            .map(Node::items)
            .unwrap_or(&[])
        {
            if let Some(n) = s.at(&["configMap", "name"]).and_then(Node::as_str) {
                names.push(("ConfigMap", n));
            }
        }
    }
    let mut texts = Vec::new();
    for (kind, name) in names {
        if let Some((_, o)) = inv.get(kind, ns, name) {
            let key = if kind == "ConfigMap" {
                "data"
            } else {
                "stringData"
            };
            texts.extend(
                o.root
                    .get(key)
                    .into_iter()
                    .flat_map(Node::entries)
                    .filter_map(|(_, v)| v.as_str()),
            );
        }
    }
    texts
}

/// Plugin names of operator Output objects (`spec.loki`, `spec.es`...).
fn operator_outputs(inv: &Inventory) -> Vec<String> {
    const NOT_PLUGINS: &[&str] = &[
        "match",
        "matchRegex",
        "alias",
        "retry_limit",
        "logLevel",
        "loggingRef",
        "buffer",
        "format",
        "processors",
        "customPlugin",
    ];
    let mut out = Vec::new();
    for kind in ["Output", "ClusterOutput"] {
        for (_, o) in inv.of_kind(kind) {
            if !matches!(
                o.api_group(),
                "fluentbit.fluent.io"
                    | "fluentd.fluent.io"
                    | "logging.banzaicloud.io"
                    | "logging.kube-logging.io"
            ) {
                continue;
            }
            for (k, v) in o.root.get("spec").into_iter().flat_map(Node::entries) {
                if NOT_PLUGINS.contains(&k) {
                    continue;
                }
                // fluentd.fluent.io lists outputs under spec.outputs[].
                if k == "outputs" {
                    for item in v.items() {
                        out.extend(
                            item.entries()
                                .map(|(p, _)| p.to_string())
                                .filter(|p| !NOT_PLUGINS.contains(&p.as_str())),
                        );
                    }
                } else {
                    out.push(k.to_string());
                }
            }
        }
    }
    out
}

/// Logs need a store: Loki, Elasticsearch/OpenSearch, a SaaS agent, or a
/// collector whose configuration ships them somewhere (a remote output
/// such as es, loki, cloudwatch, forward, otlp). Not evaluated when a
/// collector runs but its configuration is not in the input.
fn log_backend_missing(cx: &Ctx) -> Outcome {
    let inv = cx.inv;
    if inv.components().provides("log-store") {
        return Outcome::Pass;
    }
    let mut outputs = operator_outputs(inv);
    let mut config_seen = !outputs.is_empty();
    let collectors = workloads_providing(inv, "log-collector");
    for (w, _) in &collectors {
        for text in mounted_config_texts(inv, w) {
            config_seen = true;
            outputs.extend(log_outputs(text));
        }
    }
    for (_, o) in inv.of_kind("OpenTelemetryCollector") {
        if let Some(cfg) = o.root.at(&["spec", "config"]) {
            config_seen = true;
            match cfg.as_str() {
                Some(text) => outputs.extend(log_outputs(text)),
                None => outputs.extend(
                    cfg.get("exporters")
                        .into_iter()
                        .flat_map(Node::entries)
                        .map(|(k, _)| k.split('/').next().unwrap_or(k).to_string()),
                ),
            }
        }
    }
    let remote: Vec<&String> = outputs
        .iter()
        .filter(|o| !LOCAL_OUTPUTS.contains(&o.as_str()))
        .collect();
    if !remote.is_empty() {
        return Outcome::Pass;
    }
    if collectors.is_empty() && operator_objects(inv, "log-collector").is_empty() {
        return Outcome::Fail(vec![Violation::general(
            "no log store (Loki, Elasticsearch/OpenSearch, VictoriaLogs...) and no log collector shipping logs elsewhere: logs live only on the nodes",
        )]);
    }
    if !config_seen {
        return Outcome::NotEvaluated(
            "a log collector runs but its configuration is not in the input: where it sends logs is unknown".into(),
        );
    }
    let (w, _) = &collectors[0];
    let shown = if outputs.is_empty() {
        "no log output".to_string()
    } else {
        format!("only local outputs ({})", outputs.join(", "))
    };
    Outcome::Fail(vec![Violation::on(
        w.index,
        FieldPath::of(&["metadata", "name"]),
        format!(
            "no log store is installed and the log collector {} configures {shown}: logs are not kept anywhere",
            w.obj.display()
        ),
    )])
}

// --- alerting -------------------------------------------------------------

/// Alert rules of the input: PrometheusRule/VMRule groups, and rule files
/// kept in ConfigMaps (the plain Prometheus chart's `alerting_rules.yml`).
/// Each is (alert name, expression, object index).
fn alert_rules(inv: &Inventory) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    let mut from_groups = |groups: &Node, i: usize| {
        for g in groups.items() {
            for r in g.get("rules").map(Node::items).unwrap_or(&[]) {
                if let Some(a) = r.get("alert").and_then(Node::as_str) {
                    let expr = r.get("expr").and_then(Node::as_str).unwrap_or("");
                    out.push((a.to_string(), expr.to_string(), i));
                }
            }
        }
    };
    for kind in ["PrometheusRule", "VMRule"] {
        for (i, o) in inv.of_kind(kind) {
            if let Some(g) = o.root.at(&["spec", "groups"]) {
                from_groups(g, i);
            }
        }
    }
    for (i, o) in inv.of_kind("ConfigMap") {
        for (_, v) in o.root.get("data").into_iter().flat_map(Node::entries) {
            let Some(text) = v.as_str() else { continue };
            if !(text.contains("groups:") && text.contains("alert:")) {
                continue;
            }
            for doc in yaml::load(text, &Limits::default()).docs {
                if let Some(g) = doc.root.get("groups") {
                    from_groups(g, i);
                }
            }
        }
    }
    out
}

/// Alertmanager (or vmalert, or the Prometheus CR's `alerting` pointing at
/// one) delivers alerts. PrometheusRules alone do not page anyone unless a
/// Prometheus sends them somewhere, so they count only when no Prometheus
/// CR is visible or one configures `spec.alerting`.
fn alerting_missing(cx: &Ctx) -> Outcome {
    let inv = cx.inv;
    if inv.components().provides("alerting") {
        return Outcome::Pass;
    }
    let has_rules = inv.has_kind("PrometheusRule");
    let proms: Vec<&Object> = inv
        .of_kind("Prometheus")
        .map(|(_, o)| o)
        .filter(|o| o.api_group() == PROMETHEUS_OPERATOR_GROUP)
        .collect();
    let sends = proms.iter().any(|p| {
        p.root
            .at(&["spec", "alerting", "alertmanagers"])
            .is_some_and(|a| !a.is_empty())
    });
    if sends || (has_rules && proms.is_empty()) {
        return Outcome::Pass;
    }
    let msg = if has_rules {
        "PrometheusRules exist but no Alertmanager is installed and no Prometheus sends alerts anywhere (spec.alerting): alerts fire into the void"
    } else {
        "no Alertmanager (or equivalent) and no PrometheusRule objects: nobody is told when something breaks"
    };
    Outcome::Fail(vec![Violation::general(msg)])
}

/// Identifiers of a PromQL expression (metric names, functions, labels).
fn promql_names(expr: &str) -> Vec<&str> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|t| t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
        .collect()
}

/// What an alert rule watches (nodes, control plane, workloads), from
/// kube-prometheus / node-exporter alert names and the metric names and
/// scrape jobs its expression reads.
fn alert_areas(name: &str, expr: &str) -> [bool; 3] {
    let metrics = promql_names(expr);
    let metric = |prefixes: &[&str]| {
        metrics
            .iter()
            .any(|m| prefixes.iter().any(|p| m.starts_with(p)))
    };
    let job = |jobs: &[&str]| jobs.iter().any(|j| expr.contains(&format!("job=\"{j}\"")));
    let named = |prefixes: &[&str]| prefixes.iter().any(|p| name.starts_with(p));
    let nodes = named(&["Node", "KubeNode", "KubeletDown", "KubeletTooManyPods"])
        || metric(&["node_", "kube_node_", "kubelet_running_", "kubelet_node_"])
        || job(&["node-exporter", "kubelet"]);
    let control_plane = named(&[
        "KubeAPI",
        "KubeControllerManager",
        "KubeScheduler",
        "KubeClientCertificate",
        "KubeAggregatedAPI",
        "Etcd",
        "etcd",
    ]) || metric(&["apiserver_", "etcd_", "scheduler_", "kube_apiserver"])
        || job(&[
            "apiserver",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "etcd",
        ]);
    let workloads = named(&[
        "KubePod",
        "KubeDeployment",
        "KubeStatefulSet",
        "KubeDaemonSet",
        "KubeJob",
        "KubeContainer",
        "KubeHpa",
        "KubeCronJob",
    ]) || metric(&[
        "kube_pod_",
        "kube_deployment_",
        "kube_statefulset_",
        "kube_daemonset_",
        "kube_job_",
        "kube_replicaset_",
        "kube_horizontalpodautoscaler_",
        "container_cpu_",
        "container_memory_",
    ]);
    [nodes, control_plane, workloads]
}

/// Alert rules must watch the platform itself: nodes, the control plane
/// and workload health (kube-prometheus's KubeNodeNotReady,
/// KubeAPIErrorBudgetBurn, KubePodCrashLooping...), not only applications.
/// Skipped when there is no metrics stack and no alert rule at all
/// (metrics-stack-missing and alerting-missing already say so).
fn infra_alert_rules_missing(cx: &Ctx) -> Outcome {
    let rules = alert_rules(cx.inv);
    if rules.is_empty() && !cx.inv.components().provides("metrics") {
        return Outcome::Skip;
    }
    let mut covered = [false; 3];
    for (name, expr, _) in &rules {
        for (c, a) in covered.iter_mut().zip(alert_areas(name, expr)) {
            *c |= a;
        }
    }
    let missing: Vec<&str> = ["nodes", "the control plane", "workloads"]
        .iter()
        .zip(covered)
        .filter(|(_, c)| !c)
        .map(|(n, _)| *n)
        .collect();
    if missing.is_empty() {
        return Outcome::Pass;
    }
    let msg = if rules.is_empty() {
        "a metrics stack runs but no alert rule is defined: no alert covers nodes, the control plane or workloads".to_string()
    } else {
        format!(
            "{} alert rule(s) are defined but none covers {} (kube-prometheus rules such as KubeNodeNotReady, KubeAPIErrorBudgetBurn, KubePodCrashLooping)",
            rules.len(),
            missing.join(", ")
        )
    };
    Outcome::Fail(vec![Violation::general(msg)])
}

fn dashboards_missing(cx: &Ctx) -> Outcome {
    capability(
        cx,
        "dashboards",
        "no dashboards (Grafana, Perses, Kibana or equivalent): metrics and logs cannot be explored during an incident",
    )
}

// --- Prometheus HA --------------------------------------------------------

/// Whether a plain Prometheus workload runs in agent mode (it only remote-writes).
fn agent_mode(w: &Workload) -> bool {
    w.all_containers().any(|c| {
        c.get("args")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter_map(Node::as_str)
            .any(|a| a == "--agent" || a.contains("--enable-feature=agent"))
    })
}

/// A Prometheus with one replica loses data and alerting while it restarts
/// or its node drains. HA means 2+ replicas, or a Thanos sidecar or
/// remote write shipping samples to durable storage. Judged on Prometheus
/// CRs (monitoring.coreos.com) and on plain Deployments/StatefulSets
/// running the prometheus image (not those the operator owns, nor agents);
/// skipped when no Prometheus is visible.
fn prometheus_not_ha(cx: &Ctx) -> Outcome {
    let inv = cx.inv;
    let mut seen = false;
    let mut v = Vec::new();
    for (i, p) in inv.of_kind("Prometheus") {
        if p.api_group() != PROMETHEUS_OPERATOR_GROUP {
            continue;
        }
        seen = true;
        let replicas = p
            .root
            .at(&["spec", "replicas"])
            .and_then(Node::as_i64)
            .unwrap_or(1);
        let thanos = p.root.at(&["spec", "thanos"]).is_some();
        let remote = p
            .root
            .at(&["spec", "remoteWrite"])
            .is_some_and(|r| !r.is_empty());
        if replicas < 2 && !thanos && !remote {
            let (path, what) = match p.root.at(&["spec", "replicas"]) {
                Some(_) => (
                    FieldPath::of(&["spec", "replicas"]),
                    format!("runs {replicas} replica"),
                ),
                None => (
                    FieldPath::of(&["spec"]),
                    "sets no replicas (defaults to 1)".to_string(),
                ),
            };
            v.push(Violation::on(i, path, format!("Prometheus {} {what}, with no Thanos sidecar and no remoteWrite: metrics and alerts stop while it restarts, and its data lives on one volume", p.display())));
        }
    }
    for w in inv.workloads() {
        if !matches!(w.obj.kind.as_str(), "Deployment" | "StatefulSet")
            || !w.all_containers().any(|c| {
                c.get("image").and_then(Node::as_str).map(image_name) == Some("prometheus")
            })
            || agent_mode(&w)
        {
            continue;
        }
        seen = true;
        let replicas = w
            .obj
            .root
            .at(&["spec", "replicas"])
            .and_then(Node::as_i64)
            .unwrap_or(1);
        let thanos = w
            .all_containers()
            .any(|c| c.get("image").and_then(Node::as_str).map(image_name) == Some("thanos"));
        let remote = mounted_config_texts(inv, &w)
            .iter()
            .any(|t| t.contains("remote_write:"));
        if replicas < 2 && !thanos && !remote && replicas > 0 {
            let path = if w.obj.root.at(&["spec", "replicas"]).is_some() {
                FieldPath::of(&["spec", "replicas"])
            } else {
                FieldPath::of(&["spec"])
            };
            v.push(Violation::on(w.index, path, format!("{} runs Prometheus with {replicas} replica, no Thanos sidecar and no remote_write: metrics and alerts stop while it restarts", w.obj.display())));
        }
    }
    if !seen {
        return Outcome::Skip;
    }
    Outcome::from(v)
}

// --- monitors -------------------------------------------------------------

/// Namespaces a ServiceMonitor/PodMonitor looks in: `None` for any.
fn monitor_namespaces(o: &Object) -> Option<Vec<&str>> {
    let sel = o.root.at(&["spec", "namespaceSelector"]);
    if sel.and_then(|s| s.get("any")).and_then(Node::as_bool) == Some(true) {
        return None;
    }
    let names: Vec<&str> = sel
        .and_then(|s| s.get("matchNames"))
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::as_str)
        .collect();
    if names.is_empty() {
        Some(vec![o.effective_namespace().unwrap_or("default")])
    } else {
        Some(names)
    }
}

fn monitor_covers_ns(m: &Object, ns: &str) -> bool {
    monitor_namespaces(m).is_none_or(|n| n.contains(&ns))
}

/// The selector of a monitor; absent means empty, which matches everything.
fn monitor_selector(o: &Object) -> Node {
    o.root
        .at(&["spec", "selector"])
        .cloned()
        .unwrap_or_else(|| Node::scalar("", true, Default::default()))
}

/// Port names a monitor's endpoints ask for (`endpoints[].port`,
/// `podMetricsEndpoints[].port`); empty when any endpoint uses a number.
fn monitor_ports(o: &Object, list: &str) -> Vec<String> {
    let eps = o.root.at(&["spec", list]).map(Node::items).unwrap_or(&[]);
    let names: Vec<String> = eps
        .iter()
        .filter_map(|e| e.get("port").and_then(Node::as_str))
        .map(String::from)
        .collect();
    if names.len() == eps.len() {
        names
    } else {
        Vec::new()
    }
}

/// A ServiceMonitor must select at least one Service (a PodMonitor one pod
/// template) in the namespaces it watches, exposing the port its endpoints
/// name; otherwise Prometheus silently scrapes nothing. Not evaluated when
/// those namespaces hold no Service/workload in the input (the monitored
/// app is deployed elsewhere).
fn monitor_selects_nothing(cx: &Ctx, o: &Object) -> Outcome {
    if o.api_group() != PROMETHEUS_OPERATOR_GROUP {
        return Outcome::Skip;
    }
    let pod = o.kind == "PodMonitor";
    let target = if pod { "pod" } else { "Service" };
    let related = if pod {
        cx.inv.related_any(&[
            "Deployment",
            "StatefulSet",
            "DaemonSet",
            "Pod",
            "ReplicaSet",
            "Job",
            "CronJob",
        ])
    } else {
        cx.inv.related("Service")
    };
    if let Err(reason) = related {
        return Outcome::NotEvaluated(reason);
    }
    let namespaces = monitor_namespaces(o);
    // `any: true` can target an application anywhere: only a whole-cluster
    // input can show that it is not there.
    if namespaces.is_none() && !(cx.settings.cluster_profile || cx.settings.live) {
        return Outcome::NotEvaluated(format!(
            "{} {} watches every namespace: judged only on a whole cluster (--cluster-profile or --live)",
            o.kind, o.name
        ));
    }
    let where_ = match &namespaces {
        None => "any namespace".to_string(),
        Some(n) => format!("namespace {}", n.join(", ")),
    };
    let selector = monitor_selector(o);
    // Candidates are counted; only those the selector matches are kept,
    // with their port names (names are written only for a message).
    let mut matched: Vec<(&Object, Vec<&str>)> = Vec::new();
    let candidates;
    if pod {
        let wls: Vec<Workload> = match &namespaces {
            None => cx.inv.workloads().collect(),
            Some(ns) => ns.iter().flat_map(|n| cx.inv.workloads_in(n)).collect(),
        };
        candidates = wls.len();
        for w in wls {
            if label_selector_matches(&selector, w.labels()) {
                let ports = w
                    .all_containers()
                    .flat_map(|c| port_names(c.get("ports")))
                    .collect();
                matched.push((w.obj, ports));
            }
        }
    } else {
        let svcs: Vec<&Object> = match &namespaces {
            None => cx.inv.of_kind("Service").map(|(_, s)| s).collect(),
            Some(ns) => ns
                .iter()
                .flat_map(|n| cx.inv.in_namespace(n, "Service"))
                .map(|(_, s)| s)
                .collect(),
        };
        candidates = svcs.len();
        for s in svcs {
            if label_selector_matches(&selector, s.labels()) {
                matched.push((s, port_names(s.root.at(&["spec", "ports"]))));
            }
        }
    }
    if candidates == 0 {
        return Outcome::NotEvaluated(format!("no {target} in {where_} in the input"));
    }
    let sel_path = FieldPath::of(&["spec", "selector"]);
    if matched.is_empty() {
        return Outcome::fail(
            sel_path,
            format!(
                "{} {} selects no {target} in {where_}: Prometheus scrapes nothing for it",
                o.kind, o.name
            ),
        );
    }
    let wanted = monitor_ports(
        o,
        if pod {
            "podMetricsEndpoints"
        } else {
            "endpoints"
        },
    );
    if wanted.is_empty()
        || matched
            .iter()
            .any(|(_, ports)| wanted.iter().any(|w| ports.contains(&w.as_str())))
    {
        return Outcome::Pass;
    }
    let names: Vec<String> = matched.iter().take(3).map(|(o, _)| o.display()).collect();
    Outcome::fail(
        FieldPath::of(&[
            "spec",
            if pod {
                "podMetricsEndpoints"
            } else {
                "endpoints"
            },
        ]),
        format!(
            "{} {} selects {} but none has a port named {}: Prometheus scrapes nothing for it",
            o.kind,
            o.name,
            names.join(", "),
            wanted.join(" or ")
        ),
    )
}

/// The names of a `ports` list's entries.
fn port_names(ports: Option<&Node>) -> Vec<&str> {
    ports
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|p| p.get("name").and_then(Node::as_str))
        .collect()
}

const SCRAPE_ANNOTATION: &str = "prometheus.io/scrape";

/// A port name that announces Prometheus metrics.
fn metrics_port(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("metrics") || n == "prometheus" || n == "prom"
}

fn scrape_annotated(node: Option<&Node>) -> bool {
    node.and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(SCRAPE_ANNOTATION))
        .and_then(Node::as_str)
        == Some("true")
}

/// Whether any Service or pod template uses scrape annotations.
fn scrape_annotations_used(inv: &Inventory) -> bool {
    inv.of_kind("Service")
        .any(|(_, s)| s.annotation(SCRAPE_ANNOTATION).is_some())
        || inv
            .workloads()
            .any(|w| w.annotation(SCRAPE_ANNOTATION).is_some())
}

/// A Service with a metrics port (`metrics`, `http-metrics`, `prometheus`)
/// that no ServiceMonitor selects, no PodMonitor covers through its pods,
/// and no `prometheus.io/scrape: "true"` annotation (on the Service or
/// its pods) announces. Not evaluated when the input shows neither
/// monitors nor scrape annotations anywhere: then how Prometheus discovers
/// targets is not visible.
fn workload_not_scraped(cx: &Ctx, s: &Object) -> Outcome {
    let ports: Vec<&str> = s
        .root
        .at(&["spec", "ports"])
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|p| p.get("name").and_then(Node::as_str))
        .filter(|n| metrics_port(n))
        .collect();
    if ports.is_empty() {
        return Outcome::Skip;
    }
    let inv = cx.inv;
    if s.annotation(SCRAPE_ANNOTATION) == Some("true") {
        return Outcome::Pass;
    }
    let ns = s.effective_namespace().unwrap_or("default");
    let monitors = |kind: &'static str| {
        inv.of_kind(kind)
            .map(|(_, m)| m)
            .filter(|m| m.api_group() == PROMETHEUS_OPERATOR_GROUP && monitor_covers_ns(m, ns))
    };
    if monitors("ServiceMonitor").any(|m| label_selector_matches(&monitor_selector(m), s.labels()))
    {
        return Outcome::Pass;
    }
    let backing: Vec<Workload> = match s.root.at(&["spec", "selector"]) {
        Some(sel) => inv.workloads_selected_by_map(ns, sel).collect(),
        None => Vec::new(),
    };
    if backing.iter().any(|w| scrape_annotated(w.meta)) {
        return Outcome::Pass;
    }
    if monitors("PodMonitor").any(|m| {
        backing
            .iter()
            .any(|w| label_selector_matches(&monitor_selector(m), w.labels()))
    }) {
        return Outcome::Pass;
    }
    if inv.related_any(&["ServiceMonitor", "PodMonitor"]).is_err() && !scrape_annotations_used(inv)
    {
        return Outcome::NotEvaluated(
            "no ServiceMonitor or PodMonitor in the input and no prometheus.io/scrape annotation anywhere: how Prometheus discovers targets is not visible".into(),
        );
    }
    let idx = s
        .root
        .at(&["spec", "ports"])
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .position(|p| p.get("name").and_then(Node::as_str) == ports.first().copied())
        .unwrap_or(0);
    Outcome::fail(
        FieldPath::of(&["spec", "ports"]).idx(idx),
        format!(
            "Service {} exposes metrics port {} but no ServiceMonitor, PodMonitor or prometheus.io/scrape annotation covers it: its metrics are not collected",
            s.display(),
            ports.join(", ")
        ),
    )
}

/// kube-apiserver needs an audit policy (`--audit-policy-file`; without it
/// nothing is recorded) and a backend (`--audit-log-path` or
/// `--audit-webhook-config-file`): otherwise who did what to the cluster
/// cannot be reconstructed after an incident.
fn audit_logging_disabled(cx: &Ctx) -> Outcome {
    let servers = control_plane::apiservers(cx.inv);
    if servers.is_empty() {
        return Outcome::NotEvaluated(control_plane::NOT_VISIBLE.to_string());
    }
    let mut v = Vec::new();
    for s in servers.iter() {
        let policy = s.flag("audit-policy-file").is_some();
        let backend =
            s.flag("audit-log-path").is_some() || s.flag("audit-webhook-config-file").is_some();
        let missing = match (policy, backend) {
            (true, true) => continue,
            (false, false) => {
                "--audit-policy-file nor --audit-log-path/--audit-webhook-config-file"
            }
            (false, true) => "--audit-policy-file (without a policy no event is recorded)",
            (true, false) => {
                "--audit-log-path or --audit-webhook-config-file (the policy has nowhere to write)"
            }
        };
        let neither = if policy || backend { "" } else { "neither " };
        v.push(Violation::on(
            s.index,
            s.missing_path.clone(),
            format!(
                "kube-apiserver in {} sets {neither}{missing}: API requests are not audited",
                s.display
            ),
        ));
    }
    Outcome::from(v)
}

#[cfg(test)]
mod tests {
    use super::{alert_areas, log_outputs};

    #[test]
    fn alert_areas_by_metric_not_substring() {
        assert_eq!(
            alert_areas(
                "KafkaRunningOutOfSpace",
                "kubelet_volume_stats_available_bytes < 15"
            ),
            [false, false, false]
        );
        assert_eq!(
            alert_areas(
                "KafkaNodePoolWarnings",
                "strimzi_kafka_node_pool_resource_info"
            ),
            [false, false, false]
        );
        assert_eq!(
            alert_areas("HostDown", "up{job=\"node-exporter\"} == 0"),
            [true, false, false]
        );
        assert_eq!(
            alert_areas(
                "X",
                "rate(kube_pod_container_status_restarts_total[5m]) > 0"
            ),
            [false, false, true]
        );
    }

    #[test]
    fn collector_outputs() {
        let fb = "[INPUT]\n    Name tail\n[OUTPUT]\n    Name  es\n    Match *\n[OUTPUT]\n    Name stdout\n";
        assert_eq!(log_outputs(fb), vec!["es", "stdout"]);
        let fluentd = "<source>\n  @type tail\n</source>\n<match **>\n  @type copy\n  <store>\n    @type elasticsearch\n  </store>\n</match>\n";
        assert!(log_outputs(fluentd).contains(&"elasticsearch".to_string()));
        assert!(!log_outputs(fluentd).contains(&"tail".to_string()));
        let vector =
            "sources:\n  k8s:\n    type: kubernetes_logs\nsinks:\n  out:\n    type: console\n";
        assert_eq!(log_outputs(vector), vec!["console"]);
        let otel = "receivers:\n  filelog: {}\nexporters:\n  otlphttp/loki:\n    endpoint: http://loki\n  debug: {}\nservice:\n  pipelines:\n    logs:\n      exporters: [otlphttp/loki]\n";
        assert_eq!(log_outputs(otel), vec!["debug", "otlphttp"]);
        let traces_only = "exporters:\n  googlecloud: {}\nservice:\n  pipelines:\n    traces:\n      exporters: [googlecloud]\n";
        assert!(log_outputs(traces_only).is_empty());
        let promtail = "clients:\n  - url: http://loki:3100/loki/api/v1/push\n";
        assert_eq!(log_outputs(promtail), vec!["loki"]);
        let alloy = "loki.write \"default\" {\n  endpoint { url = \"x\" }\n}\n";
        assert_eq!(log_outputs(alloy), vec!["loki"]);
    }
}
