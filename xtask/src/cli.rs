//! Command-line definitions (clap derive; doc comments are the help text).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Profile, benchmark and statistically accept or reject optimizations of backtesting workloads.
///
/// Exit codes: 0 success (pairwise evaluation or comparison: accepted), 1 rejected, 2 usage or
/// input error (including input too big for the memory limit, or a job past an hour without
/// --yes), 3 internal failure, 130 interrupted.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// The flags every subcommand takes.
    #[command(flatten)]
    pub global: Global,
}

/// The flags every subcommand takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Most memory a job may plan to use: data, grids, runs are checked against it before
    /// anything is allocated, and refused (exit 2) past it. Bytes or with a unit (MiB, GiB);
    /// default: 80% of the memory available when the command starts.
    #[arg(long, global = true, value_name = "SIZE", value_parser = bench_core::units::parse_bytes)]
    pub max_memory: Option<u64>,
    /// Run jobs estimated to take more than an hour (without it they are refused, exit 2,
    /// with the estimate).
    #[arg(long, global = true)]
    pub yes: bool,
    /// Print exactly one JSON document on stdout instead of the readable text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Keep this command's results in the history file under the git commit checked out here
    /// (evaluate, compare, profile, a grid backtest; see `cargo xtask history`).
    #[arg(long, global = true)]
    pub record: bool,
    /// The history file (default: benchmark-results/history.sqlite under the workspace root).
    #[arg(long, global = true, value_name = "FILE")]
    pub history: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Accept or reject an optimization on explicit statistical criteria.
    ///
    /// With --baseline and --candidate: compare two timing files (this tool's raw data, or
    /// `hyperfine --export-json` output) and exit 0 if the candidate is accepted, 1 if rejected.
    /// Runs interleaved in one suite are paired run by run (paired t-test); files measured
    /// separately are compared as independent samples (Welch's t-test, counts may differ).
    Evaluate(EvaluateArgs),
    /// Find where the time goes: CPU samples, span call counts, line timings and memory, with
    /// bottleneck reports, flame graphs and the extended scenarios.
    ///
    /// With no flags: the grid-search and walk-forward workloads on the bundled data, baseline
    /// ladder step, every profiler; files under profiling-results/, bottleneck reports under
    /// benchmark-results/.
    Profile(ProfileArgs),
    /// Benchmark any two commands: output-equivalence gate, interleaved ABBA pairs of child
    /// processes (adaptive), and the verdict.
    ///
    /// `cargo xtask compare 'python3 bt.py' 'python3 bt_fast.py'` runs each once and compares
    /// what they print (a difference blocks the candidate: it is not timed), then times them as
    /// child processes in randomised ABBA pairs until the decision is clear or the budget is
    /// spent. Exit 0 if B is accepted, 1 if rejected or blocked. `--save-baseline NAME 'A'`
    /// keeps A's runs; `--against NAME 'B'` compares B with them later (not interleaved).
    Compare(CompareArgs),
    /// Measure this machine's noise for a workload: single-run and paired-difference CV, drift,
    /// how often an implementation compared with itself is accepted, and the pairs each preset
    /// needs. Writes benchmark-results/calibration.json, which `evaluate` plans its budget with.
    Calibrate(CalibrateArgs),
    /// Run one backtest, a grid search (--grid) or a walk-forward (--walk-forward) with the
    /// SMA-crossover engine.
    ///
    /// One backtest: --symbol S --fast F --slow L. A grid: --grid with --fast-range and
    /// --slow-range (A:B:STEP, B included), on the bundled data, your --data, or --derived data;
    /// reports every combination, the best, and the speed. A walk-forward: --walk-forward
    /// --in-sample N --out-of-sample M [--step K] [--anchored].
    Backtest(BacktestArgs),
    /// Results across commits: import them, show each series, find where it changed (change
    /// points), and bisect a range of commits with paired verdicts.
    ///
    /// Results come from --record on evaluate, compare, profile and a grid backtest, or from `history
    /// import FILE…`; one series per (machine, benchmark, metric): a change of machine is never a
    /// change point.
    History {
        /// What to do.
        #[command(subcommand)]
        action: HistoryAction,
    },
}

/// `cargo xtask history` actions.
#[derive(Debug, Subcommand)]
pub enum HistoryAction {
    /// Add result files under the commit checked out here (a raw-data file keeps its own): this
    /// tool's raw data, `hyperfine --export-json` exports, Bencher Metric Format documents.
    Import {
        /// The files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Each series, commit by commit, under a one-line chart.
    Show(SeriesArgs),
    /// Change points of each series (E-divisive with Student's t-test, as Apache Otava), each with
    /// its commit range, its size with a 95% interval, and the paired verdict that confirms it.
    Detect {
        /// Which series.
        #[command(flatten)]
        series: SeriesArgs,
        /// Smallest change kept, percent.
        #[arg(long, value_name = "PERCENT", default_value_t = 0.0)]
        min_change: f64,
        /// Significance level a change point must reach.
        #[arg(long, value_name = "P", default_value_t = 0.001)]
        max_p: f64,
    },
    /// Find the first commit of GOOD..BAD whose result moved past the threshold: each commit in its
    /// own git worktree (built with --build), judged by a paired, interleaved verdict against
    /// GOOD; O(log n) verdicts, recorded in the history. Exit 0 when a commit is named.
    Bisect(Box<BisectArgs>),
}

/// Which series of the history.
#[derive(Debug, Args)]
pub struct SeriesArgs {
    /// Only this benchmark.
    #[arg(long)]
    pub benchmark: Option<String>,
    /// Only this metric (latency, cpu-time, instructions, …).
    #[arg(long)]
    pub metric: Option<String>,
}

/// Arguments of `cargo xtask history bisect`.
#[derive(Debug, Args)]
pub struct BisectArgs {
    /// A commit whose result is good.
    #[arg(long)]
    pub good: String,
    /// A later commit whose result moved (default: HEAD).
    #[arg(long, default_value = "HEAD")]
    pub bad: String,
    /// Run in each worktree before it is measured, untimed (e.g. 'cargo build --release').
    #[arg(long, value_name = "CMD")]
    pub build: Option<String>,
    /// The series its verdicts are recorded under, to confirm its change points (default: the
    /// command).
    #[arg(long)]
    pub benchmark: Option<String>,
    /// Look for the first commit faster by the threshold (default: slower).
    #[arg(long)]
    pub faster: bool,
    /// What is decided on: wall, cpu, or instructions or estimated-cycles under Callgrind.
    #[arg(long, value_enum, default_value_t = bench_command::CompareMetric::Wall)]
    pub metric: bench_command::CompareMetric,
    /// How the outputs are compared before timing (see `compare --check-output`).
    #[arg(long, value_name = "exact|numeric:TOL|none", default_value = "exact")]
    pub check_output: bench_command::OutputCheck,
    /// How each verdict samples.
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// The threshold bisected on.
    #[command(flatten)]
    pub threshold: ThresholdArgs,
    /// The command, run in each commit's worktree (after `--`).
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// How comparisons sample: adaptively within a budget, or a fixed number of pairs.
#[derive(Debug, Args)]
pub struct SamplingArgs {
    /// How each comparison samples: adaptive (pairs added in ABBA blocks until an anytime-valid
    /// confidence sequence decides, or the budget runs out) or fixed (exactly --runs pairs).
    #[arg(long, value_enum, default_value_t = bench_optimizations::DesignKind::Adaptive)]
    pub design: bench_optimizations::DesignKind,
    /// Adaptive design: most pairs per comparison.
    #[arg(long, value_name = "N", default_value_t = 400)]
    pub max_pairs: usize,
    /// Adaptive design: most wall time per comparison, e.g. 60s, 2m.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = bench_core::units::parse_duration)]
    pub max_time: std::time::Duration,
    /// Pairs per comparison of the fixed design; the first look of the adaptive one (default:
    /// the preset's minimum sample size).
    #[arg(long)]
    pub runs: Option<usize>,
}

impl SamplingArgs {
    /// The design these flags ask for (checked against a threshold by
    /// [`bench_optimizations::DesignRequest::resolve`]).
    pub fn request(&self) -> bench_optimizations::DesignRequest {
        let seconds = self.max_time.as_secs_f64();
        bench_optimizations::DesignRequest::new(self.design, self.runs, self.max_pairs, seconds)
    }
}

/// The workload of a ladder evaluation or a calibration, and how its comparisons sample.
#[derive(Debug, Args)]
pub struct LadderArgs {
    /// Workflow of the ladder evaluation.
    #[arg(long, value_enum, default_value_t = bench_workloads::WorkflowKind::GridSearch)]
    pub workflow: bench_workloads::WorkflowKind,
    /// Data of the ladder evaluation.
    #[arg(long, value_enum, default_value_t = bench_workloads::DataKind::Bundled)]
    pub workload: bench_workloads::DataKind,
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
    /// How each comparison samples.
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// Worker threads of the workload (default: the machine's cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Root directory of profiling-results/ and benchmark-results/ (default: the workspace root).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Where the workload runs (rayon threads, or tasks on Ray).
    #[command(flatten)]
    pub backend: BackendArgs,
}

/// The decision's criteria: a preset and any values that override it.
#[derive(Debug, Args)]
pub struct ThresholdArgs {
    /// Threshold preset.
    #[arg(long, value_enum, default_value_t = bench_threshold::Preset::Default)]
    pub preset: bench_threshold::Preset,
    /// Minimum improvement in percent (overrides the preset's).
    #[arg(long, value_name = "PERCENT")]
    pub min_improvement: Option<rust_decimal::Decimal>,
    /// Confidence level, e.g. 0.99 (α = 1 − confidence; overrides the preset's).
    #[arg(long, value_name = "LEVEL")]
    pub confidence: Option<rust_decimal::Decimal>,
    /// Largest acceptable peak-memory increase in percent (overrides the preset's).
    #[arg(long, value_name = "PERCENT")]
    pub max_memory_increase: Option<rust_decimal::Decimal>,
    /// Memory increases smaller than this never fail the decision (they are reported): bytes,
    /// or with a unit (KiB, MiB, GiB). Default 64KiB.
    #[arg(long, value_name = "SIZE", value_parser = bench_core::units::parse_bytes)]
    pub memory_floor: Option<u64>,
    /// How the improvement is decided (default strict): strict accepts only when the one-sided
    /// lower bound of the improvement reaches the minimum, rejects when the upper bound falls
    /// short, otherwise INCONCLUSIVE (exit 1); classic (the point estimate and p < α against no
    /// improvement) accepts about half of the candidates whose true improvement is the minimum.
    #[arg(long, value_enum)]
    pub rule: Option<bench_threshold::Rule>,
}

/// Arguments of `cargo xtask evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Timing file of the baseline (raw-data JSON or hyperfine --export-json).
    #[arg(long, value_name = "FILE", requires = "candidate")]
    pub baseline: Option<PathBuf>,
    /// Timing file of the candidate (paired with the baseline only when the two were
    /// interleaved in one suite).
    #[arg(long, value_name = "FILE", requires = "baseline")]
    pub candidate: Option<PathBuf>,
    /// Which result of a hyperfine export with several: a 0-based index or the command.
    #[arg(long, value_name = "INDEX|COMMAND", requires = "baseline")]
    pub baseline_result: Option<String>,
    /// Which result of the candidate's hyperfine export: a 0-based index or the command.
    #[arg(long, value_name = "INDEX|COMMAND", requires = "candidate")]
    pub candidate_result: Option<String>,
    /// The criteria.
    #[command(flatten)]
    pub threshold: ThresholdArgs,
    /// The workload and how its comparisons sample.
    #[command(flatten)]
    pub ladder: LadderArgs,
    /// Cumulative improvement goal in percent (default: the preset's goal).
    #[arg(long)]
    pub goal: Option<rust_decimal::Decimal>,
    /// Keep evaluating after the goal is reached (default: stop at the goal).
    #[arg(long)]
    pub continue_after_goal: bool,
    /// Calibration: compare the --step implementation with itself N times (A/A) and report how
    /// often it was wrongly accepted.
    #[arg(long, value_name = "N", conflicts_with = "baseline")]
    pub aa: Option<usize>,
    /// Ladder step used by --aa.
    #[arg(long, default_value = "persistent-workers", value_parser = str::parse::<bench_workloads::LadderStep>, requires = "aa")]
    pub step: bench_workloads::LadderStep,
    /// Decide every step on instructions or estimated-cycles (instructions + 10 × L1 misses +
    /// 100 × last-level misses) counted under Valgrind's Callgrind instead of time: each stack
    /// runs in a child process, only its measured region counted (needs valgrind).
    #[arg(long, value_enum, conflicts_with_all = ["baseline", "aa"])]
    pub metric: Option<bench_command::CountMetric>,
}

/// Arguments of `cargo xtask compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline command A and the candidate command B, each quoted as one argument; one
    /// command with --against (the candidate) or with --save-baseline alone (the baseline).
    #[arg(value_name = "COMMAND", num_args = 1..=2, required = true)]
    pub commands: Vec<String>,
    /// Untimed runs of each command before timing.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub warmup: usize,
    /// A command run before every run of either side (untimed), e.g. to clear a cache.
    #[arg(long, value_name = "CMD")]
    pub prepare: Option<String>,
    /// none: split each command into words like a shell would and run the program directly;
    /// sh: run it with `sh -c` (pipes, redirections, built-ins; the shell's start-up is timed on
    /// both sides).
    #[arg(long, value_enum, default_value_t = bench_command::Shell::None)]
    pub shell: bench_command::Shell,
    /// How comparisons sample.
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// The criteria.
    #[command(flatten)]
    pub threshold: ThresholdArgs,
    /// What is decided on: wall (what a user waits for), cpu (user + system of the child and
    /// what it waited for), or, under Valgrind's Callgrind, instructions or estimated-cycles
    /// (instructions + 10 × L1 misses + 100 × last-level misses): counts the machine's noise does
    /// not move, decided exactly in three runs a side when they do not vary (needs valgrind).
    #[arg(long, value_enum, default_value_t = bench_command::CompareMetric::Wall)]
    pub metric: bench_command::CompareMetric,
    /// Keep runs that exit non-zero (default: a non-zero exit fails the run and is reported).
    #[arg(long)]
    pub ignore_failure: bool,
    /// How the outputs are compared before timing: exact, numeric:TOL (numbers within
    /// |a − b| ≤ TOL·max(1, |a|), the text around them exact) or none.
    #[arg(long, value_name = "exact|numeric:TOL|none", default_value = "exact")]
    pub check_output: bench_command::OutputCheck,
    /// Save the baseline's runs and output as NAME under benchmark-results/baselines/.
    #[arg(long, value_name = "NAME", conflicts_with = "against")]
    pub save_baseline: Option<String>,
    /// Compare the one command given with the baseline saved as NAME.
    #[arg(long, value_name = "NAME")]
    pub against: Option<String>,
    /// File-name stem of the report under benchmark-results/.
    #[arg(long, default_value = "compare")]
    pub name: String,
    /// Also write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<PathBuf>,
    /// Also write the Markdown report to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<PathBuf>,
    /// Write both sides' runs in hyperfine's --export-json format to FILE (for its scripts).
    #[arg(long, value_name = "FILE")]
    pub export_hyperfine: Option<PathBuf>,
    /// Write both sides' mean, least and most in the Bencher Metric Format to FILE: `latency` or
    /// `cpu-time` in nanoseconds, or the `instructions` or `estimated-cycles` counted.
    #[arg(long, value_name = "FILE")]
    pub export_bmf: Option<PathBuf>,
    /// Seed of the ABBA schedule.
    #[arg(long, default_value_t = 0x5EED)]
    pub seed: u64,
    /// Root directory of profiling-results/ and benchmark-results/ (default: the workspace root).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

/// Arguments of `cargo xtask backtest`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("table").args(["grid", "search"]).multiple(false)))]
pub struct BacktestArgs {
    /// Run a grid search instead of one backtest.
    #[arg(long, conflicts_with_all = ["walk_forward", "search"])]
    pub grid: bool,
    /// Search the (fast, slow) space instead of running every pair — bohb, hyperband, random or grid —
    /// within --budget bar evaluations (with --walk-forward: each window's choice, --budget per window).
    #[arg(long, value_name = "METHOD")]
    pub search: Option<bench_search::Method>,
    /// Bar evaluations the search may spend (default: a tenth of the grid's; none with --budget-time).
    #[arg(long, value_name = "BAR_EVALS", requires = "search")]
    pub budget: Option<u64>,
    /// Wall time the search may take (e.g. 20s, 2min): no evaluation starts after it.
    #[arg(long, value_name = "DURATION", requires = "search", conflicts_with = "walk_forward", value_parser = bench_core::units::parse_duration)]
    pub budget_time: Option<std::time::Duration>,
    /// Run a walk-forward: per window, the in-sample grid's best pair (--objective), out of sample.
    #[arg(long)]
    pub walk_forward: bool,
    /// Symbol of the single backtest (e.g. GOOG).
    #[arg(long, required_unless_present_any = ["grid", "walk_forward", "search"], conflicts_with_all = ["grid", "walk_forward", "search"])]
    pub symbol: Option<String>,
    /// Fast SMA window of the single backtest.
    #[arg(long, required_unless_present_any = ["grid", "walk_forward", "search"], conflicts_with_all = ["grid", "walk_forward", "search"])]
    pub fast: Option<u32>,
    /// Slow SMA window of the single backtest (> fast).
    #[arg(long, required_unless_present_any = ["grid", "walk_forward", "search"], conflicts_with_all = ["grid", "walk_forward", "search"])]
    pub slow: Option<u32>,
    /// The rules of every backtest on every path; under exact rules the JSON lists each bar where
    /// backtesting.py's differ (rule_differences). `--sma pandas` = `--rules backtesting-py`.
    #[arg(long, visible_alias = "sma", value_enum, default_value_t = bench_workloads::Rules::Exact)]
    pub rules: bench_workloads::Rules,
    /// Fast windows, A:B:STEP with B included (A:B means step 1). Default 5:50:5 for a grid,
    /// 5:30:5 for a walk-forward.
    #[arg(long, value_name = "A:B:STEP")]
    pub fast_range: Option<String>,
    /// Slow windows, A:B:STEP with B included (only pairs with fast < slow run). Default
    /// 20:200:20 for a grid, 40:120:20 for a walk-forward.
    #[arg(long, value_name = "A:B:STEP")]
    pub slow_range: Option<String>,
    /// Comma-separated symbols (default: every asset).
    #[arg(long, value_name = "S,...")]
    pub symbols: Option<String>,
    /// In-sample bars per walk-forward window.
    #[arg(long, value_name = "BARS", default_value_t = 504, requires = "walk_forward")]
    pub in_sample: usize,
    /// Out-of-sample bars per walk-forward window.
    #[arg(long, value_name = "BARS", default_value_t = 126, requires = "walk_forward")]
    pub out_of_sample: usize,
    /// Anchored walk-forward: every in-sample window starts at the first bar and grows.
    #[arg(long, requires = "walk_forward")]
    pub anchored: bool,
    /// What a grid, search (both: mean over assets; default final-equity) or walk-forward (default
    /// sharpe-ratio) maximises; backtesting-py-sharpe: walk-forward only (docs/methodology.md).
    #[arg(long, value_enum, conflicts_with_all = ["fast", "slow"])]
    pub objective: Option<bench_workloads::Objective>,
    /// Write the stitched out-of-sample equity of a walk-forward as an SVG chart.
    #[arg(long, value_name = "FILE", requires = "walk_forward")]
    pub equity_svg: Option<PathBuf>,
    /// Run on derived data (seeded block bootstrap of the real bars) instead of the real data
    /// (a grid or a search).
    #[arg(long, requires = "table")]
    pub derived: bool,
    /// Number of derived assets.
    #[arg(long, default_value_t = 1, requires = "derived")]
    pub assets: usize,
    /// Bars per derived asset.
    #[arg(long, default_value_t = 252_000, requires = "derived")]
    pub bars: usize,
    /// Seed of the derived data and of the search.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Either the ladder step (implementation) of the sweep — baseline, batch-init,
    /// indicator-cache, persistent-workers, vectorized-signals, prefix-sums (default) — or, with
    /// --walk-forward, a number: the bars between windows (default: the out-of-sample length).
    #[arg(long, value_name = "LADDER_STEP|BARS", value_parser = str::parse::<bench_workloads::BacktestStep>)]
    pub step: Option<bench_workloads::BacktestStep>,
    /// Worker threads of the sweep (default: the machine's cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Run the sweep N times on the same data and pool and report the median time (and the
    /// fastest): a sweep of a few tens of milliseconds is too short for one timing on a shared
    /// machine.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "grid")]
    pub repeat: usize,
    /// Write every combination's metrics as CSV (grid), or every trial with its fidelity and
    /// objective (search).
    #[arg(long, value_name = "FILE", requires = "table")]
    pub export_csv: Option<PathBuf>,
    /// Draw an SVG heatmap of the grid: fast × slow → final equity, averaged over the assets.
    #[arg(long, value_name = "FILE", requires = "grid")]
    pub heatmap: Option<PathBuf>,
    /// Data file: the OHLCV CSV (plain or gzip), a Parquet file with the same columns, or a
    /// binary bundle, recognised by their first bytes (default: the bundled data).
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Where the grid or walk-forward runs.
    #[command(flatten)]
    pub backend: BackendArgs,
}

/// Arguments of `cargo xtask calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// The implementation compared with itself.
    #[arg(long, default_value = "persistent-workers", value_parser = str::parse::<bench_workloads::LadderStep>)]
    pub step: bench_workloads::LadderStep,
    /// Pairs of the A/A suite that measures the noise.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub noise_pairs: usize,
    /// Adaptive A/A comparisons: how often noise is accepted or called significant.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub comparisons: usize,
    /// Threshold preset of the A/A comparisons.
    #[arg(long, value_enum, default_value_t = bench_threshold::Preset::Default)]
    pub preset: bench_threshold::Preset,
    /// The workload and how its comparisons sample.
    #[command(flatten)]
    pub ladder: LadderArgs,
}

/// Where a sweep runs: this process's threads, or a Ray cluster.
#[derive(Debug, Clone, Args)]
pub struct BackendArgs {
    /// rayon: this process's worker threads (the default; nothing to install). ray: tasks on a
    /// Ray cluster through the Python driver in python/ (set it up once with `bash
    /// python/setup.sh`); results are identical to rayon's.
    #[arg(long, value_enum, default_value_t = bench_workloads::BackendKind::Rayon)]
    pub backend: bench_workloads::BackendKind,
    /// The Ray cluster to use: host:port of a head started with `ray start --head`,
    /// ray://host:port for a Ray client, or auto. Default: start a local Ray instance with
    /// --workers CPUs for this run.
    #[arg(long, value_name = "ADDRESS")]
    pub ray_address: Option<String>,
    /// Parameter combinations per Ray task (default: the grid split into about 4 tasks per
    /// CPU per asset, at least 1 combination each).
    #[arg(long, value_name = "N")]
    pub ray_chunk: Option<usize>,
    /// How often Ray retries a task lost with its worker process or node.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub ray_retries: u32,
}

impl BackendArgs {
    /// The Ray backend of these flags, or `None` for rayon.
    pub fn ray(
        &self,
        workers: Option<usize>,
    ) -> Result<Option<bench_workloads::RayBackend>, crate::exit::Failure> {
        let ray = self.backend == bench_workloads::BackendKind::Ray;
        let (address, chunk) = (self.ray_address.clone(), self.ray_chunk);
        let python = crate::paths::ray_python();
        Ok(bench_workloads::RayBackend::from_flags(ray, python, address, chunk, workers, self.ray_retries)?)
    }
}

impl ThresholdArgs {
    /// The preset's threshold with the values given.
    pub fn threshold(
        &self,
    ) -> Result<bench_threshold::PerformanceThreshold, bench_threshold::ThresholdError> {
        bench_threshold::PerformanceThreshold::of_preset(self.preset, &self.overrides(), "the command line")
    }

    /// The threshold values given on the command line.
    pub fn overrides(&self) -> bench_threshold::ThresholdOverrides {
        bench_threshold::ThresholdOverrides {
            min_improvement_percent: self.min_improvement,
            statistical_confidence: self.confidence,
            max_memory_increase_percent: self.max_memory_increase,
            memory_floor_bytes: self.memory_floor,
            rule: self.rule,
        }
    }
}

/// Arguments of `cargo xtask profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Workflow(s) to profile (default: grid-search and walk-forward).
    #[arg(long, value_enum, conflicts_with = "from")]
    pub workflow: Option<bench_ladder::ProfileTarget>,
    /// Analyse another profiler's folded stacks instead of running a workflow: py-spy's
    /// `record --format raw`, `perf script` collapsed by inferno or flamegraph.pl, or a
    /// `_cpu.folded` of ours (`.gz` is decompressed). Writes the bottleneck report, flame graph,
    /// Firefox Profiler file and sampled line tables. py-spy's `function (file:line)` frames
    /// become `file::function`, keeping their lines.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// With --from: exact call counts {"function": calls} for FIXED/VARIABLE (else UNKNOWN); for
    /// Python: python3 tools/py_spy_calls.py --folded FILE --out calls.json -- app.py
    #[arg(long, value_name = "FILE", requires = "from")]
    pub calls: Option<PathBuf>,
    /// With --from: name prefix of the code under study (repeatable; e.g. `backtesting/`);
    /// other frames are charged to the innermost such function that called them. Default:
    /// every function.
    #[arg(long = "app", value_name = "PREFIX", requires = "from")]
    pub app: Vec<String>,
    /// Profiler(s) to run.
    #[arg(long, value_enum, default_value_t = bench_report::ProfilerChoice::All)]
    pub profiler: bench_report::ProfilerChoice,
    /// Function for the lines deep-dive (default: the top critical function > 10% that has
    /// line probes).
    #[arg(long, value_name = "NAME")]
    pub function: Option<String>,
    /// Ladder step (implementation) to profile.
    #[arg(long, default_value = "baseline", value_parser = str::parse::<bench_workloads::LadderStep>)]
    pub step: bench_workloads::LadderStep,
    /// Prefix of every file written (1–100 characters of [A-Za-z0-9._-]): files are named
    /// `<ID>_<workflow>_<step>_<kind>`, e.g. `nightly_grid_search_baseline_cpu.json`.
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
    /// Keep the runtime frames (std, core, alloc, rayon) in flame graphs; by default they are
    /// collapsed so the workload's own functions are visible (the folded stacks keep them).
    #[arg(long)]
    pub keep_runtime_frames: bool,
    /// Requested CPU sampling frequency, samples per CPU-second of each thread (up to the
    /// kernel's perf_event_max_sample_rate). The SIGPROF fallback is capped by the kernel tick
    /// (about 250 Hz); every profile states the effective rate.
    #[arg(long, default_value_t = 4000)]
    pub frequency: i32,
    /// CPU sampler: auto (perf-event task-clock where perf events can be opened, else the
    /// SIGPROF timer, saying why), perf-event (fail if unavailable) or sigprof.
    #[arg(long, value_enum, default_value_t = bench_report::SamplerChoice::Auto)]
    pub sampler: bench_report::SamplerChoice,
    /// Minimum wall time of a CPU profile in seconds: fast workloads are repeated until it is
    /// reached, so the sample count is meaningful.
    #[arg(long, default_value_t = 1.0)]
    pub min_seconds: f64,
    /// Backtests per extended scenario.
    #[arg(long, default_value_t = 100)]
    pub scenario_backtests: usize,
    /// Measure the parallel-coordinator scenario on Ray too (a local Ray instance per worker
    /// count, and the task size at which Ray's overhead falls below 5%), beside rayon. Needs the
    /// Ray backend (`bash python/setup.sh`); adds about a minute.
    #[arg(long)]
    pub with_ray: bool,
    /// Root directory of profiling-results/ and benchmark-results/ (default: the workspace root).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}
