//! A YAML/JSON tree that remembers where every node came from.
//!
//! Scalars keep their source text and whether they were plain (unquoted):
//! typing is resolved lazily, the way Kubernetes' go-yaml does it, so the
//! loader stays fast and `replicas: "3"` stays distinguishable from `3`.

use std::fmt;

/// The text of keys and scalars.
pub type Text = compact_str::CompactString;

/// 1-based line and column. `Pos::NONE` (0, 0) for nodes without a source
/// position (objects read from a live cluster).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl Pos {
    pub const NONE: Pos = Pos { line: 0, col: 0 };
    pub fn is_known(self) -> bool {
        self.line > 0
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Map),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    /// Inline up to 24 bytes: most keys and values of a manifest need no
    /// allocation of their own (a third less memory on large inputs).
    pub text: Text,
    /// Plain (unquoted, untagged) scalars are typed by YAML resolution rules;
    /// quoted or `!!str` scalars are always strings.
    pub plain: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map {
    pub entries: Vec<(Key, Node)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub text: Text,
    pub pos: Pos,
}

/// What a scalar resolves to under YAML 1.1 rules as go-yaml v2 (used by
/// kubectl and the API server through sigs.k8s.io/yaml) applies them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resolved<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

impl Scalar {
    pub fn resolve(&self) -> Resolved<'_> {
        if !self.plain {
            return Resolved::Str(&self.text);
        }
        let t = self.text.as_str();
        match t {
            "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
            "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
                return Resolved::Bool(true)
            }
            "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n"
            | "N" => return Resolved::Bool(false),
            _ => {}
        }
        let first = t.as_bytes()[0];
        if first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.' {
            if let Some(i) = parse_int(t) {
                return Resolved::Int(i);
            }
            if let Some(f) = parse_float(t) {
                return Resolved::Float(f);
            }
        }
        Resolved::Str(t)
    }
}

fn parse_int(t: &str) -> Option<i64> {
    let cleaned: String;
    let t = if t.contains('_') {
        cleaned = t.replace('_', "");
        cleaned.as_str()
    } else {
        t
    };
    let (neg, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let v = if let Some(h) = digits.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(b) = digits.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()?
    } else if let Some(o) = digits.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()?
    } else if digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        i64::from_str_radix(&digits[1..], 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

fn parse_float(t: &str) -> Option<f64> {
    match t {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    // YAML floats need a digit; Rust accepts "inf"/"nan" which YAML does not.
    if !t.bytes().any(|b| b.is_ascii_digit())
        || t.bytes()
            .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E')
    {
        return None;
    }
    t.replace('_', "").parse().ok()
}

impl Node {
    pub fn scalar(text: impl Into<Text>, plain: bool, pos: Pos) -> Node {
        Node {
            pos,
            value: Value::Scalar(Scalar {
                text: text.into(),
                plain,
            }),
        }
    }

    /// The value under `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(m) => m.get(key),
            _ => None,
        }
    }

    /// Follows a chain of mapping keys: `node.at(&["spec", "template"])`.
    pub fn at(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }

    pub fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Items of a sequence; an absent or non-sequence node yields nothing.
    pub fn items(&self) -> &[Node] {
        self.as_seq().unwrap_or(&[])
    }

    /// Entries of a mapping; an absent or non-mapping node yields nothing.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.as_map()
            .into_iter()
            .flat_map(|m| m.entries.iter().map(|(k, v)| (k.text.as_str(), v)))
    }

    pub fn resolved(&self) -> Option<Resolved<'_>> {
        match &self.value {
            Value::Scalar(s) => Some(s.resolve()),
            _ => None,
        }
    }

    /// The text of any scalar that is not null (numbers and booleans too, as written).
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) if !matches!(s.resolve(), Resolved::Null) => Some(&s.text),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.resolved()? {
            Resolved::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.resolved()? {
            Resolved::Int(i) => Some(i),
            Resolved::Float(f) if f.fract() == 0.0 && f.is_finite() => Some(f as i64),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.resolved(), Some(Resolved::Null))
    }

    /// A mapping or sequence with no entries, or a null.
    pub fn is_empty(&self) -> bool {
        match &self.value {
            Value::Map(m) => m.entries.is_empty(),
            Value::Seq(s) => s.is_empty(),
            Value::Scalar(_) => self.is_null(),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Map(_) => "a mapping",
            Value::Seq(_) => "a sequence",
            Value::Scalar(s) => match s.resolve() {
                Resolved::Null => "null",
                Resolved::Bool(_) => "a boolean",
                Resolved::Int(_) | Resolved::Float(_) => "a number",
                Resolved::Str(_) => "a string",
            },
        }
    }

    /// Converts to JSON (for JSON output of snapshots and for typed deserialising).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Map(m) => J::Object(
                m.entries
                    .iter()
                    .map(|(k, v)| (k.text.to_string(), v.to_json()))
                    .collect(),
            ),
            Value::Seq(s) => J::Array(s.iter().map(Node::to_json).collect()),
            Value::Scalar(s) => match s.resolve() {
                Resolved::Null => J::Null,
                Resolved::Bool(b) => J::Bool(b),
                Resolved::Int(i) => J::from(i),
                Resolved::Float(f) => serde_json::Number::from_f64(f)
                    .map(J::Number)
                    .unwrap_or(J::Null),
                Resolved::Str(t) => J::String(t.to_string()),
            },
        }
    }

    /// Builds a position-less tree from JSON (objects read from the API server).
    pub fn from_json(v: &serde_json::Value) -> Node {
        use serde_json::Value as J;
        let value = match v {
            J::Null => Value::Scalar(Scalar {
                text: "null".into(),
                plain: true,
            }),
            J::Bool(b) => Value::Scalar(Scalar {
                text: if *b { "true" } else { "false" }.into(),
                plain: true,
            }),
            J::Number(n) => Value::Scalar(Scalar {
                text: compact_str::ToCompactString::to_compact_string(n),
                plain: true,
            }),
            J::String(s) => Value::Scalar(Scalar {
                text: s.as_str().into(),
                plain: false,
            }),
            J::Array(a) => Value::Seq(a.iter().map(Node::from_json).collect()),
            J::Object(o) => Value::Map(Map {
                entries: o
                    .iter()
                    .map(|(k, v)| {
                        (
                            Key {
                                text: k.as_str().into(),
                                pos: Pos::NONE,
                            },
                            Node::from_json(v),
                        )
                    })
                    .collect(),
            }),
        };
        Node {
            pos: Pos::NONE,
            value,
        }
    }
}

impl Map {
    pub fn get(&self, key: &str) -> Option<&Node> {
        // Last value wins on duplicated keys, as in JSON and go-yaml's
        // conversion; the loader already reported the duplicate.
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k.text == key)
            .map(|(_, v)| v)
    }

    pub fn key_pos(&self, key: &str) -> Option<Pos> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k.text == key)
            .map(|(k, _)| k.pos)
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(t: &str) -> Scalar {
        Scalar {
            text: t.into(),
            plain: true,
        }
    }

    #[test]
    fn resolves_like_go_yaml_v2() {
        assert_eq!(plain("yes").resolve(), Resolved::Bool(true));
        assert_eq!(plain("Off").resolve(), Resolved::Bool(false));
        assert_eq!(plain("~").resolve(), Resolved::Null);
        assert_eq!(plain("0x1F").resolve(), Resolved::Int(31));
        assert_eq!(plain("010").resolve(), Resolved::Int(8));
        assert_eq!(plain("-3").resolve(), Resolved::Int(-3));
        assert_eq!(plain("1.5").resolve(), Resolved::Float(1.5));
        assert_eq!(plain("1e3").resolve(), Resolved::Float(1000.0));
        assert_eq!(plain("100m").resolve(), Resolved::Str("100m"));
        assert_eq!(plain("1Gi").resolve(), Resolved::Str("1Gi"));
        assert_eq!(plain("nginx:1.2").resolve(), Resolved::Str("nginx:1.2"));
        assert_eq!(plain("inf").resolve(), Resolved::Str("inf"));
        let quoted = Scalar {
            text: "true".into(),
            plain: false,
        };
        assert_eq!(quoted.resolve(), Resolved::Str("true"));
    }
}
