//! Security rules: network policies and exposure.
use crate::object::Object;
use crate::path::FieldPath;
use crate::rules::{Check, Ctx, Outcome, RuleImpl, Violation, Workload};
use crate::selector::label_selector_matches;
use crate::yaml::Node;
use std::net::IpAddr;

pub const RULES: &[RuleImpl] = &[
    RuleImpl {
        id: "namespace-default-deny-missing",
        check: Check::Namespace(default_deny_missing),
    },
    RuleImpl {
        id: "workload-not-isolated",
        check: Check::Pod(workload_not_isolated),
    },
    RuleImpl {
        id: "networkpolicy-allows-all-namespaces",
        check: Check::Object(&["NetworkPolicy"], networkpolicy_allows_all_namespaces),
    },
    RuleImpl {
        id: "networkpolicy-selects-nothing",
        check: Check::Object(&["NetworkPolicy"], networkpolicy_selects_nothing),
    },
    RuleImpl {
        id: "service-exposed-externally",
        check: Check::Object(&["Service"], service_exposed_externally),
    },
    RuleImpl {
        id: "service-external-ips",
        check: Check::Object(&["Service"], service_external_ips),
    },
    RuleImpl {
        id: "ingress-missing-tls",
        check: Check::Object(&["Ingress"], ingress_missing_tls),
    },
];

/// Policy types a NetworkPolicy applies to, defaulted as the API server does:
/// Ingress always, Egress when it has egress rules.
pub fn policy_types(np: &Node) -> (bool, bool) {
    match np.at(&["spec", "policyTypes"]).and_then(Node::as_seq) {
        Some(types) => {
            let has = |t: &str| types.iter().any(|x| x.as_str() == Some(t));
            (has("Ingress"), has("Egress"))
        }
        None => (true, np.at(&["spec", "egress"]).is_some()),
    }
}

/// A namespace with workloads needs a NetworkPolicy selecting every pod
/// (`podSelector: {}`) for Ingress and for Egress with no allow rules, so
/// that any traffic not explicitly allowed is denied.
fn default_deny_missing(cx: &Ctx, ns: &str) -> Outcome {
    if let Err(reason) = cx.inv.related("NetworkPolicy") {
        return Outcome::NotEvaluated(reason);
    }
    let (mut ingress, mut egress) = (false, false);
    for (_, np) in cx.inv.in_namespace(ns, "NetworkPolicy") {
        let selects_all = np
            .root
            .at(&["spec", "podSelector"])
            .is_none_or(Node::is_empty);
        if !selects_all {
            continue;
        }
        let (i, e) = policy_types(&np.root);
        ingress |= i && np.root.at(&["spec", "ingress"]).is_none_or(Node::is_empty);
        egress |= e && np.root.at(&["spec", "egress"]).is_none_or(Node::is_empty);
    }
    let missing: Vec<&str> = [
        (!ingress).then_some("Ingress"),
        (!egress).then_some("Egress"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if missing.is_empty() {
        return Outcome::Pass;
    }
    let msg = format!(
        "namespace {ns} has workloads but no default-deny NetworkPolicy for {}",
        missing.join(" and ")
    );
    Outcome::Fail(vec![crate::rules::namespace_violation(cx, ns, msg)])
}

/// Kubernetes NetworkPolicies (`networking.k8s.io`), not CNI-specific kinds
/// that share the name (Calico's `projectcalico.org` NetworkPolicy).
fn is_k8s_policy(o: &Object) -> bool {
    o.api_group() == "networking.k8s.io"
}

/// A NetworkPolicy's `spec.podSelector`; `None` when it selects every pod
/// of the namespace (absent or empty).
fn pod_selector(np: &Object) -> Option<&Node> {
    np.root
        .at(&["spec", "podSelector"])
        .filter(|sel| !sel.is_empty())
}

/// Whether a NetworkPolicy selects pods labelled `labels`.
fn policy_selects(np: &Object, labels: Option<&Node>) -> bool {
    pod_selector(np).is_none_or(|sel| label_selector_matches(sel, labels))
}

/// A pod selected by no NetworkPolicy accepts traffic from, and sends it
/// to, anything in the cluster. Judged only when the input holds
/// NetworkPolicies (otherwise not-evaluated). Pods with `hostNetwork: true`
/// are skipped: NetworkPolicies do not apply to them.
fn workload_not_isolated(cx: &Ctx, w: &Workload) -> Outcome {
    if w.get("hostNetwork").and_then(Node::as_bool) == Some(true) {
        return Outcome::Skip;
    }
    if let Err(reason) = cx.inv.related("NetworkPolicy") {
        return Outcome::NotEvaluated(reason);
    }
    let ns = w.obj.effective_namespace().unwrap_or("default");
    let labels = w.labels();
    let selected = cx
        .inv
        .in_namespace(ns, "NetworkPolicy")
        .any(|(_, np)| is_k8s_policy(np) && policy_selects(np, labels));
    if selected {
        return Outcome::Pass;
    }
    Outcome::fail(
        FieldPath::of(&["metadata", "name"]),
        format!(
            "{} {} is selected by no NetworkPolicy in namespace {ns}: its pods accept and send any traffic",
            w.obj.kind, w.obj.name
        ),
    )
}

/// Whether `cidr` is a private (RFC 1918 / ULA) range: carving one out of
/// `0.0.0.0/0` with `except` keeps cluster-internal addresses out.
fn is_private_cidr(cidr: &str) -> bool {
    let addr = cidr.split('/').next().unwrap_or("");
    match addr.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => a.is_private(),
        Ok(IpAddr::V6(a)) => (a.segments()[0] & 0xfe00) == 0xfc00,
        Err(_) => false,
    }
}

/// What is too broad about one peer, if anything.
fn broad_peer(peer: &Node) -> Option<(FieldPath, String)> {
    if let Some(ns_sel) = peer.get("namespaceSelector") {
        let pods_narrowed = peer.get("podSelector").is_some_and(|p| !p.is_empty());
        if ns_sel.is_empty() && !pods_narrowed {
            return Some((
                FieldPath::of(&["namespaceSelector"]),
                "namespaceSelector: {} (every pod of every namespace)".to_string(),
            ));
        }
    }
    let cidr = peer.at(&["ipBlock", "cidr"]).and_then(Node::as_str)?;
    let cidr_t = cidr.trim();
    if cidr_t != "0.0.0.0/0" && cidr_t != "::/0" {
        return None;
    }
    let carves_private = peer
        .at(&["ipBlock", "except"])
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::as_str)
        .any(is_private_cidr);
    if carves_private {
        return None;
    }
    Some((
        FieldPath::of(&["ipBlock", "cidr"]),
        format!("ipBlock {cidr_t} without excepting private ranges (any address, cluster pods included)"),
    ))
}

/// An ingress or egress peer that opens the policy to everything:
/// `namespaceSelector: {}` with no narrowing `podSelector` (every pod of
/// every namespace), an `ipBlock` of `0.0.0.0/0` or `::/0` without an
/// `except` carving out private ranges, or a rule with neither peers nor
/// ports (`- {}`: allow all). A `namespaceSelector: {}` narrowed by pod
/// labels names the pods it wants and passes; so do port-only rules (the
/// usual DNS egress or webhook ingress). Directions the policy does not
/// enforce (`policyTypes`) are ignored.
fn networkpolicy_allows_all_namespaces(_cx: &Ctx, o: &Object) -> Outcome {
    if !is_k8s_policy(o) {
        return Outcome::Skip;
    }
    let (ingress, egress) = policy_types(&o.root);
    let mut v = Vec::new();
    for (enabled, dir, peers_key, noun) in [
        (ingress, "ingress", "from", "from"),
        (egress, "egress", "to", "to"),
    ] {
        if !enabled {
            continue;
        }
        let rules = o.root.at(&["spec", dir]).map(Node::items).unwrap_or(&[]);
        for (i, rule) in rules.iter().enumerate() {
            let rule_path = FieldPath::of(&["spec", dir]).idx(i);
            let peers = rule.get(peers_key).map(Node::items).unwrap_or(&[]);
            let ports = rule.get("ports").map(Node::items).unwrap_or(&[]);
            if peers.is_empty() && ports.is_empty() {
                v.push(Violation::new(
                    rule_path,
                    format!(
                        "NetworkPolicy {} {dir} rule {i} has no {noun} and no ports: it allows all traffic {noun} anywhere",
                        o.name
                    ),
                ));
                continue;
            }
            for (j, peer) in peers.iter().enumerate() {
                if let Some((sub, what)) = broad_peer(peer) {
                    let mut p = rule_path.key(peers_key).idx(j);
                    p.0.extend(sub.0);
                    v.push(Violation::new(
                        p,
                        format!("NetworkPolicy {} allows {dir} {noun} {what}", o.name),
                    ));
                }
            }
        }
    }
    Outcome::from(v)
}

/// A NetworkPolicy whose `podSelector` matches no workload of its namespace
/// protects nothing (a typo in a label, a renamed app). Not-evaluated when
/// the input holds no workload in that namespace: static input is often a
/// policy set applied apart from the apps.
fn networkpolicy_selects_nothing(cx: &Ctx, o: &Object) -> Outcome {
    if !is_k8s_policy(o) {
        return Outcome::Skip;
    }
    let ns = o.effective_namespace().unwrap_or("default");
    if cx.inv.workloads_in(ns).next().is_none() {
        return Outcome::NotEvaluated(format!("no workload in namespace {ns} in the input"));
    }
    // Through the label index, not every workload of the namespace per policy.
    let selects = pod_selector(o)
        .is_none_or(|sel| cx.inv.workloads_selected_by_label(ns, sel).next().is_some());
    if selects {
        return Outcome::Pass;
    }
    Outcome::fail(
        FieldPath::of(&["spec", "podSelector"]),
        format!(
            "NetworkPolicy {} selects no pod of any workload in namespace {ns}",
            o.name
        ),
    )
}

/// Annotations that make a cloud load balancer internal (reachable from
/// the private network only).
const INTERNAL_LB_ANNOTATIONS: &[(&str, &str)] = &[
    (
        "service.beta.kubernetes.io/aws-load-balancer-internal",
        "true",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-scheme",
        "internal",
    ),
    (
        "service.beta.kubernetes.io/azure-load-balancer-internal",
        "true",
    ),
    ("networking.gke.io/load-balancer-type", "internal"),
    ("cloud.google.com/load-balancer-type", "internal"),
    (
        "service.beta.kubernetes.io/oci-load-balancer-internal",
        "true",
    ),
    (
        "service.beta.kubernetes.io/openstack-internal-load-balancer",
        "true",
    ),
    (
        "service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type",
        "private",
    ),
];

/// Services of type NodePort or LoadBalancer are reachable from outside the
/// cluster (every node's port, or a cloud load balancer) and bypass the
/// ingress or gateway where TLS, authentication and rate limits live.
/// Informational: sometimes intended (the ingress controller's own
/// Service). A LoadBalancer marked internal by its cloud annotation passes.
fn service_exposed_externally(_cx: &Ctx, o: &Object) -> Outcome {
    let ty = o.root.at(&["spec", "type"]).and_then(Node::as_str);
    match ty {
        Some("NodePort") => Outcome::fail(
            FieldPath::of(&["spec", "type"]),
            format!(
                "Service {} is type NodePort: it opens a port on every node",
                o.name
            ),
        ),
        Some("LoadBalancer") => {
            let internal = INTERNAL_LB_ANNOTATIONS.iter().any(|(k, v)| {
                o.annotation(k)
                    .is_some_and(|a| a.trim().eq_ignore_ascii_case(v))
            });
            if internal {
                return Outcome::Pass;
            }
            let ranges = o
                .root
                .at(&["spec", "loadBalancerSourceRanges"])
                .map(Node::items)
                .unwrap_or(&[])
                .len();
            let reach = if ranges > 0 {
                format!("reachable from {ranges} source range(s) outside the cluster")
            } else {
                "reachable from outside the cluster".to_string()
            };
            Outcome::fail(
                FieldPath::of(&["spec", "type"]),
                format!("Service {} is type LoadBalancer: {reach}", o.name),
            )
        }
        _ => Outcome::Pass,
    }
}

/// `spec.externalIPs` makes kube-proxy capture traffic to those addresses
/// on every node, for every pod: whoever can create such a Service can
/// intercept traffic to any IP (CVE-2020-8554). Legitimate uses are rare
/// and better served by a LoadBalancer.
fn service_external_ips(_cx: &Ctx, o: &Object) -> Outcome {
    let ips: Vec<&str> = o
        .root
        .at(&["spec", "externalIPs"])
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::as_str)
        .collect();
    if ips.is_empty() {
        return Outcome::Pass;
    }
    Outcome::fail(
        FieldPath::of(&["spec", "externalIPs"]),
        format!(
            "Service {} sets externalIPs {}: traffic to those addresses from anywhere in the cluster is captured (CVE-2020-8554)",
            o.name,
            ips.join(", ")
        ),
    )
}

/// Annotations through which a controller terminates TLS without
/// `spec.tls` (the certificate lives in the cloud).
const TLS_ANNOTATIONS: &[&str] = &[
    "alb.ingress.kubernetes.io/certificate-arn",
    "ingress.gcp.kubernetes.io/pre-shared-cert",
    "networking.gke.io/managed-certificates",
    "appgw.ingress.kubernetes.io/appgw-ssl-certificate",
    "service.beta.kubernetes.io/aws-load-balancer-ssl-cert",
];

/// Whether TLS host `pattern` (possibly `*.example.com`) covers `host`.
fn tls_host_covers(pattern: &str, host: &str) -> bool {
    let (p, h) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    match p.strip_prefix("*.") {
        Some(suffix) => h
            .split_once('.')
            .is_some_and(|(first, rest)| !first.is_empty() && rest == suffix),
        None => p == h,
    }
}

/// An Ingress should serve HTTPS: without `spec.tls` the controller serves
/// plain HTTP, so credentials and cookies cross the network in clear. With
/// `spec.tls`, every rule host must be covered by a TLS entry (an entry
/// without hosts covers all). TLS terminated by the cloud load balancer
/// (ALB certificate ARN, GCE pre-shared or managed certificates, App
/// Gateway) passes. Internal ingresses are judged like the others: plain
/// HTTP inside a private network is still readable by anything on it.
fn ingress_missing_tls(_cx: &Ctx, o: &Object) -> Outcome {
    if TLS_ANNOTATIONS.iter().any(|a| o.annotation(a).is_some()) {
        return Outcome::Pass;
    }
    let tls = o.root.at(&["spec", "tls"]).map(Node::items).unwrap_or(&[]);
    if tls.is_empty() {
        return Outcome::fail(
            FieldPath::of(&["spec", "tls"]),
            format!(
                "Ingress {} has no tls section: it serves plain HTTP",
                o.name
            ),
        );
    }
    let mut patterns = Vec::new();
    for entry in tls {
        let hosts = entry.get("hosts").map(Node::items).unwrap_or(&[]);
        if hosts.is_empty() {
            return Outcome::Pass;
        }
        patterns.extend(hosts.iter().filter_map(Node::as_str));
    }
    let mut v = Vec::new();
    for (i, rule) in o
        .root
        .at(&["spec", "rules"])
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let Some(host) = rule.get("host").and_then(Node::as_str) else {
            continue;
        };
        if !patterns.iter().any(|p| tls_host_covers(p, host)) {
            v.push(Violation::new(
                FieldPath::of(&["spec", "rules"]).idx(i).key("host"),
                format!(
                    "Ingress {} serves host {host} without TLS: no tls entry lists it",
                    o.name
                ),
            ));
        }
    }
    Outcome::from(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_hosts_and_private_ranges() {
        assert!(tls_host_covers("*.example.com", "a.example.com"));
        assert!(!tls_host_covers("*.example.com", "a.b.example.com"));
        assert!(!tls_host_covers("*.example.com", "example.com"));
        assert!(tls_host_covers("Shop.Example.com", "shop.example.com"));
        assert!(is_private_cidr("10.0.0.0/8"));
        assert!(is_private_cidr("172.20.0.0/16"));
        assert!(is_private_cidr("fd00::/8"));
        assert!(!is_private_cidr("169.254.169.254/32"));
        assert!(!is_private_cidr("nonsense"));
    }
}
