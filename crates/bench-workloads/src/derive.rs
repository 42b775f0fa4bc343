//! Derived data: a seeded block bootstrap of the real daily bars.
//!
//! Procedure (documented so a reader can reproduce it; every step uses only IEEE-754 basic
//! arithmetic, so the output is bit-for-bit identical on every machine):
//! 1. The pool is every real bar `t ≥ 1` of every asset: its adjusted close-to-close ratio
//!    `adj[t]/adj[t−1]` (split- and dividend-free), its open/high/low relative to its own close,
//!    and its volume.
//! 2. Each derived asset `j` draws its own stream from SplitMix64 seeded with
//!    `seed ⊕ (j+1)·0x9E3779B97F4A7C15`. It starts at a price drawn from the real closes and
//!    appends blocks of 20 consecutive pool bars (a block never crosses assets), chosen
//!    uniformly among all block starts, until it has the requested number of bars.
//! 3. The price level is multiplied by each ratio and reflected into [$5, $2,000] (a level
//!    above the band becomes `hi²/level`, below it `lo²/level`), so very long series keep
//!    realistic prices; the close is the level rounded to cents, open/high/low are the close
//!    times the bar's ratios rounded to cents, then widened so high ≥ max(open, close) and
//!    low ≤ min(open, close).
//! 4. Dates are consecutive weekdays from 2000-01-03; symbols are `D0000`, `D0001`, …
//!
//! Reports label such data "derived (seed N)".

use bench_core::SplitMix64;

use crate::WorkloadError;
use crate::bundle::{AssetSeries, Bundle, Provenance};

/// Bars per bootstrap block.
pub const BLOCK: usize = 20;
const LOW: f64 = 5.0;
const HIGH: f64 = 2000.0;

fn cents(x: f64) -> f64 {
    ((x * 100.0).round() / 100.0).max(0.01)
}

/// The first `n` weekdays from 2000-01-03, as days since 1970-01-01.
fn weekdays(n: usize) -> Vec<i32> {
    let mut out = Vec::with_capacity(n);
    let mut d: i32 = 10_959; // 2000-01-03, a Monday
    while out.len() < n {
        if (d + 3).rem_euclid(7) < 5 {
            out.push(d);
        }
        d += 1;
    }
    out
}

/// Generates `assets` derived assets of `bars` bars each from the real bars of `source`.
///
/// ```
/// let real = bench_workloads::load_csv(&bench_workloads::bundled_csv_path()).unwrap();
/// let a = bench_workloads::derive(&real, 2, 1000, 42).unwrap();
/// let b = bench_workloads::derive(&real, 2, 1000, 42).unwrap();
/// assert_eq!(a.to_binary(), b.to_binary()); // bit for bit
/// assert_eq!(a.assets[0].len(), 1000);
/// ```
pub fn derive(source: &Bundle, assets: usize, bars: usize, seed: u64) -> Result<Bundle, WorkloadError> {
    let _span = tracing::info_span!("bench_workloads::derive::derive").entered();
    if assets == 0 || bars < 2 {
        return Err(WorkloadError::InvalidParameter(format!(
            "derived data needs at least 1 asset and 2 bars, got {assets} × {bars}"
        )));
    }
    // Checked before anything is allocated: every bar of every asset is kept, and written once
    // as the binary image the engine reads.
    bench_core::limits::memory_limit().check(
        &format!("derived data of {assets} asset(s) × {bars} bars"),
        assets as u128 * bars as u128,
        2 * u128::from(crate::bundle::BAR_BYTES),
    )?;
    // Valid block starts per source asset: pool bars t in 1..len, blocks of BLOCK bars.
    let starts: Vec<(usize, usize)> = source
        .assets
        .iter()
        .enumerate()
        .filter(|(_, a)| a.len() > BLOCK)
        .map(|(i, a)| (i, a.len() - BLOCK))
        .collect();
    let total: usize = starts.iter().map(|s| s.1).sum();
    if total == 0 {
        return Err(WorkloadError::InvalidParameter(format!(
            "the source data has no series longer than {BLOCK} bars"
        )));
    }
    let all_closes: Vec<f64> = source.assets.iter().flat_map(|a| a.close.iter().copied()).collect();
    let dates = weekdays(bars);
    let mut out = Vec::with_capacity(assets);
    for j in 0..assets {
        let mut rng = SplitMix64::new(seed ^ (j as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut level = all_closes[rng.below(all_closes.len())].clamp(LOW, HIGH);
        let mut s = AssetSeries {
            symbol: format!("D{j:04}"),
            dates: dates.clone(),
            open: Vec::with_capacity(bars),
            high: Vec::with_capacity(bars),
            low: Vec::with_capacity(bars),
            close: Vec::with_capacity(bars),
            volume: Vec::with_capacity(bars),
            adj_close: Vec::with_capacity(bars),
        };
        while s.close.len() < bars {
            let mut k = rng.below(total);
            let (a, _) = *starts
                .iter()
                .find(|(_, n)| {
                    if k < *n {
                        true
                    } else {
                        k -= n;
                        false
                    }
                })
                .expect("k < total");
            let src = &source.assets[a];
            for t in k + 1..k + 1 + BLOCK {
                if s.close.len() == bars {
                    break;
                }
                level *= src.adj_close[t] / src.adj_close[t - 1];
                if level > HIGH {
                    level = HIGH * HIGH / level;
                }
                if level < LOW {
                    level = LOW * LOW / level;
                }
                let c = cents(level);
                let o = cents(c * (src.open[t] / src.close[t]));
                let h = cents(c * (src.high[t] / src.close[t])).max(o).max(c);
                let l = cents(c * (src.low[t] / src.close[t])).min(o).min(c);
                s.open.push(o);
                s.high.push(h);
                s.low.push(l);
                s.close.push(c);
                s.volume.push(src.volume[t]);
                s.adj_close.push(c);
            }
        }
        out.push(s);
    }
    Ok(Bundle { assets: out, provenance: Provenance::Derived { seed } })
}
