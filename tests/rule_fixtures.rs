//! Every rule against its fixtures: `fixtures/rules/<id>/fail*.yaml` must
//! produce findings exactly on the lines marked `# expect` (plus
//! `# expect-unlocated: N` findings without a line), and `pass*.yaml` must
//! produce none while evaluating at least one subject. An optional
//! `not-evaluated*.yaml` must leave the rule unevaluated with a reason.

mod common;
use common::*;
use std::collections::BTreeSet;
use std::path::Path;

fn expected_lines(text: &str) -> (BTreeSet<u32>, usize) {
    let mut lines = BTreeSet::new();
    let mut unlocated = 0;
    for (i, l) in text.lines().enumerate() {
        if let Some(n) = l.split("# expect-unlocated:").nth(1) {
            unlocated += n.trim().parse::<usize>().expect("expect-unlocated: N");
        } else if l.contains("# expect") {
            lines.insert(i as u32 + 1);
        }
    }
    (lines, unlocated)
}

fn check_rule(dir: &Path, rule: &str, problems: &mut Vec<String>) {
    let settings = fixture_settings(dir, rule);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml") && !p.ends_with("settings.yaml"))
        .collect();
    files.sort();
    let (mut has_pass, mut has_fail) = (false, false);
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let report = scan_report(&[f.display().to_string()], &settings, only(rule, &settings));
        let where_ = format!("{rule}/{name}");
        if report.summary.errors > 0 {
            problems.push(format!("{where_}: input errors: {:?}", report.diagnostics));
            continue;
        }
        let r = report.rules.iter().find(|r| r.id == rule);
        let Some(r) = r else {
            problems.push(format!("{where_}: rule did not run"));
            continue;
        };
        let findings: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.rule_id == rule)
            .collect();
        if name.starts_with("fail") {
            has_fail = true;
            let text = std::fs::read_to_string(&f).unwrap();
            let (want, want_unlocated) = expected_lines(&text);
            if want.is_empty() && want_unlocated == 0 {
                problems.push(format!("{where_}: no `# expect` marker"));
            }
            let got: BTreeSet<u32> = findings.iter().filter_map(|f| f.location.line).collect();
            let got_unlocated = findings
                .iter()
                .filter(|f| f.location.line.is_none())
                .count();
            if got != want || got_unlocated != want_unlocated {
                let msgs: Vec<String> = findings
                    .iter()
                    .map(|f| format!("{:?}: {}", f.location.line, f.message))
                    .collect();
                problems.push(format!("{where_}: expected findings on lines {want:?} (+{want_unlocated} unlocated), got {got:?} (+{got_unlocated}): {msgs:#?}"));
            }
        } else if name.starts_with("pass") {
            has_pass = true;
            if !findings.is_empty() {
                let msgs: Vec<String> = findings
                    .iter()
                    .map(|f| format!("{:?}: {}", f.location.line, f.message))
                    .collect();
                problems.push(format!("{where_}: expected no finding, got {msgs:#?}"));
            }
            if r.passed == 0 {
                problems.push(format!(
                    "{where_}: nothing passed (the rule evaluated nothing: {:?})",
                    report.coverage.not_evaluated
                ));
            }
        } else if name.starts_with("not-evaluated") {
            if r.passed + r.failed > 0 || r.not_evaluated == 0 {
                problems.push(format!("{where_}: expected not-evaluated only, got passed {} failed {} not-evaluated {}", r.passed, r.failed, r.not_evaluated));
            }
        } else {
            problems.push(format!(
                "{where_}: fixture names start with pass, fail or not-evaluated"
            ));
        }
    }
    if !has_pass || !has_fail {
        problems.push(format!("{rule}: needs both pass and fail fixtures"));
    }
}

#[test]
fn every_rule_matches_its_fixtures() {
    let root = repo_root().join("fixtures/rules");
    let mut problems = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for dir in &dirs {
        let rule = dir.file_name().unwrap().to_string_lossy().to_string();
        check_rule(dir, &rule, &mut problems);
    }
    println!(
        "{} rules checked against fixtures, {} problems",
        dirs.len(),
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
