//! A record flattened to its leaves, each a dotted path and the value as the audit log writes
//! it, by a serde serializer that builds no intermediate tree: every path and value goes into
//! one of two buffers. The result is exactly what flattening `serde_json::to_value` gives (the
//! tests compare them): strings as they are, numbers and booleans as JSON, null as `None`,
//! enums externally tagged (`access.only`), sequences and empty objects as one leaf of compact
//! JSON (`[1,2]`, `{}`).

use std::fmt::Write as _;
use std::ops::Range;

use serde::Serialize;
use serde::ser;
use serde_json::Value;

/// The leaves of one record, in serialisation order.
#[derive(Debug, Default)]
pub(super) struct Flat {
    paths: String,
    values: String,
    leaves: Vec<(Range<usize>, Option<Range<usize>>)>,
}

impl Flat {
    /// Flattens `value`; a value that serde_json could not represent has no leaves, as
    /// `serde_json::to_value` failing would leave it.
    pub(super) fn of<T: Serialize + ?Sized>(value: &T) -> Self {
        // Room for a user record (about 45 leaves) without growing.
        let mut f = Flattener {
            flat: Flat {
                paths: String::with_capacity(1024),
                values: String::with_capacity(1024),
                leaves: Vec::with_capacity(64),
            },
            path: String::with_capacity(64),
        };
        match value.serialize(&mut f) {
            Ok(()) => f.flat,
            Err(_) => Flat::default(),
        }
    }

    /// Number of leaves.
    pub(super) fn len(&self) -> usize {
        self.leaves.len()
    }

    /// Whether there is no leaf (no record on this side).
    pub(super) fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// Path of leaf `i`.
    pub(super) fn path(&self, i: usize) -> &str {
        &self.paths[self.leaves[i].0.clone()]
    }

    /// Value of leaf `i` (`None` for null).
    pub(super) fn value(&self, i: usize) -> Option<&str> {
        self.leaves[i].1.clone().map(|r| &self.values[r])
    }
}

/// A serialisation failure (a map key that is not text or a number, a number JSON cannot hold).
#[derive(Debug)]
pub(super) struct Unrepresentable(String);

impl std::fmt::Display for Unrepresentable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unrepresentable {}

impl ser::Error for Unrepresentable {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

struct Flattener {
    flat: Flat,
    /// Path of the value being serialised.
    path: String,
}

type Res = Result<(), Unrepresentable>;

impl Flattener {
    fn leaf_path(&mut self) -> Range<usize> {
        let start = self.flat.paths.len();
        self.flat.paths.push_str(&self.path);
        start..self.flat.paths.len()
    }

    fn null(&mut self) -> Res {
        let path = self.leaf_path();
        self.flat.leaves.push((path, None));
        Ok(())
    }

    fn text(&mut self, value: &str) -> Res {
        let path = self.leaf_path();
        let start = self.flat.values.len();
        self.flat.values.push_str(value);
        let end = self.flat.values.len();
        self.flat.leaves.push((path, Some(start..end)));
        Ok(())
    }

    fn display(&mut self, value: impl std::fmt::Display) -> Res {
        let path = self.leaf_path();
        let start = self.flat.values.len();
        let _ = write!(self.flat.values, "{value}");
        let end = self.flat.values.len();
        self.flat.leaves.push((path, Some(start..end)));
        Ok(())
    }

    /// A leaf rendered by serde_json itself (floats, 128-bit numbers, byte strings, arrays).
    fn json(&mut self, value: Value) -> Res {
        match value {
            Value::Null => self.null(),
            Value::String(s) => self.text(&s),
            other => self.display(other),
        }
    }

    /// Descends into `key`; returns the length to truncate the path back to.
    fn enter(&mut self, key: &str) -> usize {
        let restore = self.path.len();
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(key);
        restore
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Value, Unrepresentable> {
    serde_json::to_value(value).map_err(|e| Unrepresentable(e.to_string()))
}

/// An object being written: its entries become leaves under its path; with none it is the
/// leaf `{}`.
struct Object<'a> {
    f: &'a mut Flattener,
    /// Path length of the object itself.
    base: usize,
    /// Path length to go back to when it ends (shorter than `base` for an enum variant).
    restore: usize,
    entries: usize,
    key: Option<String>,
}

impl Object<'_> {
    fn entry<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Res {
        self.f.enter(key);
        let done = value.serialize(&mut *self.f);
        self.f.path.truncate(self.base);
        self.entries += 1;
        done
    }

    fn finish(self) -> Res {
        let done = if self.entries == 0 {
            self.f.text("{}")
        } else {
            Ok(())
        };
        self.f.path.truncate(self.restore);
        done
    }
}

/// A sequence being written: one leaf, the compact JSON of its elements.
struct Array<'a> {
    f: &'a mut Flattener,
    items: Vec<Value>,
    restore: usize,
}

impl Array<'_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Res {
        self.items.push(to_json(value)?);
        Ok(())
    }

    fn finish(self) -> Res {
        let done = self.f.display(Value::Array(self.items));
        self.f.path.truncate(self.restore);
        done
    }
}

impl<'a> ser::Serializer for &'a mut Flattener {
    type Ok = ();
    type Error = Unrepresentable;
    type SerializeSeq = Array<'a>;
    type SerializeTuple = Array<'a>;
    type SerializeTupleStruct = Array<'a>;
    type SerializeTupleVariant = Array<'a>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Object<'a>;

    fn serialize_bool(self, v: bool) -> Res {
        self.text(if v { "true" } else { "false" })
    }
    fn serialize_i8(self, v: i8) -> Res {
        self.display(v)
    }
    fn serialize_i16(self, v: i16) -> Res {
        self.display(v)
    }
    fn serialize_i32(self, v: i32) -> Res {
        self.display(v)
    }
    fn serialize_i64(self, v: i64) -> Res {
        self.display(v)
    }
    fn serialize_u8(self, v: u8) -> Res {
        self.display(v)
    }
    fn serialize_u16(self, v: u16) -> Res {
        self.display(v)
    }
    fn serialize_u32(self, v: u32) -> Res {
        self.display(v)
    }
    fn serialize_u64(self, v: u64) -> Res {
        self.display(v)
    }
    fn serialize_i128(self, v: i128) -> Res {
        let v = to_json(&v)?;
        self.json(v)
    }
    fn serialize_u128(self, v: u128) -> Res {
        let v = to_json(&v)?;
        self.json(v)
    }
    fn serialize_f32(self, v: f32) -> Res {
        let v = to_json(&v)?;
        self.json(v)
    }
    fn serialize_f64(self, v: f64) -> Res {
        let v = to_json(&v)?;
        self.json(v)
    }
    fn serialize_char(self, v: char) -> Res {
        self.display(v)
    }
    fn serialize_str(self, v: &str) -> Res {
        self.text(v)
    }
    fn collect_str<T: std::fmt::Display + ?Sized>(self, value: &T) -> Res {
        // Written straight into the buffer (timestamps serialise this way), not through a
        // temporary string.
        self.display(value)
    }
    fn serialize_bytes(self, v: &[u8]) -> Res {
        let v = to_json(v)?;
        self.json(v)
    }
    fn serialize_none(self) -> Res {
        self.null()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Res {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Res {
        self.null()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Res {
        self.null()
    }
    fn serialize_unit_variant(self, _name: &'static str, _i: u32, variant: &'static str) -> Res {
        self.text(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, v: &T) -> Res {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        value: &T,
    ) -> Res {
        let restore = self.enter(variant);
        let done = value.serialize(&mut *self);
        self.path.truncate(restore);
        done
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Array<'a>, Unrepresentable> {
        let restore = self.path.len();
        Ok(Array {
            f: self,
            items: Vec::with_capacity(len.unwrap_or(0)),
            restore,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Array<'a>, Unrepresentable> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Array<'a>, Unrepresentable> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Array<'a>, Unrepresentable> {
        let restore = self.enter(variant);
        Ok(Array {
            f: self,
            items: Vec::with_capacity(len),
            restore,
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Object<'a>, Unrepresentable> {
        let base = self.path.len();
        Ok(Object {
            f: self,
            base,
            restore: base,
            entries: 0,
            key: None,
        })
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Object<'a>, Unrepresentable> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Object<'a>, Unrepresentable> {
        let restore = self.enter(variant);
        let base = self.path.len();
        Ok(Object {
            f: self,
            base,
            restore,
            entries: 0,
            key: None,
        })
    }
}

impl ser::SerializeStruct for Object<'_> {
    type Ok = ();
    type Error = Unrepresentable;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Res {
        self.entry(key, value)
    }
    fn end(self) -> Res {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Object<'_> {
    type Ok = ();
    type Error = Unrepresentable;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Res {
        self.entry(key, value)
    }
    fn end(self) -> Res {
        self.finish()
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Unrepresentable;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Res {
        // serde_json turns map keys into text: strings as they are, numbers and booleans
        // written out; anything else cannot be a JSON object key.
        self.key = Some(match to_json(key)? {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => return Err(Unrepresentable(format!("map key {other} is not text"))),
        });
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Res {
        let key = self
            .key
            .take()
            .ok_or_else(|| Unrepresentable("a map value came without its key".into()))?;
        self.entry(&key, value)
    }
    fn end(self) -> Res {
        self.finish()
    }
}

macro_rules! sequence {
    ($trait:ident, $method:ident) => {
        impl ser::$trait for Array<'_> {
            type Ok = ();
            type Error = Unrepresentable;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Res {
                self.item(value)
            }
            fn end(self) -> Res {
                self.finish()
            }
        }
    };
}

sequence!(SerializeSeq, serialize_element);
sequence!(SerializeTuple, serialize_element);
sequence!(SerializeTupleStruct, serialize_field);
sequence!(SerializeTupleVariant, serialize_field);
