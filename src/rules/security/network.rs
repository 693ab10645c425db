//! Security rules: network policies and exposure.
use crate::rules::{Check, Ctx, Outcome, RuleImpl, Violation};
use crate::yaml::Node;

pub const RULES: &[RuleImpl] = &[RuleImpl {
    id: "namespace-default-deny-missing",
    check: Check::Namespace(default_deny_missing),
}];

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
    let at = cx
        .inv
        .get("Namespace", "", ns)
        .map(|(i, _)| i)
        .or_else(|| cx.inv.workloads_in(ns).next().map(|w| w.index));
    let msg = format!(
        "namespace {ns} has workloads but no default-deny NetworkPolicy for {}",
        missing.join(" and ")
    );
    Outcome::Fail(vec![match at {
        Some(i) => Violation::on(i, crate::path::FieldPath::of(&["metadata", "name"]), msg),
        None => Violation::general(msg),
    }])
}
