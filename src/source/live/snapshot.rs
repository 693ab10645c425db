//! `kready snapshot`: what a live scan listed, as one YAML `List` document,
//! and reading it back. The List's annotations record the facts a live
//! scan knows beyond the objects (server version, kinds listed, kinds that
//! could not be listed and why, the namespaces scanned), so that
//! `kready scan cluster.yaml` judges exactly what `--live` judged: rules
//! may read `status`, a kind listed empty is known to be empty, and a kind
//! that could not be listed stays not-evaluated.
//!
//! The writer emits block YAML with every string double-quoted (JSON
//! escapes are valid YAML), so no value is ever re-typed on reading
//! (`"yes"` stays a string, `"1.20"` is not a number).

use crate::object::Object;
use crate::source::ClusterFacts;
use crate::yaml::{Node, Value};
use std::fmt::Write;

/// Marks a `List` as a kready snapshot; the value is the format version.
pub const MARKER: &str = "kready.io/snapshot";
const SERVER_VERSION: &str = "kready.io/server-version";
const LISTED: &str = "kready.io/listed";
const UNAVAILABLE: &str = "kready.io/unavailable";
const NAMESPACES: &str = "kready.io/namespaces";

/// The snapshot text.
pub fn render(objects: &[Object], facts: &ClusterFacts) -> String {
    let mut out = String::with_capacity(objects.len() * 2048);
    out.push_str("# kready cluster snapshot: scan it offline with `kready scan <this file>`.\n");
    out.push_str(
        "# Secrets are never listed; managedFields and last-applied annotations are dropped.\n",
    );
    out.push_str(
        "# It holds ConfigMap data, workload specs and node details: share it as you would the cluster's config.\n",
    );
    out.push_str("apiVersion: v1\nkind: List\nmetadata:\n  annotations:\n");
    let listed: Vec<&str> = facts.listed.iter().map(String::as_str).collect();
    let unavailable =
        serde_json::to_string(&facts.unavailable).unwrap_or_else(|_| "{}".to_string());
    let mut ann = vec![
        (MARKER, "v1".to_string()),
        (LISTED, listed.join(",")),
        (UNAVAILABLE, unavailable),
    ];
    if let Some(v) = &facts.server_version {
        ann.push((SERVER_VERSION, v.clone()));
    }
    if let Some(ns) = &facts.namespaces {
        ann.push((NAMESPACES, ns.join(",")));
    }
    for (k, v) in ann {
        let _ = writeln!(out, "    {}: {}", key(k), quote(&v));
    }
    if objects.is_empty() {
        out.push_str("items: []\n");
        return out;
    }
    out.push_str("items:\n");
    for o in objects {
        out.push_str("- ");
        emit_map_body(&o.root, 2, &mut out, true);
    }
    out
}

/// The facts recorded in a snapshot `List`, or `None` for any other List.
pub fn facts_from_list(list: &Node) -> Option<ClusterFacts> {
    let ann = list.at(&["metadata", "annotations"])?;
    ann.get(MARKER)?;
    let text = |k: &str| ann.get(k).and_then(Node::as_str).unwrap_or("");
    let split = |s: &str| -> Vec<String> {
        s.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()
    };
    let unavailable = serde_json::from_str(text(UNAVAILABLE)).unwrap_or_default();
    let namespaces = split(text(NAMESPACES));
    Some(ClusterFacts {
        listed: split(text(LISTED)).into_iter().collect(),
        unavailable,
        server_version: ann
            .get(SERVER_VERSION)
            .and_then(Node::as_str)
            .map(str::to_string),
        namespaces: (!namespaces.is_empty()).then_some(namespaces),
    })
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// A key as written: plain when it cannot be misread, else quoted.
fn key(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain {
        s.to_string()
    } else {
        quote(s)
    }
}

fn scalar(n: &Node) -> String {
    match &n.value {
        Value::Scalar(s) if s.plain => s.text.to_string(),
        Value::Scalar(s) => quote(&s.text),
        Value::Map(m) if m.entries.is_empty() => "{}".into(),
        Value::Seq(v) if v.is_empty() => "[]".into(),
        _ => String::new(),
    }
}

fn is_block(n: &Node) -> bool {
    match &n.value {
        Value::Map(m) => !m.entries.is_empty(),
        Value::Seq(v) => !v.is_empty(),
        _ => false,
    }
}

/// Writes a map's entries; the first one continues the current line
/// when `inline_first` (after `- `).
fn emit_map_body(n: &Node, indent: usize, out: &mut String, inline_first: bool) {
    let Value::Map(m) = &n.value else {
        let _ = writeln!(out, "{}", scalar(n));
        return;
    };
    if m.entries.is_empty() {
        out.push_str("{}\n");
        return;
    }
    for (i, (k, v)) in m.entries.iter().enumerate() {
        if i > 0 || !inline_first {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&key(&k.text));
        out.push(':');
        emit_value(v, indent, out);
    }
}

/// Writes the value of a map entry whose key is already written.
fn emit_value(v: &Node, indent: usize, out: &mut String) {
    match &v.value {
        Value::Map(_) if is_block(v) => {
            out.push('\n');
            emit_map_body(v, indent + 2, out, false);
        }
        Value::Seq(items) if is_block(v) => {
            out.push('\n');
            emit_seq(items, indent, out);
        }
        _ => {
            out.push(' ');
            out.push_str(&scalar(v));
            out.push('\n');
        }
    }
}

/// Sequence items at `indent` (Kubernetes style: `- ` at the key's column).
fn emit_seq(items: &[Node], indent: usize, out: &mut String) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match &item.value {
            Value::Map(_) if is_block(item) => emit_map_body(item, indent + 2, out, true),
            Value::Seq(inner) if is_block(item) => {
                out.push('\n');
                emit_seq(inner, indent + 2, out);
            }
            _ => {
                out.push_str(&scalar(item));
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::Origin;
    use crate::yaml::{self, Limits};

    fn obj(v: serde_json::Value) -> Object {
        Object {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "x".into(),
            namespace: None,
            root: Node::from_json(&v),
            origin: Origin::Live,
        }
    }

    #[test]
    fn round_trips_every_value() {
        let v = serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "labels": {"yes": "no", "a.b/c": "1.20", "on": "true"},
                         "annotations": {}},
            "data": {"multi": "line one\nline \"two\"\n\ttab", "empty": "", "null-ish": "null",
                     "unicode": "é ✓", "colon": "a: b # c", "dash": "- x"},
            "list": [1, 2.5, true, null, [], {}, [["nested"]], {"k": [{"a": 1}, "s"]}],
            "spec": {"replicas": 3, "enabled": false, "empty": [], "obj": {}},
            "1": "numeric key", "": "empty key"
        });
        let facts = ClusterFacts {
            listed: ["ConfigMap".to_string(), "Pod".to_string()].into(),
            unavailable: [("Node".to_string(), "forbidden: \"x\"".to_string())].into(),
            server_version: Some("v1.20.2".into()),
            namespaces: None,
        };
        let text = render(&[obj(v.clone()), obj(v.clone())], &facts);
        let loaded = yaml::load(&text, &Limits::default());
        assert!(loaded.problems.is_empty(), "{:?}\n{text}", loaded.problems);
        let root = &loaded.docs[0].root;
        let items = root.get("items").unwrap().items();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].to_json(), v, "{text}");
        let back = facts_from_list(root).unwrap();
        assert_eq!(back.listed, facts.listed);
        assert_eq!(back.unavailable, facts.unavailable);
        assert_eq!(back.server_version, facts.server_version);
        assert_eq!(back.namespaces, None);
    }

    #[test]
    fn empty_snapshot_and_plain_lists() {
        let text = render(&[], &ClusterFacts::default());
        let loaded = yaml::load(&text, &Limits::default());
        let root = &loaded.docs[0].root;
        assert!(facts_from_list(root).is_some());
        let plain = yaml::load(
            "apiVersion: v1\nkind: List\nitems: []\n",
            &Limits::default(),
        );
        assert!(facts_from_list(&plain.docs[0].root).is_none());
    }
}
