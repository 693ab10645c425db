//! Pod Security Standards, baseline and restricted, following the
//! reference implementation (k8s.io/pod-security-admission, `policy/check_*.go`)
//! check by check, including its version gates.
//!
//! Conventions shared by every rule here:
//! - a field counts as set when it is present and not null (Go: a non-nil
//!   pointer); a missing or null string is `""`;
//! - every container kind counts: init, regular and ephemeral (`visitContainers`);
//! - the policy version is `cx.settings.pss_version()`; a check introduced at
//!   1.x is `Skip` below that version;
//! - at the restricted level some restricted checks replace a baseline one
//!   (`OverrideCheckIDs`) and exempt Windows pods from 1.25: the baseline rule
//!   then skips Windows pods too, so the verdict is the reference's.
use crate::path::FieldPath;
use crate::rules::{Check, Container, Ctx, Outcome, RuleImpl, Violation, Workload};
use crate::settings::PssLevel;
use crate::yaml::Node;

pub const RULES: &[RuleImpl] = &[
    RuleImpl {
        id: "host-process",
        check: Check::Pod(host_process),
    },
    RuleImpl {
        id: "host-namespaces",
        check: Check::Pod(host_namespaces),
    },
    RuleImpl {
        id: "privileged-container",
        check: Check::Pod(privileged),
    },
    RuleImpl {
        id: "capabilities-beyond-baseline",
        check: Check::Pod(capabilities_baseline),
    },
    RuleImpl {
        id: "host-path-volume",
        check: Check::Pod(host_path_volume),
    },
    RuleImpl {
        id: "host-port",
        check: Check::Pod(host_port),
    },
    RuleImpl {
        id: "apparmor-unconfined",
        check: Check::Pod(apparmor),
    },
    RuleImpl {
        id: "selinux-custom-options",
        check: Check::Pod(selinux),
    },
    RuleImpl {
        id: "proc-mount-unmasked",
        check: Check::Pod(proc_mount),
    },
    RuleImpl {
        id: "seccomp-unconfined",
        check: Check::Pod(seccomp_baseline),
    },
    RuleImpl {
        id: "unsafe-sysctls",
        check: Check::Pod(sysctls),
    },
    RuleImpl {
        id: "probe-host-field",
        check: Check::Pod(probe_host),
    },
    RuleImpl {
        id: "restricted-volume-types",
        check: Check::Pod(restricted_volumes),
    },
    RuleImpl {
        id: "privilege-escalation-allowed",
        check: Check::Pod(privilege_escalation),
    },
    RuleImpl {
        id: "run-as-non-root",
        check: Check::Pod(run_as_non_root),
    },
    RuleImpl {
        id: "run-as-root-user",
        check: Check::Pod(run_as_user),
    },
    RuleImpl {
        id: "seccomp-profile-missing",
        check: Check::Pod(seccomp_restricted),
    },
    RuleImpl {
        id: "capabilities-not-dropped",
        check: Check::Pod(capabilities_restricted),
    },
];

// ---------------------------------------------------------------- helpers

/// A field that is present and not null (a non-nil pointer in Go).
fn set(n: Option<&Node>) -> Option<&Node> {
    n.filter(|n| !n.is_null())
}

/// A string field as Go reads it: missing or null is `""`.
fn text(n: Option<&Node>) -> &str {
    n.and_then(Node::as_str).unwrap_or("")
}

fn is_true(n: Option<&Node>) -> bool {
    n.and_then(Node::as_bool) == Some(true)
}

fn items(n: Option<&Node>) -> &[Node] {
    n.map(Node::items).unwrap_or(&[])
}

/// The pod-level `securityContext` field `keys`.
fn pod_sc<'a>(w: &Workload<'a>, keys: &[&str]) -> Option<&'a Node> {
    w.get("securityContext")?.at(keys)
}

fn pod_sc_path(w: &Workload, keys: &[&str]) -> FieldPath {
    w.path("securityContext").keys(keys)
}

/// The container-level `securityContext` field `keys`.
fn sc<'a>(c: &Container<'a>, keys: &[&str]) -> Option<&'a Node> {
    c.get("securityContext")?.at(keys)
}

fn sc_path(c: &Container, keys: &[&str]) -> FieldPath {
    c.path().key("securityContext").keys(keys)
}

fn restricted(cx: &Ctx) -> bool {
    cx.settings.pss_level == PssLevel::Restricted
}

/// `hostUsers: false`: the pod runs in a user namespace (KEP-127).
fn user_namespaced(w: &Workload) -> bool {
    w.get("hostUsers").and_then(Node::as_bool) == Some(false)
}

/// From policy 1.25 the restricted checks on Linux-only fields
/// (allowPrivilegeEscalation, capabilities, seccomp) exempt Windows pods.
fn windows_exempt(cx: &Ctx, w: &Workload) -> bool {
    cx.settings.pss_at_least(25) && w.is_windows()
}

/// The policy version, for messages (`v1.34`).
fn version(cx: &Ctx) -> String {
    format!("v{}", cx.settings.pss_version())
}

// ---------------------------------------------------------------- baseline

/// [windowsHostProcess] neither the pod nor a container may set
/// `securityContext.windowsOptions.hostProcess: true`.
fn host_process(_cx: &Ctx, w: &Workload) -> Outcome {
    const KEY: [&str; 2] = ["windowsOptions", "hostProcess"];
    let mut v = Vec::new();
    if is_true(pod_sc(w, &KEY)) {
        v.push(Violation::new(
            pod_sc_path(w, &KEY),
            "pod sets securityContext.windowsOptions.hostProcess: true",
        ));
    }
    for c in w.all_containers() {
        if is_true(sc(&c, &KEY)) {
            v.push(Violation::new(
                sc_path(&c, &KEY),
                format!("{} sets windowsOptions.hostProcess: true", c.label()),
            ));
        }
    }
    Outcome::from(v)
}

/// [hostNamespaces] `hostNetwork`, `hostPID` and `hostIPC` must be unset or false.
fn host_namespaces(_cx: &Ctx, w: &Workload) -> Outcome {
    let v = ["hostNetwork", "hostPID", "hostIPC"]
        .into_iter()
        .filter(|k| is_true(w.get(k)))
        .map(|k| Violation::new(w.path(k), format!("pod sets {k}: true")))
        .collect();
    Outcome::from(v)
}

/// [privileged] containers must not set `securityContext.privileged: true`.
fn privileged(_cx: &Ctx, w: &Workload) -> Outcome {
    let mut v = Vec::new();
    for c in w.all_containers() {
        if is_true(sc(&c, &["privileged"])) {
            v.push(Violation::new(
                sc_path(&c, &["privileged"]),
                format!("{} sets privileged: true", c.label()),
            ));
        }
    }
    Outcome::from(v)
}

/// Capabilities a baseline container may add (`capabilities_allowed_1_0`).
pub(crate) const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Entries of `capabilities.add` not in `allowed` (exact, case-sensitive
/// match as in the reference: `CAP_SYS_ADMIN` or `sys_admin` are not
/// normalised), with their index.
fn added_outside<'a>(c: &Container<'a>, allowed: &[&str]) -> Vec<(usize, &'a str)> {
    items(sc(c, &["capabilities", "add"]))
        .iter()
        .enumerate()
        .map(|(i, n)| (i, n.as_str().unwrap_or("")))
        .filter(|(_, cap)| !allowed.contains(cap))
        .collect()
}

/// [capabilities_baseline] `capabilities.add` only from the baseline set.
/// At the restricted level from 1.22 the reference replaces this check by
/// capabilities_restricted (stricter on Linux, Windows pods exempt from
/// 1.25): Windows pods are skipped there to keep the reference's verdict.
fn capabilities_baseline(cx: &Ctx, w: &Workload) -> Outcome {
    if restricted(cx) && windows_exempt(cx, w) {
        return Outcome::Skip;
    }
    let mut v = Vec::new();
    for c in w.all_containers() {
        let bad = added_outside(&c, BASELINE_CAPABILITIES);
        if let Some((first, _)) = bad.first() {
            let names: Vec<&str> = bad.iter().map(|(_, n)| *n).collect();
            v.push(Violation::new(
                sc_path(&c, &["capabilities", "add"]).idx(*first),
                format!(
                    "{} adds {} beyond the baseline set",
                    c.label(),
                    names.join(", ")
                ),
            ));
        }
    }
    Outcome::from(v)
}

/// [hostPathVolumes] no `hostPath` volume.
fn host_path_volume(_cx: &Ctx, w: &Workload) -> Outcome {
    let mut v = Vec::new();
    for (i, vol) in items(w.get("volumes")).iter().enumerate() {
        if let Some(hp) = set(vol.get("hostPath")) {
            let name = text(vol.get("name"));
            let path = text(hp.get("path"));
            v.push(Violation::new(
                w.path("volumes").idx(i).key("hostPath"),
                format!("volume \"{name}\" mounts hostPath {path}"),
            ));
        }
    }
    Outcome::from(v)
}

/// [hostPorts] no container port with a non-zero `hostPort`.
fn host_port(_cx: &Ctx, w: &Workload) -> Outcome {
    let mut v = Vec::new();
    for c in w.all_containers() {
        for (j, p) in items(c.get("ports")).iter().enumerate() {
            let Some(hp) = set(p.get("hostPort")) else {
                continue;
            };
            if hp.as_i64() != Some(0) {
                v.push(Violation::new(
                    c.path().key("ports").idx(j).key("hostPort"),
                    format!("{} binds hostPort {}", c.label(), text(Some(hp))),
                ));
            }
        }
    }
    Outcome::from(v)
}

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// [appArmorProfile] the `appArmorProfile` field (pod and containers) must
/// be RuntimeDefault or Localhost when set; the beta annotation
/// `container.apparmor.security.beta.kubernetes.io/*` must be empty,
/// `runtime/default` or `localhost/*`. Both channels apply at every version.
fn apparmor(_cx: &Ctx, w: &Workload) -> Outcome {
    let allowed_type = |t: &str| t == "RuntimeDefault" || t == "Localhost";
    let mut v = Vec::new();
    if let Some(p) = set(pod_sc(w, &["appArmorProfile"])) {
        let t = text(p.get("type"));
        if !allowed_type(t) {
            v.push(Violation::new(
                pod_sc_path(w, &["appArmorProfile", "type"]),
                format!("pod sets appArmorProfile.type: {t}"),
            ));
        }
    }
    for c in w.all_containers() {
        if let Some(p) = set(sc(&c, &["appArmorProfile"])) {
            let t = text(p.get("type"));
            if !allowed_type(t) {
                v.push(Violation::new(
                    sc_path(&c, &["appArmorProfile", "type"]),
                    format!("{} sets appArmorProfile.type: {t}", c.label()),
                ));
            }
        }
    }
    for (k, val) in w.annotations() {
        if !k.starts_with(APPARMOR_ANNOTATION_PREFIX) {
            continue;
        }
        let val = val.as_str().unwrap_or("");
        if !(val.is_empty() || val == "runtime/default" || val.starts_with("localhost/")) {
            v.push(Violation::new(
                w.annotation_path(k),
                format!("annotation {k} sets AppArmor profile {val}"),
            ));
        }
    }
    Outcome::from(v)
}

/// [seLinuxOptions] `seLinuxOptions.type` (pod and containers) from the
/// allowed set (`container_engine_t` from 1.31); `user` and `role` unset.
fn selinux(cx: &Ctx, w: &Workload) -> Outcome {
    let mut allowed = vec!["container_t", "container_init_t", "container_kvm_t"];
    if cx.settings.pss_at_least(31) {
        allowed.push("container_engine_t");
    }
    let mut v = Vec::new();
    let mut judge = |who: String, opts: &Node, at: &dyn Fn(&str) -> FieldPath| {
        let t = text(opts.get("type"));
        if !t.is_empty() && !allowed.contains(&t) {
            v.push(Violation::new(
                at("type"),
                format!(
                    "{who} sets seLinuxOptions.type: {t} (allowed: {})",
                    allowed.join(", ")
                ),
            ));
        }
        for field in ["user", "role"] {
            let val = text(opts.get(field));
            if !val.is_empty() {
                v.push(Violation::new(
                    at(field),
                    format!("{who} sets seLinuxOptions.{field}: {val}"),
                ));
            }
        }
    };
    if let Some(opts) = set(pod_sc(w, &["seLinuxOptions"])) {
        judge("pod".into(), opts, &|f| {
            pod_sc_path(w, &["seLinuxOptions", f])
        });
    }
    for c in w.all_containers() {
        if let Some(opts) = set(sc(&c, &["seLinuxOptions"])) {
            judge(c.label(), opts, &|f| sc_path(&c, &["seLinuxOptions", f]));
        }
    }
    Outcome::from(v)
}

/// [procMount, procMount_restricted] `securityContext.procMount` unset or
/// `Default`. From 1.35 the baseline level allows any value for a pod in a
/// user namespace (`hostUsers: false`); the restricted level never does.
fn proc_mount(cx: &Ctx, w: &Workload) -> Outcome {
    if !restricted(cx) && cx.settings.pss_at_least(35) && user_namespaced(w) {
        return Outcome::Pass;
    }
    let mut v = Vec::new();
    for c in w.all_containers() {
        if let Some(pm) = set(sc(&c, &["procMount"])) {
            let val = text(Some(pm));
            if val != "Default" {
                v.push(Violation::new(
                    sc_path(&c, &["procMount"]),
                    format!("{} sets procMount: {val}", c.label()),
                ));
            }
        }
    }
    Outcome::from(v)
}

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

fn valid_seccomp_type(t: &str) -> bool {
    t == "RuntimeDefault" || t == "Localhost"
}

/// The value of an annotation that is present, null reading as `""`
/// (the reference tests presence, then the value).
fn annotation_present<'a>(w: &Workload<'a>, key: &str) -> Option<&'a str> {
    w.annotations()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.as_str().unwrap_or(""))
}

/// [seccompProfile_baseline] below 1.19, the alpha annotations (pod, and
/// per container name) must be `runtime/default`, `docker/default` or
/// `localhost/*`; from 1.19, a set `seccompProfile` (pod or container) must
/// have type RuntimeDefault or Localhost (the annotations are not read).
/// At the restricted level from 1.25 Windows pods are skipped (the
/// overriding seccompProfile_restricted exempts them).
fn seccomp_baseline(cx: &Ctx, w: &Workload) -> Outcome {
    if restricted(cx) && windows_exempt(cx, w) {
        return Outcome::Skip;
    }
    if !cx.settings.pss_at_least(19) {
        return seccomp_annotations(w);
    }
    let mut v = Vec::new();
    if let Some(p) = set(pod_sc(w, &["seccompProfile"])) {
        let t = text(p.get("type"));
        if !valid_seccomp_type(t) {
            v.push(Violation::new(
                pod_sc_path(w, &["seccompProfile", "type"]),
                format!("pod sets seccompProfile.type: {t}"),
            ));
        }
    }
    for c in w.all_containers() {
        if let Some(p) = set(sc(&c, &["seccompProfile"])) {
            let t = text(p.get("type"));
            if !valid_seccomp_type(t) {
                v.push(Violation::new(
                    sc_path(&c, &["seccompProfile", "type"]),
                    format!("{} sets seccompProfile.type: {t}", c.label()),
                ));
            }
        }
    }
    Outcome::from(v)
}

/// The pre-1.19 form of seccompProfile_baseline: the alpha annotations.
fn seccomp_annotations(w: &Workload) -> Outcome {
    let valid =
        |v: &str| v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/");
    let mut keys = vec![SECCOMP_POD_ANNOTATION.to_string()];
    keys.extend(
        w.all_containers()
            .map(|c| format!("{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}", c.name)),
    );
    keys.sort();
    keys.dedup();
    let mut v = Vec::new();
    for k in keys {
        if let Some(val) = annotation_present(w, &k) {
            if !valid(val) {
                v.push(Violation::new(
                    w.annotation_path(&k),
                    format!("annotation {k} sets seccomp profile {val:?}"),
                ));
            }
        }
    }
    Outcome::from(v)
}

/// Sysctls the baseline level allows, with the policy version that made
/// each one safe (`sysctls_allowed_1_*`).
const SAFE_SYSCTLS: &[(u32, &str)] = &[
    (0, "kernel.shm_rmid_forced"),
    (0, "net.ipv4.ip_local_port_range"),
    (0, "net.ipv4.tcp_syncookies"),
    (0, "net.ipv4.ping_group_range"),
    (0, "net.ipv4.ip_unprivileged_port_start"),
    (27, "net.ipv4.ip_local_reserved_ports"),
    (29, "net.ipv4.tcp_keepalive_time"),
    (29, "net.ipv4.tcp_fin_timeout"),
    (29, "net.ipv4.tcp_keepalive_intvl"),
    (29, "net.ipv4.tcp_keepalive_probes"),
    (32, "net.ipv4.tcp_rmem"),
    (32, "net.ipv4.tcp_wmem"),
    (37, "net.ipv4.tcp_slow_start_after_idle"),
    (37, "net.ipv4.tcp_notsent_lowat"),
];

/// [sysctls] `securityContext.sysctls[*].name` from the safe set of the
/// policy version (it grows at 1.27, 1.29, 1.32 and 1.37).
fn sysctls(cx: &Ctx, w: &Workload) -> Outcome {
    let safe = |name: &str| {
        SAFE_SYSCTLS
            .iter()
            .any(|(minor, s)| *s == name && cx.settings.pss_at_least(*minor))
    };
    let mut v = Vec::new();
    for (i, s) in items(pod_sc(w, &["sysctls"])).iter().enumerate() {
        let name = text(s.get("name"));
        if !safe(name) {
            v.push(Violation::new(
                pod_sc_path(w, &["sysctls"]).idx(i).key("name"),
                format!(
                    "pod sets sysctl {name}, outside the safe set of PSS {}",
                    version(cx)
                ),
            ));
        }
    }
    Outcome::from(v)
}

/// [hostProbesAndHostLifecycle] from 1.34, probes (liveness, readiness,
/// startup) and lifecycle hooks (postStart, preStop) must not set a
/// non-empty `host` on `httpGet` or `tcpSocket`.
fn probe_host(cx: &Ctx, w: &Workload) -> Outcome {
    if !cx.settings.pss_at_least(34) {
        return Outcome::Skip;
    }
    let handlers: [&[&str]; 5] = [
        &["livenessProbe"],
        &["readinessProbe"],
        &["startupProbe"],
        &["lifecycle", "postStart"],
        &["lifecycle", "preStop"],
    ];
    let mut v = Vec::new();
    for c in w.all_containers() {
        for h in handlers {
            for action in ["httpGet", "tcpSocket"] {
                let keys: Vec<&str> = h.iter().copied().chain([action, "host"]).collect();
                let host = text(c.at(&keys));
                if !host.is_empty() {
                    v.push(Violation::new(
                        c.path().keys(&keys),
                        format!("{} sets {}: {host}", c.label(), keys.join(".")),
                    ));
                }
            }
        }
    }
    Outcome::from(v)
}

// ---------------------------------------------------------------- restricted

/// Volume sources the restricted level allows (`image` was patched into the
/// 1.0 check, so it holds at every version).
const ALLOWED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Volume sources the restricted level forbids, in the reference's order.
const RESTRICTED_VOLUMES: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

/// [restrictedVolumes] every volume uses an allowed source. A volume with no
/// source at all is defaulted to `emptyDir` by the API server, so it passes.
fn restricted_volumes(_cx: &Ctx, w: &Workload) -> Outcome {
    let mut v = Vec::new();
    for (i, vol) in items(w.get("volumes")).iter().enumerate() {
        if ALLOWED_VOLUMES.iter().any(|k| set(vol.get(k)).is_some()) {
            continue;
        }
        if let Some(k) = RESTRICTED_VOLUMES
            .iter()
            .find(|k| set(vol.get(k)).is_some())
        {
            v.push(Violation::new(
                w.path("volumes").idx(i).key(k),
                format!(
                    "volume \"{}\" uses {k}, not allowed at the restricted level",
                    text(vol.get("name"))
                ),
            ));
        }
    }
    Outcome::from(v)
}

/// [allowPrivilegeEscalation] from 1.8, every container sets
/// `allowPrivilegeEscalation: false` explicitly. Windows pods exempt from 1.25.
fn privilege_escalation(cx: &Ctx, w: &Workload) -> Outcome {
    if !cx.settings.pss_at_least(8) || windows_exempt(cx, w) {
        return Outcome::Skip;
    }
    let mut v = Vec::new();
    for c in w.all_containers() {
        let val = sc(&c, &["allowPrivilegeEscalation"]).and_then(Node::as_bool);
        let msg = match val {
            Some(false) => continue,
            Some(true) => format!("{} sets allowPrivilegeEscalation: true", c.label()),
            None => format!("{} does not set allowPrivilegeEscalation: false", c.label()),
        };
        v.push(Violation::new(
            sc_path(&c, &["allowPrivilegeEscalation"]),
            msg,
        ));
    }
    Outcome::from(v)
}

/// [runAsNonRoot] the pod sets `runAsNonRoot: true`, or every container
/// does; an explicit `false` (pod or container) fails even when the other
/// level says true. From 1.35, skipped for pods in a user namespace.
/// When nothing sets it, one finding on the pod (not one per container).
fn run_as_non_root(cx: &Ctx, w: &Workload) -> Outcome {
    if cx.settings.pss_at_least(35) && user_namespaced(w) {
        return Outcome::Pass;
    }
    const KEY: [&str; 1] = ["runAsNonRoot"];
    let pod = pod_sc(w, &KEY).and_then(Node::as_bool);
    let mut v = Vec::new();
    if pod == Some(false) {
        v.push(Violation::new(
            pod_sc_path(w, &KEY),
            "pod sets runAsNonRoot: false",
        ));
    }
    let mut unset = Vec::new();
    let mut total = 0;
    for c in w.all_containers() {
        total += 1;
        match sc(&c, &KEY).and_then(Node::as_bool) {
            Some(false) => v.push(Violation::new(
                sc_path(&c, &KEY),
                format!("{} sets runAsNonRoot: false", c.label()),
            )),
            Some(true) => {}
            None if pod != Some(true) => unset.push(c),
            None => {}
        }
    }
    // A pod-level false is the thing to fix for the unset containers.
    if pod.is_none() {
        if !unset.is_empty() && unset.len() == total {
            v.push(Violation::new(
                pod_sc_path(w, &KEY),
                "neither the pod nor its containers set runAsNonRoot: true",
            ));
        } else {
            for c in unset {
                v.push(Violation::new(
                    sc_path(&c, &KEY),
                    format!(
                        "{} does not set runAsNonRoot: true and the pod does not either",
                        c.label()
                    ),
                ));
            }
        }
    }
    Outcome::from(v)
}

/// [runAsUser] from 1.23, neither the pod nor a container sets
/// `runAsUser: 0`. From 1.35, skipped for pods in a user namespace.
fn run_as_user(cx: &Ctx, w: &Workload) -> Outcome {
    if !cx.settings.pss_at_least(23) {
        return Outcome::Skip;
    }
    if cx.settings.pss_at_least(35) && user_namespaced(w) {
        return Outcome::Pass;
    }
    const KEY: [&str; 1] = ["runAsUser"];
    let mut v = Vec::new();
    if pod_sc(w, &KEY).and_then(Node::as_i64) == Some(0) {
        v.push(Violation::new(
            pod_sc_path(w, &KEY),
            "pod sets runAsUser: 0",
        ));
    }
    for c in w.all_containers() {
        if sc(&c, &KEY).and_then(Node::as_i64) == Some(0) {
            v.push(Violation::new(
                sc_path(&c, &KEY),
                format!("{} sets runAsUser: 0", c.label()),
            ));
        }
    }
    Outcome::from(v)
}

/// [seccompProfile_restricted] from 1.19, the pod sets seccompProfile type
/// RuntimeDefault or Localhost, or every container does; any other type set
/// anywhere fails. Windows pods exempt from 1.25. When nothing sets a
/// profile, one finding on the pod.
fn seccomp_restricted(cx: &Ctx, w: &Workload) -> Outcome {
    if !cx.settings.pss_at_least(19) || windows_exempt(cx, w) {
        return Outcome::Skip;
    }
    const KEY: [&str; 1] = ["seccompProfile"];
    const TYPE: [&str; 2] = ["seccompProfile", "type"];
    let mut v = Vec::new();
    let pod = set(pod_sc(w, &KEY));
    let mut pod_ok = false;
    if let Some(p) = pod {
        let t = text(p.get("type"));
        if valid_seccomp_type(t) {
            pod_ok = true;
        } else {
            v.push(Violation::new(
                pod_sc_path(w, &TYPE),
                format!("pod sets seccompProfile.type: {t}, not RuntimeDefault or Localhost"),
            ));
        }
    }
    let mut unset = Vec::new();
    let mut total = 0;
    for c in w.all_containers() {
        total += 1;
        match set(sc(&c, &KEY)) {
            Some(p) => {
                let t = text(p.get("type"));
                if !valid_seccomp_type(t) {
                    v.push(Violation::new(
                        sc_path(&c, &TYPE),
                        format!(
                            "{} sets seccompProfile.type: {t}, not RuntimeDefault or Localhost",
                            c.label()
                        ),
                    ));
                }
            }
            None if !pod_ok => unset.push(c),
            None => {}
        }
    }
    // A bad pod-level profile is the thing to fix for the unset containers.
    if pod.is_none() {
        if !unset.is_empty() && unset.len() == total {
            v.push(Violation::new(
                pod_sc_path(w, &KEY),
                "neither the pod nor its containers set a seccompProfile (RuntimeDefault or Localhost)",
            ));
        } else {
            for c in unset {
                v.push(Violation::new(
                    sc_path(&c, &KEY),
                    format!("{} sets no seccompProfile and the pod sets none", c.label()),
                ));
            }
        }
    }
    Outcome::from(v)
}

/// [capabilities_restricted] from 1.22, every container drops `ALL`
/// (exactly that string) and adds nothing but NET_BIND_SERVICE. Windows
/// pods exempt from 1.25.
fn capabilities_restricted(cx: &Ctx, w: &Workload) -> Outcome {
    if !cx.settings.pss_at_least(22) || windows_exempt(cx, w) {
        return Outcome::Skip;
    }
    let mut v = Vec::new();
    for c in w.all_containers() {
        let drop = items(sc(&c, &["capabilities", "drop"]));
        if !drop.iter().any(|n| n.as_str() == Some("ALL")) {
            let msg = if drop
                .iter()
                .any(|n| n.as_str().is_some_and(|s| s.eq_ignore_ascii_case("all")))
            {
                format!(
                    "{} drops \"all\" in lower case: runtimes accept it, the Pod Security Standards require \"ALL\"",
                    c.label()
                )
            } else {
                format!("{} does not drop ALL capabilities", c.label())
            };
            v.push(Violation::new(sc_path(&c, &["capabilities", "drop"]), msg));
        }
        let bad = added_outside(&c, &["NET_BIND_SERVICE"]);
        if let Some((first, _)) = bad.first() {
            let names: Vec<&str> = bad.iter().map(|(_, n)| *n).collect();
            v.push(Violation::new(
                sc_path(&c, &["capabilities", "add"]).idx(*first),
                format!(
                    "{} adds {} (the restricted level allows only NET_BIND_SERVICE)",
                    c.label(),
                    names.join(", ")
                ),
            ));
        }
    }
    Outcome::from(v)
}

#[cfg(test)]
mod tests {
    //! Version and level gates that neither the rule fixtures (one setting
    //! per rule) nor the reference's test data exercise.
    use super::*;
    use crate::inventory::{Inventory, Mode};
    use crate::settings::{KubeVersion, Settings};
    use crate::source::files::load_bytes;
    use crate::yaml::Limits;

    /// Runs `f` on the single pod spec of `yaml` at `level` and policy 1.`minor`.
    fn judge(
        f: fn(&Ctx, &Workload) -> Outcome,
        yaml: &str,
        level: PssLevel,
        minor: u32,
    ) -> Outcome {
        let out = load_bytes("t.yaml".into(), yaml.as_bytes(), &Limits::default(), false);
        let inv = Inventory::new(out.objects, Mode::Static);
        let settings = Settings {
            kubernetes_version: KubeVersion::new(1, minor),
            pss_level: level,
            ..Settings::default()
        };
        let cx = Ctx {
            inv: &inv,
            settings: &settings,
        };
        let w = inv.workloads().next().expect("a pod spec");
        f(&cx, &w)
    }

    fn fails(o: &Outcome) -> bool {
        matches!(o, Outcome::Fail(_))
    }

    const USERNS_ROOT: &str = "
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostUsers: false
  securityContext: {runAsUser: 0}
  containers:
  - {name: c, image: busybox}
";

    #[test]
    fn user_namespace_relaxes_run_as_checks_from_1_35_only() {
        use PssLevel::Restricted as R;
        assert!(fails(&judge(run_as_non_root, USERNS_ROOT, R, 34)));
        assert_eq!(judge(run_as_non_root, USERNS_ROOT, R, 35), Outcome::Pass);
        assert!(fails(&judge(run_as_user, USERNS_ROOT, R, 34)));
        assert_eq!(judge(run_as_user, USERNS_ROOT, R, 35), Outcome::Pass);
        assert_eq!(judge(run_as_user, USERNS_ROOT, R, 22), Outcome::Skip);
    }

    const WINDOWS_CAPS: &str = "
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  os: {name: windows}
  securityContext:
    seccompProfile: {type: Unconfined}
  containers:
  - name: c
    image: mcr.microsoft.com/windows/nanoserver:ltsc2022
    securityContext:
      capabilities: {add: [SYS_ADMIN]}
";

    #[test]
    fn windows_pods_skip_overridden_baseline_checks_only_at_restricted_from_1_25() {
        use PssLevel::{Baseline as B, Restricted as R};
        for f in [capabilities_baseline, seccomp_baseline] {
            assert_eq!(judge(f, WINDOWS_CAPS, R, 25), Outcome::Skip);
            assert!(fails(&judge(f, WINDOWS_CAPS, R, 24)));
            assert!(fails(&judge(f, WINDOWS_CAPS, B, 34)));
        }
        assert_eq!(
            judge(capabilities_restricted, WINDOWS_CAPS, R, 25),
            Outcome::Skip
        );
        assert!(fails(&judge(capabilities_restricted, WINDOWS_CAPS, R, 24)));
    }

    const UNMASKED_USERNS: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      hostUsers: false
      containers:
      - name: c
        image: busybox
        securityContext: {procMount: Unmasked}
";

    #[test]
    fn proc_mount_relaxation_is_baseline_only_and_from_1_35() {
        use PssLevel::{Baseline as B, Restricted as R};
        assert_eq!(judge(proc_mount, UNMASKED_USERNS, B, 35), Outcome::Pass);
        assert!(fails(&judge(proc_mount, UNMASKED_USERNS, B, 34)));
        assert!(fails(&judge(proc_mount, UNMASKED_USERNS, R, 35)));
    }

    #[test]
    fn checks_introduced_later_skip_older_policies() {
        use PssLevel::Restricted as R;
        let pod = "
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: busybox
    livenessProbe: {httpGet: {host: 10.0.0.1, port: 80}}
";
        assert_eq!(judge(probe_host, pod, R, 33), Outcome::Skip);
        assert!(fails(&judge(probe_host, pod, R, 34)));
        assert_eq!(judge(privilege_escalation, pod, R, 7), Outcome::Skip);
        assert!(fails(&judge(privilege_escalation, pod, R, 8)));
        assert_eq!(judge(seccomp_restricted, pod, R, 18), Outcome::Skip);
        assert!(fails(&judge(seccomp_restricted, pod, R, 19)));
        assert_eq!(judge(capabilities_restricted, pod, R, 21), Outcome::Skip);
        assert!(fails(&judge(capabilities_restricted, pod, R, 22)));
    }
}
