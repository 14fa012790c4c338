//! Spec vectors for every supported characteristic: bytes written from the Bluetooth SIG
//! characteristic definitions, and the value JavaScript receives (the serde form of the
//! parsed measurement). The characteristic column uses every accepted UUID spelling.

#![allow(
    clippy::unwrap_used,
    reason = "tests unwrap: a panic is the failure report"
)]

use serde_json::Value;
use teleconsult::devices::parse;

/// (what, characteristic, bytes, expected JSON)
const VECTORS: &[(&str, &str, &[u8], &str)] = &[
    // Heart Rate Measurement 0x2A37.
    (
        "hr u8, contact not supported",
        "2a37",
        &[0x00, 0x48],
        r#"{"kind":"heartRate","value":{"heartRate":72,"sensorContact":"notSupported","rrIntervals":[]}}"#,
    ),
    (
        "hr contact bit without support bit",
        "2A37",
        &[0x02, 0x48],
        r#"{"kind":"heartRate","value":{"heartRate":72,"sensorContact":"notSupported","rrIntervals":[]}}"#,
    ),
    (
        "hr supported, no contact",
        "0x2A37",
        &[0x04, 0x48],
        r#"{"kind":"heartRate","value":{"heartRate":72,"sensorContact":"notDetected","rrIntervals":[]}}"#,
    ),
    (
        "hr in contact",
        "00002a37-0000-1000-8000-00805f9b34fb",
        &[0x06, 0x48],
        r#"{"kind":"heartRate","value":{"heartRate":72,"sensorContact":"detected","rrIntervals":[]}}"#,
    ),
    (
        "hr reserved flag bits ignored",
        "2a37",
        &[0xE6, 0x48],
        r#"{"kind":"heartRate","value":{"heartRate":72,"sensorContact":"detected","rrIntervals":[]}}"#,
    ),
    (
        "hr u16",
        "2a37",
        &[0x01, 0x2C, 0x01],
        r#"{"kind":"heartRate","value":{"heartRate":300,"sensorContact":"notSupported","rrIntervals":[]}}"#,
    ),
    (
        "hr energy saturated",
        "2a37",
        &[0x08, 0x48, 0xFF, 0xFF],
        r#"{"kind":"heartRate","value":{"heartRate":72,"sensorContact":"notSupported","energyExpended":65535,"rrIntervals":[]}}"#,
    ),
    (
        "hr one rr",
        "2a37",
        &[0x10, 0x48, 0x00, 0x04],
        r#"{"kind":"heartRate","value":{"heartRate":72,"sensorContact":"notSupported","rrIntervals":[1024]}}"#,
    ),
    (
        "hr everything",
        "2a37",
        &[0x1F, 0x2C, 0x01, 0x10, 0x27, 0x00, 0x04, 0x00, 0x02],
        r#"{"kind":"heartRate","value":{"heartRate":300,"sensorContact":"detected","energyExpended":10000,"rrIntervals":[1024,512]}}"#,
    ),
    // Blood Pressure Measurement 0x2A35.
    (
        "bp mmHg minimal",
        "2a35",
        &[0x00, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00],
        r#"{"kind":"bloodPressure","value":{"unit":"mmHg","systolic":121.0,"diastolic":81.0,"meanArterialPressure":106.0,"status":[]}}"#,
    ),
    (
        "bp kPa with every field",
        "2a35",
        &[
            0x1F, 0xA0, 0xF0, 0x6B, 0xF0, 0x7D, 0xF0, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F,
            0x48, 0x00, 0x01, 0x0D, 0x00,
        ],
        r#"{"kind":"bloodPressure","value":{"unit":"kPa","systolic":16.0,"diastolic":10.7,"meanArterialPressure":12.5,
        "timestamp":{"year":2024,"month":3,"day":5,"hours":8,"minutes":30,"seconds":15},"pulseRate":72.0,"userId":1,
        "status":["bodyMovement","irregularPulse","pulseRateAboveRange"]}}"#,
    ),
    (
        "bp status: loose cuff, pulse below range, position; reserved bits ignored",
        "2a35",
        &[0x10, 0x79, 0x00, 0x51, 0x00, 0x6A, 0x00, 0x32, 0xFF],
        r#"{"kind":"bloodPressure","value":{"unit":"mmHg","systolic":121.0,"diastolic":81.0,"meanArterialPressure":106.0,
        "status":["cuffTooLoose","pulseRateBelowRange","improperPosition"]}}"#,
    ),
    (
        "bp special values kept",
        "2a35",
        &[0x04, 0xFF, 0x07, 0xFE, 0x07, 0x02, 0x08, 0x00, 0x08],
        r#"{"kind":"bloodPressure","value":{"unit":"mmHg","systolic":"nan","diastolic":"positiveInfinity",
        "meanArterialPressure":"negativeInfinity","pulseRate":"nres","status":[]}}"#,
    ),
    (
        "bp unknown user",
        "2a35",
        &[0x08, 0x79, 0x00, 0x51, 0x00, 0x01, 0x08, 0xFF],
        r#"{"kind":"bloodPressure","value":{"unit":"mmHg","systolic":121.0,"diastolic":81.0,"meanArterialPressure":"reserved","userId":255,"status":[]}}"#,
    ),
    // Intermediate Cuff Pressure 0x2A36.
    (
        "cuff pressure",
        "2a36",
        &[0x00, 0x96, 0x00, 0xFF, 0x07, 0xFF, 0x07],
        r#"{"kind":"intermediateCuffPressure","value":{"unit":"mmHg","cuffPressure":150.0,"status":[]}}"#,
    ),
    (
        "cuff pressure with pulse",
        "2a36",
        &[0x05, 0xB0, 0xF0, 0xFF, 0x07, 0xFF, 0x07, 0x40, 0x00],
        r#"{"kind":"intermediateCuffPressure","value":{"unit":"kPa","cuffPressure":17.6,"pulseRate":64.0,"status":[]}}"#,
    ),
    // Temperature Measurement 0x2A1C.
    (
        "temp celsius",
        "2a1c",
        &[0x00, 0x6F, 0x01, 0x00, 0xFF],
        r#"{"kind":"temperature","value":{"unit":"celsius","temperature":36.7}}"#,
    ),
    (
        "temp fahrenheit, time, mouth",
        "2a1c",
        &[
            0x07, 0xDA, 0x03, 0x00, 0xFF, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F, 0x06,
        ],
        r#"{"kind":"temperature","value":{"unit":"fahrenheit","temperature":98.6,
        "timestamp":{"year":2024,"month":3,"day":5,"hours":8,"minutes":30,"seconds":15},"temperatureType":"mouth"}}"#,
    ),
    (
        "temp reserved type read as unknown site",
        "2a1c",
        &[0x04, 0x6F, 0x01, 0x00, 0xFF, 0x0A],
        r#"{"kind":"temperature","value":{"unit":"celsius","temperature":36.7}}"#,
    ),
    (
        "temp NaN",
        "2a1c",
        &[0x00, 0xFF, 0xFF, 0x7F, 0x00],
        r#"{"kind":"temperature","value":{"unit":"celsius","temperature":"nan"}}"#,
    ),
    (
        "temp NRes",
        "2a1c",
        &[0x00, 0x00, 0x00, 0x80, 0x00],
        r#"{"kind":"temperature","value":{"unit":"celsius","temperature":"nres"}}"#,
    ),
    (
        "temp +INF",
        "2a1c",
        &[0x00, 0xFE, 0xFF, 0x7F, 0x00],
        r#"{"kind":"temperature","value":{"unit":"celsius","temperature":"positiveInfinity"}}"#,
    ),
    (
        "temp -INF",
        "2a1c",
        &[0x00, 0x02, 0x00, 0x80, 0x00],
        r#"{"kind":"temperature","value":{"unit":"celsius","temperature":"negativeInfinity"}}"#,
    ),
    (
        "temp reserved",
        "2a1c",
        &[0x00, 0x01, 0x00, 0x80, 0x00],
        r#"{"kind":"temperature","value":{"unit":"celsius","temperature":"reserved"}}"#,
    ),
    // Temperature Type 0x2A1D.
    (
        "type armpit",
        "2a1d",
        &[0x01],
        r#"{"kind":"temperatureType","value":"armpit"}"#,
    ),
    (
        "type body",
        "2a1d",
        &[0x02],
        r#"{"kind":"temperatureType","value":"body"}"#,
    ),
    (
        "type ear",
        "2a1d",
        &[0x03],
        r#"{"kind":"temperatureType","value":"ear"}"#,
    ),
    (
        "type finger",
        "2a1d",
        &[0x04],
        r#"{"kind":"temperatureType","value":"finger"}"#,
    ),
    (
        "type gi tract",
        "2a1d",
        &[0x05],
        r#"{"kind":"temperatureType","value":"gastrointestinalTract"}"#,
    ),
    (
        "type mouth",
        "2a1d",
        &[0x06],
        r#"{"kind":"temperatureType","value":"mouth"}"#,
    ),
    (
        "type rectum",
        "2a1d",
        &[0x07],
        r#"{"kind":"temperatureType","value":"rectum"}"#,
    ),
    (
        "type toe",
        "2a1d",
        &[0x08],
        r#"{"kind":"temperatureType","value":"toe"}"#,
    ),
    (
        "type tympanum",
        "2a1d",
        &[0x09],
        r#"{"kind":"temperatureType","value":"tympanum"}"#,
    ),
    // Weight Measurement 0x2A9D.
    (
        "weight kg",
        "2a9d",
        &[0x00, 0x60, 0x38],
        r#"{"kind":"weight","value":{"unit":"si","weight":72.16}}"#,
    ),
    (
        "weight kg with BMI and height",
        "2a9d",
        &[0x08, 0x60, 0x38, 0xEA, 0x00, 0xAE, 0x06],
        r#"{"kind":"weight","value":{"unit":"si","weight":72.16,"bmi":23.4,"height":1.71}}"#,
    ),
    (
        "weight lb with everything",
        "2a9d",
        &[
            0x0F, 0x26, 0x3E, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F, 0x02, 0xEA, 0x00, 0xBC,
            0x02,
        ],
        r#"{"kind":"weight","value":{"unit":"imperial","weight":159.1,
        "timestamp":{"year":2024,"month":3,"day":5,"hours":8,"minutes":30,"seconds":15},"userId":2,"bmi":23.4,"height":70.0}}"#,
    ),
    (
        "weight unsuccessful",
        "2a9d",
        &[0x00, 0xFF, 0xFF],
        r#"{"kind":"weight","value":{"unit":"si","weight":"nan"}}"#,
    ),
    // Weight Scale Feature 0x2A9E.
    (
        "scale features",
        "2a9e",
        &[0xA7, 0x01, 0x00, 0x00],
        r#"{"kind":"weightScaleFeature","value":{"timeStampSupported":true,"multipleUsersSupported":true,"bmiSupported":true,
        "weightResolution":{"si":0.05,"imperial":0.1},"heightResolution":{"si":0.001,"imperial":0.1}}}"#,
    ),
    (
        "scale finest weight, coarsest height",
        "2a9e",
        &[0xB8, 0x00, 0x00, 0x00],
        r#"{"kind":"weightScaleFeature","value":{"timeStampSupported":false,"multipleUsersSupported":false,"bmiSupported":false,
        "weightResolution":{"si":0.005,"imperial":0.01},"heightResolution":{"si":0.01,"imperial":1.0}}}"#,
    ),
    (
        "scale nothing, reserved bits ignored",
        "2a9e",
        &[0x00, 0x00, 0x00, 0x80],
        r#"{"kind":"weightScaleFeature","value":{"timeStampSupported":false,"multipleUsersSupported":false,"bmiSupported":false}}"#,
    ),
    // Glucose Measurement 0x2A18.
    (
        "glucose kg/L with offset, status, context",
        "2a18",
        &[
            0x1B, 0x01, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x0F, 0x00, 0x5F, 0xB0,
            0x11, 0x01, 0x00,
        ],
        r#"{"kind":"glucose","value":{"sequenceNumber":1,"baseTime":{"year":2024,"month":3,"day":5,"hours":7,"minutes":45,"seconds":0},
        "timeOffset":15,"concentration":{"unit":"kg/L","value":0.00095,"sampleType":"capillaryWholeBlood","sampleLocation":"finger"},
        "status":["deviceBatteryLow"],"contextFollows":true}}"#,
    ),
    (
        "glucose mol/L, negative offset",
        "2a18",
        &[
            0x07, 0x02, 0x01, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0xC4, 0xFF, 0x37, 0xC0,
            0xF2,
        ],
        r#"{"kind":"glucose","value":{"sequenceNumber":258,"baseTime":{"year":2024,"month":3,"day":5,"hours":7,"minutes":45,"seconds":0},
        "timeOffset":-60,"concentration":{"unit":"mol/L","value":0.0055,"sampleType":"capillaryPlasma","sampleLocation":"notAvailable"},
        "status":[],"contextFollows":false}}"#,
    ),
    (
        "glucose control solution, every status bit",
        "2a18",
        &[
            0x0A, 0x03, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x07, 0x2D, 0x00, 0x5F, 0xB0, 0x4A, 0xFF,
            0xFF,
        ],
        r#"{"kind":"glucose","value":{"sequenceNumber":3,"baseTime":{"year":2024,"month":3,"day":5,"hours":7,"minutes":45,"seconds":0},
        "concentration":{"unit":"kg/L","value":0.00095,"sampleType":"controlSolution","sampleLocation":"controlSolution"},
        "status":["deviceBatteryLow","sensorMalfunction","sampleSizeInsufficient","stripInsertionError","stripTypeIncorrect",
          "resultAboveDeviceRange","resultBelowDeviceRange","sensorTemperatureTooHigh","sensorTemperatureTooLow",
          "stripPulledTooSoon","generalDeviceFault","timeFault"],"contextFollows":false}}"#,
    ),
    (
        "glucose record with unknown clock",
        "2a18",
        &[0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        r#"{"kind":"glucose","value":{"sequenceNumber":4,"baseTime":{"year":0,"month":0,"day":0,"hours":0,"minutes":0,"seconds":0},
        "status":[],"contextFollows":false}}"#,
    ),
    // Glucose Measurement Context 0x2A34.
    (
        "context everything, medication in kg",
        "2a34",
        &[
            0x5F, 0x01, 0x00, 0x01, 0x32, 0xD0, 0x01, 0x51, 0x08, 0x07, 0x32, 0x01, 0x04, 0xA0,
            0x41, 0xF0,
        ],
        r#"{"kind":"glucoseContext","value":{"sequenceNumber":1,"carbohydrate":{"id":"breakfast","grams":50.0},"meal":"preprandial",
        "tester":"selfTest","health":"noHealthIssues","exercise":{"duration":1800,"intensity":50},
        "medication":{"id":"rapidActingInsulin","amount":4.0,"unit":"mg"},"hba1c":6.5}}"#,
    ),
    (
        "context medication in litres, zero extended flags",
        "2a34",
        &[0xB0, 0x02, 0x00, 0x00, 0x04, 0x01, 0xE0],
        r#"{"kind":"glucoseContext","value":{"sequenceNumber":2,"medication":{"id":"longActingInsulin","amount":10.0,"unit":"mL"}}}"#,
    ),
    (
        "context tester and health not available",
        "2a34",
        &[0x04, 0x03, 0x00, 0xFF],
        r#"{"kind":"glucoseContext","value":{"sequenceNumber":3,"tester":"notAvailable","health":"notAvailable"}}"#,
    ),
    // Record Access Control Point 0x2A52 (indications).
    (
        "racp count",
        "2a52",
        &[0x05, 0x00, 0x0A, 0x00],
        r#"{"kind":"racpResponse","value":{"kind":"numberOfRecords","count":10}}"#,
    ),
    (
        "racp count sent as 32 bits",
        "2a52",
        &[0x05, 0x00, 0x0A, 0x00, 0x00, 0x00],
        r#"{"kind":"racpResponse","value":{"kind":"numberOfRecords","count":10}}"#,
    ),
    (
        "racp success",
        "2a52",
        &[0x06, 0x00, 0x01, 0x01],
        r#"{"kind":"racpResponse","value":{"kind":"response","requestOpCode":1,"code":"success"}}"#,
    ),
    (
        "racp no records",
        "2a52",
        &[0x06, 0x00, 0x01, 0x06],
        r#"{"kind":"racpResponse","value":{"kind":"response","requestOpCode":1,"code":"noRecordsFound"}}"#,
    ),
    (
        "racp unsupported op echoed",
        "2a52",
        &[0x06, 0x00, 0x07, 0x02],
        r#"{"kind":"racpResponse","value":{"kind":"response","requestOpCode":7,"code":"opCodeNotSupported"}}"#,
    ),
    (
        "racp not completed",
        "2a52",
        &[0x06, 0x00, 0x01, 0x08],
        r#"{"kind":"racpResponse","value":{"kind":"response","requestOpCode":1,"code":"procedureNotCompleted"}}"#,
    ),
    // PLX Spot-Check Measurement 0x2A5E.
    (
        "spot check minimal",
        "2a5e",
        &[0x00, 0x61, 0x00, 0x48, 0x00],
        r#"{"kind":"plxSpotCheck","value":{"spo2":97.0,"pulseRate":72.0,"status":[],"deviceClockNotSet":false}}"#,
    ),
    (
        "spot check everything, demo data, clock not set",
        "2a5e",
        &[
            0x1F, 0x62, 0x00, 0x41, 0x00, 0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F, 0x00, 0x04,
            0x20, 0x00, 0x00, 0x19, 0xF0,
        ],
        r#"{"kind":"plxSpotCheck","value":{"spo2":98.0,"pulseRate":65.0,
        "timestamp":{"year":2024,"month":3,"day":5,"hours":8,"minutes":30,"seconds":15},
        "status":["demonstrationData","lowPerfusion"],"pulseAmplitudeIndex":2.5,"deviceClockNotSet":true}}"#,
    ),
    (
        "spot check specials",
        "2a5e",
        &[0x00, 0xFF, 0x07, 0x00, 0x08],
        r#"{"kind":"plxSpotCheck","value":{"spo2":"nan","pulseRate":"nres","status":[],"deviceClockNotSet":false}}"#,
    ),
    // PLX Continuous Measurement 0x2A5F.
    (
        "continuous normal only",
        "2a5f",
        &[0x00, 0x61, 0x00, 0x48, 0x00],
        r#"{"kind":"plxContinuous","value":{"normal":{"spo2":97.0,"pulseRate":72.0},"status":[]}}"#,
    ),
    (
        "continuous everything",
        "2a5f",
        &[
            0x1F, 0x62, 0x00, 0x41, 0x00, 0x63, 0x00, 0x42, 0x00, 0x61, 0x00, 0x40, 0x00, 0x20,
            0x00, 0x00, 0x80, 0x00, 0x19, 0xF0,
        ],
        r#"{"kind":"plxContinuous","value":{"normal":{"spo2":98.0,"pulseRate":65.0},"fast":{"spo2":99.0,"pulseRate":66.0},
        "slow":{"spo2":97.0,"pulseRate":64.0},"status":["measurementOngoing","sensorDisconnected"],"pulseAmplitudeIndex":2.5}}"#,
    ),
    // PLX Features 0x2A60.
    (
        "plx features with status support",
        "2a60",
        &[0x03, 0x00, 0x00, 0x0C, 0x20, 0x00, 0x00],
        r#"{"kind":"plxFeatures","value":{"measurementStatusSupported":true,"deviceAndSensorStatusSupported":true,
        "measurementStorageSupported":false,"timeStampSupported":false,"spo2prFastSupported":false,"spo2prSlowSupported":false,
        "pulseAmplitudeIndexSupported":false,"multipleBondsSupported":false,
        "supportedMeasurementStatus":["demonstrationData","testingData"],"supportedDeviceAndSensorStatus":["lowPerfusion"]}}"#,
    ),
    (
        "plx features, reserved bits ignored",
        "2a60",
        &[0xFC, 0xFF],
        r#"{"kind":"plxFeatures","value":{"measurementStatusSupported":false,"deviceAndSensorStatusSupported":false,
        "measurementStorageSupported":true,"timeStampSupported":true,"spo2prFastSupported":true,"spo2prSlowSupported":true,
        "pulseAmplitudeIndexSupported":true,"multipleBondsSupported":true,
        "supportedMeasurementStatus":[],"supportedDeviceAndSensorStatus":[]}}"#,
    ),
    // Battery Level 0x2A19.
    (
        "battery full",
        "2a19",
        &[0x64],
        r#"{"kind":"batteryLevel","value":100}"#,
    ),
    (
        "battery empty",
        "2a19",
        &[0x00],
        r#"{"kind":"batteryLevel","value":0}"#,
    ),
    // Date Time 0x2A08.
    (
        "date time",
        "2a08",
        &[0xE8, 0x07, 0x03, 0x05, 0x08, 0x1E, 0x0F],
        r#"{"kind":"dateTime","value":{"year":2024,"month":3,"day":5,"hours":8,"minutes":30,"seconds":15}}"#,
    ),
    (
        "date time unknown",
        "2a08",
        &[0, 0, 0, 0, 0, 0, 0],
        r#"{"kind":"dateTime","value":{"year":0,"month":0,"day":0,"hours":0,"minutes":0,"seconds":0}}"#,
    ),
    (
        "date time leap day",
        "2a08",
        &[0xD0, 0x07, 0x02, 0x1D, 0x17, 0x3B, 0x3B],
        r#"{"kind":"dateTime","value":{"year":2000,"month":2,"day":29,"hours":23,"minutes":59,"seconds":59}}"#,
    ),
    (
        "date time first gregorian year",
        "2a08",
        &[0x2E, 0x06, 0x01, 0x01, 0x00, 0x00, 0x00],
        r#"{"kind":"dateTime","value":{"year":1582,"month":1,"day":1,"hours":0,"minutes":0,"seconds":0}}"#,
    ),
    // Device Information strings.
    (
        "manufacturer",
        "2a29",
        b"Acme Medical",
        r#"{"kind":"manufacturerName","value":"Acme Medical"}"#,
    ),
    (
        "model, NUL padded",
        "2a24",
        b"BP-7\0\0\0",
        r#"{"kind":"modelNumber","value":"BP-7"}"#,
    ),
    (
        "serial",
        "2a25",
        b"SN0001",
        r#"{"kind":"serialNumber","value":"SN0001"}"#,
    ),
    (
        "hardware",
        "2a27",
        b"rev C",
        r#"{"kind":"hardwareRevision","value":"rev C"}"#,
    ),
    (
        "firmware",
        "2a26",
        "1.2.3-ü".as_bytes(),
        r#"{"kind":"firmwareRevision","value":"1.2.3-ü"}"#,
    ),
    (
        "software, empty",
        "2a28",
        b"",
        r#"{"kind":"softwareRevision","value":""}"#,
    ),
    // System ID 0x2A23 and PnP ID 0x2A50.
    (
        "system id",
        "2a23",
        &[0xC3, 0x77, 0xAD, 0xDE, 0xEE, 0xAB, 0xED, 0xFE],
        r#"{"kind":"systemId","value":"FE-ED-AB-EE-DE-AD-77-C3"}"#,
    ),
    (
        "pnp id bluetooth",
        "2a50",
        &[0x01, 0x0D, 0x00, 0x34, 0x12, 0x00, 0x01],
        r#"{"kind":"pnpId","value":{"vendorIdSource":"bluetoothSig","vendorId":13,"productId":4660,"productVersion":256}}"#,
    ),
    (
        "pnp id usb",
        "2a50",
        &[0x02, 0x6B, 0x1D, 0x01, 0x00, 0x10, 0x00],
        r#"{"kind":"pnpId","value":{"vendorIdSource":"usbImplementersForum","vendorId":7531,"productId":1,"productVersion":16}}"#,
    ),
];

#[test]
fn every_vector_parses_to_its_expected_value() {
    for (what, uuid, bytes, want) in VECTORS {
        let got = parse(*uuid, bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
        let got = serde_json::to_value(&got).unwrap();
        let want: Value =
            serde_json::from_str(want).unwrap_or_else(|e| panic!("{what}: bad fixture: {e}"));
        assert_eq!(got, want, "{what}");
    }
}

#[test]
fn the_numeric_and_string_forms_of_a_uuid_parse_alike() {
    for (what, uuid, bytes, _) in VECTORS {
        let short = teleconsult::devices::uuid16_from_str(uuid).unwrap();
        assert_eq!(parse(&short, bytes), parse(*uuid, bytes), "{what}");
    }
}

#[test]
fn every_supported_characteristic_has_vectors() {
    use teleconsult::devices::Characteristic;
    for c in Characteristic::ALL {
        let hex = format!("{:04x}", c.uuid16());
        assert!(
            VECTORS.iter().any(|(_, u, _, _)| *u == hex),
            "{} has no vector",
            c.name()
        );
    }
}
