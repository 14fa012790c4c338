//! Civil calendar arithmetic and FHIR `dateTime` formatting, without a date library.
//!
//! The algorithms are Howard Hinnant's `days_from_civil` / `civil_from_days` (proleptic
//! Gregorian calendar, exact for every `i64` day count used here). Nothing here reads a
//! clock: every instant is passed in as milliseconds since the Unix epoch.

use crate::text::{push_padded, push_padded_signed};

const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 for a proleptic Gregorian date. `month` is 1–12, `day` 1–31; the
/// caller validates them.
pub const fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let (m, d) = (month as i64, day as i64);
    let y = if m <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of a day count since 1970-01-01.
pub const fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

/// Whether `year` is a Gregorian leap year.
pub const fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The number of days in `month` (1–12) of `year`; 0 for an invalid month.
pub const fn days_in_month(year: i64, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Formats an instant as a FHIR `dateTime` in the given UTC offset:
/// `2024-03-05T08:30:00+01:00`, with `.sss` only when the milliseconds are not zero, and `Z`
/// for offset 0.
///
/// The wall-clock part is the local time at that offset, so a device timestamp keeps the
/// hour the patient saw on the display.
pub fn format_fhir_datetime(epoch_ms: i64, utc_offset_minutes: i16) -> String {
    let local = epoch_ms.saturating_add(i64::from(utc_offset_minutes) * 60_000);
    let days = local.div_euclid(MS_PER_DAY);
    let ms_of_day = local.rem_euclid(MS_PER_DAY);
    let millis = ms_of_day % 1000;
    let mut out = String::with_capacity(29);
    push_date_time(&mut out, days, ms_of_day / 1000);
    if millis != 0 {
        out.push('.');
        push_padded(&mut out, millis.unsigned_abs(), 3);
    }
    if utc_offset_minutes == 0 {
        out.push('Z');
    } else {
        out.push(if utc_offset_minutes < 0 { '-' } else { '+' });
        let abs = u64::from(utc_offset_minutes.unsigned_abs());
        push_padded(&mut out, abs / 60, 2);
        out.push(':');
        push_padded(&mut out, abs % 60, 2);
    }
    out
}

/// Appends `YYYY-MM-DDThh:mm:ss` for day `days` since 1970-01-01 and second `secs` (0 to
/// 86 399) of that day: what `{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}` writes.
pub(crate) fn push_date_time(out: &mut String, days: i64, secs: i64) {
    let (year, month, day) = civil_from_days(days);
    push_padded_signed(out, year, 4);
    for (sep, v) in [
        ('-', i64::from(month)),
        ('-', i64::from(day)),
        ('T', secs / 3600),
        (':', secs / 60 % 60),
        (':', secs % 60),
    ] {
        out.push(sep);
        push_padded(out, v.unsigned_abs(), 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;
    use proptest::prelude::*;

    /// `format_fhir_datetime` as it was written with `write!`: the hand-written digits must
    /// give the same text.
    fn format_reference(epoch_ms: i64, utc_offset_minutes: i16) -> String {
        let local = epoch_ms.saturating_add(i64::from(utc_offset_minutes) * 60_000);
        let days = local.div_euclid(MS_PER_DAY);
        let ms_of_day = local.rem_euclid(MS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let secs = ms_of_day / 1000;
        let millis = ms_of_day % 1000;
        let mut out = String::new();
        let _ = write!(
            out,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        if millis != 0 {
            let _ = write!(out, ".{millis:03}");
        }
        if utc_offset_minutes == 0 {
            out.push('Z');
        } else {
            let sign = if utc_offset_minutes < 0 { '-' } else { '+' };
            let abs = utc_offset_minutes.unsigned_abs();
            let _ = write!(out, "{sign}{:02}:{:02}", abs / 60, abs % 60);
        }
        out
    }

    proptest! {
        #[test]
        fn fhir_datetimes_are_written_as_format_wrote_them(
            ms in prop_oneof![any::<i64>(), -100_000_000_000_000i64..300_000_000_000_000],
            offset in any::<i16>(),
        ) {
            prop_assert_eq!(format_fhir_datetime(ms, offset), format_reference(ms, offset));
        }
    }

    #[test]
    fn extreme_fhir_datetimes_are_written_as_format_wrote_them() {
        for ms in [i64::MIN, i64::MAX, 0, -1, 999, -62_167_219_200_001] {
            for offset in [i16::MIN, i16::MAX, 0, -1, 60, -90] {
                assert_eq!(
                    format_fhir_datetime(ms, offset),
                    format_reference(ms, offset)
                );
            }
        }
    }

    /// (days since epoch, year, month, day) — anchors checked against published calendars.
    const DAYS: &[(i64, i64, u8, u8)] = &[
        (0, 1970, 1, 1),
        (-1, 1969, 12, 31),
        (59, 1970, 3, 1),
        (10_957, 2000, 1, 1),
        (11_016, 2000, 2, 29),
        (11_017, 2000, 3, 1),
        (19_782, 2024, 2, 29),
        (47_541, 2100, 3, 1),
        (-141_427, 1582, 10, 15),
        (2_932_896, 9999, 12, 31),
    ];

    #[test]
    fn days_and_dates_agree_with_the_calendar() {
        for &(days, y, m, d) in DAYS {
            assert_eq!(civil_from_days(days), (y, m, d), "{days}");
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn every_day_of_four_centuries_round_trips_and_increments() {
        let start = days_from_civil(1900, 1, 1);
        let mut prev = civil_from_days(start - 1);
        for days in start..start + 146_097 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            assert!(d >= 1 && d <= days_in_month(y, m));
            let next_day = (prev.0, prev.1, prev.2 + 1);
            let next_month = if prev.1 == 12 {
                (prev.0 + 1, 1, 1)
            } else {
                (prev.0, prev.1 + 1, 1)
            };
            assert!((y, m, d) == next_day || (y, m, d) == next_month);
            prev = (y, m, d);
        }
    }

    #[test]
    fn leap_years_follow_the_gregorian_rule() {
        assert!(is_leap_year(2000) && is_leap_year(2024));
        assert!(!is_leap_year(1900) && !is_leap_year(2023) && !is_leap_year(2100));
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!(days_in_month(2024, 13), 0);
    }

    #[test]
    fn datetimes_carry_their_offset() {
        // 2024-03-05T07:30:00Z
        let t = days_from_civil(2024, 3, 5) * MS_PER_DAY + 7 * 3_600_000 + 30 * 60_000;
        assert_eq!(format_fhir_datetime(t, 0), "2024-03-05T07:30:00Z");
        assert_eq!(format_fhir_datetime(t, 60), "2024-03-05T08:30:00+01:00");
        assert_eq!(format_fhir_datetime(t, -330), "2024-03-05T02:00:00-05:30");
        assert_eq!(format_fhir_datetime(t + 45, 0), "2024-03-05T07:30:00.045Z");
        // Crossing midnight backwards into the previous day and year.
        assert_eq!(format_fhir_datetime(0, -60), "1969-12-31T23:00:00-01:00");
    }
}
