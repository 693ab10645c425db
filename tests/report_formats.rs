//! Every output format on the bundled example: JSON against our schema,
//! SARIF against the SARIF 2.1.0 schema plus GitHub's conventions, and
//! insta snapshots of all formats (stored in `snapshots/`).

mod common;
use common::*;
use kready::report::{self, Report};
use kready::scan::{self, Selection};
use kready::settings::Settings;
use serde_json::Value;

pub fn example_report() -> Report {
    let settings = Settings::default();
    let rules = scan::select_rules(&Selection::default(), &settings).unwrap();
    scan_report(&["fixtures/examples/shop".to_string()], &settings, rules)
}

fn schema(path: &std::path::Path) -> jsonschema::Validator {
    let s: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&s).unwrap()
}

pub fn assert_valid(validator: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .take(20)
        .collect();
    assert!(
        errors.is_empty(),
        "{what} is invalid:\n{}",
        errors.join("\n")
    );
}

/// Reports of every shape the streaming writers must get right: findings;
/// diagnostics plus skipped files (broken input); no findings at all.
fn varied_reports() -> [Report; 3] {
    let settings = Settings::default();
    let rules = || scan::select_rules(&Selection::default(), &settings).unwrap();
    let hostile = || vec!["fixtures/hostile".to_string()];
    let reports = [
        example_report(),
        scan_report(&hostile(), &settings, rules()),
        scan_report(&hostile(), &settings, Vec::new()),
    ];
    assert!(!reports[0].findings.is_empty());
    assert!(!reports[1].diagnostics.is_empty() && !reports[1].skipped.is_empty());
    assert!(reports[2].findings.is_empty());
    reports
}

/// The JSON writer renders findings in parallel, field by field: its text
/// must be exactly what serde_json writes for the whole report.
#[test]
fn json_is_serde_json_pretty_text() {
    for r in &varied_reports() {
        let want = serde_json::to_string_pretty(r).unwrap() + "\n";
        assert_eq!(report::json::render(r), want);
    }
}

/// The SARIF writer streams the results in parallel batches into the
/// text of a document made without them: its text must be exactly what
/// serde_json writes for the whole document.
#[test]
fn sarif_is_serde_json_pretty_text() {
    for r in &varied_reports() {
        for max in [None, Some(0), Some(1), Some(5), Some(r.findings.len())] {
            let want =
                serde_json::to_string_pretty(&report::sarif::document(r, max)).unwrap() + "\n";
            let mut got = Vec::new();
            report::sarif::write(r, max, &mut got).unwrap();
            assert_eq!(String::from_utf8(got).unwrap(), want, "cap {max:?}");
        }
        assert_eq!(
            report::sarif::render(r),
            serde_json::to_string_pretty(&report::sarif::document(r, None)).unwrap() + "\n"
        );
    }
}

/// Where code scanning shows a tool's own messages, a SARIF file says which
/// rules were not evaluated and why (and the coverage is in the run's
/// properties, as in the JSON report); a capped file also says how many
/// findings it left out, first.
#[test]
fn sarif_says_what_it_does_not_hold() {
    let r = example_report();
    assert!(!r.coverage.not_evaluated.is_empty());
    let notes = |doc: &Value| -> Vec<(String, String)> {
        doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["level"].as_str().unwrap().to_string(),
                    n["message"]["text"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let doc: Value = serde_json::from_str(&report::sarif::render(&r)).unwrap();
    let uncapped = notes(&doc);
    assert_eq!(uncapped.len(), r.coverage.not_evaluated.len());
    for (n, (level, text)) in r.coverage.not_evaluated.iter().zip(&uncapped) {
        assert_eq!(level, "note");
        assert!(
            text.starts_with(&format!("{} not evaluated", n.rule)) && text.ends_with(&n.reason),
            "{text}"
        );
    }
    let json: Value = serde_json::from_str(&report::json::render(&r)).unwrap();
    assert_eq!(
        doc["runs"][0]["properties"]["kready/coverage"],
        json["coverage"]
    );

    let mut text = Vec::new();
    let omitted = report::sarif::write(&r, Some(3), &mut text).unwrap();
    assert_eq!(omitted, r.findings.len() - 3);
    let doc: Value = serde_json::from_slice(&text).unwrap();
    assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), 3);
    let capped = notes(&doc);
    assert_eq!(capped[0].0, "warning");
    let want = format!(
        "{} of {} findings are not in this file",
        r.findings.len() - 3,
        r.findings.len()
    );
    assert!(capped[0].1.starts_with(&want), "{}", capped[0].1);
    assert_eq!(capped[1..], uncapped[..]);
    let sarif_schema = schema(&shared().join("schemas/sarif-schema-2.1.0.json"));
    assert_valid(&sarif_schema, &doc, "capped SARIF");
}

#[test]
fn json_matches_the_report_schema() {
    let r = example_report();
    let doc: Value = serde_json::from_str(&report::json::render(&r)).unwrap();
    assert_eq!(doc["schema"], "kready.report/v1");
    assert_valid(
        &schema(&repo_root().join("schemas/kready-report-v1.schema.json")),
        &doc,
        "JSON report",
    );
    assert!(
        doc["findings"].as_array().unwrap().len() > 3,
        "the example has findings"
    );
}

/// Splits `spec.containers[0]["a.b/c"].image` into its key segments.
fn path_keys(path: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("[\"") {
            let end = r.find("\"]").unwrap();
            keys.push(r[..end].to_string());
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix('[') {
            rest = &r[r.find(']').unwrap() + 1..];
        } else {
            let r = rest.strip_prefix('.').unwrap_or(rest);
            let end = r.find(['.', '[']).unwrap_or(r.len());
            keys.push(r[..end].to_string());
            rest = &r[end..];
        }
    }
    keys
}

/// SARIF results must point at the failing field: the source text at
/// (startLine, startColumn) is one of the keys of the field path (the
/// field, or its nearest existing parent) or a sequence item.
pub fn assert_regions_hit_fields(sarif: &Value) {
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    for r in results {
        let loc = &r["locations"][0];
        let Some(uri) = loc["physicalLocation"]["artifactLocation"]["uri"].as_str() else {
            continue;
        };
        assert!(
            !uri.starts_with('/') && !uri.starts_with("file:"),
            "URI must be repository-relative: {uri}"
        );
        let region = &loc["physicalLocation"]["region"];
        let (line, col) = (
            region["startLine"].as_u64().unwrap() as usize,
            region["startColumn"].as_u64().unwrap() as usize,
        );
        let fqn = loc["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap_or("");
        let path = fqn.split_once(':').map(|(_, p)| p).unwrap_or("");
        let text = std::fs::read_to_string(repo_root().join(uri))
            .or_else(|_| std::fs::read_to_string(uri))
            .unwrap();
        let src_line = text
            .lines()
            .nth(line - 1)
            .unwrap_or_else(|| panic!("{uri}:{line} does not exist"));
        let at: String = src_line.chars().skip(col - 1).collect();
        let keys = path_keys(path);
        let hits_key = keys
            .iter()
            .any(|k| at.starts_with(k.as_str()) || at.starts_with(&format!("\"{k}\"")));
        let is_item = src_line.trim_start().starts_with("- ") || path.ends_with(']');
        assert!(
            hits_key || is_item || keys.is_empty(),
            "{uri}:{line}:{col} `{}` is not the field {path} ({})",
            src_line.trim(),
            r["ruleId"]
        );
    }
}

#[test]
fn sarif_is_valid_and_located() {
    let r = example_report();
    let doc: Value = serde_json::from_str(&report::sarif::render(&r)).unwrap();
    let sarif_schema = schema(&shared().join("schemas/sarif-schema-2.1.0.json"));
    assert_valid(&sarif_schema, &doc, "SARIF");
    // The validator really validates: a wrong version and a bad level are rejected.
    let mut broken = doc.clone();
    broken["version"] = "9.9".into();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(sarif_schema.iter_errors(&broken).count() >= 2);
    let run = &doc["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "kready");
    for rule in run["tool"]["driver"]["rules"].as_array().unwrap() {
        let sev = rule["properties"]["security-severity"].as_str().unwrap();
        assert!(
            sev.parse::<f64>().is_ok(),
            "security-severity is a number string"
        );
        assert!(rule["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("```yaml"));
        assert!(rule["helpUri"].as_str().unwrap().starts_with("https://"));
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), r.findings.len());
    for res in results {
        assert!(res["partialFingerprints"]["kready/v1"].is_string());
    }
    assert_regions_hit_fields(&doc);
}

#[test]
fn sarif_without_findings_has_an_empty_results_array() {
    let settings = Settings::default();
    let rules = only("privileged-container", &settings);
    let r = scan_report(
        &["fixtures/rules/privileged-container/pass.yaml".to_string()],
        &settings,
        rules,
    );
    let doc: Value = serde_json::from_str(&report::sarif::render(&r)).unwrap();
    assert_eq!(doc["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn fingerprints_ignore_line_moves() {
    let dir = tempfile::tempdir().unwrap();
    let original =
        std::fs::read_to_string(repo_root().join("fixtures/examples/shop/cart.yaml")).unwrap();
    let a = dir.path().join("a.yaml");
    std::fs::write(&a, &original).unwrap();
    let settings = Settings::default();
    let rules = || scan::select_rules(&Selection::default(), &settings).unwrap();
    let before = scan_report(&[a.display().to_string()], &settings, rules());
    std::fs::write(&a, format!("# a new comment\n# and another\n{original}")).unwrap();
    let after = scan_report(&[a.display().to_string()], &settings, rules());
    let fp = |r: &Report| {
        r.findings
            .iter()
            .map(|f| f.fingerprint.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(fp(&before), fp(&after));
    assert_ne!(
        before.findings[0].location.line,
        after.findings[0].location.line
    );
}

#[test]
fn snapshots_of_every_format() {
    let r = example_report();
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("shop.table", report::table::render(&r, false));
        insta::assert_snapshot!("shop.json", report::json::render(&r));
        insta::assert_snapshot!("shop.sarif", report::sarif::render(&r));
        insta::assert_snapshot!("shop.markdown", report::markdown::render(&r));
    });
}
