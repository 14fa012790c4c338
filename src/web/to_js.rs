//! A minimal serde serializer to JavaScript values, for the SDK's results (readings,
//! measurements, FHIR resources, consent records).
//!
//! The value is written once into a compact byte tape, and one JavaScript function
//! (`decodeValue` in `snippets/values.js`) builds the objects from it: every field set from
//! Rust would otherwise be a call through wasm-bindgen's glue, and those calls, inlined into
//! every `Serialize` impl, were the largest part of the conversion code in the wasm.
//!
//! | Rust | JavaScript |
//! | --- | --- |
//! | `bool`, integers up to 32 bits, `f32`, `f64` | number (or boolean) |
//! | `i64`, `u64` | number when a safe integer (±(2^53 − 1)), else an error |
//! | `char`, `&str`, unit variant | string |
//! | `None`, `()`, unit struct | `undefined` (a struct field is still set, to `undefined`) |
//! | `Some(x)`, newtype struct | `x` |
//! | sequence, tuple, tuple struct | `Array` |
//! | bytes | `Uint8Array` (a copy) |
//! | struct, map with string keys | plain object, keys in serialization order |
//! | newtype, tuple and struct variant | `{ Variant: … }` |
//!
//! `i128`/`u128` are not supported (serde's default error); no type of ours has them.
//!
//! The tape: one tag byte per value — 0 `undefined`, 1 `false`, 2 `true`, 3 a number (f64,
//! little-endian), 4 a string and 5 bytes (each a u32 little-endian length, then the UTF-8 or
//! raw bytes), 6 an array and 7 an object (their items follow; an object's as key string
//! then value), 8 the end of the innermost array or object.

use serde::ser::{self, Serialize};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/snippets/values.js")]
extern "C" {
    #[wasm_bindgen(js_name = decodeValue)]
    fn decode_value(tape: &[u8]) -> JsValue;
}

const UNDEFINED: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const NUMBER: u8 = 3;
const STRING: u8 = 4;
const BYTES: u8 = 5;
const ARRAY: u8 = 6;
const OBJECT: u8 = 7;
const END: u8 = 8;

/// Converts a value; `undefined` when it holds something unsupported (an unsafe integer, a
/// non-string map key), as the device layer has always done.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    let mut tape = Tape(Vec::new());
    match value.serialize(&mut tape) {
        Ok(()) => decode_value(&tape.0),
        Err(Unsupported) => JsValue::UNDEFINED,
    }
}

/// Why a value could not be converted.
#[derive(Debug)]
pub struct Unsupported;

impl core::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("value not representable in JavaScript")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: core::fmt::Display>(_: T) -> Self {
        Self
    }
}

type Result<T = ()> = core::result::Result<T, Unsupported>;

/// The tape being written; also the serializer (`&mut Tape`).
pub struct Tape(Vec<u8>);

impl Tape {
    fn tag(&mut self, tag: u8) -> Result {
        self.0.push(tag);
        Ok(())
    }

    fn number(&mut self, v: f64) -> Result {
        self.0.push(NUMBER);
        self.0.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    /// A string or bytes: tag, u32 length, contents. Longer than 4 GiB cannot happen in
    /// wasm32 (the address space is 4 GiB), but is refused rather than truncated.
    fn run(&mut self, tag: u8, bytes: &[u8]) -> Result {
        let len = u32::try_from(bytes.len()).map_err(|_| Unsupported)?;
        self.0.push(tag);
        self.0.extend_from_slice(&len.to_le_bytes());
        self.0.extend_from_slice(bytes);
        Ok(())
    }

    /// Opens `{ variant: … }` when there is a variant name.
    fn open_variant(&mut self, variant: Option<&'static str>) -> Result {
        if let Some(name) = variant {
            self.tag(OBJECT)?;
            self.run(STRING, name.as_bytes())?;
        }
        Ok(())
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut *self)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.run(STRING, key.as_bytes())?;
        value.serialize(&mut *self)
    }
}

/// An array or object being written; `variant` says whether a `{ variant: … }` wrapper must
/// be closed too.
pub struct Compound<'a> {
    tape: &'a mut Tape,
    variant: bool,
}

impl Compound<'_> {
    fn open<'t>(
        tape: &'t mut Tape,
        variant: Option<&'static str>,
        kind: u8,
    ) -> Result<Compound<'t>> {
        tape.open_variant(variant)?;
        tape.tag(kind)?;
        Ok(Compound {
            tape,
            variant: variant.is_some(),
        })
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.tape.element(value)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.tape.field(key, value)
    }

    fn finish(self) -> Result {
        self.tape.tag(END)?;
        if self.variant {
            self.tape.tag(END)?;
        }
        Ok(())
    }
}

serialize_compounds!(seq Compound<'_>, (), Unsupported, element, finish);
serialize_compounds!(fields Compound<'_>, (), Unsupported, field, finish);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        // Only string keys: an object key must be one.
        let at = self.tape.0.len();
        key.serialize(&mut *self.tape)?;
        if self.tape.0.get(at) == Some(&STRING) {
            Ok(())
        } else {
            Err(Unsupported)
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.tape.element(value)
    }
    fn end(self) -> Result {
        self.finish()
    }
}

/// Largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE: u64 = (1 << 53) - 1;

impl<'a> ser::Serializer for &'a mut Tape {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result {
        self.tag(if v { TRUE } else { FALSE })
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.number(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.number(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.number(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result {
        if v.unsigned_abs() <= MAX_SAFE {
            self.number(v as f64)
        } else {
            Err(Unsupported)
        }
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.number(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.number(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.number(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result {
        if v <= MAX_SAFE {
            self.number(v as f64)
        } else {
            Err(Unsupported)
        }
    }
    fn serialize_f32(self, v: f32) -> Result {
        self.number(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result {
        self.number(v)
    }
    fn serialize_char(self, v: char) -> Result {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result {
        self.run(STRING, v.as_bytes())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        self.run(BYTES, v)
    }
    fn serialize_none(self) -> Result {
        self.tag(UNDEFINED)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.tag(UNDEFINED)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result {
        self.tag(UNDEFINED)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        self.open_variant(Some(variant))?;
        value.serialize(&mut *self)?;
        self.tag(END)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>> {
        Compound::open(self, None, ARRAY)
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>> {
        Compound::open(self, None, ARRAY)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>> {
        Compound::open(self, None, ARRAY)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>> {
        Compound::open(self, Some(variant), ARRAY)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>> {
        Compound::open(self, None, OBJECT)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>> {
        Compound::open(self, None, OBJECT)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>> {
        Compound::open(self, Some(variant), OBJECT)
    }
}
