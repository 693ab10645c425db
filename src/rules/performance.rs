//! Rules of the performance pillar.
use super::{Check, Ctx, Outcome, RuleImpl, Violation, Workload};

pub const RULES: &[RuleImpl] = &[RuleImpl {
    id: "memory-limit-missing",
    check: Check::Pod(memory_limit_missing),
}];

fn memory_limit_missing(_cx: &Ctx, w: &Workload) -> Outcome {
    let mut v = Vec::new();
    for c in w.long_running_containers() {
        if c.at(&["resources", "limits", "memory"]).is_none() {
            v.push(Violation::new(
                c.path.keys(&["resources", "limits", "memory"]),
                format!("{} has no memory limit", c.label()),
            ));
        }
    }
    Outcome::from(v)
}
