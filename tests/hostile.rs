//! Hostile and broken input (issue 7), one case per item, each run as a
//! child process of the built `kready` binary under a timeout (a hang is
//! a failure, but nothing here asserts speed) and a 4 GiB address-space
//! cap. Each case must end with a clear diagnostic (file and line where
//! there is one) or a bounded success, never a panic, and the rest of the
//! input must still be scanned. Static cases live in `fixtures/hostile/`;
//! large ones are generated here.

use serde_json::Value;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Generous: the hang detector, not a speed check (debug builds are slow).
const TIMEOUT: Duration = Duration::from_secs(600);

struct Run {
    code: i32,
    stderr: String,
    report: Value,
}

impl Run {
    fn summary(&self, key: &str) -> u64 {
        self.report["summary"][key].as_u64().unwrap_or(u64::MAX)
    }

    fn diagnostics(&self, code: &str) -> Vec<&Value> {
        self.report["diagnostics"]
            .as_array()
            .map(|a| a.iter().filter(|d| d["code"] == code).collect())
            .unwrap_or_default()
    }

    fn object_names(&self) -> Vec<String> {
        // Objects are not listed one by one in the report; the rule that
        // judges every ConfigMap/Service is not guaranteed to exist, so
        // names are read from findings and counts from the summary.
        self.report["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f["object"]["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hostile")
}

fn tempdir() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("temp dir");
    // Readable by `nobody` (the unreadable-folder case drops root).
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    d
}

/// Runs `kready scan <paths> -f json` and returns its report.
fn scan(paths: &[&Path], extra: &[&str]) -> Run {
    scan_as(paths, extra, None)
}

fn scan_as(paths: &[&Path], extra: &[&str], uid: Option<u32>) -> Run {
    let out_dir = tempdir();
    // Writable by `nobody` too.
    std::fs::set_permissions(out_dir.path(), std::fs::Permissions::from_mode(0o777))
        .expect("chmod");
    let out = out_dir.path().join("report.json");
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v 4194304 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_kready"))
        .arg("scan")
        .args(paths)
        .args(["-f", "json", "-o"])
        .arg(&out)
        .args(["--fail-on", "never"])
        .args(extra)
        .env("RAYON_NUM_THREADS", "2")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(uid) = uid {
        std::os::unix::process::CommandExt::uid(&mut cmd, uid);
    }
    let mut child = cmd.spawn().expect("spawn kready");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kready hung on {paths:?} (killed after {TIMEOUT:?})");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = reader.join().unwrap_or_default();
    let code = status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 2,
        "kready exited with {status} on {paths:?}:\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "panic on {paths:?}:\n{stderr}"
    );
    let text = std::fs::read_to_string(&out).expect("report written");
    let report: Value = serde_json::from_str(&text).expect("report is JSON");
    Run {
        code,
        stderr,
        report,
    }
}

fn one(name: &str) -> Run {
    scan(&[&fixtures().join(name)], &[])
}

fn line_of(d: &Value) -> u64 {
    d["line"].as_u64().unwrap_or(0)
}

#[test]
fn alias_bomb_is_stopped_and_the_next_document_scanned() {
    let r = one("alias-bomb.yaml");
    let d = r.diagnostics("manifest-limit-exceeded");
    assert_eq!(d.len(), 1, "{:?}", r.report["diagnostics"]);
    assert!(d[0]["message"].as_str().unwrap().contains("alias"));
    assert!(line_of(d[0]) > 0);
    assert_eq!(r.code, 2);
    // The Service after the bomb is still an object.
    assert_eq!(r.summary("objects"), 1);
}

#[test]
fn deep_nesting_is_a_limit_error_not_a_stack_overflow() {
    let dir = tempdir();
    let flow = dir.path().join("flow.yaml");
    std::fs::write(&flow, "[".repeat(100_000)).unwrap();
    let block = dir.path().join("block.yaml");
    std::fs::write(&block, format!("{}x\n", "- ".repeat(100_000))).unwrap();
    let maps = dir.path().join("maps.yaml");
    std::fs::write(&maps, format!("{}x\n", "{a: ".repeat(100_000))).unwrap();
    let ok = dir.path().join("ok.yaml");
    std::fs::write(
        &ok,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n",
    )
    .unwrap();
    let r = scan(&[dir.path()], &[]);
    let d = r.diagnostics("manifest-limit-exceeded");
    assert_eq!(d.len(), 3, "{:?}", r.report["diagnostics"]);
    for x in &d {
        assert!(x["message"]
            .as_str()
            .unwrap()
            .contains("nesting deeper than 256"));
        assert_eq!(line_of(x), 1);
    }
    assert_eq!(r.summary("objects"), 1);
    // The limit is configurable.
    let r = scan(&[&block], &["--max-depth", "1000"]);
    let d = r.diagnostics("manifest-limit-exceeded");
    assert!(d[0]["message"].as_str().unwrap().contains("1000"));
}

#[test]
fn moderately_deep_documents_within_the_limit_scan() {
    let dir = tempdir();
    let f = dir.path().join("deep-ok.yaml");
    let mut s = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n  x: ok\nextra: ",
    );
    s.push_str(&"[".repeat(200));
    s.push_str(&"]".repeat(200));
    s.push('\n');
    std::fs::write(&f, s).unwrap();
    let r = scan(&[&f], &[]);
    assert_eq!(r.summary("objects"), 1);
    assert!(r.diagnostics("manifest-limit-exceeded").is_empty());
}

#[test]
fn huge_scalar_scans_and_the_size_limit_is_reported() {
    let dir = tempdir();
    let f = dir.path().join("huge.yaml");
    let mut s =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: huge}\ndata:\n  big: ");
    s.push_str(&"x".repeat(16 << 20));
    s.push('\n');
    std::fs::write(&f, s).unwrap();
    let r = scan(&[&f], &[]);
    assert_eq!(r.summary("objects"), 1);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Over --max-file-size: reported, not read, not silently skipped.
    let small = dir.path().join("small.yaml");
    std::fs::write(
        &small,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n",
    )
    .unwrap();
    let r = scan(&[dir.path()], &["--max-file-size", "1M"]);
    let d = r.diagnostics("manifest-limit-exceeded");
    assert_eq!(d.len(), 1);
    assert!(d[0]["file"].as_str().unwrap().ends_with("huge.yaml"));
    assert!(d[0]["message"].as_str().unwrap().contains("1048576"));
    assert_eq!(r.summary("objects"), 1);
    assert_eq!(r.code, 2);
}

#[test]
fn a_million_documents_are_all_counted() {
    let dir = tempdir();
    let f = dir.path().join("million.yaml");
    let mut s = String::with_capacity(9_000_000 + 100);
    s.push_str("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first}\n");
    for _ in 0..999_999 {
        s.push_str("---\na: 1\n");
    }
    std::fs::write(&f, s).unwrap();
    let r = scan(&[&f], &[]);
    assert_eq!(r.summary("documents"), 1_000_000);
    assert_eq!(r.summary("objects"), 1);
    assert_eq!(r.summary("documentsSkipped"), 999_999);
}

#[test]
fn keys_repeated_thousands_of_times_give_a_bounded_list() {
    let dir = tempdir();
    let f = dir.path().join("repeated.yaml");
    let mut s = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: rep}\ndata:\n");
    for i in 0..5000 {
        s.push_str(&format!("  key: v{i}\n"));
    }
    std::fs::write(&f, s).unwrap();
    let r = scan(&[&f], &[]);
    let d = r.diagnostics("manifest-duplicate-key");
    assert_eq!(d.len(), 21, "20 listed and one summary");
    assert_eq!(line_of(d[0]), 6);
    let last = d[20]["message"].as_str().unwrap();
    assert!(last.contains("4979 more"), "{last}");
    assert_eq!(r.summary("objects"), 1);
}

#[test]
fn binary_and_non_utf8_files() {
    let r = one("binary.yaml");
    assert_eq!(r.report["skipped"][0]["reason"], "binary file");
    assert_eq!(r.code, 0);
    // Latin-1 text that is clearly a manifest: an error at the bad byte's line.
    let r = one("latin1-manifest.yaml");
    let d = r.diagnostics("manifest-parse-error");
    assert_eq!(d.len(), 1);
    assert_eq!(line_of(d[0]), 4);
    assert!(d[0]["message"].as_str().unwrap().contains("UTF-8"));
    // Latin-1 text that is not: skipped with the reason.
    let r = one("latin1-notes.yaml");
    assert_eq!(r.report["skipped"][0]["reason"], "not UTF-8 text");
    assert_eq!(r.code, 0);
}

#[test]
fn valid_yaml_that_is_not_kubernetes_is_skipped_not_an_error() {
    let r = one("not-kubernetes");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.summary("errors"), 0);
    assert_eq!(r.summary("filesSkipped"), 3);
    let skipped = r.report["skipped"].as_array().unwrap();
    for name in ["values.yaml", "workflow.yaml", "kustomization.yaml"] {
        assert!(
            skipped
                .iter()
                .any(|s| s["file"].as_str().unwrap().ends_with(name)
                    && s["reason"]
                        .as_str()
                        .unwrap()
                        .contains("no Kubernetes object")),
            "{name} not reported as skipped: {skipped:?}"
        );
    }
}

#[test]
fn symlink_loop_is_reported_not_followed_forever() {
    let dir = tempdir();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(
        sub.join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path(), sub.join("loop")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("nowhere"), sub.join("broken.yaml")).unwrap();
    let r = scan(&[dir.path()], &[]);
    let d = r.diagnostics("input-unreadable");
    assert!(
        d.iter()
            .any(|x| x["message"].as_str().unwrap().contains("loop")),
        "{d:?}"
    );
    assert!(
        d.iter().any(|x| x["message"]
            .as_str()
            .unwrap()
            .contains("broken symbolic link")),
        "{d:?}"
    );
    assert!(d.iter().all(|x| x["level"] == "warning"));
    assert_eq!(r.summary("objects"), 1);
}

#[test]
fn unreadable_folder_is_reported_and_the_rest_scanned() {
    let dir = tempdir();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::write(
        locked.join("x.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ok.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n",
    )
    .unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads everything: run as `nobody` then.
    let is_root = std::fs::metadata(dir.path()).unwrap().uid() == 0;
    let r = scan_as(&[dir.path()], &[], is_root.then_some(65534));
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    let d = r.diagnostics("input-unreadable");
    assert_eq!(d.len(), 1, "{:?}", r.report["diagnostics"]);
    assert!(d[0]["file"].as_str().unwrap().ends_with("locked"));
    assert_eq!(d[0]["level"], "error");
    assert_eq!(r.summary("objects"), 1);
    assert_eq!(r.code, 2);
}

#[test]
fn a_pipe_named_yaml_is_skipped_not_read_forever() {
    let dir = tempdir();
    let fifo = dir.path().join("pipe.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo not available: case skipped");
        return;
    }
    std::fs::write(
        dir.path().join("ok.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n",
    )
    .unwrap();
    let r = scan(&[dir.path()], &[]);
    assert!(r.report["skipped"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("not a regular file"));
    assert_eq!(r.summary("objects"), 1);
}

#[test]
fn wrong_types_are_schema_errors_and_other_rules_still_judge() {
    let r = one("replicas-three.yaml");
    let d = r.diagnostics("manifest-schema-invalid");
    assert_eq!(d.len(), 1);
    assert_eq!(line_of(d[0]), 6);
    assert!(d[0]["message"].as_str().unwrap().contains("spec.replicas"));
    assert_eq!(r.summary("objects"), 1);
    // Another rule still judged the Deployment.
    assert!(
        r.object_names().contains(&"web".to_string()),
        "{:?}",
        r.report["findings"]
    );

    let r = one("containers-map.yaml");
    let d = r.diagnostics("manifest-schema-invalid");
    assert_eq!(d.len(), 1);
    assert_eq!(line_of(d[0]), 7);
    assert!(d[0]["message"]
        .as_str()
        .unwrap()
        .contains("spec.containers"));
    assert_eq!(r.summary("objects"), 1);
}

#[test]
fn truncated_yaml_keeps_the_documents_before_it() {
    let r = one("truncated.yaml");
    let d = r.diagnostics("manifest-parse-error");
    assert_eq!(d.len(), 1);
    assert!(line_of(d[0]) >= 15, "{:?}", d[0]);
    assert_eq!(r.summary("objects"), 1);
}

#[test]
fn tabs_indentation_is_a_parse_error_at_its_line() {
    let r = one("tabs.yaml");
    let d = r.diagnostics("manifest-parse-error");
    assert_eq!(d.len(), 1);
    assert_eq!(line_of(d[0]), 4);
    // The second document (a tab inside a value) is fine.
    assert_eq!(r.summary("objects"), 1);
}

#[test]
fn bom_and_crlf_scan_with_exact_lines() {
    let r = one("bom.yaml");
    assert_eq!((r.code, r.summary("objects")), (0, 1));
    let r = one("crlf.yaml");
    assert_eq!(r.summary("objects"), 2);
    let d = r.diagnostics("manifest-duplicate-key");
    assert_eq!(d.len(), 1);
    assert_eq!(line_of(d[0]), 14);
}

#[test]
fn duplicate_keys_warn_at_the_duplicate() {
    let r = one("duplicate-keys.yaml");
    let d = r.diagnostics("manifest-duplicate-key");
    assert_eq!(d.len(), 1);
    assert_eq!(line_of(d[0]), 7);
    assert_eq!(d[0]["level"], "warning");
    assert_eq!(r.code, 0);
}

#[test]
fn one_broken_file_among_many_loses_nothing_else() {
    let r = one("mixed");
    assert_eq!(r.summary("files"), 13);
    // 12 files × 2 objects, plus the document after the broken one.
    assert_eq!(r.summary("objects"), 25);
    let d = r.diagnostics("manifest-parse-error");
    assert_eq!(d.len(), 1);
    assert!(d[0]["file"].as_str().unwrap().ends_with("broken.yaml"));
    assert_eq!(r.code, 2);
}
