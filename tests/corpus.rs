//! The real-world corpus (`../shared/corpus`, manifests of 18 projects):
//! every valid file loads, nothing panics, and the SARIF is valid.

mod common;
use common::*;
use kready::report;
use kready::scan::{self, Selection};
use kready::settings::Settings;

#[test]
fn corpus_scans_without_errors_and_valid_sarif() {
    let corpus = shared().join("corpus");
    assert!(corpus.is_dir(), "{} is missing", corpus.display());
    let settings = Settings::default();
    let rules = scan::select_rules(&Selection::default(), &settings).unwrap();
    let r = scan_report(&[corpus.display().to_string()], &settings, rules);
    let errors: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.level == kready::diagnostic::Level::Error)
        .collect();
    assert!(
        errors.is_empty(),
        "valid corpus files gave errors: {errors:#?}"
    );
    assert_eq!(r.summary.input.files, 1441);
    assert_eq!(
        r.summary.input.documents, 3129,
        "every non-empty document of the corpus (MANIFEST.md)"
    );
    assert!(
        r.findings
            .iter()
            .all(|f| f.location.file.is_none() || f.location.line.is_some()),
        "findings in files have a line"
    );
    let sarif: serde_json::Value = serde_json::from_str(&report::sarif::render(&r)).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(shared().join("schemas/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errs: Vec<String> = v
        .iter_errors(&sarif)
        .take(10)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errs.is_empty(), "corpus SARIF invalid: {errs:#?}");
}
