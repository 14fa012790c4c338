#![no_main]
//! Arbitrary bytes into every GATT parser, through readings and the FHIR mapping: no panic.
//! The first byte picks the characteristic and capture settings; the rest is the payload.
//! Whatever parses must be rejected with exactly one trailing byte appended (fixed layouts),
//! and RACP requests that parse must re-encode to the same bytes.
use libfuzzer_sys::fuzz_target;
use teleconsult::devices::gatt::racp;
use teleconsult::devices::{
    CaptureContext, Characteristic, DeviceIdentity, FhirContext, ParseError, capture, parse,
    to_fhir,
};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let all = Characteristic::ALL;
    let c = all[usize::from(selector) % all.len()];
    if let Ok(m) = parse(&c, payload) {
        let _ = format!("{m:?}");
        let is_string = matches!(
            c,
            Characteristic::ManufacturerNameString
                | Characteristic::ModelNumberString
                | Characteristic::SerialNumberString
                | Characteristic::HardwareRevisionString
                | Characteristic::FirmwareRevisionString
                | Characteristic::SoftwareRevisionString
        );
        if !is_string && payload.len() < 600 {
            let mut longer = payload.to_vec();
            longer.push(0);
            assert!(matches!(
                parse(&c, &longer),
                Err(ParseError::TrailingBytes { count: 1, .. })
            ));
        }
    }
    let ctx = CaptureContext {
        device: DeviceIdentity::new("fuzz"),
        now: 1_709_624_000_000u64.wrapping_add(u64::from(selector) << 40),
        device_utc_offset_minutes: (selector & 0x80 != 0).then_some(i16::from(selector as i8) * 15),
        weight_scale_feature: None,
    };
    if let Ok(r) = capture(&c, payload, &ctx) {
        let fhir = FhirContext {
            subject: "Patient/p".into(),
            device: "Device/d".into(),
            gateway_device: None,
        };
        let _ = to_fhir(&r, &fhir);
    }
    if let Ok(req) = racp::parse_request(payload) {
        assert_eq!(req.encode().as_deref(), Ok(payload));
    }
});
