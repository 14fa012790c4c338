//! [`DeviceState`]: what a source knows about one device, and what each characteristic value
//! it receives turns into — sans-IO.
//!
//! Web Bluetooth and the native bridge (and a native host) feed every value through
//! [`DeviceState::handle_value`], so validation, provenance and ids are identical whichever
//! way the bytes came. Each value is parsed once: a measurement's reading is made from that
//! parse.
//!
//! ```
//! use teleconsult::devices::state::{DeviceOutput, DeviceState};
//!
//! let mut dev = DeviceState::new("strap".into(), None);
//! // System ID first: readings carry it as provenance.
//! dev.handle_value(0x2A23, &[1, 2, 3, 4, 5, 0xFE, 0xFF, 0x00], 1_000, Some(0))?;
//! let out = dev.handle_value(0x2A37, &[0x00, 72], 1_001, Some(0))?;
//! let Some(DeviceOutput::Reading(r)) = out.first() else { panic!("a reading") };
//! assert!(r.0.device.system_id.is_some());
//! # Ok::<(), teleconsult::Error>(())
//! ```

use super::gatt::pnp_id::PnpId;
use super::gatt::racp::RacpResponse;
use super::gatt::weight_scale_feature::WeightScaleFeature;
use super::raw::RawRecord;
use super::{
    CaptureError, Characteristic, CharacteristicId, Measurement, ParseError, Reading, parse,
};
use crate::Error;

/// What one value produced.
#[derive(Clone, Debug, PartialEq)]
pub enum DeviceOutput {
    /// A finished reading and the raw record it is rebuilt from.
    Reading(Box<(Reading, RawRecord)>),
    /// Device information (or battery level) changed.
    Info,
    /// A Record Access Control Point indication.
    Racp(RacpResponse),
}

/// Where a glucose meter's record stands.
#[derive(Clone, Debug, Default, PartialEq)]
enum Glucose {
    /// No record waits.
    #[default]
    Idle,
    /// A record announced a Glucose Measurement Context that has not arrived yet.
    AwaitingContext(Box<(Reading, RawRecord)>),
}

/// Device Information strings, in [`DeviceState::strings`] order, with their `DeviceInfo`
/// names.
pub const STRINGS: [(Characteristic, &str); 6] = [
    (Characteristic::ManufacturerNameString, "manufacturer"),
    (Characteristic::ModelNumberString, "model"),
    (Characteristic::SerialNumberString, "serialNumber"),
    (Characteristic::HardwareRevisionString, "hardwareRevision"),
    (Characteristic::FirmwareRevisionString, "firmwareRevision"),
    (Characteristic::SoftwareRevisionString, "softwareRevision"),
];

/// One device's provenance and pending state.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceState {
    id: String,
    name: Option<String>,
    system_id: Option<[u8; 8]>,
    pnp_id: Option<([u8; 7], PnpId)>,
    weight_feature: Option<(u32, WeightScaleFeature)>,
    strings: [Option<String>; 6],
    battery: Option<u8>,
    glucose: Glucose,
    /// The highest glucose sequence number seen.
    last_sequence: Option<u16>,
}

impl DeviceState {
    /// A device the host knows as `id` (and, where it has one, `name`).
    pub fn new(id: String, name: Option<String>) -> Self {
        Self {
            id,
            name,
            system_id: None,
            pnp_id: None,
            weight_feature: None,
            strings: Default::default(),
            battery: None,
            glucose: Glucose::Idle,
            last_sequence: None,
        }
    }

    // ----- getters ---------------------------------------------------------------------------

    /// The host's id for the device.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The device's advertised name, when the host has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The System ID value (little-endian), once read.
    pub fn system_id(&self) -> Option<[u8; 8]> {
        self.system_id
    }

    /// The PnP ID, once read.
    pub fn pnp_id(&self) -> Option<&PnpId> {
        self.pnp_id.as_ref().map(|(_, p)| p)
    }

    /// The Weight Scale Feature, once read.
    pub fn weight_feature(&self) -> Option<&WeightScaleFeature> {
        self.weight_feature.as_ref().map(|(_, f)| f)
    }

    /// The Device Information strings, in [`STRINGS`] order.
    pub fn strings(&self) -> &[Option<String>; 6] {
        &self.strings
    }

    /// The battery level, percent, once read or notified.
    pub fn battery(&self) -> Option<u8> {
        self.battery
    }

    /// The highest glucose record sequence number seen.
    pub fn last_sequence(&self) -> Option<u16> {
        self.last_sequence
    }

    /// Whether a glucose record waits for its context.
    pub fn awaits_glucose_context(&self) -> bool {
        matches!(self.glucose, Glucose::AwaitingContext(_))
    }

    // ----- inputs ----------------------------------------------------------------------------

    /// One characteristic value with 16-bit UUID `uuid` arrived at `now`; `utc_offset` is the
    /// offset the device clock is taken to run in. Measurements become readings (a glucose
    /// record announcing a context waits for it); information characteristics update the
    /// provenance later readings carry. A value that does not parse is an error and changes
    /// nothing.
    pub fn handle_value(
        &mut self,
        uuid: u16,
        bytes: &[u8],
        now: u64,
        utc_offset: Option<i16>,
    ) -> Result<Vec<DeviceOutput>, Error> {
        use Measurement as M;
        let characteristic = uuid.characteristic()?;
        let mut out = Vec::new();
        match parse(&characteristic, bytes)? {
            M::GlucoseContext(ctx) => {
                // A context for another record leaves the pending one to go out alone.
                if let Glucose::AwaitingContext(mut pending) = core::mem::take(&mut self.glucose) {
                    let (reading, raw) = &mut *pending;
                    if reading.attach_glucose_context(ctx).is_ok() {
                        raw.glucose_context = Some(bytes.to_vec());
                    }
                    out.push(DeviceOutput::Reading(pending));
                }
            }
            M::RacpResponse(r) => out.push(DeviceOutput::Racp(r)),
            M::SystemId(id) => {
                self.system_id = Some(id.bytes);
                out.push(DeviceOutput::Info);
            }
            M::PnpId(p) => {
                let raw = *bytes
                    .first_chunk::<7>()
                    .ok_or_else(|| truncated(characteristic, "pnpId"))?;
                self.pnp_id = Some((raw, p));
                out.push(DeviceOutput::Info);
            }
            M::WeightScaleFeature(f) => {
                let raw = *bytes
                    .first_chunk::<4>()
                    .ok_or_else(|| truncated(characteristic, "weightScaleFeature"))?;
                self.weight_feature = Some((u32::from_le_bytes(raw), f));
                out.push(DeviceOutput::Info);
            }
            M::BatteryLevel(level) => {
                self.battery = Some(level);
                out.push(DeviceOutput::Info);
            }
            M::ManufacturerName(text)
            | M::ModelNumber(text)
            | M::SerialNumber(text)
            | M::HardwareRevision(text)
            | M::FirmwareRevision(text)
            | M::SoftwareRevision(text) => {
                if let Some(i) = STRINGS.iter().position(|(s, _)| *s == characteristic) {
                    if let Some(slot) = self.strings.get_mut(i) {
                        *slot = Some(text);
                    }
                }
                out.push(DeviceOutput::Info);
            }
            // Validated, but nothing a reading needs.
            M::TemperatureType(_) | M::PlxFeatures(_) | M::DateTime(_) => {}
            measurement @ (M::HeartRate(_)
            | M::BloodPressure(_)
            | M::IntermediateCuffPressure(_)
            | M::Temperature(_)
            | M::Weight(_)
            | M::Glucose(_)
            | M::PlxSpotCheck(_)
            | M::PlxContinuous(_)) => {
                let raw = RawRecord {
                    uuid,
                    value: bytes.to_vec(),
                    device_id: self.id.clone(),
                    system_id: self.system_id,
                    pnp_id: self.pnp_id.map(|(b, _)| b.to_vec()),
                    received_at: now,
                    utc_offset,
                    weight_feature: self.weight_feature.map(|(f, _)| f),
                    glucose_context: None,
                };
                let reading = raw.capture_parsed(characteristic, measurement)?;
                // Any record waiting for its context goes out first: the device moved on.
                if let Some(p) = self.release() {
                    out.push(DeviceOutput::Reading(Box::new(p)));
                }
                if let Measurement::Glucose(g) = &reading.measurement {
                    self.last_sequence = Some(
                        self.last_sequence
                            .map_or(g.sequence_number, |s| s.max(g.sequence_number)),
                    );
                    if g.context_follows {
                        self.glucose = Glucose::AwaitingContext(Box::new((reading, raw)));
                        return Ok(out);
                    }
                }
                out.push(DeviceOutput::Reading(Box::new((reading, raw))));
            }
        }
        Ok(out)
    }

    /// The link dropped or a download ended: a glucose record still waiting for its context
    /// is released as it is.
    #[must_use]
    pub fn release(&mut self) -> Option<(Reading, RawRecord)> {
        match core::mem::take(&mut self.glucose) {
            Glucose::AwaitingContext(p) => Some(*p),
            Glucose::Idle => None,
        }
    }
}

/// A value shorter than its characteristic (the parser accepted it, so this cannot happen;
/// a typed error rather than a panic all the same).
fn truncated(characteristic: Characteristic, field: &'static str) -> Error {
    Error::Device(CaptureError::Parse {
        error: ParseError::Truncated {
            characteristic,
            field,
        },
    })
}
