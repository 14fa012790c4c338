//! Date Time (0x2A08), also embedded as the time stamp of blood pressure, thermometer,
//! weight, glucose and pulse oximeter measurements.
//!
//! Seven bytes: year (u16, 1582–9999, 0 = unknown), month (1–12, 0 = unknown), day (1–31,
//! 0 = unknown), hours (0–23), minutes (0–59), seconds (0–59). It carries no time zone: it is
//! the device's wall clock.

use serde::Serialize;

use crate::devices::reader::Reader;
use crate::devices::time::{days_from_civil, days_in_month};
use crate::devices::{Characteristic, ParseError};

/// A device wall-clock time. Zero year, month or day mean "unknown".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DateTime {
    /// 1582–9999, or 0 when unknown.
    pub year: u16,
    /// 1–12, or 0 when unknown.
    pub month: u8,
    /// 1–31 (and valid for the month), or 0 when unknown.
    pub day: u8,
    /// 0–23.
    pub hours: u8,
    /// 0–59.
    pub minutes: u8,
    /// 0–59.
    pub seconds: u8,
}

/// The error field names of one embedded Date Time, e.g. `timestamp.month`.
pub(crate) struct DateNames {
    year: &'static str,
    month: &'static str,
    day: &'static str,
    hours: &'static str,
    minutes: &'static str,
    seconds: &'static str,
}

macro_rules! date_names {
    ($prefix:literal) => {
        DateNames {
            year: concat!($prefix, "year"),
            month: concat!($prefix, "month"),
            day: concat!($prefix, "day"),
            hours: concat!($prefix, "hours"),
            minutes: concat!($prefix, "minutes"),
            seconds: concat!($prefix, "seconds"),
        }
    };
}

/// Field names for a measurement's `timestamp`.
pub(crate) const TIMESTAMP: DateNames = date_names!("timestamp.");
/// Field names for the glucose `baseTime`.
pub(crate) const BASE_TIME: DateNames = date_names!("baseTime.");
/// Field names for the Date Time characteristic itself.
pub(crate) const DATE_TIME: DateNames = date_names!("");
/// Field names for a RACP operand.
pub(crate) const OPERAND: DateNames = date_names!("operand.");

impl DateTime {
    /// Reads and validates seven bytes.
    pub(crate) fn read(r: &mut Reader<'_>, n: &DateNames) -> Result<Self, ParseError> {
        let dt = Self {
            year: r.u16(n.year)?,
            month: r.u8(n.month)?,
            day: r.u8(n.day)?,
            hours: r.u8(n.hours)?,
            minutes: r.u8(n.minutes)?,
            seconds: r.u8(n.seconds)?,
        };
        dt.check(n).map_err(|field| r.invalid(field))?;
        Ok(dt)
    }

    /// Which field (by its name in `n`) is out of range, if any.
    fn check(&self, n: &DateNames) -> Result<(), &'static str> {
        // With an unknown year, allow 29 February (a leap year is possible).
        let year_for_days = if self.year == 0 {
            2000
        } else {
            i64::from(self.year)
        };
        if self.year != 0 && !(1582..=9999).contains(&self.year) {
            Err(n.year)
        } else if self.month > 12 {
            Err(n.month)
        } else if self.day > 31
            || (self.month != 0 && self.day > days_in_month(year_for_days, self.month))
        {
            Err(n.day)
        } else if self.hours > 23 {
            Err(n.hours)
        } else if self.minutes > 59 {
            Err(n.minutes)
        } else if self.seconds > 59 {
            Err(n.seconds)
        } else {
            Ok(())
        }
    }

    /// Whether year, month and day are all known: only then is this a point in time.
    pub const fn is_complete(&self) -> bool {
        self.year != 0 && self.month != 0 && self.day != 0
    }

    /// Milliseconds since the Unix epoch of this wall-clock time read as if it were UTC;
    /// `None` when incomplete. Subtract the device's UTC offset to get the instant.
    pub fn wall_clock_ms(&self) -> Option<i64> {
        if !self.is_complete() {
            return None;
        }
        let days = days_from_civil(i64::from(self.year), self.month, self.day);
        let secs =
            i64::from(self.hours) * 3600 + i64::from(self.minutes) * 60 + i64::from(self.seconds);
        Some(days * 86_400_000 + secs * 1000)
    }

    /// The seven bytes on the wire. Used for RACP time filters.
    pub fn encode(&self) -> [u8; 7] {
        let [y0, y1] = self.year.to_le_bytes();
        [
            y0,
            y1,
            self.month,
            self.day,
            self.hours,
            self.minutes,
            self.seconds,
        ]
    }

    /// Whether every field is in range (what a device must accept in a RACP operand).
    pub fn is_valid(&self) -> bool {
        self.check(&DATE_TIME).is_ok()
    }
}

/// Parses the Date Time characteristic: exactly seven bytes.
pub fn parse(bytes: &[u8]) -> Result<DateTime, ParseError> {
    let mut r = Reader::new(Characteristic::DateTime, bytes);
    let dt = DateTime::read(&mut r, &DATE_TIME)?;
    r.finish()?;
    Ok(dt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_clock_of_a_complete_date() {
        let dt = parse(&[0xE8, 0x07, 3, 5, 8, 30, 15]).unwrap();
        assert_eq!(
            dt,
            DateTime {
                year: 2024,
                month: 3,
                day: 5,
                hours: 8,
                minutes: 30,
                seconds: 15
            }
        );
        assert_eq!(dt.wall_clock_ms(), Some(1_709_627_415_000));
        assert_eq!(dt.encode(), [0xE8, 0x07, 3, 5, 8, 30, 15]);
    }

    #[test]
    fn an_unknown_year_still_allows_the_29th_of_february() {
        let dt = parse(&[0, 0, 2, 29, 0, 0, 0]).unwrap();
        assert!(!dt.is_complete());
        assert_eq!(dt.wall_clock_ms(), None);
    }
}
