//! Command-line definitions (clap derive; doc comments are the help text).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Profile, benchmark and statistically accept or reject optimizations of backtesting workloads.
///
/// Exit codes: 0 success (pairwise evaluation: accepted), 1 pairwise evaluation rejected,
/// 2 usage or input error, 3 internal failure.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Accept or reject an optimization on explicit statistical criteria.
    ///
    /// With --baseline and --candidate: compare two timing files (this tool's raw data, or
    /// `hyperfine --export-json` output), pairing run i with run i, and exit 0 if the candidate is
    /// accepted, 1 if rejected.
    Evaluate(EvaluateArgs),
    /// Find where the time goes: CPU samples, span call counts, line timings and memory, with
    /// bottleneck reports, flame graphs and the extended scenarios.
    ///
    /// With no flags: the grid-search and walk-forward workloads on the bundled data, baseline
    /// ladder step, every profiler; files under profiling-results/, bottleneck reports under
    /// benchmark-results/.
    Profile(ProfileArgs),
    /// Run one backtest, or a grid search (--grid), with the SMA-crossover engine.
    ///
    /// One backtest: --symbol S --fast F --slow L. A grid: --grid with --fast-range and
    /// --slow-range (A:B:STEP, B included), on the bundled data, your --data, or --derived data;
    /// reports combinations, bars, seconds and bar evaluations per second.
    Backtest(BacktestArgs),
}

/// Threshold preset names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PresetArg {
    /// 5% improvement, 95% confidence, 10 runs, ≤2% memory growth, goal 40%.
    Default,
    /// 10% improvement, 99% confidence, 20 runs, ≤1% memory growth, goal 50%.
    Strict,
    /// 2% improvement, 90% confidence, 10 runs, ≤10% memory growth, goal 20%.
    Lenient,
}

impl From<PresetArg> for bench_threshold::Preset {
    fn from(p: PresetArg) -> Self {
        match p {
            PresetArg::Default => Self::Default,
            PresetArg::Strict => Self::Strict,
            PresetArg::Lenient => Self::Lenient,
        }
    }
}

/// Workflows of `evaluate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WorkflowArg {
    /// Grid search over (fast, slow) SMA windows on every asset.
    GridSearch,
    /// Rolling walk-forward: in-sample grid per window, best parameters out of sample.
    WalkForward,
}

impl From<WorkflowArg> for bench_workloads::WorkflowKind {
    fn from(w: WorkflowArg) -> Self {
        match w {
            WorkflowArg::GridSearch => Self::GridSearch,
            WorkflowArg::WalkForward => Self::WalkForward,
        }
    }
}

/// Data of `evaluate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WorkloadArg {
    /// The bundled real data (5 US stocks, daily).
    Bundled,
    /// Derived data: a seeded block bootstrap of the real bars (see --bars, --assets, --seed).
    Derived,
}

/// Arguments of `cargo xtask evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Timing file of the baseline (raw-data JSON or hyperfine --export-json).
    #[arg(long, value_name = "FILE", requires = "candidate")]
    pub baseline: Option<PathBuf>,
    /// Timing file of the candidate, run i paired with baseline run i.
    #[arg(long, value_name = "FILE", requires = "baseline")]
    pub candidate: Option<PathBuf>,
    /// Threshold preset.
    #[arg(long, value_enum, default_value_t = PresetArg::Default)]
    pub preset: PresetArg,
    /// Workflow of the ladder evaluation.
    #[arg(long, value_enum, default_value_t = WorkflowArg::GridSearch, conflicts_with = "baseline")]
    pub workflow: WorkflowArg,
    /// Data of the ladder evaluation.
    #[arg(long, value_enum, default_value_t = WorkloadArg::Bundled, conflicts_with = "baseline")]
    pub workload: WorkloadArg,
    /// Bars per derived asset (--workload derived); 252000 is the production size (1000 days × 252 bars).
    #[arg(long, default_value_t = 252_000)]
    pub bars: usize,
    /// Derived assets (--workload derived).
    #[arg(long, default_value_t = 1)]
    pub assets: usize,
    /// Seed of the derived data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Parameter combinations per asset (default: 90 on bundled data, 100 on derived).
    #[arg(long)]
    pub combinations: Option<usize>,
    /// Pairs of runs per comparison (default: the preset's minimum sample size).
    #[arg(long)]
    pub runs: Option<usize>,
    /// Cumulative improvement goal in percent (default: the preset's goal).
    #[arg(long)]
    pub goal: Option<rust_decimal::Decimal>,
    /// Keep evaluating after the goal is reached (default: stop at the goal).
    #[arg(long)]
    pub continue_after_goal: bool,
    /// Worker threads of the workload (default: the machine's cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Calibration: compare the --step implementation with itself N times (A/A) and report how
    /// often it was wrongly accepted.
    #[arg(long, value_name = "N", conflicts_with = "baseline")]
    pub aa: Option<usize>,
    /// Ladder step used by --aa.
    #[arg(long, default_value = "persistent-workers", value_parser = parse_step, requires = "aa")]
    pub step: bench_workloads::LadderStep,
    /// Root directory of profiling-results/ and benchmark-results/ (default: the workspace root).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Print exactly one JSON document on stdout instead of the readable summary.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `cargo xtask backtest`.
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// Run a grid search instead of one backtest.
    #[arg(long)]
    pub grid: bool,
    /// Symbol of the single backtest (e.g. GOOG).
    #[arg(long, required_unless_present = "grid", conflicts_with = "grid")]
    pub symbol: Option<String>,
    /// Fast SMA window of the single backtest.
    #[arg(long, required_unless_present = "grid", conflicts_with = "grid")]
    pub fast: Option<u32>,
    /// Slow SMA window of the single backtest (> fast).
    #[arg(long, required_unless_present = "grid", conflicts_with = "grid")]
    pub slow: Option<u32>,
    /// Fast windows of the grid, A:B:STEP with B included.
    #[arg(long, value_name = "A:B:STEP", default_value = "5:50:5", requires = "grid")]
    pub fast_range: String,
    /// Slow windows of the grid, A:B:STEP with B included (only pairs with fast < slow run).
    #[arg(long, value_name = "A:B:STEP", default_value = "20:200:20", requires = "grid")]
    pub slow_range: String,
    /// Comma-separated symbols for the grid (default: every asset).
    #[arg(long, value_name = "S,...", requires = "grid")]
    pub symbols: Option<String>,
    /// Run on derived data (seeded block bootstrap of the real bars) instead of the real data.
    #[arg(long, requires = "grid")]
    pub derived: bool,
    /// Number of derived assets.
    #[arg(long, default_value_t = 1, requires = "derived")]
    pub assets: usize,
    /// Bars per derived asset.
    #[arg(long, default_value_t = 252_000, requires = "derived")]
    pub bars: usize,
    /// Seed of the derived data.
    #[arg(long, default_value_t = 42, requires = "derived")]
    pub seed: u64,
    /// Ladder step (implementation) of the sweep: baseline, batch-init, indicator-cache,
    /// persistent-workers, vectorized-signals, prefix-sums.
    #[arg(long, default_value = "prefix-sums", value_parser = parse_step, requires = "grid")]
    pub step: bench_workloads::LadderStep,
    /// Worker threads of the sweep (default: the machine's cores).
    #[arg(long, requires = "grid")]
    pub workers: Option<usize>,
    /// Run the sweep N times on the same data and pool and report the median time (and the
    /// fastest): a sweep of a few tens of milliseconds is too short for one timing on a shared
    /// machine.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "grid")]
    pub repeat: usize,
    /// Data file: the OHLCV CSV (plain or gzip), a Parquet file with the same columns, or a
    /// binary bundle, recognised by their first bytes (default: the bundled data).
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Print exactly one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The worker count of a `--workers` flag: the machine's cores when it is absent; 0 is refused
/// as bad input (exit code 2).
pub fn resolve_workers(flag: Option<usize>) -> Result<usize, crate::exit::Failure> {
    let workers = flag.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    if workers == 0 {
        return Err(crate::exit::Failure::input("--workers must be at least 1"));
    }
    Ok(workers)
}

/// Parses a ladder step name.
pub fn parse_step(s: &str) -> Result<bench_workloads::LadderStep, String> {
    s.parse()
}

/// Workflows of `profile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileWorkflowArg {
    /// Grid search on the bundled data.
    GridSearch,
    /// Walk-forward on the bundled data.
    WalkForward,
    /// Extended scenario: batch initialisation across bundle sizes (10/50/100/500 derived assets).
    BatchInit,
    /// Extended scenario: the parallel coordinator across worker counts (1/2/4/8/16).
    ParallelCoordinator,
    /// All four.
    All,
}

/// Profilers of `profile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfilerArg {
    /// CPU sampling (function table, folded stacks, flame graph).
    Cpu,
    /// tracing spans (exact call counts, tottime/cumtime, Chrome trace).
    Spans,
    /// Line timings of one function (--function).
    Lines,
    /// RSS timeline and heap figures.
    Memory,
    /// All of them.
    All,
}

/// Arguments of `cargo xtask profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Workflow(s) to profile (default: grid-search and walk-forward).
    #[arg(long, value_enum)]
    pub workflow: Option<ProfileWorkflowArg>,
    /// Profiler(s) to run.
    #[arg(long, value_enum, default_value_t = ProfilerArg::All)]
    pub profiler: ProfilerArg,
    /// Function for the lines deep-dive (default: the top critical function > 10% that has
    /// line probes).
    #[arg(long, value_name = "NAME")]
    pub function: Option<String>,
    /// Ladder step (implementation) to profile.
    #[arg(long, default_value = "baseline", value_parser = parse_step)]
    pub step: bench_workloads::LadderStep,
    /// Prefix of every file written (1–100 characters of [A-Za-z0-9._-]).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Data: the OHLCV CSV (plain or gzip), a Parquet file with the same columns, or a binary
    /// bundle, recognised by their first bytes (default: the bundled data).
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Parameter combinations per asset (default: the standard grid).
    #[arg(long)]
    pub combinations: Option<usize>,
    /// Worker threads of the workload (default: the machine's cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Also run the memory profile under dhat (allocation sites; much slower).
    #[arg(long)]
    pub deep_memory: bool,
    /// Requested CPU sampling frequency in Hz (the kernel caps the effective rate).
    #[arg(long, default_value_t = 997)]
    pub frequency: i32,
    /// Minimum wall time of a CPU profile in seconds: fast workloads are repeated until it is
    /// reached, so the sample count is meaningful.
    #[arg(long, default_value_t = 1.0)]
    pub min_seconds: f64,
    /// Backtests per extended scenario.
    #[arg(long, default_value_t = 100)]
    pub scenario_backtests: usize,
    /// Root directory of profiling-results/ and benchmark-results/ (default: the workspace root).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Print exactly one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}
