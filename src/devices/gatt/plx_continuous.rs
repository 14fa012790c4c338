//! PLX Continuous Measurement (0x2A5F), notified by pulse oximeters while worn.
//!
//! Flags (u8): bit 0 SpO2PR-Fast present; bit 1 SpO2PR-Slow present; bit 2 measurement
//! status; bit 3 device and sensor status; bit 4 pulse amplitude index; bits 5–7 reserved
//! (ignored).
//! Body: SpO2PR-Normal (SpO2 and pulse rate, SFLOAT each), SpO2PR-Fast, SpO2PR-Slow,
//! measurement status (u16), device and sensor status (u24), pulse amplitude index (SFLOAT).

use serde::Serialize;

use crate::devices::gatt::StatusFlag;
use crate::devices::gatt::plx_spot_check::read_status;
use crate::devices::reader::Reader;
use crate::devices::{Characteristic, MderFloat, ParseError};

/// An SpO2 and pulse-rate pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpO2Pr {
    /// Oxygen saturation, percent.
    pub spo2: MderFloat,
    /// Pulse rate, beats per minute.
    pub pulse_rate: MderFloat,
}

/// One continuous sample.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlxContinuous {
    /// Normal averaging: the value to show and record.
    pub normal: SpO2Pr,
    /// Fast-responding averaging.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fast: Option<SpO2Pr>,
    /// Slow-responding averaging.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slow: Option<SpO2Pr>,
    /// Measurement status and device/sensor status flags; empty when absent or all clear.
    pub status: Vec<StatusFlag>,
    /// Pulse amplitude index, percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pulse_amplitude_index: Option<MderFloat>,
}

fn pair(r: &mut Reader<'_>, spo2: &'static str, pr: &'static str) -> Result<SpO2Pr, ParseError> {
    Ok(SpO2Pr {
        spo2: r.sfloat(spo2)?,
        pulse_rate: r.sfloat(pr)?,
    })
}

/// Parses a PLX Continuous Measurement.
pub fn parse(bytes: &[u8]) -> Result<PlxContinuous, ParseError> {
    let mut r = Reader::new(Characteristic::PlxContinuousMeasurement, bytes);
    let flags = r.u8("flags")?;
    // Flag bits 5–7 are reserved for future use: ignored (see the module docs of `gatt`).
    let normal = pair(&mut r, "spo2", "pulseRate")?;
    let fast = if flags & 0x01 != 0 {
        Some(pair(&mut r, "fast.spo2", "fast.pulseRate")?)
    } else {
        None
    };
    let slow = if flags & 0x02 != 0 {
        Some(pair(&mut r, "slow.spo2", "slow.pulseRate")?)
    } else {
        None
    };
    let status = read_status(&mut r, flags & 0x04 != 0, flags & 0x08 != 0)?;
    let pulse_amplitude_index = if flags & 0x10 != 0 {
        Some(r.sfloat("pulseAmplitudeIndex")?)
    } else {
        None
    };
    r.finish()?;
    Ok(PlxContinuous {
        normal,
        fast,
        slow,
        status,
        pulse_amplitude_index,
    })
}
