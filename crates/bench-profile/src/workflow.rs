//! [`profile_workflow`]: run a workflow under one profiler kind and write its files.

use std::path::{Path, PathBuf};

use bench_core::{RunId, write_atomic};
use serde::Serialize;

use crate::ProfileError;
use crate::artefact::{Artefact, ArtefactKind};
use crate::cpu::{CpuProfile, DEFAULT_FREQUENCY_HZ, SampledLine, SamplerChoice, profile_cpu_with};
use crate::flame::generate_flame_graph;
use crate::lines::{LineReport, profile_lines};
use crate::memory::{MemoryProfile, profile_memory};
use crate::spans::{SpanProfile, profile_spans};

/// Which profiler to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileKind {
    /// CPU sampling: function table, folded stacks, flame graph.
    Cpu,
    /// tracing spans: exact call counts, tottime/cumtime, Chrome trace.
    Spans,
    /// Statement probes of one `#[line_probe]` function.
    Lines {
        /// Function name (full path or last segments).
        function: String,
    },
    /// RSS timeline and heap figures; `deep` adds dhat (slow).
    Memory {
        /// Also run under dhat.
        deep: bool,
    },
}

impl ProfileKind {
    /// Short name used in file names.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Spans => "spans",
            Self::Lines { .. } => "lines",
            Self::Memory { .. } => "memory",
        }
    }
}

/// Settings of a profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileOptions {
    /// Requested CPU sampling frequency, samples per CPU-second.
    pub cpu_frequency_hz: i32,
    /// Which CPU sampler to use.
    pub cpu_sampler: SamplerChoice,
    /// Flame-graph frames under this share of samples are omitted.
    pub min_percent: f64,
    /// Lowest span level recorded.
    pub span_level: tracing::Level,
    /// Root that `file!()` paths are relative to (for the lines report).
    pub source_root: PathBuf,
    /// Flame-graph title.
    pub title: String,
    /// Draw flame graphs without the runtime frames (std, core, alloc, rayon) between a thread
    /// and the sampled function; the folded-stacks file always keeps every frame.
    pub collapse_runtime: bool,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        Self {
            cpu_frequency_hz: DEFAULT_FREQUENCY_HZ,
            cpu_sampler: SamplerChoice::Auto,
            min_percent: 0.5,
            span_level: tracing::Level::INFO,
            source_root: PathBuf::from("."),
            title: "CPU profile".into(),
            collapse_runtime: true,
        }
    }
}

/// The metrics of a profile, by kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProfileMetrics {
    /// CPU sampling.
    Cpu(CpuProfile),
    /// Span statistics.
    Spans(SpanProfile),
    /// Line timings.
    Lines(LineReport),
    /// Memory.
    Memory(MemoryProfile),
}

/// A profile's metrics and the files written.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileOutput {
    /// The metrics.
    pub metrics: ProfileMetrics,
    /// Files written, in order, with their kinds.
    pub artefacts: Vec<Artefact>,
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<(), ProfileError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| ProfileError::Profiler(e.to_string()))?;
    text.push('\n');
    write_atomic(path, text.as_bytes()).map_err(|e| ProfileError::io(path, &e))
}

fn to_value<T: Serialize>(v: &T) -> Result<serde_json::Value, ProfileError> {
    serde_json::to_value(v).map_err(|e| ProfileError::Profiler(e.to_string()))
}

fn write_text(path: &Path, text: &str) -> Result<(), ProfileError> {
    write_atomic(path, text.as_bytes()).map_err(|e| ProfileError::io(path, &e))
}

/// Writes a CPU profile's files under `output_dir`: `<run_id>_cpu.folded`, `<run_id>_cpu.json`,
/// `<run_id>_cpu.profile.json` (Firefox Profiler), `<run_id>_cpu_lines.json` (sampled line
/// tables of the hottest functions) and, when it has samples, `flame_graphs/<run_id>.svg`.
pub fn write_cpu_files(
    p: &CpuProfile,
    output_dir: &Path,
    run_id: &RunId,
    options: &ProfileOptions,
) -> Result<Vec<Artefact>, ProfileError> {
    let id = run_id.as_str();
    let file = |suffix: &str| output_dir.join(format!("{id}_{suffix}"));
    let schema = |kind: &str, v: serde_json::Value| serde_json::json!({"schema_version": 1, "run_id": id, "kind": kind, "profile": v});
    let mut files = Vec::new();
    let folded = file("cpu.folded");
    write_text(&folded, &p.stacks.to_text())?;
    files.push(Artefact::new(ArtefactKind::FoldedStacks, folded));
    let json = file("cpu.json");
    write_json(&json, &schema("cpu", to_value(p)?))?;
    files.push(Artefact::new(ArtefactKind::CpuTable, json));
    let firefox = file("cpu.profile.json");
    write_atomic(&firefox, &p.to_firefox_profile(&options.title)?)
        .map_err(|e| ProfileError::io(&firefox, &e))?;
    files.push(Artefact::new(ArtefactKind::FirefoxProfile, firefox));
    let lines = file("cpu_lines.json");
    write_json(&lines, &schema("cpu_lines", to_value(&hot_lines(p, 10))?))?;
    files.push(Artefact::new(ArtefactKind::SampledLines, lines));
    if p.samples > 0 {
        let svg = output_dir.join("flame_graphs").join(format!("{id}.svg"));
        let drawn = if options.collapse_runtime { p.stacks.collapse_runtime() } else { p.stacks.clone() };
        generate_flame_graph(&drawn, &svg, &options.title, options.min_percent)?;
        files.push(Artefact::new(ArtefactKind::FlameGraph, svg));
    }
    Ok(files)
}

/// Runs `workflow` under the profiler `kind` and writes, under `output_dir`:
/// cpu → `<run_id>_cpu.folded`, `<run_id>_cpu.json`, `<run_id>_cpu.profile.json` (Firefox
/// Profiler), `<run_id>_cpu_lines.json` (sampled line tables of the hottest functions),
/// `flame_graphs/<run_id>.svg`;
/// spans → `<run_id>_spans.json`, `<run_id>_spans.txt`, `<run_id>_trace.json`;
/// lines → `<run_id>_lines.txt`, `<run_id>_lines.json`;
/// memory → `<run_id>_memory.json` (and `<run_id>_dhat-heap.json` when deep).
/// Returns the workflow's result and the profile.
pub fn profile_workflow<T>(
    workflow: impl FnOnce() -> T,
    kind: &ProfileKind,
    output_dir: &Path,
    run_id: &RunId,
    options: &ProfileOptions,
) -> Result<(T, ProfileOutput), ProfileError> {
    let _exclusive = bench_measure::measurement_lock();
    let id = run_id.as_str();
    let file = |suffix: &str| output_dir.join(format!("{id}_{suffix}"));
    let mut files: Vec<Artefact> = Vec::new();
    let schema = |kind: &str, v: serde_json::Value| serde_json::json!({"schema_version": 1, "run_id": id, "kind": kind, "profile": v});
    let (out, metrics) = match kind {
        ProfileKind::Cpu => {
            let (out, p) = profile_cpu_with(workflow, options.cpu_frequency_hz, options.cpu_sampler)?;
            files.extend(write_cpu_files(&p, output_dir, run_id, options)?);
            (out, ProfileMetrics::Cpu(p))
        }
        ProfileKind::Spans => {
            let (out, p) = profile_spans(workflow, options.span_level)?;
            let json = file("spans.json");
            write_json(
                &json,
                &schema(
                    "spans",
                    serde_json::to_value(&p).map_err(|e| ProfileError::Profiler(e.to_string()))?,
                ),
            )?;
            let txt = file("spans.txt");
            write_text(&txt, &p.to_text())?;
            let trace = file("trace.json");
            write_json(&trace, &p.to_chrome_trace())?;
            files.extend([
                Artefact::new(ArtefactKind::SpanStatistics, json),
                Artefact::new(ArtefactKind::SpanTable, txt),
                Artefact::new(ArtefactKind::ChromeTrace, trace),
            ]);
            (out, ProfileMetrics::Spans(p))
        }
        ProfileKind::Lines { function } => {
            let (out, r) = profile_lines(workflow, function, &options.source_root)?;
            let txt = file("lines.txt");
            write_text(&txt, &r.to_text())?;
            let json = file("lines.json");
            write_json(
                &json,
                &schema(
                    "lines",
                    serde_json::to_value(&r).map_err(|e| ProfileError::Profiler(e.to_string()))?,
                ),
            )?;
            files.extend([
                Artefact::new(ArtefactKind::LineTimings, txt),
                Artefact::new(ArtefactKind::LineTimingsJson, json),
            ]);
            (out, ProfileMetrics::Lines(r))
        }
        ProfileKind::Memory { deep } => {
            let dhat = deep.then(|| file("dhat-heap.json"));
            let (out, m) = profile_memory(workflow, dhat.as_deref())?;
            let json = file("memory.json");
            write_json(
                &json,
                &schema(
                    "memory",
                    serde_json::to_value(&m).map_err(|e| ProfileError::Profiler(e.to_string()))?,
                ),
            )?;
            files.push(Artefact::new(ArtefactKind::MemoryProfile, json));
            files.extend(dhat.map(|p| Artefact::new(ArtefactKind::DhatHeap, p)));
            (out, ProfileMetrics::Memory(m))
        }
    };
    Ok((out, ProfileOutput { metrics, artefacts: files }))
}

/// The sampled line table of one function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionLines {
    /// The function.
    pub function: String,
    /// Its share of the samples (inclusive), percent.
    pub total_percent: f64,
    /// Its lines, most samples first.
    pub lines: Vec<SampledLine>,
}

/// The sampled line tables of the `n` functions with the most samples (inclusive) that have
/// line information, leaving out the runtime (std, core, alloc, rayon — see
/// [`crate::is_runtime_frame`] — and anything whose lines are all in the standard library's
/// sources), the test harness and the profilers' own frames around the workload.
pub fn hot_lines(p: &CpuProfile, n: usize) -> Vec<FunctionLines> {
    const OWN: [&str; 3] = ["bench_profile::", "bench_measure::", "test::"];
    p.functions
        .iter()
        .filter(|f| !crate::is_runtime_frame(&f.function) && !OWN.iter().any(|o| f.function.starts_with(o)))
        .filter_map(|f| {
            let lines = p.sampled_lines(&f.function);
            let ours = lines.iter().any(|l| !l.file.starts_with("/rustc/"));
            ours.then(|| FunctionLines {
                function: f.function.clone(),
                total_percent: bench_core::to_f64(f.total_percent),
                lines,
            })
        })
        .take(n)
        .collect()
}
