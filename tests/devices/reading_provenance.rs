//! Readings carry provenance: which device, whether its timestamp is trusted (and why not),
//! when received, status flags, plausibility warnings and a stable de-duplication id that is
//! exactly what the documentation says it is.

#![allow(
    clippy::unwrap_used,
    reason = "tests unwrap: a panic is the failure report"
)]

use sha2::{Digest, Sha256};
use teleconsult::devices::gatt::StatusFlag;
use teleconsult::devices::gatt::system_id::SystemId;
use teleconsult::devices::reading::{TimeSource, UntrustedReason, Warning};
use teleconsult::devices::{
    CaptureContext, CaptureError, Characteristic, Decimal, DeviceIdentity, MderFloat, Measurement,
    ParseError, capture, parse,
};

/// 2024-03-05T07:33:20Z.
const NOW: u64 = 1_709_624_000_000;
/// 2024-03-05T08:30:15 at +01:00 = 07:30:15Z.
const DEVICE_T: i64 = 1_709_623_815_000;

fn ctx(offset: Option<i16>) -> CaptureContext {
    CaptureContext {
        device: DeviceIdentity::new("dev-1"),
        now: NOW,
        device_utc_offset_minutes: offset,
        weight_scale_feature: None,
    }
}

/// Blood pressure 121/81/106 mmHg with a time stamp.
fn bp_at(year: u16, month: u8, day: u8, hours: u8) -> Vec<u8> {
    let [y0, y1] = year.to_le_bytes();
    vec![
        0x02, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, y0, y1, month, day, hours, 0x1E, 0x0F,
    ]
}

#[test]
fn a_trusted_device_timestamp_is_the_effective_time() {
    let r = capture("2a35", &bp_at(2024, 3, 5, 8), &ctx(Some(60))).unwrap();
    assert_eq!(r.effective_time, DEVICE_T);
    assert_eq!(r.effective_time_source, TimeSource::Device);
    assert_eq!(r.utc_offset_minutes, 60);
    let t = r.device_timestamp.unwrap();
    assert!(t.trusted && t.untrusted_reason.is_none());
    assert_eq!(r.received_at, NOW);
}

#[test]
fn untrusted_timestamps_fall_back_to_the_time_received_and_say_why() {
    let cases: &[(Vec<u8>, Option<i16>, UntrustedReason)] = &[
        (bp_at(2024, 3, 5, 8), None, UntrustedReason::NoUtcOffset),
        (bp_at(0, 3, 5, 8), Some(60), UntrustedReason::Incomplete),
        (bp_at(2024, 0, 5, 8), Some(60), UntrustedReason::Incomplete),
        (bp_at(2024, 3, 0, 8), Some(60), UntrustedReason::Incomplete),
        (bp_at(2024, 3, 5, 9), Some(60), UntrustedReason::InFuture), // 08:30:15Z is 57 min ahead
        (bp_at(2005, 1, 1, 0), Some(60), UntrustedReason::TooOld),
    ];
    for (bytes, offset, reason) in cases {
        let r = capture("2a35", bytes, &ctx(*offset)).unwrap();
        assert_eq!(r.effective_time, NOW as i64, "{reason:?}");
        assert_eq!(r.effective_time_source, TimeSource::Received);
        assert_eq!(r.device_timestamp.unwrap().untrusted_reason, Some(*reason));
    }
    // Within the five-minute tolerance for a device clock running slightly fast: trusted.
    let r = capture("2a35", &bp_at(2024, 3, 5, 8), &ctx(Some(50))).unwrap();
    assert_eq!(
        r.effective_time_source,
        TimeSource::Received,
        "07:40:15Z is 6 min 55 s ahead"
    );
    let r = capture("2a35", &bp_at(2024, 3, 5, 8), &ctx(Some(56))).unwrap();
    assert_eq!(
        r.effective_time_source,
        TimeSource::Device,
        "07:34:15Z is 55 s ahead"
    );
}

#[test]
fn a_device_that_says_its_clock_is_not_set_is_not_believed() {
    // PLX spot check: time stamp + clock-not-set flags.
    let bytes = [
        0x11, 0x61, 0x00, 0x48, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F,
    ];
    let r = capture("2a5e", &bytes, &ctx(Some(60))).unwrap();
    assert_eq!(
        r.device_timestamp.unwrap().untrusted_reason,
        Some(UntrustedReason::ClockNotSet)
    );
    assert!(r.flags.contains(&StatusFlag::DeviceClockNotSet));
    assert_eq!(r.effective_time_source, TimeSource::Received);
}

#[test]
fn a_glucose_time_fault_distrusts_the_record_time_and_offsets_apply_otherwise() {
    // Base 2024-03-05 07:45 +15 min offset at +01:00 → 06:00Z... with status time fault (bit 11).
    let faulted = [
        0x09, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x0F, 0x00, 0x00, 0x08,
    ];
    let r = capture("2a18", &faulted, &ctx(Some(60))).unwrap();
    assert_eq!(
        r.device_timestamp.unwrap().untrusted_reason,
        Some(UntrustedReason::TimeFault)
    );
    let fine = [
        0x01, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x0F, 0x00,
    ];
    let r = capture("2a18", &fine, &ctx(Some(60))).unwrap();
    // 07:45 + 15 min = 08:00 local = 07:00Z.
    assert_eq!(r.effective_time, 1_709_622_000_000);
    assert_eq!(r.device_timestamp.unwrap().time_offset_minutes, Some(15));
}

fn documented_id(device_key: &str, uuid16: u16, bytes: &[u8], received: Option<u64>) -> String {
    let mut h = Sha256::new();
    h.update(b"teleconsult/devices/reading/v1");
    h.update((device_key.len() as u32).to_be_bytes());
    h.update(device_key.as_bytes());
    h.update(uuid16.to_be_bytes());
    h.update((bytes.len() as u32).to_be_bytes());
    h.update(bytes);
    if let Some(t) = received {
        h.update(t.to_be_bytes());
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_id_is_exactly_the_documented_hash() {
    // Dated (complete timestamp): no received time.
    let bp = bp_at(2024, 3, 5, 8);
    let r = capture("2a35", &bp, &ctx(Some(60))).unwrap();
    assert_eq!(r.id, documented_id("id:dev-1", 0x2A35, &bp, None));
    assert_eq!(r.id.len(), 32);
    // Undated heart rate: the received time is part of it.
    let hr = [0x00, 0x48];
    let r = capture("2a37", &hr, &ctx(None)).unwrap();
    assert_eq!(r.id, documented_id("id:dev-1", 0x2A37, &hr, Some(NOW)));
    // An incomplete date does not count as dated.
    let zero = bp_at(0, 0, 0, 0);
    let r = capture("2a35", &zero, &ctx(Some(60))).unwrap();
    assert_eq!(r.id, documented_id("id:dev-1", 0x2A35, &zero, Some(NOW)));
    // A System ID replaces the host's id.
    let mut c = ctx(Some(60));
    c.device.system_id = Some(SystemId {
        bytes: [0xC3, 0x77, 0xAD, 0xDE, 0xEE, 0xAB, 0xED, 0xFE],
    });
    let r = capture("2a35", &bp, &c).unwrap();
    assert_eq!(
        r.id,
        documented_id("eui64:FE-ED-AB-EE-DE-AD-77-C3", 0x2A35, &bp, None)
    );
}

#[test]
fn ids_deduplicate_resends_but_not_new_measurements() {
    let bp = bp_at(2024, 3, 5, 8);
    let a = capture("2a35", &bp, &ctx(Some(60))).unwrap();
    let later = CaptureContext {
        now: NOW + 60_000,
        ..ctx(Some(60))
    };
    assert_eq!(
        a.id,
        capture("2a35", &bp, &later).unwrap().id,
        "a re-sent stored measurement"
    );
    let hr = [0x00, 0x48];
    assert_ne!(
        capture("2a37", &hr, &ctx(None)).unwrap().id,
        capture("2a37", &hr, &later).unwrap().id,
        "the same heart rate a minute later is a new reading"
    );
    // Same record through two hosts: equal only when the System ID ties them together.
    let other_host = CaptureContext {
        device: DeviceIdentity::new("bridge-AA:BB"),
        ..ctx(Some(60))
    };
    assert_ne!(a.id, capture("2a35", &bp, &other_host).unwrap().id);
    let sid = Some(SystemId {
        bytes: [1, 2, 3, 4, 5, 6, 7, 8],
    });
    let mut x = ctx(Some(60));
    x.device.system_id = sid;
    let mut y = other_host.clone();
    y.device.system_id = sid;
    assert_eq!(
        capture("2a35", &bp, &x).unwrap().id,
        capture("2a35", &bp, &y).unwrap().id
    );
    // An all-zero System ID identifies nothing and is ignored.
    let mut z = other_host;
    z.device.system_id = Some(SystemId { bytes: [0; 8] });
    assert_eq!(
        capture("2a35", &bp, &z).unwrap().id,
        documented_id("id:bridge-AA:BB", 0x2A35, &bp, None)
    );
}

#[test]
fn implausible_values_are_flagged_not_dropped() {
    let cases: &[(&str, &[u8], &[Warning])] = &[
        ("2a37", &[0x00, 0x48], &[]),
        ("2a37", &[0x00, 19], &[Warning::HeartRateOutOfRange]),
        ("2a37", &[0x01, 0x2D, 0x01], &[Warning::HeartRateOutOfRange]), // 301
        (
            "2a35",
            &[0x00, 0x50, 0x00, 0x5A, 0x00, 0x55, 0x00],
            &[Warning::SystolicNotAboveDiastolic],
        ),
        (
            "2a35",
            &[0x00, 0x5A, 0x00, 0x5A, 0x00, 0x55, 0x00],
            &[Warning::SystolicNotAboveDiastolic],
        ),
        ("2a35", &[0x01, 0xA0, 0xF0, 0x6B, 0xF0, 0x7D, 0xF0], &[]), // 16.0/10.7 kPa = 120/80 mmHg
        (
            "2a35",
            &[0x01, 0x28, 0x00, 0x0A, 0x00, 0x20, 0x00],
            &[Warning::SystolicOutOfRange],
        ), // 40 kPa = 300.02 mmHg
        (
            "2a35",
            &[0x04, 0x79, 0x00, 0x0A, 0x00, 0xFF, 0x07, 0x0A, 0x00],
            &[Warning::DiastolicOutOfRange, Warning::PulseRateOutOfRange],
        ),
        ("2a35", &[0x00, 0xFF, 0x07, 0xFF, 0x07, 0xFF, 0x07], &[]), // specials are not "implausible"
        (
            "2a5e",
            &[0x00, 0x2D, 0x00, 0x48, 0x00],
            &[Warning::Spo2OutOfRange],
        ), // 45 %
        (
            "2a5e",
            &[0x00, 0xE9, 0x03, 0x48, 0x00],
            &[Warning::Spo2OutOfRange],
        ), // 100.1 %
        (
            "2a5f",
            &[0x00, 0x61, 0x00, 0x0A, 0x00],
            &[Warning::PulseRateOutOfRange],
        ),
        (
            "2a1c",
            &[0x00, 0xC8, 0x00, 0x00, 0xFF],
            &[Warning::TemperatureOutOfRange],
        ), // 20.0 °C
        ("2a1c", &[0x01, 0xDA, 0x03, 0x00, 0xFF], &[]), // 98.6 °F
        ("2a9d", &[0x00, 0x50, 0x00], &[Warning::WeightOutOfRange]), // 0.4 kg
        ("2a9d", &[0x00, 0xFF, 0xFF], &[]),
        (
            "2a9d",
            &[0x08, 0x60, 0x38, 0x05, 0x00, 0xAE, 0x06],
            &[Warning::BmiOutOfRange],
        ),
        (
            "2a9d",
            &[0x08, 0x60, 0x38, 0xEA, 0x00, 0xC8, 0x00],
            &[Warning::HeightOutOfRange],
        ), // 0.2 m
        (
            "2a18",
            &[
                0x02, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x05, 0xB0, 0x11,
            ],
            &[Warning::GlucoseOutOfRange],
        ),
        (
            "2a18",
            &[
                0x06, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x37, 0xC0, 0x11,
            ],
            &[],
        ), // 5.5 mmol/L
    ];
    for (uuid, bytes, want) in cases {
        let r = capture(*uuid, bytes, &ctx(Some(0))).unwrap();
        assert_eq!(r.warnings, *want, "{uuid} {bytes:02X?}");
    }
}

#[test]
fn demonstration_testing_and_control_solution_data_are_not_patient_data() {
    let demo = [0x02, 0x61, 0x00, 0x48, 0x00, 0x00, 0x04];
    let testing = [0x02, 0x61, 0x00, 0x48, 0x00, 0x00, 0x08];
    let control = [
        0x02, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x5F, 0xB0, 0x1A,
    ];
    for (uuid, bytes, flag) in [
        ("2a5e", &demo[..], StatusFlag::DemonstrationData),
        ("2a5e", &testing[..], StatusFlag::TestingData),
        ("2a18", &control[..], StatusFlag::ControlSolution),
    ] {
        let r = capture(uuid, bytes, &ctx(Some(0))).unwrap();
        assert!(!r.patient_data, "{flag:?}");
        assert!(r.flags.contains(&flag));
    }
    let r = capture("2a5e", &[0x00, 0x61, 0x00, 0x48, 0x00], &ctx(Some(0))).unwrap();
    assert!(r.patient_data);
}

#[test]
fn status_and_contact_become_flags() {
    let r = capture("2a37", &[0x04, 0x48], &ctx(None)).unwrap();
    assert_eq!(r.flags, [StatusFlag::NoSensorContact]);
    let r = capture(
        "2a35",
        &[0x10, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0x05, 0x00],
        &ctx(None),
    )
    .unwrap();
    assert_eq!(
        r.flags,
        [StatusFlag::BodyMovement, StatusFlag::IrregularPulse]
    );
}

#[test]
fn the_scale_resolution_sets_precision_and_catches_inconsistency() {
    // Feature: weight resolution 3 (0.1 kg / 0.2 lb), height resolution 1 (0.01 m / 1 in).
    let Ok(Measurement::WeightScaleFeature(f)) = parse("2a9e", &[0x98, 0x00, 0x00, 0x00]) else {
        panic!()
    };
    let c = CaptureContext {
        weight_scale_feature: Some(f),
        ..ctx(Some(0))
    };
    // 72.10 kg (14420 steps) and 1.71 m: on the grid, trimmed to the scale's precision.
    let r = capture("2a9d", &[0x08, 0x54, 0x38, 0xEA, 0x00, 0xAE, 0x06], &c).unwrap();
    let Measurement::Weight(w) = &r.measurement else {
        panic!()
    };
    assert_eq!(w.weight, MderFloat::Value(Decimal::new(721, -1)));
    assert_eq!(w.height, Some(Decimal::new(171, -2)));
    assert!(r.warnings.is_empty());
    // 72.16 kg and 1.715 m: finer than the scale claims to resolve.
    let r = capture("2a9d", &[0x08, 0x60, 0x38, 0xEA, 0x00, 0xB3, 0x06], &c).unwrap();
    assert_eq!(
        r.warnings,
        [Warning::WeightOffResolution, Warning::HeightOffResolution]
    );
    // Imperial: 159.2 lb on a 0.2 lb grid.
    let r = capture("2a9d", &[0x01, 0x30, 0x3E], &c).unwrap();
    assert!(r.warnings.is_empty());
    let Measurement::Weight(w) = &r.measurement else {
        panic!()
    };
    assert_eq!(w.weight, MderFloat::Value(Decimal::new(1592, -1)));
}

#[test]
fn only_measurements_make_readings() {
    for (uuid, bytes) in [
        ("2a19", &[50u8][..]),
        ("2a29", b"Acme"),
        ("2a9e", &[0, 0, 0, 0]),
        ("2a52", &[5, 0, 1, 0]),
    ] {
        let e = capture(uuid, bytes, &ctx(None)).unwrap_err();
        assert!(matches!(e, CaptureError::NotAMeasurement { .. }), "{uuid}");
        assert_eq!(e.code(), "notAMeasurement");
    }
    let e = capture("2a37", &[0x01], &ctx(None)).unwrap_err();
    assert_eq!(
        e,
        CaptureError::Parse {
            error: ParseError::Truncated {
                characteristic: Characteristic::HeartRateMeasurement,
                field: "heartRate"
            }
        }
    );
    assert_eq!(e.code(), "truncated");
    assert_eq!(
        capture("bogus", &[0], &ctx(None)).unwrap_err().code(),
        "invalidUuid"
    );
}
