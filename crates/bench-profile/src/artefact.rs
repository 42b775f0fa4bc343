//! What a profile or report writes, typed: every file comes with the kind of artefact it is, so
//! callers list, link and describe files without guessing from their names.

use std::path::PathBuf;

use serde::Serialize;

/// The kinds of files the profilers and reports write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ArtefactKind {
    /// `<id>_cpu.folded`: folded stacks (flamegraph.pl / inferno / speedscope input).
    FoldedStacks,
    /// `<id>_cpu.json`: the CPU function table with sampling errors.
    CpuTable,
    /// `<id>_cpu.profile.json`: the Firefox Profiler's processed format (also opens in
    /// speedscope).
    FirefoxProfile,
    /// `<id>_cpu_lines.json`: sampled line tables of the hottest functions.
    SampledLines,
    /// `flame_graphs/<id>.svg`.
    FlameGraph,
    /// A differential flame graph of two profiles.
    DifferentialFlameGraph,
    /// `<id>_spans.txt`: the pstats-like span table.
    SpanTable,
    /// `<id>_spans.json`.
    SpanStatistics,
    /// `<id>_trace.json`: a Chrome trace (opens in Perfetto).
    ChromeTrace,
    /// `<id>_lines.txt`: line timings of one function.
    LineTimings,
    /// `<id>_lines.json`.
    LineTimingsJson,
    /// `<id>_memory.json`: RSS timeline and heap figures.
    MemoryProfile,
    /// `<id>_dhat-heap.json`: dhat's heap profile (opens in dh_view.html).
    DhatHeap,
    /// `<name>_bottlenecks.md`.
    BottleneckReport,
    /// `<name>_bottlenecks.json`.
    BottleneckReportJson,
    /// A report of extended scenarios.
    ExtendedReport,
    /// Its machine-readable rows.
    ExtendedReportJson,
    /// A report that links every artefact of a run.
    ConsolidatedReport,
    /// A raw-data file of measured runs.
    RawData,
}

impl ArtefactKind {
    /// What the file is, for a reader.
    pub fn describe(self) -> &'static str {
        match self {
            Self::FoldedStacks => "folded stacks",
            Self::CpuTable => "CPU function table",
            Self::FirefoxProfile => "CPU profile (open in profiler.firefox.com or speedscope)",
            Self::SampledLines => "sampled line tables of the hottest functions",
            Self::FlameGraph => "flame graph",
            Self::DifferentialFlameGraph => "differential flame graph",
            Self::SpanTable => "span table (pstats-like)",
            Self::SpanStatistics => "span statistics (JSON)",
            Self::ChromeTrace => "Chrome trace (open in Perfetto)",
            Self::LineTimings => "line timings",
            Self::LineTimingsJson => "line timings (JSON)",
            Self::MemoryProfile => "memory profile",
            Self::DhatHeap => "dhat heap profile (open in dh_view.html)",
            Self::BottleneckReport => "bottleneck report",
            Self::BottleneckReportJson => "bottleneck report (JSON)",
            Self::ExtendedReport => "extended scenarios report",
            Self::ExtendedReportJson => "extended scenarios (JSON)",
            Self::ConsolidatedReport => "consolidated report",
            Self::RawData => "raw measurements",
        }
    }
}

/// A file written, and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Artefact {
    /// What it is.
    pub kind: ArtefactKind,
    /// Where it is.
    pub path: PathBuf,
}

impl Artefact {
    /// An artefact of `kind` at `path`.
    pub fn new(kind: ArtefactKind, path: PathBuf) -> Self {
        Self { kind, path }
    }
}
