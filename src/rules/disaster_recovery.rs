//! Rules of the disaster-recovery pillar.
use super::{Check, Ctx, Outcome, RuleImpl, Violation};

pub const RULES: &[RuleImpl] = &[RuleImpl {
    id: "backup-tool-missing",
    check: Check::Cluster(backup_tool_missing),
}];

fn backup_tool_missing(cx: &Ctx) -> Outcome {
    if cx.inv.components().provides("backup") {
        Outcome::Pass
    } else {
        Outcome::Fail(vec![Violation::general("no backup tool is installed (Velero, K8up, Kasten K10 or Stash): namespaces and volumes cannot be restored")])
    }
}
