//! serde over positioned nodes: typed reading (catalog, config, schema
//! checks of built-in kinds) whose errors carry the line and column of the
//! offending node, and with serde_path_to_error, its field path.

use super::node::{Key, Node, Pos, Resolved, Value};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use std::fmt;

#[derive(Debug, Clone)]
pub struct DeError {
    pub message: String,
    pub pos: Option<Pos>,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            message: msg.to_string(),
            pos: None,
        }
    }
}

/// A failed typed read: what is wrong, where, and the field path (`spec.replicas`).
#[derive(Debug, Clone)]
pub struct TypedError {
    pub message: String,
    pub pos: Pos,
    pub path: String,
}

/// Reads `node` as `T`. Lenient for strings: any non-null scalar reads as
/// its text (our own config files: `kubernetesVersion: 1.30` is "1.30").
pub fn from_node<T: DeserializeOwned>(node: &Node) -> Result<T, TypedError> {
    read(NodeDe::new(node))
}

/// Reads `node` as `T` the way the Kubernetes API server decodes the JSON
/// kubectl sends it: a string field takes only a string (`value: 8080`
/// is rejected), an integer field only an integer, a field the type does
/// not have is an error (`kubectl apply` validates strictly), and `null`
/// is the zero value of any field, as in Go.
pub fn from_node_kubernetes<T: DeserializeOwned>(node: &Node) -> Result<T, TypedError> {
    read(NodeDe {
        node,
        mode: Mode::Kubernetes,
        key: None,
    })
}

fn read<T: DeserializeOwned>(de: NodeDe<'_>) -> Result<T, TypedError> {
    // Almost every object is valid: read it without tracking the field
    // path (path tracking wraps every key and value, most of the cost),
    // and only when that fails read it again to name the path. Reading is
    // deterministic, so the second pass fails at the same place.
    if let Ok(v) = T::deserialize(de) {
        return Ok(v);
    }
    let node = de.node;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        TypedError {
            message: inner.message,
            pos: inner.pos.unwrap_or(node.pos),
            path,
        }
    })
}

fn at(pos: Pos) -> impl FnOnce(DeError) -> DeError {
    move |mut e| {
        if e.pos.is_none() && pos.is_known() {
            e.pos = Some(pos);
        }
        e
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Strings from any scalar; unknown fields ignored.
    Lenient,
    /// As the API server decodes JSON (see `from_node_kubernetes`).
    Kubernetes,
}

/// A serde `Deserializer` over a positioned node.
#[derive(Clone, Copy)]
pub struct NodeDe<'a> {
    node: &'a Node,
    mode: Mode,
    /// The mapping key this node is the value of (for unknown fields).
    key: Option<&'a Key>,
}

impl<'a> NodeDe<'a> {
    /// A lenient deserializer (as `from_node`).
    pub fn new(node: &'a Node) -> Self {
        NodeDe {
            node,
            mode: Mode::Lenient,
            key: None,
        }
    }

    fn child(&self, node: &'a Node, key: Option<&'a Key>) -> Self {
        NodeDe {
            node,
            mode: self.mode,
            key,
        }
    }

    /// `null` where a value is required, read as Go does: the zero value.
    fn go_null(&self) -> bool {
        self.mode == Mode::Kubernetes && self.node.is_null()
    }

    fn invalid(&self, exp: &dyn de::Expected) -> DeError {
        let unexp = match self.node.resolved() {
            Some(Resolved::Bool(b)) => de::Unexpected::Bool(b),
            Some(Resolved::Int(i)) => de::Unexpected::Signed(i),
            Some(Resolved::Float(f)) => de::Unexpected::Float(f),
            Some(Resolved::Str(s)) => de::Unexpected::Str(s),
            Some(Resolved::Null) => de::Unexpected::Unit,
            None if self.node.as_map().is_some() => de::Unexpected::Map,
            None => de::Unexpected::Seq,
        };
        at(self.node.pos)(de::Error::invalid_type(unexp, exp))
    }

    fn empty_map<'de, V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError>
    where
        'a: 'de,
    {
        v.visit_map(Entries {
            it: [].iter(),
            value: None,
            parent: self,
        })
        .map_err(at(self.node.pos))
    }
}

macro_rules! strict_number {
    ($name:ident, $visit:ident, $t:ty) => {
        fn $name<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
            if self.go_null() {
                return v.$visit(0);
            }
            match self.node.resolved() {
                Some(Resolved::Int(i)) => match <$t>::try_from(i) {
                    Ok(x) => v.$visit(x).map_err(at(self.node.pos)),
                    Err(_) => Err(at(self.node.pos)(de::Error::custom(format!(
                        "{i} is out of range"
                    )))),
                },
                _ => Err(self.invalid(&"an integer")),
            }
        }
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let pos = self.node.pos;
        match &self.node.value {
            Value::Map(m) => v
                .visit_map(Entries {
                    it: m.entries.iter(),
                    value: None,
                    parent: self,
                })
                .map_err(at(pos)),
            Value::Seq(s) => v
                .visit_seq(Items {
                    it: s.iter(),
                    parent: self,
                })
                .map_err(at(pos)),
            Value::Scalar(s) => match s.resolve() {
                Resolved::Null => v.visit_unit(),
                Resolved::Bool(b) => v.visit_bool(b),
                Resolved::Int(i) => v.visit_i64(i),
                Resolved::Float(f) => v.visit_f64(f),
                Resolved::Str(t) => v.visit_borrowed_str(t),
            }
            .map_err(at(pos)),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.go_null() {
            return v.visit_bool(false);
        }
        match self.node.as_bool() {
            Some(b) => v.visit_bool(b),
            None => Err(self.invalid(&"a boolean")),
        }
    }

    strict_number!(deserialize_i8, visit_i8, i8);
    strict_number!(deserialize_i16, visit_i16, i16);
    strict_number!(deserialize_i32, visit_i32, i32);
    strict_number!(deserialize_i64, visit_i64, i64);
    strict_number!(deserialize_u8, visit_u8, u8);
    strict_number!(deserialize_u16, visit_u16, u16);
    strict_number!(deserialize_u32, visit_u32, u32);
    strict_number!(deserialize_u64, visit_u64, u64);

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(v)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.go_null() {
            return v.visit_f64(0.0);
        }
        match self.node.resolved() {
            Some(Resolved::Int(i)) => v.visit_f64(i as f64),
            Some(Resolved::Float(f)) => v.visit_f64(f),
            _ => Err(self.invalid(&"a number")),
        }
    }

    /// Lenient: any non-null scalar reads as its text: in our own config
    /// files `kubernetesVersion: 1.30` must mean "1.30", not the float 1.3.
    /// Kubernetes: only strings (and `null`, the empty string).
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match (&self.node.value, self.mode) {
            (Value::Scalar(s), Mode::Lenient) if !self.node.is_null() => {
                v.visit_borrowed_str(&s.text).map_err(at(self.node.pos))
            }
            (Value::Scalar(s), Mode::Kubernetes) => match s.resolve() {
                Resolved::Str(t) => v.visit_borrowed_str(t).map_err(at(self.node.pos)),
                Resolved::Null => v.visit_borrowed_str("").map_err(at(self.node.pos)),
                _ => Err(self.invalid(&"a string")),
            },
            _ => Err(self.invalid(&"a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            v.visit_none()
        } else {
            v.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.go_null() {
            return v
                .visit_seq(Items {
                    it: [].iter(),
                    parent: self,
                })
                .map_err(at(self.node.pos));
        }
        self.deserialize_any(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.go_null() {
            return self.empty_map(v);
        }
        self.deserialize_any(v)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(v)
    }

    /// A value nobody reads: in Kubernetes mode, the value of a field the
    /// type does not have. Never walks the subtree.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match (self.mode, self.key) {
            (Mode::Kubernetes, Some(k)) => Err(DeError {
                message: format!("unknown field `{}`", k.text),
                pos: Some(k.pos),
            }),
            _ => v.visit_unit(),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        let pos = self.node.pos;
        match &self.node.value {
            Value::Scalar(s) => v
                .visit_enum(s.text.as_str().into_deserializer())
                .map_err(at(pos)),
            Value::Map(m) if m.entries.len() == 1 => {
                let (k, val) = &m.entries[0];
                v.visit_enum(Variant {
                    key: &k.text,
                    value: self.child(val, None),
                })
                .map_err(at(pos))
            }
            _ => Err(self.invalid(&"a string or a mapping with one key")),
        }
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char bytes byte_buf unit unit_struct tuple tuple_struct identifier
    }
}

struct Items<'a> {
    it: std::slice::Iter<'a, Node>,
    parent: NodeDe<'a>,
}

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.it.next() {
            Some(n) => seed
                .deserialize(self.parent.child(n, None))
                .map(Some)
                .map_err(at(n.pos)),
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.it.len())
    }
}

struct Entries<'a> {
    it: std::slice::Iter<'a, (Key, Node)>,
    value: Option<(&'a Key, &'a Node)>,
    parent: NodeDe<'a>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.it.next() {
            Some((k, v)) => {
                self.value = Some((k, v));
                let key: de::value::BorrowedStrDeserializer<'de, DeError> =
                    de::value::BorrowedStrDeserializer::new(&k.text);
                seed.deserialize(key).map(Some).map_err(at(k.pos))
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (k, n) = self
            .value
            .take()
            .ok_or_else(|| <DeError as de::Error>::custom("value without key"))?;
        seed.deserialize(self.parent.child(n, Some(k)))
            .map_err(at(n.pos))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.it.len())
    }
}

struct Variant<'a> {
    key: &'a str,
    value: NodeDe<'a>,
}

impl<'de> de::EnumAccess<'de> for Variant<'de> {
    type Error = DeError;
    type Variant = NodeDe<'de>;
    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, NodeDe<'de>), DeError> {
        let d: de::value::BorrowedStrDeserializer<'de, DeError> =
            de::value::BorrowedStrDeserializer::new(self.key);
        Ok((seed.deserialize(d)?, self.value))
    }
}

impl<'de> de::VariantAccess<'de> for NodeDe<'de> {
    type Error = DeError;
    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(self, v)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_map(self, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{load, Limits};
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Conf {
        version: String,
        replicas: Option<u32>,
        items: Vec<Item>,
    }
    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        name: String,
    }

    fn root(s: &str) -> Node {
        load(s, &Limits::default()).docs.remove(0).root
    }

    #[test]
    fn reads_typed_values_leniently_for_strings() {
        let c: Conf = from_node(&root("version: 1.30\nreplicas: 3\nitems:\n- name: a\n")).unwrap();
        assert_eq!(c.version, "1.30");
        assert_eq!(c.replicas, Some(3));
    }

    #[test]
    fn wrong_type_has_position_and_path() {
        let e = from_node::<Conf>(&root("version: x\nreplicas: three\nitems: []\n")).unwrap_err();
        assert_eq!(e.pos, Pos { line: 2, col: 11 });
        assert_eq!(e.path, "replicas");
        assert!(e.message.contains("three"), "{}", e.message);
    }

    #[test]
    fn unknown_field_points_at_the_key() {
        let e = from_node::<Conf>(&root("version: x\nitems:\n- name: a\n  nmae: b\n")).unwrap_err();
        assert_eq!(e.pos, Pos { line: 4, col: 3 });
        assert!(e.message.contains("unknown field `nmae`"), "{}", e.message);
    }
}
