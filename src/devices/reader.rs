//! The one bounds-checked, little-endian byte reader every parser shares.
//!
//! Each read names the field it reads, so a short payload becomes
//! [`ParseError::Truncated`] with that name; [`Reader::finish`] turns leftover bytes into
//! [`ParseError::TrailingBytes`]. No indexing, no panics.

use super::{Characteristic, MderFloat, ParseError};

pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    characteristic: Characteristic,
}

impl<'a> Reader<'a> {
    pub(crate) const fn new(characteristic: Characteristic, bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            characteristic,
        }
    }

    /// Bytes not read yet.
    pub(crate) const fn remaining(&self) -> usize {
        self.bytes.len()
    }

    pub(crate) fn take<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], ParseError> {
        match self.bytes.split_first_chunk::<N>() {
            Some((head, rest)) => {
                self.bytes = rest;
                Ok(*head)
            }
            None => Err(self.truncated(field)),
        }
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, ParseError> {
        Ok(self.take::<1>(field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, ParseError> {
        Ok(u16::from_le_bytes(self.take(field)?))
    }

    pub(crate) fn i16(&mut self, field: &'static str) -> Result<i16, ParseError> {
        Ok(i16::from_le_bytes(self.take(field)?))
    }

    pub(crate) fn u24(&mut self, field: &'static str) -> Result<u32, ParseError> {
        let [a, b, c] = self.take(field)?;
        Ok(u32::from_le_bytes([a, b, c, 0]))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, ParseError> {
        Ok(u32::from_le_bytes(self.take(field)?))
    }

    pub(crate) fn sfloat(&mut self, field: &'static str) -> Result<MderFloat, ParseError> {
        Ok(MderFloat::from_sfloat(self.u16(field)?))
    }

    pub(crate) fn float(&mut self, field: &'static str) -> Result<MderFloat, ParseError> {
        Ok(MderFloat::from_float(self.u32(field)?))
    }

    /// Succeeds only if every byte was consumed.
    pub(crate) fn finish(self) -> Result<(), ParseError> {
        match self.bytes.len() {
            0 => Ok(()),
            count => Err(ParseError::TrailingBytes {
                characteristic: self.characteristic,
                count,
            }),
        }
    }

    pub(crate) const fn truncated(&self, field: &'static str) -> ParseError {
        ParseError::Truncated {
            characteristic: self.characteristic,
            field,
        }
    }

    pub(crate) const fn reserved(&self, field: &'static str) -> ParseError {
        ParseError::Reserved {
            characteristic: self.characteristic,
            field,
        }
    }

    pub(crate) const fn invalid(&self, field: &'static str) -> ParseError {
        ParseError::Invalid {
            characteristic: self.characteristic,
            field,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_reports_the_missing_field() {
        let mut r = Reader::new(
            Characteristic::BatteryLevel,
            &[0x34, 0x12, 0x56, 0x34, 0x12],
        );
        assert_eq!(r.u16("a"), Ok(0x1234));
        assert_eq!(r.u24("b"), Ok(0x12_3456));
        assert_eq!(
            r.u8("c"),
            Err(ParseError::Truncated {
                characteristic: Characteristic::BatteryLevel,
                field: "c"
            })
        );
        assert!(r.finish().is_ok());
    }

    #[test]
    fn leftover_bytes_are_counted() {
        let mut r = Reader::new(Characteristic::BatteryLevel, &[1, 2, 3]);
        assert_eq!(r.u8("a"), Ok(1));
        assert_eq!(
            r.finish(),
            Err(ParseError::TrailingBytes {
                characteristic: Characteristic::BatteryLevel,
                count: 2
            })
        );
    }
}
