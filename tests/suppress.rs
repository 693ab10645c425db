//! Every suppression path, on fixtures whose lines say what must happen:
//! `# expect` (an open finding), `# expect-suppressed: KIND` (a finding
//! suppressed by KIND), `# warn: CODE` (a warning on that line). The test
//! asserts the sets are equal, exactly, per file.

mod common;
use chrono::NaiveDate;
use common::*;
use kready::config;
use kready::report::{self, Report};
use kready::scan::{self, Scan, Selection};
use kready::settings::Settings;
use kready::suppress::{self, Baseline, Options};
use kready::yaml::Limits;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The day the fixtures are judged on.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

fn fixture(name: &str) -> PathBuf {
    repo_root().join("fixtures/suppress").join(name)
}

fn scan(files: &[PathBuf], rules: &[&str]) -> (Scan, Settings) {
    let settings = Settings::default();
    let sel = Selection {
        only: rules.iter().map(|s| s.to_string()).collect(),
        skip: vec![],
    };
    let active = scan::select_rules(&sel, &settings).unwrap();
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    (
        scan::scan_paths(&paths, &settings, active, &Limits::default()),
        settings,
    )
}

type Marks = BTreeSet<(String, u32, String)>;

/// (file name, line, what) from the markers in `files`.
fn marks(files: &[PathBuf]) -> (Marks, Marks) {
    let mut findings = Marks::new();
    let mut warnings = Marks::new();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(f).unwrap();
        for (i, l) in text.lines().enumerate() {
            let line = i as u32 + 1;
            if l.trim_start().starts_with('#') {
                continue;
            }
            if let Some(k) = l.split("# expect-suppressed:").nth(1) {
                findings.insert((name.clone(), line, k.trim().to_string()));
            } else if l.contains("# expect") {
                findings.insert((name.clone(), line, "open".into()));
            }
            if let Some(c) = l.split("# warn:").nth(1) {
                warnings.insert((name.clone(), line, c.trim().to_string()));
            }
        }
    }
    (findings, warnings)
}

fn base(file: &str) -> String {
    Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// (file name, line, kind or "open") of every finding; (file, line, code) of every warning.
fn observed(report: &Report) -> (Marks, Marks) {
    let findings = report
        .findings
        .iter()
        .map(|f| {
            (
                base(f.location.file.as_deref().unwrap_or("")),
                f.location.line.unwrap_or(0),
                f.suppression
                    .as_ref()
                    .map_or("open".to_string(), |s| s.kind.clone()),
            )
        })
        .collect();
    let warnings = report
        .diagnostics
        .iter()
        .map(|d| {
            (
                base(&d.file),
                d.pos.map_or(0, |p| p.line),
                d.code.to_string(),
            )
        })
        .collect();
    (findings, warnings)
}

fn check(files: &[PathBuf], report: &Report) {
    let (want_f, want_w) = marks(files);
    let (got_f, got_w) = observed(report);
    assert_eq!(got_f, want_f, "findings differ from the markers");
    assert_eq!(got_w, want_w, "warnings differ from the markers");
}

#[test]
fn annotations_on_objects_and_pod_templates() {
    let files = [fixture("annotations.yaml")];
    let (mut s, settings) = scan(&files, &["privileged-container"]);
    suppress::apply(&mut s, &[], &Options::new(today()));
    let report = s.report(&settings);
    check(&files, &report);

    // Justification, date and SARIF kind travel with the finding.
    let f = report
        .findings
        .iter()
        .find(|f| f.object.as_ref().unwrap().name == "on-object")
        .unwrap();
    let sup = f.suppression.as_ref().unwrap();
    assert_eq!(sup.justification, "needs /dev/fuse; reviewed in SEC-142");
    assert_eq!(sup.until.as_deref(), Some("2027-01-31"));
    let sarif = report::sarif::render(&report);
    assert!(sarif.contains("\"inSource\""), "{sarif}");
    assert!(sarif.contains("needs /dev/fuse"));
    // The expiry warning names the object, the rule and the date.
    let w = report
        .diagnostics
        .iter()
        .find(|d| d.code == suppress::CODE_EXPIRED)
        .unwrap();
    assert!(
        w.message.contains("Deployment/shop/expired")
            && w.message.contains("2026-05-31")
            && w.message.contains("privileged-container"),
        "{}",
        w.message
    );
}

#[test]
fn suppressed_subjects_do_not_count_against_the_score() {
    let files = [fixture("annotations.yaml")];
    let (mut s, settings) = scan(&files, &["privileged-container"]);
    let before = s.report(&settings);
    suppress::apply(&mut s, &[], &Options::new(today()));
    let after = s.report(&settings);
    let rule = |r: &Report| {
        let x = r
            .rules
            .iter()
            .find(|x| x.id == "privileged-container")
            .unwrap();
        (x.passed, x.failed, x.suppressed)
    };
    assert_eq!(rule(&before), (0, 8, 0));
    // 4 objects fully suppressed: they leave the score; 4 still fail.
    assert_eq!(rule(&after), (0, 4, 4));
    assert_eq!(after.summary.suppressed, 5);
    assert_eq!(after.summary.findings, 4);
    // Nothing passed and 4 still fail: the score is 0, computed over 4 subjects.
    assert_eq!(after.score.overall, Some(0.0));
}

#[test]
fn no_inline_suppressions_ignores_annotations() {
    let files = [fixture("annotations.yaml")];
    let (mut s, settings) = scan(&files, &["privileged-container"]);
    let opts = Options {
        inline: false,
        ..Options::new(today())
    };
    suppress::apply(&mut s, &[], &opts);
    let report = s.report(&settings);
    assert_eq!(report.summary.suppressed, 0);
    assert_eq!(report.summary.findings, 9);
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
}

#[test]
fn config_exemptions() {
    let cfg_path = fixture("exemptions.kready.yaml");
    let cfg = config::load_file(&cfg_path).unwrap_or_else(|e| panic!("{e}"));
    let files = [fixture("exemptions.yaml")];
    let (mut s, settings) = scan(&files, &["privileged-container", "single-replica"]);
    suppress::apply(&mut s, &cfg.exemptions, &Options::new(today()));
    let report = s.report(&settings);
    check(&[files[0].clone(), cfg_path], &report);
    let ds = report
        .findings
        .iter()
        .find(|f| f.suppression.as_ref().is_some_and(|s| s.kind == "config"))
        .unwrap();
    assert!(report::sarif::render(&report).contains("\"external\""));
    assert!(ds
        .suppression
        .as_ref()
        .unwrap()
        .justification
        .contains("host metrics"));
}

#[test]
fn config_exemption_expiry_is_inclusive() {
    let text = "exemptions:\n- rules: ['*']\n  reason: r\n  until: 2026-06-01\n";
    let cfg = config::parse(text, ".kready.yaml".into()).unwrap();
    let (mut s, settings) = scan(&[fixture("exemptions.yaml")], &["privileged-container"]);
    suppress::apply(&mut s, &cfg.exemptions, &Options::new(today()));
    assert_eq!(s.report(&settings).summary.findings, 0);
    let (mut s, settings) = scan(&[fixture("exemptions.yaml")], &["privileged-container"]);
    let tomorrow = today().succ_opt().unwrap();
    suppress::apply(&mut s, &cfg.exemptions, &Options::new(tomorrow));
    let r = s.report(&settings);
    assert_eq!(r.summary.suppressed, 0);
    assert_eq!(r.diagnostics.len(), 1, "{:?}", r.diagnostics);
}

#[test]
fn default_exemptions_for_system_components() {
    let files = [fixture("system.yaml")];
    let (mut s, settings) = scan(&files, &["privileged-container"]);
    suppress::apply(&mut s, &[], &Options::new(today()));
    let report = s.report(&settings);
    check(&files, &report);
    assert!(report
        .findings
        .iter()
        .filter_map(|f| f.suppression.as_ref())
        .all(|s| s.justification.starts_with("system component: ")));
}

#[test]
fn default_exemptions_can_be_switched_off() {
    let files = [fixture("system.yaml")];
    let (mut s, settings) = scan(&files, &["privileged-container"]);
    let opts = Options {
        default_exemptions: false,
        ..Options::new(today())
    };
    suppress::apply(&mut s, &[], &opts);
    let report = s.report(&settings);
    assert_eq!(report.summary.suppressed, 0);
    assert_eq!(report.summary.findings, 5);
}

#[test]
fn default_exemptions_cover_system_namespaces() {
    let (mut s, settings) = scan(
        &[fixture("system.yaml"), fixture("netpol.yaml")],
        &["namespace-default-deny-missing"],
    );
    suppress::apply(&mut s, &[], &Options::new(today()));
    let report = s.report(&settings);
    let by_ns: Vec<(String, bool)> = report
        .findings
        .iter()
        .map(|f| (f.namespace.clone().unwrap(), f.suppression.is_some()))
        .collect();
    assert!(by_ns.contains(&("kube-system".into(), true)), "{by_ns:?}");
    assert!(by_ns.contains(&("apps".into(), false)), "{by_ns:?}");
}

#[test]
fn baseline_matches_across_edits_that_move_lines() {
    let before = fixture("baseline/before.yaml");
    let after = fixture("baseline/after.yaml");
    let rules = ["privileged-container", "single-replica"];
    let (s, settings) = scan(std::slice::from_ref(&before), &rules);
    let old = s.report(&settings);
    assert_eq!(old.summary.findings, 2);
    let old_json = report::json::render(&old);
    let baseline = Baseline::parse(&old_json, "baseline.json").unwrap();

    let (mut s, settings) = scan(std::slice::from_ref(&after), &rules);
    assert_eq!(suppress::apply_baseline(&mut s, &baseline), 2);
    let new = s.report(&settings);
    check(std::slice::from_ref(&after), &new);
    // The old findings really moved.
    let lines = |r: &Report| -> BTreeSet<u32> {
        r.findings.iter().filter_map(|f| f.location.line).collect()
    };
    assert!(lines(&old).is_disjoint(&lines(&new)));
    // The table lists only what is new, and counts the rest.
    let table = report::table::render(&new, false);
    assert!(
        table.contains("2 finding(s) already in the baseline are not listed"),
        "{table}"
    );
    let listed = table
        .lines()
        .filter(|l| {
            l.contains("critical")
                || l.contains("high")
                || l.contains("medium")
                || l.contains(" low ")
        })
        .count();
    assert_eq!(listed, 1, "only the new finding is listed:\n{table}");
    // Only the new finding gates: one critical, open.
    assert_eq!(new.summary.findings, 1);
    assert!(new.findings.iter().any(|f| f.suppression.is_none()
        && f.location
            .path
            .ends_with("containers[1].securityContext.privileged")));
}

#[test]
fn baseline_does_not_override_other_suppressions() {
    let files = [fixture("annotations.yaml")];
    let (s, settings) = scan(&files, &["privileged-container"]);
    let all = Baseline::parse(&report::json::render(&s.report(&settings)), "b.json").unwrap();
    let (mut s, settings) = scan(&files, &["privileged-container"]);
    suppress::apply(&mut s, &[], &Options::new(today()));
    let n = suppress::apply_baseline(&mut s, &all);
    assert_eq!(n, 4);
    let r = s.report(&settings);
    assert_eq!(r.summary.findings, 0);
    assert_eq!(
        r.findings
            .iter()
            .filter(|f| f.suppression.as_ref().unwrap().kind == "annotation")
            .count(),
        5
    );
}

#[test]
fn namespace_findings_follow_the_namespace_not_a_workload() {
    let files = [fixture("namespace.yaml")];
    let (mut s, settings) = scan(&files, &["namespace-default-deny-missing"]);
    suppress::apply(&mut s, &[], &Options::new(today()));
    check(&files, &s.report(&settings));

    // A config exemption by namespace works the same way.
    let cfg = config::parse(
        "exemptions:\n- rules: [namespace-default-deny-missing]\n  namespace: team-b\n  reason: r\n",
        ".kready.yaml".into(),
    )
    .unwrap();
    let (mut s, settings) = scan(&files, &["namespace-default-deny-missing"]);
    suppress::apply(&mut s, &cfg.exemptions, &Options::new(today()));
    assert_eq!(s.report(&settings).summary.findings, 0);
}

/// A SARIF file capped at `max` results keeps open findings before
/// suppressed ones, the most severe first, in the report's order, for
/// every cap.
#[test]
fn sarif_cap_keeps_open_and_severe_findings_first() {
    // Every rule (no `--only`): findings of several severities.
    let (mut s, settings) = scan(&[fixture("annotations.yaml")], &[]);
    suppress::apply(&mut s, &[], &Options::new(today()));
    let report = s.report(&settings);
    let fs = &report.findings;
    let rank = |f: &kready::report::FindingOut| (f.suppression.is_none(), f.severity);
    assert!(
        fs.iter().any(|f| f.suppression.is_some()) && fs.iter().any(|f| f.suppression.is_none())
    );
    assert!(fs.iter().map(|f| f.severity).collect::<BTreeSet<_>>().len() > 2);
    for max in 0..=fs.len() + 1 {
        let kept = report::sarif::kept(fs, Some(max));
        assert_eq!(kept.len(), max.min(fs.len()));
        let at: Vec<usize> = kept
            .iter()
            .map(|k| fs.iter().position(|f| std::ptr::eq(f, *k)).unwrap())
            .collect();
        assert!(
            at.windows(2).all(|w| w[0] < w[1]),
            "report order, cap {max}"
        );
        let worst_kept = kept.iter().map(|f| rank(f)).min();
        let best_left = (0..fs.len())
            .filter(|i| !at.contains(i))
            .map(|i| rank(&fs[i]))
            .max();
        if let (Some(k), Some(l)) = (worst_kept, best_left) {
            assert!(k >= l, "cap {max}: kept {k:?} below left out {l:?}");
        }
    }
}
