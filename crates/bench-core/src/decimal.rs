//! Conversion of measured `f64` figures into the `Decimal` metrics written to files and reports.

use rust_decimal::Decimal;
use thiserror::Error;

/// A figure that cannot be represented as a `Decimal` metric.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum DecimalError {
    /// NaN or infinite.
    #[error("{value} is not a finite number")]
    NonFinite {
        /// The offending value.
        value: f64,
    },
    /// Magnitude beyond Decimal's range (about 7.9e28).
    #[error("{value} is out of Decimal range")]
    OutOfRange {
        /// The offending value.
        value: f64,
    },
}

/// Converts `x` to the `Decimal` with the same shortest round-trip digits that Rust prints for
/// it (so `0.1_f64` becomes exactly `0.1`, not `0.1000000000000000055…`).
///
/// Values smaller than 1e-28 in magnitude round to the nearest multiple of 1e-28 (Decimal's
/// finest scale), which can be zero.
///
/// ```
/// use bench_core::to_decimal;
/// use rust_decimal::Decimal;
/// assert_eq!(to_decimal(0.1).unwrap().to_string(), "0.1");
/// assert_eq!(to_decimal(-42.5).unwrap(), Decimal::new(-425, 1));
/// assert!(to_decimal(f64::NAN).is_err());
/// ```
pub fn to_decimal(x: f64) -> Result<Decimal, DecimalError> {
    if !x.is_finite() {
        return Err(DecimalError::NonFinite { value: x });
    }
    if x.abs() >= 7.9e28 {
        return Err(DecimalError::OutOfRange { value: x });
    }
    if x == 0.0 {
        return Ok(Decimal::ZERO);
    }
    let text = format!("{x:e}");
    if let Ok(d) = Decimal::from_scientific(&text) {
        return Ok(d.normalize());
    }
    // Too many fractional digits for Decimal's 28-digit scale: round the mantissa so that it fits.
    let (mantissa, exponent) = text.split_once('e').expect("`{:e}` always prints an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` prints an integer exponent");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // value = 0.d1d2d3... × 10^(exponent + 1); keep digits down to 10^-28.
    let keep = (exponent + 1 + 28).max(0) as usize;
    if keep == 0 {
        return Ok(Decimal::ZERO);
    }
    // `from_scientific` only fails when more digits than Decimal's scale holds were printed, so
    // `digits` is always longer than `keep` here.
    let kept: String = digits.chars().take(keep).collect();
    let round_up = digits.chars().nth(keep).is_some_and(|c| c >= '5');
    let scale = (keep as i32 - (exponent + 1)).max(0) as u32;
    let mut mantissa_int: i128 = kept.parse().unwrap_or(0);
    if round_up {
        mantissa_int += 1;
    }
    if negative {
        mantissa_int = -mantissa_int;
    }
    Decimal::try_from_i128_with_scale(mantissa_int, scale.min(28))
        .map(|d| d.normalize())
        .map_err(|_| DecimalError::OutOfRange { value: x })
}

/// Converts a `Decimal` back to `f64` (used only for arithmetic on already-rounded figures).
pub fn to_f64(d: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(f64::NAN)
}

/// Rounds `d` to `places` decimal places for display (banker's rounding is *not* used:
/// half away from zero, as a reader expects).
pub fn round_display(d: Decimal, places: u32) -> Decimal {
    d.round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

impl crate::ErrorClass for DecimalError {
    fn is_input_error(&self) -> bool {
        false
    }
}
