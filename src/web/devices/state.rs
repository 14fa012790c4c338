//! What a source knows about one device, and what each characteristic value it receives
//! turns into. Web Bluetooth and the native bridge both feed values through [`DeviceState::ingest`],
//! so validation, provenance and ids are identical whichever way the bytes came.

use wasm_bindgen::prelude::*;

use super::raw::RawRecord;
use super::set;
use super::{OffsetChoice, to_js};
use crate::Error;
use crate::devices::gatt::pnp_id::PnpId;
use crate::devices::gatt::racp::RacpResponse;
use crate::devices::gatt::system_id::SystemId;
use crate::devices::gatt::weight_scale_feature::WeightScaleFeature;
use crate::devices::{Characteristic, CharacteristicId, Measurement, Reading, parse};
use crate::web::js;

/// What one value produced.
pub(super) enum Output {
    /// A finished reading.
    Reading(Box<(Reading, RawRecord)>),
    /// Device information (or battery level) changed.
    Info,
    /// A Record Access Control Point indication.
    Racp(RacpResponse),
}

/// One device's provenance and pending state.
pub(super) struct DeviceState {
    pub id: String,
    pub name: Option<String>,
    system_id: Option<[u8; 8]>,
    pnp_id: Option<([u8; 7], PnpId)>,
    weight_feature: Option<(u32, WeightScaleFeature)>,
    strings: [Option<String>; 6],
    pub battery: Option<u8>,
    /// A glucose record whose context is announced but has not arrived.
    pending_glucose: Option<(Reading, RawRecord)>,
    /// The highest glucose sequence number seen.
    pub last_sequence: Option<u16>,
}

/// Device Information strings, in `strings` order.
const STRINGS: [(Characteristic, &str); 6] = [
    (Characteristic::ManufacturerNameString, "manufacturer"),
    (Characteristic::ModelNumberString, "model"),
    (Characteristic::SerialNumberString, "serialNumber"),
    (Characteristic::HardwareRevisionString, "hardwareRevision"),
    (Characteristic::FirmwareRevisionString, "firmwareRevision"),
    (Characteristic::SoftwareRevisionString, "softwareRevision"),
];

impl DeviceState {
    pub fn new(id: String, name: Option<String>) -> Self {
        Self {
            id,
            name,
            system_id: None,
            pnp_id: None,
            weight_feature: None,
            strings: Default::default(),
            battery: None,
            pending_glucose: None,
            last_sequence: None,
        }
    }

    /// Parses one value and updates the state. Measurements become readings (a glucose
    /// record announcing a context waits for it); information characteristics update the
    /// provenance that later readings carry.
    pub fn ingest(
        &mut self,
        uuid: u16,
        bytes: &[u8],
        now: u64,
        offset: OffsetChoice,
    ) -> Result<Vec<Output>, Error> {
        use Measurement as M;
        let characteristic = uuid.characteristic()?;
        let mut out = Vec::new();
        // One parse for every kind of value (a measurement is parsed again by `capture`,
        // with the same result): one call site and one match keep the wasm small.
        match parse(&characteristic, bytes)? {
            M::GlucoseContext(ctx) => {
                // A context for another record leaves the pending one to go out alone.
                if let Some((mut reading, mut raw)) = self.pending_glucose.take() {
                    if reading.attach_glucose_context(ctx).is_ok() {
                        raw.glucose_context = Some(bytes.to_vec());
                    }
                    out.push(Output::Reading(Box::new((reading, raw))));
                }
            }
            M::RacpResponse(r) => out.push(Output::Racp(r)),
            M::SystemId(id) => {
                self.system_id = Some(id.bytes);
                out.push(Output::Info);
            }
            M::PnpId(p) => {
                let raw =
                    <[u8; 7]>::try_from(bytes).map_err(|_| Error::InvalidArgument("pnpId"))?;
                self.pnp_id = Some((raw, p));
                out.push(Output::Info);
            }
            M::WeightScaleFeature(f) => {
                let raw = <[u8; 4]>::try_from(bytes)
                    .map_err(|_| Error::InvalidArgument("weightScaleFeature"))?;
                self.weight_feature = Some((u32::from_le_bytes(raw), f));
                out.push(Output::Info);
            }
            M::BatteryLevel(level) => {
                self.battery = Some(level);
                out.push(Output::Info);
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
                out.push(Output::Info);
            }
            // Validated, but nothing a reading needs.
            M::TemperatureType(_) | M::PlxFeatures(_) | M::DateTime(_) => {}
            M::HeartRate(_)
            | M::BloodPressure(_)
            | M::IntermediateCuffPressure(_)
            | M::Temperature(_)
            | M::Weight(_)
            | M::Glucose(_)
            | M::PlxSpotCheck(_)
            | M::PlxContinuous(_) => {
                let raw = RawRecord {
                    uuid,
                    value: bytes.to_vec(),
                    device_id: self.id.clone(),
                    system_id: self.system_id,
                    pnp_id: self.pnp_id.map(|(b, _)| b.to_vec()),
                    received_at: now,
                    utc_offset: offset.now(),
                    weight_feature: self.weight_feature.map(|(f, _)| f),
                    glucose_context: None,
                };
                let reading = raw.capture()?;
                // Any record waiting for its context goes out first: the device moved on.
                if let Some(p) = self.pending_glucose.take() {
                    out.push(Output::Reading(Box::new(p)));
                }
                if let Measurement::Glucose(g) = &reading.measurement {
                    self.last_sequence = Some(
                        self.last_sequence
                            .map_or(g.sequence_number, |s| s.max(g.sequence_number)),
                    );
                    if g.context_follows {
                        self.pending_glucose = Some((reading, raw));
                        return Ok(out);
                    }
                }
                out.push(Output::Reading(Box::new((reading, raw))));
            }
        }
        Ok(out)
    }

    /// A glucose record still waiting for its context, released (the link dropped or a
    /// download ended).
    pub fn flush(&mut self) -> Option<(Reading, RawRecord)> {
        self.pending_glucose.take()
    }

    /// The `DeviceInfo` object.
    pub fn info_js(&self) -> JsValue {
        let o = js::object(&[("id", self.id.as_str().into())]);
        if let Some(n) = &self.name {
            set(&o, "name", n.as_str());
        }
        for ((_, key), value) in STRINGS.iter().zip(&self.strings) {
            if let Some(v) = value {
                set(&o, key, v.as_str());
            }
        }
        if let Some(b) = self.system_id {
            set(&o, "systemId", SystemId { bytes: b }.eui64());
        }
        if let Some((_, p)) = &self.pnp_id {
            set(&o, "pnpId", to_js(p));
        }
        if let Some(level) = self.battery {
            set(&o, "batteryLevel", level);
        }
        if let Some((_, f)) = &self.weight_feature {
            set(&o, "weightScaleFeature", to_js(f));
        }
        o.into()
    }
}

/// The events a batch of outputs becomes, built while the state is borrowed and dispatched
/// after the borrow ends.
pub(super) fn events_of(
    state: &DeviceState,
    outputs: &[Output],
    fhir: Option<&super::FhirOptions>,
) -> Vec<(&'static str, JsValue)> {
    outputs
        .iter()
        .map(|o| match o {
            Output::Reading(r) => ("reading", super::reading_detail(&r.0, &r.1, fhir).into()),
            Output::Info => (
                "deviceinfo",
                js::object(&[("device", state.info_js())]).into(),
            ),
            Output::Racp(r) => (
                "racp",
                js::object(&[
                    ("deviceId", state.id.as_str().into()),
                    ("response", to_js(r)),
                ])
                .into(),
            ),
        })
        .collect()
}
