//! Results compared by the functional-equivalence gate.

use serde::Serialize;

/// A result to compare: a number, an array, or a record of named fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// One number.
    Scalar(f64),
    /// Numbers compared element-wise (NaN equals NaN).
    Array(Vec<f64>),
    /// Named fields (e.g. `trades`, `equity_curve`), compared field by field.
    Record(Vec<(String, Value)>),
}

impl From<f64> for Value {
    /// One number: [`Value::Scalar`].
    fn from(x: f64) -> Self {
        Self::Scalar(x)
    }
}

impl From<Vec<f64>> for Value {
    /// Numbers compared element-wise: [`Value::Array`].
    fn from(xs: Vec<f64>) -> Self {
        Self::Array(xs)
    }
}

impl Value {
    /// `scalar`, `array` or `record`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Scalar(_) => "scalar",
            Self::Array(_) => "array",
            Self::Record(_) => "record",
        }
    }
}
