//! Subtrees the loader parses but does not keep: the validation schemas of
//! CustomResourceDefinitions.
//!
//! CRDs are most of the bytes of real manifest sets (78 % of
//! `../shared/corpus`: operators ship schemas of thousands of lines), and
//! no rule reads a schema. The parser still reads every byte (syntax
//! errors, duplicate keys and nesting limits inside a schema are reported
//! as anywhere else); only the nodes are not built, and the schema stays
//! in the tree as an empty mapping at its position. Peak memory on the
//! benchmark's 20,000-document tree fell by a third (205 to 128 MB).
//!
//! Only top-level CRD documents of files and stdin are trimmed: CRDs inside
//! a `List` and those read from a live cluster keep their schemas (memory
//! only; no rule reads them either way).

use super::node::{Node, Value};

/// The kind whose schemas are not kept.
pub const KIND: &str = "CustomResourceDefinition";

/// Whether a collection opened as the value of the last key of `keys`
/// (the keys of the open mappings from the root, `None` for a sequence
/// level) is a schema: `spec.versions[*].schema` (apiextensions/v1) or
/// `spec.validation` (v1beta1).
pub fn is_schema_path(keys: &[Option<&str>]) -> bool {
    matches!(
        keys,
        [Some("spec"), Some("validation")] | [Some("spec"), Some("versions"), None, Some("schema")]
    )
}

/// Replaces the schemas of a CRD's tree by empty mappings, as the loader
/// leaves them when it sees `kind` before `spec` (the usual order); for
/// the other order the tree is built whole and trimmed here, so the
/// result does not depend on key order.
pub fn trim(root: &mut Node) {
    let Some(spec) = entry_mut(root, "spec") else {
        return;
    };
    if let Some(v) = entry_mut(spec, "validation") {
        empty(v);
    }
    if let Some(Node {
        value: Value::Seq(versions),
        ..
    }) = entry_mut(spec, "versions")
    {
        for version in versions {
            if let Some(schema) = entry_mut(version, "schema") {
                empty(schema);
            }
        }
    }
}

fn entry_mut<'a>(n: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    match &mut n.value {
        Value::Map(m) => m
            .entries
            .iter_mut()
            .rev()
            .find(|(k, _)| k.text == key)
            .map(|(_, v)| v),
        _ => None,
    }
}

/// An empty collection of the same sort (a scalar is left as it is).
fn empty(n: &mut Node) {
    match &mut n.value {
        Value::Map(m) => m.entries = Vec::new(),
        Value::Seq(s) => *s = Vec::new(),
        Value::Scalar(_) => {}
    }
}

/// Whether `text` (one document) may define an anchor: a `&` that starts a
/// node (after a space, a line start or a flow indicator) and is followed
/// by a name. A schema with an anchor is built whole, so an alias outside
/// it gets the real content. Conservative: `&` in a quoted string counts.
pub fn may_have_anchor(text: &[u8]) -> bool {
    memchr::memchr_iter(b'&', text).any(|at| {
        let before = at.checked_sub(1).map(|i| text[i]);
        let after = text.get(at + 1);
        matches!(
            before,
            None | Some(b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b',')
        ) && after.is_some_and(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_paths() {
        assert!(is_schema_path(&[Some("spec"), Some("validation")]));
        assert!(is_schema_path(&[
            Some("spec"),
            Some("versions"),
            None,
            Some("schema")
        ]));
        assert!(!is_schema_path(&[Some("spec"), Some("versions")]));
        assert!(!is_schema_path(&[Some("spec"), Some("names")]));
        assert!(!is_schema_path(&[
            Some("spec"),
            Some("versions"),
            None,
            Some("name")
        ]));
    }

    #[test]
    fn anchors_are_found_conservatively() {
        assert!(may_have_anchor(b"a: &x 1\n"));
        assert!(may_have_anchor(b"- &x\n"));
        assert!(may_have_anchor(b"&x a: 1\n"));
        assert!(may_have_anchor(b"[&x 1]\n"));
        // Inside quotes too: conservative, the schema is then kept.
        assert!(may_have_anchor(b"d: \"use &quot;\"\n"));
        assert!(!may_have_anchor(b"description: this & that, a&b\n"));
        assert!(!may_have_anchor(b"url: http://x?a=1&b=2\n"));
    }
}
