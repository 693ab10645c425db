//! Recognising installed components (Velero, Prometheus, Kyverno...) is
//! data, not code per tool: `rules/data/components.yaml` lists, per component,
//! the CRD groups, kinds, image names and labels that give it away.

use crate::inventory::Inventory;
use crate::rules::pod::pod_spec_location;
use crate::yaml::{self, de::from_node, Limits, Node};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentsFile {
    pub components: Vec<Component>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Component {
    pub id: String,
    pub name: String,
    /// Capabilities it provides (`metrics`, `backup`, `gitops`...): rules ask for capabilities.
    pub provides: Vec<String>,
    /// API groups of its CRDs or custom objects.
    #[serde(default)]
    pub api_groups: Vec<String>,
    /// Built-in or custom kinds whose presence proves it (e.g. `ValidatingAdmissionPolicy`).
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Image repository names (last path segments, without tag): `velero`, `fluent-bit`.
    #[serde(default)]
    pub images: Vec<String>,
    /// `app.kubernetes.io/name` (or `app`, `k8s-app`) label values on workloads.
    #[serde(default)]
    pub labels: Vec<String>,
}

pub fn definitions() -> &'static [Component] {
    static DEFS: OnceLock<Vec<Component>> = OnceLock::new();
    DEFS.get_or_init(|| {
        let text = crate::catalog::data_file("components.yaml").unwrap_or("components: []\n");
        let loaded = yaml::load(text, &Limits::default());
        let root = loaded.docs.first().map(|d| d.root.clone());
        root.and_then(|r| from_node::<ComponentsFile>(&r).ok())
            .map(|f| f.components)
            .unwrap_or_default()
    })
}

/// Evidence that a component is installed: which object showed it.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub object: usize,
    pub how: String,
}

#[derive(Debug, Default)]
pub struct Detected {
    /// Component id → evidence.
    pub found: BTreeMap<String, Vec<Evidence>>,
}

impl Detected {
    pub fn has(&self, id: &str) -> bool {
        self.found.contains_key(id)
    }

    /// Components providing a capability, by name.
    pub fn providing(&self, capability: &str) -> Vec<&'static str> {
        definitions()
            .iter()
            .filter(|c| {
                c.provides.iter().any(|p| p == capability) && self.found.contains_key(&c.id)
            })
            .map(|c| c.name.as_str())
            .collect()
    }

    pub fn provides(&self, capability: &str) -> bool {
        !self.providing(capability).is_empty()
    }
}

/// The repository name of an image: `quay.io/org/fluent-bit:2.1@sha..` → `fluent-bit`.
pub fn image_name(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split(':').next().unwrap_or(last)
}

pub fn detect(inv: &Inventory) -> Detected {
    let defs = definitions();
    let mut by_group: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_kind: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_image: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_label: HashMap<&str, Vec<usize>> = HashMap::new();
    for (ci, c) in defs.iter().enumerate() {
        c.api_groups
            .iter()
            .for_each(|g| by_group.entry(g).or_default().push(ci));
        c.kinds
            .iter()
            .for_each(|k| by_kind.entry(k).or_default().push(ci));
        c.images
            .iter()
            .for_each(|i| by_image.entry(i).or_default().push(ci));
        c.labels
            .iter()
            .for_each(|l| by_label.entry(l).or_default().push(ci));
    }
    let mut found: BTreeMap<String, Vec<Evidence>> = BTreeMap::new();
    let mut add = |ci: usize, object: usize, how: String| {
        let v = found.entry(defs[ci].id.clone()).or_default();
        if v.len() < 5 {
            v.push(Evidence { object, how });
        }
    };
    for (i, o) in inv.objects.iter().enumerate() {
        if o.kind == "CustomResourceDefinition" {
            if let Some(g) = o.root.at(&["spec", "group"]).and_then(Node::as_str) {
                for &ci in by_group.get(g).into_iter().flatten() {
                    add(ci, i, format!("CRD {}", o.name));
                }
            }
        }
        for &ci in by_group.get(o.api_group()).into_iter().flatten() {
            add(ci, i, format!("{} {}", o.kind, o.name));
        }
        for &ci in by_kind.get(o.kind.as_str()).into_iter().flatten() {
            add(ci, i, format!("{} {}", o.kind, o.name));
        }
        if let Some(loc) = pod_spec_location(&o.kind) {
            for key in ["app.kubernetes.io/name", "app", "k8s-app"] {
                if let Some(v) = o.label(key) {
                    for &ci in by_label.get(v).into_iter().flatten() {
                        add(ci, i, format!("{} {} labelled {key}={v}", o.kind, o.name));
                    }
                }
            }
            let spec = o.root.at(loc).and_then(|t| t.get("spec"));
            for list in ["containers", "initContainers"] {
                for c in spec
                    .and_then(|s| s.get(list))
                    .map(Node::items)
                    .unwrap_or(&[])
                {
                    if let Some(img) = c.get("image").and_then(Node::as_str) {
                        for &ci in by_image.get(image_name(img)).into_iter().flatten() {
                            add(ci, i, format!("{} {} runs {img}", o.kind, o.name));
                        }
                    }
                }
            }
        }
    }
    Detected { found }
}

#[cfg(test)]
mod tests {
    #[test]
    fn image_names() {
        assert_eq!(
            super::image_name("quay.io/fluent/fluent-bit:2.1@sha256:abc"),
            "fluent-bit"
        );
        assert_eq!(super::image_name("velero/velero:v1.13"), "velero");
        assert_eq!(super::image_name("localhost:5000/app"), "app");
    }

    #[test]
    fn definitions_parse() {
        assert!(
            !super::definitions().is_empty(),
            "rules/components.yaml must parse"
        );
    }
}
