//! `DeviceBridge`: where Web Bluetooth is missing (iOS, Android WebView, Firefox, Safari), the
//! host app talks BLE natively and pushes the raw values in; the same parsers, validation,
//! provenance and ids apply, and the same `reading` events come out.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use web_sys::EventTarget;

use super::state::{events_of, info_js};
use super::{
    Events, FhirOptions, OffsetChoice, bytes_of, js_error, opt_time, utc_offset_option, uuid16_of,
};
use crate::Error as CoreError;
use crate::devices::state::DeviceState;
use crate::devices::{CaptureError, ParseError};
use crate::web::Error;
use crate::web::js::{self, get, present};
use crate::web::timer::now_ms;

/// Receives raw characteristic values from a native host app.
///
/// ```js
/// const bridge = new DeviceBridge({ fhir: { subject: 'Patient/123' } });
/// bridge.addEventListener('reading', (e) => show(e.detail.reading));
/// // for every notification, indication or read the native plugin reports:
/// bridge.push({ deviceId, characteristic: '2a37', value: base64OrBytes });
/// ```
#[wasm_bindgen]
pub struct DeviceBridge {
    state: RefCell<BridgeState>,
    events: Events,
}

struct BridgeState {
    /// Devices by the host's id, in first-push order. A `Vec` with a linear search rather
    /// than a `BTreeMap`: a host bridges a handful of devices, and the B-tree's code for
    /// one more key/value pair costs several KB of wasm.
    devices: Vec<(String, DeviceState)>,
    fhir: Option<FhirOptions>,
    offset: OffsetChoice,
    closed: bool,
}

#[wasm_bindgen]
impl DeviceBridge {
    /// A bridge; `options.fhir` attaches FHIR Observations to each `reading` event, and
    /// `options.utcOffsetMinutes` overrides the host's UTC offset for device clocks.
    /// Throws `InvalidArgument` for bad options.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "any")] options: Option<JsValue>,
    ) -> Result<DeviceBridge, JsValue> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let build = || -> Result<DeviceBridge, Error> {
            Ok(DeviceBridge {
                state: RefCell::new(BridgeState {
                    devices: Vec::new(),
                    fhir: FhirOptions::from_js(&get(&options, "fhir"))?,
                    offset: utc_offset_option(&options)?,
                    closed: false,
                }),
                events: Events::new()?,
            })
        };
        build().map_err(js_error)
    }

    /// Pushes one characteristic value: a measurement notification or indication, a Device
    /// Information, System ID, PnP ID, Battery Level or Weight Scale Feature read, or a
    /// Record Access Control Point indication. Push information values first: later
    /// readings carry them as provenance.
    ///
    /// Dispatches `reading` (a glucose record that announces a context waits for it),
    /// `deviceinfo` or `racp` synchronously. Throws `MalformedMeasurement` for bad bytes,
    /// `InvalidArgument` for a bad object or an unsupported characteristic, `InvalidState`
    /// after `close()`.
    pub fn push(
        &self,
        #[wasm_bindgen(unchecked_param_type = "any")] value: JsValue,
    ) -> Result<(), JsValue> {
        let events = self.ingest(&value).map_err(js_error)?;
        for (kind, detail) in events {
            self.events.dispatch(kind, &detail);
        }
        Ok(())
    }

    /// Tells the bridge the device disconnected: a glucose record still waiting for its
    /// context is released as a `reading`.
    pub fn disconnected(&self, #[wasm_bindgen(js_name = deviceId)] device_id: &str) {
        let events = {
            let mut st = self.state.borrow_mut();
            let fhir = st.fhir.clone();
            match st.device_mut(device_id) {
                Some(dev) => dev.release().map(|r| {
                    (
                        "reading",
                        super::reading_detail(&r.0, &r.1, fhir.as_ref()).into(),
                    )
                }),
                None => None,
            }
        };
        if let Some((kind, detail)) = events {
            self.events.dispatch(kind, &detail);
        }
    }

    /// What the bridge knows about a device (from pushed information values).
    #[wasm_bindgen(unchecked_return_type = "any")]
    pub fn device(&self, #[wasm_bindgen(js_name = deviceId)] device_id: &str) -> JsValue {
        self.state
            .borrow()
            .devices
            .iter()
            .find(|(id, _)| id == device_id)
            .map_or(JsValue::UNDEFINED, |(_, dev)| info_js(dev))
    }

    /// Forgets every device; later `push` calls throw `InvalidState`.
    pub fn close(&self) {
        let mut st = self.state.borrow_mut();
        st.closed = true;
        st.devices.clear();
    }

    /// Where this object's events (`DeviceBridgeEventMap`) are dispatched: the TypeScript layer's
    /// `addEventListener` and `removeEventListener` use it, with their options. Not public API.
    #[doc(hidden)]
    #[wasm_bindgen(getter = eventTarget, skip_typescript)]
    pub fn event_target(&self) -> EventTarget {
        self.events.target()
    }
}

impl BridgeState {
    fn device_mut(&mut self, device_id: &str) -> Option<&mut DeviceState> {
        self.devices
            .iter_mut()
            .find(|(id, _)| id == device_id)
            .map(|(_, dev)| dev)
    }
}

impl DeviceBridge {
    fn ingest(&self, value: &JsValue) -> Result<Vec<(&'static str, JsValue)>, Error> {
        if !value.is_object() {
            return Err(Error::InvalidArgument(
                "value: expected { deviceId, characteristic, value }",
            ));
        }
        let device_id = js::string(value, "deviceId")?;
        if device_id.is_empty() || device_id.len() > 256 {
            return Err(Error::InvalidArgument(
                "deviceId: expected 1 to 256 characters",
            ));
        }
        let service = get(value, "service");
        if present(&service) {
            // A vendor service (128-bit, off the Bluetooth base) is still a UUID.
            match uuid16_of(&service, "service: expected a Bluetooth UUID") {
                Ok(_)
                | Err(Error::Core(CoreError::Device(CaptureError::Parse {
                    error: ParseError::UnsupportedCharacteristic { .. },
                }))) => {}
                Err(Error::Core(CoreError::Device(_))) => {
                    return Err(Error::InvalidArgument("service: expected a Bluetooth UUID"));
                }
                Err(e) => return Err(e),
            }
        }
        let uuid = uuid16_of(
            &get(value, "characteristic"),
            "characteristic: expected a Bluetooth UUID",
        )?;
        let bytes = bytes_of(&get(value, "value"), "value: expected BytesLike")?;
        let now = opt_time(value, "receivedAt")?.unwrap_or_else(now_ms);
        let mut st = self.state.borrow_mut();
        if st.closed {
            return Err(CoreError::Signaling(crate::signaling::SignalingError::Closed).into());
        }
        let offset = st.offset;
        let fhir = st.fhir.clone();
        let i = match st.devices.iter().position(|(id, _)| *id == device_id) {
            Some(i) => i,
            None => {
                let dev = DeviceState::new(device_id.clone(), None);
                st.devices.push((device_id, dev));
                st.devices.len() - 1
            }
        };
        // In bounds: `position` found it, or it was just pushed.
        let (_, dev) = &mut st.devices[i];
        let outputs = dev.handle_value(uuid, &bytes, now, offset.now())?;
        Ok(events_of(dev, &outputs, fhir.as_ref()))
    }
}
