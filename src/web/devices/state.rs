//! The JavaScript form of the core device state machine ([`crate::devices::state`]): the
//! `DeviceInfo` object and the events a batch of outputs becomes. Web Bluetooth and the
//! native bridge both feed values to [`DeviceState::handle_value`].

use wasm_bindgen::prelude::*;

use super::set;
use crate::devices::gatt::system_id::SystemId;
use crate::devices::state::{DeviceOutput, DeviceState, STRINGS};
use crate::web::js;

/// The `DeviceInfo` object.
pub(super) fn info_js(state: &DeviceState) -> JsValue {
    let o = js::object(&[("id", state.id().into())]);
    if let Some(n) = state.name() {
        set(&o, "name", n);
    }
    for ((_, key), value) in STRINGS.iter().zip(state.strings()) {
        if let Some(v) = value {
            set(&o, key, v.as_str());
        }
    }
    if let Some(b) = state.system_id() {
        set(&o, "systemId", SystemId { bytes: b }.eui64());
    }
    if let Some(p) = state.pnp_id() {
        set(&o, "pnpId", js::to_value(p));
    }
    if let Some(level) = state.battery() {
        set(&o, "batteryLevel", level);
    }
    if let Some(f) = state.weight_feature() {
        set(&o, "weightScaleFeature", js::to_value(f));
    }
    o.into()
}

/// The events a batch of outputs becomes, built while the state is borrowed and dispatched
/// after the borrow ends.
pub(super) fn events_of(
    state: &DeviceState,
    outputs: &[DeviceOutput],
    fhir: Option<&super::FhirOptions>,
) -> Vec<(&'static str, JsValue)> {
    outputs
        .iter()
        .map(|o| match o {
            DeviceOutput::Reading(r) => ("reading", super::reading_detail(&r.0, &r.1, fhir).into()),
            DeviceOutput::Info => (
                "deviceinfo",
                js::object(&[("device", info_js(state))]).into(),
            ),
            DeviceOutput::Racp(r) => (
                "racp",
                js::object(&[
                    ("deviceId", state.id().into()),
                    ("response", js::to_value(r)),
                ])
                .into(),
            ),
        })
        .collect()
}
