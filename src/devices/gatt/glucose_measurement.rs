//! Glucose Measurement (0x2A18), notified by glucose meters — live, or one per stored record
//! during a Record Access Control Point download.
//!
//! Flags (u8): bit 0 time offset present; bit 1 concentration, type and sample location
//! present; bit 2 concentration unit mol/L (else kg/L); bit 3 sensor status annunciation
//! present; bit 4 a Glucose Measurement Context with the same sequence number follows;
//! bits 5–7 reserved (ignored). Body: sequence number (u16), base time (Date Time), time
//! offset (s16, minutes), concentration (SFLOAT), type (low nibble) and sample location (high
//! nibble), sensor status annunciation (u16; bits 12–15 reserved and ignored).

use serde::Serialize;

use crate::devices::gatt::date_time::{BASE_TIME, DateTime};
use crate::devices::gatt::{StatusFlag, flags_from_bits};
use crate::devices::reader::Reader;
use crate::devices::{Characteristic, MderFloat, ParseError};

/// The concentration unit (flags bit 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum GlucoseUnit {
    /// Kilograms per litre (1 kg/L = 100 000 mg/dL).
    #[serde(rename = "kg/L")]
    KgPerL,
    /// Moles per litre (1 mol/L = 1000 mmol/L).
    #[serde(rename = "mol/L")]
    MolPerL,
}

/// What was sampled (low nibble). 0 and 11–15 are reserved and rejected (`Reserved`, field
/// `type`): the type decides whether the value is the patient's at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SampleType {
    /// 1.
    CapillaryWholeBlood,
    /// 2.
    CapillaryPlasma,
    /// 3.
    VenousWholeBlood,
    /// 4.
    VenousPlasma,
    /// 5.
    ArterialWholeBlood,
    /// 6.
    ArterialPlasma,
    /// 7.
    UndeterminedWholeBlood,
    /// 8.
    UndeterminedPlasma,
    /// 9: interstitial fluid.
    InterstitialFluid,
    /// 10: control solution — a meter check, not the patient.
    ControlSolution,
}

/// Where the sample was taken (high nibble). 0 and 5–14 are reserved and read as
/// [`NotAvailable`](Self::NotAvailable): the location is unknown, the result stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SampleLocation {
    /// 1.
    Finger,
    /// 2: alternate site test.
    AlternateSiteTest,
    /// 3.
    Earlobe,
    /// 4: control solution.
    ControlSolution,
    /// 15: location not available.
    NotAvailable,
}

/// The concentration with its sample description.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GlucoseConcentration {
    /// Unit of `value`.
    pub unit: GlucoseUnit,
    /// The concentration in kg/L or mol/L (e.g. 0.00095 kg/L = 95 mg/dL).
    pub value: MderFloat,
    /// What was sampled.
    pub sample_type: SampleType,
    /// Where.
    pub sample_location: SampleLocation,
}

/// One glucose record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GlucoseMeasurement {
    /// The meter's record number; increases by one per record and survives download.
    pub sequence_number: u16,
    /// Device wall-clock base time.
    pub base_time: DateTime,
    /// Minutes to add to the base time (user-facing time = base time + offset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_offset: Option<i16>,
    /// The result; absent in records that only carry status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concentration: Option<GlucoseConcentration>,
    /// Sensor status annunciation; empty when absent or all clear.
    pub status: Vec<StatusFlag>,
    /// A Glucose Measurement Context with the same sequence number follows.
    pub context_follows: bool,
}

/// Sensor status annunciation bits 0–11; 12–15 are reserved.
const STATUS_BITS: [Option<StatusFlag>; 12] = [
    Some(StatusFlag::DeviceBatteryLow),
    Some(StatusFlag::SensorMalfunction),
    Some(StatusFlag::SampleSizeInsufficient),
    Some(StatusFlag::StripInsertionError),
    Some(StatusFlag::StripTypeIncorrect),
    Some(StatusFlag::ResultAboveDeviceRange),
    Some(StatusFlag::ResultBelowDeviceRange),
    Some(StatusFlag::SensorTemperatureTooHigh),
    Some(StatusFlag::SensorTemperatureTooLow),
    Some(StatusFlag::StripPulledTooSoon),
    Some(StatusFlag::GeneralDeviceFault),
    Some(StatusFlag::TimeFault),
];

/// Parses a Glucose Measurement.
pub fn parse(bytes: &[u8]) -> Result<GlucoseMeasurement, ParseError> {
    let mut r = Reader::new(Characteristic::GlucoseMeasurement, bytes);
    let flags = r.u8("flags")?;
    // Flag bits 5–7 are reserved for future use: ignored (see the module docs of `gatt`).
    let sequence_number = r.u16("sequenceNumber")?;
    let base_time = DateTime::read(&mut r, &BASE_TIME)?;
    let time_offset = if flags & 0x01 != 0 {
        Some(r.i16("timeOffset")?)
    } else {
        None
    };
    let concentration = if flags & 0x02 != 0 {
        let value = r.sfloat("concentration")?;
        let ts = r.u8("typeSampleLocation")?;
        let sample_type = match ts & 0x0F {
            1 => SampleType::CapillaryWholeBlood,
            2 => SampleType::CapillaryPlasma,
            3 => SampleType::VenousWholeBlood,
            4 => SampleType::VenousPlasma,
            5 => SampleType::ArterialWholeBlood,
            6 => SampleType::ArterialPlasma,
            7 => SampleType::UndeterminedWholeBlood,
            8 => SampleType::UndeterminedPlasma,
            9 => SampleType::InterstitialFluid,
            10 => SampleType::ControlSolution,
            // Reserved (0, 11–15): still rejected. The type decides whether the value is the
            // patient's blood at all (a new code may be another check fluid) and its FHIR
            // code; a concentration of unknown provenance is not shown as patient data.
            _ => return Err(r.reserved("type")),
        };
        let sample_location = match ts >> 4 {
            1 => SampleLocation::Finger,
            2 => SampleLocation::AlternateSiteTest,
            3 => SampleLocation::Earlobe,
            4 => SampleLocation::ControlSolution,
            // 15, and the reserved 0 and 5–14: the location is not known to us.
            _ => SampleLocation::NotAvailable,
        };
        let unit = if flags & 0x04 != 0 {
            GlucoseUnit::MolPerL
        } else {
            GlucoseUnit::KgPerL
        };
        Some(GlucoseConcentration {
            unit,
            value,
            sample_type,
            sample_location,
        })
    } else {
        None
    };
    let status = if flags & 0x08 != 0 {
        flags_from_bits(r.u16("sensorStatusAnnunciation")?.into(), &STATUS_BITS)
    } else {
        Vec::new()
    };
    r.finish()?;
    Ok(GlucoseMeasurement {
        sequence_number,
        base_time,
        time_offset,
        concentration,
        status,
        context_follows: flags & 0x10 != 0,
    })
}
