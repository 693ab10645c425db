//! Security rules: rbac.
use crate::rules::RuleImpl;

pub const RULES: &[RuleImpl] = &[];
