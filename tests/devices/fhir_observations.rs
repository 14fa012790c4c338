//! Readings become FHIR R4 Observations per the PHD IG; the JSON is compared with reviewed
//! fixtures in tests/data/devices/. Regenerate them with `UPDATE_FIXTURES=1` and review the
//! diff by hand.

#![allow(
    clippy::unwrap_used,
    reason = "tests unwrap: a panic is the failure report"
)]

use serde_json::Value;
use teleconsult::devices::{CaptureContext, DeviceIdentity, FhirContext, capture, to_fhir};

/// 2024-03-05T07:33:20Z.
const NOW: u64 = 1_709_624_000_000;

/// (fixture file, characteristic, bytes, device UTC offset)
const CASES: &[(&str, &str, &[u8], Option<i16>)] = &[
    // 121/81/106 mmHg at 2024-03-05 08:30:15 (+01:00), pulse 72, irregular pulse.
    (
        "blood_pressure.json",
        "2a35",
        &[
            0x16, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F,
            0x48, 0x00, 0x04, 0x00,
        ],
        Some(60),
    ),
    // 16.0 / 10.7 kPa, mean unavailable (NaN), no time stamp, no offset known.
    (
        "blood_pressure_kpa_nan_mean.json",
        "2a35",
        &[0x01, 0xA0, 0xF0, 0x6B, 0xF0, 0xFF, 0x07],
        None,
    ),
    // 72 /min, no time stamp.
    ("heart_rate.json", "2a37", &[0x06, 0x48], Some(60)),
    // 98.6 °F, tympanum, timestamp.
    (
        "temperature_tympanum.json",
        "2a1c",
        &[
            0x07, 0xDA, 0x03, 0x00, 0xFF, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F, 0x09,
        ],
        Some(60),
    ),
    // +INF: above the thermometer's range.
    (
        "temperature_positive_infinity.json",
        "2a1c",
        &[0x00, 0xFE, 0xFF, 0x7F, 0x00],
        Some(0),
    ),
    // 72.16 kg, BMI 23.4, 1.71 m.
    (
        "weight_bmi_height.json",
        "2a9d",
        &[0x08, 0x60, 0x38, 0xEA, 0x00, 0xAE, 0x06],
        Some(0),
    ),
    // 159.1 lb, BMI 23.4, 70.0 in.
    (
        "weight_imperial.json",
        "2a9d",
        &[0x09, 0x26, 0x3E, 0xEA, 0x00, 0xBC, 0x02],
        Some(-300),
    ),
    // 95 mg/dL capillary whole blood, record 1, 07:45 + 15 min at +01:00.
    (
        "glucose_mg_dl.json",
        "2a18",
        &[
            0x03, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x0F, 0x00, 0x5F, 0xB0,
            0x11,
        ],
        Some(60),
    ),
    // 5.5 mmol/L venous plasma, clock unknown.
    (
        "glucose_mmol_l.json",
        "2a18",
        &[0x06, 0x02, 0x00, 0, 0, 0, 0, 0, 0, 0, 0x37, 0xC0, 0x24],
        Some(60),
    ),
    // Control solution: labelled HTEST.
    (
        "glucose_control_solution.json",
        "2a18",
        &[
            0x02, 0x03, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x5F, 0xB0, 0x4A,
        ],
        Some(60),
    ),
    // Spot check 97 % / pulse NaN, demonstration data, clock not set.
    (
        "spo2_spot_check_demo.json",
        "2a5e",
        &[
            0x13, 0x61, 0x00, 0xFF, 0x07, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F, 0x00, 0x04,
        ],
        Some(60),
    ),
    // Continuous 98 % / 65 /min, measurement ongoing → preliminary.
    (
        "spo2_continuous.json",
        "2a5f",
        &[0x04, 0x62, 0x00, 0x41, 0x00, 0x20, 0x00],
        Some(60),
    ),
];

fn fhir_ctx() -> FhirContext {
    FhirContext {
        subject: "Patient/p1".into(),
        device: "Device/d1".into(),
        gateway_device: Some("Device/gateway".into()),
    }
}

fn observations(uuid: &str, bytes: &[u8], offset: Option<i16>) -> Value {
    let ctx = CaptureContext {
        device: DeviceIdentity::new("dev-1"),
        now: NOW,
        device_utc_offset_minutes: offset,
        weight_scale_feature: None,
    };
    let reading = capture(uuid, bytes, &ctx).unwrap();
    serde_json::to_value(to_fhir(&reading, &fhir_ctx())).unwrap()
}

#[test]
fn observations_match_the_reviewed_fixtures() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/devices");
    let update = std::env::var_os("UPDATE_FIXTURES").is_some();
    for (file, uuid, bytes, offset) in CASES {
        let got = observations(uuid, bytes, *offset);
        let path = dir.join(file);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
            continue;
        }
        let want: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(got, want, "{file}");
    }
}

#[test]
fn cuff_pressure_in_progress_is_not_an_observation() {
    assert_eq!(
        observations("2a36", &[0x00, 0x96, 0x00, 0xFF, 0x07, 0xFF, 0x07], Some(0)),
        Value::Array(vec![])
    );
}

#[test]
fn split_observations_have_distinct_conditional_create_identifiers() {
    let v = observations("2a5f", &[0x00, 0x62, 0x00, 0x41, 0x00], Some(0));
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["identifier"][0]["value"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    assert!(ids[0].ends_with("-150456") && ids[1].ends_with("-149530"));
}

#[test]
fn special_values_carry_a_data_absent_reason_and_no_value() {
    for (bytes, code) in [
        ([0x00, 0xFF, 0xFF, 0x7F, 0x00], "not-a-number"),
        ([0x00, 0xFE, 0xFF, 0x7F, 0x00], "positive-infinity"),
        ([0x00, 0x02, 0x00, 0x80, 0x00], "negative-infinity"),
        ([0x00, 0x00, 0x00, 0x80, 0x00], "error"),
        ([0x00, 0x01, 0x00, 0x80, 0x00], "error"),
    ] {
        let v = observations("2a1c", &bytes, Some(0));
        let o = &v[0];
        assert!(o.get("valueQuantity").is_none());
        assert_eq!(o["dataAbsentReason"]["coding"][0]["code"], code);
        assert_eq!(
            o["dataAbsentReason"]["coding"][0]["system"],
            "http://terminology.hl7.org/CodeSystem/data-absent-reason"
        );
    }
}
