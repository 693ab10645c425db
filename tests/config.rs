//! `.kready.yaml`: strict loading with positioned errors, the JSON Schema
//! agreeing with the loader, settings and rule selection from the file,
//! discovery, `kready init`, and the CLI's precedence and exit codes.

mod common;
use common::*;
use kready::catalog::Severity;
use kready::config::{self, FailOn};
use kready::scan::{self, Selection};
use kready::settings::{KubeVersion, PssLevel, Settings, Thresholds};
use kready::yaml::{load, Limits};
use std::path::{Path, PathBuf};
use std::process::Command;

fn dir(sub: &str) -> PathBuf {
    repo_root().join("fixtures/config").join(sub)
}

fn files(sub: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".kready.yaml"))
        .collect();
    v.sort();
    v
}

/// `# error(COL): text` on the line where the error must be reported.
fn expected_error(text: &str) -> (u32, u32, String) {
    for (i, l) in text.lines().enumerate() {
        if let Some(rest) = l.split("# error(").nth(1) {
            let (col, msg) = rest.split_once("):").expect("# error(COL): text");
            return (i as u32 + 1, col.parse().unwrap(), msg.trim().to_string());
        }
    }
    panic!("no `# error(COL): text` marker");
}

#[test]
fn invalid_configs_are_errors_at_the_right_place() {
    let mut problems = Vec::new();
    for f in files("invalid") {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&f).unwrap();
        let (line, col, msg) = expected_error(&text);
        match config::parse(&text, name.as_str().into()) {
            Ok(_) => problems.push(format!("{name}: loaded without error")),
            Err(e) => {
                let hit = e.diagnostics.iter().any(|d| {
                    d.pos.is_some_and(|p| p.line == line && p.column == col)
                        && d.message.contains(&msg)
                });
                if !hit {
                    problems.push(format!(
                        "{name}: want {line}:{col} `{msg}`, got {:?}",
                        e.diagnostics
                            .iter()
                            .map(|d| (d.pos.map(|p| (p.line, p.column)), &d.message))
                            .collect::<Vec<_>>()
                    ));
                }
                let rendered = e.render(false);
                if !rendered.contains(&format!("{name}:{line}:{col}"))
                    || !rendered.contains(config::CODE_INVALID)
                {
                    problems.push(format!("{name}: rendering lacks file:line:col\n{rendered}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn valid_configs_load() {
    for f in files("valid") {
        config::load_file(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }
}

fn schema() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(repo_root().join("schemas/kready-config.schema.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&v).unwrap()
}

fn yaml_json(text: &str) -> serde_json::Value {
    load(text, &Limits::default())
        .docs
        .first()
        .map(|d| d.root.to_json())
        .unwrap_or(serde_json::Value::Null)
}

#[test]
fn json_schema_agrees_with_the_loader() {
    let v = schema();
    let mut problems = Vec::new();
    for f in files("valid") {
        let j = yaml_json(&std::fs::read_to_string(&f).unwrap());
        for e in v.iter_errors(&j) {
            problems.push(format!(
                "{}: schema rejects a valid config: {e}",
                f.display()
            ));
        }
    }
    let t = yaml_json(config::TEMPLATE);
    for e in v.iter_errors(&t) {
        problems.push(format!("the init template: {e}"));
    }
    for f in files("invalid") {
        let text = std::fs::read_to_string(&f).unwrap();
        if text.contains("# schema: misses") {
            continue;
        }
        if v.is_valid(&yaml_json(&text)) {
            problems.push(format!("{}: schema accepts an invalid config", f.display()));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn schema_lists_every_threshold() {
    let text =
        std::fs::read_to_string(repo_root().join("schemas/kready-config.schema.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut in_schema: Vec<String> = v["properties"]["thresholds"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut in_code: Vec<String> = serde_json::to_value(Thresholds::default())
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    in_schema.sort();
    in_code.sort();
    assert_eq!(
        in_schema, in_code,
        "schemas/kready-config.schema.json thresholds"
    );
}

#[test]
fn every_key_reaches_settings_and_selection() {
    let c = config::load_file(&dir("valid/full.kready.yaml")).unwrap();
    let mut s = Settings::default();
    c.apply_settings(&mut s);
    assert_eq!(s.kubernetes_version, KubeVersion::new(1, 30));
    assert_eq!(s.pss_level, PssLevel::Baseline);
    assert_eq!(s.pss_version, Some(KubeVersion::new(1, 29)));
    assert!(s.cluster_profile);
    assert_eq!(s.thresholds.min_replicas, 3);
    assert_eq!(s.thresholds.min_user_id, 20000);
    assert_eq!(s.thresholds.max_limit_request_ratio, 2.5);
    assert_eq!(s.thresholds.min_backup_retention_days, 30.0);
    assert_eq!(s.thresholds.allowed_registries.len(), 2);
    assert_eq!(s.thresholds.max_node_overcommit, 1.5);
    assert_eq!(c.config.fail_on, Some(FailOn::Medium));
    assert_eq!(c.config.min_score, Some(75.5));
    assert_eq!(c.exemptions.len(), 2);

    let rules = scan::select_rules_with(&Selection::default(), &c.rule_overrides(), &s).unwrap();
    let has = |id: &str| rules.iter().find(|r| r.meta.id == id);
    assert!(has("single-replica").is_none(), "disabled by ID");
    assert!(has("privileged-container").is_some());
    assert_eq!(
        has("privileged-container").unwrap().severity,
        Severity::Medium
    );
    assert_eq!(
        has("privileged-container").unwrap().meta.severity,
        Severity::Critical
    );
    if let Some(p) = has("pdb-missing") {
        assert_eq!(p.severity, Severity::High);
    }
    assert!(rules
        .iter()
        .all(|r| r.meta.pillar.as_str() != "performance" || r.meta.id == "memory-limit-missing"));
    assert!(
        has("memory-limit-missing").is_some(),
        "enabled by ID beats the disabled pillar"
    );

    // `--only` names a rule the file disables: the flag wins.
    let only = Selection {
        only: vec!["single-replica".into()],
        skip: vec![],
    };
    let rules = scan::select_rules_with(&only, &c.rule_overrides(), &s).unwrap();
    assert_eq!(rules.len(), 1);
}

#[test]
fn partial_thresholds_keep_the_other_defaults() {
    let c = config::parse("thresholds:\n  minReplicas: 3\n", ".kready.yaml".into()).unwrap();
    let mut s = Settings::default();
    c.apply_settings(&mut s);
    assert_eq!(s.thresholds.min_replicas, 3);
    assert_eq!(s.thresholds.min_user_id, Thresholds::default().min_user_id);
}

#[test]
fn overridden_severity_drives_findings_and_score_weight() {
    let c = config::parse(
        "rules:\n  severity:\n    privileged-container: low\n",
        ".kready.yaml".into(),
    )
    .unwrap();
    let s = Settings::default();
    let sel = Selection {
        only: vec!["privileged-container".into()],
        skip: vec![],
    };
    let rules = scan::select_rules_with(&sel, &c.rule_overrides(), &s).unwrap();
    let f = repo_root().join("fixtures/rules/privileged-container/fail.yaml");
    let r = scan_report(&[f.display().to_string()], &s, rules);
    assert!(r.findings.iter().all(|f| f.severity == Severity::Low));
    assert_eq!(r.rules[0].severity, Severity::Low);
    let sarif = kready::report::sarif::render(&r);
    assert!(sarif.contains("\"security-severity\": \"3.0\""), "{sarif}");
}

// ---- discovery and the command line ----

fn kready(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kready"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn privileged_fixture() -> String {
    repo_root()
        .join("fixtures/rules/privileged-container/fail.yaml")
        .display()
        .to_string()
}

#[test]
fn discovers_the_config_in_a_parent_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let sub = tmp.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    let f = privileged_fixture();
    let args = [
        "scan",
        f.as_str(),
        "--only",
        "privileged-container",
        "-f",
        "json",
    ];
    assert_eq!(
        kready(&sub, &args).0,
        1,
        "critical findings fail by default"
    );
    std::fs::write(tmp.path().join(".kready.yaml"), "failOn: never\n").unwrap();
    assert_eq!(
        kready(&sub, &args).0,
        0,
        "failOn from the parent's .kready.yaml"
    );
    // A nearer file wins.
    std::fs::write(tmp.path().join("a/.kready.yml"), "failOn: critical\n").unwrap();
    assert_eq!(kready(&sub, &args).0, 1);
    // Flags win over the file.
    let mut with_flag = args.to_vec();
    with_flag.extend(["--fail-on", "never"]);
    assert_eq!(kready(&sub, &with_flag).0, 0);
    // --config names another file.
    let other = tmp.path().join("other.yaml");
    std::fs::write(&other, "failOn: never\n").unwrap();
    let o = other.display().to_string();
    let mut with_config = args.to_vec();
    with_config.extend(["--config", o.as_str()]);
    assert_eq!(kready(&sub, &with_config).0, 0);
    with_config.pop();
    with_config.push("/nonexistent/kready.yaml");
    assert_eq!(kready(&sub, &with_config).0, 2);
}

#[test]
fn a_config_error_is_exit_2_with_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join(".kready.yaml"),
        "rules:\n  disable: [single-replica]\nthreshold:\n  minReplicas: 3\n",
    )
    .unwrap();
    let f = privileged_fixture();
    let (code, stdout, stderr) = kready(tmp.path(), &["scan", f.as_str()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "nothing is scanned with a broken config");
    assert!(stderr.contains(".kready.yaml:3:1"), "{stderr}");
    assert!(stderr.contains("unknown field `threshold`"), "{stderr}");
    assert!(stderr.contains("3 │ threshold:"), "code frame: {stderr}");
}

#[test]
fn init_writes_a_config_that_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, stderr) = kready(tmp.path(), &["init"]);
    assert_eq!(code, 0, "{stderr}");
    let path = tmp.path().join(".kready.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, config::TEMPLATE);
    config::load_file(&path).unwrap();
    // Never overwrites by accident.
    assert_eq!(kready(tmp.path(), &["init"]).0, 2);
    assert_eq!(kready(tmp.path(), &["init", "--force"]).0, 0);
    let (code, stdout, _) = kready(tmp.path(), &["init", "-o", "-"]);
    assert_eq!((code, stdout.as_str()), (0, config::TEMPLATE));
    // And a scan with it behaves like no config at all.
    let f = privileged_fixture();
    let args = ["scan", f.as_str(), "-f", "json"];
    let with = kready(tmp.path(), &args);
    std::fs::remove_file(&path).unwrap();
    let without = kready(tmp.path(), &args);
    assert_eq!(with.0, without.0);
    assert_eq!(with.1, without.1);
}

#[test]
fn cli_suppression_flags_and_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = |p: &str| {
        repo_root()
            .join("fixtures/suppress")
            .join(p)
            .display()
            .to_string()
    };
    let system = fx("system.yaml");
    let base = [
        "scan",
        system.as_str(),
        "--only",
        "privileged-container",
        "-f",
        "json",
    ];
    let json = |s: &str| -> serde_json::Value { serde_json::from_str(s).unwrap() };

    let (_, out, _) = kready(tmp.path(), &base);
    assert_eq!(json(&out)["summary"]["suppressed"], 3);
    let mut no_defaults = base.to_vec();
    no_defaults.push("--no-default-exemptions");
    let (_, out, _) = kready(tmp.path(), &no_defaults);
    assert_eq!(json(&out)["summary"]["suppressed"], 0);

    let ann = fx("annotations.yaml");
    let a = [
        "scan",
        ann.as_str(),
        "--only",
        "privileged-container",
        "-f",
        "json",
    ];
    let (_, out, stderr) = kready(tmp.path(), &a);
    assert!(json(&out)["summary"]["suppressed"].as_u64().unwrap() >= 4);
    assert!(stderr.contains("suppression-invalid"), "{stderr}");
    let mut no_inline = a.to_vec();
    no_inline.push("--no-inline-suppressions");
    let (_, out, stderr) = kready(tmp.path(), &no_inline);
    assert_eq!(json(&out)["summary"]["suppressed"], 0);
    assert!(!stderr.contains("suppression-"), "{stderr}");

    // Baseline: record, then only new findings gate.
    let before = fx("baseline/before.yaml");
    let after = fx("baseline/after.yaml");
    let b = tmp.path().join("baseline.json").display().to_string();
    let rules = "privileged-container,single-replica";
    let (code, _, _) = kready(
        tmp.path(),
        &["scan", &before, "--only", rules, "-f", "json", "-o", &b],
    );
    assert_eq!(code, 1);
    let (code, _, stderr) = kready(
        tmp.path(),
        &["scan", &before, "--only", rules, "--baseline", &b],
    );
    assert_eq!(code, 0, "nothing new: {stderr}");
    assert!(
        stderr.contains("2 finding(s) already in the baseline"),
        "{stderr}"
    );
    let (code, out, _) = kready(
        tmp.path(),
        &[
            "scan",
            &after,
            "--only",
            rules,
            "--baseline",
            &b,
            "-f",
            "json",
        ],
    );
    assert_eq!(code, 1, "the new privileged container fails the gate");
    assert_eq!(json(&out)["summary"]["findings"], 1);
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, "{\"x\": 1}").unwrap();
    let (code, _, stderr) = kready(
        tmp.path(),
        &["scan", &after, "--baseline", &bad.display().to_string()],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("is not a kready report"), "{stderr}");
}
