//! IEEE 11073-20601 SFLOAT (16 bit) and FLOAT (32 bit), as the health characteristics carry
//! them.
//!
//! Both are a signed base-10 exponent over a signed integer mantissa, so a value keeps the
//! precision the device meant (`72.0` is not `72`). A handful of bit patterns with exponent 0
//! are *special values* — NaN, NRes ("not at this resolution"), ±INF and one reserved pattern.
//! They say the device could not measure; they are kept as [`MderFloat`] variants and never
//! turned into numbers, so nothing downstream can chart an error code as a reading.

use serde::{Serialize, Serializer};

/// An exact decimal: `mantissa × 10^exponent`.
///
/// Kept exact (not `f64`) so that unit conversions between SI prefixes are exponent shifts
/// and the precision the device reported survives until the value is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    /// The signed integer mantissa.
    pub mantissa: i32,
    /// The base-10 exponent.
    pub exponent: i16,
}

impl Decimal {
    /// `mantissa × 10^exponent`.
    pub const fn new(mantissa: i32, exponent: i16) -> Self {
        Self { mantissa, exponent }
    }

    /// The nearest `f64`.
    ///
    /// For `|exponent| <= 22` the power of ten is exact in `f64`, so one correctly rounded
    /// multiplication or division gives the double nearest to the exact decimal (`72.5`, not
    /// `72.50000000000001`). Larger exponents (absurd for any physiological value) are
    /// approximated.
    pub fn to_f64(self) -> f64 {
        let m = f64::from(self.mantissa);
        match self.exponent {
            e @ 0..=22 => m * 10f64.powi(i32::from(e)),
            e @ -22..=-1 => m / 10f64.powi(-i32::from(e)),
            e => m * 10f64.powi(i32::from(e)),
        }
    }

    /// The same quantity in a unit `10^shift` times smaller (kg → mg is `shift = 6`).
    /// Exact: only the exponent changes.
    pub const fn scaled(self, shift: i16) -> Self {
        Self {
            mantissa: self.mantissa,
            exponent: self.exponent.saturating_add(shift),
        }
    }

    /// This value with at most `decimals` digits after the point when that loses nothing
    /// (`72.350` with 2 decimals is `72.35`); otherwise unchanged.
    pub fn with_decimals(self, decimals: i16) -> Self {
        let mut d = self;
        let min_exponent = 0i16.saturating_sub(decimals);
        while d.exponent < min_exponent && d.mantissa % 10 == 0 {
            d.mantissa /= 10;
            d.exponent += 1;
        }
        d
    }

    /// Whether this value is a whole multiple of `step` (both exact decimals).
    pub fn is_multiple_of(self, step: Decimal) -> bool {
        if step.mantissa == 0 {
            return false;
        }
        // Bring both to the smaller exponent; checked, so a huge gap is simply "no".
        let e = self.exponent.min(step.exponent);
        let lift = |d: Decimal| -> Option<i64> {
            let k = u32::try_from(i32::from(d.exponent) - i32::from(e)).ok()?;
            10i64.checked_pow(k)?.checked_mul(i64::from(d.mantissa))
        };
        match (lift(self), lift(step)) {
            (Some(a), Some(b)) if b != 0 => a.checked_rem(b) == Some(0),
            _ => false,
        }
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.to_f64())
    }
}

/// A medical float: a number, or one of the special values that mean "no number".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MderFloat {
    /// A measured value.
    Value(Decimal),
    /// Not a number: the measurement process produced an invalid result.
    NaN,
    /// Not at this resolution: the value is outside what the device can represent.
    NRes,
    /// Positive infinity: above the measurement range.
    PositiveInfinity,
    /// Negative infinity: below the measurement range.
    NegativeInfinity,
    /// The pattern reserved for future use; never a number.
    Reserved,
}

impl MderFloat {
    /// Decodes a 16-bit SFLOAT: 4-bit two's-complement exponent over a 12-bit
    /// two's-complement mantissa.
    pub const fn from_sfloat(raw: u16) -> Self {
        match raw {
            0x07FF => Self::NaN,
            0x0800 => Self::NRes,
            0x07FE => Self::PositiveInfinity,
            0x0802 => Self::NegativeInfinity,
            0x0801 => Self::Reserved,
            _ => {
                // Shift the field to the top, then arithmetic-shift back to sign-extend.
                let exponent = ((raw >> 8) as i8) >> 4;
                let mantissa = ((raw << 4) as i16) >> 4;
                Self::Value(Decimal::new(mantissa as i32, exponent as i16))
            }
        }
    }

    /// Decodes a 32-bit FLOAT: 8-bit two's-complement exponent over a 24-bit
    /// two's-complement mantissa.
    pub const fn from_float(raw: u32) -> Self {
        match raw {
            0x007F_FFFF => Self::NaN,
            0x0080_0000 => Self::NRes,
            0x007F_FFFE => Self::PositiveInfinity,
            0x0080_0002 => Self::NegativeInfinity,
            0x0080_0001 => Self::Reserved,
            _ => {
                let exponent = (raw >> 24) as i8;
                let mantissa = ((raw << 8) as i32) >> 8;
                Self::Value(Decimal::new(mantissa, exponent as i16))
            }
        }
    }

    /// The number, if this is one.
    pub const fn value(self) -> Option<Decimal> {
        match self {
            Self::Value(d) => Some(d),
            _ => None,
        }
    }

    /// The special value's name as JavaScript sees it; `None` for a number.
    pub const fn special_name(self) -> Option<&'static str> {
        match self {
            Self::Value(_) => None,
            Self::NaN => Some("nan"),
            Self::NRes => Some("nres"),
            Self::PositiveInfinity => Some("positiveInfinity"),
            Self::NegativeInfinity => Some("negativeInfinity"),
            Self::Reserved => Some("reserved"),
        }
    }

    /// Applies [`Decimal::scaled`] to a number; special values stay as they are.
    pub const fn scaled(self, shift: i16) -> Self {
        match self {
            Self::Value(d) => Self::Value(d.scaled(shift)),
            other => other,
        }
    }
}

/// JavaScript sees a number, or the special value's name as a string
/// (`number | "nan" | "nres" | "positiveInfinity" | "negativeInfinity" | "reserved"`).
impl Serialize for MderFloat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (self, self.special_name()) {
            (Self::Value(d), _) => d.serialize(s),
            (_, Some(name)) => s.serialize_str(name),
            (_, None) => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponent_is_twos_complement_not_biased() {
        // 0xF014: exponent 0xF = -1 (a biased reading would say +7), mantissa 20 → 2.0
        assert_eq!(
            MderFloat::from_sfloat(0xF014),
            MderFloat::Value(Decimal::new(20, -1))
        );
        assert_eq!(
            MderFloat::from_float(0xFF00_0014),
            MderFloat::Value(Decimal::new(20, -1))
        );
    }

    #[test]
    fn decimals_convert_to_the_nearest_double() {
        assert_eq!(Decimal::new(725, -1).to_f64(), 72.5);
        assert_eq!(Decimal::new(3672, -2).to_f64(), 36.72);
        assert_eq!(Decimal::new(5, -3).to_f64(), 0.005);
        assert_eq!(Decimal::new(-12, 2).to_f64(), -1200.0);
    }

    #[test]
    fn multiples_and_trimming_are_exact() {
        assert!(Decimal::new(72_350, -3).is_multiple_of(Decimal::new(5, -2)));
        assert!(!Decimal::new(72_355, -3).is_multiple_of(Decimal::new(1, -2)));
        assert!(!Decimal::new(1, 0).is_multiple_of(Decimal::new(0, 0)));
        assert_eq!(
            Decimal::new(72_300, -3).with_decimals(1),
            Decimal::new(723, -1)
        );
        assert_eq!(
            Decimal::new(72_350, -3).with_decimals(1),
            Decimal::new(7235, -2)
        );
    }
}
