//! The specifications' receiving rules: bits and fields *reserved for future use* (RFU) are
//! ignored on receipt, never a reason to reject a value (Bluetooth Core Specification, Vol 1,
//! Part E, "Reserved for Future Use"; the GATT Specification Supplement marks the bits the
//! tables below set as RFU). For every parser with reserved bits, a value with every reserved
//! bit set parses to exactly the reading the same value gives without them.
//!
//! Reserved *values* of enumerated fields are decided per field (docs/DEVICES.md, "Receiving
//! rules"): where the value only describes a reading, it reads as unknown and the reading
//! stands; those cases are below too. Where the reserved value is the whole value, it is
//! still `reserved` (tests/devices/malformed_payloads.rs).

#![allow(
    clippy::unwrap_used,
    reason = "tests unwrap: a panic is the failure report"
)]

use proptest::prelude::*;
use teleconsult::devices::gatt::racp::RacpResponse;
use teleconsult::devices::{Characteristic as C, Measurement, parse};

/// (what, characteristic, value without reserved bits, the same value with every reserved
/// bit set)
const RESERVED_BITS: &[(&str, C, &[u8], &[u8])] = &[
    (
        // Flags bits 5–7.
        "heart rate: flags",
        C::HeartRateMeasurement,
        &[0x1E, 0x48, 0x10, 0x00, 0x00, 0x04],
        &[0xFE, 0x48, 0x10, 0x00, 0x00, 0x04],
    ),
    (
        // Flags bits 5–7; measurement status bits 6–15.
        "blood pressure: flags and measurement status",
        C::BloodPressureMeasurement,
        &[
            0x1F, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F,
            0x48, 0x00, 0x01, 0x25, 0x00,
        ],
        &[
            0xFF, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F,
            0x48, 0x00, 0x01, 0xE5, 0xFF,
        ],
    ),
    (
        // Same layout as blood pressure.
        "intermediate cuff pressure: flags and measurement status",
        C::IntermediateCuffPressure,
        &[
            0x1C, 0x96, 0x00, 0xFF, 0x07, 0xFF, 0x07, 0x48, 0x00, 0x02, 0x01, 0x00,
        ],
        &[
            0xFC, 0x96, 0x00, 0xFF, 0x07, 0xFF, 0x07, 0x48, 0x00, 0x02, 0xC1, 0xFF,
        ],
    ),
    (
        // Flags bits 3–7.
        "temperature: flags",
        C::TemperatureMeasurement,
        &[
            0x07, 0xDA, 0x03, 0x00, 0xFF, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F, 0x06,
        ],
        &[
            0xFF, 0xDA, 0x03, 0x00, 0xFF, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F, 0x06,
        ],
    ),
    (
        // Flags bits 4–7.
        "weight: flags",
        C::WeightMeasurement,
        &[
            0x0E, 0x60, 0x38, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F, 0x01, 0xEA, 0x00, 0x9C,
            0x06,
        ],
        &[
            0xFE, 0x60, 0x38, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F, 0x01, 0xEA, 0x00, 0x9C,
            0x06,
        ],
    ),
    (
        // Feature bits 10–31.
        "weight scale feature: bits 10-31",
        C::WeightScaleFeature,
        &[0xBF, 0x01, 0x00, 0x00],
        &[0xBF, 0xFD, 0xFF, 0xFF],
    ),
    (
        // Flags bits 5–7; sensor status annunciation bits 12–15.
        "glucose: flags and sensor status annunciation",
        C::GlucoseMeasurement,
        &[
            0x1F, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x05, 0x00, 0x5F, 0xB0,
            0x11, 0x01, 0x00,
        ],
        &[
            0xFF, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x05, 0x00, 0x5F, 0xB0,
            0x11, 0x01, 0xF0,
        ],
    ),
    (
        // Every extended flag (flags bit 7 announces the byte; all eight bits are RFU).
        "glucose context: extended flags",
        C::GlucoseMeasurementContext,
        &[
            0x7F, 0x01, 0x00, 0x01, 0x32, 0xD0, 0x01, 0x51, 0x08, 0x07, 0x32, 0x01, 0x04, 0xA0,
            0x41, 0xF0,
        ],
        &[
            0xFF, 0x01, 0x00, 0xFF, 0x01, 0x32, 0xD0, 0x01, 0x51, 0x08, 0x07, 0x32, 0x01, 0x04,
            0xA0, 0x41, 0xF0,
        ],
    ),
    (
        // Flags bits 5–7; measurement status bits 0–4; device and sensor status bits 16–23.
        "plx spot-check: flags and status",
        C::PlxSpotCheckMeasurement,
        &[
            0x1F, 0x61, 0x00, 0x48, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F, 0x80, 0x04,
            0x20, 0x00, 0x00, 0x32, 0xF0,
        ],
        &[
            0xFF, 0x61, 0x00, 0x48, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F, 0x9F, 0x04,
            0x20, 0x00, 0xFF, 0x32, 0xF0,
        ],
    ),
    (
        // Flags bits 5–7; measurement status bits 0–4; device and sensor status bits 16–23.
        "plx continuous: flags and status",
        C::PlxContinuousMeasurement,
        &[
            0x1F, 0x61, 0x00, 0x48, 0x00, 0x60, 0x00, 0x49, 0x00, 0x62, 0x00, 0x47, 0x00, 0x20,
            0x00, 0x02, 0x00, 0x00, 0x32, 0xF0,
        ],
        &[
            0xFF, 0x61, 0x00, 0x48, 0x00, 0x60, 0x00, 0x49, 0x00, 0x62, 0x00, 0x47, 0x00, 0x3F,
            0x00, 0x02, 0x00, 0xFF, 0x32, 0xF0,
        ],
    ),
    (
        // Supported features bits 8–15; the support fields' reserved bits (measurement
        // status 0–4, device and sensor status 16–23).
        "plx features: features and support fields",
        C::PlxFeatures,
        &[0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0x00],
        &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
    ),
];

/// Characteristics whose definition has no reserved bits or reserved fields (their reserved
/// *values*, if any, are in the tables of this file or of the malformed payloads).
const NO_RESERVED_BITS: &[C] = &[
    C::TemperatureType,
    C::RecordAccessControlPoint,
    C::BatteryLevel,
    C::DateTime,
    C::ManufacturerNameString,
    C::ModelNumberString,
    C::SerialNumberString,
    C::HardwareRevisionString,
    C::FirmwareRevisionString,
    C::SoftwareRevisionString,
    C::SystemId,
    C::PnpId,
];

/// (what, characteristic, a value holding a reserved enumerated value, a value without it that
/// reads the same): reserved values that only describe a reading read as unknown.
const RESERVED_VALUES: &[(&str, C, &[u8], &[u8])] = &[
    (
        "blood pressure: pulse-rate range 3 reads as no range flag",
        C::BloodPressureMeasurement,
        &[0x10, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0x19, 0x00],
        &[0x10, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0x01, 0x00],
    ),
    (
        "cuff pressure: pulse-rate range 3 reads as no range flag",
        C::IntermediateCuffPressure,
        &[0x10, 0x96, 0x00, 0xFF, 0x07, 0xFF, 0x07, 0x1C, 0x00],
        &[0x10, 0x96, 0x00, 0xFF, 0x07, 0xFF, 0x07, 0x04, 0x00],
    ),
    (
        "temperature: type 0 reads as no type",
        C::TemperatureMeasurement,
        &[0x04, 0x6F, 0x01, 0x00, 0xFF, 0x00],
        &[0x00, 0x6F, 0x01, 0x00, 0xFF],
    ),
    (
        "temperature: type 10 reads as no type",
        C::TemperatureMeasurement,
        &[0x04, 0x6F, 0x01, 0x00, 0xFF, 0x0A],
        &[0x00, 0x6F, 0x01, 0x00, 0xFF],
    ),
    (
        "temperature: type 255 reads as no type",
        C::TemperatureMeasurement,
        &[0x04, 0x6F, 0x01, 0x00, 0xFF, 0xFF],
        &[0x00, 0x6F, 0x01, 0x00, 0xFF],
    ),
    (
        "weight scale feature: weight resolution 8 reads as not specified",
        C::WeightScaleFeature,
        &[0x47, 0x00, 0x00, 0x00],
        &[0x07, 0x00, 0x00, 0x00],
    ),
    (
        "weight scale feature: weight resolution 15 reads as not specified",
        C::WeightScaleFeature,
        &[0x78, 0x01, 0x00, 0x00],
        &[0x00, 0x01, 0x00, 0x00],
    ),
    (
        "weight scale feature: height resolution 4 reads as not specified",
        C::WeightScaleFeature,
        &[0x38, 0x02, 0x00, 0x00],
        &[0x38, 0x00, 0x00, 0x00],
    ),
    (
        "weight scale feature: height resolution 7 reads as not specified",
        C::WeightScaleFeature,
        &[0x80, 0x03, 0x00, 0x00],
        &[0x00, 0x00, 0x00, 0x00],
    ),
    (
        "glucose: sample location 0 reads as not available",
        C::GlucoseMeasurement,
        &[
            0x02, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x5F, 0xB0, 0x01,
        ],
        &[
            0x02, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x5F, 0xB0, 0xF1,
        ],
    ),
    (
        "glucose: sample location 5 reads as not available",
        C::GlucoseMeasurement,
        &[
            0x02, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x5F, 0xB0, 0x51,
        ],
        &[
            0x02, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x5F, 0xB0, 0xF1,
        ],
    ),
    (
        "glucose: sample location 14 reads as not available",
        C::GlucoseMeasurement,
        &[
            0x02, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x5F, 0xB0, 0xE1,
        ],
        &[
            0x02, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x5F, 0xB0, 0xF1,
        ],
    ),
    (
        "glucose context: meal 0 reads as no meal",
        C::GlucoseMeasurementContext,
        &[0x42, 0x01, 0x00, 0x00, 0x41, 0xF0],
        &[0x40, 0x01, 0x00, 0x41, 0xF0],
    ),
    (
        "glucose context: meal 6 reads as no meal",
        C::GlucoseMeasurementContext,
        &[0x42, 0x01, 0x00, 0x06, 0x41, 0xF0],
        &[0x40, 0x01, 0x00, 0x41, 0xF0],
    ),
    (
        "glucose context: tester 0 and health 0 read as not available",
        C::GlucoseMeasurementContext,
        &[0x04, 0x01, 0x00, 0x00],
        &[0x04, 0x01, 0x00, 0xFF],
    ),
    (
        "glucose context: tester 4 reads as not available, health stands",
        C::GlucoseMeasurementContext,
        &[0x04, 0x01, 0x00, 0x54],
        &[0x04, 0x01, 0x00, 0x5F],
    ),
    (
        "glucose context: health 6 reads as not available, tester stands",
        C::GlucoseMeasurementContext,
        &[0x04, 0x01, 0x00, 0x61],
        &[0x04, 0x01, 0x00, 0xF1],
    ),
    (
        "glucose context: carbohydrate id 0 drops the carbohydrate entry only",
        C::GlucoseMeasurementContext,
        &[0x03, 0x01, 0x00, 0x00, 0x32, 0xD0, 0x01],
        &[0x02, 0x01, 0x00, 0x01],
    ),
    (
        "glucose context: carbohydrate id 8 drops the carbohydrate entry only",
        C::GlucoseMeasurementContext,
        &[0x03, 0x01, 0x00, 0x08, 0x32, 0xD0, 0x01],
        &[0x02, 0x01, 0x00, 0x01],
    ),
    (
        "glucose context: medication id 0 drops the medication entry only",
        C::GlucoseMeasurementContext,
        &[0x50, 0x01, 0x00, 0x00, 0x04, 0xA0, 0x41, 0xF0],
        &[0x40, 0x01, 0x00, 0x41, 0xF0],
    ),
    (
        "glucose context: medication id 6 (in litres) drops the medication entry only",
        C::GlucoseMeasurementContext,
        &[0x70, 0x01, 0x00, 0x06, 0x04, 0xA0, 0x41, 0xF0],
        &[0x40, 0x01, 0x00, 0x41, 0xF0],
    ),
];

/// The reserved bits of the flags byte (the first byte) of each measurement with flags.
const RESERVED_FLAG_BITS: &[(C, u8)] = &[
    (C::HeartRateMeasurement, 0xE0),
    (C::BloodPressureMeasurement, 0xE0),
    (C::IntermediateCuffPressure, 0xE0),
    (C::TemperatureMeasurement, 0xF8),
    (C::WeightMeasurement, 0xF0),
    (C::GlucoseMeasurement, 0xE0),
    (C::PlxSpotCheckMeasurement, 0xE0),
    (C::PlxContinuousMeasurement, 0xE0),
];

proptest! {
    /// Whatever the payload — valid or not — setting reserved flag bits changes nothing:
    /// the same reading, or the same error.
    #[test]
    fn reserved_flag_bits_never_change_the_outcome(
        which in 0..RESERVED_FLAG_BITS.len(),
        bytes in proptest::collection::vec(any::<u8>(), 1..40),
        set in any::<u8>(),
    ) {
        let (c, reserved) = RESERVED_FLAG_BITS[which];
        let mut with = bytes.clone();
        with[0] |= set & reserved;
        let mut without = bytes;
        without[0] &= !reserved;
        prop_assert_eq!(parse(&c, &with), parse(&c, &without));
    }
}

#[test]
fn every_reserved_bit_is_ignored() {
    for (what, c, clear, all_set) in RESERVED_BITS {
        assert_ne!(clear, all_set, "{what}: the table sets no reserved bit");
        let want = parse(c, clear).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(parse(c, all_set), Ok(want), "{what}");
    }
}

#[test]
fn every_parser_with_reserved_bits_has_a_case() {
    for c in C::ALL {
        let with_case = RESERVED_BITS.iter().any(|(_, m, _, _)| *m == c);
        let without_bits = NO_RESERVED_BITS.contains(&c);
        assert!(
            with_case != without_bits,
            "{}: needs exactly one of a reserved-bits case or a place in NO_RESERVED_BITS",
            c.name()
        );
    }
}

#[test]
fn reserved_values_that_describe_a_reading_read_as_unknown() {
    for (what, c, reserved, plain) in RESERVED_VALUES {
        let want = parse(c, plain).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(parse(c, reserved), Ok(want), "{what}");
    }
}

#[test]
fn the_reserved_bits_change_nothing_in_the_reading_either() {
    // Also through `capture`: the reading (flags, warnings, times) is the same. Only the
    // de-duplication id differs, since it covers the raw value.
    use teleconsult::devices::{CaptureContext, DeviceIdentity, capture};
    let ctx = CaptureContext {
        device: DeviceIdentity::new("dev"),
        now: 1_709_624_000_000,
        device_utc_offset_minutes: Some(60),
        weight_scale_feature: None,
    };
    for (what, c, clear, all_set) in RESERVED_BITS {
        let Ok(a) = capture(c, clear, &ctx) else {
            continue; // not a measurement
        };
        let b = capture(c, all_set, &ctx).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(a.measurement, b.measurement, "{what}");
        assert_eq!(a.flags, b.flags, "{what}");
        assert_eq!(a.warnings, b.warnings, "{what}");
        assert_eq!(a.effective_time, b.effective_time, "{what}");
    }
}

#[test]
fn a_record_count_sent_as_32_bits_is_accepted() {
    let count = |bytes: &[u8]| match parse(&C::RecordAccessControlPoint, bytes) {
        Ok(Measurement::RacpResponse(RacpResponse::NumberOfRecords { count })) => Ok(count),
        other => Err(other),
    };
    // The specification's 16 bits, and the same counts in 32 bits.
    assert_eq!(count(&[0x05, 0x00, 0x0A, 0x00]), Ok(10));
    assert_eq!(count(&[0x05, 0x00, 0x0A, 0x00, 0x00, 0x00]), Ok(10));
    assert_eq!(count(&[0x05, 0x00, 0x00, 0x00, 0x00, 0x00]), Ok(0));
    assert_eq!(count(&[0x05, 0x00, 0xFF, 0xFF, 0x00, 0x00]), Ok(65_535));
    // Above 16 bits, or neither 2 nor 4 bytes: refused (tests/devices/malformed_payloads.rs).
    assert!(count(&[0x05, 0x00, 0x00, 0x00, 0x01, 0x00]).is_err());
    assert!(count(&[0x05, 0x00, 0x0A, 0x00, 0x00]).is_err());
    assert!(count(&[0x05, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x00]).is_err());
}
