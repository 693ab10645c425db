//! Rules of the observability pillar.
use super::RuleImpl;

pub const RULES: &[RuleImpl] = &[];
