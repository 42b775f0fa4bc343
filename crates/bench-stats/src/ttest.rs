//! Paired and Welch t-tests with a choice of alternative hypothesis.

use bench_core::Sample;

use crate::{StatsError, mean, std_dev, t_sf};

/// The alternative hypothesis, stated about `mean(a) − mean(b)` (for a paired test, the mean of
/// the differences `a[i] − b[i]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternative {
    /// `a` is larger: with `a` = baseline times and `b` = candidate times, "the candidate is
    /// faster". The decision's one-tailed test.
    Greater,
    /// `a` is smaller.
    Less,
    /// The means differ in either direction.
    TwoSided,
}

impl Alternative {
    /// The name scipy uses (`greater`, `less`, `two-sided`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Greater => "greater",
            Self::Less => "less",
            Self::TwoSided => "two-sided",
        }
    }

    fn p_value(self, t: f64, df: f64) -> Result<f64, StatsError> {
        Ok(match self {
            Self::Greater => t_sf(t, df)?,
            Self::Less => t_sf(-t, df)?,
            Self::TwoSided => (2.0 * t_sf(t.abs(), df)?).min(1.0),
        })
    }

    /// p-value when the differences have zero variance: 0 when the (exact) mean difference lies
    /// in the direction of the alternative, 1 otherwise.
    fn degenerate_p_value(self, mean_difference: f64) -> f64 {
        let favours = match self {
            Self::Greater => mean_difference > 0.0,
            Self::Less => mean_difference < 0.0,
            Self::TwoSided => mean_difference != 0.0,
        };
        if favours { 0.0 } else { 1.0 }
    }
}

impl std::str::FromStr for Alternative {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "greater" => Ok(Self::Greater),
            "less" => Ok(Self::Less),
            "two-sided" | "two_sided" => Ok(Self::TwoSided),
            _ => Err(format!("unknown alternative {s:?}; expected greater, less or two-sided")),
        }
    }
}

/// The outcome of a t-test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TTest {
    /// The t statistic; `None` when the differences have zero variance (the statistic is
    /// undefined and the p-value follows the degenerate rule).
    pub t_statistic: Option<f64>,
    /// Degrees of freedom (`n − 1` paired; Welch–Satterthwaite for Welch).
    pub degrees_of_freedom: f64,
    /// The p-value under the chosen alternative.
    pub p_value: f64,
    /// The alternative tested.
    pub alternative: Alternative,
    /// `mean(a) − mean(b)`.
    pub mean_difference: f64,
    /// Standard error of that difference.
    pub standard_error: f64,
    /// True when the zero-variance rule decided the p-value.
    pub degenerate: bool,
}

/// Paired t-test of `a[i] − b[i]` (scipy's `ttest_rel(a, b, alternative=…)`).
///
/// Degenerate case (docs/methodology.md): when every difference is identical the variance is zero; the
/// p-value is then 0 if the mean difference lies in the direction of the alternative and 1
/// otherwise, and `t_statistic` is `None`.
///
/// ```
/// use bench_core::Sample;
/// use bench_stats::{paired_t_test, Alternative};
/// let a = Sample::timings(vec![2.0, 2.1, 1.9, 2.05]).unwrap();
/// let b = Sample::timings(vec![1.0, 1.2, 1.0, 1.1]).unwrap();
/// let t = paired_t_test(&a, &b, Alternative::Greater).unwrap();
/// assert!(t.p_value < 1e-3);
/// ```
pub fn paired_t_test(a: &Sample, b: &Sample, alternative: Alternative) -> Result<TTest, StatsError> {
    if a.len() != b.len() {
        return Err(StatsError::MismatchedPairs { baseline: a.len(), candidate: b.len() });
    }
    let diffs: Vec<f64> = a.values().iter().zip(b.values()).map(|(x, y)| x - y).collect();
    let n = diffs.len() as f64;
    let df = n - 1.0;
    if diffs.iter().all(|d| *d == diffs[0]) {
        let mean_difference = diffs[0];
        return Ok(TTest {
            t_statistic: None,
            degrees_of_freedom: df,
            p_value: alternative.degenerate_p_value(mean_difference),
            alternative,
            mean_difference,
            standard_error: 0.0,
            degenerate: true,
        });
    }
    let d = Sample::new(diffs)?;
    let md = mean(&d);
    let se = std_dev(&d) / n.sqrt();
    let t = md / se;
    Ok(TTest {
        t_statistic: Some(t),
        degrees_of_freedom: df,
        p_value: alternative.p_value(t, df)?,
        alternative,
        mean_difference: md,
        standard_error: se,
        degenerate: false,
    })
}

/// Welch's unequal-variance t-test for unpaired samples (scipy's
/// `ttest_ind(a, b, equal_var=False, alternative=…)`), with Welch–Satterthwaite degrees of
/// freedom. Zero variance in both samples follows the same degenerate rule as the paired test.
pub fn welch_t_test(a: &Sample, b: &Sample, alternative: Alternative) -> Result<TTest, StatsError> {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (va, vb) = (std_dev(a).powi(2) / na, std_dev(b).powi(2) / nb);
    let md = mean(a) - mean(b);
    let se2 = va + vb;
    if se2 == 0.0 {
        return Ok(TTest {
            t_statistic: None,
            degrees_of_freedom: na + nb - 2.0,
            p_value: alternative.degenerate_p_value(md),
            alternative,
            mean_difference: md,
            standard_error: 0.0,
            degenerate: true,
        });
    }
    let df = se2 * se2 / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    let se = se2.sqrt();
    let t = md / se;
    Ok(TTest {
        t_statistic: Some(t),
        degrees_of_freedom: df,
        p_value: alternative.p_value(t, df)?,
        alternative,
        mean_difference: md,
        standard_error: se,
        degenerate: false,
    })
}
