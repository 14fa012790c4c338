//! A minimal serde serializer straight to JavaScript values, for the device types (readings,
//! measurements, FHIR Observations).
//!
//! It replaces `serde-wasm-bindgen` (configured with `serialize_maps_as_objects(true)`) and
//! produces exactly the values that crate did, for everything our types use:
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
//! Why not `serde-wasm-bindgen`: it interns every key through a cache, carries a `JsValue`
//! error with formatted messages, BigInt and `Map` modes: ~9 KB of wasm we do not need.

use js_sys::{Array, Object, Reflect, Uint8Array};
use serde::ser::{self, Serialize};
use wasm_bindgen::JsValue;

/// Converts a value; `undefined` when it holds something unsupported (an unsafe integer, a
/// non-string map key), as the device layer has always done.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    value.serialize(Ser).unwrap_or(JsValue::UNDEFINED)
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

type Result<T = JsValue> = core::result::Result<T, Unsupported>;

/// The serializer (stateless).
#[derive(Clone, Copy)]
pub struct Ser;

/// `{ variant: value }`, or `value` itself when there is no variant.
fn wrap(variant: Option<&'static str>, value: JsValue) -> JsValue {
    match variant {
        Some(name) => {
            let obj = Object::new();
            let _ = Reflect::set(&obj, &JsValue::from_str(name), &value);
            obj.into()
        }
        None => value,
    }
}

/// An array being filled (sequence, tuple, tuple struct or tuple variant).
pub struct Seq {
    array: Array,
    variant: Option<&'static str>,
}

impl Seq {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.array.push(&value.serialize(Ser)?);
        Ok(())
    }

    fn finish(self) -> Result {
        Ok(wrap(self.variant, self.array.into()))
    }
}

/// An object being filled (struct, struct variant or map).
pub struct Obj {
    object: Object,
    variant: Option<&'static str>,
    /// A map key waiting for its value.
    key: JsValue,
}

impl Obj {
    fn new(variant: Option<&'static str>) -> Self {
        Self {
            object: Object::new(),
            variant,
            key: JsValue::UNDEFINED,
        }
    }

    /// Not generic over the key, so one copy serves every struct.
    fn set(&self, key: &JsValue, value: JsValue) {
        let _ = Reflect::set(&self.object, key, &value);
    }

    /// [`set`](Self::set) with a string key, also shared by every field type.
    fn set_named(&self, key: &str, value: JsValue) {
        self.set(&JsValue::from_str(key), value);
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        let value = value.serialize(Ser)?;
        self.set_named(key, value);
        Ok(())
    }

    fn finish(self) -> Result {
        Ok(wrap(self.variant, self.object.into()))
    }
}

serialize_compounds!(seq Seq, JsValue, Unsupported, push, finish);
serialize_compounds!(fields Obj, JsValue, Unsupported, field, finish);

impl ser::SerializeMap for Obj {
    type Ok = JsValue;
    type Error = Unsupported;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        let key = key.serialize(Ser)?;
        if !key.is_string() {
            return Err(Unsupported);
        }
        self.key = key;
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let value = value.serialize(Ser)?;
        let key = core::mem::replace(&mut self.key, JsValue::UNDEFINED);
        self.set(&key, value);
        Ok(())
    }
    fn end(self) -> Result {
        self.finish()
    }
}

/// Largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE: u64 = (1 << 53) - 1;

impl ser::Serializer for Ser {
    type Ok = JsValue;
    type Error = Unsupported;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Seq;
    type SerializeMap = Obj;
    type SerializeStruct = Obj;
    type SerializeStructVariant = Obj;

    fn serialize_bool(self, v: bool) -> Result {
        Ok(JsValue::from_bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.serialize_f64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.serialize_f64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.serialize_f64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result {
        if v.unsigned_abs() <= MAX_SAFE {
            self.serialize_f64(v as f64)
        } else {
            Err(Unsupported)
        }
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.serialize_f64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.serialize_f64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.serialize_f64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result {
        if v <= MAX_SAFE {
            self.serialize_f64(v as f64)
        } else {
            Err(Unsupported)
        }
    }
    fn serialize_f32(self, v: f32) -> Result {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result {
        Ok(JsValue::from_f64(v))
    }
    fn serialize_char(self, v: char) -> Result {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result {
        Ok(JsValue::from_str(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        Ok(Uint8Array::from(v).into())
    }
    fn serialize_none(self) -> Result {
        Ok(JsValue::UNDEFINED)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        Ok(JsValue::UNDEFINED)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result {
        Ok(JsValue::UNDEFINED)
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
        Ok(wrap(Some(variant), value.serialize(self)?))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Seq> {
        Ok(Seq {
            array: Array::new(),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Seq> {
        Ok(Seq {
            array: Array::new(),
            variant: Some(variant),
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Obj> {
        Ok(Obj::new(None))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Obj> {
        Ok(Obj::new(None))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Obj> {
        Ok(Obj::new(Some(variant)))
    }
}
