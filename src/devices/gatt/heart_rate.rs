//! Heart Rate Measurement (0x2A37), notified by chest straps and watches.
//!
//! Flags (u8): bit 0 value is u16 (else u8); bits 1–2 sensor contact; bit 3 Energy Expended
//! (u16, kJ) present; bit 4 RR-Intervals present (u16 each, 1/1024 s, oldest first, as many
//! as the remaining bytes hold — at least one). Bits 5–7 reserved (ignored).

use serde::Serialize;

use crate::devices::reader::Reader;
use crate::devices::{Characteristic, ParseError};

/// Whether the sensor touches the skin (bits 1–2 of the flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SensorContact {
    /// The sensor does not report contact (values 0 and 1).
    NotSupported,
    /// Supported, and the sensor reports no skin contact: the rate is unreliable.
    NotDetected,
    /// Supported and in contact.
    Detected,
}

/// One heart-rate notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeartRateMeasurement {
    /// Beats per minute.
    pub heart_rate: u16,
    /// Skin contact status.
    pub sensor_contact: SensorContact,
    /// Energy expended since the last reset, kilojoules (65535 means "at least 65535").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub energy_expended: Option<u16>,
    /// Beat-to-beat intervals in units of 1/1024 s, oldest first; empty when absent.
    pub rr_intervals: Vec<u16>,
}

const VALUE_U16: u8 = 0x01;
const ENERGY: u8 = 0x08;
const RR: u8 = 0x10;

/// Parses a Heart Rate Measurement.
pub fn parse(bytes: &[u8]) -> Result<HeartRateMeasurement, ParseError> {
    let mut r = Reader::new(Characteristic::HeartRateMeasurement, bytes);
    let flags = r.u8("flags")?;
    // Flag bits 5–7 are reserved for future use: ignored (see the module docs of `gatt`).
    let heart_rate = if flags & VALUE_U16 != 0 {
        r.u16("heartRate")?
    } else {
        r.u8("heartRate")?.into()
    };
    let sensor_contact = match (flags >> 1) & 0b11 {
        0b10 => SensorContact::NotDetected,
        0b11 => SensorContact::Detected,
        _ => SensorContact::NotSupported,
    };
    let energy_expended = if flags & ENERGY != 0 {
        Some(r.u16("energyExpended")?)
    } else {
        None
    };
    let mut rr_intervals = Vec::new();
    if flags & RR != 0 {
        // At least one interval; then as many as fit, and no odd byte left over.
        rr_intervals.push(r.u16("rrInterval")?);
        while r.remaining() >= 2 {
            rr_intervals.push(r.u16("rrInterval")?);
        }
    }
    r.finish()?;
    Ok(HeartRateMeasurement {
        heart_rate,
        sensor_contact,
        energy_expended,
        rr_intervals,
    })
}
