//! [`RawRecord`]: the exact inputs of a capture, so a reading can be rebuilt (and checked
//! against its id) anywhere with the same parsers; and the small base64 codec its wire form
//! is written with.
//!
//! Only raw records travel between participants (see [`super::wire`]): a receiver rebuilds
//! each reading itself, so a peer can only ever send what a device could have sent.

use super::gatt::{pnp_id, system_id, weight_scale_feature};
use super::reading::capture_parsed;
use super::{
    CaptureContext, CaptureError, Characteristic, CharacteristicId, DeviceIdentity, Measurement,
    Reading, parse,
};

/// The largest GATT attribute value; nothing longer is a characteristic value.
pub const MAX_VALUE_LEN: usize = 512;

/// The most characters a device id may have: plugin ids are UUIDs or MAC addresses, Web
/// Bluetooth's are 24 base64 characters.
pub const MAX_DEVICE_ID_LEN: usize = 256;

/// Everything [`super::capture`] needs to make one reading, in a form that survives JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRecord {
    /// The characteristic's 16-bit UUID.
    pub uuid: u16,
    /// The characteristic value as the device sent it.
    pub value: Vec<u8>,
    /// The host's id for the device (1 to [`MAX_DEVICE_ID_LEN`] bytes).
    pub device_id: String,
    /// The System ID value (little-endian, as received), when the device exposes one.
    pub system_id: Option<[u8; 8]>,
    /// The PnP ID value, when the device exposes one.
    pub pnp_id: Option<Vec<u8>>,
    /// When the value arrived, ms since the Unix epoch.
    pub received_at: u64,
    /// The UTC offset the device clock is taken to run in, minutes east of UTC.
    pub utc_offset: Option<i16>,
    /// The Weight Scale Feature field, for weight measurements.
    pub weight_feature: Option<u32>,
    /// The Glucose Measurement Context value that followed a glucose record.
    pub glucose_context: Option<Vec<u8>>,
}

impl RawRecord {
    /// Runs the core `capture` (and attaches the glucose context) on these inputs.
    pub fn capture(&self) -> Result<Reading, CaptureError> {
        let characteristic = self.uuid.characteristic()?;
        let measurement = parse(&characteristic, &self.value)?;
        self.capture_parsed(characteristic, measurement)
    }

    /// [`Self::capture`] when `measurement` is already what `parse` made of `self.value`.
    pub(crate) fn capture_parsed(
        &self,
        characteristic: Characteristic,
        measurement: Measurement,
    ) -> Result<Reading, CaptureError> {
        let device = DeviceIdentity {
            id: self.device_id.clone(),
            system_id: match self.system_id {
                Some(b) => Some(system_id::parse(&b)?),
                None => None,
            },
            pnp_id: match &self.pnp_id {
                Some(b) => Some(pnp_id::parse(b)?),
                None => None,
            },
        };
        let ctx = CaptureContext {
            device,
            now: self.received_at,
            device_utc_offset_minutes: self.utc_offset,
            weight_scale_feature: match self.weight_feature {
                Some(f) => Some(weight_scale_feature::parse(&f.to_le_bytes())?),
                None => None,
            },
        };
        let mut reading = capture_parsed(characteristic, measurement, &self.value, &ctx)?;
        if let Some(bytes) = &self.glucose_context {
            match parse(&Characteristic::GlucoseMeasurementContext, bytes)? {
                Measurement::GlucoseContext(c) => reading.attach_glucose_context(c)?,
                _ => return Err(CaptureError::ContextMismatch),
            }
        }
        Ok(reading)
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Base64 in the standard or URL-safe alphabet, padding optional; `None` for anything else
/// (whitespace, stray characters, impossible lengths, non-zero trailing bits) or for more
/// than [`MAX_VALUE_LEN`] bytes.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let trimmed = s.trim_end_matches('=');
    if s.len() - trimmed.len() > 2 || (s.len() != trimmed.len() && s.len() % 4 != 0) {
        return None;
    }
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for c in trimmed.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
        if out.len() > MAX_VALUE_LEN {
            return None;
        }
    }
    // A lone 6-bit group is impossible; leftover bits must be zero (canonical encoding).
    if bits >= 6 || acc != 0 {
        return None;
    }
    Some(out)
}

/// The System ID bytes (little-endian) of an EUI-64 string `"FE-ED-…"` (most significant
/// byte first, as [`system_id::SystemId::eui64`] writes it); `None` if malformed.
pub fn system_id_from_eui64(s: &str) -> Option<[u8; 8]> {
    let b = s.as_bytes();
    if b.len() != 23 {
        return None;
    }
    let mut out = [0u8; 8];
    for (i, slot) in out.iter_mut().rev().enumerate() {
        let at = i * 3;
        if i > 0 && b.get(at - 1) != Some(&b'-') {
            return None;
        }
        let hex = |c: u8| char::from(c).to_digit(16);
        let (hi, lo) = (hex(*b.get(at)?)?, hex(*b.get(at + 1)?)?);
        *slot = (hi * 16 + lo) as u8;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_refuses_non_canonical_text() {
        for n in 0..20 {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37) as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&bytes)), Some(bytes));
        }
        for bad in ["A", "AB=", "AB==C", "A B=", "AQ=x", "AR==", "===="] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
        assert_eq!(base64_decode(&"A".repeat(700)), None);
    }

    #[test]
    fn eui64_strings_give_the_system_id_bytes() {
        let id = system_id::SystemId {
            bytes: [1, 2, 3, 4, 5, 6, 7, 0xFE],
        };
        assert_eq!(system_id_from_eui64(&id.eui64()), Some(id.bytes));
        for bad in [
            "",
            "FE-07-06-05-04-03-02",
            "FE:07:06:05:04:03:02:01",
            "FE-07-06-05-04-03-02-0G",
        ] {
            assert_eq!(system_id_from_eui64(bad), None, "{bad}");
        }
    }
}
