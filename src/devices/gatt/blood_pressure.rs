//! Blood Pressure Measurement (0x2A35), indicated by cuffs after each measurement.
//!
//! Flags (u8): bit 0 unit kPa (else mmHg); bit 1 time stamp; bit 2 pulse rate; bit 3 user
//! id; bit 4 measurement status; bits 5–7 reserved (ignored). Then systolic, diastolic and
//! mean arterial pressure (SFLOAT each), the optional Date Time, pulse rate (SFLOAT, /min),
//! user id (u8, 255 = unknown user) and measurement status (u16; bits 6–15 and pulse-rate
//! range 3 are reserved and ignored). Intermediate Cuff Pressure (0x2A36) shares this layout.

use serde::Serialize;

use crate::devices::gatt::date_time::{DateTime, TIMESTAMP};
use crate::devices::gatt::{StatusFlag, flags_from_bits};
use crate::devices::reader::Reader;
use crate::devices::{Characteristic, MderFloat, ParseError};

/// The pressure unit (flags bit 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum PressureUnit {
    /// Millimetres of mercury.
    #[serde(rename = "mmHg")]
    MmHg,
    /// Kilopascal.
    #[serde(rename = "kPa")]
    KPa,
}

/// One blood pressure result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BloodPressureMeasurement {
    /// Unit of the three pressures.
    pub unit: PressureUnit,
    /// Systolic pressure.
    pub systolic: MderFloat,
    /// Diastolic pressure.
    pub diastolic: MderFloat,
    /// Mean arterial pressure.
    pub mean_arterial_pressure: MderFloat,
    /// Device wall-clock time of the measurement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime>,
    /// Pulse rate, beats per minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pulse_rate: Option<MderFloat>,
    /// Which of the device's users measured (255 = unknown user).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u8>,
    /// Measurement status: body movement, cuff too loose, irregular pulse, pulse rate above
    /// or below range, improper position. Empty when absent or all clear.
    pub status: Vec<StatusFlag>,
}

/// Measurement status bits 0-5 (bits 3-4 encode the pulse-rate range); 6-15 are reserved.
const STATUS_BITS: [Option<StatusFlag>; 6] = [
    Some(StatusFlag::BodyMovement),
    Some(StatusFlag::CuffTooLoose),
    Some(StatusFlag::IrregularPulse),
    Some(StatusFlag::PulseRateAboveRange),
    Some(StatusFlag::PulseRateBelowRange),
    Some(StatusFlag::ImproperPosition),
];

/// The layout shared with Intermediate Cuff Pressure.
pub(crate) struct Layout {
    pub unit: PressureUnit,
    pub first: MderFloat,
    pub second: MderFloat,
    pub third: MderFloat,
    pub timestamp: Option<DateTime>,
    pub pulse_rate: Option<MderFloat>,
    pub user_id: Option<u8>,
    pub status: Vec<StatusFlag>,
}

pub(crate) fn read_layout(
    characteristic: Characteristic,
    bytes: &[u8],
    names: [&'static str; 3],
) -> Result<Layout, ParseError> {
    let mut r = Reader::new(characteristic, bytes);
    let flags = r.u8("flags")?;
    // Flag bits 5–7 are reserved for future use: ignored (see the module docs of `gatt`).
    let unit = if flags & 0x01 != 0 {
        PressureUnit::KPa
    } else {
        PressureUnit::MmHg
    };
    let first = r.sfloat(names[0])?;
    let second = r.sfloat(names[1])?;
    let third = r.sfloat(names[2])?;
    let timestamp = if flags & 0x02 != 0 {
        Some(DateTime::read(&mut r, &TIMESTAMP)?)
    } else {
        None
    };
    let pulse_rate = if flags & 0x04 != 0 {
        Some(r.sfloat("pulseRate")?)
    } else {
        None
    };
    let user_id = if flags & 0x08 != 0 {
        Some(r.u8("userId")?)
    } else {
        None
    };
    let status = if flags & 0x10 != 0 {
        // Bits 3-4 are the pulse-rate range: 0 in range, 1 above, 2 below, 3 reserved for
        // future use. A reserved range says nothing we can read: it is ignored like range 0
        // (no range flag), and the other status bits still count.
        let mut s = r.u16("status")?;
        if (s >> 3) & 0b11 == 0b11 {
            s &= !(0b11 << 3);
        }
        flags_from_bits(s.into(), &STATUS_BITS)
    } else {
        Vec::new()
    };
    r.finish()?;
    Ok(Layout {
        unit,
        first,
        second,
        third,
        timestamp,
        pulse_rate,
        user_id,
        status,
    })
}

/// Parses a Blood Pressure Measurement.
pub fn parse(bytes: &[u8]) -> Result<BloodPressureMeasurement, ParseError> {
    let l = read_layout(
        Characteristic::BloodPressureMeasurement,
        bytes,
        ["systolic", "diastolic", "meanArterialPressure"],
    )?;
    Ok(BloodPressureMeasurement {
        unit: l.unit,
        systolic: l.first,
        diastolic: l.second,
        mean_arterial_pressure: l.third,
        timestamp: l.timestamp,
        pulse_rate: l.pulse_rate,
        user_id: l.user_id,
        status: l.status,
    })
}
