//! Decoding with a bound on nesting. bincode decodes recursive types (a `Request::Expect` holds
//! another `Request`) by recursion, so a small frame nesting thousands of levels would overflow
//! the stack of the thread decoding it. [`decode`] wraps bincode's serde deserializer in an
//! adapter that counts every value it enters and refuses the frame once the count passes the
//! limit, before the decoder goes any deeper.
//!
//! The adapter carries a budget down the tree: each `deserialize_*` call, and each tuple or
//! struct variant, spends one level. It also keeps an announced length from costing memory
//! before the bytes are there: owned strings and byte buffers are read borrowed from the frame
//! and then copied (bincode's owned path allocates the announced length first, so a 10-byte
//! frame could ask for exabytes), and the length hint of a sequence or map, which serde uses to
//! reserve room, is capped at [`MAX_HINT`] entries.

use std::marker::PhantomData;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

/// Decodes one bincode value from `bytes`, nesting at most `limit` levels; returns it and the
/// number of bytes it used.
pub fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    limit: usize,
) -> Result<(T, usize), bincode::error::DecodeError> {
    let root = Root::<T> {
        budget: Budget { left: limit, limit },
        _value: PhantomData,
    };
    bincode::serde::seed_decode_from_slice(root, bytes, bincode::config::standard())
}

/// Largest length hint passed on to a sequence or map; longer ones grow as entries decode.
const MAX_HINT: usize = 4096;

/// Levels left, and the limit (for the message).
#[derive(Debug, Clone, Copy)]
struct Budget {
    left: usize,
    limit: usize,
}

impl Budget {
    /// One level down, or an error naming the limit.
    fn enter<E: de::Error>(self) -> Result<Self, E> {
        match self.left.checked_sub(1) {
            Some(left) => Ok(Self { left, ..self }),
            None => Err(E::custom(format!(
                "values nested more than {} levels deep",
                self.limit
            ))),
        }
    }
}

/// The seed that starts a decode.
struct Root<T> {
    budget: Budget,
    _value: PhantomData<T>,
}

impl<'de, T: de::Deserialize<'de>> DeserializeSeed<'de> for Root<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        T::deserialize(Limited {
            inner: deserializer,
            budget: self.budget,
        })
    }
}

/// A deserializer, a visitor, an access or a seed, with the levels left below it.
struct Limited<X> {
    inner: X,
    budget: Budget,
}

impl<X> Limited<X> {
    fn wrap<Y>(inner: Y, budget: Budget) -> Limited<Y> {
        Limited { inner, budget }
    }
}

macro_rules! forward_deserialize {
    ($($method:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            let budget = self.budget.enter()?;
            self.inner.$method(Self::wrap(visitor, budget))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Limited<D> {
    type Error = D::Error;

    forward_deserialize!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_bytes,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        // Borrowed: the length is checked against the frame before anything is allocated; the
        // visitor copies what it keeps.
        let budget = self.budget.enter()?;
        self.inner.deserialize_str(Self::wrap(visitor, budget))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let budget = self.budget.enter()?;
        self.inner.deserialize_bytes(Self::wrap(visitor, budget))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let budget = self.budget.enter()?;
        self.inner
            .deserialize_unit_struct(name, Self::wrap(visitor, budget))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let budget = self.budget.enter()?;
        self.inner
            .deserialize_newtype_struct(name, Self::wrap(visitor, budget))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let budget = self.budget.enter()?;
        self.inner
            .deserialize_tuple(len, Self::wrap(visitor, budget))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let budget = self.budget.enter()?;
        self.inner
            .deserialize_tuple_struct(name, len, Self::wrap(visitor, budget))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let budget = self.budget.enter()?;
        self.inner
            .deserialize_struct(name, fields, Self::wrap(visitor, budget))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let budget = self.budget.enter()?;
        self.inner
            .deserialize_enum(name, variants, Self::wrap(visitor, budget))
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Limited<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.inner.visit_some(Self::wrap(deserializer, self.budget))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        self.inner
            .visit_newtype_struct(Self::wrap(deserializer, self.budget))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_seq(Self::wrap(seq, self.budget))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_map(Self::wrap(map, self.budget))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_enum(Self::wrap(data, self.budget))
    }
}

/// A seed whose deserializer is limited by the budget.
struct Seed<S> {
    seed: S,
    budget: Budget,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(Limited {
            inner: deserializer,
            budget: self.budget,
        })
    }
}

impl<X> Limited<X> {
    fn seed<S>(&self, seed: S) -> Seed<S> {
        Seed {
            seed,
            budget: self.budget,
        }
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Limited<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        let seed = self.seed(seed);
        self.inner.next_element_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint().map(|n| n.min(MAX_HINT))
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Limited<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let seed = self.seed(seed);
        self.inner.next_key_seed(seed)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        let seed = self.seed(seed);
        self.inner.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint().map(|n| n.min(MAX_HINT))
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Limited<A> {
    type Error = A::Error;
    type Variant = Limited<A::Variant>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), A::Error> {
        let seed = self.seed(seed);
        let (value, variant) = self.inner.variant_seed(seed)?;
        Ok((value, Self::wrap(variant, self.budget)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Limited<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        let seed = self.seed(seed);
        self.inner.newtype_variant_seed(seed)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        let budget = self.budget.enter()?;
        self.inner.tuple_variant(len, Self::wrap(visitor, budget))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        let budget = self.budget.enter()?;
        self.inner
            .struct_variant(fields, Self::wrap(visitor, budget))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Tree {
        Leaf(u8),
        Node {
            label: Option<String>,
            kids: Vec<Tree>,
        },
        Wrap(Box<Tree>),
    }

    fn chain(levels: usize) -> Tree {
        (0..levels).fold(Tree::Leaf(1), |t, _| Tree::Wrap(Box::new(t)))
    }

    fn encode(t: &Tree) -> Vec<u8> {
        bincode::serde::encode_to_vec(t, bincode::config::standard()).unwrap()
    }

    #[test]
    fn values_within_the_limit_decode_as_bincode_does() {
        let tree = Tree::Node {
            label: Some("root".into()),
            kids: vec![
                Tree::Leaf(3),
                chain(5),
                Tree::Node {
                    label: None,
                    kids: vec![],
                },
            ],
        };
        let bytes = encode(&tree);
        let (back, used): (Tree, usize) = decode(&bytes, 64).unwrap();
        assert_eq!(back, tree);
        assert_eq!(used, bytes.len());
    }

    #[test]
    fn nesting_past_the_limit_is_refused_and_names_the_limit() {
        // One level per `Wrap` (its enum; the box and the newtype content add none), two for
        // the leaf (its enum and its u8).
        let bytes = encode(&chain(10));
        assert!(decode::<Tree>(&bytes, 12).is_ok());
        let err = decode::<Tree>(&bytes, 11).unwrap_err().to_string();
        assert!(err.contains("nested more than 11 levels deep"), "{err}");
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Owned {
        text: String,
        list: Vec<String>,
    }

    #[test]
    fn an_announced_length_beyond_the_bytes_present_is_refused_without_allocating_it() {
        let bytes = encode_owned(&Owned {
            text: "hello".into(),
            list: vec!["a".into(), "b".into()],
        });
        assert!(decode::<Owned>(&bytes, 64).is_ok());
        // A string announcing 2^56 bytes (varint: 253 then a u64), then nothing: bincode's
        // owned path would try to allocate all of it and abort the process.
        let mut huge = vec![253];
        huge.extend_from_slice(&(1u64 << 56).to_le_bytes());
        assert!(decode::<Owned>(&huge, 64).is_err());
        assert!(decode::<String>(&huge, 64).is_err());
        assert!(decode::<Vec<String>>(&huge, 64).is_err());
        assert!(decode::<std::path::PathBuf>(&huge, 64).is_err());
    }

    fn encode_owned(v: &Owned) -> Vec<u8> {
        bincode::serde::encode_to_vec(v, bincode::config::standard()).unwrap()
    }

    #[test]
    fn a_chain_far_deeper_than_the_stack_allows_is_refused_not_overflowed() {
        // Built by hand: a `Tree` this deep cannot even be dropped by recursion.
        let wrap = encode(&chain(1));
        let leaf = encode(&Tree::Leaf(1));
        let per_level = &wrap[..wrap.len() - leaf.len()];
        let mut bytes = per_level.repeat(1_000_000);
        bytes.extend_from_slice(&leaf);
        let err = decode::<Tree>(&bytes, 64).unwrap_err().to_string();
        assert!(err.contains("nested more than 64 levels deep"), "{err}");
    }
}
