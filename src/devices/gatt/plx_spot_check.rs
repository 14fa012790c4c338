//! PLX Spot-Check Measurement (0x2A5E), indicated by pulse oximeters after a spot check.
//!
//! Flags (u8): bit 0 time stamp; bit 1 measurement status; bit 2 device and sensor status
//! (24 bit); bit 3 pulse amplitude index; bit 4 device clock is not set; bits 5–7 reserved
//! (ignored).
//! Body: SpO2 (SFLOAT, %), pulse rate (SFLOAT, /min), Date Time, measurement status (u16),
//! device and sensor status (u24), pulse amplitude index (SFLOAT, %).

use serde::Serialize;

use crate::devices::gatt::date_time::{DateTime, TIMESTAMP};
use crate::devices::gatt::{StatusFlag, flags_from_bits};
use crate::devices::reader::Reader;
use crate::devices::{Characteristic, MderFloat, ParseError};

/// Measurement status bits 0–15 (0–4 reserved).
pub(crate) const MEASUREMENT_STATUS_BITS: [Option<StatusFlag>; 16] = [
    None,
    None,
    None,
    None,
    None,
    Some(StatusFlag::MeasurementOngoing),
    Some(StatusFlag::EarlyEstimatedData),
    Some(StatusFlag::ValidatedData),
    Some(StatusFlag::FullyQualifiedData),
    Some(StatusFlag::DataFromStorage),
    Some(StatusFlag::DemonstrationData),
    Some(StatusFlag::TestingData),
    Some(StatusFlag::CalibrationOngoing),
    Some(StatusFlag::MeasurementUnavailable),
    Some(StatusFlag::QuestionableMeasurement),
    Some(StatusFlag::InvalidMeasurement),
];

/// Device and sensor status bits 0–15 (16–23 reserved).
pub(crate) const DEVICE_STATUS_BITS: [Option<StatusFlag>; 16] = [
    Some(StatusFlag::ExtendedDisplayUpdateOngoing),
    Some(StatusFlag::EquipmentMalfunction),
    Some(StatusFlag::SignalProcessingIrregularity),
    Some(StatusFlag::InadequateSignal),
    Some(StatusFlag::PoorSignal),
    Some(StatusFlag::LowPerfusion),
    Some(StatusFlag::ErraticSignal),
    Some(StatusFlag::NonpulsatileSignal),
    Some(StatusFlag::QuestionablePulse),
    Some(StatusFlag::SignalAnalysisOngoing),
    Some(StatusFlag::SensorInterference),
    Some(StatusFlag::SensorUnconnectedToUser),
    Some(StatusFlag::UnknownSensorConnected),
    Some(StatusFlag::SensorDisplaced),
    Some(StatusFlag::SensorMalfunction),
    Some(StatusFlag::SensorDisconnected),
];

/// One spot-check result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlxSpotCheck {
    /// Oxygen saturation, percent.
    pub spo2: MderFloat,
    /// Pulse rate, beats per minute.
    pub pulse_rate: MderFloat,
    /// Device wall-clock time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime>,
    /// Measurement status and device/sensor status flags; empty when absent or all clear.
    pub status: Vec<StatusFlag>,
    /// Pulse amplitude index, percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pulse_amplitude_index: Option<MderFloat>,
    /// The device says its clock is not set: `timestamp` is not on any real timeline.
    pub device_clock_not_set: bool,
}

/// Reads the optional status fields shared by both PLX measurements.
pub(crate) fn read_status(
    r: &mut Reader<'_>,
    measurement: bool,
    device: bool,
) -> Result<Vec<StatusFlag>, ParseError> {
    let mut status = Vec::new();
    if measurement {
        status.extend(flags_from_bits(
            r.u16("measurementStatus")?.into(),
            &MEASUREMENT_STATUS_BITS,
        ));
    }
    if device {
        status.extend(flags_from_bits(
            r.u24("deviceAndSensorStatus")?,
            &DEVICE_STATUS_BITS,
        ));
    }
    Ok(status)
}

/// Parses a PLX Spot-Check Measurement.
pub fn parse(bytes: &[u8]) -> Result<PlxSpotCheck, ParseError> {
    let mut r = Reader::new(Characteristic::PlxSpotCheckMeasurement, bytes);
    let flags = r.u8("flags")?;
    // Flag bits 5–7 are reserved for future use: ignored (see the module docs of `gatt`).
    let spo2 = r.sfloat("spo2")?;
    let pulse_rate = r.sfloat("pulseRate")?;
    let timestamp = if flags & 0x01 != 0 {
        Some(DateTime::read(&mut r, &TIMESTAMP)?)
    } else {
        None
    };
    let status = read_status(&mut r, flags & 0x02 != 0, flags & 0x04 != 0)?;
    let pulse_amplitude_index = if flags & 0x08 != 0 {
        Some(r.sfloat("pulseAmplitudeIndex")?)
    } else {
        None
    };
    r.finish()?;
    Ok(PlxSpotCheck {
        spo2,
        pulse_rate,
        timestamp,
        status,
        pulse_amplitude_index,
        device_clock_not_set: flags & 0x10 != 0,
    })
}
