//! Calendar dates as days since 1970-01-01: parsed from and formatted as `YYYY-MM-DD`, the same
//! for every data format.

use chrono::{Datelike, NaiveDate};

/// Days between 0001-01-01 (chrono's day 1 of the common era) and 1970-01-01.
const UNIX_EPOCH_FROM_CE: i32 = 719_163;

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (exactly ten characters, zero-padded), or
/// `None` when it is not a valid calendar date.
pub fn parse_date(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
        return None;
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(d.num_days_from_ce() - UNIX_EPOCH_FROM_CE)
}

/// `YYYY-MM-DD` of a day count since 1970-01-01.
pub fn format_date(days: i32) -> String {
    days.checked_add(UNIX_EPOCH_FROM_CE)
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .map_or_else(|| format!("day {days}"), |d| d.format("%Y-%m-%d").to_string())
}
