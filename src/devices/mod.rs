//! Bluetooth SIG health characteristic parsers, validated readings and their FHIR form.
//!
//! Three layers, each usable alone:
//!
//! 1. [`parse`] turns one characteristic value (the bytes of a notification, indication or
//!    read) into a [`Measurement`], following the Bluetooth SIG characteristic definitions.
//!    One module per characteristic lives in [`gatt`]. A payload shorter than its flags
//!    require, with bytes after the last field, with an impossible date or with a reserved
//!    value that leaves nothing to read is rejected with a [`ParseError`] naming the
//!    characteristic and the field — never the bytes. Bits and fields reserved for future
//!    use are ignored, as the Bluetooth specifications require (see [`gatt`]).
//! 2. [`capture`] makes a [`Reading`]: the measurement plus provenance (device identity,
//!    device timestamp and whether it is trusted, time received, sequence number, status
//!    flags), plausibility warnings and a stable id for de-duplication.
//! 3. [`to_fhir`] maps a reading to HL7 FHIR R4 Observations following the Personal Health
//!    Device IG.
//!
//! Two sans-IO state machines drive capture and sharing, for the browser and native drivers
//! alike: [`state::DeviceState`] (one device's provenance and pending glucose record: each
//! value in, readings and information out) and [`delivery`] (readings over a consultation:
//! consent-checked, queued, acknowledged, re-sent and de-duplicated, in the [`wire`] format
//! of [`RawRecord`]s).
//!
//! Every public type is plain data that derives `serde::Serialize` with camelCase names, so
//! the JavaScript layer converts it with serde-wasm-bindgen (`web::js::to_value`). Nothing
//! here reads a clock: the time a value was received is passed in. See `docs/DEVICES.md`.
//!
//! ```
//! use teleconsult::devices::{capture, to_fhir, CaptureContext, DeviceIdentity, FhirContext};
//!
//! // A Blood Pressure Measurement indication: 121/81/106 mmHg at 2024-03-05 08:30:15.
//! let bytes = [0x02, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0xE8, 0x07, 3, 5, 8, 30, 15];
//! let ctx = CaptureContext {
//!     device: DeviceIdentity::new("web-bluetooth-device-id"),
//!     now: 1_709_624_000_000,               // when it arrived, ms since the epoch
//!     device_utc_offset_minutes: Some(60), // the host's UTC offset
//!     weight_scale_feature: None,
//! };
//! let reading = capture("00002a35-0000-1000-8000-00805f9b34fb", &bytes, &ctx)?;
//! assert!(reading.device_timestamp.is_some_and(|t| t.trusted));
//!
//! let fhir = FhirContext {
//!     subject: "Patient/123".into(),
//!     device: "Device/bp-cuff".into(),
//!     gateway_device: None,
//! };
//! let observations = to_fhir(&reading, &fhir);
//! assert_eq!(observations[0].effective_date_time, "2024-03-05T08:30:15+01:00");
//! # Ok::<(), teleconsult::devices::CaptureError>(())
//! ```

mod float;
mod reader;
pub(crate) mod time;

pub mod delivery;
pub mod fhir;
pub mod gatt;
pub mod raw;
pub mod reading;
pub mod state;
pub mod wire;

use core::fmt;
use serde::{Serialize, Serializer};

pub use fhir::{FhirContext, Observation, to_fhir};
pub use float::{Decimal, MderFloat};
pub use gatt::date_time::DateTime;
pub use raw::RawRecord;
pub use reading::{CaptureContext, CaptureError, DeviceIdentity, Reading, capture};
pub use time::{civil_from_days, days_from_civil, format_fhir_datetime};

use gatt::*;

/// The characteristics this module parses, by their 16-bit Bluetooth SIG UUIDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u16)]
pub enum Characteristic {
    /// Heart Rate Measurement (Heart Rate service 0x180D).
    HeartRateMeasurement = 0x2A37,
    /// Blood Pressure Measurement (Blood Pressure service 0x1810).
    BloodPressureMeasurement = 0x2A35,
    /// Intermediate Cuff Pressure: live cuff pressure while a measurement runs.
    IntermediateCuffPressure = 0x2A36,
    /// Temperature Measurement (Health Thermometer service 0x1809).
    TemperatureMeasurement = 0x2A1C,
    /// Temperature Type: where on the body the thermometer measures.
    TemperatureType = 0x2A1D,
    /// Weight Measurement (Weight Scale service 0x181D).
    WeightMeasurement = 0x2A9D,
    /// Weight Scale Feature: what the scale supports and its resolution.
    WeightScaleFeature = 0x2A9E,
    /// Glucose Measurement (Glucose service 0x1808).
    GlucoseMeasurement = 0x2A18,
    /// Glucose Measurement Context: meal, carbohydrates, exercise, medication, HbA1c.
    GlucoseMeasurementContext = 0x2A34,
    /// Record Access Control Point: stored-record download from glucose meters.
    RecordAccessControlPoint = 0x2A52,
    /// PLX Spot-Check Measurement (Pulse Oximeter service 0x1822).
    PlxSpotCheckMeasurement = 0x2A5E,
    /// PLX Continuous Measurement.
    PlxContinuousMeasurement = 0x2A5F,
    /// PLX Features: which optional fields and status bits the oximeter supports.
    PlxFeatures = 0x2A60,
    /// Battery Level (Battery service 0x180F), percent.
    BatteryLevel = 0x2A19,
    /// Date Time.
    DateTime = 0x2A08,
    /// Manufacturer Name String (Device Information service 0x180A).
    ManufacturerNameString = 0x2A29,
    /// Model Number String.
    ModelNumberString = 0x2A24,
    /// Serial Number String (Web Bluetooth blocks it; a native bridge may supply it).
    SerialNumberString = 0x2A25,
    /// Hardware Revision String.
    HardwareRevisionString = 0x2A27,
    /// Firmware Revision String.
    FirmwareRevisionString = 0x2A26,
    /// Software Revision String.
    SoftwareRevisionString = 0x2A28,
    /// System ID: the device's EUI-64.
    SystemId = 0x2A23,
    /// PnP ID: vendor, product and version.
    PnpId = 0x2A50,
}

impl Characteristic {
    /// Every supported characteristic, for filters, tests and fuzzing.
    pub const ALL: [Characteristic; 23] = [
        Self::HeartRateMeasurement,
        Self::BloodPressureMeasurement,
        Self::IntermediateCuffPressure,
        Self::TemperatureMeasurement,
        Self::TemperatureType,
        Self::WeightMeasurement,
        Self::WeightScaleFeature,
        Self::GlucoseMeasurement,
        Self::GlucoseMeasurementContext,
        Self::RecordAccessControlPoint,
        Self::PlxSpotCheckMeasurement,
        Self::PlxContinuousMeasurement,
        Self::PlxFeatures,
        Self::BatteryLevel,
        Self::DateTime,
        Self::ManufacturerNameString,
        Self::ModelNumberString,
        Self::SerialNumberString,
        Self::HardwareRevisionString,
        Self::FirmwareRevisionString,
        Self::SoftwareRevisionString,
        Self::SystemId,
        Self::PnpId,
    ];

    /// The 16-bit UUID.
    pub const fn uuid16(self) -> u16 {
        self as u16
    }

    /// The characteristic with this 16-bit UUID, if supported.
    pub fn from_uuid16(uuid: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.uuid16() == uuid)
    }

    /// The full 128-bit UUID on the Bluetooth base, lower case, as Web Bluetooth writes it.
    pub fn uuid(self) -> String {
        format!("0000{:04x}-0000-1000-8000-00805f9b34fb", self.uuid16())
    }

    /// The specification's name, for messages.
    pub const fn name(self) -> &'static str {
        NAMES[self.index()].0
    }

    /// The position of `self` in [`Self::ALL`] (its declaration order). An exhaustive match,
    /// so a new variant cannot be forgotten; it compiles to a small lookup table, where a
    /// match producing names from these sparse UUID discriminants compiles to a jump table.
    const fn index(self) -> usize {
        match self {
            Self::HeartRateMeasurement => 0,
            Self::BloodPressureMeasurement => 1,
            Self::IntermediateCuffPressure => 2,
            Self::TemperatureMeasurement => 3,
            Self::TemperatureType => 4,
            Self::WeightMeasurement => 5,
            Self::WeightScaleFeature => 6,
            Self::GlucoseMeasurement => 7,
            Self::GlucoseMeasurementContext => 8,
            Self::RecordAccessControlPoint => 9,
            Self::PlxSpotCheckMeasurement => 10,
            Self::PlxContinuousMeasurement => 11,
            Self::PlxFeatures => 12,
            Self::BatteryLevel => 13,
            Self::DateTime => 14,
            Self::ManufacturerNameString => 15,
            Self::ModelNumberString => 16,
            Self::SerialNumberString => 17,
            Self::HardwareRevisionString => 18,
            Self::FirmwareRevisionString => 19,
            Self::SoftwareRevisionString => 20,
            Self::SystemId => 21,
            Self::PnpId => 22,
        }
    }
}

/// Per characteristic, in [`Characteristic::ALL`] order: the specification's name and the
/// serde (camelCase) variant name.
const NAMES: [(&str, &str); 23] = [
    ("Heart Rate Measurement", "heartRateMeasurement"),
    ("Blood Pressure Measurement", "bloodPressureMeasurement"),
    ("Intermediate Cuff Pressure", "intermediateCuffPressure"),
    ("Temperature Measurement", "temperatureMeasurement"),
    ("Temperature Type", "temperatureType"),
    ("Weight Measurement", "weightMeasurement"),
    ("Weight Scale Feature", "weightScaleFeature"),
    ("Glucose Measurement", "glucoseMeasurement"),
    ("Glucose Measurement Context", "glucoseMeasurementContext"),
    ("Record Access Control Point", "recordAccessControlPoint"),
    ("PLX Spot-Check Measurement", "plxSpotCheckMeasurement"),
    ("PLX Continuous Measurement", "plxContinuousMeasurement"),
    ("PLX Features", "plxFeatures"),
    ("Battery Level", "batteryLevel"),
    ("Date Time", "dateTime"),
    ("Manufacturer Name String", "manufacturerNameString"),
    ("Model Number String", "modelNumberString"),
    ("Serial Number String", "serialNumberString"),
    ("Hardware Revision String", "hardwareRevisionString"),
    ("Firmware Revision String", "firmwareRevisionString"),
    ("Software Revision String", "softwareRevisionString"),
    ("System ID", "systemId"),
    ("PnP ID", "pnpId"),
];

// `NAMES[c.index()]` cannot go out of bounds: `index` maps the variants onto 0..ALL.len(), and
// this fails to compile if the table ever has another length.
const _: () = assert!(NAMES.len() == Characteristic::ALL.len());

/// Written by hand rather than derived: the same unit variant (`"heartRateMeasurement"`,
/// serde's camelCase name and declaration index) read from `NAMES`, instead of a jump
/// table over the sparse UUID discriminants.
impl Serialize for Characteristic {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let i = self.index();
        s.serialize_unit_variant("Characteristic", i as u32, NAMES[i].1)
    }
}

/// The GATT services that carry the supported characteristics, as `(uuid16, name)`: what the
/// Web Bluetooth driver lists in `filters` and `optionalServices`.
pub const SERVICES: [(u16, &str); 8] = [
    (0x180D, "Heart Rate"),
    (0x1810, "Blood Pressure"),
    (0x1809, "Health Thermometer"),
    (0x181D, "Weight Scale"),
    (0x1808, "Glucose"),
    (0x1822, "Pulse Oximeter"),
    (0x180F, "Battery"),
    (0x180A, "Device Information"),
];

/// Why a characteristic value was rejected. Names the characteristic and the field; never
/// carries the payload bytes, so it is safe to log and to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
#[non_exhaustive]
pub enum ParseError {
    /// The UUID string is not a Bluetooth UUID: neither `"2a37"`, `"0x2A37"` nor a 128-bit
    /// UUID on the Bluetooth base (`"00002a37-0000-1000-8000-00805f9b34fb"`).
    InvalidUuid,
    /// A valid UUID, but not a characteristic this module parses.
    UnsupportedCharacteristic {
        /// The 16-bit UUID (0 for a 128-bit UUID off the Bluetooth base).
        uuid16: u16,
    },
    /// The payload ended before a field that the flags (or the specification) require.
    Truncated {
        /// The characteristic being parsed.
        characteristic: Characteristic,
        /// The field that is missing or cut short.
        field: &'static str,
    },
    /// Bytes remain after the last field the flags announce, where the specification allows
    /// none: the device and this parser disagree on the layout.
    TrailingBytes {
        /// The characteristic being parsed.
        characteristic: Characteristic,
        /// How many bytes were left over.
        count: usize,
    },
    /// A value that the specification reserves for future use, in a field whose value is the
    /// whole point (the Temperature Type characteristic, a glucose sample type, a RACP
    /// response code, …). Reserved *bits* and reserved fields are ignored, never rejected.
    Reserved {
        /// The characteristic being parsed.
        characteristic: Characteristic,
        /// The field holding the reserved value.
        field: &'static str,
    },
    /// A value the specification does not allow (month 13, battery level 101, text that is
    /// not UTF-8, a range whose start is after its end).
    Invalid {
        /// The characteristic being parsed.
        characteristic: Characteristic,
        /// The offending field.
        field: &'static str,
    },
}

impl ParseError {
    /// A stable, machine-readable code (the serialized `kind`), for JavaScript to branch on.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::InvalidUuid => "invalidUuid",
            Self::UnsupportedCharacteristic { .. } => "unsupportedCharacteristic",
            Self::Truncated { .. } => "truncated",
            Self::TrailingBytes { .. } => "trailingBytes",
            Self::Reserved { .. } => "reserved",
            Self::Invalid { .. } => "invalid",
        }
    }
}

impl ParseError {
    /// Appends the `Display` text to `out`, without the formatting machinery (see
    /// [`crate::Error`]'s message).
    pub(crate) fn push_message(&self, out: &mut String) {
        use crate::text::{push_hex4_upper, push_padded};
        // `<name> (0x<UUID>): ` as `{n} (0x{u:04X}): ` wrote it.
        let head = |out: &mut String, c: &Characteristic| {
            out.push_str(c.name());
            out.push_str(" (0x");
            push_hex4_upper(out, c.uuid16());
            out.push_str("): ");
        };
        match self {
            Self::InvalidUuid => out.push_str("not a Bluetooth UUID"),
            Self::UnsupportedCharacteristic { uuid16 } => {
                out.push_str("characteristic 0x");
                push_hex4_upper(out, *uuid16);
                out.push_str(" is not supported");
            }
            Self::Truncated {
                characteristic,
                field,
            } => {
                head(out, characteristic);
                out.push_str("payload ends before field `");
                out.push_str(field);
                out.push('`');
            }
            Self::TrailingBytes {
                characteristic,
                count,
            } => {
                head(out, characteristic);
                push_padded(out, *count as u64, 0);
                out.push_str(" unexpected byte(s) after the last field");
            }
            Self::Reserved {
                characteristic,
                field,
            } => {
                head(out, characteristic);
                out.push_str("field `");
                out.push_str(field);
                out.push_str("` holds a reserved value");
            }
            Self::Invalid {
                characteristic,
                field,
            } => {
                head(out, characteristic);
                out.push_str("field `");
                out.push_str(field);
                out.push_str("` holds an invalid value");
            }
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.push_message(&mut out);
        f.write_str(&out)
    }
}

impl std::error::Error for ParseError {}

/// Something that names a characteristic: a `u16` (`0x2A37`), a [`Characteristic`], or a
/// string — the 16-bit alias (`"2a37"`, `"0x2A37"`) or the full 128-bit UUID on the Bluetooth
/// base (`"00002a37-0000-1000-8000-00805f9b34fb"`, any case), as Web Bluetooth reports it.
pub trait CharacteristicId {
    /// Resolves to a supported characteristic.
    fn characteristic(&self) -> Result<Characteristic, ParseError>;
}

impl CharacteristicId for Characteristic {
    fn characteristic(&self) -> Result<Characteristic, ParseError> {
        Ok(*self)
    }
}

impl CharacteristicId for u16 {
    fn characteristic(&self) -> Result<Characteristic, ParseError> {
        Characteristic::from_uuid16(*self)
            .ok_or(ParseError::UnsupportedCharacteristic { uuid16: *self })
    }
}

impl CharacteristicId for str {
    fn characteristic(&self) -> Result<Characteristic, ParseError> {
        uuid16_from_str(self)?.characteristic()
    }
}

impl CharacteristicId for &str {
    fn characteristic(&self) -> Result<Characteristic, ParseError> {
        (**self).characteristic()
    }
}

impl CharacteristicId for String {
    fn characteristic(&self) -> Result<Characteristic, ParseError> {
        self.as_str().characteristic()
    }
}

/// The 16-bit UUID named by a string: `"2a37"`, `"0x2A37"`, or the 128-bit form on the
/// Bluetooth base. Other 128-bit UUIDs are well-formed but unsupported.
pub fn uuid16_from_str(s: &str) -> Result<u16, ParseError> {
    // Read as bytes, never sliced as `str`: a `str` slice may panic off a char boundary, and
    // that path alone pulls ~1.4 KB of panic formatting into the wasm.
    const BASE_SUFFIX: &[u8] = b"-0000-1000-8000-00805f9b34fb";
    fn hex4(h: &[u8]) -> Result<u16, ParseError> {
        let &[a, b, c, d] = h else {
            return Err(ParseError::InvalidUuid);
        };
        let mut v = 0u16;
        for digit in [a, b, c, d] {
            let n = char::from(digit)
                .to_digit(16)
                .ok_or(ParseError::InvalidUuid)?;
            // Four nibbles fill the u16 exactly: no overflow.
            v = v << 4 | n as u16;
        }
        Ok(v)
    }
    let b = s.as_bytes();
    if b.len() == 36 {
        let well_formed = b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
        if !well_formed {
            return Err(ParseError::InvalidUuid);
        }
        if let Some(([b'0', b'0', b'0', b'0', short @ ..], suffix)) = b.split_first_chunk::<8>()
            && suffix.eq_ignore_ascii_case(BASE_SUFFIX)
        {
            return hex4(short);
        }
        return Err(ParseError::UnsupportedCharacteristic { uuid16: 0 });
    }
    match b {
        [b'0', b'x' | b'X', rest @ ..] => hex4(rest),
        _ => hex4(b),
    }
}

/// A parsed characteristic value. JavaScript sees `{ kind: "heartRate", value: {...} }`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Measurement {
    /// 0x2A37.
    HeartRate(heart_rate::HeartRateMeasurement),
    /// 0x2A35.
    BloodPressure(blood_pressure::BloodPressureMeasurement),
    /// 0x2A36.
    IntermediateCuffPressure(intermediate_cuff_pressure::IntermediateCuffPressure),
    /// 0x2A1C.
    Temperature(temperature_measurement::TemperatureMeasurement),
    /// 0x2A1D.
    TemperatureType(temperature_type::TemperatureType),
    /// 0x2A9D.
    Weight(weight_measurement::WeightMeasurement),
    /// 0x2A9E.
    WeightScaleFeature(weight_scale_feature::WeightScaleFeature),
    /// 0x2A18.
    Glucose(glucose_measurement::GlucoseMeasurement),
    /// 0x2A34.
    GlucoseContext(glucose_context::GlucoseContext),
    /// 0x2A52, as the meter indicates it (responses; requests are encoded, see [`racp`]).
    RacpResponse(racp::RacpResponse),
    /// 0x2A5E.
    PlxSpotCheck(plx_spot_check::PlxSpotCheck),
    /// 0x2A5F.
    PlxContinuous(plx_continuous::PlxContinuous),
    /// 0x2A60.
    PlxFeatures(plx_features::PlxFeatures),
    /// 0x2A19, percent 0–100.
    BatteryLevel(u8),
    /// 0x2A08.
    DateTime(DateTime),
    /// 0x2A29.
    ManufacturerName(String),
    /// 0x2A24.
    ModelNumber(String),
    /// 0x2A25.
    SerialNumber(String),
    /// 0x2A27.
    HardwareRevision(String),
    /// 0x2A26.
    FirmwareRevision(String),
    /// 0x2A28.
    SoftwareRevision(String),
    /// 0x2A23.
    SystemId(system_id::SystemId),
    /// 0x2A50.
    PnpId(pnp_id::PnpId),
}

/// The `kind` of each [`Measurement`] variant, in declaration order (serde's camelCase
/// variant names).
const KIND_NAMES: [&str; 23] = [
    "heartRate",
    "bloodPressure",
    "intermediateCuffPressure",
    "temperature",
    "temperatureType",
    "weight",
    "weightScaleFeature",
    "glucose",
    "glucoseContext",
    "racpResponse",
    "plxSpotCheck",
    "plxContinuous",
    "plxFeatures",
    "batteryLevel",
    "dateTime",
    "manufacturerName",
    "modelNumber",
    "serialNumber",
    "hardwareRevision",
    "firmwareRevision",
    "softwareRevision",
    "systemId",
    "pnpId",
];

/// What `#[serde(tag = "kind", content = "value")]` writes as the tag: the variant as a unit
/// variant of `Measurement`.
struct KindTag(u32);

impl Serialize for KindTag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let name = KIND_NAMES.get(self.0 as usize).copied().unwrap_or_default();
        s.serialize_unit_variant("Measurement", self.0, name)
    }
}

/// Written by hand rather than derived: the output is exactly the derive's
/// (`#[serde(tag = "kind", content = "value", rename_all = "camelCase")]`, pinned by
/// tests/devices/spec_vectors.rs), but the derive repeats the struct start, the tag and the
/// struct end in each of the 23 arms (~4 KB of wasm); here they are written once and only
/// the value differs per arm.
impl Serialize for Measurement {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use Measurement as M;
        use serde::ser::SerializeStruct;
        let index = match self {
            M::HeartRate(_) => 0,
            M::BloodPressure(_) => 1,
            M::IntermediateCuffPressure(_) => 2,
            M::Temperature(_) => 3,
            M::TemperatureType(_) => 4,
            M::Weight(_) => 5,
            M::WeightScaleFeature(_) => 6,
            M::Glucose(_) => 7,
            M::GlucoseContext(_) => 8,
            M::RacpResponse(_) => 9,
            M::PlxSpotCheck(_) => 10,
            M::PlxContinuous(_) => 11,
            M::PlxFeatures(_) => 12,
            M::BatteryLevel(_) => 13,
            M::DateTime(_) => 14,
            M::ManufacturerName(_) => 15,
            M::ModelNumber(_) => 16,
            M::SerialNumber(_) => 17,
            M::HardwareRevision(_) => 18,
            M::FirmwareRevision(_) => 19,
            M::SoftwareRevision(_) => 20,
            M::SystemId(_) => 21,
            M::PnpId(_) => 22,
        };
        let mut st = s.serialize_struct("Measurement", 2)?;
        st.serialize_field("kind", &KindTag(index))?;
        match self {
            M::HeartRate(x) => st.serialize_field("value", x)?,
            M::BloodPressure(x) => st.serialize_field("value", x)?,
            M::IntermediateCuffPressure(x) => st.serialize_field("value", x)?,
            M::Temperature(x) => st.serialize_field("value", x)?,
            M::TemperatureType(x) => st.serialize_field("value", x)?,
            M::Weight(x) => st.serialize_field("value", x)?,
            M::WeightScaleFeature(x) => st.serialize_field("value", x)?,
            M::Glucose(x) => st.serialize_field("value", x)?,
            M::GlucoseContext(x) => st.serialize_field("value", x)?,
            M::RacpResponse(x) => st.serialize_field("value", x)?,
            M::PlxSpotCheck(x) => st.serialize_field("value", x)?,
            M::PlxContinuous(x) => st.serialize_field("value", x)?,
            M::PlxFeatures(x) => st.serialize_field("value", x)?,
            M::BatteryLevel(x) => st.serialize_field("value", x)?,
            M::DateTime(x) => st.serialize_field("value", x)?,
            M::ManufacturerName(x) => st.serialize_field("value", x)?,
            M::ModelNumber(x) => st.serialize_field("value", x)?,
            M::SerialNumber(x) => st.serialize_field("value", x)?,
            M::HardwareRevision(x) => st.serialize_field("value", x)?,
            M::FirmwareRevision(x) => st.serialize_field("value", x)?,
            M::SoftwareRevision(x) => st.serialize_field("value", x)?,
            M::SystemId(x) => st.serialize_field("value", x)?,
            M::PnpId(x) => st.serialize_field("value", x)?,
        }
        st.end()
    }
}

/// Parses one characteristic value.
///
/// `characteristic` is anything [`CharacteristicId`] accepts: `0x2A37u16`,
/// `"2a37"`, `"0x2A37"` or `"00002a37-0000-1000-8000-00805f9b34fb"`.
pub fn parse<C: CharacteristicId + ?Sized>(
    characteristic: &C,
    bytes: &[u8],
) -> Result<Measurement, ParseError> {
    parse_known(characteristic.characteristic()?, bytes)
}

/// [`parse`] once the characteristic is known. Not generic, so the wasm holds one copy of
/// this dispatch (≈3 KB) however many identifier types call [`parse`].
fn parse_known(characteristic: Characteristic, bytes: &[u8]) -> Result<Measurement, ParseError> {
    use Characteristic as C;
    use Measurement as M;
    Ok(match characteristic {
        C::HeartRateMeasurement => M::HeartRate(heart_rate::parse(bytes)?),
        C::BloodPressureMeasurement => M::BloodPressure(blood_pressure::parse(bytes)?),
        C::IntermediateCuffPressure => {
            M::IntermediateCuffPressure(intermediate_cuff_pressure::parse(bytes)?)
        }
        C::TemperatureMeasurement => M::Temperature(temperature_measurement::parse(bytes)?),
        C::TemperatureType => M::TemperatureType(temperature_type::parse(bytes)?),
        C::WeightMeasurement => M::Weight(weight_measurement::parse(bytes)?),
        C::WeightScaleFeature => M::WeightScaleFeature(weight_scale_feature::parse(bytes)?),
        C::GlucoseMeasurement => M::Glucose(glucose_measurement::parse(bytes)?),
        C::GlucoseMeasurementContext => M::GlucoseContext(glucose_context::parse(bytes)?),
        C::RecordAccessControlPoint => M::RacpResponse(racp::parse_response(bytes)?),
        C::PlxSpotCheckMeasurement => M::PlxSpotCheck(plx_spot_check::parse(bytes)?),
        C::PlxContinuousMeasurement => M::PlxContinuous(plx_continuous::parse(bytes)?),
        C::PlxFeatures => M::PlxFeatures(plx_features::parse(bytes)?),
        C::BatteryLevel => M::BatteryLevel(battery_level::parse(bytes)?),
        C::DateTime => M::DateTime(date_time::parse(bytes)?),
        c @ C::ManufacturerNameString => M::ManufacturerName(device_information::parse(c, bytes)?),
        c @ C::ModelNumberString => M::ModelNumber(device_information::parse(c, bytes)?),
        c @ C::SerialNumberString => M::SerialNumber(device_information::parse(c, bytes)?),
        c @ C::HardwareRevisionString => M::HardwareRevision(device_information::parse(c, bytes)?),
        c @ C::FirmwareRevisionString => M::FirmwareRevision(device_information::parse(c, bytes)?),
        c @ C::SoftwareRevisionString => M::SoftwareRevision(device_information::parse(c, bytes)?),
        C::SystemId => M::SystemId(system_id::parse(bytes)?),
        C::PnpId => M::PnpId(pnp_id::parse(bytes)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The `Display` text as it was written with `write!`, before `push_message`.
    fn message_reference(e: &ParseError, f: &mut String) -> fmt::Result {
        use fmt::Write as _;
        let c = |c: &Characteristic| (c.name(), c.uuid16());
        match e {
            ParseError::InvalidUuid => f.write_str("not a Bluetooth UUID"),
            ParseError::UnsupportedCharacteristic { uuid16 } => {
                write!(f, "characteristic 0x{uuid16:04X} is not supported")
            }
            ParseError::Truncated {
                characteristic,
                field,
            } => {
                let (n, u) = c(characteristic);
                write!(f, "{n} (0x{u:04X}): payload ends before field `{field}`")
            }
            ParseError::TrailingBytes {
                characteristic,
                count,
            } => {
                let (n, u) = c(characteristic);
                write!(
                    f,
                    "{n} (0x{u:04X}): {count} unexpected byte(s) after the last field"
                )
            }
            ParseError::Reserved {
                characteristic,
                field,
            } => {
                let (n, u) = c(characteristic);
                write!(f, "{n} (0x{u:04X}): field `{field}` holds a reserved value")
            }
            ParseError::Invalid {
                characteristic,
                field,
            } => {
                let (n, u) = c(characteristic);
                write!(f, "{n} (0x{u:04X}): field `{field}` holds an invalid value")
            }
        }
    }

    proptest! {
        #[test]
        fn parse_error_messages_are_what_write_wrote(
            uuid16 in any::<u16>(),
            count in any::<usize>(),
            which in 0..Characteristic::ALL.len(),
        ) {
            let characteristic = Characteristic::ALL[which];
            let field = "flags";
            for e in [
                ParseError::InvalidUuid,
                ParseError::UnsupportedCharacteristic { uuid16 },
                ParseError::Truncated { characteristic, field },
                ParseError::TrailingBytes { characteristic, count },
                ParseError::Reserved { characteristic, field },
                ParseError::Invalid { characteristic, field },
            ] {
                let mut want = String::new();
                message_reference(&e, &mut want).unwrap();
                prop_assert_eq!(e.to_string(), want);
            }
        }
    }

    /// The `str`-slicing implementation `uuid16_from_str` had before it read bytes: the
    /// byte version must answer exactly as it did.
    fn uuid16_reference(s: &str) -> Result<u16, ParseError> {
        const BASE_SUFFIX: &str = "-0000-1000-8000-00805f9b34fb";
        let hex4 = |h: &str| -> Result<u16, ParseError> {
            if h.len() == 4 && h.bytes().all(|b| b.is_ascii_hexdigit()) {
                u16::from_str_radix(h, 16).map_err(|_| ParseError::InvalidUuid)
            } else {
                Err(ParseError::InvalidUuid)
            }
        };
        let b = s.as_bytes();
        if b.len() == 36 {
            let well_formed = b.iter().enumerate().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => *c == b'-',
                _ => c.is_ascii_hexdigit(),
            });
            if !well_formed {
                return Err(ParseError::InvalidUuid);
            }
            let (head, suffix) = s.split_at(8);
            if &head[..4] == "0000" && suffix.eq_ignore_ascii_case(BASE_SUFFIX) {
                return hex4(&head[4..]);
            }
            return Err(ParseError::UnsupportedCharacteristic { uuid16: 0 });
        }
        match s.get(..2) {
            Some("0x" | "0X") => hex4(&s[2..]),
            _ => hex4(s),
        }
    }

    proptest! {
        #[test]
        fn uuid16_from_str_answers_as_the_str_reference(
            s in prop_oneof![
                ".{0,40}",
                "(0[xX])?[0-9a-fA-FgG]{0,5}",
                "0000[0-9a-fA-F]{4}-0000-1000-8000-00805[fF]9[bB]34[fF][bB]",
                "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
                "[0-9a-fé-]{34,37}",
            ]
        ) {
            prop_assert_eq!(uuid16_from_str(&s), uuid16_reference(&s));
        }
    }

    #[test]
    fn characteristics_serialize_as_the_camel_case_derive_did() {
        for (i, c) in Characteristic::ALL.into_iter().enumerate() {
            assert_eq!(c.index(), i, "ALL is in declaration order");
            let variant = format!("{c:?}");
            let mut camel = variant[..1].to_ascii_lowercase();
            camel.push_str(&variant[1..]);
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{camel}\""));
        }
        assert_eq!(
            Characteristic::PlxSpotCheckMeasurement.name(),
            "PLX Spot-Check Measurement"
        );
        assert_eq!(Characteristic::PnpId.name(), "PnP ID");
    }

    #[test]
    fn uuids_resolve_in_every_accepted_form() {
        for s in [
            "2a37",
            "2A37",
            "0x2A37",
            "0X2a37",
            "00002a37-0000-1000-8000-00805f9b34fb",
        ] {
            assert_eq!(
                s.characteristic(),
                Ok(Characteristic::HeartRateMeasurement),
                "{s}"
            );
        }
        assert_eq!(
            "00002A37-0000-1000-8000-00805F9B34FB".characteristic(),
            Ok(Characteristic::HeartRateMeasurement)
        );
        assert_eq!(
            0x2A37u16.characteristic(),
            Ok(Characteristic::HeartRateMeasurement)
        );
        for c in Characteristic::ALL {
            assert_eq!(c.uuid().as_str().characteristic(), Ok(c));
        }
    }

    #[test]
    fn malformed_or_foreign_uuids_are_told_apart() {
        for s in [
            "",
            "2a3",
            "2a377",
            "0x",
            "0x2a3g",
            "heart_rate",
            "é2a37",
            "00002a37-0000-1000-8000-00805f9b34f",
        ] {
            assert_eq!(s.characteristic(), Err(ParseError::InvalidUuid), "{s}");
        }
        let vendor = "6e400001-b5a3-f393-e0a9-e50e24dcca9e";
        assert_eq!(
            vendor.characteristic(),
            Err(ParseError::UnsupportedCharacteristic { uuid16: 0 })
        );
        assert_eq!(
            "180d".characteristic(),
            Err(ParseError::UnsupportedCharacteristic { uuid16: 0x180D })
        );
    }

    #[test]
    fn errors_name_characteristic_and_field() {
        let e = ParseError::Truncated {
            characteristic: Characteristic::HeartRateMeasurement,
            field: "energyExpended",
        };
        assert_eq!(
            e.to_string(),
            "Heart Rate Measurement (0x2A37): payload ends before field `energyExpended`"
        );
        assert_eq!(e.code(), "truncated");
    }
}
