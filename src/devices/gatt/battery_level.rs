//! Battery Level (0x2A19): one byte, percent 0–100. Values 101–255 are reserved and rejected
//! (`Reserved`): the byte is the whole value, and a reserved one says nothing.

use crate::devices::reader::Reader;
use crate::devices::{Characteristic, ParseError};

/// Parses a Battery Level.
pub fn parse(bytes: &[u8]) -> Result<u8, ParseError> {
    let mut r = Reader::new(Characteristic::BatteryLevel, bytes);
    let level = r.u8("batteryLevel")?;
    if level > 100 {
        return Err(r.reserved("batteryLevel"));
    }
    r.finish()?;
    Ok(level)
}
