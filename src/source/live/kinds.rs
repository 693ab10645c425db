//! What a live scan lists: the kinds kready understands, where the API
//! server serves them, and which kinds each rule reads.
//!
//! The table is the honest, simple answer to "list only what the enabled
//! rules need": rules declare nothing themselves, so this file maps every
//! rule of the catalog (RULES.md) to the kinds it reads. A rule missing from
//! the map falls back on what its `Check` implies (object kinds, pod
//! templates) or, for cluster and namespace rules, on every kind, so a new
//! rule is never judged on a partial inventory without saying so.

use crate::engine::ActiveRule;
use crate::inventory::Inventory;
use crate::rules::{Check, RuleImpl};
use std::collections::BTreeSet;

/// A kind kready may list, and the group/versions that may serve it, most
/// preferred first. An empty version list takes the group's preferred
/// version (custom resources).
pub struct KindSpec {
    pub kind: &'static str,
    pub sources: &'static [(&'static str, &'static [&'static str])],
}

const fn k(
    kind: &'static str,
    sources: &'static [(&'static str, &'static [&'static str])],
) -> KindSpec {
    KindSpec { kind, sources }
}

/// Every kind a rule may read. Secrets are deliberately absent: kready never
/// reads Secret contents from a cluster.
pub const KINDS: &[KindSpec] = &[
    // Workloads: every pod-level rule reads these.
    k("Pod", &[("", &["v1"])]),
    k("Deployment", &[("apps", &["v1"])]),
    k("StatefulSet", &[("apps", &["v1"])]),
    k("DaemonSet", &[("apps", &["v1"])]),
    k("ReplicaSet", &[("apps", &["v1"])]),
    k("ReplicationController", &[("", &["v1"])]),
    k("Job", &[("batch", &["v1"])]),
    k("CronJob", &[("batch", &["v1", "v1beta1"])]),
    // Core.
    k("Namespace", &[("", &["v1"])]),
    k("Node", &[("", &["v1"])]),
    k("Service", &[("", &["v1"])]),
    k("ConfigMap", &[("", &["v1"])]),
    k("ServiceAccount", &[("", &["v1"])]),
    k("PersistentVolumeClaim", &[("", &["v1"])]),
    k("PersistentVolume", &[("", &["v1"])]),
    k("LimitRange", &[("", &["v1"])]),
    k("ResourceQuota", &[("", &["v1"])]),
    // Availability and scaling.
    k("PodDisruptionBudget", &[("policy", &["v1", "v1beta1"])]),
    k(
        "HorizontalPodAutoscaler",
        &[("autoscaling", &["v2", "v2beta2", "v2beta1", "v1"])],
    ),
    k(
        "PriorityClass",
        &[("scheduling.k8s.io", &["v1", "v1beta1"])],
    ),
    // Network.
    k("NetworkPolicy", &[("networking.k8s.io", &["v1"])]),
    k(
        "Ingress",
        &[
            ("networking.k8s.io", &["v1", "v1beta1"]),
            ("extensions", &["v1beta1"]),
        ],
    ),
    k("IngressClass", &[("networking.k8s.io", &["v1", "v1beta1"])]),
    // RBAC.
    k("Role", &[("rbac.authorization.k8s.io", &["v1"])]),
    k("ClusterRole", &[("rbac.authorization.k8s.io", &["v1"])]),
    k("RoleBinding", &[("rbac.authorization.k8s.io", &["v1"])]),
    k(
        "ClusterRoleBinding",
        &[("rbac.authorization.k8s.io", &["v1"])],
    ),
    // Storage.
    k("StorageClass", &[("storage.k8s.io", &["v1"])]),
    k(
        "VolumeSnapshotClass",
        &[("snapshot.storage.k8s.io", &["v1", "v1beta1"])],
    ),
    // Admission and API machinery.
    k(
        "ValidatingWebhookConfiguration",
        &[("admissionregistration.k8s.io", &["v1", "v1beta1"])],
    ),
    k(
        "MutatingWebhookConfiguration",
        &[("admissionregistration.k8s.io", &["v1", "v1beta1"])],
    ),
    k(
        "ValidatingAdmissionPolicy",
        &[(
            "admissionregistration.k8s.io",
            &["v1", "v1beta1", "v1alpha1"],
        )],
    ),
    k(
        "CustomResourceDefinition",
        &[("apiextensions.k8s.io", &["v1", "v1beta1"])],
    ),
    k(
        "APIService",
        &[("apiregistration.k8s.io", &["v1", "v1beta1"])],
    ),
    // Custom resources, listed only when their CRDs are served.
    k("Schedule", &[("velero.io", &[])]),
    k("Backup", &[("velero.io", &[])]),
    k("BackupStorageLocation", &[("velero.io", &[])]),
    k("ServiceMonitor", &[("monitoring.coreos.com", &[])]),
    k("PodMonitor", &[("monitoring.coreos.com", &[])]),
    k("PrometheusRule", &[("monitoring.coreos.com", &[])]),
    k("Prometheus", &[("monitoring.coreos.com", &[])]),
    k("Alertmanager", &[("monitoring.coreos.com", &[])]),
    k("ScaledObject", &[("keda.sh", &[])]),
    k("Application", &[("argoproj.io", &[])]),
    k("Kustomization", &[("kustomize.toolkit.fluxcd.io", &[])]),
    k("HelmRelease", &[("helm.toolkit.fluxcd.io", &[])]),
    k("ClusterPolicy", &[("kyverno.io", &[])]),
    k("Policy", &[("kyverno.io", &[])]),
    k("ExternalSecret", &[("external-secrets.io", &[])]),
    k("SecretStore", &[("external-secrets.io", &[])]),
    k("ClusterSecretStore", &[("external-secrets.io", &[])]),
    k("Certificate", &[("cert-manager.io", &[])]),
    k("Issuer", &[("cert-manager.io", &[])]),
    k("ClusterIssuer", &[("cert-manager.io", &[])]),
    k("ConstraintTemplate", &[("templates.gatekeeper.sh", &[])]),
    k("Gateway", &[("gateway.networking.k8s.io", &[])]),
    k("OpenTelemetryCollector", &[("opentelemetry.io", &[])]),
];

pub fn spec(kind: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|s| s.kind == kind)
}

const WORKLOADS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
];

/// What component detection (`rules/data/components.yaml`) looks at: CRDs
/// (by API group), workloads (by image and label) and the few kinds that
/// prove a component on their own.
const COMPONENTS: &[&str] = &[
    "CustomResourceDefinition",
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "ValidatingAdmissionPolicy",
    "Alertmanager",
];

const HPA: &str = "HorizontalPodAutoscaler";
const PDB: &str = "PodDisruptionBudget";
const RBAC: &[&str] = &["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"];

/// What a rule reads beyond what its `Check` implies, per rule of RULES.md.
/// `None`: the rule is not in the table.
fn table(id: &str) -> Option<Vec<&'static str>> {
    let mut v: Vec<&'static str> = match id {
        // Security.
        "service-account-token-automount" | "default-service-account" => {
            [RBAC, &["ServiceAccount"]].concat()
        }
        "secret-in-configmap" => vec!["ConfigMap"],
        "namespace-default-deny-missing"
        | "workload-not-isolated"
        | "networkpolicy-allows-all-namespaces"
        | "networkpolicy-selects-nothing" => vec!["NetworkPolicy"],
        "service-exposed-externally" | "service-external-ips" => vec!["Service"],
        "ingress-missing-tls" => vec!["Ingress"],
        "rbac-cluster-admin-binding"
        | "rbac-wildcard"
        | "rbac-secrets-access"
        | "rbac-pod-exec"
        | "rbac-escalation-verbs"
        | "rbac-binding-to-default-sa" => RBAC.to_vec(),
        "policy-engine-missing" => [
            COMPONENTS,
            &[
                "ValidatingWebhookConfiguration",
                "ClusterPolicy",
                "Policy",
                "ConstraintTemplate",
            ],
        ]
        .concat(),
        "pod-security-admission-unlabeled" => vec!["Namespace"],
        "external-secrets-missing" => [
            COMPONENTS,
            &["ExternalSecret", "SecretStore", "ClusterSecretStore"],
        ]
        .concat(),
        "etcd-encryption-disabled" | "apiserver-anonymous-auth" | "audit-logging-disabled" => {
            vec!["Pod"]
        }
        "certificate-automation-missing" => [
            COMPONENTS,
            &[
                "Ingress",
                "Gateway",
                "Certificate",
                "Issuer",
                "ClusterIssuer",
            ],
        ]
        .concat(),
        // Reliability.
        "single-replica"
        | "hpa-missing"
        | "hpa-without-requests"
        | "anti-affinity-missing"
        | "zone-spread-missing" => vec![HPA, "ScaledObject"],
        "pdb-missing" => vec![PDB, HPA, "ScaledObject"],
        "pdb-blocks-eviction" | "pdb-min-available-exceeds-hpa-min" => vec![PDB, HPA],
        "priority-class-missing" => vec!["PriorityClass"],
        "service-selects-nothing" => vec!["Service"],
        "ingress-backend-missing" => vec!["Ingress", "Service"],
        "hpa-target-missing" | "hpa-min-replicas-low" | "hpa-replicas-conflict" => vec![HPA],
        // They judge the apiVersion of whatever was listed.
        "deprecated-api-version" | "removed-api-version" => vec![],
        "control-plane-not-ha"
        | "control-plane-not-dedicated"
        | "worker-nodes-too-few"
        | "single-zone"
        | "node-not-ready" => vec!["Node"],
        "node-overcommitted" => vec!["Node", "Pod"],
        "workload-unavailable" => vec![],
        // Observability.
        "log-backend-missing" => [COMPONENTS, &["ConfigMap", "OpenTelemetryCollector"]].concat(),
        "metrics-stack-missing"
        | "log-collector-missing"
        | "dashboards-missing"
        | "cluster-autoscaler-missing"
        | "backup-tool-missing" => COMPONENTS.to_vec(),
        "metrics-server-missing" => [COMPONENTS, &["APIService"]].concat(),
        "alerting-missing" | "infra-alert-rules-missing" => {
            [COMPONENTS, &["PrometheusRule"]].concat()
        }
        "prometheus-not-ha" => [COMPONENTS, &["Prometheus"]].concat(),
        "servicemonitor-selects-nothing" | "workload-not-scraped" => {
            vec!["Service", "ServiceMonitor", "PodMonitor"]
        }
        // Disaster recovery.
        "backup-schedule-missing" => [COMPONENTS, &["Schedule"]].concat(),
        "backup-location-missing" => [COMPONENTS, &["BackupStorageLocation"]].concat(),
        "last-backup-failed" => [COMPONENTS, &["Backup", "Schedule"]].concat(),
        "namespace-not-backed-up" => vec!["PersistentVolumeClaim", "StatefulSet", "Schedule"],
        "backup-retention-short" => vec!["Schedule"],
        "etcd-backup-missing" => COMPONENTS.to_vec(),
        "pv-reclaim-delete" => vec!["StorageClass", "PersistentVolume", "PersistentVolumeClaim"],
        "volume-snapshot-class-missing" => vec!["PersistentVolumeClaim", "VolumeSnapshotClass"],
        "gitops-missing" => [COMPONENTS, &["Application", "Kustomization", "HelmRelease"]].concat(),
        // Performance.
        "namespace-limitrange-missing" => vec!["LimitRange"],
        "namespace-quota-missing" => vec!["ResourceQuota"],
        _ => return None,
    };
    v.sort_unstable();
    v.dedup();
    Some(v)
}

/// The kinds a rule needs: `None` means "everything kready can list".
pub fn needed_by(rule: &RuleImpl) -> Option<BTreeSet<&'static str>> {
    let known = table(rule.id);
    let mut out: BTreeSet<&'static str> = known.iter().flatten().copied().collect();
    match rule.check {
        Check::Object([], _) => {
            known.as_ref()?;
        }
        Check::Object(kinds, _) => {
            out.extend(kinds.iter().filter_map(|k| spec(k).map(|s| s.kind)));
        }
        Check::Pod(_) => out.extend(WORKLOADS),
        Check::Namespace(_) | Check::Cluster(_) => {
            known.as_ref()?;
            if matches!(rule.check, Check::Namespace(_)) {
                out.extend(WORKLOADS);
            }
        }
    }
    Some(out)
}

/// The kinds to list for these rules. A namespace-scoped scan (`-n`) runs
/// no cluster rule, so what only cluster rules read is not listed.
pub fn needed(rules: &[ActiveRule], namespace_scoped: bool) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for r in rules {
        if namespace_scoped && matches!(r.imp.check, Check::Cluster(_)) {
            continue;
        }
        match needed_by(&r.imp) {
            Some(k) => out.extend(k),
            None => return KINDS.iter().map(|s| s.kind).collect(),
        }
    }
    out
}

/// Why a cluster rule cannot be judged on this inventory, if it cannot:
/// a namespace-scoped live scan sees only part of the cluster, and a kind
/// the rule reads could not be listed. `None` for static input.
pub fn cluster_rule_blocker(inv: &Inventory, rule: &RuleImpl) -> Option<String> {
    if let Some(ns) = &inv.namespaces {
        return Some(format!(
            "cluster rule: the scan was limited to namespace {} (-n); scan with -A to judge the cluster",
            ns.join(", ")
        ));
    }
    if inv.unavailable.is_empty() {
        return None;
    }
    let needs = needed_by(rule);
    let mut blocked = inv
        .unavailable
        .iter()
        .filter(|(kind, _)| needs.as_ref().is_none_or(|n| n.contains(kind.as_str())));
    blocked
        .next()
        .map(|(kind, reason)| format!("{kind} could not be listed: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_in_the_tables_is_listable() {
        for id in crate::catalog::catalog().iter().map(|m| m.id.as_str()) {
            for kind in table(id).into_iter().flatten() {
                assert!(
                    spec(kind).is_some(),
                    "{id} needs {kind}, which is not in KINDS"
                );
            }
        }
        for kind in WORKLOADS.iter().chain(COMPONENTS) {
            assert!(spec(kind).is_some(), "{kind}");
        }
    }

    fn needed_for(ids: &[&str]) -> BTreeSet<&'static str> {
        let sel = crate::scan::Selection {
            only: ids.iter().map(|s| s.to_string()).collect(),
            skip: vec![],
        };
        let rules = crate::scan::select_rules(&sel, &crate::settings::Settings::default()).unwrap();
        needed(&rules, false)
    }

    #[test]
    fn only_what_the_enabled_rules_read_is_listed() {
        let workloads: BTreeSet<&str> = WORKLOADS.iter().copied().collect();
        assert_eq!(needed_for(&["privileged-container"]), workloads);
        let pdb = needed_for(&["pdb-missing"]);
        assert!(pdb.contains("PodDisruptionBudget") && pdb.contains("HorizontalPodAutoscaler"));
        assert!(!pdb.contains("Node") && !pdb.contains("ConfigMap"));
        let backup = needed_for(&["backup-tool-missing"]);
        assert!(backup.contains("CustomResourceDefinition") && !backup.contains("Service"));
        let sel = crate::scan::Selection {
            only: vec!["backup-tool-missing".into()],
            skip: vec![],
        };
        let rules = crate::scan::select_rules(&sel, &crate::settings::Settings::default()).unwrap();
        assert!(needed(&rules, true).is_empty(), "-n runs no cluster rule");
    }

    #[test]
    fn implemented_rules_do_not_list_everything() {
        let rules: Vec<ActiveRule> =
            crate::scan::select_rules(&Default::default(), &crate::settings::Settings::default())
                .unwrap();
        let kinds = needed(&rules, false);
        assert!(kinds.contains("Pod") && kinds.contains("PodDisruptionBudget"));
        assert!(
            !kinds.contains("ConfigMap")
                || rules.iter().any(|r| r.meta.id == "secret-in-configmap")
        );
    }
}
