//! A real backtest engine on real data, and the optimization ladder that the rest of the
//! workspace profiles and evaluates.
//!
//! - Data: [`load_data`] reads the vendored daily OHLCV (`data/stocks.csv.gz`, public domain)
//!   or a user's CSV ([`load_csv`], plain or gzip, streamed), Parquet ([`load_parquet`]) or
//!   binary bundle into a columnar [`Bundle`]; [`derive()`] makes larger, seeded, bit-reproducible *derived*
//!   bundles by block bootstrap of the real bars; [`Bundle::write_binary`] /
//!   [`Bundle::read_binary`] store a bundle compactly so loading is a measurable fixed cost.
//! - [`DataPortal::history`]: windows of history by (asset, end, count, field).
//! - The SMA-crossover strategy with backtesting.py's semantics ([`engine`]), exact cross
//!   detection ([`signals`]), [`run_grid`] and [`run_walk_forward`] on a rayon pool of any size
//!   (identical output at any worker count), and the same work cut into pieces for another
//!   coordinator ([`Job`], [`run_piece`], [`merge_grid`], [`merge_walk_forward`]).
//! - [`LadderStep`]: baseline → batch-init → indicator-cache → persistent-workers →
//!   vectorized-signals → prefix-sums, each producing the baseline's results.
//!
//! ```
//! use bench_workloads::*;
//! let bundle = load_csv(&bundled_csv_path()).unwrap();
//! let goog = bundle.asset_index("GOOG").unwrap();
//! let r = backtest(&bundle, goog, Params::new(10, 30).unwrap()).unwrap();
//! assert_eq!(r.metrics.trades, 66);
//! assert!((r.metrics.final_equity - 51_406.235).abs() < 1e-6); // backtesting.py's figure
//! ```

mod binary;
mod bottleneck_rules;
mod bundle;
mod cpu_features;
mod csv;
mod data;
mod dates;
mod derive;
mod distributed;
pub mod engine;
mod error;
mod grid;
mod ladder;
mod parquet;
mod portal;
mod ray;
mod rows;
mod runner;
mod scenarios;
mod search;
pub mod signals;
mod summary;
mod sweep;
mod walkforward;
mod workload;

pub use bench_core::SplitMix64;
pub use binary::{BUNDLE_MAGIC, bundle_checksum};
pub use bottleneck_rules::bottleneck_rules;
pub use bundle::{
    AssetSeries, BUNDLED_CSV, Bundle, Field, Provenance, TICKS_PER_UNIT, bundled_csv_path, to_ticks,
};
pub use csv::{COLUMNS, MAX_LINE_BYTES, load_csv, parse_csv};
pub use data::{TempEngine, load_data};
pub use dates::{format_date, parse_date};
pub use derive::{BLOCK, derive};
pub use distributed::{GridChunk, JOB_FORMAT, Job, PieceOutput, merge_grid, merge_walk_forward, run_piece};
pub use engine::{
    BacktestResult, Cross, Metrics, Params, Record, STARTING_CASH, Signal, Trade, floor_div, python_floor_div,
};
pub use error::{DataError, WorkloadError};
pub use grid::{
    ComboResult, DefaultRanges, GridResult, GridSpec, MAX_RANGE_VALUES, Objective, ParamRange, ShortSeries,
    checked_param_grid, grid_size, param_grid, run_grid,
};
pub use ladder::{LadderStep, Optimizations};
pub use parquet::load_parquet;
pub use portal::DataPortal;
pub use ray::{RayBackend, RayRun, RaySession, SERVE_REPLY_PREFIX, default_grid_chunk};
pub use runner::{BATCH_PER_WORKER, Engine, IndicatorCache, Task, build_pool};
pub use scenarios::{
    ASSET_COUNTS, BARS_PER_ASSET, SEARCH_METHODS, WORKER_COUNTS, batch_init_scenarios, coordinator_scenarios,
    search_scenarios,
};
pub use search::{
    DEFAULT_BUDGET_DIVISOR, ETA, FidelityLayout, LADDER_BUDGET_DIVISOR, LADDER_MIN_TRIALS, MIN_FIDELITY,
    SearchOutcome, SearchSpec, default_search_budget, fidelity_rank_agreement, run_search, sma_space,
};
pub use summary::{
    BacktestSummary, BestCombination, GridSummary, SweepTiming, WalkForwardSummary, WindowSummary,
};
pub use sweep::{Sweep, SweepBackend, SweepEvent};
pub use walkforward::{
    StitchedCurve, WalkForwardResult, WalkForwardSpec, WindowMode, WindowOutput, WindowRange, WindowResult,
    WindowTask, assemble_walk_forward, run_walk_forward, run_windows, window_count, windows,
};
pub use workload::{
    Characteristics, DataSource, LadderEvaluation, MAX_COMBINATIONS, PreparedWorkload, WorkflowKind,
    WorkloadOutput, WorkloadSpec, combinations,
};

/// How SMA crosses are compared.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmaComparison {
    /// Exactly (the engine's contract): a tie is not a cross.
    #[default]
    Exact,
    /// On pandas' rolling means, as backtesting.py does: at a mathematical tie pandas' rounding
    /// decides. For cross-checks only.
    Pandas,
}

/// Runs one backtest over an asset's whole series with exact comparisons, recording trades and
/// the equity curve.
pub fn backtest(bundle: &Bundle, asset: usize, params: Params) -> Result<BacktestResult, WorkloadError> {
    backtest_with(bundle, asset, params, SmaComparison::Exact)
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
    Ok(backtest_impl(bundle, asset, params, SmaComparison::Exact, false)?.metrics)
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

/// [`backtest`] with a choice of SMA comparison.
pub fn backtest_with(
    bundle: &Bundle,
    asset: usize,
    params: Params,
    cmp: SmaComparison,
) -> Result<BacktestResult, WorkloadError> {
    backtest_impl(bundle, asset, params, cmp, true)
}

fn backtest_impl(
    bundle: &Bundle,
    asset: usize,
    params: Params,
    cmp: SmaComparison,
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
    let sma = match cmp {
        SmaComparison::Exact => signals::sma_exact,
        SmaComparison::Pandas => signals::sma_pandas,
    };
    let f = sma(&series.close, params.fast as usize);
    let s = sma(&series.close, params.slow as usize);
    let sig = signals::signals_from_smas(&f, &s, params.slow as usize, series.len());
    Ok(engine::simulate(&series.open, &series.close, 0, series.len(), &sig, record))
}
