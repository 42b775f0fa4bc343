//! The raw-data file (`profiling-results/raw_data/<run_id>.json`): every measured figure of one
//! benchmark suite, stored as integers so any derived metric can be recomputed from it.

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::fsio::write_atomic;

/// The raw-data schema version this build reads and writes.
pub const RAW_SCHEMA_VERSION: u32 = 1;

/// Workload characteristics: they let results be normalised across sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Number of data rows (bars) processed by one run.
    pub dataset_size: u64,
    /// Number of parameter sets tested by one run.
    pub parameter_combinations: u64,
    /// Number of backtests executed by one run.
    pub backtest_count: u64,
}

/// One timed run of a workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    /// Position of the run within its suite (0-based, warm-up runs excluded).
    pub index: u32,
    /// Wall-clock time of the run in nanoseconds (> 0).
    pub wall_ns: u64,
    /// CPU time of the whole process (all threads) during the run, in nanoseconds.
    pub cpu_ns: u64,
    /// Resident-set high-water mark during the run, in bytes, where measured.
    #[serde(default)]
    pub peak_rss_bytes: Option<u64>,
    /// Highest live heap bytes during the run (absolute: including what was live when it
    /// started), where measured (needs the counting allocator).
    #[serde(default)]
    pub heap_peak_bytes: Option<u64>,
    /// Live heap bytes when the run started, where measured: `heap_peak_bytes` minus this is
    /// what the run itself needed at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heap_start_bytes: Option<u64>,
    /// For paired suites: the pair this run belongs to (run `i` of the baseline pairs with run
    /// `i` of the candidate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<u32>,
    /// For paired suites: the position of this run in the interleaved schedule of both sides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u32>,
}

/// A run that did not complete: it panicked or was interrupted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailedRun {
    /// Position the run would have had within its suite.
    pub index: u32,
    /// The panic message or the reason it stopped.
    pub message: String,
}

/// Whether a suite ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SuiteStatus {
    /// Every requested run was attempted.
    #[default]
    Complete,
    /// The suite was interrupted (for example by Ctrl-C); `runs` holds what completed.
    Interrupted,
}

/// Where and how a suite ran: enough to judge whether two results are comparable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// Operating system and kernel, e.g. `linux 6.1.0 x86_64`.
    pub os: String,
    /// CPU model name.
    pub cpu: String,
    /// Logical cores available to the process.
    pub cores: u32,
    /// `rustc --version` of the compiler that built the measuring binary.
    pub rustc: String,
    /// `release` or `debug` (a debug build is warned about).
    pub build_profile: String,
    /// Git commit of the working tree, where known.
    #[serde(default)]
    pub git_commit: Option<String>,
    /// Whether the working tree had uncommitted changes.
    #[serde(default)]
    pub git_dirty: Option<bool>,
    /// Kernel clock source, e.g. `tsc`.
    #[serde(default)]
    pub clocksource: Option<String>,
    /// Measured cost of one timer read in nanoseconds.
    #[serde(default)]
    pub timer_cost_ns: Option<Decimal>,
    /// RFC 3339 UTC time the suite started.
    pub started: String,
    /// RFC 3339 UTC time the suite finished.
    pub finished: String,
}

/// The other side of a suite run interleaved with another one (the raw file's `pairing` key):
/// who the partner is and how the two were scheduled. (Whether a comparison's runs were
/// interleaved is `bench_threshold::Pairing`.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    /// `baseline` or `candidate`.
    pub role: String,
    /// Run id of the other side.
    pub partner_run_id: String,
    /// The interleaving scheme, e.g. `randomised ABBA blocks`.
    pub scheme: String,
    /// Seed of the random block orientation, so the schedule can be reproduced.
    pub seed: u64,
}

/// One benchmark suite as written to and read from `raw_data/<run_id>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawData {
    /// Always [`RAW_SCHEMA_VERSION`] when written by this build.
    pub schema_version: u32,
    /// Identifier of the suite (`[A-Za-z0-9._-]`, 1–100 characters).
    pub run_id: String,
    /// Name of the configuration measured, e.g. `baseline` or `indicator-cache`.
    pub configuration_name: String,
    /// Workflow measured, e.g. `grid_search`.
    pub workflow_type: String,
    /// Workload characteristics.
    pub workload: Workload,
    /// Number of untimed warm-up runs before the timed ones.
    pub warmup_runs: u32,
    /// The completed timed runs.
    pub runs: Vec<RunRecord>,
    /// Runs that panicked or were interrupted.
    #[serde(default)]
    pub failed_runs: Vec<FailedRun>,
    /// Completed runs of a paired suite whose partner run failed: kept, but not paired.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unpaired_runs: Vec<RunRecord>,
    /// Whether the suite ran to the end.
    #[serde(default)]
    pub status: SuiteStatus,
    /// Pairing metadata for interleaved suites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairing: Option<Partner>,
    /// Where it ran.
    pub environment: Environment,
}

impl RawData {
    /// Reads and validates a raw-data file. Errors name the file, the field and what was
    /// expected.
    pub fn read(path: &Path) -> Result<Self, InputError> {
        let text = crate::fsio::read_text(path)?;
        Self::parse(&text, path)
    }

    /// Parses and validates raw data from `text`; `path` is used in error messages only.
    pub fn parse(text: &str, path: &Path) -> Result<Self, InputError> {
        let value: serde_json::Value = crate::error::parse_json(text, path)?;
        check_schema_version(&value, path)?;
        let raw: RawData = crate::error::from_value(value, path)?;
        raw.validate(path)?;
        Ok(raw)
    }

    /// Checks the invariants that serde cannot: positive timings, unique run indices, a valid
    /// run id.
    pub fn validate(&self, path: &Path) -> Result<(), InputError> {
        let invalid = |field: String, expected: &str, found: String| InputError::Invalid {
            path: path.to_path_buf(),
            field,
            expected: expected.to_owned(),
            found,
        };
        if let Err(e) = crate::RunId::new(&self.run_id) {
            return Err(invalid("run_id".into(), "1–100 characters of [A-Za-z0-9._-]", e.to_string()));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, run) in self.runs.iter().enumerate() {
            if run.wall_ns == 0 {
                return Err(invalid(format!("runs[{i}].wall_ns"), "a duration > 0", "0".into()));
            }
            if !seen.insert(run.index) {
                return Err(invalid(
                    format!("runs[{i}].index"),
                    "a run index not used by an earlier run",
                    run.index.to_string(),
                ));
            }
        }
        Ok(())
    }

    /// Writes the file atomically (temporary file in the same directory, fsync, rename).
    pub fn write(&self, path: &Path) -> Result<(), InputError> {
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|e| InputError::Io { path: path.to_path_buf(), message: e.to_string() })?;
        text.push('\n');
        write_atomic(path, text.as_bytes())
            .map_err(|e| InputError::Io { path: path.to_path_buf(), message: e.to_string() })
    }

    /// Wall times of the completed runs in nanoseconds.
    pub fn wall_ns(&self) -> Vec<u64> {
        self.runs.iter().map(|r| r.wall_ns).collect()
    }

    /// The default location of a suite's raw data under an output directory.
    pub fn path_in(output_dir: &Path, run_id: &crate::RunId) -> PathBuf {
        output_dir.join("raw_data").join(format!("{}.json", run_id.as_str()))
    }
}

/// Rejects a missing, mistyped or future `schema_version` before the rest of the document is
/// interpreted, so a newer file gets "upgrade" rather than a confusing field error.
fn check_schema_version(value: &serde_json::Value, path: &Path) -> Result<(), InputError> {
    let invalid = |expected: &str, found: String| InputError::Invalid {
        path: path.to_path_buf(),
        field: "schema_version".into(),
        expected: expected.into(),
        found,
    };
    let obj = value
        .as_object()
        .ok_or_else(|| invalid("a JSON object holding schema_version", crate::error::json_kind(value)))?;
    match obj.get("schema_version") {
        None => Err(invalid(&format!("schema_version {RAW_SCHEMA_VERSION}"), "no such field".into())),
        Some(v) => match v.as_u64() {
            Some(n) if n == u64::from(RAW_SCHEMA_VERSION) => Ok(()),
            Some(n) if n > u64::from(RAW_SCHEMA_VERSION) => Err(InputError::FutureSchema {
                path: path.to_path_buf(),
                found: n,
                supported: RAW_SCHEMA_VERSION,
            }),
            _ => Err(invalid(&format!("schema_version {RAW_SCHEMA_VERSION}"), v.to_string())),
        },
    }
}
