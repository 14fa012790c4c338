//! System ID (0x2A23): the device's EUI-64, the identity the PHD IG puts in
//! `Device.identifier` (system `urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680`).
//!
//! Eight bytes, little-endian: a 40-bit manufacturer-defined identifier, then the 24-bit
//! organizationally unique identifier (OUI). The EUI-64 is OUI then identifier, most
//! significant byte first — the eight bytes reversed — written as the IG asks:
//! `FE-ED-AB-EE-DE-AD-77-C3`.

use serde::{Serialize, Serializer};

use crate::devices::reader::Reader;
use crate::devices::{Characteristic, ParseError};

/// A device's System ID. JavaScript sees the EUI-64 string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SystemId {
    /// The value as received (little-endian).
    pub bytes: [u8; 8],
}

impl SystemId {
    /// The EUI-64 as eight upper-case hex pairs separated by dashes.
    pub fn eui64(&self) -> String {
        let mut out = String::with_capacity(23);
        for (i, b) in self.bytes.iter().rev().enumerate() {
            if i > 0 {
                out.push('-');
            }
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0F)]));
        }
        out
    }

    /// The 24-bit organizationally unique identifier.
    pub fn oui(&self) -> u32 {
        let [.., a, b, c] = self.bytes;
        u32::from_le_bytes([a, b, c, 0])
    }

    /// Whether the device left it unset (all zero): then it identifies nothing.
    pub fn is_unset(&self) -> bool {
        self.bytes == [0; 8]
    }
}

impl Serialize for SystemId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.eui64())
    }
}

/// Parses a System ID: exactly eight bytes.
pub fn parse(bytes: &[u8]) -> Result<SystemId, ParseError> {
    let mut r = Reader::new(Characteristic::SystemId, bytes);
    let id = SystemId {
        bytes: r.take("systemId")?,
    };
    r.finish()?;
    Ok(id)
}
