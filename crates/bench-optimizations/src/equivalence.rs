//! The functional-equivalence gate: a candidate that changes results is rejected before it is
//! benchmarked.

pub use bench_core::Value;
use serde::Serialize;
use thiserror::Error;

/// How results are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComparisonMode {
    /// Both results are [`Value::Scalar`].
    Scalar,
    /// Both results are [`Value::Array`] of equal length.
    Array,
    /// Both results are [`Value::Record`] with the same field names, compared recursively.
    Record,
}

impl ComparisonMode {
    /// The mode that compares values of `value`'s kind.
    pub fn of(value: &Value) -> Self {
        match value {
            Value::Scalar(_) => Self::Scalar,
            Value::Array(_) => Self::Array,
            Value::Record(_) => Self::Record,
        }
    }
}

/// Why a candidate failed the gate. Names the case, the index or field, both values and the
/// difference.
#[derive(Debug, Clone, PartialEq, Error, Serialize)]
#[non_exhaustive]
pub enum EquivalenceError {
    /// Two numbers differ by more than the tolerance.
    #[error(
        "case {case:?}: {location}: baseline {baseline} vs candidate {candidate} (difference {difference:e}, tolerance {tolerance:e})"
    )]
    Mismatch {
        /// The test case.
        case: String,
        /// Where: `[index]`, `field`, `field[index]`…
        location: String,
        /// Baseline value.
        baseline: f64,
        /// Candidate value.
        candidate: f64,
        /// `|baseline − candidate|`.
        difference: f64,
        /// The tolerance applied at this value.
        tolerance: f64,
    },
    /// Shapes differ: array lengths, field names, or kinds.
    #[error("case {case:?}: {location}: {detail}")]
    Shape {
        /// The test case.
        case: String,
        /// Where.
        location: String,
        /// What differs.
        detail: String,
    },
    /// The result is not of the kind the mode expects.
    #[error("case {case:?}: comparison mode {mode:?} expects a {expected} result, got {got}")]
    WrongMode {
        /// The test case.
        case: String,
        /// The mode.
        mode: ComparisonMode,
        /// Expected kind.
        expected: &'static str,
        /// Kind found.
        got: &'static str,
    },
    /// A function panicked or failed on a case.
    #[error("case {case:?}: the {side} failed: {message}")]
    Failed {
        /// The test case.
        case: String,
        /// `baseline` or `candidate`.
        side: &'static str,
        /// The panic message.
        message: String,
    },
}

/// What the gate checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EquivalenceReport {
    /// Cases compared.
    pub cases: usize,
    /// Numbers compared.
    pub values_compared: usize,
    /// Largest difference seen, relative to `max(1, |baseline|)`.
    pub max_scaled_difference: f64,
    /// The tolerance.
    pub tolerance: f64,
    /// The mode.
    pub mode: ComparisonMode,
}

struct Comparer<'a> {
    case: &'a str,
    tolerance: f64,
    compared: usize,
    max_scaled: f64,
}

impl Comparer<'_> {
    /// Equal when both are NaN, or `|a − b| ≤ tolerance · max(1, |a|)` (absolute near zero,
    /// relative for large values).
    fn numbers(&mut self, location: &str, a: f64, b: f64) -> Result<(), EquivalenceError> {
        self.compared += 1;
        if a.is_nan() && b.is_nan() || a == b {
            return Ok(());
        }
        let scale = a.abs().max(1.0);
        let diff = (a - b).abs();
        let tol = self.tolerance * scale;
        if diff.is_nan() || diff > tol {
            return Err(EquivalenceError::Mismatch {
                case: self.case.to_owned(),
                location: location.to_owned(),
                baseline: a,
                candidate: b,
                difference: diff,
                tolerance: tol,
            });
        }
        self.max_scaled = self.max_scaled.max(diff / scale);
        Ok(())
    }

    fn values(&mut self, location: &str, a: &Value, b: &Value) -> Result<(), EquivalenceError> {
        let here = |s: &str| {
            if location.is_empty() { s.trim_start_matches('.').to_owned() } else { format!("{location}{s}") }
        };
        match (a, b) {
            (Value::Scalar(x), Value::Scalar(y)) => {
                self.numbers(if location.is_empty() { "value" } else { location }, *x, *y)
            }
            (Value::Array(x), Value::Array(y)) => {
                if x.len() != y.len() {
                    return Err(EquivalenceError::Shape {
                        case: self.case.to_owned(),
                        location: if location.is_empty() { "array".into() } else { location.to_owned() },
                        detail: format!("baseline has {} elements, candidate {}", x.len(), y.len()),
                    });
                }
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    self.numbers(&here(&format!("[{i}]")), *p, *q)?;
                }
                Ok(())
            }
            (Value::Record(x), Value::Record(y)) => {
                let names = |r: &[(String, Value)]| r.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
                if names(x) != names(y) {
                    return Err(EquivalenceError::Shape {
                        case: self.case.to_owned(),
                        location: if location.is_empty() { "record".into() } else { location.to_owned() },
                        detail: format!("baseline fields {:?}, candidate fields {:?}", names(x), names(y)),
                    });
                }
                for ((name, p), (_, q)) in x.iter().zip(y) {
                    self.values(&here(&format!(".{name}")), p, q)?;
                }
                Ok(())
            }
            _ => Err(EquivalenceError::Shape {
                case: self.case.to_owned(),
                location: if location.is_empty() { "value".into() } else { location.to_owned() },
                detail: format!("baseline is a {}, candidate a {}", a.kind(), b.kind()),
            }),
        }
    }
}

/// Runs `baseline` and `candidate` on every case and compares the results in `mode` within
/// `tolerance` (`|a − b| ≤ tolerance · max(1, |a|)`; NaN equals NaN). BLOCKING: the first
/// difference is returned as a typed error naming the case, the index or field, both values
/// and the difference. A panic in either function is an error too.
///
/// ```
/// use bench_optimizations::{test_functional_equivalence, ComparisonMode, Value};
/// let sma = |w: &(Vec<f64>, usize)| Value::Array(w.0.windows(w.1).map(|s| s.iter().sum::<f64>() / w.1 as f64).collect());
/// let rolling = |w: &(Vec<f64>, usize)| {
///     let (v, n) = w;
///     let mut out = Vec::new();
///     let mut sum: f64 = v[..*n].iter().sum();
///     out.push(sum / *n as f64);
///     for i in *n..v.len() { sum += v[i] - v[i - n]; out.push(sum / *n as f64); }
///     Value::Array(out)
/// };
/// let cases = vec![("window 3".to_string(), (vec![1.0, 2.0, 3.0, 4.0, 5.0], 3)), ("constant".to_string(), (vec![10.0; 100], 20))];
/// assert!(test_functional_equivalence(sma, rolling, &cases, 1e-10, ComparisonMode::Array).is_ok());
/// let off_by_one = |w: &(Vec<f64>, usize)| { let mut v = match sma(w) { Value::Array(v) => v, _ => unreachable!() }; v[0] += 1.0; Value::Array(v) };
/// let e = test_functional_equivalence(sma, off_by_one, &cases, 1e-10, ComparisonMode::Array).unwrap_err();
/// assert!(e.to_string().starts_with("case \"window 3\": [0]: baseline 2 vs candidate 3"));
/// ```
pub fn test_functional_equivalence<C>(
    baseline: impl Fn(&C) -> Value,
    candidate: impl Fn(&C) -> Value,
    cases: &[(String, C)],
    tolerance: f64,
    mode: ComparisonMode,
) -> Result<EquivalenceReport, EquivalenceError> {
    let run = |f: &dyn Fn(&C) -> Value, c: &C, name: &str, side: &'static str| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(c))).map_err(|p| {
            EquivalenceError::Failed {
                case: name.to_owned(),
                side,
                message: bench_measure::panic_message(p.as_ref()),
            }
        })
    };
    let mut compared = 0;
    let mut max_scaled = 0.0f64;
    for (name, case) in cases {
        let a = run(&baseline, case, name, "baseline")?;
        let b = run(&candidate, case, name, "candidate")?;
        let expected = match mode {
            ComparisonMode::Scalar => "scalar",
            ComparisonMode::Array => "array",
            ComparisonMode::Record => "record",
        };
        for v in [&a, &b] {
            if v.kind() != expected {
                return Err(EquivalenceError::WrongMode {
                    case: name.clone(),
                    mode,
                    expected,
                    got: v.kind(),
                });
            }
        }
        let mut c = Comparer { case: name, tolerance, compared: 0, max_scaled: 0.0 };
        c.values("", &a, &b)?;
        compared += c.compared;
        max_scaled = max_scaled.max(c.max_scaled);
    }
    Ok(EquivalenceReport {
        cases: cases.len(),
        values_compared: compared,
        max_scaled_difference: max_scaled,
        tolerance,
        mode,
    })
}

impl bench_core::ErrorClass for EquivalenceError {
    fn is_input_error(&self) -> bool {
        false
    }
}
