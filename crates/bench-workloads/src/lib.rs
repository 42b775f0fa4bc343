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
mod rules;
mod runner;
mod search;
pub mod signals;
mod single;
mod summary;
mod sweep;
mod walkforward;
mod workload;

pub use bench_core::SplitMix64;
pub use binary::{BUNDLE_MAGIC, bundle_checksum};
pub use bundle::{
    AssetSeries, BUNDLED_CSV, Bundle, Field, Provenance, TICKS_PER_UNIT, bundled_csv_path, to_ticks,
};
pub use csv::{COLUMNS, MAX_LINE_BYTES, load_csv, parse_csv};
pub use data::{TempEngine, load_data};
pub use dates::{format_date, parse_date};
pub use derive::{BLOCK, derive};
pub use distributed::{GridChunk, JOB_FORMAT, Job, PieceOutput, merge_grid, merge_walk_forward, run_piece};
pub use engine::{
    BacktestResult, Cross, Metrics, Params, Record, Rules, STARTING_CASH, Signal, Trade, floor_div,
    python_floor_div,
};
pub use error::{DataError, WorkloadError};
pub use grid::{
    ComboResult, DefaultRanges, GridResult, GridSpec, MAX_RANGE_VALUES, Objective, ParamRange, ShortSeries,
    bytes_per_backtest, checked_param_grid, grid_size, param_grid, run_grid,
};
pub use ladder::{BacktestStep, LadderStep, Optimizations};
pub use parquet::load_parquet;
pub use portal::DataPortal;
pub use ray::{RayBackend, RayRun, RaySession, Reach, SERVE_REPLY_PREFIX, default_grid_chunk};
pub use rules::{
    PairDifferences, RuleDifferences, WindowDifferences, grid_rule_differences, rule_differences,
};
pub use runner::{BATCH_PER_WORKER, Engine, IndicatorCache, Task, build_pool, resolve_workers};
pub use search::{
    DEFAULT_BUDGET_DIVISOR, ETA, FidelityLayout, LADDER_BUDGET_DIVISOR, LADDER_MIN_TRIALS, MIN_FIDELITY,
    SearchOutcome, SearchSpec, WindowSearchPlan, default_search_budget, fidelity_rank_agreement,
    objective_table, run_search, search_window, sma_space,
};
pub use single::{PROBED_FUNCTIONS, backtest, backtest_metrics, backtest_with, exact_sma_ties};
pub use summary::{
    BacktestSummary, BestCombination, BestPair, GridSummary, SweepTiming, WalkForwardSummary, WindowSummary,
};
pub use sweep::{Sweep, SweepBackend, SweepEvent};
pub use walkforward::{
    StitchedCurve, WalkForwardResult, WalkForwardSpec, WindowMode, WindowOutput, WindowRange, WindowResult,
    WindowSearch, WindowTask, assemble_walk_forward, run_walk_forward, run_windows, window_count,
    window_rule_differences, windows,
};
pub use workload::{
    BackendKind, Characteristics, DataKind, DataSource, LadderEvaluation, MAX_COMBINATIONS, PreparedWorkload,
    WorkflowKind, WorkloadOutput, WorkloadSpec, combinations,
};
