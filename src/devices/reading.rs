//! Readings: a parsed measurement with provenance, plausibility warnings and a stable id.
//!
//! [`capture`] is the one entry point the drivers call for every measurement notification
//! or indication — from Web Bluetooth or from a host app's bridge alike.
//!
//! ## The device timestamp
//!
//! BLE health devices stamp measurements with their wall clock (no time zone). The time is
//! used as the effective time only when it is *trusted*: a complete date, no "clock not set"
//! or "time fault" from the device, a UTC offset for the device clock passed in
//! ([`CaptureContext::device_utc_offset_minutes`] — normally the host's own offset, since the
//! phone or computer usually set the device's clock), not more than five minutes after `now`,
//! and not before 2010 (no BLE health device existed; older dates are reset clocks).
//! Otherwise the time received is used, and the reading says so
//! ([`Reading::effective_time_source`], [`DeviceTimestamp::untrusted_reason`]).
//!
//! ## The id
//!
//! `id` is the first 128 bits, in lower-case hex, of SHA-256 over:
//!
//! 1. the domain tag `teleconsult/devices/reading/v1`;
//! 2. the device key — `eui64:` + the System ID when the device exposes one (stable across
//!    browsers, origins and bridges), else `id:` + the host's device id — length-prefixed;
//! 3. the characteristic's 16-bit UUID;
//! 4. the complete raw characteristic value, length-prefixed — which contains the sequence
//!    number and the device timestamp where the device sends them;
//! 5. only when the value has neither a sequence number nor a complete device date: the time
//!    received (u64 milliseconds).
//!
//! So the same stored record, re-sent by the device or downloaded again (even through another
//! host), gets the same id and is de-duplicated; two identical values measured at different
//! times by a device without clock or record numbers stay distinct. All integers are
//! big-endian; lengths are u32. 128 bits keep accidental collisions out of reach for any
//! patient's lifetime of readings while keeping the id short.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::gatt::StatusFlag;
use super::gatt::blood_pressure::PressureUnit;
use super::gatt::glucose_context::GlucoseContext;
use super::gatt::glucose_measurement::{GlucoseUnit, SampleLocation, SampleType};
use super::gatt::heart_rate::SensorContact;
use super::gatt::pnp_id::PnpId;
use super::gatt::system_id::SystemId;
use super::gatt::temperature_measurement::TemperatureUnit;
use super::gatt::weight_measurement::WeightUnit;
use super::gatt::weight_scale_feature::WeightScaleFeature;
use super::{
    Characteristic, CharacteristicId, DateTime, Decimal, MderFloat, Measurement, ParseError, parse,
};

/// Who measured: what the host knows about the device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceIdentity {
    /// The host's id for the device: Web Bluetooth's `BluetoothDevice.id` (per origin and
    /// browser profile, never the MAC address) or the bridge's identifier.
    pub id: String,
    /// System ID (0x2A23), when the device exposes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_id: Option<SystemId>,
    /// PnP ID (0x2A50), when the device exposes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pnp_id: Option<PnpId>,
}

impl DeviceIdentity {
    /// A device known only by the host's id.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            system_id: None,
            pnp_id: None,
        }
    }

    /// The System ID, unless absent or all zero.
    pub fn usable_system_id(&self) -> Option<&SystemId> {
        self.system_id.as_ref().filter(|s| !s.is_unset())
    }
}

/// What [`capture`] needs besides the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureContext {
    /// The device.
    pub device: DeviceIdentity,
    /// When the value arrived: milliseconds since the Unix epoch.
    pub now: u64,
    /// The UTC offset, in minutes east of UTC, that the device clock runs in. Pass the
    /// host's current offset (`-new Date().getTimezoneOffset()`); `None` means unknown, and
    /// then no device timestamp is trusted.
    pub device_utc_offset_minutes: Option<i16>,
    /// The scale's Weight Scale Feature, when read: weights and heights are then checked
    /// against, and trimmed to, the resolution the scale declares.
    pub weight_scale_feature: Option<WeightScaleFeature>,
}

/// Where the effective time comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TimeSource {
    /// The device's trusted timestamp.
    Device,
    /// The time the value was received: the device sent no timestamp or an untrusted one.
    Received,
}

/// Why a device timestamp is not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum UntrustedReason {
    /// Year, month or day is zero ("unknown"): the clock was never set.
    Incomplete,
    /// The device flags its clock as not set.
    ClockNotSet,
    /// The device reports a time fault.
    TimeFault,
    /// No UTC offset for the device clock was given, so the instant is unknown.
    NoUtcOffset,
    /// More than five minutes after the time received.
    InFuture,
    /// Before 2010-01-01: a reset clock.
    TooOld,
}

/// The device's own time stamp of the measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceTimestamp {
    /// The wall-clock time as sent (for glucose, the base time).
    pub date_time: DateTime,
    /// Glucose time offset in minutes, added to `date_time`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_offset_minutes: Option<i16>,
    /// Whether it is used as the effective time.
    pub trusted: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub untrusted_reason: Option<UntrustedReason>,
}

/// A physiologically implausible value: shown, never silently dropped or corrected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Warning {
    /// Heart rate outside 20–300 /min.
    HeartRateOutOfRange,
    /// Pulse rate outside 20–300 /min.
    PulseRateOutOfRange,
    /// SpO2 outside 50–100 %.
    Spo2OutOfRange,
    /// Systolic pressure not above diastolic.
    SystolicNotAboveDiastolic,
    /// Systolic outside 40–300 mmHg.
    SystolicOutOfRange,
    /// Diastolic outside 20–200 mmHg.
    DiastolicOutOfRange,
    /// Body temperature outside 25–45 °C (77–113 °F).
    TemperatureOutOfRange,
    /// Weight outside 0.5–500 kg (1.1–1100 lb).
    WeightOutOfRange,
    /// BMI outside 8–100 kg/m².
    BmiOutOfRange,
    /// Height outside 0.3–2.75 m (12–108 in).
    HeightOutOfRange,
    /// Glucose outside 10–1000 mg/dL (0.55–55.5 mmol/L).
    GlucoseOutOfRange,
    /// The weight is not a multiple of the resolution the scale declares.
    WeightOffResolution,
    /// The height is not a multiple of the resolution the scale declares.
    HeightOffResolution,
}

/// A validated measurement with provenance.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reading {
    /// Stable id for de-duplication (see the module docs for exactly what it covers).
    pub id: String,
    /// The characteristic the value came from.
    pub characteristic: Characteristic,
    /// The parsed value.
    pub measurement: Measurement,
    /// The device.
    pub device: DeviceIdentity,
    /// When the value arrived, ms since the Unix epoch.
    pub received_at: u64,
    /// The device's own time stamp, if it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_timestamp: Option<DeviceTimestamp>,
    /// When the measurement was taken, ms since the Unix epoch.
    pub effective_time: i64,
    /// Where `effective_time` comes from.
    pub effective_time_source: TimeSource,
    /// The UTC offset (minutes) to show `effective_time` in.
    pub utc_offset_minutes: i16,
    /// The device's record number, where it has one (glucose).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u16>,
    /// Status the device reported, plus derived conditions.
    pub flags: Vec<StatusFlag>,
    /// Plausibility warnings.
    pub warnings: Vec<Warning>,
    /// False for demonstration, testing and control-solution data: never present it as the
    /// patient's.
    pub patient_data: bool,
    /// The glucose context, once attached with [`Reading::attach_glucose_context`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub glucose_context: Option<GlucoseContext>,
}

/// Why [`capture`] produced no reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
#[non_exhaustive]
pub enum CaptureError {
    /// The value did not parse.
    Parse {
        /// Why.
        error: ParseError,
    },
    /// The characteristic carries device information, features or control-point traffic,
    /// not a measurement: use [`parse`] for it.
    NotAMeasurement {
        /// The characteristic.
        characteristic: Characteristic,
    },
    /// A glucose context does not belong to this reading (not glucose, or another sequence
    /// number).
    ContextMismatch,
}

impl CaptureError {
    /// A stable, machine-readable code for JavaScript.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Parse { error } => error.code(),
            Self::NotAMeasurement { .. } => "notAMeasurement",
            Self::ContextMismatch => "contextMismatch",
        }
    }
}

impl CaptureError {
    /// Appends the `Display` text to `out`, without the formatting machinery (see
    /// [`crate::Error`]'s message).
    pub(crate) fn push_message(&self, out: &mut String) {
        match self {
            Self::Parse { error } => error.push_message(out),
            Self::NotAMeasurement { characteristic } => {
                out.push_str(characteristic.name());
                out.push_str(" (0x");
                crate::text::push_hex4_upper(out, characteristic.uuid16());
                out.push_str(") is not a measurement");
            }
            Self::ContextMismatch => out.push_str("the glucose context belongs to another record"),
        }
    }
}

impl core::fmt::Display for CaptureError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut out = String::new();
        self.push_message(&mut out);
        f.write_str(&out)
    }
}

impl std::error::Error for CaptureError {}

impl From<ParseError> for CaptureError {
    fn from(error: ParseError) -> Self {
        Self::Parse { error }
    }
}

/// Device timestamps more than this far after `now` are not trusted.
const FUTURE_TOLERANCE_MS: i64 = 5 * 60 * 1000;
/// 2010-01-01T00:00:00Z: earlier device timestamps are reset clocks.
const EARLIEST_TRUSTED_MS: i64 = 1_262_304_000_000;

/// What the measurement-specific part of [`capture`] extracts.
#[derive(Default)]
struct Facts {
    timestamp: Option<DateTime>,
    time_offset: Option<i16>,
    sequence: Option<u16>,
    flags: Vec<StatusFlag>,
    warnings: Vec<Warning>,
}

/// Parses a measurement value and makes a [`Reading`] of it.
pub fn capture<C: CharacteristicId + ?Sized>(
    characteristic: &C,
    bytes: &[u8],
    ctx: &CaptureContext,
) -> Result<Reading, CaptureError> {
    let characteristic = characteristic.characteristic()?;
    let measurement = parse(&characteristic, bytes)?;
    capture_parsed(characteristic, measurement, bytes, ctx)
}

/// [`capture`] of a value already parsed: `measurement` must be what `parse` made of
/// `bytes` for `characteristic` (the device state parses each value once, then captures
/// the measurements among them).
pub(crate) fn capture_parsed(
    characteristic: Characteristic,
    mut measurement: Measurement,
    bytes: &[u8],
    ctx: &CaptureContext,
) -> Result<Reading, CaptureError> {
    let facts =
        facts(&mut measurement, ctx).ok_or(CaptureError::NotAMeasurement { characteristic })?;
    let Facts {
        timestamp,
        time_offset,
        sequence,
        mut flags,
        warnings,
    } = facts;
    // `sort_unstable` + `dedup`, with less wasm (see `sort_dedup_few`).
    crate::sorted_map::sort_dedup_few(&mut flags);

    let now = i64::try_from(ctx.now).unwrap_or(i64::MAX);
    let device_timestamp = timestamp.map(|date_time| {
        let reason = untrusted_reason(
            &date_time,
            time_offset,
            &flags,
            ctx.device_utc_offset_minutes,
            now,
        );
        DeviceTimestamp {
            date_time,
            time_offset_minutes: time_offset,
            trusted: reason.is_none(),
            untrusted_reason: reason,
        }
    });
    let offset = ctx.device_utc_offset_minutes.unwrap_or(0);
    let (effective_time, effective_time_source) = match device_timestamp {
        Some(t) if t.trusted => (
            instant(&t.date_time, t.time_offset_minutes, offset).unwrap_or(now),
            TimeSource::Device,
        ),
        _ => (now, TimeSource::Received),
    };
    let dated = sequence.is_some() || timestamp.is_some_and(|t| t.is_complete());
    let id = reading_id(
        &ctx.device,
        characteristic,
        bytes,
        (!dated).then_some(ctx.now),
    );
    Ok(Reading {
        id,
        characteristic,
        measurement,
        device: ctx.device.clone(),
        received_at: ctx.now,
        device_timestamp,
        effective_time,
        effective_time_source,
        utc_offset_minutes: offset,
        sequence_number: sequence,
        patient_data: !flags.iter().any(|f| f.is_not_patient_data()),
        flags,
        warnings,
        glucose_context: None,
    })
}

impl Reading {
    /// Attaches the Glucose Measurement Context that followed this glucose record. Fails
    /// unless this is a glucose reading with the same sequence number.
    pub fn attach_glucose_context(&mut self, context: GlucoseContext) -> Result<(), CaptureError> {
        match &self.measurement {
            Measurement::Glucose(g) if g.sequence_number == context.sequence_number => {
                self.glucose_context = Some(context);
                Ok(())
            }
            _ => Err(CaptureError::ContextMismatch),
        }
    }
}

/// The instant of a device wall-clock time at a UTC offset.
fn instant(dt: &DateTime, time_offset: Option<i16>, utc_offset: i16) -> Option<i64> {
    let wall = dt.wall_clock_ms()? + i64::from(time_offset.unwrap_or(0)) * 60_000;
    Some(wall - i64::from(utc_offset) * 60_000)
}

fn untrusted_reason(
    dt: &DateTime,
    time_offset: Option<i16>,
    flags: &[StatusFlag],
    utc_offset: Option<i16>,
    now: i64,
) -> Option<UntrustedReason> {
    use UntrustedReason as U;
    if !dt.is_complete() {
        return Some(U::Incomplete);
    }
    if flags.contains(&StatusFlag::DeviceClockNotSet) {
        return Some(U::ClockNotSet);
    }
    if flags.contains(&StatusFlag::TimeFault) {
        return Some(U::TimeFault);
    }
    let Some(offset) = utc_offset else {
        return Some(U::NoUtcOffset);
    };
    match instant(dt, time_offset, offset) {
        None => Some(U::Incomplete),
        Some(t) if t > now.saturating_add(FUTURE_TOLERANCE_MS) => Some(U::InFuture),
        Some(t) if t < EARLIEST_TRUSTED_MS => Some(U::TooOld),
        Some(_) => None,
    }
}

/// The de-duplication id; see the module docs.
pub fn reading_id(
    device: &DeviceIdentity,
    characteristic: Characteristic,
    bytes: &[u8],
    received: Option<u64>,
) -> String {
    let mut h = Sha256::new();
    h.update(b"teleconsult/devices/reading/v1");
    let key = match device.usable_system_id() {
        Some(s) => ["eui64:", &s.eui64()].concat(),
        None => ["id:", &device.id].concat(),
    };
    let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes();
    h.update(len(key.len()));
    h.update(key.as_bytes());
    h.update(characteristic.uuid16().to_be_bytes());
    h.update(len(bytes.len()));
    h.update(bytes);
    if let Some(t) = received {
        h.update(t.to_be_bytes());
    }
    let digest = h.finalize();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(32);
    for b in digest.iter().take(16) {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0F)]));
    }
    out
}

/// Whether a number lies outside `lo..=hi`; special values are never "out of range" (they
/// are already flagged as absent).
fn outside(v: MderFloat, lo: f64, hi: f64) -> bool {
    v.value().is_some_and(|d| {
        let x = d.to_f64();
        !(lo..=hi).contains(&x)
    })
}

fn check_rate(v: Option<MderFloat>, w: Warning, out: &mut Vec<Warning>) {
    if v.is_some_and(|v| outside(v, 20.0, 300.0)) {
        out.push(w);
    }
}

/// Decimals of a resolution step (0.005 → 3, 1 → 0).
fn decimals(step: Decimal) -> i16 {
    0i16.saturating_sub(step.with_decimals(0).exponent).max(0)
}

/// Measurement-specific provenance, flags and warnings; `None` for non-measurements.
fn facts(m: &mut Measurement, ctx: &CaptureContext) -> Option<Facts> {
    let mut f = Facts::default();
    match m {
        Measurement::HeartRate(hr) => {
            if hr.sensor_contact == SensorContact::NotDetected {
                f.flags.push(StatusFlag::NoSensorContact);
            }
            if !(20..=300).contains(&hr.heart_rate) {
                f.warnings.push(Warning::HeartRateOutOfRange);
            }
        }
        Measurement::BloodPressure(bp) => {
            f.timestamp = bp.timestamp;
            f.flags.extend(&bp.status);
            // Thresholds in mmHg; kPa values are compared after conversion.
            let k = if bp.unit == PressureUnit::KPa {
                7.500_62
            } else {
                1.0
            };
            let mmhg = |v: MderFloat| v.value().map(|d| d.to_f64() * k);
            let (sys, dia) = (mmhg(bp.systolic), mmhg(bp.diastolic));
            if let (Some(s), Some(d)) = (sys, dia) {
                if s <= d {
                    f.warnings.push(Warning::SystolicNotAboveDiastolic);
                }
            }
            if sys.is_some_and(|s| !(40.0..=300.0).contains(&s)) {
                f.warnings.push(Warning::SystolicOutOfRange);
            }
            if dia.is_some_and(|d| !(20.0..=200.0).contains(&d)) {
                f.warnings.push(Warning::DiastolicOutOfRange);
            }
            check_rate(bp.pulse_rate, Warning::PulseRateOutOfRange, &mut f.warnings);
        }
        Measurement::IntermediateCuffPressure(icp) => {
            f.timestamp = icp.timestamp;
            f.flags.extend(&icp.status);
        }
        Measurement::Temperature(t) => {
            f.timestamp = t.timestamp;
            let (lo, hi) = match t.unit {
                TemperatureUnit::Celsius => (25.0, 45.0),
                TemperatureUnit::Fahrenheit => (77.0, 113.0),
            };
            if outside(t.temperature, lo, hi) {
                f.warnings.push(Warning::TemperatureOutOfRange);
            }
        }
        Measurement::Weight(w) => {
            f.timestamp = w.timestamp;
            let imperial = w.unit == WeightUnit::Imperial;
            let (lo, hi) = if imperial {
                (1.1, 1100.0)
            } else {
                (0.5, 500.0)
            };
            if outside(w.weight, lo, hi) {
                f.warnings.push(Warning::WeightOutOfRange);
            }
            if w.bmi
                .is_some_and(|b| outside(MderFloat::Value(b), 8.0, 100.0))
            {
                f.warnings.push(Warning::BmiOutOfRange);
            }
            let (lo, hi) = if imperial { (12.0, 108.0) } else { (0.3, 2.75) };
            if w.height
                .is_some_and(|h| outside(MderFloat::Value(h), lo, hi))
            {
                f.warnings.push(Warning::HeightOutOfRange);
            }
            let feature = ctx.weight_scale_feature.as_ref();
            if let (Some(res), MderFloat::Value(d)) =
                (feature.and_then(|x| x.weight_resolution), w.weight)
            {
                let step = res.step(imperial);
                if d.is_multiple_of(step) {
                    w.weight = MderFloat::Value(d.with_decimals(decimals(step)));
                } else {
                    f.warnings.push(Warning::WeightOffResolution);
                }
            }
            if let (Some(res), Some(h)) = (feature.and_then(|x| x.height_resolution), w.height) {
                let step = res.step(imperial);
                if h.is_multiple_of(step) {
                    w.height = Some(h.with_decimals(decimals(step)));
                } else {
                    f.warnings.push(Warning::HeightOffResolution);
                }
            }
        }
        Measurement::Glucose(g) => {
            f.timestamp = Some(g.base_time);
            f.time_offset = g.time_offset;
            f.sequence = Some(g.sequence_number);
            f.flags.extend(&g.status);
            if let Some(c) = &g.concentration {
                if c.sample_type == SampleType::ControlSolution
                    || c.sample_location == SampleLocation::ControlSolution
                {
                    f.flags.push(StatusFlag::ControlSolution);
                }
                let (lo, hi) = match c.unit {
                    GlucoseUnit::KgPerL => (10e-5, 1000e-5),
                    GlucoseUnit::MolPerL => (0.55e-3, 55.5e-3),
                };
                if outside(c.value, lo, hi) {
                    f.warnings.push(Warning::GlucoseOutOfRange);
                }
            }
        }
        Measurement::PlxSpotCheck(s) => {
            f.timestamp = s.timestamp;
            f.flags.extend(&s.status);
            if s.device_clock_not_set {
                f.flags.push(StatusFlag::DeviceClockNotSet);
            }
            if outside(s.spo2, 50.0, 100.0) {
                f.warnings.push(Warning::Spo2OutOfRange);
            }
            check_rate(
                Some(s.pulse_rate),
                Warning::PulseRateOutOfRange,
                &mut f.warnings,
            );
        }
        Measurement::PlxContinuous(c) => {
            f.flags.extend(&c.status);
            if outside(c.normal.spo2, 50.0, 100.0) {
                f.warnings.push(Warning::Spo2OutOfRange);
            }
            check_rate(
                Some(c.normal.pulse_rate),
                Warning::PulseRateOutOfRange,
                &mut f.warnings,
            );
        }
        _ => return None,
    }
    Some(f)
}
