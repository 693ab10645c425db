//! Deprecated and removed API versions, from the Pluto-like table in
//! `rules/data/api-versions.yaml`, judged against the target Kubernetes
//! version (`--kubernetes-version`, or the live server's).
use crate::object::Object;
use crate::path::FieldPath;
use crate::rules::{Ctx, Outcome};
use crate::settings::KubeVersion;
use crate::yaml::{self, de::from_node, Limits};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiFile {
    pub apis: Vec<ApiEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiEntry {
    pub api_version: String,
    pub kinds: Vec<String>,
    pub deprecated_in: KubeVersion,
    #[serde(default)]
    pub removed_in: Option<KubeVersion>,
    /// The API version (or mechanism) to use instead.
    pub replacement: String,
}

/// Parses the embedded table (a defect in it is caught by the unit test).
pub fn parse(text: &str) -> Result<ApiFile, String> {
    let loaded = yaml::load(text, &Limits::default());
    if let Some(p) = loaded.problems.first() {
        return Err(format!("{}: {}", p.pos, p.message));
    }
    let root = loaded.docs.first().map(|d| &d.root).ok_or("empty file")?;
    from_node(root).map_err(|e| format!("{}: {} ({})", e.pos, e.message, e.path))
}

struct Table {
    by_version_kind: HashMap<(String, String), ApiEntry>,
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let entries = crate::catalog::data_file("api-versions.yaml")
            .and_then(|t| parse(t).ok())
            .map(|f| f.apis)
            .unwrap_or_default();
        let mut by_version_kind = HashMap::new();
        for e in entries {
            for k in &e.kinds {
                by_version_kind.insert(
                    (e.api_version.clone(), k.clone()),
                    ApiEntry {
                        api_version: e.api_version.clone(),
                        kinds: vec![k.clone()],
                        deprecated_in: e.deprecated_in,
                        removed_in: e.removed_in,
                        replacement: e.replacement.clone(),
                    },
                );
            }
        }
        Table { by_version_kind }
    })
}

/// API groups served by Kubernetes itself: objects in them that the table
/// does not list use a current version (pass); custom groups are not judged.
const BUILT_IN_GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "extensions",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

enum Status<'a> {
    /// Not a built-in API: not judged.
    Unknown,
    Current,
    Deprecated(&'a ApiEntry),
    Removed(&'a ApiEntry),
}

fn status(obj: &Object, target: KubeVersion) -> Status<'static> {
    match table()
        .by_version_kind
        .get(&(obj.api_version.clone(), obj.kind.clone()))
    {
        Some(e) if e.removed_in.is_some_and(|r| target >= r) => Status::Removed(e),
        Some(e) if target >= e.deprecated_in => Status::Deprecated(e),
        Some(_) => Status::Current,
        None if BUILT_IN_GROUPS.contains(&obj.api_group()) => Status::Current,
        None => Status::Unknown,
    }
}

/// An object whose apiVersion is deprecated (still served) at the target
/// version. Removed versions are `removed-api-version`'s business.
pub fn deprecated_api_version(cx: &Ctx, obj: &Object) -> Outcome {
    let target = cx.settings.kubernetes_version;
    match status(obj, target) {
        Status::Unknown | Status::Removed(_) => Outcome::Skip,
        Status::Current => Outcome::Pass,
        Status::Deprecated(e) => Outcome::fail(
            FieldPath::of(&["apiVersion"]),
            format!(
                "{} {} uses {}, deprecated since Kubernetes {}{} (target {target}): use {}",
                obj.kind,
                obj.name,
                obj.api_version,
                e.deprecated_in,
                e.removed_in
                    .map(|r| format!(" and removed in {r}"))
                    .unwrap_or_default(),
                e.replacement
            ),
        ),
    }
}

/// An object whose apiVersion the target Kubernetes version no longer
/// serves: applying it fails.
pub fn removed_api_version(cx: &Ctx, obj: &Object) -> Outcome {
    let target = cx.settings.kubernetes_version;
    match status(obj, target) {
        Status::Unknown => Outcome::Skip,
        Status::Current | Status::Deprecated(_) => Outcome::Pass,
        Status::Removed(e) => Outcome::fail(
            FieldPath::of(&["apiVersion"]),
            format!(
                "{} {} uses {}, removed in Kubernetes {} (deprecated since {}; target {target}): use {}",
                obj.kind,
                obj.name,
                obj.api_version,
                e.removed_in.map(|r| r.to_string()).unwrap_or_default(),
                e.deprecated_in,
                e.replacement
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_parses() {
        let text = crate::catalog::data_file("api-versions.yaml").expect("embedded");
        let f = parse(text).unwrap();
        assert!(f.apis.len() > 30);
        for e in &f.apis {
            assert!(!e.kinds.is_empty(), "{}", e.api_version);
            if let Some(r) = e.removed_in {
                assert!(e.deprecated_in <= r, "{}", e.api_version);
            }
            let group = e.api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
            assert!(BUILT_IN_GROUPS.contains(&group), "{}", e.api_version);
        }
        let t = table();
        let hpa = t
            .by_version_kind
            .get(&(
                "autoscaling/v2beta2".into(),
                "HorizontalPodAutoscaler".into(),
            ))
            .unwrap();
        assert_eq!(hpa.removed_in, Some(KubeVersion::new(1, 26)));
        assert_eq!(hpa.deprecated_in, KubeVersion::new(1, 23));
    }
}
