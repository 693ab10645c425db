//! Rules of the disaster-recovery pillar: can the cluster's state (objects,
//! volumes, etcd) be restored after a loss, and can the cluster be rebuilt.
use super::{Check, Ctx, Outcome, RuleImpl, Violation, Workload};
use crate::components::image_name;
use crate::inventory::{Inventory, Mode};
use crate::object::Object;
use crate::path::FieldPath;
use crate::quantity::{human_seconds, parse_go_duration};
use crate::yaml::Node;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

pub const RULES: &[RuleImpl] = &[
    RuleImpl {
        id: "backup-tool-missing",
        check: Check::Cluster(backup_tool_missing),
    },
    RuleImpl {
        id: "backup-schedule-missing",
        check: Check::Cluster(backup_schedule_missing),
    },
    RuleImpl {
        id: "backup-location-missing",
        check: Check::Cluster(backup_location_missing),
    },
    RuleImpl {
        id: "namespace-not-backed-up",
        check: Check::Namespace(namespace_not_backed_up),
    },
    RuleImpl {
        id: "backup-retention-short",
        check: Check::Object(&["Schedule"], backup_retention_short),
    },
    RuleImpl {
        id: "etcd-backup-missing",
        check: Check::Cluster(etcd_backup_missing),
    },
    RuleImpl {
        id: "pv-reclaim-delete",
        check: Check::Object(&["StorageClass", "PersistentVolume"], pv_reclaim_delete),
    },
    RuleImpl {
        id: "volume-snapshot-class-missing",
        check: Check::Cluster(volume_snapshot_class_missing),
    },
    RuleImpl {
        id: "gitops-missing",
        check: Check::Cluster(gitops_missing),
    },
    RuleImpl {
        id: "last-backup-failed",
        check: Check::Cluster(last_backup_failed),
    },
];

fn backup_tool_missing(cx: &Ctx) -> Outcome {
    if cx.inv.components().provides("backup") {
        Outcome::Pass
    } else {
        Outcome::Fail(vec![Violation::general("no backup tool is installed (Velero, K8up, Kasten K10 or Stash): namespaces and volumes cannot be restored")])
    }
}

// ---------------------------------------------------------------------------
// Backup schedules.

/// Kinds (and their API groups) that schedule backups, per tool.
const SCHEDULE_KINDS: &[(&str, &[&str])] = &[
    ("Schedule", &["velero.io"]),
    ("Schedule", &["k8up.io", "backup.appuio.ch"]),
    ("Policy", &["config.kio.kasten.io"]),
    ("BackupConfiguration", &["stash.appscode.com"]),
];

fn is_velero(o: &Object) -> bool {
    o.api_group() == "velero.io"
}

/// Velero Schedules that are not paused.
fn velero_schedules<'a>(cx: &'a Ctx) -> impl Iterator<Item = (usize, &'a Object)> + 'a {
    cx.inv.of_kind("Schedule").filter(|(_, o)| {
        is_velero(o) && o.root.at(&["spec", "paused"]).and_then(Node::as_bool) != Some(true)
    })
}

/// Every backup-scheduling object of any tool (paused Velero Schedules excluded).
fn backup_schedules<'a>(cx: &'a Ctx) -> Vec<&'a Object> {
    let mut out: Vec<&Object> = velero_schedules(cx).map(|(_, o)| o).collect();
    for (kind, groups) in SCHEDULE_KINDS {
        out.extend(
            cx.inv
                .of_kind(kind)
                .map(|(_, o)| o)
                .filter(|o| !is_velero(o) && groups.contains(&o.api_group())),
        );
    }
    out
}

/// A backup tool with nothing scheduled backs up nothing. Skipped when no
/// backup tool is installed (`backup-tool-missing` says so).
fn backup_schedule_missing(cx: &Ctx) -> Outcome {
    let tools = cx.inv.components().providing("backup");
    if tools.is_empty() {
        return Outcome::Skip;
    }
    if !backup_schedules(cx).is_empty() {
        return Outcome::Pass;
    }
    if cx.inv.mode() == Mode::Live {
        if let Err(reason) = cx.inv.related("Schedule") {
            return Outcome::NotEvaluated(reason);
        }
    }
    Outcome::Fail(vec![Violation::general(format!(
        "{} is installed but no backup is scheduled (no active Velero or K8up Schedule, Kasten Policy or Stash BackupConfiguration)",
        tools.join(", ")
    ))])
}

/// Velero needs a BackupStorageLocation to write backups to; with status
/// (live or snapshot input) at least one must be `Available`. Judged only
/// when Velero is installed (other tools configure storage in their own objects).
fn backup_location_missing(cx: &Ctx) -> Outcome {
    if !cx.inv.components().has("velero") {
        return Outcome::Skip;
    }
    let locations: Vec<(usize, &Object)> = cx
        .inv
        .of_kind("BackupStorageLocation")
        .filter(|(_, o)| is_velero(o))
        .collect();
    if locations.is_empty() {
        if cx.inv.mode() == Mode::Live {
            if let Err(reason) = cx.inv.related("BackupStorageLocation") {
                return Outcome::NotEvaluated(reason);
            }
        }
        return Outcome::Fail(vec![Violation::general(
            "Velero is installed but has no BackupStorageLocation: backups have nowhere to go",
        )]);
    }
    if !cx.settings.read_status {
        return Outcome::Pass;
    }
    let phase = |o: &Object| {
        o.root
            .at(&["status", "phase"])
            .and_then(Node::as_str)
            .map(str::to_string)
    };
    if locations
        .iter()
        .any(|(_, o)| phase(o).as_deref() == Some("Available"))
    {
        return Outcome::Pass;
    }
    Outcome::Fail(
        locations
            .iter()
            .map(|(i, o)| {
                Violation::on(
                    *i,
                    FieldPath::of(&["status", "phase"]),
                    format!(
                        "BackupStorageLocation {} is {}: Velero cannot write backups",
                        o.name,
                        phase(o).unwrap_or_else(|| "not reported available".to_string())
                    ),
                )
            })
            .collect(),
    )
}

/// Whether a StatefulSet keeps data in volumes of its own.
fn has_claim_templates(o: &Object) -> bool {
    o.root
        .at(&["spec", "volumeClaimTemplates"])
        .is_some_and(|v| !v.items().is_empty())
}

/// What holds persistent data in a namespace, for messages (empty: nothing).
fn stateful_things(cx: &Ctx, ns: &str) -> (Vec<String>, Option<usize>) {
    let mut what = Vec::new();
    let mut first = None;
    let pvcs: Vec<(usize, &Object)> = cx.inv.in_namespace(ns, "PersistentVolumeClaim").collect();
    if let Some((i, _)) = pvcs.first() {
        first = Some(*i);
        what.push(match pvcs.len() {
            1 => format!("PersistentVolumeClaim {}", pvcs[0].1.name),
            n => format!("{n} PersistentVolumeClaims"),
        });
    }
    for (i, s) in cx.inv.in_namespace(ns, "StatefulSet") {
        if has_claim_templates(s) {
            first.get_or_insert(i);
            what.push(format!("StatefulSet {}", s.name));
        }
    }
    (what, first)
}

/// Velero's namespace patterns: `*` or a glob.
fn ns_pattern_matches(pattern: &str, ns: &str) -> bool {
    pattern == "*"
        || pattern == ns
        || (pattern.contains(['*', '?', '['])
            && globset::Glob::new(pattern).is_ok_and(|g| g.compile_matcher().is_match(ns)))
}

/// Whether a Velero Schedule's backups include namespace `ns`: its
/// `includedNamespaces` (absent, empty or `*`: all) minus `excludedNamespaces`.
fn velero_covers(schedule: &Object, ns: &str) -> bool {
    let list = |k: &str| -> Vec<&str> {
        schedule
            .root
            .at(&["spec", "template", k])
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter_map(Node::as_str)
            .collect()
    };
    let included = list("includedNamespaces");
    let excluded = list("excludedNamespaces");
    (included.is_empty() || included.iter().any(|p| ns_pattern_matches(p, ns)))
        && !excluded.iter().any(|p| ns_pattern_matches(p, ns))
}

/// Whether a Kasten policy protects `ns`: no selector means every
/// namespace; an `k10.kasten.io/appNamespace` selector lists them; any other
/// label selector cannot be judged from here and counts as covering.
fn kasten_covers(policy: &Object, ns: &str) -> bool {
    const KEY: &str = "k10.kasten.io/appNamespace";
    let Some(sel) = policy.root.at(&["spec", "selector"]) else {
        return true;
    };
    if let Some(v) = sel.at(&["matchLabels", KEY]).and_then(Node::as_str) {
        return v == ns;
    }
    let exprs = sel.get("matchExpressions").map(Node::items).unwrap_or(&[]);
    for e in exprs {
        if e.get("key").and_then(Node::as_str) == Some(KEY)
            && e.get("operator").and_then(Node::as_str) == Some("In")
        {
            return e
                .get("values")
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .any(|v| v.as_str() == Some(ns));
        }
    }
    true
}

/// A namespace with persistent data (PersistentVolumeClaims, or StatefulSets
/// with volume claim templates) must be included in a backup schedule.
/// Velero Schedules cover the namespaces they include; K8up Schedules and
/// Stash BackupConfigurations cover their own namespace; Kasten Policies
/// their selected ones. Not evaluated when the input has no schedule of any
/// tool: an app's manifests do not carry the cluster's backup config.
fn namespace_not_backed_up(cx: &Ctx, ns: &str) -> Outcome {
    let (what, first) = stateful_things(cx, ns);
    if what.is_empty() {
        return Outcome::Skip;
    }
    let schedules = backup_schedules(cx);
    if schedules.is_empty() {
        let reason = cx
            .inv
            .related("Schedule")
            .err()
            .unwrap_or_else(|| "no active backup Schedule in the input".to_string());
        return Outcome::NotEvaluated(reason);
    }
    let covered = schedules
        .iter()
        .any(|s| match (s.kind.as_str(), s.api_group()) {
            ("Schedule", "velero.io") => velero_covers(s, ns),
            ("Policy", _) => kasten_covers(s, ns),
            _ => s.effective_namespace() == Some(ns),
        });
    if covered {
        return Outcome::Pass;
    }
    let msg = format!(
        "namespace {ns} holds persistent data ({}) but no backup schedule includes it",
        what.join(", ")
    );
    let at = cx.inv.get("Namespace", "", ns).map(|(i, _)| i).or(first);
    Outcome::Fail(vec![match at {
        Some(i) => Violation::on(i, FieldPath::of(&["metadata", "name"]), msg),
        None => Violation::general(msg),
    }])
}

/// Velero's retention when a Schedule sets none (or `0`): 30 days.
const VELERO_DEFAULT_TTL_SECS: f64 = 720.0 * 3600.0;

/// A Velero Schedule keeping backups for less than the configured minimum
/// (default 7 days) may have deleted the last good backup by the time a
/// silent corruption is noticed. An absent or zero `ttl` means Velero's
/// default (720h); a ttl Velero would reject is left to Velero.
fn backup_retention_short(cx: &Ctx, o: &Object) -> Outcome {
    if !is_velero(o) {
        return Outcome::Skip;
    }
    let min_days = cx.settings.thresholds.min_backup_retention_days;
    let ttl_node = o.root.at(&["spec", "template", "ttl"]);
    let ttl = match ttl_node.and_then(Node::as_str) {
        None => VELERO_DEFAULT_TTL_SECS,
        Some(t) => match parse_go_duration(t) {
            Some(s) if s <= 0.0 => VELERO_DEFAULT_TTL_SECS,
            Some(s) => s,
            None => return Outcome::Skip,
        },
    };
    if ttl >= min_days * 86400.0 {
        return Outcome::Pass;
    }
    Outcome::fail(
        FieldPath::of(&["spec", "template", "ttl"]),
        format!(
            "Schedule {} keeps backups for {} ({}), less than the minimum of {min_days} days",
            o.name,
            ttl_node.and_then(Node::as_str).unwrap_or_default(),
            human_seconds(ttl)
        ),
    )
}

// ---------------------------------------------------------------------------
// etcd.

/// Whether a pod runs etcd as part of the control plane (a kubeadm static
/// pod: label `component: etcd`, or an `etcd` image, in kube-system).
fn is_control_plane_etcd(w: &Workload) -> bool {
    w.obj.effective_namespace() == Some("kube-system")
        && !w.is_batch()
        && (w.obj.label("component") == Some("etcd")
            || w.containers_of(super::ContainerKind::Regular).any(|c| {
                c.get("image")
                    .and_then(Node::as_str)
                    .is_some_and(|i| image_name(i) == "etcd")
            }))
}

/// Whether a CronJob takes etcd snapshots (`etcdctl ... snapshot save`).
fn snapshots_etcd(w: &Workload) -> bool {
    w.obj.kind == "CronJob"
        && w.all_containers().any(|c| {
            let words: Vec<&str> = ["command", "args"]
                .iter()
                .flat_map(|k| c.get(k).map(Node::items).unwrap_or(&[]))
                .filter_map(Node::as_str)
                .flat_map(str::split_whitespace)
                .collect();
            let text = words.join(" ");
            text.contains("etcdctl") && text.contains("snapshot save")
        })
}

/// A self-managed control plane needs periodic etcd snapshots: they are the
/// only way to restore the cluster's whole state. Judged when the control
/// plane's etcd is visible (kubeadm-style static pod in kube-system); managed
/// control planes (EKS, GKE, AKS) back up etcd themselves.
fn etcd_backup_missing(cx: &Ctx) -> Outcome {
    let snapshot_job = cx.inv.workloads().any(|w| snapshots_etcd(&w));
    if snapshot_job || cx.inv.components().provides("etcd-backup") {
        return Outcome::Pass;
    }
    let etcd = cx
        .inv
        .of_kind("Pod")
        .find(|(i, o)| Workload::of(o, *i).is_some_and(|w| is_control_plane_etcd(&w)));
    match etcd {
        None => Outcome::NotEvaluated(
            "no etcd of the control plane is visible (managed control planes back up etcd themselves)".into(),
        ),
        Some((i, o)) => Outcome::Fail(vec![Violation::on(
            i,
            FieldPath::of(&["metadata", "name"]),
            format!(
                "etcd runs in the cluster ({}) but no CronJob runs `etcdctl snapshot save` and no etcd backup operator is installed",
                o.name
            ),
        )]),
    }
}

// ---------------------------------------------------------------------------
// Volumes.

/// The StorageClass a claim asks for.
enum ClaimClass<'a> {
    Named(&'a str),
    /// No class named: the cluster's default class.
    Default,
    /// `storageClassName: ""`: static binding, no class.
    NoClass,
}

/// Class of a claim spec (a PVC's `spec` or a claim template's `spec`),
/// with the legacy beta annotation on its metadata.
fn claim_class<'a>(spec: Option<&'a Node>, meta: Option<&'a Node>) -> ClaimClass<'a> {
    let named = spec
        .and_then(|s| s.get("storageClassName"))
        .and_then(Node::as_str)
        .or_else(|| {
            meta.and_then(|m| m.at(&["annotations", "volume.beta.kubernetes.io/storage-class"]))
                .and_then(Node::as_str)
        });
    match named {
        Some("") => ClaimClass::NoClass,
        Some(n) => ClaimClass::Named(n),
        None => ClaimClass::Default,
    }
}

fn is_default_class(sc: &Object) -> bool {
    [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|k| sc.annotation(k) == Some("true"))
}

/// The first claim in the input that gets its volume from StorageClass
/// `sc`, described for a message.
fn claim_using(cx: &Ctx, sc: &Object) -> Option<String> {
    let users = cx.inv.derived(ClaimUsers::build);
    let named = users.named.get(sc.name.as_str());
    let default = users.default.as_ref().filter(|_| is_default_class(sc));
    // The first user in claim order, whichever way it names the class.
    [named, default]
        .into_iter()
        .flatten()
        .min_by_key(|(order, _)| *order)
        .map(|(_, user)| user.clone())
}

/// The first user (PVCs, then StatefulSets' claim templates, in input
/// order) of each StorageClass named by a claim, and of the default class:
/// built once, so each StorageClass is not checked against every claim.
struct ClaimUsers {
    named: HashMap<String, (usize, String)>,
    default: Option<(usize, String)>,
}

impl ClaimUsers {
    fn build(inv: &Inventory) -> ClaimUsers {
        let mut users = ClaimUsers {
            named: HashMap::new(),
            default: None,
        };
        let pvcs = inv.of_kind("PersistentVolumeClaim").map(|(_, pvc)| {
            (
                pvc,
                vec![claim_class(pvc.root.get("spec"), pvc.root.get("metadata"))],
            )
        });
        let stss = inv.of_kind("StatefulSet").map(|(_, sts)| {
            let tpls = sts
                .root
                .at(&["spec", "volumeClaimTemplates"])
                .map(Node::items)
                .unwrap_or(&[]);
            let classes = tpls
                .iter()
                .map(|t| claim_class(t.get("spec"), t.get("metadata")))
                .collect();
            (sts, classes)
        });
        for (order, (user, classes)) in pvcs.chain(stss).enumerate() {
            for class in classes {
                match class {
                    ClaimClass::Named(n) if !users.named.contains_key(n) => {
                        users.named.insert(n.to_string(), (order, user.display()));
                    }
                    ClaimClass::Default if users.default.is_none() => {
                        users.default = Some((order, user.display()));
                    }
                    _ => {}
                }
            }
        }
        users
    }
}

/// With reclaim policy Delete, deleting a claim (a `helm uninstall`, a
/// deleted namespace, a renamed StatefulSet) deletes the disk and its data.
/// A StorageClass (Delete when unset) is judged only when a claim in the
/// input uses it, so a cluster's unused default class is not reported; a
/// PersistentVolume is judged when it says Delete (a manually created PV
/// defaults to Retain).
fn pv_reclaim_delete(cx: &Ctx, o: &Object) -> Outcome {
    if o.kind == "PersistentVolume" {
        let policy = o
            .root
            .at(&["spec", "persistentVolumeReclaimPolicy"])
            .and_then(Node::as_str);
        if policy != Some("Delete") {
            return Outcome::Pass;
        }
        let claim = o
            .root
            .at(&["spec", "claimRef"])
            .and_then(|c| {
                let n = c.get("name").and_then(Node::as_str)?;
                let ns = c
                    .get("namespace")
                    .and_then(Node::as_str)
                    .unwrap_or("default");
                Some(format!(", bound to claim {ns}/{n},"))
            })
            .unwrap_or_default();
        return Outcome::fail(
            FieldPath::of(&["spec", "persistentVolumeReclaimPolicy"]),
            format!("PersistentVolume {}{claim} has reclaim policy Delete: deleting its claim deletes the data", o.name),
        );
    }
    let policy = o.root.get("reclaimPolicy").and_then(Node::as_str);
    if policy.is_some_and(|p| p != "Delete") {
        return Outcome::Pass;
    }
    let Some(user) = claim_using(cx, o) else {
        return Outcome::Skip;
    };
    let how = if policy.is_some() {
        "has reclaimPolicy Delete"
    } else {
        "sets no reclaimPolicy (Delete by default)"
    };
    Outcome::fail(
        FieldPath::of(&["reclaimPolicy"]),
        format!(
            "StorageClass {} {how} and provisions volumes for {user}: deleting a claim deletes its data",
            o.name
        ),
    )
}

/// Whether volume data is backed up at file level (K8up, Stash, Velero's
/// node agent), which needs no CSI snapshots.
fn file_level_volume_backup(cx: &Ctx) -> bool {
    let comps = cx.inv.components();
    comps.has("k8up")
        || comps.has("stash")
        || cx.inv.of_kind("DaemonSet").any(|(i, o)| {
            Workload::of(o, i).is_some_and(|w| {
                w.containers_of(super::ContainerKind::Regular).any(|c| {
                    c.get("image")
                        .and_then(Node::as_str)
                        .is_some_and(|img| image_name(img) == "velero")
                })
            })
        })
}

/// Persistent volumes without a VolumeSnapshotClass cannot be snapshotted
/// (nor backed up by Velero's CSI support). Passes when volume data is
/// backed up at file level instead.
fn volume_snapshot_class_missing(cx: &Ctx) -> Outcome {
    let pvcs = cx.inv.of_kind("PersistentVolumeClaim").count();
    let templates = cx
        .inv
        .of_kind("StatefulSet")
        .filter(|(_, s)| has_claim_templates(s))
        .count();
    if pvcs + templates == 0 {
        return Outcome::Skip;
    }
    if cx.inv.has_kind("VolumeSnapshotClass") || file_level_volume_backup(cx) {
        return Outcome::Pass;
    }
    if let Some(reason) = cx.inv.unavailable.get("VolumeSnapshotClass") {
        return Outcome::NotEvaluated(format!("VolumeSnapshotClass could not be listed: {reason}"));
    }
    let count = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let claims = count(pvcs, "PersistentVolumeClaim", "PersistentVolumeClaims");
    let sets = count(
        templates,
        "StatefulSet with volume claim templates",
        "StatefulSets with volume claim templates",
    );
    let what = match (pvcs, templates) {
        (_, 0) => claims,
        (0, _) => sets,
        _ => format!("{claims} and {sets}"),
    };
    Outcome::Fail(vec![Violation::general(format!(
        "{what} but no VolumeSnapshotClass: volumes cannot be snapshotted, and no file-level volume backup is installed"
    ))])
}

/// Without Argo CD or Flux the cluster's desired state lives in people's
/// terminals: a lost cluster cannot be rebuilt from git.
fn gitops_missing(cx: &Ctx) -> Outcome {
    if cx.inv.components().provides("gitops") {
        Outcome::Pass
    } else {
        Outcome::Fail(vec![Violation::general(
            "no GitOps controller is installed (Argo CD or Flux): the cluster cannot be rebuilt from git",
        )])
    }
}

// ---------------------------------------------------------------------------
// Backup results (status).

/// The longest gap between two runs of a cron schedule, rounded up to a
/// whole unit: a conservative bound, so a schedule is never judged late early.
fn schedule_period_secs(cron: &str) -> Option<f64> {
    let spec = cron.trim();
    let spec = if spec.starts_with("CRON_TZ=") || spec.starts_with("TZ=") {
        spec.split_once(' ').map(|(_, s)| s.trim())?
    } else {
        spec
    };
    const H: f64 = 3600.0;
    const D: f64 = 24.0 * H;
    if let Some(every) = spec.strip_prefix("@every ") {
        return parse_go_duration(every);
    }
    match spec {
        "@hourly" => return Some(H),
        "@daily" | "@midnight" => return Some(D),
        "@weekly" => return Some(7.0 * D),
        "@monthly" => return Some(31.0 * D),
        "@yearly" | "@annually" => return Some(366.0 * D),
        _ => {}
    }
    let f: Vec<&str> = spec.split_whitespace().collect();
    let [_min, hour, dom, mon, dow] = f.as_slice() else {
        return None;
    };
    Some(if *mon != "*" {
        366.0 * D
    } else if *dom != "*" {
        31.0 * D
    } else if *dow != "*" {
        7.0 * D
    } else if *hour == "*" {
        H
    } else if let Some(step) = hour.strip_prefix("*/") {
        step.parse::<f64>().ok().map_or(D, |n| n * H)
    } else {
        D
    })
}

fn timestamp(o: &Object) -> Option<DateTime<Utc>> {
    let t = o
        .root
        .at(&["status", "startTimestamp"])
        .or_else(|| o.root.at(&["metadata", "creationTimestamp"]))
        .and_then(Node::as_str)?;
    DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn phase(o: &Object) -> &str {
    o.root
        .at(&["status", "phase"])
        .and_then(Node::as_str)
        .unwrap_or("")
}

/// Phases after which a Velero Backup will not change.
const FINISHED: &[&str] = &["Completed", "PartiallyFailed", "Failed", "FailedValidation"];

/// The newest Velero backup must have completed, and each active Schedule
/// must have a completed backup younger than twice its period. Needs status
/// (live or snapshot input).
fn last_backup_failed(cx: &Ctx) -> Outcome {
    if !cx.inv.components().has("velero") {
        return Outcome::Skip;
    }
    if !cx.settings.read_status {
        return Outcome::NotEvaluated(
            "needs live or snapshot input: backup results are status".into(),
        );
    }
    if let Err(reason) = cx.inv.related("Backup") {
        if cx.inv.mode() == Mode::Live {
            return Outcome::NotEvaluated(reason);
        }
    }
    judge_backups(cx, Utc::now())
}

fn judge_backups(cx: &Ctx, now: DateTime<Utc>) -> Outcome {
    const SCHEDULE_LABEL: &str = "velero.io/schedule-name";
    let backups: Vec<(usize, &Object, DateTime<Utc>)> = cx
        .inv
        .of_kind("Backup")
        .filter(|(_, o)| is_velero(o))
        .filter_map(|(i, o)| Some((i, o, timestamp(o)?)))
        .collect();
    let schedules: Vec<(usize, &Object)> = velero_schedules(cx).collect();
    if backups.is_empty() && schedules.is_empty() {
        return Outcome::Skip;
    }
    let mut v = Vec::new();
    // The newest finished backup overall.
    let newest = backups
        .iter()
        .filter(|(_, o, _)| FINISHED.contains(&phase(o)))
        .max_by_key(|(_, _, t)| *t);
    if let Some((i, o, _)) = newest {
        if phase(o) != "Completed" {
            let from = o
                .label(SCHEDULE_LABEL)
                .map(|s| format!(" (from Schedule {s})"))
                .unwrap_or_default();
            v.push(Violation::on(
                *i,
                FieldPath::of(&["status", "phase"]),
                format!(
                    "the newest Velero backup, {}{from}, ended {}",
                    o.name,
                    phase(o)
                ),
            ));
        }
    }
    // Each active Schedule: a completed backup within twice its period.
    for (si, s) in &schedules {
        let Some(period) = s
            .root
            .at(&["spec", "schedule"])
            .and_then(Node::as_str)
            .and_then(schedule_period_secs)
        else {
            continue;
        };
        let allowed = chrono::Duration::seconds((2.0 * period + 3600.0) as i64);
        let last_ok = backups
            .iter()
            .filter(|(_, b, _)| b.label(SCHEDULE_LABEL) == Some(s.name.as_str()))
            .filter(|(_, b, _)| phase(b) == "Completed")
            .map(|(_, _, t)| *t)
            .max();
        let since = last_ok.or_else(|| timestamp(s));
        let Some(since) = since else { continue };
        if now - since > allowed {
            let age = human_seconds(((now - since).num_hours() * 3600) as f64);
            let msg = match last_ok {
                Some(_) => format!(
                    "Schedule {} runs every {} but its last completed backup is {age} old",
                    s.name,
                    human_seconds(period)
                ),
                None => format!(
                    "Schedule {} was created {age} ago and has no completed backup",
                    s.name
                ),
            };
            v.push(Violation::on(
                *si,
                FieldPath::of(&["spec", "schedule"]),
                msg,
            ));
        }
    }
    Outcome::from(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Inventory;
    use crate::settings::Settings;

    fn inventory(text: &str) -> Inventory {
        Inventory::from_yaml(text)
    }

    const BACKUPS: &str = "
apiVersion: velero.io/v1
kind: Schedule
metadata: {name: daily, namespace: velero, creationTimestamp: '2025-01-01T00:00:00Z'}
spec: {schedule: '0 2 * * *'}
---
apiVersion: velero.io/v1
kind: Backup
metadata:
  name: daily-1
  namespace: velero
  labels: {velero.io/schedule-name: daily}
status: {phase: Completed, startTimestamp: '2025-03-01T02:00:00Z'}
---
apiVersion: velero.io/v1
kind: Backup
metadata:
  name: daily-2
  namespace: velero
  labels: {velero.io/schedule-name: daily}
status: {phase: InProgress, startTimestamp: '2025-03-02T02:00:00Z'}
";

    fn at(t: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
    }

    /// A default class named by a later claim: the message names the
    /// first claim that uses it, whichever way (default or by name).
    #[test]
    fn storage_class_message_names_its_first_user() {
        const SC: &str = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: fast\n  annotations: {storageclass.kubernetes.io/is-default-class: \"true\"}\nprovisioner: x\n";
        const BY_DEFAULT: &str = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: first, namespace: a}\nspec: {}\n";
        const BY_NAME: &str = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: second, namespace: a}\nspec: {storageClassName: fast}\n";
        let settings = Settings::default();
        for (claims, user) in [
            ([BY_DEFAULT, BY_NAME], "a/first"),
            ([BY_NAME, BY_DEFAULT], "a/second"),
        ] {
            let inv = inventory(&format!("{SC}---\n{}---\n{}", claims[0], claims[1]));
            let cx = Ctx {
                inv: &inv,
                settings: &settings,
            };
            let Outcome::Fail(v) = pv_reclaim_delete(&cx, &inv.objects[0]) else {
                panic!("a used class with reclaim policy Delete fails");
            };
            assert!(v[0].message.contains(user), "{}", v[0].message);
        }
    }

    #[test]
    fn recent_backup_passes_and_stale_one_fails() {
        let inv = inventory(BACKUPS);
        let settings = Settings::default();
        let cx = Ctx {
            inv: &inv,
            settings: &settings,
        };
        assert_eq!(
            judge_backups(&cx, at("2025-03-02T03:00:00Z")),
            Outcome::Pass
        );
        let Outcome::Fail(v) = judge_backups(&cx, at("2025-03-05T03:00:00Z")) else {
            panic!("stale schedule must fail");
        };
        assert_eq!(v.len(), 1);
        assert!(v[0].message.contains("Schedule daily"), "{}", v[0].message);
    }

    #[test]
    fn failed_newest_backup_fails() {
        let text = BACKUPS.replace("phase: InProgress", "phase: PartiallyFailed");
        let inv = inventory(&text);
        let settings = Settings::default();
        let cx = Ctx {
            inv: &inv,
            settings: &settings,
        };
        let Outcome::Fail(v) = judge_backups(&cx, at("2025-03-02T03:00:00Z")) else {
            panic!("partially failed newest backup must fail");
        };
        assert!(v[0].message.contains("PartiallyFailed"), "{}", v[0].message);
    }

    #[test]
    fn backup_location_status_is_read_only_when_allowed() {
        let inv = inventory(
            "
apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata: {name: default, namespace: velero}
spec: {provider: aws, objectStorage: {bucket: b}}
status: {phase: Unavailable}
",
        );
        let mut settings = Settings::default();
        let cx = Ctx {
            inv: &inv,
            settings: &settings,
        };
        assert_eq!(backup_location_missing(&cx), Outcome::Pass);
        settings.read_status = true;
        let cx = Ctx {
            inv: &inv,
            settings: &settings,
        };
        let Outcome::Fail(v) = backup_location_missing(&cx) else {
            panic!("an Unavailable location must fail with status");
        };
        assert!(v[0].message.contains("Unavailable"), "{}", v[0].message);
    }

    #[test]
    fn last_backup_needs_status() {
        let inv = inventory(BACKUPS);
        let settings = Settings::default();
        let cx = Ctx {
            inv: &inv,
            settings: &settings,
        };
        assert!(matches!(last_backup_failed(&cx), Outcome::NotEvaluated(_)));
    }

    #[test]
    fn cron_periods() {
        assert_eq!(schedule_period_secs("0 2 * * *"), Some(86400.0));
        assert_eq!(schedule_period_secs("0 */6 * * *"), Some(6.0 * 3600.0));
        assert_eq!(schedule_period_secs("*/15 * * * *"), Some(3600.0));
        assert_eq!(schedule_period_secs("0 3 * * 0"), Some(7.0 * 86400.0));
        assert_eq!(schedule_period_secs("@every 12h"), Some(12.0 * 3600.0));
        assert_eq!(
            schedule_period_secs("CRON_TZ=Europe/Paris 0 1 * * *"),
            Some(86400.0)
        );
        assert_eq!(schedule_period_secs("nonsense"), None);
    }

    #[test]
    fn velero_namespace_coverage() {
        let inv = inventory(
            "
apiVersion: velero.io/v1
kind: Schedule
metadata: {name: s, namespace: velero}
spec:
  schedule: '@daily'
  template:
    includedNamespaces: ['shop-*', billing]
    excludedNamespaces: [shop-test]
",
        );
        let s = &inv.objects[0];
        assert!(velero_covers(s, "shop-prod"));
        assert!(velero_covers(s, "billing"));
        assert!(!velero_covers(s, "shop-test"));
        assert!(!velero_covers(s, "other"));
    }
}
