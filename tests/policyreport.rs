//! `-f policyreport`: one Report per namespace and a ClusterReport, valid
//! against the upstream CRD schemas shipped in fixtures/policyreport/crds
//! (made strict: a field the CRD does not declare would be pruned by the
//! API server, so it is an error here), for both APIs.

mod common;
use chrono::NaiveDate;
use common::*;
use kready::report::policyreport::{self, PolicyReportApi};
use kready::report::Report;
use kready::scan::{self, Selection};
use kready::settings::Settings;
use kready::suppress::{self, Options};
use kready::yaml::{load, Limits};
use serde_json::Value;
use std::collections::BTreeMap;

fn report() -> Report {
    let settings = Settings {
        cluster_profile: true,
        ..Settings::default()
    };
    let sel = Selection {
        only: [
            "privileged-container",
            "single-replica",
            "namespace-default-deny-missing",
            "backup-tool-missing",
        ]
        .map(String::from)
        .to_vec(),
        skip: vec![],
    };
    let rules = scan::select_rules(&sel, &settings).unwrap();
    let input = repo_root().join("fixtures/policyreport/input.yaml");
    // Relative file names, as a scan from the repository root reports them.
    let mut s = scan::scan_paths(
        &[input.display().to_string()],
        &settings,
        rules,
        &Limits::default(),
    );
    suppress::apply(
        &mut s,
        &[],
        &Options::new(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()),
    );
    s.report(&settings)
}

/// The CRD's openAPIV3Schema as a strict JSON Schema, by kind.
fn crd_schemas() -> BTreeMap<String, (String, bool, Value)> {
    let dir = repo_root().join("fixtures/policyreport/crds");
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        let crd = load(&text, &Limits::default())
            .docs
            .remove(0)
            .root
            .to_json();
        let spec = &crd["spec"];
        let version = &spec["versions"][0];
        let api = format!(
            "{}/{}",
            spec["group"].as_str().unwrap(),
            version["name"].as_str().unwrap()
        );
        let mut schema = version["schema"]["openAPIV3Schema"].clone();
        strict(&mut schema);
        out.insert(
            spec["names"]["kind"].as_str().unwrap().to_string(),
            (api, spec["scope"] == "Namespaced", schema),
        );
    }
    assert_eq!(out.len(), 4, "four CRDs");
    out
}

/// Every object schema with declared properties rejects undeclared ones.
fn strict(v: &mut Value) {
    if let Value::Object(m) = v {
        if m.contains_key("properties") && !m.contains_key("additionalProperties") {
            m.insert("additionalProperties".into(), Value::Bool(false));
        }
        for (_, child) in m.iter_mut() {
            strict(child);
        }
    } else if let Value::Array(a) = v {
        a.iter_mut().for_each(strict);
    }
}

fn dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !p.starts_with('-')
                && !p.ends_with('-')
        })
}

fn validate(docs: &[Value], api: &str) {
    let schemas = crd_schemas();
    for d in docs {
        let kind = d["kind"].as_str().unwrap();
        let (want_api, namespaced, schema) = &schemas[kind];
        assert_eq!(d["apiVersion"], *want_api);
        assert_eq!(want_api, api);
        let v = jsonschema::validator_for(schema).unwrap();
        let errors: Vec<String> = v
            .iter_errors(d)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(
            errors.is_empty(),
            "{kind} invalid:\n{}\n{d:#}",
            errors.join("\n")
        );
        assert!(dns_subdomain(d["metadata"]["name"].as_str().unwrap()));
        assert_eq!(d["metadata"]["namespace"].is_string(), *namespaced, "{d:#}");
        for (k, val) in d["metadata"]["labels"].as_object().unwrap() {
            assert!(k.len() <= 253 && val.as_str().unwrap().len() <= 63);
        }
    }
}

fn results_by_policy(d: &Value) -> Vec<(String, String, String)> {
    d["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["policy"].as_str().unwrap().to_string(),
                r["result"].as_str().unwrap().to_string(),
                r["resources"][0]["name"]
                    .as_str()
                    .unwrap_or("-")
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn openreports_reports_per_namespace_and_cluster() {
    let r = report();
    let docs = policyreport::build(&r, PolicyReportApi::OpenReports);
    validate(&docs, "openreports.io/v1alpha1");
    let kinds: Vec<(&str, &str)> = docs
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap(),
                d["metadata"]["namespace"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("Report", "payments"),
            ("Report", "shop"),
            ("ClusterReport", "")
        ]
    );

    let payments = &docs[0];
    let mut got = results_by_policy(payments);
    got.sort();
    assert_eq!(
        got,
        [
            // No Namespace object: the finding points at the first workload.
            (
                "namespace-default-deny-missing".into(),
                "fail".into(),
                "worker".into()
            ),
            (
                "privileged-container".into(),
                "skip".into(),
                "worker".into()
            ),
        ]
    );
    assert_eq!(payments["summary"]["fail"], 1);
    assert_eq!(payments["summary"]["skip"], 1);
    // single-replica passes on the worker (3 replicas); its suppressed
    // privileged-container failure is a skip, not a pass.
    assert_eq!(payments["summary"]["pass"], 1);
    let skipped = payments["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["result"] == "skip")
        .unwrap();
    assert_eq!(skipped["scored"], false);
    assert_eq!(skipped["properties"]["suppression"], "annotation");
    assert_eq!(
        skipped["properties"]["justification"],
        "needs /dev/kvm for sandboxing; SEC-311"
    );

    let shop = &docs[1];
    assert_eq!(shop["scope"]["kind"], "Namespace");
    assert_eq!(shop["summary"]["fail"], 3);
    assert_eq!(shop["summary"]["pass"], 0);
    let priv_ = shop["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["policy"] == "privileged-container")
        .unwrap();
    assert_eq!(priv_["category"], "security");
    assert_eq!(priv_["severity"], "critical");
    assert_eq!(priv_["source"], "kready");
    assert_eq!(priv_["resources"][0]["kind"], "Deployment");
    assert_eq!(priv_["resources"][0]["apiVersion"], "apps/v1");
    assert_eq!(priv_["resources"][0]["namespace"], "shop");
    assert_eq!(
        priv_["properties"]["path"],
        "spec.template.spec.containers[0].securityContext.privileged"
    );
    assert_eq!(priv_["properties"]["line"], "35");
    assert!(priv_["message"].as_str().unwrap().contains("privileged"));

    let cluster = &docs[2];
    assert_eq!(
        results_by_policy(cluster),
        [("backup-tool-missing".into(), "fail".into(), "-".into())]
    );
    assert_eq!(cluster["results"][0]["category"], "disaster-recovery");
}

#[test]
fn wgpolicy_v1alpha2_on_request() {
    let r = report();
    let docs = policyreport::build(&r, PolicyReportApi::WgPolicyV1Alpha2);
    validate(&docs, "wgpolicyk8s.io/v1alpha2");
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["PolicyReport", "PolicyReport", "ClusterPolicyReport"]
    );
    // The v1alpha2 CRD knows high/medium/low only: critical maps to high,
    // and the exact severity stays in the properties.
    let priv_ = docs[1]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["policy"] == "privileged-container")
        .unwrap();
    assert_eq!(priv_["severity"], "high");
    assert_eq!(priv_["properties"]["kreadySeverity"], "critical");
}

/// Passing checks are counted per namespace: a namespace where every
/// check passed gets a report with no results, and the cluster report is
/// always written.
#[test]
fn no_findings_still_writes_a_cluster_report() {
    let settings = Settings::default();
    let sel = Selection {
        only: vec!["privileged-container".into()],
        skip: vec![],
    };
    let rules = scan::select_rules(&sel, &settings).unwrap();
    let pass = repo_root().join("fixtures/rules/privileged-container/pass.yaml");
    let r = scan_report(&[pass.display().to_string()], &settings, rules);
    for api in [
        PolicyReportApi::OpenReports,
        PolicyReportApi::WgPolicyV1Alpha2,
    ] {
        let docs = policyreport::build(&r, api);
        validate(&docs, api.api_version());
        assert_eq!(docs.len(), 2);
        // The Pod and the CronJob of the fixture, both in `default`.
        assert_eq!(docs[0]["metadata"]["namespace"], "default");
        assert_eq!(docs[0]["summary"]["pass"], 2);
        assert_eq!(docs[1]["summary"]["pass"], 0);
        for d in &docs {
            assert_eq!(d["summary"]["fail"], 0);
            assert_eq!(d["results"], serde_json::json!([]));
        }
    }
}

/// Rules that were not evaluated are said in the cluster-wide report: a
/// `skip` result each, the reason as the message, counted in its summary;
/// the reports stay valid against the CRDs.
#[test]
fn not_evaluated_rules_are_skip_results_of_the_cluster_report() {
    // Static input without --cluster-profile: the cluster rule is not
    // evaluated.
    let settings = Settings::default();
    let sel = Selection {
        only: vec!["privileged-container".into(), "backup-tool-missing".into()],
        skip: vec![],
    };
    let rules = scan::select_rules(&sel, &settings).unwrap();
    let input = repo_root().join("fixtures/policyreport/input.yaml");
    let r = scan_report(&[input.display().to_string()], &settings, rules);
    let ne = &r.coverage.not_evaluated;
    assert_eq!(
        ne.iter().map(|n| n.rule.as_str()).collect::<Vec<_>>(),
        ["backup-tool-missing"]
    );
    for api in [
        PolicyReportApi::OpenReports,
        PolicyReportApi::WgPolicyV1Alpha2,
    ] {
        let docs = policyreport::build(&r, api);
        validate(&docs, api.api_version());
        let cluster = docs.last().unwrap();
        let skips: Vec<&Value> = cluster["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["properties"].get("notEvaluated").is_some())
            .collect();
        assert_eq!(skips.len(), 1);
        assert_eq!(skips[0]["policy"], "backup-tool-missing");
        assert_eq!(skips[0]["result"], "skip");
        assert_eq!(skips[0]["scored"], false);
        assert_eq!(skips[0]["message"], ne[0].reason.as_str());
        assert_eq!(skips[0]["category"], "disaster-recovery");
        let suppressed = r
            .findings
            .iter()
            .filter(|f| {
                f.suppression.is_some()
                    && f.object.as_ref().is_none_or(|o| o.namespace.is_none())
                    && f.namespace.is_none()
            })
            .count();
        assert_eq!(cluster["summary"]["skip"], suppressed + 1);
        // Namespaced reports hold no such results.
        for d in &docs[..docs.len() - 1] {
            assert!(d["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x["properties"].get("notEvaluated").is_none()));
        }
        // The streamed YAML reads back as these values.
        let text = policyreport::render(&r, api);
        let back: Vec<Value> = load(&text, &Limits::default())
            .docs
            .iter()
            .map(|d| d.root.to_json())
            .collect();
        assert_eq!(back, docs);
    }
}

#[test]
fn yaml_output_reads_back_as_the_reports() {
    let r = report();
    for api in [
        PolicyReportApi::OpenReports,
        PolicyReportApi::WgPolicyV1Alpha2,
    ] {
        let text = policyreport::render(&r, api);
        let loaded = load(&text, &Limits::default());
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        let back: Vec<Value> = loaded.docs.iter().map(|d| d.root.to_json()).collect();
        assert_eq!(back, policyreport::build(&r, api));
    }
}

#[test]
fn snapshot() {
    let text = policyreport::render(&report(), PolicyReportApi::OpenReports);
    // Paths are absolute in this test: keep the snapshot machine-independent.
    let root = format!("{}/", repo_root().display());
    let text = text
        .replace(&root, "")
        .replace(env!("CARGO_PKG_VERSION"), "VERSION");
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("policyreport_openreports", text);
    });
}

#[test]
fn cli_writes_policyreports() {
    let input = repo_root().join("fixtures/policyreport/input.yaml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kready"))
        .args([
            "scan",
            &input.display().to_string(),
            "--only",
            "privileged-container",
            "-f",
            "policyreport",
            "--policyreport-api",
            "wgpolicyk8s.io/v1alpha2",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("---\napiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\n"),
        "{text}"
    );
    let docs: Vec<Value> = load(&text, &Limits::default())
        .docs
        .iter()
        .map(|d| d.root.to_json())
        .collect();
    validate(&docs, "wgpolicyk8s.io/v1alpha2");
}
