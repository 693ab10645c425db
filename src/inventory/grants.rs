//! Which ServiceAccounts RoleBindings and ClusterRoleBindings grant
//! something to, indexed once by ServiceAccount name: the token rules ask
//! it for every workload, and scanning every binding per workload made
//! them W × B.

use super::Inventory;
use crate::yaml::Node;
use std::collections::HashMap;

/// ServiceAccount name → the namespaces the grants name for it (`None`: a
/// ServiceAccount subject without namespace in a binding without one).
#[derive(Default)]
pub struct Grants(HashMap<String, Vec<Option<String>>>);

impl Grants {
    fn build(inv: &Inventory) -> Grants {
        let mut g = Grants::default();
        for kind in ["RoleBinding", "ClusterRoleBinding"] {
            for (_, b) in inv.of_kind(kind) {
                let binding_ns = b.effective_namespace();
                let subjects = b.root.get("subjects").map(Node::items).unwrap_or(&[]);
                for s in subjects {
                    let name = s.get("name").and_then(Node::as_str).unwrap_or("");
                    let (sa, ns) = match s.get("kind").and_then(Node::as_str) {
                        // A RoleBinding subject without namespace means the
                        // binding's; a ClusterRoleBinding one is invalid, kept
                        // without namespace so it matches leniently rather
                        // than raise a false alarm.
                        Some("ServiceAccount") => (
                            name,
                            s.get("namespace").and_then(Node::as_str).or(binding_ns),
                        ),
                        Some("User") => match name
                            .strip_prefix("system:serviceaccount:")
                            .and_then(|rest| rest.split_once(':'))
                        {
                            Some((ns, sa)) => (sa, Some(ns)),
                            None => continue,
                        },
                        // Groups (`system:serviceaccounts[:<ns>]`) are blanket
                        // grants that say nothing about one pod's needs.
                        _ => continue,
                    };
                    g.0.entry(sa.to_string())
                        .or_default()
                        .push(ns.map(str::to_string));
                }
            }
        }
        g
    }
}

impl Inventory {
    /// The namespaces of the bindings' grants to ServiceAccount `sa`, as
    /// ServiceAccount subjects or as the user `system:serviceaccount:<ns>:<sa>`.
    pub fn service_account_grants(&self, sa: &str) -> &[Option<String>] {
        self.grants
            .get_or_init(|| Grants::build(self))
            .0
            .get(sa)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}
