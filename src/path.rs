//! Field paths: what rules return to say *which* field is wrong. The source
//! resolves a path to a line and column; rules never see files.

use crate::yaml::{Node, Pos, Value};
use std::fmt::{self, Write};

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    /// Keys are short (`spec`, `containers`): inline, no allocation per segment.
    Key(crate::yaml::Text),
    Index(usize),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }

    /// `FieldPath::of(&["spec", "template"])`
    pub fn of(keys: &[&str]) -> Self {
        FieldPath(keys.iter().map(|k| Seg::Key((*k).into())).collect())
    }

    pub fn key(&self, k: &str) -> Self {
        self.with([Seg::Key(k.into())])
    }

    pub fn keys(&self, ks: &[&str]) -> Self {
        self.with(ks.iter().map(|k| Seg::Key((*k).into())))
    }

    pub fn idx(&self, i: usize) -> Self {
        self.with([Seg::Index(i)])
    }

    /// This path and then `more`, allocated at its exact length: paths
    /// are built a segment at a time, and cloning then pushing would
    /// double the capacity at each step (findings keep their paths).
    fn with<I>(&self, more: I) -> Self
    where
        I: IntoIterator<Item = Seg>,
        I::IntoIter: ExactSizeIterator,
    {
        let more = more.into_iter();
        let mut segs = Vec::with_capacity(self.0.len() + more.len());
        segs.extend_from_slice(&self.0);
        segs.extend(more);
        FieldPath(segs)
    }

    /// Position of the deepest part of the path that exists in `root`: the
    /// field itself when present, else its nearest existing parent. Map
    /// entries resolve to their key (`privileged:`), items to the item.
    pub fn resolve(&self, root: &Node) -> Pos {
        let mut node = root;
        let mut pos = root.pos;
        for seg in &self.0 {
            match (seg, &node.value) {
                (Seg::Key(k), Value::Map(m)) => {
                    match m.entries.iter().rev().find(|(mk, _)| mk.text == k) {
                        Some((mk, v)) => {
                            pos = mk.pos;
                            node = v;
                        }
                        None => break,
                    }
                }
                (Seg::Index(i), Value::Seq(s)) => match s.get(*i) {
                    Some(v) => {
                        pos = v.pos;
                        node = v;
                    }
                    None => break,
                },
                _ => break,
            }
        }
        pos
    }
}

impl FieldPath {
    /// The path as text, `spec.containers[0].image` (keys that are not
    /// plain words are quoted: `metadata.annotations["a.b/c"]`). Written
    /// straight into one `String` sized up front: the report renders one
    /// per finding, and going through `fmt` cost a third of that phase.
    pub fn render(&self) -> String {
        let len = self
            .0
            .iter()
            .map(|s| match s {
                Seg::Key(k) => k.len() + 1,
                Seg::Index(_) => 3,
            })
            .sum();
        let mut out = String::with_capacity(len);
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k)
                    if k.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-') =>
                {
                    if i > 0 {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Seg::Key(k) => {
                    let _ = write!(out, "[{k:?}]");
                }
                Seg::Index(n) => {
                    out.push('[');
                    match u8::try_from(*n) {
                        Ok(d @ 0..=9) => out.push(char::from(b'0' + d)),
                        _ => {
                            let _ = write!(out, "{n}");
                        }
                    }
                    out.push(']');
                }
            }
        }
        out
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{load, Limits};

    #[test]
    fn resolves_to_field_or_nearest_parent() {
        let root = load(
            "spec:\n  containers:\n  - name: a\n    securityContext:\n      privileged: true\n",
            &Limits::default(),
        )
        .docs
        .remove(0)
        .root;
        let p = FieldPath::of(&["spec", "containers"])
            .idx(0)
            .keys(&["securityContext", "privileged"]);
        assert_eq!(p.resolve(&root), Pos { line: 5, col: 7 });
        let missing = FieldPath::of(&["spec", "containers"])
            .idx(0)
            .keys(&["resources", "limits"]);
        assert_eq!(missing.resolve(&root), Pos { line: 3, col: 5 });
        assert_eq!(
            p.to_string(),
            "spec.containers[0].securityContext.privileged"
        );
        assert_eq!(
            FieldPath::of(&["metadata", "annotations", "a.b/c"]).to_string(),
            "metadata.annotations[\"a.b/c\"]"
        );
        let deep = FieldPath::of(&["items"])
            .idx(9)
            .key("a b")
            .idx(10)
            .idx(12345);
        assert_eq!(deep.render(), "items[9][\"a b\"][10][12345]");
        assert_eq!(deep.to_string(), deep.render());
        assert_eq!(FieldPath::root().render(), "");
    }
}
