//! Mean, sample standard deviation, standard error and t-based confidence intervals.

use bench_core::Sample;
use level::ConfidenceLevel;

use crate::{StatsError, t_quantile};

/// Arithmetic mean.
pub fn mean(sample: &Sample) -> f64 {
    let v = sample.values();
    v.iter().sum::<f64>() / v.len() as f64
}

/// Sample standard deviation with ddof = 1 (two-pass, so no catastrophic cancellation).
pub fn std_dev(sample: &Sample) -> f64 {
    let v = sample.values();
    let m = mean(sample);
    let ss: f64 = v.iter().map(|x| (x - m) * (x - m)).sum();
    (ss / (v.len() - 1) as f64).sqrt()
}

/// Standard error of the mean, `s / √n`.
pub fn standard_error(sample: &Sample) -> f64 {
    std_dev(sample) / (sample.len() as f64).sqrt()
}

/// A t-based confidence interval for a mean: `mean ± t(1 − α/2, n − 1) · s/√n`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConfidenceInterval {
    /// The sample mean (centre of the interval).
    pub mean: f64,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Confidence level, e.g. 0.95.
    pub confidence: f64,
    /// The critical value `t(1 − α/2, n − 1)` used.
    pub t_critical: f64,
    /// Standard error `s/√n`.
    pub standard_error: f64,
}

impl ConfidenceInterval {
    /// Half the width of the interval.
    pub fn half_width(&self) -> f64 {
        self.t_critical * self.standard_error
    }

    /// Whether `x` lies inside the closed interval.
    pub fn contains(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }
}

/// The two-sided confidence interval of the mean at `confidence` (strictly between 0 and 1).
///
/// ```
/// let s = bench_core::Sample::new(vec![1.0, 2.0, 3.0, 4.0]).unwrap();
/// let ci = bench_stats::confidence_interval(&s, 0.95).unwrap();
/// assert!((ci.lower - 0.445_739_743_239_121_1).abs() < 1e-12);
/// assert!((ci.upper - 4.554_260_256_760_879).abs() < 1e-12);
/// ```
pub fn confidence_interval(sample: &Sample, confidence: f64) -> Result<ConfidenceInterval, StatsError> {
    let level = ConfidenceLevel::new(confidence)?;
    let m = mean(sample);
    let se = standard_error(sample);
    let t_critical = t_quantile((1.0 + level.0) / 2.0, (sample.len() - 1) as f64)?;
    Ok(ConfidenceInterval {
        mean: m,
        lower: m - t_critical * se,
        upper: m + t_critical * se,
        confidence: level.0,
        t_critical,
        standard_error: se,
    })
}

mod level {
    use crate::StatsError;

    /// A confidence level strictly between 0 and 1.
    pub(crate) struct ConfidenceLevel(pub(crate) f64);

    impl ConfidenceLevel {
        pub(crate) fn new(c: f64) -> Result<Self, StatsError> {
            if c > 0.0 && c < 1.0 {
                Ok(Self(c))
            } else {
                Err(StatsError::InvalidParameter {
                    name: "confidence level",
                    value: c,
                    expected: "a number strictly between 0 and 1, e.g. 0.95",
                })
            }
        }
    }
}
