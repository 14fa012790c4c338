//! One device's state machine (`devices::state::DeviceState`): information values become
//! provenance that later readings carry; a glucose record announcing a context waits for it,
//! and is released by the next record, a context for another record, or a dropped link;
//! every reading rebuilds from its raw record to itself; a value that does not parse is a
//! typed error and changes nothing.

#![allow(
    clippy::unwrap_used,
    reason = "tests unwrap: a panic is the failure report"
)]

use proptest::prelude::*;
use teleconsult::Error;
use teleconsult::devices::gatt::racp::{RacpResponse, ResponseCode};
use teleconsult::devices::state::{DeviceOutput, DeviceState};
use teleconsult::devices::{CaptureError, Measurement, ParseError, RawRecord, Reading};

const NOW: u64 = 1_709_624_000_000;
const SYSTEM_ID: [u8; 8] = [1, 2, 3, 4, 5, 0xFE, 0xFF, 0x00];

/// A stored glucose record (mg/dL × 10⁻⁵ kg/L), announcing a context when `context`.
fn glucose(seq: u16, mg_dl: u8, context: bool) -> Vec<u8> {
    let [s0, s1] = seq.to_le_bytes();
    let flags = 0x02 | if context { 0x10 } else { 0 };
    vec![
        flags, s0, s1, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x00, 0x00, mg_dl, 0xB0, 0x11,
    ]
}

/// A Glucose Measurement Context for record `seq`: meal preprandial.
fn context(seq: u16) -> Vec<u8> {
    let [s0, s1] = seq.to_le_bytes();
    vec![0x02, s0, s1, 0x01]
}

fn readings(out: Vec<DeviceOutput>) -> Vec<(Reading, RawRecord)> {
    out.into_iter()
        .filter_map(|o| match o {
            DeviceOutput::Reading(r) => Some(*r),
            _ => None,
        })
        .collect()
}

fn seq_of(r: &Reading) -> u16 {
    match &r.measurement {
        Measurement::Glucose(g) => g.sequence_number,
        m => panic!("not glucose: {m:?}"),
    }
}

#[test]
fn information_values_become_the_provenance_of_later_readings() {
    let mut dev = DeviceState::new("strap".into(), Some("Polar H10".into()));
    assert_eq!(
        dev.handle_value(0x2A23, &SYSTEM_ID, NOW, Some(60)).unwrap(),
        [DeviceOutput::Info]
    );
    assert_eq!(
        dev.handle_value(0x2A19, &[87], NOW, Some(60)).unwrap(),
        [DeviceOutput::Info]
    );
    assert_eq!(
        dev.handle_value(0x2A29, b"Polar", NOW, Some(60)).unwrap(),
        [DeviceOutput::Info]
    );
    assert_eq!(dev.battery(), Some(87));
    assert_eq!(dev.strings()[0].as_deref(), Some("Polar"));
    assert_eq!(dev.name(), Some("Polar H10"));
    let r = readings(
        dev.handle_value(0x2A37, &[0x00, 72], NOW + 1, Some(60))
            .unwrap(),
    );
    let [(reading, raw)] = &r[..] else {
        panic!("one reading")
    };
    assert_eq!(raw.system_id, Some(SYSTEM_ID));
    assert_eq!(raw.utc_offset, Some(60));
    assert_eq!(raw.received_at, NOW + 1);
    assert!(reading.device.system_id.is_some());
    // Parsed once, yet identical to a capture from scratch: a receiver rebuilds the same.
    assert_eq!(raw.capture().unwrap(), *reading);
    // Values that only validate produce nothing.
    assert_eq!(dev.handle_value(0x2A1D, &[0x02], NOW, None).unwrap(), []);
}

#[test]
fn a_glucose_record_waits_for_its_context() {
    let mut dev = DeviceState::new("meter".into(), None);
    assert!(
        readings(
            dev.handle_value(0x2A18, &glucose(1, 95, true), NOW, Some(0))
                .unwrap()
        )
        .is_empty()
    );
    assert!(dev.awaits_glucose_context());
    let r = readings(dev.handle_value(0x2A34, &context(1), NOW, Some(0)).unwrap());
    assert_eq!(r.len(), 1);
    assert!(r[0].0.glucose_context.is_some());
    assert_eq!(r[0].1.glucose_context, Some(context(1)));
    assert_eq!(
        r[0].1.capture().unwrap(),
        r[0].0,
        "the context travels in the raw record"
    );
    assert!(!dev.awaits_glucose_context());
    assert_eq!(dev.last_sequence(), Some(1));
}

#[test]
fn a_waiting_glucose_record_is_released_by_what_comes_next() {
    let mut dev = DeviceState::new("meter".into(), None);
    // The next record: the waiting one goes out first, without a context.
    let _ = dev
        .handle_value(0x2A18, &glucose(1, 95, true), NOW, Some(0))
        .unwrap();
    let r = readings(
        dev.handle_value(0x2A18, &glucose(2, 140, false), NOW, Some(0))
            .unwrap(),
    );
    assert_eq!(r.iter().map(|(r, _)| seq_of(r)).collect::<Vec<_>>(), [1, 2]);
    assert!(r[0].0.glucose_context.is_none());
    // A context for another record: released alone.
    let _ = dev
        .handle_value(0x2A18, &glucose(3, 101, true), NOW, Some(0))
        .unwrap();
    let r = readings(dev.handle_value(0x2A34, &context(9), NOW, Some(0)).unwrap());
    assert_eq!(r.len(), 1);
    assert!(r[0].0.glucose_context.is_none());
    assert_eq!(r[0].1.glucose_context, None);
    // The link drops.
    let _ = dev
        .handle_value(0x2A18, &glucose(4, 99, true), NOW, Some(0))
        .unwrap();
    let (released, _) = dev.release().unwrap();
    assert_eq!(seq_of(&released), 4);
    assert!(dev.release().is_none());
    assert_eq!(dev.last_sequence(), Some(4));
}

#[test]
fn racp_indications_come_out_as_they_are() {
    let mut dev = DeviceState::new("meter".into(), None);
    assert_eq!(
        dev.handle_value(0x2A52, &[0x06, 0x00, 0x01, 0x01], NOW, None)
            .unwrap(),
        [DeviceOutput::Racp(RacpResponse::Response {
            request_op_code: 1,
            code: ResponseCode::Success
        })]
    );
}

#[test]
fn a_value_that_does_not_parse_is_a_typed_error_and_changes_nothing() {
    let mut dev = DeviceState::new("meter".into(), None);
    let _ = dev.handle_value(0x2A23, &SYSTEM_ID, NOW, None).unwrap();
    let _ = dev
        .handle_value(0x2A18, &glucose(1, 95, true), NOW, None)
        .unwrap();
    let before = dev.clone();
    for (uuid, bytes) in [
        (0x2A37u16, &[0x10, 72][..]),
        (0x2A18, &[0x12, 0x01][..]),
        (0x2A34, &[][..]),
        (0x2A23, &[1, 2, 3][..]),
        (0x2A19, &[101][..]),
    ] {
        let e = dev.handle_value(uuid, bytes, NOW, None).unwrap_err();
        assert!(
            matches!(e, Error::Device(CaptureError::Parse { .. })),
            "{e:?}"
        );
        assert_eq!(dev, before);
    }
    assert_eq!(
        dev.handle_value(0x180D, &[0], NOW, None).unwrap_err(),
        Error::Device(CaptureError::Parse {
            error: ParseError::UnsupportedCharacteristic { uuid16: 0x180D }
        })
    );
    assert_eq!(dev, before);
}

proptest! {
    /// Whatever bytes arrive for whichever characteristic: no panic, an error changes
    /// nothing, and every reading that comes out rebuilds from its raw record to itself.
    #[test]
    fn arbitrary_values_never_panic_and_readings_always_rebuild(
        values in proptest::collection::vec(
            (prop_oneof![
                Just(0x2A37u16), Just(0x2A35), Just(0x2A18), Just(0x2A34), Just(0x2A23),
                Just(0x2A50), Just(0x2A9E), Just(0x2A9D), Just(0x2A5E), Just(0x2A1C),
                any::<u16>(),
            ], proptest::collection::vec(any::<u8>(), 0..24)),
            0..40,
        )
    ) {
        let mut dev = DeviceState::new("d".into(), None);
        for (uuid, bytes) in values {
            let before = dev.clone();
            match dev.handle_value(uuid, &bytes, NOW, Some(0)) {
                Ok(out) => {
                    for (reading, raw) in readings(out) {
                        prop_assert_eq!(raw.capture().unwrap(), reading);
                    }
                }
                Err(_) => prop_assert_eq!(&dev, &before),
            }
        }
    }
}
