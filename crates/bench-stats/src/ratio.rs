//! One-sided bounds on a ratio of two means, `R = μ_y / μ_x`, from paired or independent
//! observations — fixed-sample (Student's t, Welch) or anytime-valid (a confidence sequence that
//! holds at every sample size at once, so data may be looked at after every new pair).
//!
//! Every bound comes from a family of tests of `H₀(r): μ_y = r·μ_x`, one per candidate ratio
//! `r`, inverted (Fieller's construction). For paired units `(xᵢ, yᵢ)` the test of `H₀(r)` is a
//! test that the differences `dᵢ(r) = r·xᵢ − yᵢ` have mean zero; with `T(r) = Σ dᵢ(r)` and
//! `W(r) = Σ dᵢ(r)²` every test here rejects when `T(r)² ≥ k·W(r)` on the side of `T`'s sign, for
//! a critical `k` that depends only on `n` (and the level). Both `T(r)` and `W(r)` are
//! polynomials in `r` with coefficients from five running sums, so the bounds are the roots of a
//! quadratic: [`PairedSums::ratio_bounds`].
//!
//! - [`paired_critical`]: the fixed-sample `k` of the one-sided paired t-test at level `α`;
//! - [`MixtureBoundary`]: the anytime-valid `k`: the one-sided, scale-invariant normal mixture
//!   (Lai, "On confidence sequences", Annals of Statistics 4(2), 1976). For Gaussian differences
//!   with any unknown variance, `P(∃n: T(r)/√W(r) ≥ q_n) ≤ α` under `H₀(r)` — exactly, not
//!   asymptotically;
//! - [`welch_ratio_bounds`]: independent samples, Welch's t at each `r`;
//! - [`lag1_autocorrelation`] and [`variance_inflation`]: serial dependence between units, and
//!   the AR(1) long-run variance factor the bounds are widened by.

use crate::{StatsError, t_cdf, t_quantile};

/// Running sums of paired units `(xᵢ, yᵢ)`: everything the ratio bounds need.
///
/// ```
/// use bench_stats::PairedSums;
/// let mut s = PairedSums::default();
/// for (x, y) in [(1.0, 0.9), (1.1, 1.0), (0.9, 0.8), (1.0, 0.92)] {
///     s.push(x, y);
/// }
/// assert_eq!(s.n(), 4);
/// assert!((s.ratio() - 3.62 / 4.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PairedSums {
    n: usize,
    sx: f64,
    sy: f64,
    sxx: f64,
    sxy: f64,
    syy: f64,
    /// Lagged cross sums `Σ aᵢ·bᵢ₋₁` for (x,x), (x,y), (y,x), (y,y).
    lag: [f64; 4],
    first: (f64, f64),
    last: (f64, f64),
}

/// Two one-sided bounds on a ratio `μ_y / μ_x`; `None` where the data do not bound it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioBounds {
    /// The point estimate `ȳ / x̄`.
    pub estimate: f64,
    /// Lower bound: `R ≥ lower` at the bound's level (`None`: unbounded below).
    pub lower: Option<f64>,
    /// Upper bound: `R ≤ upper` at the bound's level (`None`: unbounded above).
    pub upper: Option<f64>,
}

impl PairedSums {
    /// The sums of `xs` and `ys`, unit by unit (the shorter length counts).
    pub fn from_units(xs: &[f64], ys: &[f64]) -> Self {
        let mut s = Self::default();
        for (&x, &y) in xs.iter().zip(ys) {
            s.push(x, y);
        }
        s
    }

    /// Adds one unit.
    pub fn push(&mut self, x: f64, y: f64) {
        if self.n == 0 {
            self.first = (x, y);
        } else {
            let (px, py) = self.last;
            self.lag[0] += x * px;
            self.lag[1] += x * py;
            self.lag[2] += y * px;
            self.lag[3] += y * py;
        }
        self.last = (x, y);
        self.n += 1;
        self.sx += x;
        self.sy += y;
        self.sxx += x * x;
        self.sxy += x * y;
        self.syy += y * y;
    }

    /// Units so far.
    pub fn n(&self) -> usize {
        self.n
    }

    /// `ȳ / x̄`.
    pub fn ratio(&self) -> f64 {
        self.sy / self.sx
    }

    /// `T(r) = Σ (r·xᵢ − yᵢ)`.
    pub fn t(&self, r: f64) -> f64 {
        r * self.sx - self.sy
    }

    /// `W(r) = Σ (r·xᵢ − yᵢ)²` (never below zero).
    pub fn w(&self, r: f64) -> f64 {
        (r * r * self.sxx - 2.0 * r * self.sxy + self.syy).max(0.0)
    }

    /// Lag-1 autocorrelation of the differences `dᵢ(r) = r·xᵢ − yᵢ` in the order they were
    /// pushed — [`lag1_autocorrelation`] of them, from running sums; 0 for fewer than three
    /// units or differences constant up to rounding (relative to the data's own scale).
    ///
    /// ```
    /// use bench_stats::{PairedSums, lag1_autocorrelation};
    /// let (xs, ys) = ([1.0, 1.2, 0.9, 1.1, 1.3, 1.0], [0.9, 1.0, 0.95, 0.9, 1.0, 0.8]);
    /// let d: Vec<f64> = xs.iter().zip(&ys).map(|(x, y)| 0.9 * x - y).collect();
    /// let s = PairedSums::from_units(&xs, &ys);
    /// assert!((s.lag1(0.9) - lag1_autocorrelation(&d)).abs() < 1e-12);
    /// ```
    pub fn lag1(&self, r: f64) -> f64 {
        if self.n < 3 {
            return 0.0;
        }
        let n = self.n as f64;
        let sum = self.t(r);
        let m = sum / n;
        let den = self.w(r) - n * m * m;
        if den <= 1e-12 * (r * r * self.sxx + self.syy) {
            return 0.0;
        }
        let d = |(x, y): (f64, f64)| r * x - y;
        let prod = r * r * self.lag[0] - r * (self.lag[1] + self.lag[2]) + self.lag[3];
        let num = prod - m * (2.0 * sum - d(self.first) - d(self.last)) + (n - 1.0) * m * m;
        num / den
    }

    /// Standard deviation of the differences `dᵢ(r) = r·xᵢ − yᵢ` relative to the mean of `x`
    /// (the spread of one unit, from the running sums); `+∞` with fewer than two units.
    ///
    /// ```
    /// use bench_stats::PairedSums;
    /// let s = PairedSums::from_units(&[1.0, 1.0, 1.0], &[0.9, 1.0, 1.1]);
    /// assert!((s.relative_spread(1.0) - 0.1).abs() < 1e-12);
    /// ```
    pub fn relative_spread(&self, r: f64) -> f64 {
        if self.n < 2 {
            return f64::INFINITY;
        }
        let n = self.n as f64;
        let t = self.t(r);
        ((self.w(r) - t * t / n).max(0.0) / (n - 1.0)).sqrt() / (self.sx / n)
    }

    /// The self-normalised statistic `T(r) / √W(r)`, in `[−√n, √n]` (0 when `W(r) = 0`).
    pub fn q(&self, r: f64) -> f64 {
        let w = self.w(r);
        if w > 0.0 { self.t(r) / w.sqrt() } else { 0.0 }
    }

    /// The bounds on `R` from the tests that reject `H₀(r)` when `T(r)² ≥ k·W(r)`: the upper
    /// bound is the smallest `r` above the estimate where `T(r) ≥ √(k·W(r))`, the lower bound the
    /// largest `r` below it where `T(r) ≤ −√(k·W(r))`. `k = ∞` (or `k ≥ n`, which no data can
    /// reach) leaves both unbounded; when every unit has exactly the same ratio both bounds are
    /// that ratio.
    ///
    /// ```
    /// use bench_stats::{PairedSums, paired_critical};
    /// let xs = [1.00, 1.02, 0.98, 1.01, 0.99, 1.00, 1.03, 0.97];
    /// let ys: Vec<f64> = xs.iter().zip([0.80, 0.83, 0.79, 0.81, 0.78, 0.80, 0.82, 0.79]).map(|(_, y)| y).collect();
    /// let s = PairedSums::from_units(&xs, &ys);
    /// let b = s.ratio_bounds(paired_critical(8, 0.05, 1.0).unwrap());
    /// let (lo, hi) = (b.lower.unwrap(), b.upper.unwrap());
    /// assert!(lo < b.estimate && b.estimate < hi && hi < 0.83);
    /// ```
    pub fn ratio_bounds(&self, k: f64) -> RatioBounds {
        let estimate = self.ratio();
        let unbounded = RatioBounds { estimate, lower: None, upper: None };
        if !(k.is_finite() && k >= 0.0) || self.n == 0 {
            return unbounded;
        }
        // (r·Sx − Sy)² − k·(r²·Sxx − 2r·Sxy + Syy) = a·r² − 2b·r + c.
        let a = self.sx * self.sx - k * self.sxx;
        let b = self.sx * self.sy - k * self.sxy;
        let c = self.sy * self.sy - k * self.syy;
        if a <= 0.0 {
            // The x side alone is not bounded away from zero at this k: no finite bound.
            return unbounded;
        }
        let disc = b * b - a * c;
        if disc <= 0.0 {
            // Only possible when W vanishes at the estimate: every unit has the same ratio.
            return RatioBounds { estimate, lower: Some(estimate), upper: Some(estimate) };
        }
        let root = disc.sqrt();
        // Numerically stable roots of a·r² − 2b·r + c.
        let (r1, r2) = if b >= 0.0 {
            let big = (b + root) / a;
            (c / (b + root), big)
        } else {
            let small = (b - root) / a;
            (small, c / (b - root))
        };
        let (lo, hi) = if r1 <= r2 { (r1, r2) } else { (r2, r1) };
        RatioBounds { estimate, lower: Some(lo.min(estimate)), upper: Some(hi.max(estimate)) }
    }
}

/// The critical `k` of the one-sided paired t-test at level `alpha` on `n` units, in the form
/// `T² ≥ k·W` the ratio bounds use: `k = t²·f·n / (n − 1 + t²·f)` with `t = t(1 − α, n − 1)`
/// and the variance of the mean inflated by `f` ([`variance_inflation`]; 1 for independent
/// units).
///
/// ```
/// // n = 10, α = 0.05: t = 1.833; the statistic T/√W must reach 1.649.
/// let k = bench_stats::paired_critical(10, 0.05, 1.0).unwrap();
/// assert!((k.sqrt() - 1.6490).abs() < 1e-3);
/// ```
pub fn paired_critical(n: usize, alpha: f64, inflation: f64) -> Result<f64, StatsError> {
    check_alpha(alpha)?;
    if n < 2 {
        return Ok(f64::INFINITY);
    }
    let t = t_quantile(1.0 - alpha, (n - 1) as f64)?;
    let tf = t * t * inflation.max(1.0);
    Ok(tf * n as f64 / ((n - 1) as f64 + tf))
}

fn check_alpha(alpha: f64) -> Result<(), StatsError> {
    if alpha > 0.0 && alpha < 1.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidParameter {
            name: "alpha",
            value: alpha,
            expected: "a number strictly between 0 and 1",
        })
    }
}

/// The one-sided anytime-valid boundary for the mean of Gaussian observations with an unknown
/// variance: the scale-invariant normal mixture.
///
/// For observations `dᵢ` with mean zero, mixing the likelihood ratio of the scale-invariant
/// statistics over standardised effects `θ = μ/σ ≥ 0` with a half-normal prior of precision `c`
/// gives the nonnegative martingale (its closed form, with `q = Σdᵢ / √Σdᵢ²`)
///
/// `Eₙ(q) = 2·√(c/(n+c)) · (1 − q²/(n+c))^(−n/2) · F_{t,n}( q·√(n / (n + c − q²)) )`
///
/// where `F_{t,n}` is Student's t distribution function with `n` degrees of freedom. By Ville's
/// inequality `P(∃n: Eₙ ≥ 1/α) ≤ α`, whatever the variance and whenever one stops. `Eₙ` grows
/// with `q`, so the boundary is a critical `qₙ` per `n` ([`MixtureBoundary::critical`]). `c` only
/// shapes where the boundary is tightest: tuned for `t*` observations it is
/// `c = t* / (−2 ln α + ln(1 − 2 ln α))`.
///
/// ```
/// use bench_stats::MixtureBoundary;
/// let b = MixtureBoundary::tuned_for(100.0, 0.05).unwrap();
/// // Wider than a fixed-sample bound at the same n (the price of looking every time)...
/// let q100 = b.critical(100);
/// assert!(q100 > 1.66 && q100 < 3.5);
/// // ...and unreachable with very few observations.
/// assert!(b.critical(3).is_infinite());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixtureBoundary {
    alpha: f64,
    c: f64,
}

impl MixtureBoundary {
    /// The boundary at level `alpha`, tightest after about `t_star` observations.
    pub fn tuned_for(t_star: f64, alpha: f64) -> Result<Self, StatsError> {
        check_alpha(alpha)?;
        if !(t_star.is_finite() && t_star >= 1.0) {
            return Err(StatsError::InvalidParameter {
                name: "t_star",
                value: t_star,
                expected: "a number ≥ 1",
            });
        }
        let l = -2.0 * alpha.ln();
        Ok(Self { alpha, c: t_star / (l + (1.0 + l).ln()) })
    }

    /// The level.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The prior precision `c`.
    pub fn precision(&self) -> f64 {
        self.c
    }

    /// `ln Eₙ(q)`; `q` must lie in `[0, √n]`.
    pub fn log_evidence(&self, q: f64, n: usize) -> f64 {
        let (n, c) = (n as f64, self.c);
        let a = 1.0 - q * q / (n + c);
        let arg = q * (n / (n + c - q * q)).sqrt();
        let cdf = t_cdf(arg, n).unwrap_or(0.5).max(f64::MIN_POSITIVE);
        std::f64::consts::LN_2 + 0.5 * (c / (n + c)).ln() - 0.5 * n * a.ln() + cdf.ln()
    }

    /// The smallest `q` at which `n` observations reach evidence `1/α`; `+∞` when even
    /// `q = √n` (all observations equal and positive) does not.
    pub fn critical(&self, n: usize) -> f64 {
        if n < 2 {
            return f64::INFINITY;
        }
        let target = -self.alpha.ln();
        let top = (n as f64).sqrt();
        if self.log_evidence(top, n) < target {
            return f64::INFINITY;
        }
        let (mut lo, mut hi) = (0.0, top);
        for _ in 0..80 {
            let mid = 0.5 * (lo + hi);
            if self.log_evidence(mid, n) >= target {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }

    /// `critical(n)` for `n = 0..=n_max` (index = `n`), for callers that look often.
    pub fn table(&self, n_max: usize) -> Vec<f64> {
        (0..=n_max).map(|n| self.critical(n)).collect()
    }
}

/// Lag-1 autocorrelation of a series (`Σ (zᵢ − z̄)(zᵢ₋₁ − z̄) / Σ (zᵢ − z̄)²`); 0 for fewer than
/// three values or a constant series.
///
/// ```
/// let alternating = [1.0, -1.0, 1.0, -1.0, 1.0, -1.0];
/// assert!(bench_stats::lag1_autocorrelation(&alternating) < -0.8);
/// ```
pub fn lag1_autocorrelation(z: &[f64]) -> f64 {
    if z.len() < 3 {
        return 0.0;
    }
    let m = z.iter().sum::<f64>() / z.len() as f64;
    let den: f64 = z.iter().map(|v| (v - m) * (v - m)).sum();
    if den <= 0.0 {
        return 0.0;
    }
    let num: f64 = z.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum();
    num / den
}

/// Largest lag-1 autocorrelation the bounds are widened for; beyond it the units are not
/// treated as close to independent at all.
pub const MAX_AUTOCORRELATION: f64 = 0.8;

/// The factor by which serial dependence multiplies the variance of a mean, for a lag-1
/// autocorrelation `rho` of an AR(1) series: `(1 + ρ)/(1 − ρ)` for `ρ > 0`, 1 otherwise
/// (negative dependence is not counted on), with `ρ` capped at [`MAX_AUTOCORRELATION`].
///
/// ```
/// assert_eq!(bench_stats::variance_inflation(-0.3), 1.0);
/// assert!((bench_stats::variance_inflation(0.5) - 3.0).abs() < 1e-12);
/// ```
pub fn variance_inflation(rho: f64) -> f64 {
    let r = rho.clamp(0.0, MAX_AUTOCORRELATION);
    (1.0 + r) / (1.0 - r)
}

/// One-sided bounds on `μ_y / μ_x` from two independent samples at level `alpha` each: at every
/// `r`, Welch's t statistic `(r·x̄ − ȳ) / √(r²·vₓ + v_y)` (`v = f·s²/n`, each side's variance of
/// its mean inflated by its own `f`) against `t(1 − α, ν(r))` with the Welch–Satterthwaite `ν(r)`;
/// the bound is where they meet (bisection; the statistic grows with `r`).
///
/// ```
/// use bench_stats::welch_ratio_bounds;
/// let x = [1.00, 1.02, 0.98, 1.01, 0.99, 1.00, 1.03, 0.97];
/// let y = [0.80, 0.83, 0.79, 0.81, 0.78, 0.80];
/// let b = welch_ratio_bounds(&x, &y, 0.05, [1.0, 1.0]).unwrap();
/// assert!(b.lower.unwrap() < b.estimate && b.estimate < b.upper.unwrap());
/// ```
pub fn welch_ratio_bounds(
    x: &[f64],
    y: &[f64],
    alpha: f64,
    inflation: [f64; 2],
) -> Result<RatioBounds, StatsError> {
    check_alpha(alpha)?;
    let stats = |v: &[f64], f: f64| -> Result<(f64, f64, f64), StatsError> {
        if v.len() < 2 {
            return Err(StatsError::InvalidParameter {
                name: "sample size",
                value: v.len() as f64,
                expected: "at least 2 values per side",
            });
        }
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / (n - 1.0);
        Ok((m, f.max(1.0) * var / n, n))
    };
    let (mx, vx, nx) = stats(x, inflation[0])?;
    let (my, vy, ny) = stats(y, inflation[1])?;
    let estimate = my / mx;
    if vx == 0.0 && vy == 0.0 {
        return Ok(RatioBounds { estimate, lower: Some(estimate), upper: Some(estimate) });
    }
    // g(r) > 0 where H₀(r) is rejected in the direction of `sign`.
    let g = |r: f64, sign: f64| -> f64 {
        let (a, b) = (r * r * vx, vy);
        let se = (a + b).sqrt();
        let df = (a + b) * (a + b) / (a * a / (nx - 1.0) + b * b / (ny - 1.0));
        let crit = t_quantile(1.0 - alpha, df.max(1.0)).unwrap_or(f64::INFINITY);
        sign * (r * mx - my) / se - crit
    };
    // The statistic grows with r towards mx/√vx as r → ∞ and falls to −my/√vy at r = 0.
    let upper = {
        let mut hi = estimate.max(f64::MIN_POSITIVE) * 2.0;
        let mut found = false;
        for _ in 0..60 {
            if g(hi, 1.0) >= 0.0 {
                found = true;
                break;
            }
            hi *= 2.0;
        }
        found.then(|| bisect(|r| g(r, 1.0), estimate, hi))
    };
    let lower = (g(0.0, -1.0) >= 0.0).then(|| bisect(|r| -g(r, -1.0), 0.0, estimate));
    Ok(RatioBounds { estimate, lower, upper })
}

/// The point in `[lo, hi]` where `f` turns from negative to non-negative.
fn bisect(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if f(mid) >= 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}
