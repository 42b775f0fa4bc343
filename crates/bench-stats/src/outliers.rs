//! Tukey-fence outlier classification. Outliers are reported, never silently dropped.

use bench_core::Sample;

/// Where a value falls relative to the Tukey fences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutlierClass {
    /// Inside the mild fences.
    Normal,
    /// Below `Q1 − 1.5·IQR` but not below `Q1 − 3·IQR`.
    MildLow,
    /// Above `Q3 + 1.5·IQR` but not above `Q3 + 3·IQR`.
    MildHigh,
    /// Below `Q1 − 3·IQR`.
    SevereLow,
    /// Above `Q3 + 3·IQR`.
    SevereHigh,
}

impl OutlierClass {
    /// snake_case label used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::MildLow => "mild_low",
            Self::MildHigh => "mild_high",
            Self::SevereLow => "severe_low",
            Self::SevereHigh => "severe_high",
        }
    }
}

/// The fences and the class of every value, in the sample's order.
#[derive(Debug, Clone, PartialEq)]
pub struct OutlierReport {
    /// First quartile (linear interpolation, numpy's default).
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
    /// `Q1 − 3·IQR`.
    pub lower_severe: f64,
    /// `Q1 − 1.5·IQR`.
    pub lower_mild: f64,
    /// `Q3 + 1.5·IQR`.
    pub upper_mild: f64,
    /// `Q3 + 3·IQR`.
    pub upper_severe: f64,
    /// One class per value.
    pub classes: Vec<OutlierClass>,
}

impl OutlierReport {
    /// Number of mild outliers (either side).
    pub fn mild(&self) -> usize {
        self.classes.iter().filter(|c| matches!(c, OutlierClass::MildLow | OutlierClass::MildHigh)).count()
    }

    /// Number of severe outliers (either side).
    pub fn severe(&self) -> usize {
        self.classes
            .iter()
            .filter(|c| matches!(c, OutlierClass::SevereLow | OutlierClass::SevereHigh))
            .count()
    }
}

/// The `p`-quantile (0 ≤ p ≤ 1) of already sorted values by linear interpolation between
/// order statistics (numpy's default "linear" method, Hyndman–Fan type 7).
pub fn quantile_linear(sorted: &[f64], p: f64) -> f64 {
    debug_assert!(!sorted.is_empty() && (0.0..=1.0).contains(&p));
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let frac = h - lo as f64;
    // numpy's form: lerp with the "subtract" branch for frac >= 0.5, matching its rounding.
    let (a, b) = (sorted[lo], sorted[hi]);
    let diff = b - a;
    if frac >= 0.5 { b - diff * (1.0 - frac) } else { a + diff * frac }
}

/// The median of any values (numpy's `median`: the mean of the two middle values for an even
/// count), or `None` for none; NaNs sort last.
///
/// ```
/// assert_eq!(bench_stats::median(&[3.0, 1.0, 2.0]), Some(2.0));
/// assert_eq!(bench_stats::median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
/// assert_eq!(bench_stats::median(&[]), None);
/// ```
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(quantile_linear(&sorted, 0.5))
}

/// Classifies every value of `sample` by the Tukey fences (mild 1.5·IQR, severe 3·IQR).
///
/// ```
/// let s = bench_core::Sample::new(vec![1.0, 1.1, 0.9, 1.05, 0.95, 1.0, 9.0]).unwrap();
/// let r = bench_stats::classify_outliers(&s);
/// assert_eq!(r.severe(), 1);
/// assert_eq!(r.classes[6], bench_stats::OutlierClass::SevereHigh);
/// ```
pub fn classify_outliers(sample: &Sample) -> OutlierReport {
    let mut sorted = sample.values().to_vec();
    sorted.sort_by(f64::total_cmp);
    let q1 = quantile_linear(&sorted, 0.25);
    let median = quantile_linear(&sorted, 0.5);
    let q3 = quantile_linear(&sorted, 0.75);
    let iqr = q3 - q1;
    let (lower_mild, upper_mild) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    let (lower_severe, upper_severe) = (q1 - 3.0 * iqr, q3 + 3.0 * iqr);
    let classes = sample
        .values()
        .iter()
        .map(|&v| {
            if v < lower_severe {
                OutlierClass::SevereLow
            } else if v < lower_mild {
                OutlierClass::MildLow
            } else if v > upper_severe {
                OutlierClass::SevereHigh
            } else if v > upper_mild {
                OutlierClass::MildHigh
            } else {
                OutlierClass::Normal
            }
        })
        .collect();
    OutlierReport { q1, median, q3, lower_severe, lower_mild, upper_mild, upper_severe, classes }
}
