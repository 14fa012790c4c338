//! Temperature Type (0x2A1D): where the thermometer measures. One byte; also embedded in
//! Temperature Measurement.

use serde::Serialize;

use crate::devices::reader::Reader;
use crate::devices::{Characteristic, ParseError};

/// Measurement site. Values 0 and 10–255 are reserved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TemperatureType {
    /// 1: armpit (axilla).
    Armpit,
    /// 2: body, general.
    Body,
    /// 3: ear, usually earlobe.
    Ear,
    /// 4: finger.
    Finger,
    /// 5: gastro-intestinal tract.
    GastrointestinalTract,
    /// 6: mouth.
    Mouth,
    /// 7: rectum.
    Rectum,
    /// 8: toe.
    Toe,
    /// 9: tympanum (ear drum).
    Tympanum,
}

impl TemperatureType {
    /// The site for a one-byte code; `None` for the reserved codes 0 and 10–255.
    pub(crate) const fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => Self::Armpit,
            2 => Self::Body,
            3 => Self::Ear,
            4 => Self::Finger,
            5 => Self::GastrointestinalTract,
            6 => Self::Mouth,
            7 => Self::Rectum,
            8 => Self::Toe,
            9 => Self::Tympanum,
            _ => return None,
        })
    }
}

/// Parses the Temperature Type characteristic: exactly one byte.
///
/// A reserved code is rejected here (`Reserved`), unlike inside a Temperature Measurement
/// (where it reads as "site unknown" and the temperature stands): this characteristic holds
/// nothing but the code, so there is nothing to keep, and the Core Specification's rule for
/// a reserved *value* is that the receiver should reject it.
pub fn parse(bytes: &[u8]) -> Result<TemperatureType, ParseError> {
    let mut r = Reader::new(Characteristic::TemperatureType, bytes);
    let code = r.u8("temperatureType")?;
    let t = TemperatureType::from_code(code).ok_or_else(|| r.reserved("temperatureType"))?;
    r.finish()?;
    Ok(t)
}
