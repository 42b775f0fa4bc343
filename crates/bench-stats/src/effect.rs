//! Effect sizes, as defined in docs/methodology.md.

use crate::StatsError;

fn positive(name: &'static str, x: f64) -> Result<f64, StatsError> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(StatsError::InvalidParameter { name, value: x, expected: "a finite number > 0" })
    }
}

/// `(baseline − optimized) / baseline × 100`: positive when the optimized side is faster.
///
/// ```
/// let p = bench_stats::improvement_percent(10.5, 6.3).unwrap();
/// assert!((p - 40.0).abs() < 1e-12);
/// ```
pub fn improvement_percent(baseline_mean: f64, optimized_mean: f64) -> Result<f64, StatsError> {
    let b = positive("baseline mean", baseline_mean)?;
    let o = positive("optimized mean", optimized_mean)?;
    Ok((b - o) / b * 100.0)
}

/// `baseline / optimized`: 1.67 means 1.67× as fast.
///
/// ```
/// let s = bench_stats::speedup_ratio(10.5, 6.3).unwrap();
/// assert!((s - 1.666_666_666_666_666_7).abs() < 1e-12);
/// ```
pub fn speedup_ratio(baseline_mean: f64, optimized_mean: f64) -> Result<f64, StatsError> {
    Ok(positive("baseline mean", baseline_mean)? / positive("optimized mean", optimized_mean)?)
}

/// `(optimized − baseline) / baseline × 100` of peak memory: positive when memory grew.
///
/// ```
/// let m = bench_stats::memory_increase_percent(1000, 1010).unwrap();
/// assert!((m - 1.0).abs() < 1e-12);
/// ```
pub fn memory_increase_percent(baseline_bytes: u64, optimized_bytes: u64) -> Result<f64, StatsError> {
    let b = positive("baseline memory peak", baseline_bytes as f64)?;
    Ok((optimized_bytes as f64 - b) / b * 100.0)
}
