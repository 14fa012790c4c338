//! Medical devices from JavaScript: parsing, readings, FHIR, Web Bluetooth, the native bridge
//! and sharing over a consultation.
//!
//! | item | job |
//! | --- | --- |
//! | `parseMeasurement`, `captureReading`, `measurementToFhir` | the core parsers, `capture` and `to_fhir` as plain objects |
//! | [`DeviceBridge`] | a native host app (Capacitor, React Native, Cordova) pushes raw bytes |
//! | [`DeviceSession`] | Web Bluetooth: chooser, GATT, notifications, provenance, reconnection, RACP |
//! | [`ReadingShare`], [`ReadingReceiver`] | readings over `Consultation.sendData`, acknowledged and de-duplicated |
//!
//! Every reading a JavaScript caller sees carries `raw`: the exact bytes and context it was
//! captured from. Whatever takes a reading back in (`measurementToFhir`, a receiver) rebuilds
//! it from `raw` with the same parsers and checks the id, so a reading object edited or forged
//! in JavaScript or on the wire is never trusted field by field.

mod bluetooth;
mod bridge;
mod raw;
mod share;
mod state;

pub use bluetooth::DeviceSession;
pub use bridge::DeviceBridge;
pub use share::{ReadingReceiver, ReadingShare, share_readings};

use js_sys::{Array, Object, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{CustomEvent, CustomEventInit, EventTarget};

use super::JsError;
use super::js::{self, get, present, set};
use crate::Error as CoreError;
use crate::devices::RawRecord;
use crate::devices::{CaptureError, CharacteristicId, FhirContext, ParseError, Reading, parse};
use crate::web::Error;
use raw::RawJs;

use crate::devices::raw::MAX_VALUE_LEN;

// ----- conversions at the JavaScript boundary ----------------------------------------------

/// The error JavaScript receives. Device errors also carry `reason`, and `characteristic`
/// and `field` when the parser named them (never the bytes).
fn js_error(e: Error) -> JsValue {
    let detail = match &e {
        Error::Core(CoreError::Device(c)) => Some(*c),
        _ => None,
    };
    let err: JsValue = JsError(e).into();
    if let Some(c) = detail {
        if let Ok(obj) = err.clone().dyn_into::<Object>() {
            add_device_error_fields(&obj, &c);
        }
    }
    err
}

/// `reason`, `characteristic` and `field` of a device error, on an error or event detail.
fn add_device_error_fields(obj: &Object, e: &CaptureError) {
    set(obj, "reason", e.code());
    if let CaptureError::Parse { error } = e {
        match error {
            ParseError::Truncated {
                characteristic,
                field,
            }
            | ParseError::Reserved {
                characteristic,
                field,
            }
            | ParseError::Invalid {
                characteristic,
                field,
            } => {
                set(obj, "characteristic", js::to_value(characteristic));
                set(obj, "field", *field);
            }
            ParseError::TrailingBytes { characteristic, .. } => {
                set(obj, "characteristic", js::to_value(characteristic));
            }
            _ => {}
        }
    }
}

/// The `detail` of an `error` event.
fn error_detail(e: &Error) -> Object {
    let detail = js::object(&[
        ("code", e.code().as_str().into()),
        ("message", e.message().into()),
    ]);
    if let Error::Core(CoreError::Device(c)) = e {
        add_device_error_fields(&detail, c);
    }
    detail
}

/// The 16-bit UUID named by a number or a string.
fn uuid16_of(v: &JsValue, what: &'static str) -> Result<u16, Error> {
    if let Some(n) = v.as_f64() {
        if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) {
            return Ok(n as u16);
        }
        return Err(Error::InvalidArgument(what));
    }
    match v.as_string() {
        Some(s) => Ok(crate::devices::uuid16_from_str(&s)?),
        None => Err(Error::InvalidArgument(what)),
    }
}

/// Bytes from any `BytesLike`; see pkg/src/types/devices.ts.
fn bytes_of(v: &JsValue, what: &'static str) -> Result<Vec<u8>, Error> {
    const TOO_LONG: &str = "value: longer than 512 bytes, the largest GATT attribute value";
    if let Some(s) = v.as_string() {
        if s.len() > MAX_VALUE_LEN.div_ceil(3) * 4 + 2 {
            return Err(Error::InvalidArgument(TOO_LONG));
        }
        return raw::base64_decode(&s).ok_or(Error::InvalidArgument(what));
    }
    let view = if let Some(buf) = v.dyn_ref::<js_sys::ArrayBuffer>() {
        Uint8Array::new(buf)
    } else if js_sys::ArrayBuffer::is_view(v) {
        let buffer = get(v, "buffer");
        let offset = get(v, "byteOffset").as_f64().unwrap_or(0.0);
        let length = get(v, "byteLength").as_f64().unwrap_or(0.0);
        if length > MAX_VALUE_LEN as f64 {
            return Err(Error::InvalidArgument(TOO_LONG));
        }
        Uint8Array::new_with_byte_offset_and_length(&buffer, offset as u32, length as u32)
    } else if Array::is_array(v) {
        let arr: &Array = v.unchecked_ref();
        if arr.length() as usize > MAX_VALUE_LEN {
            return Err(Error::InvalidArgument(TOO_LONG));
        }
        let mut out = Vec::with_capacity(arr.length() as usize);
        for item in arr.iter() {
            match item.as_f64() {
                Some(n) if n.fract() == 0.0 && (0.0..=255.0).contains(&n) => out.push(n as u8),
                _ => {
                    return Err(Error::InvalidArgument(
                        "value: array elements must be byte values 0-255",
                    ));
                }
            }
        }
        return Ok(out);
    } else {
        return Err(Error::InvalidArgument(what));
    };
    if view.length() as usize > MAX_VALUE_LEN {
        return Err(Error::InvalidArgument(TOO_LONG));
    }
    Ok(view.to_vec())
}

/// An optional `now`-like field: a safe non-negative integer of milliseconds.
fn opt_time(obj: &JsValue, key: &'static str) -> Result<Option<u64>, Error> {
    let v = get(obj, key);
    if !present(&v) {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&n) => {
            Ok(Some(n as u64))
        }
        _ => Err(Error::InvalidArgument(key)),
    }
}

/// The host's current UTC offset, minutes east of UTC.
fn host_utc_offset() -> Option<i16> {
    let minutes = js_sys::Date::new_0().get_timezone_offset();
    (minutes.is_finite() && minutes.abs() <= 1_080.0).then(|| -(minutes as i16))
}

/// A UTC offset option: absent → the host's, `null` → unknown, else −1080..=1080 minutes.
fn utc_offset_option(obj: &JsValue) -> Result<OffsetChoice, Error> {
    let v = get(obj, "utcOffsetMinutes");
    if v.is_undefined() {
        return Ok(OffsetChoice::Host);
    }
    if v.is_null() {
        return Ok(OffsetChoice::Fixed(None));
    }
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 && (-1_080.0..=1_080.0).contains(&n) => {
            Ok(OffsetChoice::Fixed(Some(n as i16)))
        }
        _ => Err(Error::InvalidArgument(
            "utcOffsetMinutes: expected whole minutes between -1080 and 1080, or null",
        )),
    }
}

/// Which UTC offset the device clock is taken to run in.
#[derive(Clone, Copy)]
enum OffsetChoice {
    /// The host's offset at the time each value arrives.
    Host,
    /// This one (`None`: unknown).
    Fixed(Option<i16>),
}

impl OffsetChoice {
    fn now(self) -> Option<i16> {
        match self {
            Self::Host => host_utc_offset(),
            Self::Fixed(o) => o,
        }
    }
}

/// `fhir` options: subject, device (optional), gateway device (optional).
#[derive(Clone)]
struct FhirOptions {
    subject: String,
    device: Option<String>,
    gateway_device: Option<String>,
}

impl FhirOptions {
    fn from_js(v: &JsValue) -> Result<Option<Self>, Error> {
        if !present(v) {
            return Ok(None);
        }
        if !v.is_object() {
            return Err(Error::InvalidArgument("fhir: expected an object"));
        }
        Ok(Some(Self {
            subject: js::string(v, "subject")?,
            device: js::opt_string(v, "device")?,
            gateway_device: js::opt_string(v, "gatewayDevice")?,
        }))
    }

    /// The Observations of a reading, as a JavaScript array.
    fn observations(&self, reading: &Reading) -> JsValue {
        let ctx = FhirContext {
            subject: self.subject.clone(),
            device: self
                .device
                .clone()
                .unwrap_or_else(|| default_device_reference(reading)),
            gateway_device: self.gateway_device.clone(),
        };
        js::to_value(&crate::devices::to_fhir(reading, &ctx))
    }
}

/// `Device/phd-<16 hex>`: from the EUI-64 when the device has a System ID, else from a hash
/// of the host's device id (which may hold characters a FHIR id cannot).
fn default_device_reference(reading: &Reading) -> String {
    use sha2::{Digest, Sha256};
    let hex = match reading.device.usable_system_id() {
        Some(s) => s.eui64().replace('-', "").to_ascii_lowercase(),
        None => {
            let mut h = Sha256::new();
            h.update(b"teleconsult/devices/device/v1");
            h.update(reading.device.id.as_bytes());
            js::hex(&h.finalize()[..8])
        }
    };
    format!("Device/phd-{hex}")
}

/// The reading as JavaScript sees it: the core's serde form plus `raw`.
fn reading_js(reading: &Reading, raw: &RawRecord) -> JsValue {
    let obj = js::to_value(reading);
    if let Some(o) = obj.dyn_ref::<Object>() {
        set(o, "raw", raw.to_js());
    }
    obj
}

/// `{ reading, observations? }`, the detail of every `reading` event.
fn reading_detail(reading: &Reading, raw: &RawRecord, fhir: Option<&FhirOptions>) -> Object {
    let detail = js::object(&[("reading", reading_js(reading, raw))]);
    if let Some(f) = fhir {
        set(&detail, "observations", f.observations(reading));
    }
    detail
}

/// An `EventTarget` a class owns, with `dispatch` for `CustomEvent`s.
struct Events(EventTarget);

impl Events {
    fn new() -> Result<Self, Error> {
        EventTarget::new()
            .map(Self)
            .map_err(|_| Error::Unsupported("EventTarget is missing"))
    }

    /// Dispatches synchronously; never called while a `RefCell` borrow is held, so listeners
    /// may call back in.
    fn dispatch(&self, kind: &str, detail: &JsValue) {
        let init = CustomEventInit::new();
        init.set_detail(detail);
        if let Ok(event) = CustomEvent::new_with_event_init_dict(kind, &init) {
            let _ = self.0.dispatch_event(&event);
        }
    }

    /// The target itself, for the class's `eventTarget` getter.
    fn target(&self) -> EventTarget {
        self.0.clone()
    }
}

// ----- the stateless functions ----------------------------------------------------------------

/// Parses one characteristic value to the Bluetooth SIG definition.
///
/// `characteristic`: the 128-bit UUID, the 16-bit alias (`"2a37"`, `"0x2A37"`) or number.
/// `value`: a `DataView`, typed array, `ArrayBuffer`, byte array or base64 string. Returns
/// `{ kind, value }`. Throws a `TeleconsultError`: `MalformedMeasurement` when the bytes do
/// not follow the definition (`reason`, `characteristic` and `field` say where; the message
/// never holds the bytes), `InvalidArgument` for an unknown characteristic or a bad `value`.
#[wasm_bindgen(js_name = parseMeasurement, unchecked_return_type = "any")]
pub fn parse_measurement(
    #[wasm_bindgen(unchecked_param_type = "any")] characteristic: JsValue,
    #[wasm_bindgen(unchecked_param_type = "any")] value: JsValue,
) -> Result<JsValue, JsValue> {
    let run = || -> Result<JsValue, Error> {
        let uuid = uuid16_of(&characteristic, "characteristic: expected a Bluetooth UUID")?;
        let bytes = bytes_of(&value, "value: expected BytesLike")?;
        Ok(js::to_value(&parse(&uuid, &bytes)?))
    };
    run().map_err(js_error)
}

/// Captures a measurement as a `Reading`: parsed, validated, with provenance, plausibility
/// warnings, a stable id and the `raw` record it can be rebuilt from.
///
/// Throws `MalformedMeasurement` for bad bytes (also a bad `systemId`, `pnpId`,
/// `weightScaleFeature` or `glucoseContext` value), `InvalidArgument` for a characteristic
/// that is not a measurement (use `parseMeasurement`), a glucose context of another record,
/// or bad options.
#[wasm_bindgen(js_name = captureReading, unchecked_return_type = "any")]
pub fn capture_reading(
    #[wasm_bindgen(unchecked_param_type = "any")] characteristic: JsValue,
    #[wasm_bindgen(unchecked_param_type = "any")] value: JsValue,
    #[wasm_bindgen(unchecked_param_type = "any")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let run = || -> Result<JsValue, Error> {
        let uuid = uuid16_of(&characteristic, "characteristic: expected a Bluetooth UUID")?;
        uuid.characteristic()?;
        let bytes = bytes_of(&value, "value: expected BytesLike")?;
        if !options.is_object() {
            return Err(Error::InvalidArgument("options: expected { deviceId, … }"));
        }
        let raw = RawRecord::from_capture_options(uuid, bytes, &options)?;
        let reading = raw.capture()?;
        Ok(reading_js(&reading, &raw))
    };
    run().map_err(js_error)
}

/// The FHIR R4 Observations of a reading (HL7 PHD IG; docs/DEVICES.md).
///
/// `reading` is a reading this SDK produced (it is rebuilt from its `raw` record and its id
/// checked, so edited fields cannot leak into the FHIR form). Returns an array — empty for
/// intermediate cuff pressure, several for a cuff that also reports pulse. Throws
/// `InvalidArgument` when `reading` has no valid `raw` or its id does not match,
/// `MalformedMeasurement` when its raw bytes do not parse.
#[wasm_bindgen(js_name = measurementToFhir, unchecked_return_type = "any[]")]
pub fn measurement_to_fhir(
    #[wasm_bindgen(unchecked_param_type = "any")] reading: JsValue,
    #[wasm_bindgen(unchecked_param_type = "any")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let run = || -> Result<JsValue, Error> {
        let fhir =
            FhirOptions::from_js(&options)?.ok_or(Error::InvalidArgument("options: fhir"))?;
        let (reading, _) = RawRecord::rebuild(&reading)?;
        Ok(fhir.observations(&reading))
    };
    run().map_err(js_error)
}
