//! Student's t distribution: tail probabilities and quantiles accurate to a few ulps of the
//! reference (scipy), built on statrs' regularised incomplete beta function.

use statrs::distribution::{ContinuousCDF, StudentsT};
use statrs::function::gamma::ln_gamma;

use crate::StatsError;

fn check_df(df: f64) -> Result<(), StatsError> {
    if df.is_finite() && df > 0.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidParameter {
            name: "degrees of freedom",
            value: df,
            expected: "a finite number > 0",
        })
    }
}

/// Upper tail probability `P(T > t)` of Student's t with `df` degrees of freedom.
///
/// Computed directly (not as `1 − cdf`), so tiny tail probabilities keep their relative
/// accuracy: `t_sf(30.0, 59.0)` is about 1e-37, not 0.
///
/// ```
/// let p = bench_stats::t_sf(2.5, 9.0).unwrap();
/// assert!((p - 0.016_930_913_841_492_867).abs() < 1e-15); // scipy.stats.t.sf(2.5, 9)
/// ```
pub fn t_sf(t: f64, df: f64) -> Result<f64, StatsError> {
    check_df(df)?;
    if t.is_nan() {
        return Err(StatsError::InvalidParameter { name: "t", value: t, expected: "a number" });
    }
    if t == f64::INFINITY {
        return Ok(0.0);
    }
    if t == f64::NEG_INFINITY {
        return Ok(1.0);
    }
    let t2 = t * t;
    // Tail mass beyond |t|: 0.5 · I_x(df/2, 1/2) with x = df/(df+t²); 1 − x = t²/(df+t²) is
    // passed separately so neither side suffers cancellation.
    let tail = 0.5 * beta_reg_xy(df / 2.0, 0.5, df / (df + t2), t2 / (df + t2));
    Ok(if t >= 0.0 { tail } else { 1.0 - tail })
}

/// Regularised incomplete beta `I_x(a, b)` given both `x` and `y = 1 − x` (each computed
/// without cancellation by the caller). The continued fraction is evaluated on whichever side
/// converges, and the result is returned directly when that side is `I_x` itself, so small
/// values keep their relative accuracy.
fn beta_reg_xy(a: f64, b: f64, x: f64, y: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if y <= 0.0 {
        return 1.0;
    }
    // ln x and ln y from whichever of x, y is small, so neither loses digits near 1.
    let ln_x = if y < 0.5 { (-y).ln_1p() } else { x.ln() };
    let ln_y = if x < 0.5 { (-x).ln_1p() } else { y.ln() };
    let ln_front = ln_beta_inverse(a, b) + a * ln_x + b * ln_y;
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, y) / b
    }
}

/// `−ln B(a, b) = ln Γ(a+b) − ln Γ(a) − ln Γ(b)`. When one argument is ½ and the other large
/// (Student's t with many degrees of freedom) the three log-gammas are huge and nearly cancel,
/// so the ratio Γ(a+½)/Γ(a) is taken from its asymptotic series instead.
fn ln_beta_inverse(a: f64, b: f64) -> f64 {
    let (big, half) = if b == 0.5 {
        (a, true)
    } else if a == 0.5 {
        (b, true)
    } else {
        (a, false)
    };
    if half && big >= 100.0 {
        // ln(Γ(z+½)/Γ(z)) = ½ ln z − 1/(8z) + 1/(192z³) + 1/(640z⁵) − 17/(14336z⁷) + O(z⁻⁹)
        let z = big;
        let (z2, z3) = (z * z, z * z * z);
        let ratio = 0.5 * z.ln() - 1.0 / (8.0 * z) + 1.0 / (192.0 * z3) + 1.0 / (640.0 * z3 * z2)
            - 17.0 / (14336.0 * z3 * z2 * z2);
        return ratio - ln_gamma(0.5);
    }
    ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b)
}

/// The continued fraction of the incomplete beta function (modified Lentz), iterated until the
/// relative change is below one ulp.
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..100_000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() <= f64::EPSILON {
            break;
        }
    }
    h
}

/// Cumulative probability `P(T ≤ t)`.
pub fn t_cdf(t: f64, df: f64) -> Result<f64, StatsError> {
    t_sf(-t, df)
}

/// Probability density of Student's t at `t`.
pub fn t_pdf(t: f64, df: f64) -> Result<f64, StatsError> {
    check_df(df)?;
    Ok(ln_pdf(t, df).exp())
}

/// Natural log of the density (finite where the density itself underflows).
fn ln_pdf(t: f64, df: f64) -> f64 {
    ln_gamma((df + 1.0) / 2.0)
        - ln_gamma(df / 2.0)
        - 0.5 * (df * std::f64::consts::PI).ln()
        - (df + 1.0) / 2.0 * (t * t / df).ln_1p()
}

/// The quantile `t` with `P(T ≤ t) = p` (scipy's `t.ppf`).
///
/// statrs' inverse gives a starting point; Newton steps on the accurate tail probability then
/// refine it to (near) full double precision.
///
/// ```
/// let t = bench_stats::t_quantile(0.975, 9.0).unwrap();
/// assert!((t - 2.262_157_162_798_205).abs() < 1e-12); // scipy.stats.t.ppf(0.975, 9)
/// ```
pub fn t_quantile(p: f64, df: f64) -> Result<f64, StatsError> {
    check_df(df)?;
    if !(p > 0.0 && p < 1.0) {
        return Err(StatsError::InvalidParameter {
            name: "probability",
            value: p,
            expected: "a number strictly between 0 and 1",
        });
    }
    if p == 0.5 {
        return Ok(0.0);
    }
    // Work in the upper tail q = P(T > t) for t > 0, which keeps small probabilities exact.
    let (q, sign) = if p > 0.5 { (1.0 - p, 1.0) } else { (p, -1.0) };
    let dist = StudentsT::new(0.0, 1.0, df).map_err(|_| StatsError::InvalidParameter {
        name: "degrees of freedom",
        value: df,
        expected: "a finite number > 0",
    })?;
    // Start from statrs' inverse; for very large df (where its inverse is slow) from the normal
    // quantile, which the t quantile approaches.
    let mut t = if df > 1e6 {
        statrs::distribution::Normal::standard().inverse_cdf(1.0 - q).abs()
    } else {
        dist.inverse_cdf(1.0 - q).abs()
    };
    if !t.is_finite() || t <= 0.0 {
        t = 1.0;
    }
    // Far tails follow a power law, sf(t) ~ C·t^(−df): Newton on ln sf against ln t converges
    // from any start there (linear Newton would crawl from a poor one).
    if q < 1e-6 {
        for _ in 0..200 {
            let sf = t_sf(t, df)?;
            if sf <= 0.0 || !sf.is_finite() {
                break;
            }
            // d ln sf / d ln t = −t·pdf/sf, computed in logs (the density underflows first).
            let slope = -(t.ln() + ln_pdf(t, df) - sf.ln()).exp();
            if slope.is_nan() || slope >= 0.0 {
                break;
            }
            let step = (q.ln() - sf.ln()) / slope;
            let next = t * step.clamp(-50.0, 50.0).exp();
            let done = (next - t).abs() <= 1e-12 * t;
            t = next;
            if done {
                break;
            }
        }
    }
    for _ in 0..100 {
        let sf = t_sf(t, df)?;
        let pdf = t_pdf(t, df)?;
        if pdf <= 0.0 || !pdf.is_finite() {
            break;
        }
        // Newton on sf(t) − q (sf decreases with slope −pdf); never step to t ≤ 0.
        let step = (sf - q) / pdf;
        let next = if t + step > 0.0 { t + step } else { t * 0.5 };
        let done = (next - t).abs() <= 4.0 * f64::EPSILON * t.abs();
        t = next;
        if done {
            break;
        }
    }
    Ok(sign * t)
}
