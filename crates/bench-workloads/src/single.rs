//! One backtest over an asset's whole series, with the SMA comparison chosen: what
//! `cargo xtask backtest --symbol S --fast F --slow L` runs, the extended scenarios' unit of
//! work, and where the exact rules and backtesting.py's disagree.

use crate::engine::{self, BacktestResult, Metrics, Params, Rules};
use crate::{Bundle, WorkloadError, signals};

/// Runs one backtest over an asset's whole series with exact comparisons, recording trades and
/// the equity curve.
pub fn backtest(bundle: &Bundle, asset: usize, params: Params) -> Result<BacktestResult, WorkloadError> {
    backtest_with(bundle, asset, params, Rules::Exact)
}

/// Functions carrying `#[line_probe]`, available to the lines profiler.
pub const PROBED_FUNCTIONS: [&str; 3] = [
    "bench_workloads::signals::signals_from_history",
    "bench_workloads::signals::sma_exact",
    "bench_workloads::engine::simulate",
];

/// One backtest's metrics over an asset's whole series (exact comparisons, nothing recorded):
/// the unit of work of the extended scenarios.
pub fn backtest_metrics(bundle: &Bundle, asset: usize, params: Params) -> Result<Metrics, WorkloadError> {
    Ok(backtest_impl(bundle, asset, params, Rules::Exact, false)?.metrics)
}

/// Bars where the fast and slow SMAs of `params` are exactly equal, among the decision bars of
/// a backtest over the whole series and the bar before them: where the exact rule (a tie is not a
/// cross) and pandas' rounded rolling means (backtesting.py's rule) can disagree.
///
/// ```
/// use bench_workloads::*;
/// let b = load_csv(&bundled_csv_path()).unwrap();
/// let goog = b.asset_index("GOOG").unwrap();
/// assert_eq!(exact_sma_ties(&b, goog, Params::new(10, 30).unwrap()), 0);
/// ```
pub fn exact_sma_ties(bundle: &Bundle, asset: usize, params: Params) -> usize {
    let Some(series) = bundle.assets.get(asset) else { return 0 };
    let slow = params.slow as usize;
    if series.len() <= slow {
        return 0;
    }
    let f = signals::sma_exact(&series.close, params.fast as usize);
    let s = signals::sma_exact(&series.close, slow);
    (slow - 1..series.len()).filter(|&i| f[i] == s[i]).count()
}

/// [`backtest`] under the chosen [`Rules`].
pub fn backtest_with(
    bundle: &Bundle,
    asset: usize,
    params: Params,
    rules: Rules,
) -> Result<BacktestResult, WorkloadError> {
    backtest_impl(bundle, asset, params, rules, true)
}

fn backtest_impl(
    bundle: &Bundle,
    asset: usize,
    params: Params,
    rules: Rules,
    record: bool,
) -> Result<BacktestResult, WorkloadError> {
    let series = bundle
        .assets
        .get(asset)
        .ok_or_else(|| WorkloadError::InvalidParameter(format!("no asset {asset}")))?;
    if series.len() <= params.slow as usize {
        return Err(WorkloadError::TooFewBars {
            symbol: series.symbol.clone(),
            bars: series.len(),
            window: params.slow,
        });
    }
    signals::check_exact_bounds(bundle, &[asset], &[params])?;
    let (n, slow) = (series.len(), params.slow as usize);
    let sig = match rules {
        Rules::Exact => signals::signals_from_smas(
            &signals::sma_exact(&series.close, params.fast as usize),
            &signals::sma_exact(&series.close, slow),
            slow,
            n,
        ),
        Rules::BacktestingPy => signals::signals_backtesting_py(&series.close, params, 0, slow, n),
    };
    Ok(engine::simulate(&series.open, &series.close, 0, n, &sig, record, rules))
}
