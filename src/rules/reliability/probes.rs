//! Probe rules. Probes only make sense on containers that run for the
//! pod's lifetime: regular containers (and, for port checks, sidecar init
//! containers). Run-to-completion pods (Jobs, CronJobs, Pods with
//! `restartPolicy` Never/OnFailure) are not asked for readiness/liveness.
use crate::rules::{Container, ContainerKind, Ctx, Outcome, Violation, Workload};
use crate::yaml::Node;

const PROBES: [&str; 3] = ["livenessProbe", "readinessProbe", "startupProbe"];

fn has_probe(c: &Container) -> bool {
    PROBES
        .iter()
        .any(|p| c.get(p).is_some_and(|n| !n.is_empty()))
}

fn has_ports(c: &Container) -> bool {
    c.get("ports").is_some_and(|p| !p.items().is_empty())
}

/// Regular containers whose probes are judged. In a pod with several
/// containers, one that declares no port and no probe while another
/// container does is a helper (log shipper, config reloader, proxy) and is
/// not asked for probes: the main container's probes gate the pod.
fn judged_containers<'a>(w: &'a Workload<'a>) -> Vec<Container<'a>> {
    let regular: Vec<Container> = w.containers_of(ContainerKind::Regular).collect();
    if regular.len() <= 1 {
        return regular;
    }
    let any_main = regular.iter().any(|c| has_ports(c) || has_probe(c));
    regular
        .into_iter()
        .filter(|c| !any_main || has_ports(c) || has_probe(c))
        .collect()
}

/// Whether a Service of the namespace selects the workload's pods.
fn selected_by_service(cx: &Ctx, w: &Workload) -> bool {
    let ns = w.obj.effective_namespace().unwrap_or("");
    cx.inv.services_selecting(ns, w.labels()).next().is_some()
}

/// Containers that receive traffic: those declaring ports; when none
/// does, the probed-or-all containers of a pod a Service selects. Pods
/// that declare no port and no Service selects (load generators, queue
/// workers, controllers) receive no traffic: none.
fn serving_containers<'a>(cx: &Ctx, w: &'a Workload<'a>) -> Vec<Container<'a>> {
    let with_ports: Vec<Container> = w
        .containers_of(ContainerKind::Regular)
        .filter(has_ports)
        .collect();
    if !with_ports.is_empty() {
        return with_ports;
    }
    if selected_by_service(cx, w) {
        return judged_containers(w);
    }
    Vec::new()
}

fn missing_probe<'a>(
    w: &Workload<'a>,
    containers: Vec<Container<'a>>,
    probe: &str,
    why: &str,
) -> Outcome {
    if w.is_batch() {
        return Outcome::Skip;
    }
    if containers.is_empty() {
        return Outcome::Skip;
    }
    let v = containers
        .iter()
        .filter(|c| c.get(probe).is_none_or(Node::is_empty))
        .map(|c| {
            Violation::new(
                c.path().key(probe),
                format!("{} has no {probe}: {why}", c.label()),
            )
        })
        .collect();
    Outcome::from(v)
}

/// Serving containers need a readiness probe, or they receive traffic
/// (and rollouts move on) before they can serve. Containers that serve
/// nothing (no port declared, no Service selecting the pod) are not judged.
pub fn readiness_probe_missing(cx: &Ctx, w: &Workload) -> Outcome {
    missing_probe(
        w,
        serving_containers(cx, w),
        "readinessProbe",
        "it receives traffic as soon as it starts and rollouts do not wait for it to be ready",
    )
}

/// A liveness probe restarts a process that hangs without exiting. It is
/// advisable rather than mandatory (a wrong one does more harm than none),
/// hence the low severity.
pub fn liveness_probe_missing(_cx: &Ctx, w: &Workload) -> Outcome {
    missing_probe(
        w,
        judged_containers(w),
        "livenessProbe",
        "a process that hangs without exiting is never restarted",
    )
}

/// Timing fields of a probe, with the API defaults.
const TIMING: [(&str, i64); 5] = [
    ("initialDelaySeconds", 0),
    ("periodSeconds", 10),
    ("timeoutSeconds", 1),
    ("successThreshold", 1),
    ("failureThreshold", 3),
];

/// A probe with defaults filled in, for comparison.
fn normalized(probe: &Node) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (k, v) in probe.entries() {
        if !TIMING.iter().any(|(t, _)| *t == k) {
            m.insert(k.to_string(), v.to_json());
        }
    }
    for (t, default) in TIMING {
        let v = probe.get(t).and_then(Node::as_i64).unwrap_or(default);
        m.insert(t.to_string(), v.into());
    }
    serde_json::Value::Object(m)
}

/// `httpGet /healthz on port 8080` for messages.
fn describe_probe(probe: &Node) -> String {
    let port = |h: &Node| {
        h.get("port")
            .and_then(Node::as_str)
            .unwrap_or("?")
            .to_string()
    };
    if let Some(h) = probe.get("httpGet") {
        let path = h.get("path").and_then(Node::as_str).unwrap_or("/");
        return format!("httpGet {path} on port {}", port(h));
    }
    if let Some(h) = probe.get("tcpSocket") {
        return format!("tcpSocket on port {}", port(h));
    }
    if let Some(h) = probe.get("grpc") {
        return format!("grpc on port {}", port(h));
    }
    if let Some(cmd) = probe.at(&["exec", "command"]) {
        let words: Vec<&str> = cmd.items().iter().filter_map(Node::as_str).collect();
        return format!("exec {}", words.join(" "));
    }
    "the same handler".to_string()
}

/// Liveness and readiness identical (same check, same timings): whenever
/// the container is merely not ready (overloaded, a dependency down) it is
/// also restarted, turning a slowdown into a restart storm. A liveness
/// probe on the same endpoint with more tolerant timings does not fire.
pub fn probes_identical(_cx: &Ctx, w: &Workload) -> Outcome {
    let mut judged = false;
    let mut v = Vec::new();
    for c in w.long_running_containers() {
        let (Some(l), Some(r)) = (c.get("livenessProbe"), c.get("readinessProbe")) else {
            continue;
        };
        if l.is_empty() || r.is_empty() {
            continue;
        }
        judged = true;
        if normalized(l) == normalized(r) {
            v.push(Violation::new(
                c.path().key("livenessProbe"),
                format!(
                    "{} uses the same livenessProbe as readinessProbe ({}): when it is only unready it also gets restarted",
                    c.label(),
                    describe_probe(l)
                ),
            ));
        }
    }
    if !judged {
        return Outcome::Skip;
    }
    Outcome::from(v)
}

/// A probe naming a port (`port: http`) the container does not declare in
/// `ports[].name` fails at runtime: the container never becomes ready, or
/// is restarted in a loop. Numbers (and numeric strings, which the kubelet
/// accepts) are not judged.
pub fn probe_port_not_exposed(_cx: &Ctx, w: &Workload) -> Outcome {
    let mut judged = false;
    let mut v = Vec::new();
    for c in w.long_running_containers() {
        let names: Vec<&str> = c
            .get("ports")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter_map(|p| p.get("name").and_then(Node::as_str))
            .collect();
        for probe in PROBES {
            let Some(p) = c.get(probe) else { continue };
            judged = true;
            for handler in ["httpGet", "tcpSocket"] {
                let Some(port) = p.at(&[handler, "port"]) else {
                    continue;
                };
                if port.as_i64().is_some() {
                    continue;
                }
                let Some(name) = port.as_str() else { continue };
                if name.parse::<u32>().is_ok() || names.contains(&name) {
                    continue;
                }
                v.push(Violation::new(
                    c.path().keys(&[probe, handler, "port"]),
                    format!(
                        "{} {probe} targets port \"{name}\" but the container declares no port of that name{}",
                        c.label(),
                        if names.is_empty() {
                            String::new()
                        } else {
                            format!(" (it declares {})", names.join(", "))
                        }
                    ),
                ));
            }
        }
    }
    if !judged {
        return Outcome::Skip;
    }
    Outcome::from(v)
}
