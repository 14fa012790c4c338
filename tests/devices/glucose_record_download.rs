//! Downloading stored glucose records through the Record Access Control Point: requests
//! encode to the specification's bytes, the meter's records become readings with their
//! contexts attached, and a second download of the same records de-duplicates by id.

#![allow(
    clippy::unwrap_used,
    reason = "tests unwrap: a panic is the failure report"
)]

use teleconsult::devices::gatt::racp::{
    RacpRequest, RacpResponse, RecordFilter, ResponseCode, parse_request,
};
use teleconsult::devices::{
    CaptureContext, CaptureError, Characteristic, DateTime, DeviceIdentity, Measurement,
    ParseError, Reading, capture, parse,
};

const T: DateTime = DateTime {
    year: 2024,
    month: 3,
    day: 5,
    hours: 8,
    minutes: 30,
    seconds: 15,
};

/// (request, bytes written to the control point)
const REQUESTS: &[(RacpRequest, &[u8])] = &[
    (
        RacpRequest::ReportStoredRecords(RecordFilter::All),
        &[0x01, 0x01],
    ),
    (
        RacpRequest::ReportStoredRecords(RecordFilter::First),
        &[0x01, 0x05],
    ),
    (
        RacpRequest::ReportStoredRecords(RecordFilter::Last),
        &[0x01, 0x06],
    ),
    (
        RacpRequest::ReportStoredRecords(RecordFilter::SequenceAtMost { max: 10 }),
        &[0x01, 0x02, 0x01, 0x0A, 0x00],
    ),
    (
        RacpRequest::ReportStoredRecords(RecordFilter::SequenceAtLeast { min: 0x0105 }),
        &[0x01, 0x03, 0x01, 0x05, 0x01],
    ),
    (
        RacpRequest::ReportStoredRecords(RecordFilter::SequenceRange { min: 3, max: 7 }),
        &[0x01, 0x04, 0x01, 0x03, 0x00, 0x07, 0x00],
    ),
    (
        RacpRequest::ReportStoredRecords(RecordFilter::SequenceRange { min: 7, max: 7 }),
        &[0x01, 0x04, 0x01, 0x07, 0x00, 0x07, 0x00],
    ),
    (
        RacpRequest::ReportStoredRecords(RecordFilter::TimeAtLeast { min: T }),
        &[0x01, 0x03, 0x02, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F],
    ),
    (
        RacpRequest::ReportStoredRecords(RecordFilter::TimeAtMost { max: T }),
        &[0x01, 0x02, 0x02, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F],
    ),
    (
        RacpRequest::ReportStoredRecords(RecordFilter::TimeRange { min: T, max: T }),
        &[
            0x01, 0x04, 0x02, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F, 0xE8, 0x07, 0x03, 0x05,
            0x08, 0x1E, 0x0F,
        ],
    ),
    (
        RacpRequest::DeleteStoredRecords(RecordFilter::All),
        &[0x02, 0x01],
    ),
    (RacpRequest::Abort, &[0x03, 0x00]),
    (
        RacpRequest::ReportNumberOfStoredRecords(RecordFilter::All),
        &[0x04, 0x01],
    ),
    (
        RacpRequest::ReportNumberOfStoredRecords(RecordFilter::SequenceAtLeast { min: 2 }),
        &[0x04, 0x03, 0x01, 0x02, 0x00],
    ),
];

#[test]
fn requests_encode_to_the_specified_bytes_and_back() {
    for (req, bytes) in REQUESTS {
        assert_eq!(req.encode().as_deref(), Ok(*bytes), "{req:?}");
        assert_eq!(parse_request(bytes), Ok(*req), "{req:?}");
    }
}

#[test]
fn impossible_operands_are_refused_before_they_reach_the_meter() {
    let e = ParseError::Invalid {
        characteristic: Characteristic::RecordAccessControlPoint,
        field: "operand",
    };
    let invalid = Err(e);
    let reversed = RacpRequest::ReportStoredRecords(RecordFilter::SequenceRange { min: 8, max: 7 });
    assert_eq!(reversed.encode(), invalid);
    let unknown = DateTime { year: 0, ..T };
    assert_eq!(
        RacpRequest::ReportStoredRecords(RecordFilter::TimeAtLeast { min: unknown }).encode(),
        invalid
    );
    let later = DateTime { hours: 9, ..T };
    assert_eq!(
        RacpRequest::DeleteStoredRecords(RecordFilter::TimeRange { min: later, max: T }).encode(),
        invalid
    );
    let bad = DateTime { month: 13, ..T };
    assert_eq!(
        RacpRequest::ReportStoredRecords(RecordFilter::TimeAtMost { max: bad }).encode(),
        invalid
    );
    // A meter-side parse refuses the same.
    assert_eq!(
        parse_request(&[0x01, 0x04, 0x01, 0x08, 0x00, 0x07, 0x00]),
        Err(e)
    );
    assert!(parse_request(&[0x01, 0x00]).is_err());
    assert!(parse_request(&[0x01, 0x07]).is_err());
    assert!(parse_request(&[0x01, 0x03, 0x03, 0x00, 0x00]).is_err());
}

/// A simulated meter's stored records: (measurement bytes, context bytes if any).
fn meter_records() -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let record = |seq: u16, minute: u8, mg_dl: u8, context: bool| {
        let [s0, s1] = seq.to_le_bytes();
        let flags = 0x02 | if context { 0x10 } else { 0 };
        // value = mg_dl × 10^-5 kg/L: SFLOAT exponent -5 (0xB), mantissa mg_dl.
        let m = vec![
            flags, s0, s1, 0xE8, 0x07, 0x03, 0x05, 0x07, minute, 0x00, mg_dl, 0xB0, 0x11,
        ];
        let c = context.then(|| vec![0x02, s0, s1, 0x01]); // meal: preprandial
        (m, c)
    };
    vec![
        record(1, 0, 95, true),
        record(2, 30, 140, false),
        record(3, 45, 101, true),
    ]
}

/// What a collector does with one download: capture each record, attach its context.
fn download(ctx: &CaptureContext) -> Vec<Reading> {
    let mut out: Vec<Reading> = Vec::new();
    for (m, c) in meter_records() {
        let mut reading = capture(&Characteristic::GlucoseMeasurement, &m, ctx).unwrap();
        if let Some(c) = c {
            let Ok(Measurement::GlucoseContext(context)) = parse(&0x2A34u16, &c) else {
                panic!("context")
            };
            reading.attach_glucose_context(context).unwrap();
        }
        out.push(reading);
    }
    // The meter ends the procedure with a response indication.
    let done = parse("2a52", &[0x06, 0x00, 0x01, 0x01]).unwrap();
    assert_eq!(
        done,
        Measurement::RacpResponse(RacpResponse::Response {
            request_op_code: 1,
            code: ResponseCode::Success
        })
    );
    out
}

#[test]
fn a_repeated_download_yields_the_same_ids() {
    let device = DeviceIdentity::new("web-bluetooth-id-1");
    let first = download(&CaptureContext {
        device: device.clone(),
        now: 1_709_700_000_000,
        device_utc_offset_minutes: Some(60),
        weight_scale_feature: None,
    });
    let second = download(&CaptureContext {
        device,
        now: 1_709_800_000_000,
        device_utc_offset_minutes: Some(60),
        weight_scale_feature: None,
    });
    let ids = |rs: &[Reading]| rs.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ids(&second));
    let mut unique = ids(&first);
    unique.dedup();
    assert_eq!(unique.len(), 3);
    // Stored records keep their device time, not the download time.
    assert_eq!(first[0].effective_time, 1_709_618_400_000); // 2024-03-05T07:00:00+01:00
    assert_eq!(first[0].sequence_number, Some(1));
    assert!(first[0].glucose_context.is_some() && first[1].glucose_context.is_none());
}

#[test]
fn a_context_for_another_record_is_refused() {
    let ctx = CaptureContext {
        device: DeviceIdentity::new("d"),
        now: 1_709_700_000_000,
        device_utc_offset_minutes: Some(0),
        weight_scale_feature: None,
    };
    let (m, _) = &meter_records()[0];
    let mut reading = capture(&0x2A18u16, m, &ctx).unwrap();
    let Ok(Measurement::GlucoseContext(other)) = parse(&0x2A34u16, &[0x00, 0x09, 0x00]) else {
        panic!()
    };
    assert_eq!(
        reading.attach_glucose_context(other),
        Err(CaptureError::ContextMismatch)
    );
}
