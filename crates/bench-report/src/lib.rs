//! Pipelines that write artefacts, and the reports they write: what `cargo xtask` runs, as
//! library calls a project of its own can make.
//!
//! - [`profile_pipeline`]: profile any closure with a chosen set of profilers — CPU (repeated
//!   until long enough, with a differential flame graph against another implementation),
//!   spans, memory, lines — and write the bottleneck analysis ([`analyze_bottlenecks`], under
//!   the caller's [`bench_core::BottleneckRules`]); every file comes back as a typed artefact;
//! - [`run_scenarios`] and [`write_profile_reports`]: extended scenarios measured as suites,
//!   the extended-operations and consolidated reports;
//! - [`evaluate_files`]: the pairwise evaluation of two timing files with its threshold;
//! - [`write_compare_report`]: the report of a comparison of two commands
//!   ([`bench_command::compare_commands`]), with [`compare_text`] for a terminal;
//! - [`calibrate`]: a machine's noise and how the presets fare on it;
//! - [`write_performance_report`]: the performance report of a sequential evaluation, one
//!   exporter per format — Markdown, JSON, an SVG chart (plotters) and the Bencher Metric
//!   Format (BMF) for continuous-benchmarking services — and its terminal summary.
//!
//! Every writer takes its output directory from the caller and writes atomically.
//!
//! ```
//! use bench_report::{run_time_chart, TimingPoint};
//! use bench_core::Decimal;
//! let points = vec![
//!     TimingPoint { label: "baseline".into(), mean_s: Decimal::new(12, 1), ci_95: [Decimal::new(11, 1), Decimal::new(13, 1)] },
//!     TimingPoint { label: "+ cache".into(), mean_s: Decimal::new(3, 2), ci_95: [Decimal::new(29, 3), Decimal::new(31, 3)] },
//! ];
//! let svg = run_time_chart(&points, "run times").unwrap();
//! assert!(svg.starts_with("<svg") && svg.contains("baseline"));
//! ```

pub mod bottleneck;
mod calibration;
mod chart;
mod command_report;
mod consolidated;
mod count_report;
mod extended;
mod history_report;
pub mod html;
mod imported;
mod pairwise;
mod performance;
mod pipeline;
pub mod terminal;

pub use bench_profile::cpu::SamplerChoice;
pub use bottleneck::{
    Bottleneck, BottleneckReport, Category, CategoryTotals, MemoryIssue, Recommendation, Summary,
    analyze_bottlenecks, bottleneck_markdown, top_bottleneck_lines, write_bottleneck_report,
};
pub use calibration::{AaSummary, CALIBRATION_FILE, Calibration, Noise, PresetNeed, calibrate};
pub use chart::{TimingPoint, adaptive_path_svg, equity_svg, heatmap_svg, run_time_chart};
pub use command_report::{
    CompareFiles, CompareMeta, compare_html, compare_json, compare_markdown, compare_text,
    write_compare_report,
};
pub use consolidated::{
    CONSOLIDATED_REPORT, EXTENDED_REPORT, EXTENDED_REPORT_JSON, ProfileRun, write_profile_reports,
};
pub use count_report::{
    CompareExports, compare_bmf, count_bmf, count_bmf_entry, count_json, count_text, write_count_report,
};
pub use extended::{
    RayCoordinator, RayRow, ScenarioOptions, ScenarioRow, ScenarioTable, extended_heading, extended_section,
    ray_section, run_scenarios,
};
pub use history_report::{history_html, write_history_html};
pub use imported::{FoldedRequest, profile_folded};
pub use pairwise::{
    PairReport, PairwiseEvaluation, PairwiseRequest, SideInfo, evaluate_files, write_pair_report,
};
pub use performance::{
    ReportMeta, aa_json, aa_text, bmf_json, performance_json, performance_markdown, sequence_summary,
    timing_points,
};
pub use pipeline::{
    Comparison, PipelineOutput, ProfilePlan, ProfilerChoice, Profilers, describe_sampler, profile_pipeline,
};

use std::path::{Path, PathBuf};

use bench_optimizations::SequenceReport;
use thiserror::Error;

/// Why a report could not be produced or written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A file could not be written.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The chart could not be drawn.
    #[error("chart: {0}")]
    Chart(String),
    /// Nothing to report.
    #[error("{0}")]
    Empty(String),
    /// An invalid output name.
    #[error(transparent)]
    Name(#[from] bench_core::RunIdError),
    /// A profiler failed.
    #[error(transparent)]
    Profile(#[from] bench_profile::ProfileError),
    /// A measurement failed.
    #[error(transparent)]
    Measure(#[from] bench_measure::MeasureError),
    /// The decision could not be computed.
    #[error(transparent)]
    Threshold(#[from] bench_threshold::ThresholdError),
    /// A paired comparison could not be measured or decided.
    #[error(transparent)]
    Evaluation(#[from] bench_optimizations::EvaluationError),
    /// A timing file could not be used.
    #[error("cannot use the {side} file: {source}")]
    Measurements {
        /// `baseline` or `candidate`.
        side: &'static str,
        /// Why.
        source: bench_core::InputError,
    },
    /// The inputs cannot be evaluated together.
    #[error("{0}")]
    Input(String),
    /// Line timings were asked for a function without probes.
    #[error(
        "--function {name}: no line probes ran for it in this workload (probed functions that ran: {ran}; functions with line probes: {probed})"
    )]
    UnknownLineFunction {
        /// The function asked for.
        name: String,
        /// Probed functions that ran.
        ran: String,
        /// Every function with probes.
        probed: String,
    },
    /// A scenario case failed.
    #[error("scenario failed: {0}")]
    Scenario(String),
}

impl bench_core::ErrorClass for ReportError {
    fn is_input_error(&self) -> bool {
        match self {
            Self::Name(e) => e.is_input_error(),
            Self::Profile(e) => e.is_input_error(),
            Self::Measure(e) => e.is_input_error(),
            Self::Threshold(e) => e.is_input_error(),
            Self::Evaluation(e) => e.is_input_error(),
            Self::Measurements { .. } | Self::Input(_) | Self::UnknownLineFunction { .. } => true,
            Self::Io { .. } | Self::Chart(_) | Self::Empty(_) | Self::Scenario(_) => false,
        }
    }
}

/// The files of a performance report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerformanceFiles {
    /// `<name>_report.md`.
    pub markdown: PathBuf,
    /// `<name>_report.json`.
    pub json: PathBuf,
    /// `<name>_report_times.svg`, when anything was measured.
    pub chart: Option<PathBuf>,
    /// `<name>_bmf.json`, when anything was measured.
    pub bmf: Option<PathBuf>,
    /// `<name>_path_<step>.svg`: each adaptive comparison's running estimate and confidence
    /// sequence against the threshold.
    pub paths: Vec<PathBuf>,
    /// `<name>_report.html`: the report as one self-contained page.
    pub html: PathBuf,
}

impl PerformanceFiles {
    /// Every file written, in the order above.
    pub fn all(&self) -> impl Iterator<Item = &PathBuf> {
        [Some(&self.markdown), Some(&self.json), Some(&self.html), self.chart.as_ref(), self.bmf.as_ref()]
            .into_iter()
            .flatten()
            .chain(&self.paths)
    }
}

pub(crate) fn write(path: &Path, text: &str) -> Result<(), ReportError> {
    bench_core::write_atomic(path, text.as_bytes())
        .map_err(|e| ReportError::Io { path: path.to_path_buf(), message: e.to_string() })
}

/// Removes what an earlier run under the same name left and this run did not write: `stale`
/// files, and in `dir` every file whose name starts with `prefix` and ends with `suffix` (when
/// given) other than `kept` — so a report never sits beside another run's charts or exports. A
/// file that cannot be removed is reported, not fatal.
pub(crate) fn remove_stale(dir: &Path, stale: &[PathBuf], pattern: Option<(&str, &str)>, kept: &[PathBuf]) {
    let mut gone: Vec<PathBuf> = stale.iter().filter(|p| !kept.contains(p)).cloned().collect();
    if let Some((prefix, suffix)) = pattern
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(prefix) && name.ends_with(suffix) && !kept.contains(&e.path()) {
                gone.push(e.path());
            }
        }
    }
    for p in gone.iter().filter(|p| p.exists()) {
        if let Err(e) = std::fs::remove_file(p) {
            tracing::warn!("could not remove {}, left by an earlier run: {e}", p.display());
        }
    }
}

pub(crate) fn pretty(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

/// Writes `<name>_report.md`, `<name>_report.json`, `<name>_report.html` (linking the
/// `flame_graphs` given), `<name>_report_times.svg` and `<name>_bmf.json` into `dir`. An incomplete (interrupted) report is written as
/// `<name>_incomplete_…` beside them, so the last complete report is never replaced by a partial
/// one.
pub fn write_performance_report(
    report: &SequenceReport,
    meta: &ReportMeta,
    dir: &Path,
    flame_graphs: &[PathBuf],
) -> Result<PerformanceFiles, ReportError> {
    let stem = if report.complete { meta.name.clone() } else { format!("{}_incomplete", meta.name) };
    let name = bench_core::RunId::new(&stem)?;
    let points = timing_points(report);
    let chart = if points.is_empty() {
        None
    } else {
        let path = dir.join(format!("{name}_report_times.svg"));
        write(&path, &run_time_chart(&points, &format!("Run times: {}", meta.title))?)?;
        Some(path)
    };
    let chart_name = chart.as_ref().and_then(|p| p.file_name()).map(|f| f.to_string_lossy().into_owned());
    let markdown = dir.join(format!("{name}_report.md"));
    write(
        &markdown,
        &performance_markdown(report, meta, chart_name.as_deref())
            .replace("](path_", &format!("]({name}_path_")),
    )?;
    let json = dir.join(format!("{name}_report.json"));
    write(&json, &pretty(&performance_json(report, meta)))?;
    // Nothing measured, nothing to export: no `{}` for a dashboard to read as a result.
    let bmf_doc = bmf_json(report, meta);
    let bmf = match bmf_doc.as_object().is_some_and(|o| !o.is_empty()) {
        true => {
            let path = dir.join(format!("{name}_bmf.json"));
            write(&path, &pretty(&bmf_doc))?;
            Some(path)
        }
        false => None,
    };
    let mut paths = Vec::new();
    let threshold = bench_core::to_f64(report.threshold.min_improvement_percent);
    for st in &report.steps {
        // An interrupted comparison may stop before its first look: no path to draw.
        if let Some(q) =
            st.evaluation.as_ref().and_then(|e| e.adaptive.as_ref()).filter(|q| !q.path.is_empty())
        {
            let path = dir.join(format!("{name}_{}", performance::path_chart_name(&st.name)));
            let title =
                format!("{}: {} pairs, {}", st.name, q.pairs_used, performance::outcome_text(q.outcome));
            write(&path, &adaptive_path_svg(&q.path, threshold, &title)?)?;
            paths.push(path);
        }
    }
    let kept: Vec<PathBuf> = chart.iter().chain(bmf.iter()).chain(&paths).cloned().collect();
    let stale = [dir.join(format!("{name}_report_times.svg")), dir.join(format!("{name}_bmf.json"))];
    remove_stale(dir, &stale, Some((&format!("{name}_path_"), ".svg")), &kept);
    let html = dir.join(format!("{name}_report.html"));
    write(&html, &performance::performance_html(report, meta, flame_graphs, dir))?;
    Ok(PerformanceFiles { markdown, json, chart, bmf, paths, html })
}
