//! Live mode against a real kube-apiserver (etcd + kube-apiserver 1.20 on
//! loopback, from `../shared/tools/k8s-apiserver`), not a mock.
//!
//! ```text
//! source "$(bash ../shared/tools/k8s-apiserver/up.sh --print-env)"
//! cargo test --test live -- --nocapture
//! bash ../shared/tools/k8s-apiserver/down.sh "$KREADY_K8S_RUN_DIR"
//! ```
//!
//! Every test prints `SKIP` and returns when `KREADY_K8S_SERVER` is unset;
//! CI sets it. The cluster is populated once per run (tests/fixtures/live)
//! in namespaces with a per-run suffix (namespaces never finish deleting on
//! a controller-less server); all mutations happen in that one setup, so
//! the tests themselves only read and can run in parallel.

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

struct Cluster {
    server: String,
    ca: String,
    admin_token: String,
    admin_kubeconfig: String,
    restricted_kubeconfig: String,
    /// Suffix of this run's namespaces.
    run: String,
    /// A kubeconfig acting as a user that may list only some kinds.
    partial_kubeconfig: PathBuf,
    /// A kubeconfig acting as a user who may read one namespace only.
    namespace_kubeconfig: PathBuf,
    dir: tempfile::TempDir,
}

impl Cluster {
    fn ns(&self, base: &str) -> String {
        format!("{base}-{}", self.run)
    }
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set with KREADY_K8S_SERVER"))
}

/// The test cluster, populated once; `None` (after printing SKIP) when
/// `KREADY_K8S_SERVER` is unset.
fn cluster(test: &str) -> Option<&'static Cluster> {
    if std::env::var_os("KREADY_K8S_SERVER").is_none() {
        eprintln!(
            "SKIP {test}: KREADY_K8S_SERVER is unset; start a test API server with \
             `source \"$(bash ../shared/tools/k8s-apiserver/up.sh --print-env)\"`"
        );
        return None;
    }
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    Some(CLUSTER.get_or_init(setup))
}

fn kubectl_bin() -> String {
    if let Ok(k) = std::env::var("KREADY_KUBECTL") {
        return k;
    }
    let cache = std::env::var("KREADY_K8S_CACHE").unwrap_or_else(|_| {
        format!(
            "{}/.cache/kready-k8s",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let k = format!("{cache}/bin/kubectl");
    if Path::new(&k).exists() {
        k
    } else {
        "kubectl".into()
    }
}

fn kubectl(kubeconfig: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(kubectl_bin())
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("kubectl finishes");
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/live")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A raw merge PATCH to a `/status` subresource (kubectl 1.20 cannot).
fn patch_status(c: &Cluster, path: &str, body: &str) {
    let out = Command::new("curl")
        .args([
            "-sS",
            "--fail",
            "--cacert",
            &c.ca,
            "-X",
            "PATCH",
            "-H",
            "Content-Type: application/merge-patch+json",
            "-H",
            &format!("Authorization: Bearer {}", c.admin_token),
            "--data",
            body,
            &format!("{}{path}", c.server),
        ])
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "PATCH {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const CP_TAINT: &str = r#"[{"key":"node-role.kubernetes.io/control-plane","effect":"NoSchedule"}]"#;

fn setup() -> Cluster {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let run = format!("{:x}{:x}", std::process::id(), nanos % 0xffff_ffff);
    let dir = tempfile::tempdir().expect("tempdir");
    let c = Cluster {
        server: var("KREADY_K8S_SERVER"),
        ca: var("KREADY_K8S_CA"),
        admin_token: var("KREADY_K8S_ADMIN_TOKEN"),
        admin_kubeconfig: var("KREADY_K8S_ADMIN_KUBECONFIG"),
        restricted_kubeconfig: var("KREADY_K8S_RESTRICTED_KUBECONFIG"),
        partial_kubeconfig: dir.path().join("partial.kubeconfig"),
        namespace_kubeconfig: dir.path().join("namespace.kubeconfig"),
        run,
        dir,
    };
    let admin = c.admin_kubeconfig.clone();
    kubectl(
        &admin,
        &["apply", "-f", "-"],
        Some(&fixture("00-cluster.yaml")),
    );
    kubectl(
        &admin,
        &[
            "wait",
            "--for",
            "condition=established",
            "--timeout=60s",
            "crd/schedules.velero.io",
        ],
        None,
    );
    let per_run = |name: &str| fixture(name).replace("__RUN__", &c.run);
    kubectl(
        &admin,
        &["apply", "-f", "-"],
        Some(&per_run("10-workloads.yaml")),
    );
    kubectl(
        &admin,
        &["apply", "-f", "-"],
        Some(&per_run("20-custom.yaml")),
    );

    // Status, as kubelets and controllers would write it. The API server
    // taints every new Node `not-ready` (TaintNodesByCondition); the node
    // lifecycle controller would lift it from Ready nodes: do it here.
    for (node, taints) in [
        ("cp-1", CP_TAINT),
        ("cp-2", CP_TAINT),
        ("cp-3", "[]"),
        ("worker-1", "[]"),
    ] {
        kubectl(
            &admin,
            &[
                "patch",
                "node",
                node,
                "--type",
                "merge",
                "-p",
                &format!(r#"{{"spec":{{"taints":{taints}}}}}"#),
            ],
            None,
        );
    }
    for node in ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2"] {
        let ready = if node == "worker-2" { "False" } else { "True" };
        patch_status(
            &c,
            &format!("/api/v1/nodes/{node}/status"),
            &format!(
                r#"{{"status":{{"capacity":{{"cpu":"4","memory":"16Gi","pods":"110"}},
                "allocatable":{{"cpu":"4","memory":"16Gi","pods":"110"}},
                "conditions":[{{"type":"Ready","status":"{ready}","reason":"KubeletReady",
                "lastHeartbeatTime":"2026-01-01T00:00:00Z","lastTransitionTime":"2026-01-01T00:00:00Z"}}]}}}}"#
            ),
        );
    }
    patch_status(
        &c,
        &format!(
            "/apis/apps/v1/namespaces/{}/deployments/api/status",
            c.ns("shop")
        ),
        r#"{"status":{"observedGeneration":1,"replicas":1,"updatedReplicas":1,"readyReplicas":0,"availableReplicas":0,"unavailableReplicas":1}}"#,
    );

    // A user who may list only workloads and nodes: the partial scan.
    let user = format!("kready-partial-{}", c.run);
    let rbac = format!(
        r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {user}
rules:
- apiGroups: [""]
  resources: [pods, nodes, replicationcontrollers]
  verbs: [get, list]
- apiGroups: [apps]
  resources: [deployments, replicasets, statefulsets, daemonsets]
  verbs: [get, list]
- apiGroups: [batch]
  resources: [jobs, cronjobs]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {user}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {user}
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: {user}
"#
    );
    kubectl(&admin, &["apply", "-f", "-"], Some(&rbac));
    // A user who may read everything in the shop namespace and nothing else.
    let ns_user = format!("kready-ns-{}", c.run);
    let ns_rbac = format!(
        r#"apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: read-all
  namespace: {shop}
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {ns_user}
  namespace: {shop}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: read-all
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: {ns_user}
"#,
        shop = c.ns("shop")
    );
    kubectl(&admin, &["apply", "-f", "-"], Some(&ns_rbac));
    let admin_text = std::fs::read_to_string(&admin).expect("admin kubeconfig");
    // Impersonation (`as:`) lets the admin token act as the partial user.
    let partial = admin_text.replacen(
        &format!("token: {}", c.admin_token),
        &format!("token: {}\n    as: {user}", c.admin_token),
        1,
    );
    assert_ne!(partial, admin_text, "admin kubeconfig has a token line");
    std::fs::write(&c.partial_kubeconfig, partial).expect("write kubeconfig");
    let ns_only = admin_text.replacen(
        &format!("token: {}", c.admin_token),
        &format!("token: {}\n    as: {ns_user}", c.admin_token),
        1,
    );
    std::fs::write(&c.namespace_kubeconfig, ns_only).expect("write kubeconfig");
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

fn kready(kubeconfig: &str, args: &[&str]) -> Run {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_kready"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("NO_COLOR", "1")
        .output()
        .expect("kready runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// (rule, object, field path) of every finding.
fn findings(r: &Value) -> BTreeSet<(String, String, String)> {
    r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let o = &f["object"];
            let object = if o.is_object() {
                match o["namespace"].as_str() {
                    Some(ns) => format!(
                        "{}/{ns}/{}",
                        o["kind"].as_str().unwrap_or(""),
                        o["name"].as_str().unwrap_or("")
                    ),
                    None => format!(
                        "{}/{}",
                        o["kind"].as_str().unwrap_or(""),
                        o["name"].as_str().unwrap_or("")
                    ),
                }
            } else {
                f["namespace"]
                    .as_str()
                    .map(|n| format!("Namespace/{n}"))
                    .unwrap_or_else(|| "cluster".into())
            };
            (
                f["ruleId"].as_str().unwrap_or("").to_string(),
                object,
                f["location"]["path"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn has(fs: &BTreeSet<(String, String, String)>, rule: &str, object: &str) -> bool {
    fs.iter().any(|(r, o, _)| r == rule && o == object)
}

/// A rule's entry in the report (present when the rule ran).
fn rule<'a>(r: &'a Value, id: &str) -> Option<&'a Value> {
    r["rules"].as_array()?.iter().find(|x| x["id"] == id)
}

fn not_evaluated_reason(r: &Value, id: &str) -> Option<String> {
    r["coverage"]["notEvaluated"]
        .as_array()?
        .iter()
        .find(|x| x["rule"] == id)
        .and_then(|x| x["reason"].as_str())
        .map(str::to_string)
}

#[test]
fn populated_cluster_gives_the_expected_findings() {
    let Some(c) = cluster("populated_cluster_gives_the_expected_findings") else {
        return;
    };
    let run = kready(
        &c.admin_kubeconfig,
        &[
            "scan",
            "--live",
            "-A",
            "-f",
            "json",
            "--fail-on",
            "never",
            "--require-complete",
        ],
    );
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let r = run.json();
    assert_eq!(r["scan"]["mode"], "live");
    assert_eq!(r["scan"]["serverVersion"], "v1.20.2");
    // The server's version picks the PSS and deprecation version.
    assert_eq!(r["scan"]["kubernetesVersion"], "1.20");
    assert!(
        r["coverage"].get("unlisted").is_none(),
        "complete scan: {}",
        r["coverage"]
    );
    let fs = findings(&r);
    let shop = c.ns("shop");
    let batch = c.ns("batch");

    // Object rules judged on live objects, with field paths.
    assert!(
        fs.contains(&(
            "privileged-container".into(),
            format!("Pod/{shop}/debug"),
            "spec.containers[0].securityContext.privileged".into()
        )),
        "{fs:#?}"
    );
    assert!(fs.contains(&(
        "single-replica".into(),
        format!("Deployment/{shop}/api"),
        "spec.replicas".into()
    )));
    assert!(has(
        &fs,
        "memory-limit-missing",
        &format!("Deployment/{shop}/api")
    ));
    assert!(!has(
        &fs,
        "memory-limit-missing",
        &format!("Deployment/{shop}/web")
    ));
    // Relation rules: the PDB (policy/v1beta1 on 1.20) covers web, not worker;
    // the HPA (autoscaling/v2beta2) scales worker.
    assert!(has(
        &fs,
        "pdb-missing",
        &format!("Deployment/{shop}/worker")
    ));
    assert!(!has(&fs, "pdb-missing", &format!("Deployment/{shop}/web")));
    assert!(!has(
        &fs,
        "single-replica",
        &format!("Deployment/{shop}/worker")
    ));
    // Pods and ReplicaSets owned by a listed controller are judged through
    // it, once: the drifted privileged pods of web are not reported.
    for owned in [
        format!("Pod/{shop}/web-5d8f7-aaaaa"),
        format!("Pod/{shop}/web-5d8f7-bbbbb"),
        format!("ReplicaSet/{shop}/web-5d8f7"),
        format!("Pod/{batch}/report-27500000-xk2p9"),
        format!("Job/{batch}/report-27500000"),
    ] {
        assert!(
            !fs.iter().any(|(_, o, _)| *o == owned),
            "{owned} judged on its own: {fs:#?}"
        );
    }
    // Namespace rules: shop has a default-deny policy, batch has none.
    let deny: Vec<_> = fs
        .iter()
        .filter(|(r, _, _)| r == "namespace-default-deny-missing")
        .collect();
    assert!(deny.iter().any(|(_, o, _)| o.contains(&batch)), "{deny:?}");
    assert!(!deny.iter().any(|(_, o, _)| o.contains(&shop)), "{deny:?}");
    // Cluster rules: Velero's CRD is served, so a backup tool is installed.
    let backup = rule(&r, "backup-tool-missing").expect("backup-tool-missing ran");
    assert_eq!(backup["passed"], 1, "{backup}");

    // Rules other branches add, asserted once they are in the catalog.
    let expect_if_ran = |id: &str, object: &str| {
        if rule(&r, id).is_some() {
            assert!(has(&fs, id, object), "{id} should report {object}: {fs:#?}");
        }
    };
    expect_if_ran("naked-pod", &format!("Pod/{shop}/debug"));
    expect_if_ran(
        "service-exposed-externally",
        &format!("Service/{shop}/web-public"),
    );
    expect_if_ran("workload-unavailable", &format!("Deployment/{shop}/api"));
    expect_if_ran(
        "apiserver-anonymous-auth",
        "Pod/kube-system/kube-apiserver-cp-1",
    );
    expect_if_ran(
        "etcd-encryption-disabled",
        "Pod/kube-system/kube-apiserver-cp-1",
    );
    expect_if_ran(
        "audit-logging-disabled",
        "Pod/kube-system/kube-apiserver-cp-1",
    );
    for id in ["node-not-ready", "control-plane-not-dedicated"] {
        if let Some(x) = rule(&r, id) {
            assert_eq!(x["failed"], 1, "{id}: {x}");
        }
    }
    if let Some(x) = rule(&r, "control-plane-not-ha") {
        assert_eq!(x["passed"], 1, "3 control-plane nodes: {x}");
    }
}

#[test]
fn namespace_scope_lists_only_that_namespace_and_skips_cluster_rules() {
    let Some(c) = cluster("namespace_scope") else {
        return;
    };
    let shop = c.ns("shop");
    let run = kready(
        &c.admin_kubeconfig,
        &[
            "scan",
            "--live",
            "-n",
            &shop,
            "-f",
            "json",
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let r = run.json();
    let fs = findings(&r);
    assert!(has(
        &fs,
        "privileged-container",
        &format!("Pod/{shop}/debug")
    ));
    assert!(
        fs.iter().all(|(_, o, _)| o.contains(&shop)),
        "only {shop}: {fs:#?}"
    );
    let reason =
        not_evaluated_reason(&r, "backup-tool-missing").expect("cluster rule not evaluated");
    assert!(reason.contains("-n"), "{reason}");
}

/// An account that may read one namespace only: `-n` scans it completely,
/// `-A` is incomplete.
#[test]
fn namespace_reader_scans_its_namespace_completely() {
    let Some(c) = cluster("namespace_reader") else {
        return;
    };
    let kc = c.namespace_kubeconfig.to_str().expect("utf-8 path");
    let shop = c.ns("shop");
    let run = kready(
        kc,
        &[
            "scan",
            "--live",
            "-n",
            &shop,
            "-f",
            "json",
            "--fail-on",
            "never",
            "--require-complete",
        ],
    );
    assert_eq!(run.code, 0, "complete in its namespace: {}", run.stderr);
    let r = run.json();
    assert!(r["coverage"].get("unlisted").is_none(), "{}", r["coverage"]);
    assert!(has(
        &findings(&r),
        "privileged-container",
        &format!("Pod/{shop}/debug")
    ));
    let all = kready(
        kc,
        &[
            "scan",
            "--live",
            "-A",
            "--fail-on",
            "never",
            "--require-complete",
        ],
    );
    assert_eq!(all.code, 3, "{}", all.stderr);
}

#[test]
fn snapshot_scanned_offline_gives_the_same_findings() {
    let Some(c) = cluster("snapshot") else {
        return;
    };
    let file = c
        .dir
        .path()
        .join(format!("snapshot-{}.yaml", std::process::id()));
    let file = file.to_str().expect("utf-8 path");
    let snap = kready(&c.admin_kubeconfig, &["snapshot", "--live", "-o", file]);
    assert_eq!(snap.code, 0, "stderr: {}", snap.stderr);
    assert!(snap.stdout.is_empty(), "the snapshot goes to the file");
    let text = std::fs::read_to_string(file).expect("snapshot written");
    assert!(text.contains("kind: List") && text.contains("kready.io/snapshot"));
    assert!(
        !text.contains(&c.admin_token),
        "no credentials in the snapshot"
    );
    assert!(!text.contains("managedFields:") && !text.contains("last-applied-configuration\":"));

    let live = kready(
        &c.admin_kubeconfig,
        &["scan", "--live", "-f", "json", "--fail-on", "never"],
    );
    // Offline: no cluster reachable at all.
    let offline = kready(
        "/nonexistent",
        &["scan", file, "-f", "json", "--fail-on", "never"],
    );
    assert_eq!(live.code, 0, "{}", live.stderr);
    assert_eq!(offline.code, 0, "{}", offline.stderr);
    let (l, o) = (live.json(), offline.json());
    assert_eq!(findings(&l), findings(&o));
    assert!(!findings(&l).is_empty());
    // Same tallies per rule (passed / failed / not evaluated), same score.
    let tallies = |r: &Value| -> Vec<String> {
        r["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .map(|x| {
                format!(
                    "{} {} {} {}",
                    x["id"], x["passed"], x["failed"], x["notEvaluated"]
                )
            })
            .collect()
    };
    assert_eq!(tallies(&l), tallies(&o));
    assert_eq!(l["score"]["overall"], o["score"]["overall"]);
    assert_eq!(o["scan"]["serverVersion"], "v1.20.2");
    assert_eq!(o["scan"]["kubernetesVersion"], "1.20");
    // The offline findings on objects point at lines of the snapshot file.
    let on_objects = o["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["object"].is_object());
    assert!(on_objects.clone().count() > 0);
    assert!(
        on_objects
            .into_iter()
            .all(|f| f["location"]["line"].is_u64()),
        "{}",
        o["findings"]
    );
}

#[test]
fn partial_access_is_reported_and_require_complete_exits_3() {
    let Some(c) = cluster("partial_access") else {
        return;
    };
    let kc = c.partial_kubeconfig.to_str().expect("utf-8 path");
    let run = kready(
        kc,
        &[
            "scan",
            "--live",
            "-f",
            "json",
            "--fail-on",
            "never",
            "--require-complete",
        ],
    );
    assert_eq!(run.code, 3, "stderr: {}", run.stderr);
    // Up front, on stderr: the kinds this account may not list.
    assert!(run.stderr.contains("may not list"), "{}", run.stderr);
    assert!(run.stderr.contains("PodDisruptionBudget"), "{}", run.stderr);
    let r = run.json();
    // The live report, coverage included, is valid against the report schema.
    let schema_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/kready-report-v1.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).expect("schema"))
            .expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator.iter_errors(&r).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let unlisted: Vec<&str> = r["coverage"]["unlisted"]
        .as_array()
        .expect("coverage.unlisted")
        .iter()
        .filter_map(|u| u["kind"].as_str())
        .collect();
    assert!(
        unlisted.contains(&"PodDisruptionBudget") && unlisted.contains(&"NetworkPolicy"),
        "{unlisted:?}"
    );
    assert!(
        !unlisted.contains(&"Pod") && !unlisted.contains(&"Deployment"),
        "{unlisted:?}"
    );
    // What could be listed is judged...
    let fs = findings(&r);
    assert!(has(
        &fs,
        "privileged-container",
        &format!("Pod/{}/debug", c.ns("shop"))
    ));
    // ...and what needed the rest is not evaluated, with the reason.
    let pdb = not_evaluated_reason(&r, "pdb-missing").expect("pdb-missing not evaluated");
    assert!(
        pdb.contains("PodDisruptionBudget could not be listed"),
        "{pdb}"
    );
    let backup =
        not_evaluated_reason(&r, "backup-tool-missing").expect("cluster rule not evaluated");
    assert!(backup.contains("could not be listed"), "{backup}");
    assert!(!has(&fs, "backup-tool-missing", "cluster"));
    assert!(!has(
        &fs,
        "pdb-missing",
        &format!("Deployment/{}/worker", c.ns("shop"))
    ));

    // Without --require-complete the gate alone decides; every format shows coverage.
    let table = kready(kc, &["scan", "--live", "--fail-on", "never"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stdout.contains("could not be listed"),
        "{}",
        table.stdout
    );
    let md = kready(
        kc,
        &["scan", "--live", "-f", "markdown", "--fail-on", "never"],
    );
    assert!(md.stdout.contains("Incomplete scan"), "{}", md.stdout);
    let sarif = kready(kc, &["scan", "--live", "-f", "sarif", "--fail-on", "never"]);
    let s: Value = serde_json::from_str(&sarif.stdout).expect("sarif");
    assert!(
        s["runs"][0]["properties"]["kready/unlisted"].is_array(),
        "{}",
        sarif.stdout
    );
    // ...and the rules that needed the refused lists are notifications.
    let notes = s["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("tool notifications");
    assert!(
        notes
            .iter()
            .any(|n| n["associatedRule"]["id"] == "pdb-missing" && n["level"] == "note"),
        "{}",
        sarif.stdout
    );
}

#[test]
fn no_read_access_gives_no_score() {
    let Some(c) = cluster("no_read_access") else {
        return;
    };
    let run = kready(
        &c.restricted_kubeconfig,
        &[
            "scan",
            "--live",
            "-f",
            "json",
            "--fail-on",
            "never",
            "--require-complete",
        ],
    );
    assert_eq!(run.code, 3, "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("cannot list anything"),
        "{}",
        run.stderr
    );
    let r = run.json();
    assert!(
        r["score"]["overall"].is_null(),
        "never a score: {}",
        r["score"]
    );
    assert!(r["findings"].as_array().expect("findings").is_empty());
    assert_eq!(r["coverage"]["rulesEvaluated"], 0);
    let table = kready(
        &c.restricted_kubeconfig,
        &["scan", "--live", "--fail-on", "never"],
    );
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.contains("No score"), "{}", table.stdout);
}

fn write_kubeconfig(
    dir: &Path,
    name: &str,
    server: &str,
    ca_data: Option<&str>,
    token: &str,
) -> String {
    let ca = ca_data
        .map(|d| format!("    certificate-authority-data: {d}\n"))
        .unwrap_or_default();
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n{ca}users:\n- name: u\n  user:\n    token: {token}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
    );
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write kubeconfig");
    p.to_string_lossy().into_owned()
}

fn ca_data(c: &Cluster) -> String {
    let admin = std::fs::read_to_string(&c.admin_kubeconfig).expect("admin kubeconfig");
    admin
        .lines()
        .find_map(|l| l.trim().strip_prefix("certificate-authority-data:"))
        .expect("CA in admin kubeconfig")
        .trim()
        .to_string()
}

const SECRET: &str = "kready-test-secret-token-7f3a9c2e";

#[test]
fn unreachable_server_exits_2_quickly_without_echoing_the_token() {
    let Some(c) = cluster("unreachable") else {
        return;
    };
    // A port nobody listens on: connection refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let kc = write_kubeconfig(
        c.dir.path(),
        "refused",
        &format!("https://127.0.0.1:{port}"),
        Some(&ca_data(c)),
        SECRET,
    );
    let run = kready(&kc, &["scan", "--live", "--timeout", "3s"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot reach the API server"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(SECRET) && !run.stdout.contains(SECRET));
    assert!(run.stdout.is_empty(), "no report: {}", run.stdout);
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);

    // A server that accepts connections and never answers: the timeout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let kc = write_kubeconfig(
        c.dir.path(),
        "silent",
        &format!("https://{addr}"),
        Some(&ca_data(c)),
        SECRET,
    );
    let run = kready(&kc, &["scan", "--live", "--timeout", "2s"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot reach the API server"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(SECRET));
    assert!(
        run.elapsed < Duration::from_secs(8),
        "timeout honoured: {:?}",
        run.elapsed
    );
}

#[test]
fn bad_token_exits_2_without_echoing_it() {
    let Some(c) = cluster("bad_token") else {
        return;
    };
    let kc = write_kubeconfig(
        c.dir.path(),
        "badtoken",
        &c.server,
        Some(&ca_data(c)),
        SECRET,
    );
    let run = kready(&kc, &["scan", "--live", "-f", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("401"), "{}", run.stderr);
    assert!(!run.stderr.contains(SECRET) && !run.stdout.contains(SECRET));
    let run = kready(&kc, &["snapshot", "--live", "-o", "-"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!run.stderr.contains(SECRET) && !run.stdout.contains(SECRET));
}

#[test]
fn tls_is_verified() {
    let Some(c) = cluster("tls") else {
        return;
    };
    // No CA in the kubeconfig: the test server's certificate is not trusted.
    let kc = write_kubeconfig(c.dir.path(), "noca", &c.server, None, &c.admin_token);
    let run = kready(&kc, &["scan", "--live"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.to_lowercase().contains("certificate"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(&c.admin_token), "{}", run.stderr);
}

/// Needs no cluster: a kubeconfig that does not parse is reported by
/// position, never quoted (its credentials would be).
#[test]
fn malformed_kubeconfig_is_not_echoed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("broken");
    std::fs::write(
        &p,
        format!("apiVersion: v1\nusers:\n- name: u\n  user:\n    token: [{SECRET}\n"),
    )
    .expect("write");
    let run = kready(
        "/nonexistent",
        &["scan", "--live", "--kubeconfig", p.to_str().expect("utf-8")],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot load kubeconfig"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(SECRET), "{}", run.stderr);
    let run = kready("/nonexistent", &["scan", "--live"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

fn tools_dir() -> PathBuf {
    if let Ok(t) = std::env::var("KREADY_K8S_TOOLS") {
        return PathBuf::from(t);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidate = root.join("../shared/tools/k8s-apiserver");
    assert!(
        candidate.join("up.sh").exists(),
        "{} not found: set KREADY_K8S_TOOLS to the k8s-apiserver tools folder",
        candidate.display()
    );
    candidate
}

/// Stops a cluster this test started, even when the test fails.
struct OwnCluster(String);

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(tools_dir().join("down.sh"))
            .arg(&self.0)
            .output();
    }
}

/// Reads `env.sh` as written by up.sh (`export NAME=value` lines).
fn read_env(path: &str) -> std::collections::HashMap<String, String> {
    std::fs::read_to_string(path)
        .expect("env.sh")
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches(['"', '\'']).to_string()))
        .collect()
}

/// kready only reads: on a server with an audit log, every request it sends
/// is a get or list, or the create of a SelfSubjectAccessReview (a question
/// about its own rights that the server answers and never stores).
#[test]
fn only_read_requests_reach_the_server() {
    if cluster("only_read_requests").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("audit-policy.yaml");
    let log = dir.path().join("audit.log");
    std::fs::write(
        &policy,
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n",
    )
    .expect("policy");
    let out = Command::new("bash")
        .arg(tools_dir().join("up.sh"))
        .arg("--print-env")
        .env_remove("KREADY_K8S_RUN_DIR")
        .env(
            "KREADY_K8S_APISERVER_ARGS",
            format!(
                "--audit-log-path={} --audit-policy-file={}",
                log.display(),
                policy.display()
            ),
        )
        .output()
        .expect("up.sh runs");
    assert!(
        out.status.success(),
        "up.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env_path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let env = read_env(&env_path);
    let _guard = OwnCluster(env["KREADY_K8S_RUN_DIR"].clone());
    let admin = &env["KREADY_K8S_ADMIN_KUBECONFIG"];
    kubectl(
        admin,
        &["apply", "-f", "-"],
        Some(&fixture("00-cluster.yaml")),
    );
    kubectl(
        admin,
        &["apply", "-f", "-"],
        Some(&fixture("10-workloads.yaml").replace("__RUN__", "audit")),
    );

    let scan = kready(
        admin,
        &["scan", "--live", "-f", "json", "--fail-on", "never"],
    );
    assert_eq!(scan.code, 0, "{}", scan.stderr);
    let snap = kready(admin, &["snapshot", "--live", "-o", "-"]);
    assert_eq!(snap.code, 0, "{}", snap.stderr);
    let restricted = kready(
        &env["KREADY_K8S_RESTRICTED_KUBECONFIG"],
        &["scan", "--live"],
    );
    assert_eq!(restricted.code, 0, "{}", restricted.stderr);

    // The log backend writes synchronously, but give it a moment.
    std::thread::sleep(Duration::from_millis(500));
    let text = std::fs::read_to_string(&log).expect("audit log");
    let mut kready_requests = 0;
    let mut verbs = BTreeSet::new();
    for line in text.lines() {
        let Ok(ev) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if !ev["userAgent"]
            .as_str()
            .unwrap_or("")
            .starts_with("kready/")
        {
            continue;
        }
        kready_requests += 1;
        let verb = ev["verb"].as_str().unwrap_or("").to_string();
        let resource = ev["objectRef"]["resource"].as_str().unwrap_or("");
        let allowed = matches!(verb.as_str(), "get" | "list")
            || (verb == "create"
                && matches!(
                    resource,
                    "selfsubjectaccessreviews" | "selfsubjectrulesreviews"
                ));
        assert!(allowed, "kready sent a {verb} on {resource}: {line}");
        verbs.insert(format!("{verb} {resource}"));
    }
    eprintln!("audit log: {kready_requests} requests from kready: {verbs:?}");
    assert!(
        kready_requests > 20,
        "kready's requests are in the audit log ({kready_requests})"
    );
    assert!(verbs.contains("list pods"), "{verbs:?}");
    assert!(
        verbs.contains("create selfsubjectaccessreviews"),
        "{verbs:?}"
    );
}

/// `--context` picks a context of a merged `KUBECONFIG` (several files);
/// an unknown context is a clear error.
#[test]
fn context_flag_selects_from_a_merged_kubeconfig() {
    let Some(c) = cluster("context_flag") else {
        return;
    };
    let admin = std::fs::read_to_string(&c.admin_kubeconfig).expect("admin kubeconfig");
    let context = admin
        .lines()
        .find_map(|l| l.strip_prefix("current-context:"))
        .expect("current-context")
        .trim()
        .to_string();
    // The restricted file first: its current-context is the default.
    let merged = format!("{}:{}", c.restricted_kubeconfig, c.admin_kubeconfig);
    let shop = c.ns("shop");
    let restricted = kready(
        &merged,
        &[
            "scan",
            "--live",
            "-n",
            &shop,
            "--fail-on",
            "never",
            "--require-complete",
        ],
    );
    assert_eq!(restricted.code, 3, "{}", restricted.stderr);
    let admin_run = kready(
        &merged,
        &[
            "scan",
            "--live",
            "-n",
            &shop,
            "--context",
            &context,
            "--fail-on",
            "never",
            "--require-complete",
        ],
    );
    assert_eq!(admin_run.code, 0, "{}", admin_run.stderr);
    let bad = kready(&merged, &["scan", "--live", "--context", "no-such-context"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("no-such-context"), "{}", bad.stderr);
}
