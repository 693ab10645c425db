//! The command line as users run it: exit codes, stdin, Helm output,
//! several formats in one run, diagnostics on stderr only.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn kready(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kready"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

#[test]
fn clean_input_exits_0_and_findings_at_the_gate_exit_1() {
    let ok = kready(
        &[
            "scan",
            "fixtures/rules/privileged-container/pass.yaml",
            "--only",
            "privileged-container",
        ],
        None,
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    let bad = kready(
        &[
            "scan",
            "fixtures/rules/privileged-container/fail.yaml",
            "--only",
            "privileged-container",
        ],
        None,
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("gate failed"));
    let never = kready(
        &[
            "scan",
            "fixtures/rules/privileged-container/fail.yaml",
            "--only",
            "privileged-container",
            "--fail-on",
            "never",
        ],
        None,
    );
    assert_eq!(never.status.code(), Some(0));
}

#[test]
fn min_score_gate() {
    let out = kready(
        &[
            "scan",
            "fixtures/examples/shop",
            "--fail-on",
            "never",
            "--min-score",
            "99",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is below 99"),
        "{}",
        text(&out.stderr)
    );
    let out = kready(
        &[
            "scan",
            "fixtures/examples/shop",
            "--fail-on",
            "never",
            "--min-score",
            "1",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn broken_yaml_is_reported_with_a_code_frame_and_the_rest_is_scanned() {
    let out = kready(
        &[
            "scan",
            "fixtures/cli/broken.yaml",
            "fixtures/cli/no-kind.yaml",
            "-f",
            "json",
            "--only",
            "privileged-container",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("manifest-parse-error") && err.contains("fixtures/cli/broken.yaml:"),
        "{err}"
    );
    assert!(
        err.contains("template: {spec: [unclosed"),
        "code frame shows the line: {err}"
    );
    assert!(
        err.contains("manifest-not-kubernetes") && err.contains("without `kind`"),
        "{err}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is pure JSON");
    let f = &report["findings"][0];
    assert_eq!(
        f["object"]["name"], "after-the-error",
        "the document after the broken one is scanned"
    );
    assert_eq!(f["location"]["line"], 22);
    assert_eq!(report["summary"]["errors"], 2);
}

#[test]
fn helm_template_on_stdin_names_the_template() {
    let helm = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/cli/helm-output.txt"
    ))
    .unwrap();
    let out = kready(
        &["scan", "-", "-f", "json", "--only", "privileged-container"],
        Some(&helm),
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let loc = &report["findings"][0]["location"];
    assert_eq!(loc["file"], "shop/templates/pod.yaml");
    assert_eq!(
        loc["line"], 10,
        "line within the rendered template, after its # Source: comment"
    );
}

#[test]
fn several_formats_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("out.sarif");
    let md = dir.path().join("out.md");
    let out = kready(
        &[
            "scan",
            "fixtures/examples/shop",
            "--fail-on",
            "never",
            "-f",
            "table",
            "-f",
            "sarif",
            "-f",
            "markdown",
            "-o",
            "-",
            "-o",
            sarif.to_str().unwrap(),
            "-o",
            md.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Overall"));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(s["version"], "2.1.0");
    assert!(std::fs::read_to_string(&md)
        .unwrap()
        .starts_with("## kready"));
}

#[test]
fn usage_errors_exit_2() {
    let out = kready(&["scan", ".", "--only", "privileged-containr"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did you mean `privileged-container`"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        kready(&["explain", "no-such-rule"], None).status.code(),
        Some(2)
    );
    assert_eq!(
        kready(&["scan", "does/not/exist"], None).status.code(),
        Some(2)
    );
    assert_eq!(
        kready(&["scan", ".", "-o", "a", "-o", "b"], None)
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn rules_and_explain() {
    let out = kready(&["rules", "-f", "json"], None);
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rules
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "pdb-missing"));
    let out = kready(&["explain", "pdb-missing"], None);
    let t = text(&out.stdout);
    assert!(
        t.contains("PodDisruptionBudget") && t.contains("kube-score"),
        "{t}"
    );
}

#[test]
fn docs_rules_md_is_generated_from_the_catalog() {
    let out = kready(&["rules", "-f", "markdown"], None);
    let want = text(&out.stdout);
    let have = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md"))
        .unwrap_or_default();
    assert!(
        have == want,
        "docs/rules.md is stale: run `cargo run -q -- rules -f markdown > docs/rules.md`"
    );
}

/// Every `.kready.yaml` example in the README and docs/config.md is accepted
/// by the loader: the docs cannot drift from the behaviour.
#[test]
fn documented_config_examples_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for doc in ["README.md", "docs/config.md"] {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_string() + doc)
                .unwrap();
        for block in text.split("```yaml\n").skip(1) {
            let body = block.split("```").next().unwrap();
            if !body.starts_with("# .kready.yaml") {
                continue;
            }
            let f = dir.path().join(format!("example-{checked}.yaml"));
            std::fs::write(&f, body).unwrap();
            let out = kready(
                &[
                    "scan",
                    "fixtures/examples/shop",
                    "--config",
                    f.to_str().unwrap(),
                    "--fail-on",
                    "never",
                    "-f",
                    "json",
                    "-o",
                    "/dev/null",
                ],
                None,
            );
            assert_eq!(
                out.status.code(),
                Some(0),
                "{doc}: example rejected:\n{body}\n{}",
                text_of(&out.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked >= 2, "found {checked} examples");
}

fn text_of(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}
