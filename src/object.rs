//! A Kubernetes object as every later stage sees it: the parsed document
//! plus where it came from. Nothing downstream knows files from clusters.

use crate::path::FieldPath;
use crate::yaml::{Node, Pos};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub enum Origin {
    /// A document in a file (or stdin). `file` is the path as reported
    /// (relative to the working directory when possible).
    File {
        file: Arc<str>,
        /// For Helm output on stdin: lines are reported relative to the
        /// `# Source:` comment of the template the document came from.
        line_offset: u32,
    },
    /// Read from the API server: no lines, `Kind/namespace/name` instead.
    Live,
}

#[derive(Clone, Debug)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// `metadata.namespace` as written; `None` when absent.
    pub namespace: Option<String>,
    pub root: Node,
    pub origin: Origin,
}

/// Kinds that live outside namespaces (the common built-in ones and the
/// cluster-scoped CRDs kready reasons about).
pub const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "APIService",
    "PriorityClass",
    "RuntimeClass",
    "IngressClass",
    "CSIDriver",
    "CSINode",
    "VolumeSnapshotClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "PodSecurityPolicy",
    "ClusterIssuer",
    "ClusterPolicy",
    "ClusterSecretStore",
    "ClusterExternalSecret",
    "ConstraintTemplate",
    "GatewayClass",
    "CertificateSigningRequest",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "ClusterReport",
    "ClusterPolicyReport",
];

impl Object {
    pub fn is_cluster_scoped(&self) -> bool {
        CLUSTER_SCOPED.contains(&self.kind.as_str())
    }

    /// The namespace the object lands in: as written, else `default`
    /// (what `kubectl apply` does without `-n`). `None` when cluster-scoped.
    pub fn effective_namespace(&self) -> Option<&str> {
        self.namespace_if(self.is_cluster_scoped())
    }

    /// `effective_namespace` when whether the kind is cluster-scoped is
    /// already known (index lookups ask it once, not per object found).
    pub fn namespace_if(&self, cluster_scoped: bool) -> Option<&str> {
        if cluster_scoped {
            None
        } else {
            Some(self.namespace.as_deref().unwrap_or("default"))
        }
    }

    /// `Deployment/shop/api`, `ClusterRole/admin`.
    pub fn display(&self) -> String {
        match self.effective_namespace() {
            Some(ns) => format!("{}/{}/{}", self.kind, ns, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }

    pub fn api_group(&self) -> &str {
        match self.api_version.rsplit_once('/') {
            Some((g, _)) => g,
            None => "",
        }
    }

    pub fn labels(&self) -> Option<&Node> {
        self.root.at(&["metadata", "labels"])
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.root
            .at(&["metadata", "annotations"])?
            .get(key)?
            .as_str()
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels()?.get(key)?.as_str()
    }

    /// Where a field path points: file, line and column for files (line
    /// relative to the Helm template when there is one).
    pub fn locate(&self, path: &FieldPath) -> (Option<Arc<str>>, Pos) {
        match &self.origin {
            Origin::File { file, line_offset } => {
                let mut pos = path.resolve(&self.root);
                if pos.is_known() {
                    pos.line = pos.line.saturating_sub(*line_offset).max(1);
                }
                (Some(file.clone()), pos)
            }
            Origin::Live => (None, Pos::NONE),
        }
    }
}
