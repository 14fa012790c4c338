//! A minimal serde serializer to JSON text, which `JSON.parse` turns into plain JavaScript
//! objects: much smaller in wasm than a general serde-to-JsValue bridge, and it never
//! formats floats (no consent type has any).
//!
//! Struct fields whose value is `null` (an `Option` that is `None`) are left out, so
//! optional fields are absent (`undefined`) in JavaScript, as the TypeScript types say.

use core::fmt;

use serde::ser::{self, Serialize};

/// Why a value could not be written (a float, or a map key that is not a string).
#[derive(Debug)]
pub struct Unsupported;

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("value not representable by the consent JSON writer")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Self
    }
}

/// The JSON text of `value`.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, Unsupported> {
    let mut w = Writer(String::new());
    value.serialize(&mut w)?;
    Ok(w.0)
}

/// The JSON writer.
pub struct Writer(String);

impl Writer {
    fn string(&mut self, s: &str) {
        self.0.push('"');
        for c in s.chars() {
            match c {
                '"' => self.0.push_str("\\\""),
                '\\' => self.0.push_str("\\\\"),
                '\n' => self.0.push_str("\\n"),
                '\r' => self.0.push_str("\\r"),
                '\t' => self.0.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    // What `\\u{:04x}` writes for a control character, without `write!`.
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    let v = c as u8;
                    self.0.push_str("\\u00");
                    self.0.push(char::from(HEX[usize::from(v >> 4) & 15]));
                    self.0.push(char::from(HEX[usize::from(v & 15)]));
                }
                c => self.0.push(c),
            }
        }
        self.0.push('"');
    }

    /// A signed integer in decimal: the text `{v}` writes, without the formatting machinery.
    fn int(&mut self, v: i64) -> Result<(), Unsupported> {
        crate::text::push_padded_signed(&mut self.0, v, 0);
        Ok(())
    }

    /// An unsigned integer in decimal, as `{v}` writes it.
    fn uint(&mut self, v: u64) -> Result<(), Unsupported> {
        crate::text::push_padded(&mut self.0, v, 0);
        Ok(())
    }
}

/// A sequence, map or struct being written.
pub struct Compound<'a> {
    w: &'a mut Writer,
    first: bool,
    /// Closing text (`]`, `}` or `}}` for a variant wrapper).
    close: &'static str,
}

impl Compound<'_> {
    fn comma(&mut self) {
        if !self.first {
            self.w.0.push(',');
        }
        self.first = false;
    }

    /// Writes `"key":value`, or nothing when the value is `null`.
    ///
    /// Only the `serialize` call is generic; the rest is in two plain functions so that the
    /// many field types share one copy of it.
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Unsupported> {
        let undo = self.key(key);
        value.serialize(&mut *self.w)?;
        self.drop_if_null(undo);
        Ok(())
    }

    /// Writes `"key":`; returns what [`drop_if_null`](Self::drop_if_null) needs.
    fn key(&mut self, key: &str) -> (usize, bool, usize) {
        let (mark, first) = (self.w.0.len(), self.first);
        self.comma();
        self.w.string(key);
        self.w.0.push(':');
        (mark, first, self.w.0.len())
    }

    /// Takes the field back out when its value was written as `null`.
    fn drop_if_null(&mut self, (mark, first, at): (usize, bool, usize)) {
        if self.w.0.get(at..) == Some("null") {
            self.w.0.truncate(mark);
            self.first = first;
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        self.comma();
        value.serialize(&mut *self.w)
    }

    fn finish(self) -> Result<(), Unsupported> {
        self.w.0.push_str(self.close);
        Ok(())
    }
}

impl<'a> Writer {
    fn open(&'a mut self, open: &str, close: &'static str) -> Compound<'a> {
        self.0.push_str(open);
        Compound {
            w: self,
            first: true,
            close,
        }
    }

    fn variant_open(&'a mut self, variant: &str, open: &str) -> Compound<'a> {
        self.0.push('{');
        self.string(variant);
        self.0.push(':');
        self.open(open, if open == "[" { "]}" } else { "}}" })
    }
}

impl<'a> ser::Serializer for &'a mut Writer {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Unsupported> {
        self.0.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Unsupported> {
        self.int(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), Unsupported> {
        self.int(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), Unsupported> {
        self.int(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), Unsupported> {
        self.int(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Unsupported> {
        self.uint(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), Unsupported> {
        self.uint(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), Unsupported> {
        self.uint(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), Unsupported> {
        self.uint(v)
    }
    fn serialize_f32(self, _: f32) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_f64(self, _: f64) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_char(self, v: char) -> Result<(), Unsupported> {
        self.string(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Unsupported> {
        self.string(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Unsupported> {
        use ser::SerializeSeq;
        let mut seq = self.open("[", "]");
        for b in v {
            seq.serialize_element(b)?;
        }
        seq.finish()
    }
    fn serialize_none(self) -> Result<(), Unsupported> {
        self.0.push_str("null");
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unsupported> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Unsupported> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unsupported> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Unsupported> {
        self.string(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        self.0.push('{');
        self.string(variant);
        self.0.push(':');
        value.serialize(&mut *self)?;
        self.0.push('}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Unsupported> {
        Ok(self.open("[", "]"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, Unsupported> {
        Ok(self.open("[", "]"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Unsupported> {
        Ok(self.open("[", "]"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Unsupported> {
        Ok(self.variant_open(variant, "["))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Unsupported> {
        Ok(self.open("{", "}"))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Unsupported> {
        Ok(self.open("{", "}"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Unsupported> {
        Ok(self.variant_open(variant, "{"))
    }
}

serialize_compounds!(seq Compound<'_>, (), Unsupported, element, finish);
serialize_compounds!(fields Compound<'_>, (), Unsupported, field, finish);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unsupported> {
        self.comma();
        let at = self.w.0.len();
        key.serialize(&mut *self.w)?;
        if !self.w.0.get(at..).is_some_and(|k| k.starts_with('"')) {
            return Err(Unsupported);
        }
        self.w.0.push(':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result<(), Unsupported> {
        self.finish()
    }
}
