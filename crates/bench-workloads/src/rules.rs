//! Where the engine's exact rules and backtesting.py's part, bar by bar: what a report under the
//! exact rules states so a reader checking it against backtesting.py knows every difference.

use rayon::prelude::*;
use serde::Serialize;

use crate::Bundle;
use crate::engine::{Params, Signal};
use crate::grid::GridSpec;
use crate::runner::Task;
use crate::signals::{signals_backtesting_py, signals_from_smas, sma_exact, sma_pandas};

/// Where one backtest under [`Rules::Exact`](crate::Rules::Exact) and the same backtest under
/// [`Rules::BacktestingPy`](crate::Rules::BacktestingPy) part. Bars are indices into the asset's series.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RuleDifferences {
    /// Decision bars where the two rules see different crosses: exact ties of the two SMAs
    /// (no cross under the exact rule) that pandas' rounded rolling means break one way, or
    /// the reverse.
    pub tie_bars: Vec<u32>,
    /// The range's last bar, when either rule sees a cross there: backtesting.py fills that
    /// order at the bar's open and values the new, still open trade in the final equity; the
    /// exact rules leave it unfilled.
    pub last_bar_signal: Option<u32>,
}

impl RuleDifferences {
    /// True when the two rules give the same backtest.
    pub fn is_empty(&self) -> bool {
        self.tie_bars.is_empty() && self.last_bar_signal.is_none()
    }

    /// Compares the crosses each rule sees over decision bars ending at `last`.
    pub fn between(exact: &[Signal], backtesting_py: &[Signal], last: usize) -> Self {
        let key = |s: &Signal| (s.bar, s.cross == crate::Cross::Up);
        let (mut i, mut j) = (0, 0);
        let mut tie_bars = Vec::new();
        while i < exact.len() || j < backtesting_py.len() {
            match (exact.get(i), backtesting_py.get(j)) {
                (Some(a), Some(b)) if key(a) == key(b) => {
                    i += 1;
                    j += 1;
                }
                (Some(a), Some(b)) if a.bar == b.bar => {
                    tie_bars.push(a.bar);
                    i += 1;
                    j += 1;
                }
                (Some(a), b) if b.is_none_or(|b| a.bar < b.bar) => {
                    tie_bars.push(a.bar);
                    i += 1;
                }
                (_, Some(b)) => {
                    tie_bars.push(b.bar);
                    j += 1;
                }
                _ => unreachable!("one list is not exhausted"),
            }
        }
        let on_last = |v: &[Signal]| v.last().is_some_and(|s| s.bar as usize == last);
        let last_bar_signal = (on_last(exact) || on_last(backtesting_py)).then_some(last as u32);
        Self { tie_bars, last_bar_signal }
    }
}

/// The differences between the two rules on one backtest (whatever rules `task` names).
///
/// ```
/// use bench_workloads::*;
/// let b = load_csv(&bundled_csv_path()).unwrap();
/// let ibm = b.asset_index("IBM").unwrap();
/// let hi = b.assets[ibm].len();
/// let task = Task { asset: ibm, lo: 0, hi, params: Params::new(4, 9).unwrap(), lookback: false, rules: Rules::Exact };
/// let d = rule_differences(&b, &task);
/// // IBM 4/9 has SMA ties that pandas' rounding breaks: the two rules trade differently there.
/// assert!(!d.tie_bars.is_empty());
/// ```
pub fn rule_differences(bundle: &Bundle, task: &Task) -> RuleDifferences {
    let close = &bundle.assets[task.asset].close;
    let (from, hi, p) = (task.decide_from(), task.hi, task.params);
    if from >= hi {
        return RuleDifferences::default();
    }
    let exact =
        signals_from_smas(&sma_exact(close, p.fast as usize), &sma_exact(close, p.slow as usize), from, hi);
    let float = signals_backtesting_py(close, p, task.sma_from(), from, hi);
    RuleDifferences::between(&exact, &float, hi - 1)
}

/// One grid pair's differences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PairDifferences {
    /// The asset.
    pub symbol: String,
    /// Fast window.
    pub fast: u32,
    /// Slow window.
    pub slow: u32,
    /// Where the rules part.
    #[serde(flatten)]
    pub differences: RuleDifferences,
}

/// Every pair of a grid (each over its asset's whole series) where the two rules part, in grid
/// order; pairs where they agree are left out. Each SMA is computed once per asset and window.
pub fn grid_rule_differences(bundle: &Bundle, spec: &GridSpec) -> Vec<PairDifferences> {
    let mut windows: Vec<u32> = spec.params.iter().flat_map(|p| [p.fast, p.slow]).collect();
    windows.sort_unstable();
    windows.dedup();
    let mut out = Vec::new();
    for &a in &spec.assets {
        let series = &bundle.assets[a];
        let n = series.len();
        let smas: std::collections::HashMap<u32, (Vec<f64>, Vec<f64>)> = windows
            .par_iter()
            .map(|&w| (w, (sma_exact(&series.close, w as usize), sma_pandas(&series.close, w as usize))))
            .collect();
        let found: Vec<PairDifferences> = spec
            .params
            .par_iter()
            .filter_map(|p: &Params| {
                let slow = p.slow as usize;
                if slow >= n {
                    return None;
                }
                let (fe, fp) = &smas[&p.fast];
                let (se, sp) = &smas[&p.slow];
                let d = RuleDifferences::between(
                    &signals_from_smas(fe, se, slow, n),
                    &signals_from_smas(fp, sp, slow, n),
                    n - 1,
                );
                (!d.is_empty()).then(|| PairDifferences {
                    symbol: series.symbol.clone(),
                    fast: p.fast,
                    slow: p.slow,
                    differences: d,
                })
            })
            .collect();
        out.extend(found);
    }
    out
}

/// How many of `params` the rules would backtest differently on the bars `lo..hi` alone (an
/// in-sample window): what [`rule_differences`] finds per pair, with each window length's SMAs
/// computed once for all the pairs — the exact ones over the whole series (an exact mean does
/// not depend on where it starts), backtesting.py's from `lo`.
pub(crate) fn differing_in_sample(close: &[f64], params: &[Params], lo: usize, hi: usize) -> usize {
    let mut windows: Vec<u32> = params.iter().flat_map(|p| [p.fast, p.slow]).collect();
    windows.sort_unstable();
    windows.dedup();
    let smas: std::collections::HashMap<u32, (Vec<f64>, Vec<f64>)> = windows
        .par_iter()
        .map(|&w| (w, (sma_exact(close, w as usize), sma_pandas(&close[lo..hi], w as usize))))
        .collect();
    params
        .par_iter()
        .filter(|p| {
            let from = lo + p.slow as usize;
            if from >= hi {
                return false;
            }
            let (fe, fp) = &smas[&p.fast];
            let (se, sp) = &smas[&p.slow];
            let exact = signals_from_smas(fe, se, from, hi);
            let mut float = signals_from_smas(fp, sp, from - lo, hi - lo);
            float.iter_mut().for_each(|s| s.bar += lo as u32);
            !RuleDifferences::between(&exact, &float, hi - 1).is_empty()
        })
        .count()
}

/// Where the rules part in one walk-forward window.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct WindowDifferences {
    /// Pairs of the in-sample grid whose in-sample backtest differs under the other rules (so
    /// the in-sample choice may differ too).
    pub in_sample_pairs: usize,
    /// The chosen pair's in-sample backtest.
    pub in_sample: RuleDifferences,
    /// The chosen pair's out-of-sample backtest.
    pub out_of_sample: RuleDifferences,
}

/// Bar evaluations per second of the summary's check of where the rules part
/// ([`crate::grid_rule_differences`]) — about the cost of a backtest per pair, which a summary
/// adds after the backtests — on up to 2,048 of `params` over `asset` (fewer leave its SMAs, one
/// per window length, too few pairs to share them), repeated for 20 ms — run once under Valgrind,
/// where a loop bounded by time would make the program's count depend on the machine's speed.
pub(crate) fn rule_check_rate(bundle: &crate::Bundle, asset: usize, params: &[crate::Params]) -> f64 {
    let fixed = bench_measure::callgrind::running_on_valgrind();
    let pilot = GridSpec {
        assets: vec![asset],
        params: params.iter().take(2048).copied().collect(),
        objective: crate::Objective::FinalEquity,
        rules: crate::Rules::Exact,
    };
    let bars = (pilot.params.len() * bundle.assets[asset].len()) as f64;
    let (t0, mut runs) = (std::time::Instant::now(), 0u32);
    while runs == 0 || (!fixed && t0.elapsed().as_secs_f64() < 0.02) {
        std::hint::black_box(grid_rule_differences(bundle, &pilot));
        runs += 1;
    }
    bars * f64::from(runs) / t0.elapsed().as_secs_f64().max(1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared-SMA count of a window's differing pairs is the per-pair count of
    /// [`rule_differences`], on windows where the rules part (IBM's and GOOG's ties).
    #[test]
    fn the_in_sample_count_is_the_per_pair_count() {
        let bundle = crate::load_csv(&crate::bundled_csv_path()).unwrap();
        let params = crate::param_grid(&"2:30:1".parse().unwrap(), &"3:60:3".parse().unwrap());
        let mut differing = 0;
        for asset in 0..bundle.assets.len() {
            let n = bundle.assets[asset].len();
            let windows = [(0, 500), (250, 750), (n.saturating_sub(600), n), (40, 300)];
            for (lo, hi) in windows.into_iter().filter(|&(lo, hi)| hi <= n && lo + 100 < hi) {
                let per_pair = params
                    .iter()
                    .filter(|&&p| {
                        let t =
                            Task { asset, lo, hi, params: p, lookback: false, rules: crate::Rules::Exact };
                        !rule_differences(&bundle, &t).is_empty()
                    })
                    .count();
                assert_eq!(
                    differing_in_sample(&bundle.assets[asset].close, &params, lo, hi),
                    per_pair,
                    "asset {asset}, bars {lo}..{hi}"
                );
                differing += per_pair;
            }
        }
        assert!(differing > 20, "the windows hold pairs where the rules part: {differing}");
    }
}
