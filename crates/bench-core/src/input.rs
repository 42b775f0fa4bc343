//! Timing inputs for a pairwise evaluation: our raw-data files or `hyperfine --export-json`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{InputError, from_value, json_kind, parse_json, read_text};
use crate::raw::RawData;
use crate::sample::Sample;

/// Which file format a [`Measurements`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputFormat {
    /// This project's raw-data format (has `schema_version`).
    RawData,
    /// `hyperfine --export-json` output (has `results`).
    Hyperfine,
}

impl std::fmt::Display for InputFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::RawData => "raw data",
            Self::Hyperfine => "hyperfine JSON",
        })
    }
}

/// Which memory figure a [`Measurements`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MemoryMetric {
    /// Peak of live heap bytes during a run (counting allocator): precise and per run.
    HeapPeak,
    /// Resident-set high-water mark of a run (process-wide).
    PeakRss,
}

impl std::fmt::Display for MemoryMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::HeapPeak => "heap peak",
            Self::PeakRss => "peak RSS",
        })
    }
}

/// Which time of a run a comparison decides on.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeMetric {
    /// Elapsed wall-clock time: what a user waits for (the default).
    #[default]
    Wall,
    /// CPU time (user + system, all threads): insensitive to waiting, blind to parallelism.
    Cpu,
}

impl TimeMetric {
    /// The run's time in nanoseconds under this metric.
    pub fn nanos(self, run: &crate::RunRecord) -> u64 {
        match self {
            Self::Wall => run.wall_ns,
            Self::Cpu => run.cpu_ns,
        }
    }

    /// `wall` or `cpu`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wall => "wall",
            Self::Cpu => "cpu",
        }
    }
}

/// The timings (and memory figures, where measured) of one side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurements {
    /// A short name for reports: the configuration name or the hyperfine command.
    pub label: String,
    /// The file it came from.
    pub source: PathBuf,
    /// The format of that file.
    pub format: InputFormat,
    /// Wall times in seconds, run `i` at position `i`.
    pub times: Sample,
    /// Per-run heap peak in bytes, when every run has one.
    pub heap_peak_bytes: Option<Vec<u64>>,
    /// Per-run peak RSS in bytes, when every run has one.
    pub peak_rss_bytes: Option<Vec<u64>>,
    /// Workflow type, when the file records it.
    pub workflow_type: Option<String>,
    /// Dataset size in rows, when the file records it.
    pub dataset_size: Option<u64>,
    /// The suite's run id (raw data only).
    pub run_id: Option<String>,
    /// The run id of the suite this one was interleaved with, when it was (raw data only).
    pub partner_run_id: Option<String>,
    /// The pair index of every run, when every run records one (raw data of a paired suite).
    pub pairs: Option<Vec<u32>>,
}

impl Measurements {
    /// Builds measurements from a raw-data document already read and validated.
    pub fn from_raw(raw: &RawData, source: &Path) -> Result<Self, InputError> {
        Self::from_raw_metric(raw, source, TimeMetric::Wall)
    }

    /// [`Measurements::from_raw`] with `times` taken from `metric` (CPU time of runs too short
    /// for the CPU clock to tick is refused: every time must be above zero).
    pub fn from_raw_metric(raw: &RawData, source: &Path, metric: TimeMetric) -> Result<Self, InputError> {
        let nanos: Vec<u64> = raw.runs.iter().map(|r| metric.nanos(r)).collect();
        let times = Sample::from_nanos(&nanos).map_err(|e| InputError::Invalid {
            path: source.to_path_buf(),
            field: "runs".into(),
            expected: format!("at least 2 completed runs with {}_ns > 0", metric.as_str()),
            found: e.to_string(),
        })?;
        let all = |f: fn(&crate::RunRecord) -> Option<u64>| -> Option<Vec<u64>> {
            raw.runs.iter().map(f).collect()
        };
        Ok(Self {
            label: raw.configuration_name.clone(),
            source: source.to_path_buf(),
            format: InputFormat::RawData,
            times,
            heap_peak_bytes: all(|r| r.heap_peak_bytes),
            peak_rss_bytes: all(|r| r.peak_rss_bytes),
            workflow_type: Some(raw.workflow_type.clone()),
            dataset_size: Some(raw.workload.dataset_size),
            run_id: Some(raw.run_id.clone()),
            partner_run_id: raw.pairing.as_ref().map(|p| p.partner_run_id.clone()),
            pairs: raw.runs.iter().map(|r| r.pair).collect(),
        })
    }

    /// Whether these runs and `other`'s were interleaved in one suite, which is what licenses
    /// pairing run `i` of one with run `i` of the other: each file names the other as its
    /// partner. Runs from separate invocations or hyperfine exports never are.
    pub fn interleaved_with(&self, other: &Self) -> bool {
        matches!(
            (&self.run_id, &self.partner_run_id, &other.run_id, &other.partner_run_id),
            (Some(a), Some(pa), Some(b), Some(pb)) if pa == b && pb == a
        )
    }

    /// Whether the interleaved runs of both sides line up pair by pair (same pair indices in the
    /// same order); `false` means a file was cut or edited after the suite wrote it.
    pub fn pairs_match(&self, other: &Self) -> bool {
        self.times.len() == other.times.len() && self.pairs == other.pairs
    }

    /// Reads a file in either accepted format, detected from its top-level keys.
    ///
    /// ```no_run
    /// let m = bench_core::Measurements::read(std::path::Path::new("baseline.json")).unwrap();
    /// println!("{} runs of {}", m.times.len(), m.label);
    /// ```
    pub fn read(path: &Path) -> Result<Self, InputError> {
        Self::read_selected(path, None)
    }

    /// [`Measurements::read`] with a choice among the results of a hyperfine export that holds
    /// several: `select` is a 0-based index or a command exactly as exported. A file with
    /// several results and no choice is refused with the list of its commands.
    pub fn read_selected(path: &Path, select: Option<&str>) -> Result<Self, InputError> {
        let text = read_text(path)?;
        Self::parse_selected(&text, path, select)
    }

    /// Parses text in either accepted format; `path` is used in error messages only.
    pub fn parse(text: &str, path: &Path) -> Result<Self, InputError> {
        Self::parse_selected(text, path, None)
    }

    /// [`Measurements::parse`] with a choice of hyperfine result (see
    /// [`Measurements::read_selected`]).
    pub fn parse_selected(text: &str, path: &Path, select: Option<&str>) -> Result<Self, InputError> {
        let value = parse_json(text, path)?;
        let is_object = value.is_object();
        let has = |k: &str| value.get(k).is_some();
        if is_object && has("schema_version") {
            if let Some(sel) = select {
                return Err(InputError::Invalid {
                    path: path.to_path_buf(),
                    field: "results".into(),
                    expected: "a hyperfine export to choose a result from".into(),
                    found: format!(
                        "this tool's raw data, which holds one suite (choice {sel:?} does not apply)"
                    ),
                });
            }
            let raw = RawData::parse(text, path)?;
            Self::from_raw(&raw, path)
        } else if is_object && has("results") {
            Self::from_hyperfine(value, path, select)
        } else {
            Err(InputError::UnknownFormat {
                path: path.to_path_buf(),
                message: format!(
                    "found {} without `schema_version` or `results`; expected this tool's raw-data \
                     file (profiling-results/raw_data/*.json) or `hyperfine --export-json` output",
                    if is_object { "a JSON object".to_owned() } else { json_kind(&value) }
                ),
            })
        }
    }

    fn from_hyperfine(
        value: serde_json::Value,
        path: &Path,
        select: Option<&str>,
    ) -> Result<Self, InputError> {
        #[derive(Deserialize)]
        struct Export {
            results: Vec<Entry>,
        }
        #[derive(Deserialize)]
        struct Entry {
            command: String,
            times: Vec<f64>,
            #[serde(default)]
            memory_usage_byte: Option<Vec<u64>>,
        }
        let export: Export = from_value(value, path)?;
        let invalid = |field: &str, expected: &str, found: String| InputError::Invalid {
            path: path.to_path_buf(),
            field: field.into(),
            expected: expected.into(),
            found,
        };
        if export.results.is_empty() {
            return Err(invalid("results", "at least one benchmark result", "an empty array".into()));
        }
        let listing = || {
            export
                .results
                .iter()
                .enumerate()
                .map(|(i, r)| format!("{i}: `{}`", r.command))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let index = match select {
            None if export.results.len() == 1 => 0,
            None => {
                return Err(invalid(
                    "results",
                    &format!(
                        "one benchmark result, or a choice of one by index or command among {}",
                        listing()
                    ),
                    format!("{} results", export.results.len()),
                ));
            }
            Some(sel) => match sel.parse::<usize>() {
                Ok(i) if i < export.results.len() => i,
                _ => export.results.iter().position(|r| r.command == sel).ok_or_else(|| {
                    invalid(
                        "results",
                        &format!("an index or a command among {}", listing()),
                        format!("{sel:?}"),
                    )
                })?,
            },
        };
        let entry = export.results.into_iter().nth(index).expect("index checked");
        let n = entry.times.len();
        let times = Sample::timings(entry.times).map_err(|e| {
            let field = match &e {
                crate::SampleError::NonFinite { index: i, .. }
                | crate::SampleError::NonPositive { index: i, .. } => format!("results[{index}].times[{i}]"),
                _ => format!("results[{index}].times"),
            };
            invalid(&field, "at least 2 finite run times > 0 seconds", e.to_string())
        })?;
        if let Some(mem) = entry.memory_usage_byte.as_ref().filter(|m| m.len() != n) {
            return Err(invalid(
                &format!("results[{index}].memory_usage_byte"),
                &format!("one figure per run ({n})"),
                format!("{} figures", mem.len()),
            ));
        }
        Ok(Self {
            label: entry.command,
            source: path.to_path_buf(),
            format: InputFormat::Hyperfine,
            times,
            heap_peak_bytes: None,
            peak_rss_bytes: entry.memory_usage_byte,
            workflow_type: None,
            dataset_size: None,
            run_id: None,
            partner_run_id: None,
            pairs: None,
        })
    }

    /// The memory metric both sides can be compared on, preferring the heap peak, and each
    /// side's peak (the maximum over its runs) of that metric; `None` when either side lacks
    /// every common metric.
    pub fn common_memory_peak(a: &Self, b: &Self) -> Option<(MemoryMetric, u64, u64)> {
        let max = |v: &Option<Vec<u64>>| v.as_ref().and_then(|v| v.iter().copied().max());
        if let (Some(x), Some(y)) = (max(&a.heap_peak_bytes), max(&b.heap_peak_bytes)) {
            return Some((MemoryMetric::HeapPeak, x, y));
        }
        if let (Some(x), Some(y)) = (max(&a.peak_rss_bytes), max(&b.peak_rss_bytes)) {
            return Some((MemoryMetric::PeakRss, x, y));
        }
        None
    }
}
