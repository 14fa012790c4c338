//! Weight Measurement (0x2A9D), indicated by weight scales.
//!
//! Flags (u8): bit 0 imperial (else SI); bit 1 time stamp; bit 2 user id; bit 3 BMI and
//! height; bits 4–7 reserved (ignored). Weight (u16) in steps of 0.005 kg or 0.01 lb; 0xFFFF
//! means "measurement unsuccessful". BMI (u16) in steps of 0.1 kg/m²; height (u16) in steps of
//! 0.001 m or 0.1 in. The step is fixed by the specification; the Weight Scale Feature
//! (0x2A9E) tells how fine the scale really resolves (see [`super::weight_scale_feature`]).

use serde::Serialize;

use crate::devices::gatt::date_time::{DateTime, TIMESTAMP};
use crate::devices::reader::Reader;
use crate::devices::{Characteristic, Decimal, MderFloat, ParseError};

/// The unit system (flags bit 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum WeightUnit {
    /// Kilograms and metres.
    Si,
    /// Pounds and inches.
    Imperial,
}

/// One scale result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WeightMeasurement {
    /// The unit system of `weight` and `height`.
    pub unit: WeightUnit,
    /// Weight in kg or lb. The scale's "measurement unsuccessful" (0xFFFF) is kept as
    /// [`MderFloat::NaN`], the invalid-result special value.
    pub weight: MderFloat,
    /// Device wall-clock time of the measurement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime>,
    /// User id (255 = unknown user).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u8>,
    /// Body mass index, kg/m² (in both unit systems).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bmi: Option<Decimal>,
    /// Height in m or in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<Decimal>,
}

/// Parses a Weight Measurement.
pub fn parse(bytes: &[u8]) -> Result<WeightMeasurement, ParseError> {
    let mut r = Reader::new(Characteristic::WeightMeasurement, bytes);
    let flags = r.u8("flags")?;
    // Flag bits 4–7 are reserved for future use: ignored (see the module docs of `gatt`).
    let imperial = flags & 0x01 != 0;
    let raw = r.u16("weight")?;
    let weight = match (raw, imperial) {
        (0xFFFF, _) => MderFloat::NaN,
        (w, false) => MderFloat::Value(Decimal::new(i32::from(w) * 5, -3)),
        (w, true) => MderFloat::Value(Decimal::new(i32::from(w), -2)),
    };
    let timestamp = if flags & 0x02 != 0 {
        Some(DateTime::read(&mut r, &TIMESTAMP)?)
    } else {
        None
    };
    let user_id = if flags & 0x04 != 0 {
        Some(r.u8("userId")?)
    } else {
        None
    };
    let (bmi, height) = if flags & 0x08 != 0 {
        let bmi = Decimal::new(r.u16("bmi")?.into(), -1);
        let h = i32::from(r.u16("height")?);
        (
            Some(bmi),
            Some(if imperial {
                Decimal::new(h, -1)
            } else {
                Decimal::new(h, -3)
            }),
        )
    } else {
        (None, None)
    };
    r.finish()?;
    let unit = if imperial {
        WeightUnit::Imperial
    } else {
        WeightUnit::Si
    };
    Ok(WeightMeasurement {
        unit,
        weight,
        timestamp,
        user_id,
        bmi,
        height,
    })
}
