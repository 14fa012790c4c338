//! Malformed payloads: short for their flags, trailing bytes, reserved values that leave
//! nothing to read, impossible dates. Each is rejected with the precise error —
//! characteristic and field — and no error ever carries the payload. Reserved *bits* are
//! not malformed: tests/devices/reserved_bits.rs shows they are ignored.

#![allow(
    clippy::unwrap_used,
    reason = "tests unwrap: a panic is the failure report"
)]

use teleconsult::devices::{Characteristic as C, ParseError, parse};

const fn short(characteristic: C, field: &'static str) -> ParseError {
    ParseError::Truncated {
        characteristic,
        field,
    }
}
const fn extra(characteristic: C, count: usize) -> ParseError {
    ParseError::TrailingBytes {
        characteristic,
        count,
    }
}
const fn reserved(characteristic: C, field: &'static str) -> ParseError {
    ParseError::Reserved {
        characteristic,
        field,
    }
}
const fn invalid(characteristic: C, field: &'static str) -> ParseError {
    ParseError::Invalid {
        characteristic,
        field,
    }
}

const HR: C = C::HeartRateMeasurement;
const BP: C = C::BloodPressureMeasurement;
const ICP: C = C::IntermediateCuffPressure;
const TM: C = C::TemperatureMeasurement;
const TT: C = C::TemperatureType;
const WM: C = C::WeightMeasurement;
const WF: C = C::WeightScaleFeature;
const GM: C = C::GlucoseMeasurement;
const GC: C = C::GlucoseMeasurementContext;
const RACP: C = C::RecordAccessControlPoint;
const SPOT: C = C::PlxSpotCheckMeasurement;
const CONT: C = C::PlxContinuousMeasurement;
const PLXF: C = C::PlxFeatures;

/// (what, characteristic, bytes, error)
const MALFORMED: &[(&str, C, &[u8], ParseError)] = &[
    // Heart rate.
    ("hr empty", HR, &[], short(HR, "flags")),
    ("hr no value", HR, &[0x00], short(HR, "heartRate")),
    (
        "hr u16 value cut",
        HR,
        &[0x01, 0x48],
        short(HR, "heartRate"),
    ),
    (
        "hr energy cut",
        HR,
        &[0x08, 0x48, 0x10],
        short(HR, "energyExpended"),
    ),
    (
        "hr rr flag without rr",
        HR,
        &[0x10, 0x48],
        short(HR, "rrInterval"),
    ),
    (
        "hr rr flag, one byte",
        HR,
        &[0x10, 0x48, 0x00],
        short(HR, "rrInterval"),
    ),
    (
        "hr odd rr bytes",
        HR,
        &[0x10, 0x48, 0x00, 0x04, 0x00],
        extra(HR, 1),
    ),
    ("hr trailing", HR, &[0x00, 0x48, 0x00], extra(HR, 1)),
    // Blood pressure.
    ("bp empty", BP, &[], short(BP, "flags")),
    ("bp no systolic", BP, &[0x00, 0x79], short(BP, "systolic")),
    (
        "bp no diastolic",
        BP,
        &[0x00, 0x79, 0x00],
        short(BP, "diastolic"),
    ),
    (
        "bp no map",
        BP,
        &[0x00, 0x79, 0x00, 0x51, 0x00, 0x6A],
        short(BP, "meanArterialPressure"),
    ),
    (
        "bp no timestamp",
        BP,
        &[0x02, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00],
        short(BP, "timestamp.year"),
    ),
    (
        "bp timestamp cut",
        BP,
        &[
            0x02, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E,
        ],
        short(BP, "timestamp.seconds"),
    ),
    (
        "bp no pulse",
        BP,
        &[0x04, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00],
        short(BP, "pulseRate"),
    ),
    (
        "bp no user",
        BP,
        &[0x08, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00],
        short(BP, "userId"),
    ),
    (
        "bp status cut",
        BP,
        &[0x10, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0x01],
        short(BP, "status"),
    ),
    (
        "bp trailing",
        BP,
        &[0x00, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0x00],
        extra(BP, 1),
    ),
    (
        "bp year 1581",
        BP,
        &[
            0x02, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0x2D, 0x06, 1, 1, 0, 0, 0,
        ],
        invalid(BP, "timestamp.year"),
    ),
    (
        "bp year 10000",
        BP,
        &[
            0x02, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0x10, 0x27, 1, 1, 0, 0, 0,
        ],
        invalid(BP, "timestamp.year"),
    ),
    (
        "bp month 13",
        BP,
        &[
            0x02, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0xE8, 0x07, 13, 5, 8, 30, 15,
        ],
        invalid(BP, "timestamp.month"),
    ),
    (
        "bp day 32",
        BP,
        &[
            0x02, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0xE8, 0x07, 0, 32, 8, 30, 15,
        ],
        invalid(BP, "timestamp.day"),
    ),
    (
        "bp 30 February",
        BP,
        &[
            0x02, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0xE8, 0x07, 2, 30, 8, 30, 15,
        ],
        invalid(BP, "timestamp.day"),
    ),
    (
        "bp 29 February 2023",
        BP,
        &[
            0x02, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0xE7, 0x07, 2, 29, 8, 30, 15,
        ],
        invalid(BP, "timestamp.day"),
    ),
    (
        "bp 31 April",
        BP,
        &[
            0x02, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0xE8, 0x07, 4, 31, 8, 30, 15,
        ],
        invalid(BP, "timestamp.day"),
    ),
    (
        "bp hour 24",
        BP,
        &[
            0x02, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0xE8, 0x07, 3, 5, 24, 30, 15,
        ],
        invalid(BP, "timestamp.hours"),
    ),
    (
        "bp minute 60",
        BP,
        &[
            0x02, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0xE8, 0x07, 3, 5, 8, 60, 15,
        ],
        invalid(BP, "timestamp.minutes"),
    ),
    (
        "bp second 60",
        BP,
        &[
            0x02, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0xE8, 0x07, 3, 5, 8, 30, 60,
        ],
        invalid(BP, "timestamp.seconds"),
    ),
    // Intermediate cuff pressure.
    (
        "icp no cuff pressure",
        ICP,
        &[0x00, 0x96],
        short(ICP, "cuffPressure"),
    ),
    (
        "icp unused slots missing",
        ICP,
        &[0x00, 0x96, 0x00],
        short(ICP, "diastolicUnused"),
    ),
    (
        "icp trailing",
        ICP,
        &[0x00, 0x96, 0x00, 0xFF, 0x07, 0xFF, 0x07, 0x00],
        extra(ICP, 1),
    ),
    // Temperature.
    ("temp empty", TM, &[], short(TM, "flags")),
    (
        "temp value cut",
        TM,
        &[0x00, 0x6F, 0x01, 0x00],
        short(TM, "temperature"),
    ),
    (
        "temp no timestamp",
        TM,
        &[0x02, 0x6F, 0x01, 0x00, 0xFF],
        short(TM, "timestamp.year"),
    ),
    (
        "temp no type",
        TM,
        &[0x04, 0x6F, 0x01, 0x00, 0xFF],
        short(TM, "temperatureType"),
    ),
    (
        "temp trailing",
        TM,
        &[0x00, 0x6F, 0x01, 0x00, 0xFF, 0x06],
        extra(TM, 1),
    ),
    (
        "temp bad time",
        TM,
        &[0x02, 0x6F, 0x01, 0x00, 0xFF, 0xE8, 0x07, 3, 5, 8, 30, 61],
        invalid(TM, "timestamp.seconds"),
    ),
    ("type empty", TT, &[], short(TT, "temperatureType")),
    ("type 0", TT, &[0x00], reserved(TT, "temperatureType")),
    ("type 255", TT, &[0xFF], reserved(TT, "temperatureType")),
    ("type trailing", TT, &[0x01, 0x00], extra(TT, 1)),
    // Weight.
    ("weight empty", WM, &[], short(WM, "flags")),
    ("weight cut", WM, &[0x00, 0x60], short(WM, "weight")),
    (
        "weight no timestamp",
        WM,
        &[0x02, 0x60, 0x38],
        short(WM, "timestamp.year"),
    ),
    (
        "weight no user",
        WM,
        &[0x04, 0x60, 0x38],
        short(WM, "userId"),
    ),
    ("weight no bmi", WM, &[0x08, 0x60, 0x38], short(WM, "bmi")),
    (
        "weight no height",
        WM,
        &[0x08, 0x60, 0x38, 0xEA, 0x00],
        short(WM, "height"),
    ),
    (
        "weight trailing",
        WM,
        &[0x00, 0x60, 0x38, 0x00],
        extra(WM, 1),
    ),
    (
        "feature cut",
        WF,
        &[0x00, 0x00, 0x00],
        short(WF, "features"),
    ),
    (
        "feature trailing",
        WF,
        &[0x00, 0x00, 0x00, 0x00, 0x00],
        extra(WF, 1),
    ),
    // Glucose.
    ("glucose empty", GM, &[], short(GM, "flags")),
    (
        "glucose no sequence",
        GM,
        &[0x00, 0x01],
        short(GM, "sequenceNumber"),
    ),
    (
        "glucose no base time",
        GM,
        &[0x00, 0x01, 0x00],
        short(GM, "baseTime.year"),
    ),
    (
        "glucose base time cut",
        GM,
        &[0x00, 0x01, 0x00, 0xE8, 0x07, 0x03],
        short(GM, "baseTime.day"),
    ),
    (
        "glucose no offset",
        GM,
        &[0x01, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00],
        short(GM, "timeOffset"),
    ),
    (
        "glucose no concentration",
        GM,
        &[0x02, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00],
        short(GM, "concentration"),
    ),
    (
        "glucose no type",
        GM,
        &[
            0x02, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x5F, 0xB0,
        ],
        short(GM, "typeSampleLocation"),
    ),
    (
        "glucose no status",
        GM,
        &[
            0x08, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x01,
        ],
        short(GM, "sensorStatusAnnunciation"),
    ),
    (
        "glucose type 0",
        GM,
        &[
            0x02, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x5F, 0xB0, 0x10,
        ],
        reserved(GM, "type"),
    ),
    (
        "glucose type 11",
        GM,
        &[
            0x02, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x5F, 0xB0, 0x1B,
        ],
        reserved(GM, "type"),
    ),
    (
        "glucose trailing",
        GM,
        &[
            0x00, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x00,
        ],
        extra(GM, 1),
    ),
    (
        "glucose bad base time",
        GM,
        &[0x00, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x18, 0x00, 0x00],
        invalid(GM, "baseTime.hours"),
    ),
    // Glucose context.
    ("context empty", GC, &[], short(GC, "flags")),
    (
        "context no sequence",
        GC,
        &[0x00, 0x01],
        short(GC, "sequenceNumber"),
    ),
    (
        "context no extended flags",
        GC,
        &[0x80, 0x01, 0x00],
        short(GC, "extendedFlags"),
    ),
    (
        "context no carbohydrate id",
        GC,
        &[0x01, 0x01, 0x00],
        short(GC, "carbohydrateId"),
    ),
    (
        "context no carbohydrate",
        GC,
        &[0x01, 0x01, 0x00, 0x01, 0x32],
        short(GC, "carbohydrate"),
    ),
    (
        "context no meal",
        GC,
        &[0x02, 0x01, 0x00],
        short(GC, "meal"),
    ),
    (
        "context no tester",
        GC,
        &[0x04, 0x01, 0x00],
        short(GC, "testerHealth"),
    ),
    (
        "context no exercise",
        GC,
        &[0x08, 0x01, 0x00, 0x08],
        short(GC, "exerciseDuration"),
    ),
    (
        "context no intensity",
        GC,
        &[0x08, 0x01, 0x00, 0x08, 0x07],
        short(GC, "exerciseIntensity"),
    ),
    (
        "context intensity 101",
        GC,
        &[0x08, 0x01, 0x00, 0x08, 0x07, 0x65],
        invalid(GC, "exerciseIntensity"),
    ),
    (
        "context no medication id",
        GC,
        &[0x10, 0x01, 0x00],
        short(GC, "medicationId"),
    ),
    (
        "context no medication",
        GC,
        &[0x10, 0x01, 0x00, 0x01],
        short(GC, "medication"),
    ),
    (
        "context no hba1c",
        GC,
        &[0x40, 0x01, 0x00, 0x41],
        short(GC, "hba1c"),
    ),
    (
        "context trailing",
        GC,
        &[0x00, 0x01, 0x00, 0x00],
        extra(GC, 1),
    ),
    // Record Access Control Point responses.
    ("racp empty", RACP, &[], short(RACP, "opCode")),
    (
        "racp request op code indicated",
        RACP,
        &[0x01, 0x01],
        invalid(RACP, "opCode"),
    ),
    (
        "racp unknown op code",
        RACP,
        &[0x07, 0x00],
        invalid(RACP, "opCode"),
    ),
    ("racp no operator", RACP, &[0x06], short(RACP, "operator")),
    (
        "racp non-null operator",
        RACP,
        &[0x06, 0x01, 0x01, 0x01],
        invalid(RACP, "operator"),
    ),
    (
        "racp count cut",
        RACP,
        &[0x05, 0x00, 0x0A],
        short(RACP, "operand"),
    ),
    (
        "racp no request op code",
        RACP,
        &[0x06, 0x00],
        short(RACP, "requestOpCode"),
    ),
    (
        "racp no response code",
        RACP,
        &[0x06, 0x00, 0x01],
        short(RACP, "responseCode"),
    ),
    (
        "racp response code 0",
        RACP,
        &[0x06, 0x00, 0x01, 0x00],
        reserved(RACP, "responseCode"),
    ),
    (
        "racp response code 10",
        RACP,
        &[0x06, 0x00, 0x01, 0x0A],
        reserved(RACP, "responseCode"),
    ),
    (
        "racp trailing",
        RACP,
        &[0x06, 0x00, 0x01, 0x01, 0x00],
        extra(RACP, 1),
    ),
    (
        "racp count of 3 bytes",
        RACP,
        &[0x05, 0x00, 0x0A, 0x00, 0x00],
        extra(RACP, 1),
    ),
    (
        "racp count of 5 bytes",
        RACP,
        &[0x05, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x00],
        extra(RACP, 1),
    ),
    (
        "racp 32-bit count above 65535",
        RACP,
        &[0x05, 0x00, 0x0A, 0x00, 0x01, 0x00],
        invalid(RACP, "operand"),
    ),
    // Pulse oximeter.
    ("spot empty", SPOT, &[], short(SPOT, "flags")),
    ("spot no spo2", SPOT, &[0x00, 0x61], short(SPOT, "spo2")),
    (
        "spot no pulse",
        SPOT,
        &[0x00, 0x61, 0x00],
        short(SPOT, "pulseRate"),
    ),
    (
        "spot no timestamp",
        SPOT,
        &[0x01, 0x61, 0x00, 0x48, 0x00],
        short(SPOT, "timestamp.year"),
    ),
    (
        "spot no measurement status",
        SPOT,
        &[0x02, 0x61, 0x00, 0x48, 0x00, 0x00],
        short(SPOT, "measurementStatus"),
    ),
    (
        "spot device status cut",
        SPOT,
        &[0x04, 0x61, 0x00, 0x48, 0x00, 0x00, 0x00],
        short(SPOT, "deviceAndSensorStatus"),
    ),
    (
        "spot no pai",
        SPOT,
        &[0x08, 0x61, 0x00, 0x48, 0x00],
        short(SPOT, "pulseAmplitudeIndex"),
    ),
    (
        "spot trailing",
        SPOT,
        &[0x00, 0x61, 0x00, 0x48, 0x00, 0x00],
        extra(SPOT, 1),
    ),
    (
        "spot bad timestamp",
        SPOT,
        &[0x01, 0x61, 0x00, 0x48, 0x00, 0xE8, 0x07, 2, 30, 0, 0, 0],
        invalid(SPOT, "timestamp.day"),
    ),
    (
        "continuous no normal",
        CONT,
        &[0x00, 0x61, 0x00],
        short(CONT, "pulseRate"),
    ),
    (
        "continuous no fast",
        CONT,
        &[0x01, 0x61, 0x00, 0x48, 0x00],
        short(CONT, "fast.spo2"),
    ),
    (
        "continuous fast cut",
        CONT,
        &[0x01, 0x61, 0x00, 0x48, 0x00, 0x61, 0x00],
        short(CONT, "fast.pulseRate"),
    ),
    (
        "continuous no slow",
        CONT,
        &[0x02, 0x61, 0x00, 0x48, 0x00],
        short(CONT, "slow.spo2"),
    ),
    (
        "continuous no status",
        CONT,
        &[0x04, 0x61, 0x00, 0x48, 0x00],
        short(CONT, "measurementStatus"),
    ),
    (
        "continuous no device status",
        CONT,
        &[0x08, 0x61, 0x00, 0x48, 0x00],
        short(CONT, "deviceAndSensorStatus"),
    ),
    (
        "continuous no pai",
        CONT,
        &[0x10, 0x61, 0x00, 0x48, 0x00],
        short(CONT, "pulseAmplitudeIndex"),
    ),
    (
        "continuous trailing",
        CONT,
        &[0x00, 0x61, 0x00, 0x48, 0x00, 0x00],
        extra(CONT, 1),
    ),
    (
        "plx features empty",
        PLXF,
        &[0x00],
        short(PLXF, "supportedFeatures"),
    ),
    (
        "plx features no status support",
        PLXF,
        &[0x01, 0x00, 0x00],
        short(PLXF, "measurementStatusSupport"),
    ),
    (
        "plx features no device support",
        PLXF,
        &[0x02, 0x00, 0x00, 0x00],
        short(PLXF, "deviceAndSensorStatusSupport"),
    ),
    (
        "plx features trailing",
        PLXF,
        &[0x00, 0x00, 0x00],
        extra(PLXF, 1),
    ),
    // Battery, Date Time, Device Information, System ID, PnP ID.
    (
        "battery empty",
        C::BatteryLevel,
        &[],
        short(C::BatteryLevel, "batteryLevel"),
    ),
    (
        "battery 101",
        C::BatteryLevel,
        &[101],
        reserved(C::BatteryLevel, "batteryLevel"),
    ),
    (
        "battery 255",
        C::BatteryLevel,
        &[255],
        reserved(C::BatteryLevel, "batteryLevel"),
    ),
    (
        "battery trailing",
        C::BatteryLevel,
        &[50, 0],
        extra(C::BatteryLevel, 1),
    ),
    (
        "date time cut",
        C::DateTime,
        &[0xE8, 0x07, 3, 5, 8, 30],
        short(C::DateTime, "seconds"),
    ),
    (
        "date time trailing",
        C::DateTime,
        &[0xE8, 0x07, 3, 5, 8, 30, 15, 0],
        extra(C::DateTime, 1),
    ),
    (
        "date time 29 February 2100",
        C::DateTime,
        &[0x34, 0x08, 2, 29, 0, 0, 0],
        invalid(C::DateTime, "day"),
    ),
    (
        "date time 31 unknown-year June",
        C::DateTime,
        &[0, 0, 6, 31, 0, 0, 0],
        invalid(C::DateTime, "day"),
    ),
    (
        "date time year 1",
        C::DateTime,
        &[1, 0, 1, 1, 0, 0, 0],
        invalid(C::DateTime, "year"),
    ),
    (
        "manufacturer not utf-8",
        C::ManufacturerNameString,
        &[0x41, 0xFF, 0xFE],
        invalid(C::ManufacturerNameString, "value"),
    ),
    (
        "model with line break",
        C::ModelNumberString,
        b"A\nB",
        invalid(C::ModelNumberString, "value"),
    ),
    (
        "serial with inner NUL",
        C::SerialNumberString,
        b"A\0B",
        invalid(C::SerialNumberString, "value"),
    ),
    (
        "firmware with escape",
        C::FirmwareRevisionString,
        b"\x1b[31m1.0",
        invalid(C::FirmwareRevisionString, "value"),
    ),
    (
        "system id cut",
        C::SystemId,
        &[1, 2, 3, 4, 5, 6, 7],
        short(C::SystemId, "systemId"),
    ),
    (
        "system id trailing",
        C::SystemId,
        &[1, 2, 3, 4, 5, 6, 7, 8, 9],
        extra(C::SystemId, 1),
    ),
    (
        "pnp source 0",
        C::PnpId,
        &[0x00, 0x0D, 0x00, 0x34, 0x12, 0x00, 0x01],
        reserved(C::PnpId, "vendorIdSource"),
    ),
    (
        "pnp source 3",
        C::PnpId,
        &[0x03, 0x0D, 0x00, 0x34, 0x12, 0x00, 0x01],
        reserved(C::PnpId, "vendorIdSource"),
    ),
    (
        "pnp cut",
        C::PnpId,
        &[0x01, 0x0D, 0x00, 0x34, 0x12, 0x00],
        short(C::PnpId, "productVersion"),
    ),
    (
        "pnp trailing",
        C::PnpId,
        &[0x01, 0x0D, 0x00, 0x34, 0x12, 0x00, 0x01, 0x00],
        extra(C::PnpId, 1),
    ),
];

#[test]
fn every_malformed_payload_is_rejected_precisely() {
    for (what, c, bytes, want) in MALFORMED {
        assert_eq!(parse(c, bytes), Err(*want), "{what}");
    }
}

#[test]
fn every_characteristic_has_malformed_cases() {
    for c in C::ALL {
        let strings = [C::HardwareRevisionString, C::SoftwareRevisionString];
        if strings.contains(&c) {
            continue; // same parser as the other Device Information strings
        }
        assert!(
            MALFORMED.iter().any(|(_, m, _, _)| *m == c),
            "{} has no malformed case",
            c.name()
        );
    }
}

#[test]
fn errors_never_carry_payload_bytes() {
    // Whatever the payload, the error says only characteristic, field/count and kind.
    let bytes = [0x00, 0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x00, 0x99];
    let e = parse(&0x2A35u16, &bytes).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Blood Pressure Measurement (0x2A35): 1 unexpected byte(s) after the last field"
    );
    assert_eq!(
        format!("{e:?}"),
        "TrailingBytes { characteristic: BloodPressureMeasurement, count: 1 }"
    );
    assert_eq!(
        serde_json::to_value(e).unwrap(),
        serde_json::json!({"kind":"trailingBytes","characteristic":"bloodPressureMeasurement","count":1})
    );
}

#[test]
fn oversized_device_information_is_rejected() {
    let long = vec![b'a'; 513];
    assert_eq!(
        parse(&C::ManufacturerNameString, &long),
        Err(invalid(C::ManufacturerNameString, "value"))
    );
    assert!(parse(&C::ManufacturerNameString, &long[..512]).is_ok());
}
