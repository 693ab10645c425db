//! Scores, exactly as DESIGN.md defines them:
//! - a rule's score on a pillar is the share of evaluated subjects that passed;
//! - a pillar's score is the severity-weighted mean of its rules' scores
//!   (critical 10, high 6, medium 3, low 1, info 0), counting only rules
//!   that evaluated something; a pillar with nothing evaluated has no score;
//! - the overall score is the mean of the pillar scores that exist.

use crate::catalog::{Pillar, Severity};

/// One rule's contribution: its pillar, severity, passed and evaluated counts.
pub struct RuleScoreInput {
    pub pillar: Pillar,
    pub severity: Severity,
    pub passed: usize,
    pub evaluated: usize,
}

pub fn rule_score(passed: usize, evaluated: usize) -> Option<f64> {
    (evaluated > 0).then(|| 100.0 * passed as f64 / evaluated as f64)
}

pub fn pillar_score(pillar: Pillar, rules: &[RuleScoreInput]) -> Option<f64> {
    let (mut num, mut den) = (0.0, 0.0);
    for r in rules.iter().filter(|r| r.pillar == pillar) {
        let w = r.severity.weight();
        if let Some(s) = rule_score(r.passed, r.evaluated) {
            num += w * s;
            den += w;
        }
    }
    (den > 0.0).then(|| num / den)
}

pub fn overall(pillars: &[Option<f64>]) -> Option<f64> {
    let present: Vec<f64> = pillars.iter().flatten().copied().collect();
    (!present.is_empty()).then(|| present.iter().sum::<f64>() / present.len() as f64)
}

pub fn grade(score: f64) -> &'static str {
    match score {
        s if s >= 90.0 => "A",
        s if s >= 80.0 => "B",
        s if s >= 70.0 => "C",
        s if s >= 60.0 => "D",
        s if s >= 50.0 => "E",
        _ => "F",
    }
}

/// Scores are shown with one decimal; rounding happens once, here.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(pillar: Pillar, severity: Severity, passed: usize, evaluated: usize) -> RuleScoreInput {
        RuleScoreInput {
            pillar,
            severity,
            passed,
            evaluated,
        }
    }

    #[test]
    fn weighted_by_severity_and_ignores_unevaluated() {
        let rules = [
            r(Pillar::Security, Severity::Critical, 1, 2), // 50, w10
            r(Pillar::Security, Severity::Low, 4, 4),      // 100, w1
            r(Pillar::Security, Severity::High, 0, 0),     // not evaluated
            r(Pillar::Security, Severity::Info, 0, 9),     // weight 0
        ];
        let s = pillar_score(Pillar::Security, &rules).unwrap();
        assert!((s - (500.0 + 100.0) / 11.0).abs() < 1e-9);
        assert_eq!(pillar_score(Pillar::Reliability, &rules), None);
        assert_eq!(overall(&[Some(80.0), None, Some(60.0)]), Some(70.0));
        assert_eq!(overall(&[None, None]), None);
        assert_eq!(grade(89.99), "B");
        assert_eq!(grade(49.0), "F");
    }
}
