//! Label indexes, so selector relations (Service → pods, pods → Services,
//! PDB → pods) are looked up instead of matched against every object of a
//! namespace per object: a namespace with thousands of workloads and
//! Services otherwise costs W × S.
//!
//! Keys are hashes of `(namespace, key, value)`; every candidate found
//! through them is still checked with the real selector match, so a hash
//! collision can only cost time, never change a verdict.

use super::prehashed::PrehashedMap;
use super::Inventory;
use crate::object::Object;
use crate::rules::Workload;
use crate::selector::{label_selector_matches, map_selector_matches};
use crate::yaml::Node;
use rayon::prelude::*;

#[derive(Default)]
pub struct LabelIndex {
    /// Workloads by each of their pod labels.
    workloads: PrehashedMap<u64, Vec<usize>>,
    /// Services by the first pair of their selector (all pairs must match,
    /// so the first one is enough to find them).
    services: PrehashedMap<u64, Vec<usize>>,
    /// Services whose selector's first value is not a string: checked
    /// against every pod of their namespace, as before the index.
    unkeyed_services: Vec<usize>,
}

/// The index key of a label pair in a namespace (see `key_of`).
fn key(ns: &str, k: &str, v: &str) -> u64 {
    super::key_of(&[ns, k, v])
}

/// The first `key: value` pair of a map, when the value is a string.
fn first_pair(map: &Node) -> Option<(&str, &str)> {
    let (k, v) = map.entries().next()?;
    Some((k, v.as_str()?))
}

impl LabelIndex {
    pub(super) fn build(inv: &Inventory) -> LabelIndex {
        let mut ix = LabelIndex::default();
        // Hashing every label is the costly part and runs on every core
        // (rules wait for this index); the buckets are filled in order.
        let pairs: Vec<(u64, usize)> = inv
            .workload_indexes()
            .par_iter()
            .filter_map(|&i| Workload::of(&inv.objects[i], i))
            .flat_map_iter(|w| {
                let index = w.index;
                w.obj
                    .effective_namespace()
                    .zip(w.labels())
                    .into_iter()
                    .flat_map(move |(ns, labels)| {
                        labels
                            .entries()
                            .filter_map(move |(k, v)| Some((key(ns, k, v.as_str()?), index)))
                    })
            })
            .collect();
        for (h, i) in pairs {
            ix.workloads.entry(h).or_default().push(i);
        }
        for (i, s) in inv.of_kind("Service") {
            let Some(sel) = s.root.at(&["spec", "selector"]) else {
                continue;
            };
            let Some(ns) = s.effective_namespace() else {
                continue;
            };
            match first_pair(sel) {
                Some((k, v)) => ix.services.entry(key(ns, k, v)).or_default().push(i),
                None if !sel.is_empty() => ix.unkeyed_services.push(i),
                // An empty selector selects nothing.
                None => {}
            }
        }
        ix
    }
}

impl Inventory {
    fn label_index(&self) -> &LabelIndex {
        self.labels.get_or_init(|| LabelIndex::build(self))
    }

    /// Candidates for a selector's string pairs: the workloads of `ns`
    /// carrying the rarest of those labels (every pair must match, so any
    /// one bucket holds all matches); `None` when no pair is a string.
    fn candidates<'a>(&'a self, ns: &str, pairs: Option<&'a Node>) -> Option<&'a [usize]> {
        let ix = self.label_index();
        pairs
            .map(Node::entries)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some(key(ns, k, v.as_str()?)))
            .map(|h| ix.workloads.get(&h).map(Vec::as_slice).unwrap_or(&[]))
            .min_by_key(|c| c.len())
    }

    /// Workloads of `ns` whose pods `matches` accepts, among `candidates`
    /// (else all of the namespace's).
    fn select<'a>(
        &'a self,
        ns: &'a str,
        candidates: Option<&'a [usize]>,
        matches: impl Fn(Option<&Node>) -> bool + 'a,
    ) -> Box<dyn Iterator<Item = Workload<'a>> + 'a> {
        match candidates {
            Some(c) => Box::new(
                c.iter()
                    .filter_map(move |&i| Workload::of(&self.objects[i], i))
                    .filter(move |w| w.obj.effective_namespace() == Some(ns))
                    .filter(move |w| matches(w.labels())),
            ),
            None => Box::new(self.workloads_in(ns).filter(move |w| matches(w.labels()))),
        }
    }

    /// Workloads of `ns` whose pods a map selector (a Service's
    /// `spec.selector`) selects: every pair must be present, and an empty
    /// selector selects nothing.
    pub fn workloads_selected_by_map<'a>(
        &'a self,
        ns: &'a str,
        sel: &'a Node,
    ) -> impl Iterator<Item = Workload<'a>> + 'a {
        let c = self.candidates(ns, Some(sel));
        self.select(ns, c, move |l| map_selector_matches(sel, l))
    }

    /// Workloads of `ns` whose pods a label selector (`matchLabels` and
    /// `matchExpressions`, as in PDBs and monitors) selects.
    pub fn workloads_selected_by_label<'a>(
        &'a self,
        ns: &'a str,
        sel: &'a Node,
    ) -> impl Iterator<Item = Workload<'a>> + 'a {
        let c = self.candidates(ns, sel.get("matchLabels"));
        self.select(ns, c, move |l| label_selector_matches(sel, l))
    }

    /// Services of `ns` whose selector selects pods labelled `labels`.
    pub fn services_selecting<'a>(
        &'a self,
        ns: &'a str,
        labels: Option<&'a Node>,
    ) -> impl Iterator<Item = &'a Object> + 'a {
        let ix = self.label_index();
        let keyed = labels
            .map(Node::entries)
            .into_iter()
            .flatten()
            .filter_map(move |(k, v)| ix.services.get(&key(ns, k, v.as_str()?)))
            .flatten();
        keyed
            .chain(&ix.unkeyed_services)
            .map(move |&i| &self.objects[i])
            .filter(move |s| s.effective_namespace() == Some(ns))
            .filter(move |s| {
                s.root
                    .at(&["spec", "selector"])
                    .is_some_and(|sel| map_selector_matches(sel, labels))
            })
    }
}

#[cfg(test)]
mod tests {
    use crate::inventory::Inventory;

    const INPUT: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: other}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web, tier: front}}
---
apiVersion: v1
kind: Service
metadata: {name: back, namespace: shop}
spec: {selector: {tier: front, app: api}}
---
apiVersion: v1
kind: Service
metadata: {name: none, namespace: shop}
spec: {selector: {}}
";

    #[test]
    fn services_and_workloads_are_found_through_the_index() {
        let inv = Inventory::from_yaml(INPUT);
        let (_, web) = inv.get("Deployment", "shop", "web").unwrap();
        let w = crate::rules::Workload::of(web, 0).unwrap();
        let svcs: Vec<&str> = inv
            .services_selecting("shop", w.labels())
            .map(|s| s.name.as_str())
            .collect();
        // `back` shares a pair with the pods but not all; `none` selects nothing.
        assert_eq!(svcs, ["web"]);
        assert_eq!(inv.services_selecting("other", w.labels()).count(), 0);

        let (_, svc) = inv.get("Service", "shop", "web").unwrap();
        let sel = svc.root.at(&["spec", "selector"]).unwrap();
        let ws: Vec<String> = inv
            .workloads_selected_by_map("shop", sel)
            .map(|w| w.obj.display())
            .collect();
        assert_eq!(ws, ["Deployment/shop/web"]);

        let (_, back) = inv.get("Service", "shop", "back").unwrap();
        let sel = back.root.at(&["spec", "selector"]).unwrap();
        assert_eq!(inv.workloads_selected_by_map("shop", sel).count(), 0);

        let sel = crate::yaml::load("matchLabels: {tier: front}\nmatchExpressions: [{key: app, operator: In, values: [web]}]\n", &crate::yaml::Limits::default())
            .docs
            .remove(0)
            .root;
        assert_eq!(inv.workloads_selected_by_label("other", &sel).count(), 1);
    }
}
