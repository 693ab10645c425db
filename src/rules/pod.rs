//! Views over pod specs, wherever they sit: a Pod's `spec`, a workload's
//! `spec.template.spec`, a CronJob's `spec.jobTemplate.spec.template.spec`.

use crate::object::Object;
use crate::path::{FieldPath, Seg};
use crate::yaml::Node;

/// Kinds that carry a pod template, and where.
pub fn pod_spec_location(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Pod" => &[],
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => &["spec", "template"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template"],
        _ => return None,
    })
}

/// A pod spec and its metadata inside an object.
pub struct Workload<'a> {
    pub obj: &'a Object,
    /// Index of `obj` in the inventory.
    pub index: usize,
    /// The pod spec (`spec` of the Pod or of the template).
    pub spec: &'a Node,
    /// Pod metadata (the Pod's or the template's), if any.
    pub meta: Option<&'a Node>,
    /// Where the pod template sits in the object (`pod_spec_location`).
    /// Field paths are built from it only for findings: a view is made
    /// for every workload and every relation lookup, and most of its
    /// containers pass every rule.
    loc: &'static [&'static str],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerKind {
    Init,
    Regular,
    Ephemeral,
}

impl ContainerKind {
    pub fn field(self) -> &'static str {
        match self {
            ContainerKind::Init => "initContainers",
            ContainerKind::Regular => "containers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }
    /// "container", "init container", "ephemeral container".
    pub fn noun(self) -> &'static str {
        match self {
            ContainerKind::Init => "init container",
            ContainerKind::Regular => "container",
            ContainerKind::Ephemeral => "ephemeral container",
        }
    }
}

pub struct Container<'a> {
    pub node: &'a Node,
    pub kind: ContainerKind,
    pub name: &'a str,
    /// Index in its list (`containers`, `initContainers`...).
    index: usize,
    loc: &'static [&'static str],
}

impl<'a> Container<'a> {
    /// `spec.template.spec.containers[1]`.
    pub fn path(&self) -> FieldPath {
        let mut p = pod_path(self.loc, &["spec", self.kind.field()], 1);
        p.0.push(Seg::Index(self.index));
        p
    }
    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.node.get(key)
    }
    pub fn at(&self, keys: &[&str]) -> Option<&'a Node> {
        self.node.at(keys)
    }
    /// `container "api"` / `init container "migrate"`.
    pub fn label(&self) -> String {
        format!("{} \"{}\"", self.kind.noun(), self.name)
    }
    /// Sidecars are init containers with `restartPolicy: Always`: they run
    /// for the pod's lifetime, so probe and resource rules treat them as regular.
    pub fn is_long_running(&self) -> bool {
        match self.kind {
            ContainerKind::Regular => true,
            ContainerKind::Init => {
                self.get("restartPolicy").and_then(Node::as_str) == Some("Always")
            }
            ContainerKind::Ephemeral => false,
        }
    }
}

/// `loc` followed by `keys`, in one allocation (room for `spare` more).
fn pod_path(loc: &[&str], keys: &[&str], spare: usize) -> FieldPath {
    let mut segs = Vec::with_capacity(loc.len() + keys.len() + spare);
    segs.extend(loc.iter().chain(keys).map(|k| Seg::Key((*k).into())));
    FieldPath(segs)
}

impl<'a> Workload<'a> {
    /// Builds the view for `obj` if it carries a pod spec.
    pub fn of(obj: &'a Object, index: usize) -> Option<Workload<'a>> {
        let loc = pod_spec_location(&obj.kind)?;
        let holder = obj.root.at(loc)?;
        let spec = holder.get("spec")?;
        spec.as_map()?;
        Some(Workload {
            obj,
            index,
            spec,
            meta: holder.get("metadata"),
            loc,
        })
    }

    /// The pod spec's path (`spec.template.spec`).
    pub fn spec_path(&self) -> FieldPath {
        pod_path(self.loc, &["spec"], 0)
    }

    /// A field of the pod spec.
    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.spec.get(key)
    }

    pub fn path(&self, key: &str) -> FieldPath {
        pod_path(self.loc, &["spec", key], 0)
    }

    /// Containers of one kind.
    pub fn containers_of(&self, kind: ContainerKind) -> impl Iterator<Item = Container<'a>> + '_ {
        let list = self.spec.get(kind.field()).map(Node::items).unwrap_or(&[]);
        list.iter().enumerate().map(move |(i, node)| Container {
            node,
            index: i,
            loc: self.loc,
            kind,
            name: node
                .get("name")
                .and_then(Node::as_str)
                .unwrap_or("<unnamed>"),
        })
    }

    /// Init, regular and ephemeral containers (what the PSS checks).
    pub fn all_containers(&self) -> impl Iterator<Item = Container<'a>> + '_ {
        [
            ContainerKind::Init,
            ContainerKind::Regular,
            ContainerKind::Ephemeral,
        ]
        .into_iter()
        .flat_map(move |k| self.containers_of(k))
    }

    /// Containers that run for the pod's lifetime (regular + sidecars).
    pub fn long_running_containers(&self) -> impl Iterator<Item = Container<'a>> + '_ {
        [ContainerKind::Init, ContainerKind::Regular]
            .into_iter()
            .flat_map(move |k| self.containers_of(k))
            .filter(Container::is_long_running)
    }

    /// Pod-level annotation (on the Pod or the template).
    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        self.meta?.get("annotations")?.get(key)?.as_str()
    }

    pub fn annotations(&self) -> impl Iterator<Item = (&'a str, &'a Node)> {
        self.meta
            .and_then(|m| m.get("annotations"))
            .into_iter()
            .flat_map(Node::entries)
    }

    pub fn annotation_path(&self, key: &str) -> FieldPath {
        pod_path(self.loc, &["metadata", "annotations", key], 0)
    }

    /// Pod template labels.
    pub fn labels(&self) -> Option<&'a Node> {
        self.meta?.get("labels")
    }

    /// Whether this is a run-to-completion workload (Job, CronJob, or a
    /// Pod with restartPolicy other than Always).
    pub fn is_batch(&self) -> bool {
        matches!(self.obj.kind.as_str(), "Job" | "CronJob")
            || (self.obj.kind == "Pod"
                && self
                    .get("restartPolicy")
                    .and_then(Node::as_str)
                    .is_some_and(|p| p != "Always"))
    }

    /// Windows pods (`spec.os.name: windows`): PSS exempts them from some checks.
    pub fn is_windows(&self) -> bool {
        self.spec.at(&["os", "name"]).and_then(Node::as_str) == Some("windows")
    }
}
