//! Hostile input: arbitrary bytes for every characteristic never panic — not in parsing, not
//! in making a reading, not in the FHIR mapping or serialization — and what parses is stable.

#![allow(
    clippy::unwrap_used,
    reason = "tests unwrap: a panic is the failure report"
)]

use proptest::prelude::*;
use teleconsult::devices::{
    CaptureContext, Characteristic, DeviceIdentity, FhirContext, MderFloat, ParseError, capture,
    civil_from_days, days_from_civil, format_fhir_datetime, parse, to_fhir,
};

fn characteristic() -> impl Strategy<Value = Characteristic> {
    proptest::sample::select(Characteristic::ALL.to_vec())
}

fn context(now: u64, offset: Option<i16>) -> CaptureContext {
    CaptureContext {
        device: DeviceIdentity::new("fuzz"),
        now,
        device_utc_offset_minutes: offset,
        weight_scale_feature: None,
    }
}

fn is_string(c: Characteristic) -> bool {
    use Characteristic as C;
    matches!(
        c,
        C::ManufacturerNameString
            | C::ModelNumberString
            | C::SerialNumberString
            | C::HardwareRevisionString
            | C::FirmwareRevisionString
            | C::SoftwareRevisionString
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_for_any_characteristic_never_panic(
        c in characteristic(),
        bytes in proptest::collection::vec(any::<u8>(), 0..48),
        now in any::<u64>(),
        offset in proptest::option::of(any::<i16>()),
    ) {
        let parsed = parse(&c, &bytes);
        // Deterministic.
        prop_assert_eq!(&parsed, &parse(&c.uuid16(), &bytes));
        if let Ok(m) = &parsed {
            serde_json::to_string(m).unwrap();
        } else if let Err(e) = &parsed {
            let _ = e.to_string();
            serde_json::to_string(e).unwrap();
        }
        if let Ok(r) = capture(&c, &bytes, &context(now, offset)) {
            serde_json::to_string(&r).unwrap();
            let ctx = FhirContext { subject: "Patient/x".into(), device: "Device/y".into(), gateway_device: None };
            for o in to_fhir(&r, &ctx) {
                serde_json::to_string(&o).unwrap();
            }
        }
    }

    #[test]
    fn a_valid_flags_byte_then_noise_never_panics(
        c in characteristic(),
        flags in 0u8..0x20,
        tail in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut bytes = vec![flags];
        bytes.extend(tail);
        let _ = capture(&c, &bytes, &context(1_709_624_000_000, Some(60)));
    }

    #[test]
    fn fixed_layouts_reject_one_extra_byte(
        c in characteristic().prop_filter("strings have no fixed end", |c| !is_string(*c)),
        bytes in proptest::collection::vec(any::<u8>(), 0..32),
        extra in any::<u8>(),
    ) {
        // Once the flags are read the layout is fixed (an RR list grows only by whole
        // intervals, a RACP record count only from 16 to 32 bits), so one more byte is always
        // a trailing byte.
        if parse(&c, &bytes).is_ok() {
            let mut longer = bytes.clone();
            longer.push(extra);
            let e = parse(&c, &longer).unwrap_err();
            prop_assert!(matches!(e, ParseError::TrailingBytes { count: 1, .. }), "{:?}", e);
        }
    }

    #[test]
    fn every_sfloat_and_float_is_a_finite_number_or_special(raw16 in any::<u16>(), raw32 in any::<u32>()) {
        for f in [MderFloat::from_sfloat(raw16), MderFloat::from_float(raw32)] {
            if let Some(d) = f.value() {
                prop_assert!(d.to_f64().is_finite());
            }
        }
    }

    #[test]
    fn dates_round_trip_and_formatting_never_panics(days in -1_000_000i64..3_000_000, ms in any::<i64>(), off in any::<i16>()) {
        let (y, m, d) = civil_from_days(days);
        prop_assert_eq!(days_from_civil(y, m, d), days);
        let _ = format_fhir_datetime(ms, off);
    }
}
