//! The real-world corpus (`../shared/corpus`, manifests of 18 projects):
//! every valid file loads, nothing panics, the SARIF is valid and the
//! streamed SARIF and PolicyReport text is what their values say.

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
    use kready::diagnostic::{code, Level};
    // No valid YAML file fails to load.
    let errors: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error && d.code != code::SCHEMA_INVALID)
        .collect();
    assert!(
        errors.is_empty(),
        "valid corpus files gave errors: {errors:#?}"
    );
    // Schema errors: exactly these objects, each reviewed as really invalid
    // (the API server or `kubectl apply` rejects them; docs/corpus-review.md).
    let mut schema: Vec<String> = r
        .diagnostics
        .iter()
        .filter(|d| d.code == code::SCHEMA_INVALID)
        .map(|d| {
            format!(
                "{}:{}",
                d.file
                    .split_once("corpus/")
                    .map(|(_, f)| f)
                    .unwrap_or(&d.file),
                d.pos.map(|p| p.line).unwrap_or(0)
            )
        })
        .collect();
    schema.sort();
    assert_eq!(
        schema,
        [
            "ingress-nginx/docs/examples/auth/oauth-external-auth/vouch-proxy.yaml:21", // env value `true`: a boolean, not a string
            "ingress-nginx/docs/examples/customization/ssl-dh-param/ssl-dh-param.yaml:3", // Secret data that is not base64
            "kubernetes-examples/_archived/volumes/fibre_channel/fc.yaml:17", // lun: "<ADD LUN ID Here>"
            "kubernetes-examples/_archived/volumes/rbd/rbd.yaml:25", // unknown field imageformat
            "kubernetes-examples/_archived/volumes/scaleio/pod.yaml:17", // typo: protectionDoamin
            "kubernetes-examples/_archived/volumes/storageos/storageos-pod.yaml:35", // unknown field pool
            "kubernetes-examples/_archived/volumes/storageos/storageos-pv.yaml:22", // unknown field secretName
        ]
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
    // Thousands of findings: the streamed SARIF spans several batches.
    let text = report::sarif::render(&r);
    assert_eq!(
        text,
        serde_json::to_string_pretty(&report::sarif::document(&r, None)).unwrap() + "\n"
    );
    let sarif: serde_json::Value = serde_json::from_str(&text).unwrap();
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
    // The streamed PolicyReport YAML (many batches of text) reads back as
    // the reports' values.
    let api = report::policyreport::PolicyReportApi::OpenReports;
    let text = report::policyreport::render(&r, api);
    let loaded = kready::yaml::load(&text, &kready::yaml::Limits::default());
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let back: Vec<serde_json::Value> = loaded.docs.iter().map(|d| d.root.to_json()).collect();
    assert_eq!(back, report::policyreport::build(&r, api));
}
