//! Security rules judging the cluster as a whole: admission policy,
//! Pod Security Admission labels, secret management, API server settings
//! and certificate automation. Tools are recognised through capabilities
//! of `rules/data/components.yaml`, never by name here.
use crate::object::Object;
use crate::path::FieldPath;
use crate::rules::control_plane::{self, ApiServer};
use crate::rules::{Check, Ctx, Outcome, RuleImpl, Violation, Workload};
use crate::yaml::Node;

pub const RULES: &[RuleImpl] = &[
    RuleImpl {
        id: "policy-engine-missing",
        check: Check::Cluster(policy_engine_missing),
    },
    RuleImpl {
        id: "pod-security-admission-unlabeled",
        check: Check::Object(&["Namespace"], psa_unlabeled),
    },
    RuleImpl {
        id: "external-secrets-missing",
        check: Check::Cluster(external_secrets_missing),
    },
    RuleImpl {
        id: "etcd-encryption-disabled",
        check: Check::Cluster(etcd_encryption_disabled),
    },
    RuleImpl {
        id: "apiserver-anonymous-auth",
        check: Check::Cluster(apiserver_anonymous_auth),
    },
    RuleImpl {
        id: "certificate-automation-missing",
        check: Check::Cluster(certificate_automation_missing),
    },
];

/// Admission policy (Kyverno, Gatekeeper, Kubewarden, or a bound
/// ValidatingAdmissionPolicy) is what enforces the rest of this catalog at
/// deploy time.
fn policy_engine_missing(cx: &Ctx) -> Outcome {
    if cx.inv.components().provides("policy-engine") {
        return Outcome::Pass;
    }
    Outcome::Fail(vec![Violation::general(
        "no admission policy engine is installed (Kyverno, OPA Gatekeeper, Kubewarden, or a ValidatingAdmissionPolicy with its binding): nothing rejects a non-compliant object at deploy time",
    )])
}

/// Namespaces the platform runs privileged system components in; PSA
/// labels there are the distribution's business.
const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

const PSA_ENFORCE: &str = "pod-security.kubernetes.io/enforce";

use super::pss::BASELINE_CAPABILITIES;

/// Whether a service mesh injects its iptables init container (which adds
/// NET_ADMIN and NET_RAW, beyond baseline) into pods of this namespace.
fn mesh_injected(ns: &Object, w: &Workload) -> bool {
    ns.annotation("linkerd.io/inject") == Some("enabled")
        || ns.label("istio-injection") == Some("enabled")
        || w.annotation("linkerd.io/inject") == Some("enabled")
        || w.annotation("sidecar.istio.io/inject") == Some("true")
        || w.labels()
            .and_then(|l| l.get("sidecar.istio.io/inject"))
            .and_then(Node::as_str)
            == Some("true")
}

/// What in this pod needs more than the PSS baseline (host namespaces,
/// hostPath, host ports, privileged, extra capabilities), if anything.
fn beyond_baseline(w: &Workload) -> Option<&'static str> {
    for (field, what) in [
        ("hostNetwork", "hostNetwork"),
        ("hostPID", "hostPID"),
        ("hostIPC", "hostIPC"),
    ] {
        if w.get(field).and_then(Node::as_bool) == Some(true) {
            return Some(what);
        }
    }
    if w.get("volumes")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .any(|v| v.get("hostPath").is_some())
    {
        return Some("a hostPath volume");
    }
    for c in w.all_containers() {
        if c.at(&["securityContext", "privileged"])
            .and_then(Node::as_bool)
            == Some(true)
        {
            return Some("a privileged container");
        }
        let host_port = c
            .get("ports")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .any(|p| {
                p.get("hostPort")
                    .and_then(Node::as_i64)
                    .is_some_and(|n| n != 0)
            });
        if host_port {
            return Some("a hostPort");
        }
        let caps = c
            .at(&["securityContext", "capabilities", "add"])
            .map(Node::items)
            .unwrap_or(&[]);
        if caps
            .iter()
            .filter_map(Node::as_str)
            .any(|cap| !BASELINE_CAPABILITIES.contains(&cap.trim_start_matches("CAP_")))
        {
            return Some("an added capability");
        }
    }
    None
}

/// Each Namespace object (a cluster-scope rule judged per namespace, so the
/// score counts namespaces and each finding points at its Namespace): it
/// needs `pod-security.kubernetes.io/enforce` at baseline or restricted.
/// `privileged` passes only where a workload of the namespace needs more
/// than baseline (a log collector's hostPath, node-exporter's host
/// namespaces, a mesh's injected iptables init container with NET_ADMIN;
/// a mesh CNI plugin would make the latter unnecessary, which manifests do
/// not show): that is the documented way to isolate such agents; set on
/// a namespace whose workloads would pass baseline, it is a finding.
/// Runs only where cluster rules run; kube-system, kube-public and
/// kube-node-lease are skipped. A cluster-wide PSA default set in the API
/// server's AdmissionConfiguration is not visible in manifests.
fn psa_unlabeled(cx: &Ctx, o: &Object) -> Outcome {
    if !(cx.settings.cluster_profile || cx.settings.live)
        || SYSTEM_NAMESPACES.contains(&o.name.as_str())
    {
        return Outcome::Skip;
    }
    let path = FieldPath::of(&["metadata", "labels", PSA_ENFORCE]);
    match o.label(PSA_ENFORCE) {
        None => Outcome::fail(
            path,
            format!(
                "namespace {} has no {PSA_ENFORCE} label: Pod Security Admission does not enforce any level there",
                o.name
            ),
        ),
        Some("privileged") => {
            if cx
                .inv
                .workloads_in(&o.name)
                .any(|w| beyond_baseline(&w).is_some() || mesh_injected(o, &w))
            {
                return Outcome::Pass;
            }
            Outcome::fail(
                path,
                format!(
                    "namespace {} sets {PSA_ENFORCE}: privileged but none of its workloads in the input needs more than baseline: any pod, privileged and host-mounting included, is admitted there",
                    o.name
                ),
            )
        }
        Some(_) => Outcome::Pass,
    }
}

/// Secret types written by Kubernetes or by tools, not by people.
const GENERATED_SECRET_TYPES: &[&str] = &[
    "kubernetes.io/service-account-token",
    "helm.sh/release.v1",
    "bootstrap.kubernetes.io/token",
];

/// A Secret whose content a person wrote into the manifests or the
/// cluster: it has data, is not generated (ServiceAccount token, Helm
/// release, cert-manager certificate) and not owned by a controller.
fn hand_made_secret(o: &Object) -> bool {
    let typ = o
        .root
        .get("type")
        .and_then(Node::as_str)
        .unwrap_or("Opaque");
    // Placeholders such as `data: {csrf: ""}` are filled at run time.
    let has_data = ["data", "stringData"].iter().any(|k| {
        o.root
            .get(k)
            .into_iter()
            .flat_map(Node::entries)
            .any(|(_, v)| v.as_str().is_some_and(|t| !t.is_empty()))
    });
    has_data
        && !GENERATED_SECRET_TYPES.contains(&typ)
        && o.root
            .at(&["metadata", "ownerReferences"])
            .is_none_or(Node::is_empty)
        && o.annotation("cert-manager.io/certificate-name").is_none()
}

/// Secrets a workload reads into environment variables: application
/// credentials, as opposed to mounted certificates that controllers
/// often generate at run time (webhook serving certs).
fn env_secret_refs<'a>(w: &Workload<'a>) -> Vec<&'a str> {
    let mut names = Vec::new();
    for c in w.all_containers() {
        for e in c.get("env").map(Node::items).unwrap_or(&[]) {
            if let Some(n) = e
                .at(&["valueFrom", "secretKeyRef", "name"])
                .and_then(Node::as_str)
            {
                names.push(n);
            }
        }
        for e in c.get("envFrom").map(Node::items).unwrap_or(&[]) {
            if let Some(n) = e.at(&["secretRef", "name"]).and_then(Node::as_str) {
                names.push(n);
            }
        }
    }
    names
}

/// Fails when applications keep credentials in plain Kubernetes Secrets
/// (Secrets with data in the input, or Secrets read into environment
/// variables) and no tool manages them from outside (External Secrets
/// Operator, Vault, Secrets Store CSI, Sealed Secrets, SOPS). Skips when
/// the input shows no such Secret. Each Secret written with its data is
/// pointed at; environment references are listed in one general finding.
fn external_secrets_missing(cx: &Ctx) -> Outcome {
    let inv = cx.inv;
    let secrets: Vec<(usize, &Object)> = inv
        .of_kind("Secret")
        .filter(|(_, o)| hand_made_secret(o))
        .collect();
    let mut refs: Vec<String> = Vec::new();
    for w in inv.workloads() {
        let ns = w.obj.effective_namespace().unwrap_or("default");
        for name in env_secret_refs(&w) {
            let generated = inv
                .get("Secret", ns, name)
                .is_some_and(|(_, s)| !hand_made_secret(s));
            let r = format!("{} reads Secret {name}", w.obj.display());
            if !generated && !refs.contains(&r) {
                refs.push(r);
            }
        }
    }
    if secrets.is_empty() && refs.is_empty() {
        return Outcome::Skip;
    }
    if inv.components().provides("external-secrets") {
        return Outcome::Pass;
    }
    const TOOLS: &str = "no secret manager is installed (External Secrets Operator, Vault, Secrets Store CSI driver, Sealed Secrets or SOPS)";
    let mut v: Vec<Violation> = secrets
        .iter()
        .map(|(i, o)| {
            let key = if o.root.get("data").is_some_and(|d| !d.is_empty()) {
                "data"
            } else {
                "stringData"
            };
            Violation::on(
                *i,
                FieldPath::of(&[key]),
                format!(
                    "Secret {} holds its values in the manifests and {TOOLS}",
                    o.display()
                ),
            )
        })
        .collect();
    if secrets.is_empty() {
        let shown: Vec<&str> = refs.iter().take(3).map(String::as_str).collect();
        let more = refs.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        v.push(Violation::general(format!(
            "workloads read credentials from plain Secrets ({}{more}) and {TOOLS}",
            shown.join("; ")
        )));
    }
    Outcome::Fail(v)
}

/// Runs `judge` on every visible kube-apiserver; not evaluated when none is.
fn judge_apiservers(
    cx: &Ctx,
    judge: impl Fn(&ApiServer) -> Result<Option<Violation>, String>,
) -> Outcome {
    let servers = control_plane::apiservers(cx.inv);
    if servers.is_empty() {
        return Outcome::NotEvaluated(control_plane::NOT_VISIBLE.to_string());
    }
    let mut v = Vec::new();
    let mut unknown = None;
    for s in servers.iter() {
        match judge(s) {
            Ok(found) => v.extend(found),
            Err(reason) => unknown = Some(reason),
        }
    }
    match (v.is_empty(), unknown) {
        (true, Some(reason)) => Outcome::NotEvaluated(reason),
        _ => Outcome::from(v),
    }
}

/// Without `--encryption-provider-config`, Secrets are written to etcd in
/// plain text (and so to every etcd backup). The configuration file itself
/// (which could still list `identity` first) cannot be read from manifests.
fn etcd_encryption_disabled(cx: &Ctx) -> Outcome {
    judge_apiservers(cx, |s| {
        Ok(s.flag("encryption-provider-config").is_none().then(|| {
            Violation::on(
                s.index,
                s.missing_path.clone(),
                format!(
                    "kube-apiserver in {} runs without --encryption-provider-config: Secrets are stored unencrypted in etcd and its backups",
                    s.display
                ),
            )
        }))
    })
}

/// `--anonymous-auth` defaults to true: unauthenticated requests reach the
/// API as system:anonymous, one RBAC mistake away from exposure. With
/// `--authentication-config` the setting lives in a file kready cannot
/// read, so that server is not evaluated.
fn apiserver_anonymous_auth(cx: &Ctx) -> Outcome {
    judge_apiservers(cx, |s| {
        match s.flag("anonymous-auth") {
        Some(_) if s.flag_value("anonymous-auth") == Some("false") => Ok(None),
        Some(f) => Ok(Some(Violation::on(
            s.index,
            f.path.clone(),
            format!(
                "kube-apiserver in {} sets --anonymous-auth={}: unauthenticated requests are served as system:anonymous",
                s.display,
                s.flag_value("anonymous-auth").unwrap_or("true")
            ),
        ))),
        None if s.flag("authentication-config").is_some() => Err(format!(
            "kube-apiserver in {} configures authentication in its --authentication-config file, which is not in the input",
            s.display
        )),
        None => Ok(Some(Violation::on(
            s.index,
            s.missing_path.clone(),
            format!(
                "kube-apiserver in {} does not set --anonymous-auth=false: anonymous requests are allowed by default",
                s.display
            ),
        ))),
    }
    })
}

/// TLS certificates kept in Secrets for Ingresses (with `secretName`) and
/// Gateway listeners (`certificateRefs`, not Passthrough): without
/// cert-manager (or an equivalent such as GKE ManagedCertificate) someone
/// must renew each one by hand before it expires. Skips when nothing
/// serves TLS from a Secret.
fn certificate_automation_missing(cx: &Ctx) -> Outcome {
    let mut sites: Vec<(usize, FieldPath, String)> = Vec::new();
    for (i, o) in cx.inv.of_kind("Ingress") {
        let secrets: Vec<&str> = o
            .root
            .at(&["spec", "tls"])
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter_map(|t| t.get("secretName").and_then(Node::as_str))
            .collect();
        if !secrets.is_empty() {
            sites.push((
                i,
                FieldPath::of(&["spec", "tls"]),
                format!(
                    "Ingress {} serves TLS from Secret {}",
                    o.display(),
                    secrets.join(", ")
                ),
            ));
        }
    }
    for (i, o) in cx.inv.of_kind("Gateway") {
        for (li, l) in o
            .root
            .at(&["spec", "listeners"])
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let tls = l.get("tls");
            let passthrough =
                tls.and_then(|t| t.get("mode")).and_then(Node::as_str) == Some("Passthrough");
            let refs: Vec<&str> = tls
                .and_then(|t| t.get("certificateRefs"))
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .filter_map(|r| r.get("name").and_then(Node::as_str))
                .collect();
            if !passthrough && !refs.is_empty() {
                let name = l.get("name").and_then(Node::as_str).unwrap_or("?");
                sites.push((
                    i,
                    FieldPath::of(&["spec", "listeners"])
                        .idx(li)
                        .keys(&["tls", "certificateRefs"]),
                    format!(
                        "Gateway {} listener {name} serves TLS from {}",
                        o.display(),
                        refs.join(", ")
                    ),
                ));
            }
        }
    }
    if sites.is_empty() {
        return Outcome::Skip;
    }
    if cx.inv.components().provides("certificates") {
        return Outcome::Pass;
    }
    Outcome::Fail(
        sites
            .into_iter()
            .map(|(i, path, what)| {
                Violation::on(
                    i,
                    path,
                    format!("{what}, and no certificate manager (cert-manager or equivalent) is installed to renew it"),
                )
            })
            .collect(),
    )
}
