//! Whole-cluster fixtures scanned with --cluster-profile: a bare cluster
//! scores low on every pillar with the expected findings named; a
//! production-shaped cluster scores high. Both reports are snapshotted.

mod common;
use common::*;
use kready::report::{self, Report};
use kready::scan::{self, Selection};
use kready::settings::Settings;

fn scan_cluster(name: &str) -> Report {
    let settings = Settings {
        cluster_profile: true,
        ..Settings::default()
    };
    let rules = scan::select_rules(&Selection::default(), &settings).unwrap();
    scan_report(&[format!("fixtures/clusters/{name}")], &settings, rules)
}

fn pillar_scores(r: &Report) -> Vec<(String, Option<f64>)> {
    r.score
        .pillars
        .iter()
        .map(|p| (p.pillar.to_string(), p.score))
        .collect()
}

#[test]
fn bare_cluster_scores_low_on_every_pillar() {
    let r = scan_cluster("bare");
    assert_eq!(r.summary.errors, 0);
    for (pillar, score) in pillar_scores(&r) {
        let s = score.unwrap_or_else(|| panic!("{pillar} has no score on a whole cluster"));
        assert!(s < 70.0, "bare cluster scores {s} on {pillar}");
    }
    assert!(
        r.score.overall.unwrap() < 40.0,
        "overall {:?}",
        r.score.overall
    );
    let fired: std::collections::BTreeSet<&str> = r.findings.iter().map(|f| f.rule_id).collect();
    for rule in [
        "backup-tool-missing",
        "gitops-missing",
        "metrics-stack-missing",
        "log-collector-missing",
        "alerting-missing",
        "policy-engine-missing",
        "namespace-default-deny-missing",
        "control-plane-not-ha",
        "single-zone",
        "single-replica",
        "memory-limit-missing",
        "secret-in-env-literal",
        "rbac-binding-to-default-sa",
        "cluster-autoscaler-missing",
    ] {
        assert!(
            fired.contains(rule),
            "bare cluster: expected {rule} to fire; fired: {fired:?}"
        );
    }
}

#[test]
fn production_cluster_scores_high() {
    let r = scan_cluster("production");
    assert_eq!(r.summary.errors, 0);
    for (pillar, score) in pillar_scores(&r) {
        let s = score.unwrap_or_else(|| panic!("{pillar} has no score"));
        assert!(
            s >= 85.0,
            "production cluster scores {s} on {pillar}: {:#?}",
            r.findings
                .iter()
                .filter(|f| f.pillar.to_string() == pillar)
                .map(|f| &f.message)
                .collect::<Vec<_>>()
        );
    }
    assert!(r.score.overall.unwrap() >= 90.0);
    let fired: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.suppression.is_none())
        .map(|f| f.rule_id)
        .collect();
    for rule in [
        "backup-tool-missing",
        "metrics-stack-missing",
        "control-plane-not-ha",
        "namespace-default-deny-missing",
        "gitops-missing",
    ] {
        assert!(
            !fired.contains(&rule),
            "production cluster: {rule} must not fire"
        );
    }
}

#[test]
fn cluster_reports_snapshot() {
    for name in ["bare", "production"] {
        let r = scan_cluster(name);
        insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(format!("cluster-{name}.markdown"), report::markdown::render(&r));
        });
    }
}
