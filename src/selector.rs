//! Kubernetes label selectors, for the relation rules (which PDB covers a
//! Deployment, which Service selects nothing...).

use crate::yaml::Node;

/// A `LabelSelector` (`matchLabels` + `matchExpressions`) against labels.
/// An empty selector matches everything (as for NetworkPolicy and PDB).
pub fn label_selector_matches(selector: &Node, labels: Option<&Node>) -> bool {
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Node::as_str);
    for (k, v) in selector
        .get("matchLabels")
        .into_iter()
        .flat_map(Node::entries)
    {
        if label(k) != v.as_str() {
            return false;
        }
    }
    for expr in selector
        .get("matchExpressions")
        .map(Node::items)
        .unwrap_or(&[])
    {
        let Some(key) = expr.get("key").and_then(Node::as_str) else {
            return false;
        };
        let values: Vec<&str> = expr
            .get("values")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter_map(Node::as_str)
            .collect();
        let have = label(key);
        let ok = match expr.get("operator").and_then(Node::as_str) {
            Some("In") => have.is_some_and(|h| values.contains(&h)),
            Some("NotIn") => have.is_none_or(|h| !values.contains(&h)),
            Some("Exists") => have.is_some(),
            Some("DoesNotExist") => have.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// A map selector (Service `spec.selector`, ReplicationController): every
/// pair must be present. An empty map selector matches nothing for
/// Services (they then target manually managed Endpoints).
pub fn map_selector_matches(selector: &Node, labels: Option<&Node>) -> bool {
    let mut any = false;
    for (k, v) in selector.entries() {
        any = true;
        if labels.and_then(|l| l.get(k)).and_then(Node::as_str) != v.as_str() {
            return false;
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{load, Limits};

    fn n(s: &str) -> Node {
        load(s, &Limits::default()).docs.remove(0).root
    }

    #[test]
    fn match_labels_and_expressions() {
        let labels = n("app: web\ntier: front\n");
        assert!(label_selector_matches(
            &n("matchLabels: {app: web}"),
            Some(&labels)
        ));
        assert!(!label_selector_matches(
            &n("matchLabels: {app: db}"),
            Some(&labels)
        ));
        assert!(label_selector_matches(
            &n("matchExpressions: [{key: tier, operator: In, values: [front, back]}]"),
            Some(&labels)
        ));
        assert!(!label_selector_matches(
            &n("matchExpressions: [{key: tier, operator: DoesNotExist}]"),
            Some(&labels)
        ));
        assert!(label_selector_matches(&n("{}"), Some(&labels)));
        assert!(map_selector_matches(&n("app: web"), Some(&labels)));
        assert!(!map_selector_matches(&n("{}"), Some(&labels)));
    }
}
