//! The Device Information strings: Manufacturer Name (0x2A29), Model Number (0x2A24),
//! Serial Number (0x2A25), Hardware Revision (0x2A27), Firmware Revision (0x2A26) and
//! Software Revision (0x2A28). Each is a UTF-8 string filling the whole value.
//!
//! Many devices pad with NUL bytes; trailing NULs are dropped. Any other control character
//! (a NUL inside the text, escape sequences, line breaks) is rejected: these strings end up
//! on screens and in records, and a device must not be able to inject formatting.
//! Web Bluetooth blocks the Serial Number entirely; a native bridge may still supply it.

use crate::devices::{Characteristic, ParseError};

/// Longest value accepted: the ATT maximum attribute length.
pub const MAX_LEN: usize = 512;

/// Parses one of the Device Information strings.
pub fn parse(characteristic: Characteristic, bytes: &[u8]) -> Result<String, ParseError> {
    let invalid = ParseError::Invalid {
        characteristic,
        field: "value",
    };
    if bytes.len() > MAX_LEN {
        return Err(invalid);
    }
    let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    let text = core::str::from_utf8(bytes.get(..end).unwrap_or_default()).map_err(|_| invalid)?;
    if text.chars().any(char::is_control) {
        return Err(invalid);
    }
    Ok(text.to_owned())
}
