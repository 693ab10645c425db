//! Security pillar: Pod Security Standards (`pss`), other workload
//! hardening (`workload`), network and exposure (`network`), RBAC (`rbac`)
//! and cluster-wide controls (`cluster`).
use super::RuleImpl;

pub mod cluster;
pub mod network;
pub mod pss;
pub mod rbac;
pub mod workload;

pub fn rules() -> Vec<RuleImpl> {
    [
        pss::RULES,
        workload::RULES,
        network::RULES,
        rbac::RULES,
        cluster::RULES,
    ]
    .concat()
}
