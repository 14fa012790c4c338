//! `ReadingRaw` in JavaScript: the core [`RawRecord`] (the exact inputs of a capture, so a
//! reading can be rebuilt and re-checked anywhere with the same parsers) read from and
//! written to JavaScript objects.

use wasm_bindgen::prelude::*;

use super::{bytes_of, opt_time, uuid16_of};
use crate::devices::gatt::{system_id, weight_scale_feature};
pub(super) use crate::devices::raw::base64_decode;
use crate::devices::raw::{MAX_DEVICE_ID_LEN, base64_encode};
use crate::devices::{RawRecord, Reading};
use crate::web::Error;
use crate::web::js::{self, get, present};

/// [`RawRecord`] to and from JavaScript.
pub(super) trait RawJs: Sized {
    /// From `captureReading`'s arguments.
    fn from_capture_options(uuid: u16, value: Vec<u8>, options: &JsValue) -> Result<Self, Error>;
    /// A reading object from JavaScript, rebuilt from its `raw` record; its `id`, when
    /// present, must be the rebuilt one.
    fn rebuild(reading: &JsValue) -> Result<(Reading, Self), Error>;
    /// The `ReadingRaw` object.
    fn to_js(&self) -> JsValue;
    /// Reads a `ReadingRaw` object; everything in it is treated as hostile.
    fn from_js(v: &JsValue) -> Result<Self, Error>;
}

impl RawJs for RawRecord {
    fn from_capture_options(uuid: u16, value: Vec<u8>, options: &JsValue) -> Result<Self, Error> {
        let device_id = device_id(&js::string(options, "deviceId")?)?;
        let system_id = match get(options, "systemId") {
            v if !present(&v) => None,
            v => Some(system_id_of(&v)?),
        };
        let pnp_id = opt_bytes(options, "pnpId", "pnpId: expected BytesLike")?;
        let weight_feature = match get(options, "weightScaleFeature") {
            v if !present(&v) => None,
            v => Some(weight_feature_of(&v)?),
        };
        let glucose_context = opt_bytes(
            options,
            "glucoseContext",
            "glucoseContext: expected BytesLike",
        )?;
        let received_at = opt_time(options, "now")?.unwrap_or_else(crate::web::timer::now_ms);
        let utc_offset = super::utc_offset_option(options)?.now();
        Ok(Self {
            uuid,
            value,
            device_id,
            system_id,
            pnp_id,
            received_at,
            utc_offset,
            weight_feature,
            glucose_context,
        })
    }

    /// A reading object from JavaScript (or the wire), rebuilt from its `raw` record; its
    /// `id`, when present, must be the rebuilt one.
    fn rebuild(reading: &JsValue) -> Result<(Reading, Self), Error> {
        let raw = Self::from_js(&get(reading, "raw"))?;
        let rebuilt = raw.capture()?;
        match get(reading, "id").as_string() {
            Some(id) if id != rebuilt.id => Err(Error::InvalidArgument(
                "reading: its raw value does not match its id",
            )),
            _ => Ok((rebuilt, raw)),
        }
    }

    /// The `ReadingRaw` object.
    fn to_js(&self) -> JsValue {
        let o = js::object(&[
            ("uuid", self.uuid.into()),
            ("value", base64_encode(&self.value).into()),
            ("deviceId", self.device_id.as_str().into()),
            ("receivedAt", (self.received_at as f64).into()),
        ]);
        if let Some(s) = self.system_id {
            let id = system_id::SystemId { bytes: s };
            super::set(&o, "systemId", id.eui64());
        }
        if let Some(p) = &self.pnp_id {
            super::set(&o, "pnpId", base64_encode(p));
        }
        if let Some(off) = self.utc_offset {
            super::set(&o, "utcOffsetMinutes", off);
        }
        if let Some(f) = self.weight_feature {
            super::set(&o, "weightScaleFeature", f);
        }
        if let Some(c) = &self.glucose_context {
            super::set(&o, "glucoseContext", base64_encode(c));
        }
        o.into()
    }

    /// Reads a `ReadingRaw` object; everything in it is treated as hostile.
    fn from_js(v: &JsValue) -> Result<Self, Error> {
        const BAD: &str = "reading.raw: missing or malformed";
        if !v.is_object() {
            return Err(Error::InvalidArgument(BAD));
        }
        let uuid = uuid16_of(&get(v, "uuid"), BAD)?;
        let value = match get(v, "value").as_string() {
            Some(s) => bytes_of(&s.into(), BAD)?,
            None => return Err(Error::InvalidArgument(BAD)),
        };
        let utc_offset = match get(v, "utcOffsetMinutes") {
            o if !present(&o) => None,
            o => match o.as_f64() {
                Some(n) if n.fract() == 0.0 && (-1_080.0..=1_080.0).contains(&n) => Some(n as i16),
                _ => return Err(Error::InvalidArgument(BAD)),
            },
        };
        let weight_feature = match get(v, "weightScaleFeature") {
            f if !present(&f) => None,
            f => Some(weight_feature_of(&f)?),
        };
        let system_id = match get(v, "systemId") {
            s if !present(&s) => None,
            s => Some(system_id_of(&s)?),
        };
        Ok(Self {
            uuid,
            value,
            device_id: device_id(
                &js::string(v, "deviceId").map_err(|_| Error::InvalidArgument(BAD))?,
            )?,
            system_id,
            pnp_id: opt_bytes(v, "pnpId", BAD)?,
            received_at: opt_time(v, "receivedAt")?.ok_or(Error::InvalidArgument(BAD))?,
            utc_offset,
            weight_feature,
            glucose_context: opt_bytes(v, "glucoseContext", BAD)?,
        })
    }
}

fn device_id(s: &str) -> Result<String, Error> {
    if s.is_empty() || s.len() > MAX_DEVICE_ID_LEN {
        return Err(Error::InvalidArgument(
            "deviceId: expected 1 to 256 characters",
        ));
    }
    Ok(s.to_owned())
}

fn opt_bytes(obj: &JsValue, key: &str, what: &'static str) -> Result<Option<Vec<u8>>, Error> {
    match get(obj, key) {
        v if !present(&v) => Ok(None),
        v => bytes_of(&v, what).map(Some),
    }
}

/// A System ID: the EUI-64 string (`"FE-ED-…"`, most significant byte first) or the 8-byte
/// characteristic value (least significant first).
fn system_id_of(v: &JsValue) -> Result<[u8; 8], Error> {
    if let Some(s) = v.as_string() {
        if s.len() == 23 && s.as_bytes().get(2) == Some(&b'-') {
            let hex: String = s.split('-').collect();
            let mut b = js::parse_hex8(&hex)
                .filter(|_| s.split('-').all(|p| p.len() == 2))
                .ok_or(Error::InvalidArgument("systemId: malformed EUI-64"))?;
            b.reverse();
            return Ok(b);
        }
    }
    let bytes = bytes_of(v, "systemId: expected BytesLike or an EUI-64 string")?;
    Ok(system_id::parse(&bytes)?.bytes)
}

/// A Weight Scale Feature: the u32 field or the 4-byte value (checked by the parser).
fn weight_feature_of(v: &JsValue) -> Result<u32, Error> {
    let field = match v.as_f64() {
        Some(n) if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) => n as u32,
        Some(_) => return Err(Error::InvalidArgument("weightScaleFeature: expected a u32")),
        None => {
            let b = bytes_of(v, "weightScaleFeature: expected BytesLike or a u32")?;
            weight_scale_feature::parse(&b)?;
            match <[u8; 4]>::try_from(b.as_slice()) {
                Ok(a) => u32::from_le_bytes(a),
                Err(_) => return Err(Error::InvalidArgument("weightScaleFeature")),
            }
        }
    };
    weight_scale_feature::parse(&field.to_le_bytes())?;
    Ok(field)
}
