//! Detecting moving-average crosses, four ways that give identical signals.
//!
//! Prices are fixed-point with at most four decimals, so a window sum of integer ticks is exact
//! and the comparison `sum_f/f > sum_s/s` can be decided exactly (`sum_f·s > sum_s·f` in
//! 128-bit integers). The cached and vectorised paths store each SMA as the correctly rounded
//! quotient `sum/w` of an exact integer sum; two such quotients compare exactly like the
//! rationals they round as long as `max_price_ticks · fast · slow < 2^50` and sums stay below
//! 2^53 (checked by [`check_exact_bounds`]): distinct rationals then differ by more than two
//! ulps. The prefix-sum path compares `P[t]−P[t−f]` against `P[t]−P[t−s]` scaled by the windows,
//! exactly, from one array of integer tick prefix sums. So every path decides every cross
//! identically, whatever the order of summation. Where two SMAs are mathematically equal, pandas'
//! rounded rolling means (which backtesting.py compares) can still differ in the last bit; the
//! exact paths see the tie and signal no cross there ([`sma_pandas`] reproduces pandas for the
//! cross-checks).

use crate::WorkloadError;

mod simd;
use crate::bundle::{Bundle, Field, to_ticks};
use crate::engine::{Cross, Params, Signal};
use crate::portal::DataPortal;

/// Exact comparison of two SMAs given their integer tick sums.
#[inline]
fn compare(sum_f: i64, f: u32, sum_s: i64, s: u32) -> std::cmp::Ordering {
    (i128::from(sum_f) * i128::from(s)).cmp(&(i128::from(sum_s) * i128::from(f)))
}

/// Checks that exact comparisons hold for these assets and windows (see the module docs).
pub fn check_exact_bounds(bundle: &Bundle, assets: &[usize], params: &[Params]) -> Result<(), WorkloadError> {
    let max_fs = params.iter().map(|p| u128::from(p.fast) * u128::from(p.slow)).max().unwrap_or(0);
    let max_w = params.iter().map(|p| u128::from(p.slow)).max().unwrap_or(0);
    for &a in assets {
        let ticks = bundle.assets[a].max_price_ticks().max(1) as u128;
        if ticks * max_fs >= 1 << 50 || ticks * max_w >= 1 << 53 {
            return Err(WorkloadError::InvalidParameter(format!(
                "windows up to {max_w} bars on {} (max price {} ticks) are too large for exact SMA comparison; use smaller windows",
                bundle.assets[a].symbol, ticks
            )));
        }
    }
    Ok(())
}

/// Baseline: at every decision bar, fetch a fresh copy of the last `slow + 1` closes from the
/// portal and recompute both SMAs at this bar and the previous one over their windows —
/// O(bars × window) with an allocation per bar, the shape of a data portal's per-bar `get_history`
/// bottleneck. Decision bars are `from..hi` (`from ≥ slow`).
#[bench_line_probe::line_probe]
pub fn signals_from_history(
    portal: &DataPortal<'_>,
    asset: usize,
    from: usize,
    hi: usize,
    p: Params,
) -> Result<Vec<Signal>, WorkloadError> {
    let _span = tracing::info_span!("bench_workloads::signals::signals_from_history").entered();
    let (f, s) = (p.fast as usize, p.slow as usize);
    let mut out = Vec::new();
    for i in from..hi {
        let window = portal.history(asset, i, s + 1, Field::Close)?; // bars i-s ..= i
        let sum = |range: std::ops::Range<usize>| -> i64 { window[range].iter().map(|&c| to_ticks(c)).sum() };
        let fast_now = sum(s + 1 - f..s + 1);
        let fast_prev = sum(s - f..s);
        let slow_now = sum(1..s + 1);
        let slow_prev = sum(0..s);
        let prev = compare(fast_prev, p.fast, slow_prev, p.slow);
        let now = compare(fast_now, p.fast, slow_now, p.slow);
        use std::cmp::Ordering::{Greater, Less};
        let cross = match (prev, now) {
            (Less, Greater) => Some(Cross::Up),
            (Greater, Less) => Some(Cross::Down),
            _ => None,
        };
        if let Some(cross) = cross {
            out.push(Signal { bar: i as u32, cross });
        }
    }
    Ok(out)
}

/// The SMA of `close` over `window` bars at every bar, as correctly rounded quotients of exact
/// integer tick sums (rolling sum, O(bars)); bars before the first full window hold NaN.
#[bench_line_probe::line_probe]
pub fn sma_exact(close: &[f64], window: usize) -> Vec<f64> {
    let _span = tracing::info_span!("bench_workloads::signals::sma_exact").entered();
    let mut out = vec![f64::NAN; close.len()];
    if window == 0 || window > close.len() {
        return out;
    }
    let ticks: Vec<i64> = close.iter().map(|&c| to_ticks(c)).collect();
    let mut sum: i64 = ticks[..window].iter().sum();
    let w = window as f64;
    out[window - 1] = sum as f64 / w;
    for i in window..close.len() {
        sum += ticks[i] - ticks[i - window];
        out[i] = sum as f64 / w;
    }
    out
}

/// Scalar scan of precomputed SMAs: one comparison pair per decision bar `from..hi`.
pub fn signals_from_smas(fast: &[f64], slow: &[f64], from: usize, hi: usize) -> Vec<Signal> {
    let _span = tracing::info_span!("bench_workloads::signals::signals_from_smas").entered();
    let mut out = Vec::new();
    for i in from..hi {
        let (f0, s0, f1, s1) = (fast[i - 1], slow[i - 1], fast[i], slow[i]);
        if f0 < s0 && f1 > s1 {
            out.push(Signal { bar: i as u32, cross: Cross::Up });
        } else if f0 > s0 && f1 < s1 {
            out.push(Signal { bar: i as u32, cross: Cross::Down });
        }
    }
    out
}

/// Vectorised scan: compares 64 bars at a time into `above`/`below` bit masks (the compiler
/// turns the inner loop into SIMD compares), finds crosses with shifts and ANDs, and visits only
/// the bars where a cross happened. Decision bars are `from..hi` (`from ≥ slow`).
pub fn signals_vectorized(fast: &[f64], slow: &[f64], from: usize, hi: usize) -> Vec<Signal> {
    let _span = tracing::info_span!("bench_workloads::signals::signals_vectorized").entered();
    let mut out = Vec::new();
    let start = from - 1; // the bar before the first decision bar
    if start + 1 >= hi {
        return out;
    }
    let (f, s) = (&fast[start..hi], &slow[start..hi]);
    // Carry of the previous chunk's last bar; the first bar (`start`) is never a decision bar.
    let (mut carry_above, mut carry_below) = (0u64, 0u64);
    let mut base = 0;
    let mut fc = f.chunks_exact(64);
    let mut sc = s.chunks_exact(64);
    for (fa, sa) in (&mut fc).zip(&mut sc) {
        let (above, below) = masks(fa, sa);
        let prev_above = (above << 1) | carry_above;
        let prev_below = (below << 1) | carry_below;
        let first = if base == 0 { !1u64 } else { !0u64 };
        push_crosses(&mut out, start + base, above & prev_below & first, below & prev_above & first);
        carry_above = above >> 63;
        carry_below = below >> 63;
        base += 64;
    }
    let (fr, sr) = (fc.remainder(), sc.remainder());
    if !fr.is_empty() {
        let (mut above, mut below) = (0u64, 0u64);
        for j in 0..fr.len() {
            above |= u64::from(fr[j] > sr[j]) << j;
            below |= u64::from(fr[j] < sr[j]) << j;
        }
        let first = if base == 0 { !1u64 } else { !0u64 };
        push_crosses(
            &mut out,
            start + base,
            above & ((below << 1) | carry_below) & first,
            below & ((above << 1) | carry_above) & first,
        );
    }
    out
}

/// Appends the crosses marked in one 64-bar block, in bar order: bit `j` of `up` (`down`) is an
/// upward (downward) cross at bar `first_bar + j`; at most one of the two is set per bar.
#[inline(always)]
fn push_crosses(out: &mut Vec<Signal>, first_bar: usize, up: u64, down: u64) {
    let mut any = up | down;
    while any != 0 {
        let j = any.trailing_zeros() as usize;
        let cross = if up >> j & 1 == 1 { Cross::Up } else { Cross::Down };
        out.push(Signal { bar: (first_bar + j) as u32, cross });
        any &= any - 1;
    }
}

#[inline(always)]
fn masks(f: &[f64], s: &[f64]) -> (u64, u64) {
    let (f, s): (&[f64; 64], &[f64; 64]) = (f.try_into().expect("64"), s.try_into().expect("64"));
    let (mut above, mut below) = (0u64, 0u64);
    for j in 0..64 {
        above |= u64::from(f[j] > s[j]) << j;
        below |= u64::from(f[j] < s[j]) << j;
    }
    (above, below)
}

/// pandas' fixed-window rolling mean (`Series.rolling(n).mean()`), bit for bit: one running
/// Kahan-compensated sum over the whole series with separate compensation for the entering and
/// the leaving value; a window of identical values yields that value exactly.
///
/// Used only to reproduce backtesting.py's float tie-breaking in cross-checks: where two SMAs
/// are mathematically equal, pandas' rounding decides the comparison, while the engine decides
/// it exactly (no cross on a tie). Bars before the first full window hold NaN.
pub fn sma_pandas(close: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; close.len()];
    if n == 0 {
        return out;
    }
    let (mut sum, mut comp_add, mut comp_rem) = (0.0f64, 0.0f64, 0.0f64);
    let mut same = 0usize;
    let mut prev = close.first().copied().unwrap_or(f64::NAN);
    for (i, &val) in close.iter().enumerate() {
        if i >= n {
            let y = -close[i - n] - comp_rem;
            let t = sum + y;
            comp_rem = t - sum - y;
            sum = t;
        }
        let y = val - comp_add;
        let t = sum + y;
        comp_add = t - sum - y;
        sum = t;
        same = if val == prev { same + 1 } else { 1 };
        prev = val;
        if i + 1 >= n {
            out[i] = if same >= n { prev } else { sum / n as f64 };
        }
    }
    out
}

/// The crosses backtesting.py 0.6.6 sees at decision bars `from..hi` (absolute indices): pandas'
/// rolling means ([`sma_pandas`]) of the closes from bar `start` on — the range backtesting.py
/// was given, whose running sum decides the last bits — compared as floats.
///
/// ```
/// use bench_workloads::{Params, signals::{signals_backtesting_py, signals_from_smas, sma_exact}};
/// let close: Vec<f64> = (0..60).map(|i| 100.0 + (f64::from(i) * 0.3).sin() * 5.0).collect();
/// let p = Params::new(3, 8).unwrap();
/// // Without ties the float rule and the exact rule agree.
/// let exact = signals_from_smas(&sma_exact(&close, 3), &sma_exact(&close, 8), 8, 60);
/// assert_eq!(signals_backtesting_py(&close, p, 0, 8, 60), exact);
/// ```
pub fn signals_backtesting_py(
    close: &[f64],
    params: Params,
    start: usize,
    from: usize,
    hi: usize,
) -> Vec<Signal> {
    let range = &close[start..hi];
    let f = sma_pandas(range, params.fast as usize);
    let s = sma_pandas(range, params.slow as usize);
    let mut out = signals_from_smas(&f, &s, from - start, hi - start);
    for sig in &mut out {
        sig.bar += start as u32;
    }
    out
}

/// Largest magnitude below which every integer is exact in an `f64` (2^53).
const EXACT_F64: f64 = 9_007_199_254_740_992.0;

/// Prefix sums of the close in ticks, `P[0] = 0`, `P[i+1] = P[i] + ticks(close[i])`, as `f64`
/// (exact integers), or `None` when they would pass 2^53.
pub fn prefix_ticks(close: &[f64]) -> Option<Vec<f64>> {
    let _span = tracing::info_span!("bench_workloads::signals::prefix_ticks").entered();
    let mut out = Vec::with_capacity(close.len() + 1);
    let mut sum: i64 = 0;
    out.push(0.0);
    for &c in close {
        sum = sum.checked_add(to_ticks(c))?;
        out.push(sum as f64);
    }
    (sum.unsigned_abs() as f64 * 4.0 < EXACT_F64).then_some(out)
}

/// Whether [`signals_prefix`] is exact for windows up to `max_window` on prefix sums `p`: every
/// product and sum it forms must stay below 2^53.
pub fn prefix_exact(p: &[f64], max_window: u32) -> bool {
    let top = p.last().copied().unwrap_or(0.0).abs();
    top * f64::from(max_window) * 3.0 < EXACT_F64
}

/// Fused exact cross detection on prefix sums, 64 bars at a time: the sign of
/// `slow·Σfast − fast·Σslow = (slow − fast)·P[i+1] − slow·P[i+1−fast] + fast·P[i+1−slow]`
/// is the sign of `SMA_fast − SMA_slow`, and every term is an exact integer below 2^53 (checked
/// by [`prefix_exact`]), so no SMA array is stored and no division is made. Decision bars are
/// `from..hi` (`from ≥ slow`).
pub fn signals_prefix(p: &[f64], params: Params, from: usize, hi: usize) -> Vec<Signal> {
    let _span = tracing::info_span!("bench_workloads::signals::signals_prefix").entered();
    let mut out = Vec::new();
    let start = from - 1;
    if start + 1 >= hi {
        return out;
    }
    let (f, s) = (params.fast as usize, params.slow as usize);
    let (a, b, c) = (f64::from(params.slow - params.fast), f64::from(params.slow), f64::from(params.fast));
    // Bar j's window sums use P[j+1], P[j+1−f] and P[j+1−s].
    let now = &p[start + 1..hi + 1];
    let fast_lag = &p[start + 1 - f..hi + 1 - f];
    let slow_lag = &p[start + 1 - s..hi + 1 - s];
    let n = hi - start;
    let (mut carry_above, mut carry_below) = (0u64, 0u64);
    let mut base = 0;
    let fast_kernel = crate::cpu_features::avx2_fma();
    while base < n {
        let len = (n - base).min(64);
        let (x, y, z) = (&now[base..base + len], &fast_lag[base..base + len], &slow_lag[base..base + len]);
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `cpu::avx2_fma()` checked AVX2 and FMA; the slices hold `len` = 64 values.
        let masks = if fast_kernel && len == 64 { unsafe { simd::block(x, y, z, a, b, c) } } else { None };
        #[cfg(not(target_arch = "x86_64"))]
        let masks: Option<(u64, u64)> = None;
        let (above, below) = masks.unwrap_or_else(|| {
            let (mut above, mut below) = (0u64, 0u64);
            for j in 0..len {
                let d = a * x[j] - b * y[j] + c * z[j];
                above |= u64::from(d > 0.0) << j;
                below |= u64::from(d < 0.0) << j;
            }
            (above, below)
        });
        let first = if base == 0 { !1u64 } else { !0u64 };
        let mut up = above & ((below << 1) | carry_below) & first;
        let mut down = below & ((above << 1) | carry_above) & first;
        if len < 64 {
            let keep = (1u64 << len) - 1;
            up &= keep;
            down &= keep;
        }
        push_crosses(&mut out, start + base, up, down);
        carry_above = above >> 63;
        carry_below = below >> 63;
        base += 64;
    }
    out
}
