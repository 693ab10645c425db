//! Security rules: cluster.
use crate::rules::RuleImpl;

pub const RULES: &[RuleImpl] = &[];
