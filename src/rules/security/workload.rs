//! Security rules: workload.
use crate::rules::RuleImpl;

pub const RULES: &[RuleImpl] = &[];
