//! The one estimand and its one-sided bounds.
//!
//! Every verdict is about the **improvement of mean time**, `θ = (1 − μ_candidate / μ_baseline)
//! × 100`: what the methodology defines and what a user pays for. Its bounds come from bounds on
//! the ratio of means (`bench_stats::PairedSums`, Fieller's construction), three ways:
//!
//! - paired runs, fixed sample: the one-sided paired t-test at every ratio, inverted; each pair
//!   is a unit;
//! - separate runs (two files measured apart): Welch's test at every ratio, inverted;
//! - paired runs, adaptive: the anytime-valid mixture boundary (`bench_stats::MixtureBoundary`)
//!   on ABBA blocks — two consecutive pairs summed into one unit, which cancels a linear drift
//!   within the block — so the bound holds however often it is looked at.
//!
//! Serial dependence is measured, not assumed: the lag-1 autocorrelation of the units'
//! differences at the estimate widens the bound by the AR(1) variance factor, and beyond
//! `bench_stats::MAX_AUTOCORRELATION` the units are declared dependent and nothing is decided.

use bench_core::{Decimal, to_decimal};
use bench_stats::{
    MAX_AUTOCORRELATION, MixtureBoundary, PairedSums, RatioBounds, lag1_autocorrelation, paired_critical,
    variance_inflation, welch_ratio_bounds,
};
use serde::Serialize;

use crate::ThresholdError;

/// The estimand, as every report names it.
pub const ESTIMAND: &str = "improvement of mean time";

/// Its definition.
pub const ESTIMAND_DEFINITION: &str = "(1 − candidate mean time / baseline mean time) × 100";

/// How a bound was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundMethod {
    /// Fixed sample, paired runs: one-sided paired t-test inverted over the ratio (Fieller).
    PairedT,
    /// Fixed sample, separate runs: one-sided Welch test inverted over the ratio.
    WelchT,
    /// Adaptive: the anytime-valid normal-mixture confidence sequence on ABBA blocks.
    AnytimeMixture,
}

impl BoundMethod {
    /// The method in words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::PairedT => "paired t bound (fixed sample)",
            Self::WelchT => "Welch t bound (fixed sample, runs not interleaved)",
            Self::AnytimeMixture => "anytime-valid confidence sequence (normal mixture on ABBA blocks)",
        }
    }
}

/// One-sided bounds of the improvement of mean time, with what they rest on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImprovementBound {
    /// [`ESTIMAND`].
    pub estimand: &'static str,
    /// How the bounds were computed.
    pub method: BoundMethod,
    /// Confidence of each one-sided bound (`1 − α`).
    pub confidence: Decimal,
    /// The point estimate, percent.
    pub estimate_percent: Decimal,
    /// Lower bound, percent; null while the data do not bound it.
    pub lower_percent: Option<Decimal>,
    /// Upper bound, percent; null while the data do not bound it.
    pub upper_percent: Option<Decimal>,
    /// Units the bound rests on (pairs, ABBA blocks, or the smaller side's runs).
    pub units: usize,
    /// Pairs per unit (2 for ABBA blocks; 1 otherwise).
    pub pairs_per_unit: usize,
    /// Lag-1 autocorrelation of the units' differences at the estimate (the larger side's when
    /// not interleaved); null with fewer than three units.
    pub lag1_autocorrelation: Option<Decimal>,
    /// The factor the variance was widened by for that dependence (1: none).
    pub variance_inflation: Decimal,
    /// True when the lag-1 autocorrelation passed the largest one corrected for: the units are
    /// not close to independent, and nothing is decided.
    pub dependent: bool,
    /// Pairs (runs per side when not interleaved) a decision would take at the observed
    /// noise and estimate; null when the estimate sits on the threshold.
    pub pairs_to_decide: Option<usize>,
}

impl ImprovementBound {
    /// `lower ≥ min`: the improvement is shown to reach `min`.
    pub fn reaches(&self, min: Decimal) -> bool {
        !self.dependent && self.lower_percent.is_some_and(|l| l >= min)
    }

    /// `upper < min`: the improvement is shown to fall short of `min`.
    pub fn short_of(&self, min: Decimal) -> bool {
        !self.dependent && self.upper_percent.is_some_and(|u| u < min)
    }

    /// `[L%, U%]` with `−∞`/`+∞` for unbounded ends.
    pub fn interval_text(&self) -> String {
        let end = |x: Option<Decimal>, inf: &str| {
            x.map_or(inf.to_owned(), |v| format!("{}%", bench_core::units::fmt2(v)))
        };
        format!("[{}, {}]", end(self.lower_percent, "−∞"), end(self.upper_percent, "+∞"))
    }

    /// One sentence: estimand, estimate, bounds, method, units and dependence.
    pub fn statement(&self) -> String {
        let f = bench_core::units::fmt2;
        let unit = if self.pairs_per_unit == 2 { "ABBA blocks of 2 pairs" } else { "units" };
        let dependence = match self.lag1_autocorrelation {
            Some(r) if self.variance_inflation > Decimal::ONE => {
                format!("lag-1 autocorrelation {}, variance widened ×{}", f(r), f(self.variance_inflation))
            }
            Some(r) => format!("lag-1 autocorrelation {}", f(r)),
            None => "lag-1 autocorrelation not measurable".into(),
        };
        format!(
            "{} {}% (= {ESTIMAND_DEFINITION}), one-sided {}% bounds {} ({}, {} {unit}, {dependence})",
            ESTIMAND,
            f(self.estimate_percent),
            (self.confidence * Decimal::ONE_HUNDRED).normalize(),
            self.interval_text(),
            self.method.describe(),
            self.units
        )
    }
}

fn dec(x: f64, what: &'static str) -> Result<Decimal, ThresholdError> {
    to_decimal(x).map_err(|_| ThresholdError::NonFinite { what, value: x })
}

/// Improvement percent of a ratio `μ_c / μ_b`.
fn pct(r: f64) -> f64 {
    (1.0 - r) * 100.0
}

/// The lag-1 autocorrelation of the units' differences at the estimate, the variance
/// inflation it calls for, and whether it is past the largest one corrected for.
pub(crate) fn dependence(s: &PairedSums) -> (Option<f64>, f64, bool) {
    if s.n() < 3 {
        return (None, 1.0, false);
    }
    let rho = s.lag1(s.ratio());
    (Some(rho), variance_inflation(rho), rho > MAX_AUTOCORRELATION)
}

struct Parts {
    method: BoundMethod,
    alpha: f64,
    ratio: RatioBounds,
    units: usize,
    pairs_per_unit: usize,
    rho: Option<f64>,
    inflation: f64,
    dependent: bool,
    /// Half-width of the ratio bound at `n` units, at the observed noise.
    half_width: Box<dyn Fn(usize) -> f64>,
}

fn finish(p: Parts, min_improvement_percent: f64) -> Result<ImprovementBound, ThresholdError> {
    let gap = ((1.0 - min_improvement_percent / 100.0) - p.ratio.estimate).abs();
    let pairs_to_decide = if gap > 1e-12 && !p.dependent {
        // The smallest unit count whose half-width is within the gap (doubling, then bisection).
        // The half-width shrinks as units are added; `lo` is always a count known too small
        // (one unit bounds nothing), `hi` the candidate.
        let ok = |n: usize| (p.half_width)(n) <= gap;
        let (mut lo, mut hi) = (1, p.units.max(2));
        while !ok(hi) && hi < 1 << 26 {
            lo = hi;
            hi *= 2;
        }
        if ok(hi) {
            while lo + 1 < hi {
                let mid = (lo + hi) / 2;
                if ok(mid) { hi = mid } else { lo = mid }
            }
            Some(hi * p.pairs_per_unit)
        } else {
            None
        }
    } else {
        None
    };
    Ok(ImprovementBound {
        estimand: ESTIMAND,
        method: p.method,
        confidence: dec(1.0 - p.alpha, "confidence")?,
        estimate_percent: dec(pct(p.ratio.estimate), "improvement estimate")?,
        lower_percent: p.ratio.upper.map(|u| dec(pct(u), "lower bound")).transpose()?,
        // Times are positive, so the ratio is too: an improvement above 100% is impossible.
        upper_percent: p.ratio.lower.map(|l| dec(pct(l.max(0.0)), "upper bound")).transpose()?,
        units: p.units,
        pairs_per_unit: p.pairs_per_unit,
        lag1_autocorrelation: p.rho.map(|r| dec(r, "lag-1 autocorrelation")).transpose()?,
        variance_inflation: dec(p.inflation, "variance inflation")?,
        dependent: p.dependent,
        pairs_to_decide,
    })
}

/// Fixed-sample bounds from paired runs (`baseline[i]` with `candidate[i]`), each pair a unit.
///
/// ```
/// use rust_decimal::Decimal;
/// let b = [1.00, 1.02, 0.98, 1.01, 0.99, 1.00, 1.03, 0.97, 1.00, 1.01];
/// let c: Vec<f64> = b.iter().map(|t| t * 0.80).collect();
/// let bound = bench_threshold::paired_bound(&b, &c, 0.05, 5.0).unwrap();
/// assert!(bound.reaches(Decimal::new(5, 0)));
/// ```
pub fn paired_bound(
    baseline: &[f64],
    candidate: &[f64],
    alpha: f64,
    min_improvement_percent: f64,
) -> Result<ImprovementBound, ThresholdError> {
    let s = PairedSums::from_units(baseline, candidate);
    let (rho, inflation, dependent) = dependence(&s);
    let n = s.n();
    let ratio = s.ratio_bounds(paired_critical(n, alpha, inflation)?);
    let spread = s.relative_spread(s.ratio());
    let half_width = Box::new(move |m: usize| {
        paired_critical(m, alpha, inflation).map_or(f64::INFINITY, |k| (k / m as f64).sqrt() * spread)
    });
    finish(
        Parts {
            method: BoundMethod::PairedT,
            alpha,
            ratio,
            units: n,
            pairs_per_unit: 1,
            rho,
            inflation,
            dependent,
            half_width,
        },
        min_improvement_percent,
    )
}

/// Fixed-sample bounds from runs measured separately (independent samples; counts may differ).
/// Each side's dependence (a drift while it was measured) widens its own variance.
///
/// ```
/// let b = [1.00, 1.02, 0.98, 1.01, 0.99, 1.00, 1.03, 0.97];
/// let c = [0.80, 0.83, 0.79, 0.81, 0.78, 0.80];
/// let bound = bench_threshold::independent_bound(&b, &c, 0.05, 5.0).unwrap();
/// assert!(bound.lower_percent.unwrap() > rust_decimal::Decimal::new(5, 0));
/// ```
pub fn independent_bound(
    baseline: &[f64],
    candidate: &[f64],
    alpha: f64,
    min_improvement_percent: f64,
) -> Result<ImprovementBound, ThresholdError> {
    let rho_of = |v: &[f64]| (v.len() >= 3).then(|| lag1_autocorrelation(v));
    let (rb, rc) = (rho_of(baseline), rho_of(candidate));
    let (fb, fc) = (variance_inflation(rb.unwrap_or(0.0)), variance_inflation(rc.unwrap_or(0.0)));
    let rho = match (rb, rc) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let dependent = rho.is_some_and(|r| r > MAX_AUTOCORRELATION);
    let ratio = welch_ratio_bounds(baseline, candidate, alpha, [fb, fc])?;
    let nb = baseline.len() as f64;
    // Both sides have at least two runs here (welch_ratio_bounds checked).
    let var =
        |v: &[f64]| bench_core::Sample::new(v.to_vec()).map_or(0.0, |s| bench_stats::std_dev(&s).powi(2));
    let mb = baseline.iter().sum::<f64>() / nb;
    let r = ratio.estimate;
    // Per-run variance of r·b − c relative to the baseline mean, both sides growing together.
    let per_run = (r * r * fb * var(baseline) + fc * var(candidate)).sqrt() / mb;
    let half_width = Box::new(move |m: usize| {
        if m < 2 {
            return f64::INFINITY;
        }
        bench_stats::t_quantile(1.0 - alpha, (m - 1) as f64)
            .map_or(f64::INFINITY, |t| t * per_run / (m as f64).sqrt())
    });
    finish(
        Parts {
            method: BoundMethod::WelchT,
            alpha,
            ratio,
            units: baseline.len().min(candidate.len()),
            pairs_per_unit: 1,
            rho,
            inflation: fb.max(fc),
            dependent,
            half_width,
        },
        min_improvement_percent,
    )
}

/// Sums consecutive pairs into ABBA blocks of two (a trailing odd pair is its own unit).
pub fn abba_blocks(baseline: &[f64], candidate: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = baseline.len().min(candidate.len());
    let mut xs = Vec::with_capacity(n.div_ceil(2));
    let mut ys = Vec::with_capacity(n.div_ceil(2));
    for i in (0..n).step_by(2) {
        let j = (i + 2).min(n);
        xs.push(baseline[i..j].iter().sum());
        ys.push(candidate[i..j].iter().sum());
    }
    (xs, ys)
}

/// Anytime-valid bounds from paired runs taken in order, on ABBA blocks: valid whenever the
/// comparison stops, however often it looked. `boundary` is the plan's mixture boundary.
///
/// ```
/// use bench_stats::MixtureBoundary;
/// let b: Vec<f64> = (0..60).map(|i| 1.0 + 0.01 * f64::from(i % 5)).collect();
/// let c: Vec<f64> = b.iter().enumerate().map(|(i, t)| t * (0.8 + 0.01 * f64::from(i as u8 % 3))).collect();
/// let boundary = MixtureBoundary::tuned_for(200.0, 0.05).unwrap();
/// let bound = bench_threshold::confidence_sequence_bound(&b, &c, &boundary, 5.0).unwrap();
/// assert!(bound.reaches(rust_decimal::Decimal::new(5, 0)));
/// ```
pub fn confidence_sequence_bound(
    baseline: &[f64],
    candidate: &[f64],
    boundary: &MixtureBoundary,
    min_improvement_percent: f64,
) -> Result<ImprovementBound, ThresholdError> {
    let (xs, ys) = abba_blocks(baseline, candidate);
    let s = PairedSums::from_units(&xs, &ys);
    let (rho, inflation, dependent) = dependence(&s);
    let q = boundary.critical(s.n());
    let ratio = s.ratio_bounds(q * q * inflation);
    let spread = s.relative_spread(s.ratio());
    let b = *boundary;
    let half_width = Box::new(move |m: usize| {
        let q = b.critical(m);
        if q.is_finite() { q * (inflation / m as f64).sqrt() * spread } else { f64::INFINITY }
    });
    finish(
        Parts {
            method: BoundMethod::AnytimeMixture,
            alpha: boundary.alpha(),
            ratio,
            units: s.n(),
            pairs_per_unit: 2,
            rho,
            inflation,
            dependent,
            half_width,
        },
        min_improvement_percent,
    )
}
