//! The fast path's serde `Deserializer`: the visitor calls serde_json would make, over the
//! reading methods of [`De`]; forms the records never take are refused ([`Bail`]) and left to
//! serde_json.

use serde::de::{self, DeserializeSeed, Visitor};

use super::{delegate, Bail, De, Str, R};

/// An array or an object: its items are read through [`Seq`] and [`Map`] below.
impl<'de> De<'de> {
    fn seq<V: Visitor<'de>>(&mut self, v: V) -> R<V::Value> {
        self.enter()?;
        self.i += 1;
        let value = v.visit_seq(Seq { de: self, first: true })?;
        self.close(b']')?;
        Ok(value)
    }

    fn map<V: Visitor<'de>>(&mut self, v: V) -> R<V::Value> {
        self.enter()?;
        self.i += 1;
        let value = v.visit_map(Map { de: self, first: true })?;
        self.close(b'}')?;
        Ok(value)
    }
}

pub(super) struct Seq<'a, 'de> {
    pub(super) de: &'a mut De<'de>,
    pub(super) first: bool,
}

impl<'de> de::SeqAccess<'de> for Seq<'_, 'de> {
    type Error = Bail;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> R<Option<T::Value>> {
        match self.de.peek()? {
            b']' => return Ok(None),
            b',' if !self.first => {
                self.de.i += 1;
                if self.de.peek()? == b']' {
                    return Err(Bail);
                }
            }
            _ if self.first => self.first = false,
            _ => return Err(Bail),
        }
        seed.deserialize(&mut *self.de).map(Some)
    }
}

pub(super) struct Map<'a, 'de> {
    pub(super) de: &'a mut De<'de>,
    pub(super) first: bool,
}

impl<'de> de::MapAccess<'de> for Map<'_, 'de> {
    type Error = Bail;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> R<Option<K::Value>> {
        match self.de.peek()? {
            b'}' => return Ok(None),
            b',' if !self.first => {
                self.de.i += 1;
                self.de.skip_ws();
            }
            _ if self.first => self.first = false,
            _ => return Err(Bail),
        }
        if self.de.b.get(self.de.i) != Some(&b'"') {
            return Err(Bail);
        }
        let raw = self.de.scan_str()?;
        let key = match self.de.text(&raw)? {
            Str::Line(s) => seed.deserialize(KeyDe::Line(s))?,
            Str::Scratch(s) => seed.deserialize(KeyDe::Copied(s))?,
        };
        let de = &mut *self.de;
        de.colon(&de.b[raw.start..raw.end])?;
        Ok(Some(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> R<V::Value> {
        seed.deserialize(&mut *self.de)
    }
}

/// Methods of a deserializer that refuse their form: serde_json, not the fast path, reads it.
macro_rules! refuse {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, _: V) -> R<V::Value> {
                Err(Bail)
            }
        )*
    };
}

/// A key, which serde sees as a string (a field name, or a map's key).
enum KeyDe<'de, 's> {
    Line(&'de str),
    Copied(&'s str),
}

impl<'de> de::Deserializer<'de> for KeyDe<'de, '_> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self {
            KeyDe::Line(s) => v.visit_borrowed_str(s),
            KeyDe::Copied(s) => v.visit_str(s),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.deserialize_any(v)
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.deserialize_any(v)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.deserialize_any(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        v.visit_unit()
    }

    // A key read as anything but a string is serde_json's to judge.
    refuse! { deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32 deserialize_f64 deserialize_char deserialize_bytes deserialize_byte_buf deserialize_option deserialize_unit deserialize_seq deserialize_map }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, _: V) -> R<V::Value> {
        Err(Bail)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, _: V) -> R<V::Value> {
        Err(Bail)
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> R<V::Value> {
        Err(Bail)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _: &'static str, _: usize, _: V) -> R<V::Value> {
        Err(Bail)
    }
    fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], _: V) -> R<V::Value> {
        Err(Bail)
    }
    fn deserialize_enum<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], _: V) -> R<V::Value> {
        Err(Bail)
    }
}

macro_rules! numbers {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
                match self.peek()? {
                    b'-' | b'0'..=b'9' => self.number(v),
                    _ => Err(Bail),
                }
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for &mut De<'de> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.peek()? {
            b'n' => {
                self.literal(b"null")?;
                v.visit_unit()
            }
            b't' => {
                self.literal(b"true")?;
                v.visit_bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                v.visit_bool(false)
            }
            b'"' => self.string(v),
            b'[' => self.seq(v),
            b'{' => self.map(v),
            b'-' | b'0'..=b'9' => self.number(v),
            _ => Err(Bail),
        }
    }

    numbers! { deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32 deserialize_f64 }

    fn deserialize_i128<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        let t = self.number_at()?;
        delegate(t, |d| de::Deserializer::deserialize_i128(d, v))
    }

    fn deserialize_u128<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        let t = self.number_at()?;
        delegate(t, |d| de::Deserializer::deserialize_u128(d, v))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.peek()? {
            b't' => {
                self.literal(b"true")?;
                v.visit_bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                v.visit_bool(false)
            }
            _ => Err(Bail),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.peek()? {
            b'"' => self.string(v),
            _ => Err(Bail),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.deserialize_str(v)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            v.visit_none()
        } else {
            v.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.peek()? {
            b'n' => {
                self.literal(b"null")?;
                v.visit_unit()
            }
            _ => Err(Bail),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> R<V::Value> {
        self.deserialize_unit(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, v: V) -> R<V::Value> {
        // serde_json reads its RawValue through a private token: that is its own business.
        if name.starts_with("$serde_json") {
            return Err(Bail);
        }
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.peek()? {
            b'[' => self.seq(v),
            _ => Err(Bail),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> R<V::Value> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _: &'static str, _: usize, v: V) -> R<V::Value> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.peek()? {
            b'{' => self.map(v),
            _ => Err(Bail),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], v: V) -> R<V::Value> {
        // serde_json also reads a struct from an array; that rare form is left to it.
        self.deserialize_map(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.skip()?;
        v.visit_unit()
    }

    // Forms the records never take: left to serde_json.
    refuse! { deserialize_char deserialize_bytes deserialize_byte_buf }
    fn deserialize_enum<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], _: V) -> R<V::Value> {
        Err(Bail)
    }
}
