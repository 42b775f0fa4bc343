//! How figures are written for people: durations, bytes, percentages, p-values and rates, in
//! one place so every report, table and terminal line agrees.
//!
//! ```
//! use bench_core::units;
//! assert_eq!(units::duration(0.0038), "3.800 ms");
//! assert_eq!(units::bytes(1_616_167), "1.54 MiB");
//! assert_eq!(units::p_value(0.00001234), "1.23e-5");
//! assert_eq!(units::rate(2.96e8), "296 M");
//! ```

use rust_decimal::Decimal;

use crate::decimal::{round_display, to_f64};

/// A `Decimal` rounded half away from zero to two places (rust_decimal's own `{:.2}`
/// truncates).
pub fn fmt2(d: Decimal) -> String {
    format!("{:.2}", round_display(d, 2))
}

/// A percentage with two decimals and the sign: `12.34%`.
pub fn percent(d: Decimal) -> String {
    format!("{}%", fmt2(d))
}

/// A probability as either number type the crates hold it in: `f64` (the statistics) or
/// `Decimal` (a decision's `p_value`).
pub trait Probability: Copy {
    /// The value as `f64`.
    fn as_f64(self) -> f64;
}

impl Probability for f64 {
    fn as_f64(self) -> f64 {
        self
    }
}

impl Probability for Decimal {
    fn as_f64(self) -> f64 {
        crate::to_f64(self)
    }
}

/// A p-value for prose: fixed notation down to 1e-4, scientific below, `0` for zero; from an
/// `f64` or a `Decimal` alike.
///
/// ```
/// use bench_core::{units::p_value, Decimal};
/// assert_eq!(p_value(0.0123), "0.0123");
/// assert_eq!(p_value(Decimal::new(123, 4)), "0.0123");
/// ```
pub fn p_value(p: impl Probability) -> String {
    let p = p.as_f64();
    if p == 0.0 {
        "0".into()
    } else if p >= 1e-4 {
        format!("{p:.4}")
    } else {
        format!("{p:.2e}")
    }
}

/// A duration in seconds, in the unit that keeps its digits: `2.500 s`, `3.800 ms`,
/// `412.3 µs`, `85 ns`.
pub fn duration(seconds: f64) -> String {
    let a = seconds.abs();
    if a >= 1.0 {
        format!("{seconds:.3} s")
    } else if a >= 1e-3 {
        format!("{:.3} ms", seconds * 1e3)
    } else if a >= 1e-6 {
        format!("{:.1} µs", seconds * 1e6)
    } else {
        format!("{:.0} ns", seconds * 1e9)
    }
}

/// A duration with at most three significant digits, for chart axes: `2.5 s`, `120 ms`,
/// `3.1 µs`.
pub fn duration_short(seconds: f64) -> String {
    let (x, unit) = match seconds.abs() {
        a if a >= 1.0 => (seconds, "s"),
        a if a >= 1e-3 => (seconds * 1e3, "ms"),
        a if a >= 1e-6 => (seconds * 1e6, "µs"),
        _ => (seconds * 1e9, "ns"),
    };
    let digits = if x.abs() >= 100.0 {
        0
    } else if x.abs() >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{x:.digits$}");
    let text =
        if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text };
    format!("{text} {unit}")
}

/// A wall-clock span for a person planning their time: `45 s`, `6 min 11 s`, `1 h 05 min`
/// (below a minute as [`duration_short`]).
///
/// ```
/// use bench_core::units::clock;
/// assert_eq!(clock(371.4), "6 min 11 s");
/// assert_eq!(clock(3900.0), "1 h 05 min");
/// assert_eq!(clock(56.6), "56.6 s");
/// ```
pub fn clock(seconds: f64) -> String {
    if seconds.abs() < 59.5 {
        return duration_short(seconds);
    }
    let s = seconds.round() as i64;
    if s.abs() < 3600 {
        format!("{} min {:02} s", s / 60, (s % 60).abs())
    } else {
        let m = (seconds / 60.0).round() as i64;
        format!("{} h {:02} min", m / 60, (m % 60).abs())
    }
}

/// [`duration`] of a `Decimal` number of seconds.
pub fn duration_decimal(seconds: Decimal) -> String {
    duration(to_f64(seconds))
}

/// [`duration`] of integer nanoseconds.
pub fn duration_ns(ns: u64) -> String {
    duration(ns as f64 / 1e9)
}

/// A byte count in binary units with three significant digits: `512 B`, `3.20 KiB`,
/// `1.54 MiB`, `2.00 GiB`.
pub fn bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if b < 1024 {
        return format!("{b} B");
    }
    let mut x = b as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit + 1 < UNITS.len() {
        x /= 1024.0;
        unit += 1;
    }
    let digits = if x >= 100.0 {
        0
    } else if x >= 10.0 {
        1
    } else {
        2
    };
    format!("{x:.digits$} {}", UNITS[unit])
}

/// A signed byte difference: `+1.54 MiB`, `-512 B`.
pub fn bytes_signed(b: i64) -> String {
    let sign = if b < 0 { "-" } else { "+" };
    format!("{sign}{}", bytes(b.unsigned_abs()))
}

/// A large count or rate with an SI prefix and three significant digits: `950`, `12.3 k`,
/// `296 M`, `1.30 G`. Append the unit: `format!("{}/s", rate(x))`.
pub fn rate(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    const PREFIXES: [(f64, &str); 4] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")];
    for (scale, p) in PREFIXES {
        if x.abs() >= scale {
            return format!("{} {p}", three_digits(x / scale));
        }
    }
    three_digits(x)
}

fn three_digits(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 || a == 0.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// A count with thousands separators: `12,154`.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Parses a duration: `90s`, `2m`, `1m30s`, or plain seconds (above 0).
///
/// ```
/// use bench_core::units::parse_duration;
/// assert_eq!(parse_duration("1m30s").unwrap().as_secs(), 90);
/// assert_eq!(parse_duration("2.5").unwrap().as_millis(), 2500);
/// assert!(parse_duration("0").is_err() && parse_duration("soon").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    if let Ok(secs) = s.trim().parse::<f64>() {
        return if secs.is_finite() && secs > 0.0 {
            Ok(std::time::Duration::from_secs_f64(secs))
        } else {
            Err(format!("{s:?}: expected a duration above 0"))
        };
    }
    humantime::parse_duration(s)
        .map_err(|e| format!("{s:?} is not a duration ({e}); expected e.g. 90s, 2m or 1m30s"))
}

/// Parses a byte size: `65536`, `64KiB`, `1.5MiB`, `2GiB` (also kB/MB/GB as powers of 1000).
///
/// ```
/// use bench_core::units::parse_bytes;
/// assert_eq!(parse_bytes("1.5MiB"), Ok(1_572_864));
/// assert_eq!(parse_bytes("64kB"), Ok(64_000));
/// assert!(parse_bytes("-1").is_err() && parse_bytes("3 apples").is_err());
/// ```
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale: f64 = match unit.trim() {
        "" | "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        other => return Err(format!("unknown unit {other:?}; expected B, KiB, MiB, GiB, kB, MB or GB")),
    };
    let x: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a size; expected e.g. 65536, 64KiB or 1.5MiB"))?;
    if !(x.is_finite() && x >= 0.0) || x * scale > u64::MAX as f64 {
        return Err(format!("{s:?} is not a size ≥ 0"));
    }
    Ok((x * scale).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_keep_their_digits() {
        assert_eq!(duration(2.5), "2.500 s");
        assert_eq!(duration(0.0038), "3.800 ms");
        assert_eq!(duration(0.000_412_3), "412.3 µs");
        assert_eq!(duration(8.5e-8), "85 ns");
        assert_eq!(duration_short(0.12), "120 ms");
        assert_eq!(duration_short(2.5), "2.5 s");
        assert_eq!(duration_short(3.14e-6), "3.14 µs");
    }

    #[test]
    fn bytes_and_counts() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1.00 KiB");
        assert_eq!(bytes(150 * 1024 * 1024), "150 MiB");
        assert_eq!(bytes_signed(-2048), "-2.00 KiB");
        assert_eq!(count(12_154), "12,154");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(rate(950.0), "950");
        assert_eq!(rate(12_345.0), "12.3 k");
        assert_eq!(rate(1.3e9), "1.30 G");
        assert_eq!(p_value(0.0), "0");
        assert_eq!(p_value(0.5), "0.5000");
        assert_eq!(percent(Decimal::new(-98449, 4)), "-9.84%");
    }
}
