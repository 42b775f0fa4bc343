//! The validated [`Sample`] every statistic takes by reference.

use thiserror::Error;

/// Why a set of values cannot become a [`Sample`].
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SampleError {
    /// Fewer than two values: no sample standard deviation exists.
    #[error("a sample needs at least 2 values, got {n}")]
    TooFew {
        /// How many values were given.
        n: usize,
    },
    /// A value is NaN or infinite.
    #[error("value [{index}] is {value}, expected a finite number")]
    NonFinite {
        /// Position of the offending value.
        index: usize,
        /// The value itself.
        value: f64,
    },
    /// A timing is zero or negative.
    #[error("timing [{index}] is {value}, expected a duration > 0")]
    NonPositive {
        /// Position of the offending value.
        index: usize,
        /// The value itself.
        value: f64,
    },
}

/// A set of measurements that has been checked once so that nothing downstream re-checks.
///
/// Invariants (established by the constructors, never broken afterwards):
/// - at least 2 values, so the sample standard deviation (ddof = 1) exists;
/// - every value is finite;
/// - for [`Sample::timings`], every value is strictly positive.
///
/// ```
/// use bench_core::Sample;
/// let s = Sample::timings(vec![0.52, 0.50, 0.51]).unwrap();
/// assert_eq!(s.len(), 3);
/// assert!(Sample::timings(vec![0.5]).is_err());
/// assert!(Sample::timings(vec![0.5, 0.0]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    values: Vec<f64>,
}

impl Sample {
    /// Validates `values` as a general sample: n ≥ 2 and all finite (negative values allowed,
    /// e.g. paired differences).
    pub fn new(values: Vec<f64>) -> Result<Self, SampleError> {
        if values.len() < 2 {
            return Err(SampleError::TooFew { n: values.len() });
        }
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(SampleError::NonFinite { index, value });
        }
        Ok(Self { values })
    }

    /// Validates `values` as timings: the checks of [`Sample::new`] plus every value > 0.
    pub fn timings(values: Vec<f64>) -> Result<Self, SampleError> {
        let sample = Self::new(values)?;
        if let Some((index, &value)) = sample.values.iter().enumerate().find(|(_, v)| **v <= 0.0) {
            return Err(SampleError::NonPositive { index, value });
        }
        Ok(sample)
    }

    /// Builds a timing sample in seconds from integer nanoseconds.
    pub fn from_nanos(nanos: &[u64]) -> Result<Self, SampleError> {
        Self::timings(nanos.iter().map(|&ns| ns as f64 / 1e9).collect())
    }

    /// The values, in the order they were given.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Number of values (always ≥ 2).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Always `false`: a sample holds at least two values. Present for API symmetry.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Multiplies every value by `factor` (which must be finite and non-zero), keeping the
    /// invariants; a positive factor keeps a timing sample valid.
    pub fn scaled(&self, factor: f64) -> Result<Self, SampleError> {
        Self::new(self.values.iter().map(|v| v * factor).collect())
    }
}

impl crate::ErrorClass for SampleError {
    fn is_input_error(&self) -> bool {
        true
    }
}
