//! Weight Scale Feature (0x2A9E): what a scale supports and how finely it resolves.
//!
//! u32: bit 0 time stamp supported; bit 1 multiple users; bit 2 BMI supported; bits 3–6
//! weight resolution (0 = not specified, 1 = 0.5 kg / 1 lb … 7 = 0.005 kg / 0.01 lb,
//! 8–15 reserved); bits 7–9 height resolution (0 = not specified, 1 = 0.01 m / 1 in,
//! 2 = 0.005 m / 0.5 in, 3 = 0.001 m / 0.1 in, 4–7 reserved); bits 10–31 reserved (ignored).
//!
//! A reserved resolution (weight 8–15, height 4–7) reads as "not specified": the scale's
//! resolution is then unknown to us, exactly as when it states none, and the other features
//! stand.

use serde::Serialize;

use crate::devices::reader::Reader;
use crate::devices::{Characteristic, Decimal, ParseError};

/// A resolution in both unit systems.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolution {
    /// Step in kg (weight) or m (height).
    pub si: Decimal,
    /// Step in lb (weight) or in (height).
    pub imperial: Decimal,
}

impl Resolution {
    /// The step for the unit system a measurement uses.
    pub const fn step(&self, imperial: bool) -> Decimal {
        if imperial { self.imperial } else { self.si }
    }
}

/// A weight scale's features.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WeightScaleFeature {
    /// Measurements can carry a time stamp.
    pub time_stamp_supported: bool,
    /// The scale distinguishes users.
    pub multiple_users_supported: bool,
    /// The scale reports BMI and height.
    pub bmi_supported: bool,
    /// Weight resolution; `None` when not specified (or a reserved value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_resolution: Option<Resolution>,
    /// Height resolution; `None` when not specified (or a reserved value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height_resolution: Option<Resolution>,
}

const fn res(si_m: i32, si_e: i16, imp_m: i32, imp_e: i16) -> Option<Resolution> {
    Some(Resolution {
        si: Decimal::new(si_m, si_e),
        imperial: Decimal::new(imp_m, imp_e),
    })
}

/// Parses the Weight Scale Feature: exactly four bytes.
pub fn parse(bytes: &[u8]) -> Result<WeightScaleFeature, ParseError> {
    let mut r = Reader::new(Characteristic::WeightScaleFeature, bytes);
    let f = r.u32("features")?;
    let weight_resolution = match (f >> 3) & 0x0F {
        0 => None,
        1 => res(5, -1, 1, 0),
        2 => res(2, -1, 5, -1),
        3 => res(1, -1, 2, -1),
        4 => res(5, -2, 1, -1),
        5 => res(2, -2, 5, -2),
        6 => res(1, -2, 2, -2),
        7 => res(5, -3, 1, -2),
        _ => None, // 8–15: reserved for future use
    };
    let height_resolution = match (f >> 7) & 0x07 {
        0 => None,
        1 => res(1, -2, 1, 0),
        2 => res(5, -3, 5, -1),
        3 => res(1, -3, 1, -1),
        _ => None, // 4–7: reserved for future use
    };
    r.finish()?;
    Ok(WeightScaleFeature {
        time_stamp_supported: f & 0x01 != 0,
        multiple_users_supported: f & 0x02 != 0,
        bmi_supported: f & 0x04 != 0,
        weight_resolution,
        height_resolution,
    })
}
