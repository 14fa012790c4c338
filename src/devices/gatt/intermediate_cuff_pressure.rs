//! Intermediate Cuff Pressure (0x2A36): the cuff pressure while a measurement is under way.
//!
//! Same layout as Blood Pressure Measurement (0x2A35); the systolic slot carries the current
//! cuff pressure and the diastolic and mean arterial slots are unused (devices send NaN).
//! They are read for the layout and dropped. This is progress, not a result: it is never
//! mapped to FHIR.

use serde::Serialize;

use crate::devices::gatt::StatusFlag;
use crate::devices::gatt::blood_pressure::{PressureUnit, read_layout};
use crate::devices::gatt::date_time::DateTime;
use crate::devices::{Characteristic, MderFloat, ParseError};

/// The current cuff pressure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntermediateCuffPressure {
    /// Unit of the cuff pressure.
    pub unit: PressureUnit,
    /// Current cuff pressure.
    pub cuff_pressure: MderFloat,
    /// Device wall-clock time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime>,
    /// Pulse rate so far, beats per minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pulse_rate: Option<MderFloat>,
    /// User id (255 = unknown user).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u8>,
    /// Measurement status so far (see Blood Pressure Measurement).
    pub status: Vec<StatusFlag>,
}

/// Parses an Intermediate Cuff Pressure value.
pub fn parse(bytes: &[u8]) -> Result<IntermediateCuffPressure, ParseError> {
    let l = read_layout(
        Characteristic::IntermediateCuffPressure,
        bytes,
        [
            "cuffPressure",
            "diastolicUnused",
            "meanArterialPressureUnused",
        ],
    )?;
    Ok(IntermediateCuffPressure {
        unit: l.unit,
        cuff_pressure: l.first,
        timestamp: l.timestamp,
        pulse_rate: l.pulse_rate,
        user_id: l.user_id,
        status: l.status,
    })
}
