//! One export, `convert`, built three ways (see run.sh): no conversion, serde_json + JSON.parse,
//! serde-wasm-bindgen. Measures what the codec choice costs; not part of the SDK.
use teleconsult::devices::{capture, CaptureContext, DeviceIdentity};
use teleconsult::devices::fhir::{to_fhir, FhirContext};
use wasm_bindgen::prelude::*;
#[derive(serde::Serialize)]
struct Out<'a> { reading: &'a teleconsult::devices::Reading, observations: &'a [teleconsult::devices::fhir::Observation] }
#[wasm_bindgen]
pub fn convert(uuid: u16, bytes: &[u8], now: u64) -> JsValue {
    let ctx = CaptureContext { device: DeviceIdentity::new("device"), now, device_utc_offset_minutes: Some(0), weight_scale_feature: None };
    let Ok(reading) = capture(&uuid, bytes, &ctx) else { return JsValue::NULL };
    let fhir = FhirContext { subject: "Patient/1".into(), device: "Device/1".into(), gateway_device: None };
    let obs = to_fhir(&reading, &fhir);
    let out = Out { reading: &reading, observations: &obs };
    #[cfg(feature = "json")]
    { return js_sys_parse(&serde_json::to_string(&out).unwrap_or_default()); }
    #[cfg(feature = "swb")]
    { return serde_wasm_bindgen::to_value(&out).unwrap_or(JsValue::NULL); }
    #[cfg(not(any(feature = "json", feature = "swb")))]
    { core::hint::black_box(&out); JsValue::from(obs.len() as u32) }
}
#[cfg(feature = "json")]
#[wasm_bindgen]
extern "C" { #[wasm_bindgen(js_namespace = JSON, js_name = parse)] fn js_sys_parse(s: &str) -> JsValue; }
