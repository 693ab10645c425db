//! The inventory indexes objects once so relation, namespace and cluster
//! rules ask questions ("which PDBs are in this namespace?") in constant or
//! per-namespace time, never by scanning every object per object.
//! It also knows which kinds could not be seen, and why.

use crate::object::Object;
use crate::rules::Workload;
use crate::yaml::Node;
use rayon::prelude::*;
use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

mod grants;
mod labels;
pub mod prehashed;

use prehashed::PrehashedMap;

/// Kinds the cluster creates at run time, never declared in manifests.
pub const RUNTIME_KINDS: &[&str] = &[
    "Node",
    "Event",
    "Endpoints",
    "EndpointSlice",
    "Lease",
    "Backup",
    "Restore",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Static,
    Live,
}

#[derive(Default)]
pub struct Inventory {
    pub objects: Vec<Object>,
    by_kind: HashMap<String, Vec<usize>>,
    /// By `key_of(namespace, kind)` and `key_of(kind, namespace, name)`:
    /// see `key_of`.
    by_ns_kind: PrehashedMap<u64, Vec<usize>>,
    by_name: PrehashedMap<u64, Vec<usize>>,
    /// Objects carrying a pod spec that are judged themselves (not owned
    /// by a controller that is also in the inventory).
    workloads: Vec<usize>,
    /// Workloads by namespace (the keys: namespaces holding workloads).
    workloads_by_ns: BTreeMap<String, Vec<usize>>,
    pub mode: Option<Mode>,
    /// Live: kinds the server listed successfully (an empty list counts).
    pub listed: HashSet<String>,
    /// Live: kinds that could not be listed, with the reason.
    pub unavailable: HashMap<String, String>,
    /// Static input declared to be a whole cluster (`--cluster-profile`):
    /// a kind absent from it is absent from the cluster, so relation rules
    /// can judge instead of answering not-evaluated.
    pub complete: bool,
    /// Live: the server's version (`v1.30.2`).
    pub server_version: Option<String>,
    /// Live: the namespaces a `-n` scan was limited to (`None`: all).
    pub namespaces: Option<Vec<String>>,
    // The inventory's own lazy indexes are fields: rules borrow slices of
    // them per object on hot paths, with no lock. `derived` is for the
    // indexes a rule module defines for itself (its types stay private).
    components: OnceLock<crate::components::Detected>,
    labels: OnceLock<labels::LabelIndex>,
    grants: OnceLock<grants::Grants>,
    /// Indexes rule modules derive from the whole inventory (see `derived`).
    derived: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

/// The index key of some strings (kind, namespace, name). Maps keyed by
/// these hashes cost no allocation per object and per lookup (String keys
/// cost three each); every lookup checks the objects it finds, so a
/// collision can only cost time, never change an answer.
fn key_of(parts: &[&str]) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    // `str`'s hash ends each string with a marker: ("ab", "c") ≠ ("a", "bc").
    parts.hash(&mut h);
    h.finish()
}

/// The namespace an object is indexed under: `""` for cluster-scoped kinds.
fn namespace_key(o: &Object) -> &str {
    o.effective_namespace().unwrap_or("")
}

/// Whether `o` is of `kind` and indexed under namespace `ns`: the check
/// behind every hashed lookup. `scoped` says whether `kind` is
/// cluster-scoped (asked once per lookup, not per object found).
fn is_key(o: &Object, kind: &str, scoped: bool, ns: &str) -> bool {
    o.kind == kind && o.namespace_if(scoped).unwrap_or("") == ns
}

impl Inventory {
    /// An inventory of the objects in `yaml` (for unit tests of rules).
    pub fn from_yaml(yaml: &str) -> Inventory {
        let out = crate::source::files::load_bytes(
            "test.yaml".into(),
            yaml.as_bytes(),
            &crate::yaml::Limits::default(),
            false,
        );
        Inventory::new(out.objects, Mode::Static)
    }

    pub fn new(objects: Vec<Object>, mode: Mode) -> Inventory {
        let mut inv = Inventory {
            objects,
            mode: Some(mode),
            ..Default::default()
        };
        // Hashing is per object and independent: done on every core; the
        // maps are filled in object order, so buckets list objects in order.
        let keys: Vec<(u64, u64)> = inv
            .objects
            .par_iter()
            .map(|o| {
                let ns = namespace_key(o);
                (key_of(&[ns, &o.kind]), key_of(&[&o.kind, ns, &o.name]))
            })
            .collect();
        for (i, (o, (ns_kind, name))) in inv.objects.iter().zip(keys).enumerate() {
            match inv.by_kind.get_mut(o.kind.as_str()) {
                Some(v) => v.push(i),
                None => {
                    inv.by_kind.insert(o.kind.clone(), vec![i]);
                }
            }
            inv.by_ns_kind.entry(ns_kind).or_default().push(i);
            inv.by_name.entry(name).or_default().push(i);
        }
        let workloads: Vec<usize> = (0..inv.objects.len())
            .filter(|&i| {
                crate::rules::pod::pod_spec_location(&inv.objects[i].kind).is_some()
                    && !inv.owned_by_listed_controller(i)
            })
            .collect();
        for &i in &workloads {
            if let Some(ns) = inv.objects[i].effective_namespace() {
                match inv.workloads_by_ns.get_mut(ns) {
                    Some(v) => v.push(i),
                    None => {
                        inv.workloads_by_ns.insert(ns.to_string(), vec![i]);
                    }
                }
            }
        }
        inv.workloads = workloads;
        inv
    }

    pub fn mode(&self) -> Mode {
        self.mode.unwrap_or(Mode::Static)
    }

    /// A Pod/ReplicaSet/Job whose controlling owner is in the inventory is
    /// judged through that owner, once.
    fn owned_by_listed_controller(&self, i: usize) -> bool {
        let o = &self.objects[i];
        let ns = o.effective_namespace().unwrap_or("");
        o.root
            .at(&["metadata", "ownerReferences"])
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .any(|r| {
                r.get("controller").and_then(Node::as_bool) == Some(true)
                    && match (
                        r.get("kind").and_then(Node::as_str),
                        r.get("name").and_then(Node::as_str),
                    ) {
                        (Some(k), Some(n)) => self.get(k, ns, n).is_some(),
                        _ => false,
                    }
            })
    }

    /// Objects of a kind.
    pub fn of_kind<'a>(&'a self, kind: &str) -> impl Iterator<Item = (usize, &'a Object)> + 'a {
        self.by_kind
            .get(kind)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(move |&i| (i, &self.objects[i]))
    }

    /// Objects of a kind in a namespace (`""` for cluster-scoped kinds).
    pub fn in_namespace<'a: 'k, 'k>(
        &'a self,
        ns: &'k str,
        kind: &'k str,
    ) -> impl Iterator<Item = (usize, &'a Object)> + 'k {
        let scoped = crate::object::CLUSTER_SCOPED.contains(&kind);
        self.by_ns_kind
            .get(&key_of(&[ns, kind]))
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(move |&i| (i, &self.objects[i]))
            .filter(move |(_, o)| is_key(o, kind, scoped, ns))
    }

    /// The object of a kind, namespace (`""` when cluster-scoped) and
    /// name; the last one when the input declares it twice.
    pub fn get(&self, kind: &str, ns: &str, name: &str) -> Option<(usize, &Object)> {
        self.named(kind, ns, name).last()
    }

    /// Every object of a kind, namespace and name, in input order (more
    /// than one when the input declares it twice).
    pub fn named<'a: 'k, 'k>(
        &'a self,
        kind: &'k str,
        ns: &'k str,
        name: &'k str,
    ) -> impl DoubleEndedIterator<Item = (usize, &'a Object)> + 'k {
        let scoped = crate::object::CLUSTER_SCOPED.contains(&kind);
        self.by_name
            .get(&key_of(&[kind, ns, name]))
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(move |&i| (i, &self.objects[i]))
            .filter(move |(_, o)| o.name == name && is_key(o, kind, scoped, ns))
    }

    /// The kinds of the objects, each once.
    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.by_kind.keys().map(String::as_str)
    }

    pub fn has_kind(&self, kind: &str) -> bool {
        self.by_kind.get(kind).is_some_and(|v| !v.is_empty())
    }

    /// Whether a relation rule can judge against `kind`: `Err(reason)` when
    /// it cannot (absent from static input, or the server refused the list).
    pub fn related(&self, kind: &str) -> Result<(), String> {
        if let Some(reason) = self.unavailable.get(kind) {
            return Err(format!("{kind} could not be listed: {reason}"));
        }
        // Listed from a cluster (live, or a snapshot file): known, even empty.
        if self.listed.contains(kind) {
            return Ok(());
        }
        match self.mode() {
            Mode::Live if self.has_kind(kind) => Ok(()),
            Mode::Live => Err(format!("{kind} was not listed")),
            Mode::Static if self.has_kind(kind) => Ok(()),
            // Completeness covers configuration, not what the cluster makes
            // itself: a GitOps repository declared as a whole cluster still
            // has no Node objects.
            Mode::Static if self.complete && !RUNTIME_KINDS.contains(&kind) => Ok(()),
            Mode::Static => Err(format!("no {kind} in the input")),
        }
    }

    /// Like `related`, for any of several kinds (e.g. HPA or KEDA ScaledObject).
    pub fn related_any(&self, kinds: &[&str]) -> Result<(), String> {
        let mut reasons = Vec::new();
        for k in kinds {
            match self.related(k) {
                Ok(()) => return Ok(()),
                Err(r) => reasons.push(r),
            }
        }
        Err(reasons.join("; "))
    }

    /// Workloads judged by pod rules, as views.
    pub fn workloads(&self) -> impl Iterator<Item = Workload<'_>> {
        self.workloads
            .iter()
            .filter_map(move |&i| Workload::of(&self.objects[i], i))
    }

    pub fn workload_indexes(&self) -> &[usize] {
        &self.workloads
    }

    /// Workloads of one namespace.
    pub fn workloads_in<'a>(&'a self, ns: &str) -> impl Iterator<Item = Workload<'a>> + 'a {
        self.workloads_by_ns
            .get(ns)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .filter_map(move |&i| Workload::of(&self.objects[i], i))
    }

    /// Namespaces that hold workloads (including those only named in
    /// `metadata.namespace`).
    pub fn workload_namespaces(&self) -> impl Iterator<Item = &str> {
        self.workloads_by_ns.keys().map(String::as_str)
    }

    /// Records what a cluster source knows beyond its objects.
    pub fn set_cluster_facts(&mut self, facts: crate::source::ClusterFacts) {
        self.listed = facts.listed.into_iter().collect();
        self.unavailable = facts.unavailable.into_iter().collect();
        self.server_version = facts.server_version;
        self.namespaces = facts.namespaces;
    }

    /// An index a rule module derives from the whole inventory, built on
    /// first use and shared by every later call for the same type `T`: a
    /// rule asked per object must not rebuild per object what depends only
    /// on the inventory (e.g. the LimitRange defaults of each namespace).
    pub fn derived<T: Any + Send + Sync>(&self, build: impl FnOnce(&Inventory) -> T) -> Arc<T> {
        let id = TypeId::of::<T>();
        let cached = |m: &HashMap<TypeId, Arc<dyn Any + Send + Sync>>| {
            m.get(&id).cloned().and_then(|a| a.downcast::<T>().ok())
        };
        // A poisoned lock only means another rule panicked (contained by
        // the engine); the map itself is always consistent.
        if let Some(t) = cached(&self.derived.lock().unwrap_or_else(|e| e.into_inner())) {
            return t;
        }
        // Built outside the lock: two threads may both build it once, and
        // the first stored wins; never a rule waiting on another's build.
        let built: Arc<T> = Arc::new(build(self));
        let mut m = self.derived.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = cached(&m) {
            return t;
        }
        m.insert(id, built.clone());
        built
    }

    /// Installed components (Velero, Prometheus, Kyverno...), detected once.
    pub fn components(&self) -> &crate::components::Detected {
        self.components
            .get_or_init(|| crate::components::detect(self))
    }
}

#[cfg(test)]
mod tests {
    use super::Inventory;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_derived_index_is_built_once_per_type_and_inventory() {
        struct Count(usize);
        let inv = Inventory::from_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n");
        let builds = AtomicUsize::new(0);
        let build = |inv: &Inventory| {
            builds.fetch_add(1, Ordering::SeqCst);
            Count(inv.objects.len())
        };
        assert_eq!(inv.derived(build).0, 1);
        assert_eq!(inv.derived(build).0, 1);
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        // Another inventory has its own.
        let other = Inventory::from_yaml("");
        assert_eq!(other.derived(build).0, 0);
        assert_eq!(builds.load(Ordering::SeqCst), 2);
    }

    /// The hashed indexes answer exactly what String keys did: kind,
    /// namespace (`default` when absent, `""` for cluster-scoped kinds)
    /// and name all match, in input order, the last one for `get`.
    #[test]
    fn lookups_by_kind_namespace_and_name() {
        let inv = Inventory::from_yaml(
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n\
             apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: shop}\n---\n\
             apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\n---\n\
             apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: shop, labels: {second: y}}\n---\n\
             apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, namespace: ignored}\n",
        );
        let idx = |it: &mut dyn Iterator<Item = (usize, &crate::object::Object)>| {
            it.map(|(i, _)| i).collect::<Vec<_>>()
        };
        assert_eq!(idx(&mut inv.in_namespace("shop", "Service")), [1, 3]);
        assert_eq!(idx(&mut inv.in_namespace("default", "Service")), [0]);
        assert_eq!(idx(&mut inv.in_namespace("shop", "ConfigMap")), [2]);
        assert_eq!(idx(&mut inv.in_namespace("", "Namespace")), [4]);
        assert_eq!(
            idx(&mut inv.in_namespace("ignored", "Namespace")),
            [] as [usize; 0]
        );
        assert_eq!(idx(&mut inv.named("Service", "shop", "a")), [1, 3]);
        assert_eq!(inv.get("Service", "shop", "a").map(|(i, _)| i), Some(3));
        assert_eq!(inv.get("Service", "default", "a").map(|(i, _)| i), Some(0));
        assert_eq!(inv.get("Namespace", "", "shop").map(|(i, _)| i), Some(4));
        assert!(inv.get("Service", "other", "a").is_none());
        assert!(inv.get("Secret", "shop", "a").is_none());
    }
}
