//! Confidence sequences for a mean: intervals that hold at every sample size at once, so a
//! comparison can look at its data after every pair and stop as soon as the answer is clear
//! without inflating its error rate (a fixed-sample interval checked repeatedly would).
//!
//! The boundary is Robbins' normal mixture: for sums `S_t` of standardised observations the
//! process `M_t = (tρ² + 1)^{-1/2} · exp(ρ² S_t² / (2(tρ² + 1)))` is a nonnegative martingale
//! under the null, so by Ville's inequality `P(∃t: M_t ≥ 1/α) ≤ α`. Solving `M_t < 1/α` for the
//! mean gives, at every `t` simultaneously,
//!
//! `mean ∈ x̄_t ± σ · √( 2(tρ² + 1) / (t²ρ²) · ln(√(tρ² + 1) / α) )`.
//!
//! With the unknown `σ` replaced by the running sample standard deviation this is the
//! asymptotic confidence sequence of Waudby-Smith, Arbour, Sinha, Kennedy and Ramdas
//! ("Time-uniform central limit theory and asymptotic confidence sequences", Annals of
//! Statistics, 2024, Theorem 2.2); the mixture boundary is that of Howard, Ramdas, McAuliffe and
//! Sekhon ("Time-uniform, nonparametric, nonasymptotic confidence sequences", Annals of
//! Statistics, 2021). `ρ` only shapes where the sequence is tightest: tuned for `t*`
//! observations it is `ρ² = (−2 ln α + ln(1 − 2 ln α)) / t*`. Because the variance is estimated,
//! the guarantee is asymptotic; the project checks its error rates by simulation on its own
//! recorded noise.

use crate::StatsError;

/// A two-sided `(1 − α)` confidence sequence for a mean.
///
/// ```
/// use bench_stats::ConfidenceSequence;
/// let cs = ConfidenceSequence::tuned_for(100.0, 0.05).unwrap();
/// let x: Vec<f64> = (0..100).map(|i| 1.0 + if i % 2 == 0 { 0.1 } else { -0.1 }).collect();
/// let (lo, hi) = cs.interval(&x).unwrap();
/// assert!(lo < 1.0 && 1.0 < hi);
/// // Wider than the fixed-sample 95% interval at the same n: the price of looking every time.
/// assert!(hi - lo > 2.0 * 1.98 * 0.1005 / 10.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConfidenceSequence {
    /// Error probability over the whole sequence.
    pub alpha: f64,
    /// Mixture parameter ρ.
    pub rho: f64,
}

impl ConfidenceSequence {
    /// The sequence at level `1 − alpha`, tightest after about `t_star` observations.
    pub fn tuned_for(t_star: f64, alpha: f64) -> Result<Self, StatsError> {
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(StatsError::InvalidParameter {
                name: "alpha",
                value: alpha,
                expected: "a number strictly between 0 and 1",
            });
        }
        if !(t_star.is_finite() && t_star >= 1.0) {
            return Err(StatsError::InvalidParameter {
                name: "t_star",
                value: t_star,
                expected: "a number ≥ 1",
            });
        }
        let l = -2.0 * alpha.ln();
        Ok(Self { alpha, rho: ((l + (1.0 + l).ln()) / t_star).sqrt() })
    }

    /// Half-width of the interval after `t` observations whose standard deviation is `sd`.
    pub fn half_width(&self, t: usize, sd: f64) -> f64 {
        let t = t as f64;
        let r2 = self.rho * self.rho;
        let v = t * r2 + 1.0;
        sd * (2.0 * v / (t * t * r2) * (v.sqrt() / self.alpha).ln()).sqrt()
    }

    /// The interval after observing `values` (mean ± half-width with the sample standard
    /// deviation, ddof = 1); `None` for fewer than two values.
    pub fn interval(&self, values: &[f64]) -> Option<(f64, f64)> {
        let n = values.len();
        if n < 2 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let var = values.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
        let h = self.half_width(n, var.sqrt());
        Some((mean - h, mean + h))
    }
}

/// A two-sided `(1 − α)` confidence sequence for a median, valid at every sample size with no
/// assumption on the distribution but continuity (so heavy tails and outliers cost nothing).
///
/// For the true median `m`, the indicators `1{xᵢ < m}` are fair coins; their centred sum `S_t`
/// has increments in `[−½, ½]`, so the normal-mixture boundary above (with `σ = ½`) holds for it
/// exactly, not just asymptotically: `P(∃t: |S_t| ≥ u_t) ≤ α` with
/// `u_t = ½ · √( 2(tρ² + 1)/ρ² · ln(√(tρ² + 1)/α) )`. The medians compatible with the data at
/// time `t` are those with between `t/2 − u_t` and `t/2 + u_t` observations below them: an
/// interval between two order statistics (Howard and Ramdas, "Sequential estimation of quantiles
/// with applications to A/B-testing and best-arm identification", Bernoulli, 2022, take the same
/// route with sharper boundaries).
///
/// ```
/// use bench_stats::MedianSequence;
/// let cs = MedianSequence::tuned_for(100.0, 0.05).unwrap();
/// // Cauchy-like outliers do not move it.
/// let mut x: Vec<f64> = (0..101).map(|i| (i as f64 - 50.0) / 50.0).collect();
/// x[3] = 1e9;
/// let (lo, hi) = cs.interval(&x).unwrap();
/// assert!(lo < 0.0 && 0.0 < hi && hi < 1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MedianSequence {
    mixture: ConfidenceSequence,
}

impl MedianSequence {
    /// The sequence at level `1 − alpha`, tightest after about `t_star` observations.
    pub fn tuned_for(t_star: f64, alpha: f64) -> Result<Self, StatsError> {
        Ok(Self { mixture: ConfidenceSequence::tuned_for(t_star, alpha)? })
    }

    /// How far the count of observations below the median may stray from `t/2` at time `t`.
    pub fn count_radius(&self, t: usize) -> f64 {
        // The mixture's mean radius for σ = ½, times t.
        self.mixture.half_width(t, 0.5) * t as f64
    }

    /// The interval after observing `values`, between order statistics (infinite where the data
    /// do not yet bound it); `None` for no values. NaNs sort last.
    pub fn interval(&self, values: &[f64]) -> Option<(f64, f64)> {
        let t = values.len();
        if t == 0 {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        self.interval_sorted(&sorted)
    }

    /// [`MedianSequence::interval`] of values already sorted ascending (for callers that keep
    /// them sorted as they arrive).
    pub fn interval_sorted(&self, sorted: &[f64]) -> Option<(f64, f64)> {
        let t = sorted.len();
        if t == 0 {
            return None;
        }
        let half = t as f64 / 2.0;
        let u = self.count_radius(t);
        // Counts j of observations below m allowed: t/2 − u < j < t/2 + u; m lies in
        // (x_(j), x_(j+1)] (1-based order statistics), so the interval spans
        // [x_(j_min), x_(j_max + 1)].
        let j_min = (half - u).floor() + 1.0;
        let j_max = (half + u).ceil() - 1.0;
        let at = |k: f64| -> Option<f64> { (k >= 1.0 && k <= t as f64).then(|| sorted[k as usize - 1]) };
        Some((at(j_min).unwrap_or(f64::NEG_INFINITY), at(j_max + 1.0).unwrap_or(f64::INFINITY)))
    }
}
