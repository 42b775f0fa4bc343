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
    /// Print exactly one JSON document on stdout instead of the readable summary.
    #[arg(long)]
    pub json: bool,
}
