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
    /// Reads the one-byte code; reserved codes are rejected as `field`.
    pub(crate) fn read(r: &mut Reader<'_>, field: &'static str) -> Result<Self, ParseError> {
        Ok(match r.u8(field)? {
            1 => Self::Armpit,
            2 => Self::Body,
            3 => Self::Ear,
            4 => Self::Finger,
            5 => Self::GastrointestinalTract,
            6 => Self::Mouth,
            7 => Self::Rectum,
            8 => Self::Toe,
            9 => Self::Tympanum,
            _ => return Err(r.reserved(field)),
        })
    }
}

/// Parses the Temperature Type characteristic: exactly one byte.
pub fn parse(bytes: &[u8]) -> Result<TemperatureType, ParseError> {
    let mut r = Reader::new(Characteristic::TemperatureType, bytes);
    let t = TemperatureType::read(&mut r, "temperatureType")?;
    r.finish()?;
    Ok(t)
}
