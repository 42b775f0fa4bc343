//! The profiling pipeline as one call: CPU profile (repeated until long enough) → differential
//! flame graph against another implementation → span profile → memory profile → bottleneck
//! analysis → line timings of the top probed function, every artefact written and returned
//! typed.
//!
//! ```
//! use bench_report::{ProfilePlan, Profilers, profile_pipeline};
//! let dir = tempfile::tempdir().unwrap();
//! let rules = bench_core::BottleneckRules { application_prefixes: vec!["rust_out::".into()], ..Default::default() };
//! let work = || { std::hint::black_box((0..200_000u64).map(|i| i ^ (i >> 3)).sum::<u64>()); };
//! let plan = ProfilePlan {
//!     profilers: Profilers { cpu: false, lines: false, ..Profilers::ALL },
//!     ..ProfilePlan::new(bench_core::RunId::new("doc").unwrap(), "xor sum", "naive", &work, &rules)
//! };
//! let out = profile_pipeline(&plan, dir.path(), dir.path(), &|_| {}).unwrap();
//! assert!(out.artefacts.iter().all(|a| a.path.exists()));
//! ```

use std::path::{Path, PathBuf};

use bench_core::{BottleneckRules, Decimal, RunId};
use bench_profile::{
    Artefact, ArtefactKind, ProfileError, ProfileKind, ProfileMetrics, ProfileOptions,
    generate_differential_flame_graph, profile_workflow,
};
use serde::Serialize;

use crate::ReportError;
use crate::bottleneck::{Bottleneck, BottleneckReport, analyze_bottlenecks, write_bottleneck_report};

/// Which profilers a pipeline runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profilers {
    /// CPU sampling (function table, stacks, flame graphs).
    pub cpu: bool,
    /// Tracing spans (exact call counts, Chrome trace).
    pub spans: bool,
    /// Line timings of one probed function.
    pub lines: bool,
    /// RSS timeline and heap figures.
    pub memory: bool,
    /// The memory profile also under dhat (allocation sites; much slower).
    pub deep_memory: bool,
}

impl Profilers {
    /// Every profiler, without dhat.
    pub const ALL: Self = Self { cpu: true, spans: true, lines: true, memory: true, deep_memory: false };
}

/// Which profilers a command line asks for: one of them, or all.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfilerChoice {
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

impl Profilers {
    /// The profilers of `choice`, the memory profile also under dhat when `deep_memory`.
    ///
    /// ```
    /// use bench_report::{ProfilerChoice, Profilers};
    /// let p = Profilers::chosen(ProfilerChoice::Cpu, false);
    /// assert!(p.cpu && !p.spans && !p.memory);
    /// assert_eq!(Profilers::chosen(ProfilerChoice::All, false), Profilers::ALL);
    /// ```
    pub fn chosen(choice: ProfilerChoice, deep_memory: bool) -> Self {
        let want = |p: ProfilerChoice| choice == ProfilerChoice::All || choice == p;
        Self {
            cpu: want(ProfilerChoice::Cpu),
            spans: want(ProfilerChoice::Spans),
            lines: want(ProfilerChoice::Lines),
            memory: want(ProfilerChoice::Memory),
            deep_memory,
        }
    }
}

impl Default for Profilers {
    /// [`Profilers::ALL`].
    fn default() -> Self {
        Self::ALL
    }
}

/// Another implementation of the same workload, for a differential flame graph.
pub struct Comparison<'a> {
    /// File-name stem of its CPU profile.
    pub name: RunId,
    /// Its name in titles (e.g. `prefix-sums`).
    pub label: String,
    /// One run of it.
    pub run: &'a dyn Fn(),
}

/// What to profile and how.
pub struct ProfilePlan<'a> {
    /// File-name stem of every artefact (e.g. `grid_search_baseline`).
    pub name: RunId,
    /// What runs, in a line (e.g. `grid search, 5 assets × 90 combinations`).
    pub workflow: String,
    /// The implementation profiled (e.g. `baseline`).
    pub implementation: String,
    /// One run of the workload.
    pub run: &'a dyn Fn(),
    /// Another implementation for a differential flame graph, when wanted.
    pub compare_with: Option<Comparison<'a>>,
    /// Profilers to run.
    pub profilers: Profilers,
    /// Function for line timings (default: the top critical function with line probes).
    pub lines_function: Option<String>,
    /// Requested CPU sampling frequency, samples per CPU-second.
    pub cpu_frequency_hz: i32,
    /// Which CPU sampler to use (perf events, falling back to SIGPROF, by default).
    pub cpu_sampler: bench_profile::cpu::SamplerChoice,
    /// Minimum wall time of a CPU profile: the workload is repeated until it is reached.
    pub min_cpu_seconds: f64,
    /// What the analysis needs to know about the workload.
    pub rules: &'a BottleneckRules,
    /// Root that `file!()` paths are relative to (for line timings).
    pub source_root: PathBuf,
    /// Keep the runtime frames (std, core, alloc, rayon) in flame graphs.
    pub keep_runtime_frames: bool,
}

impl<'a> ProfilePlan<'a> {
    /// A plan with every profiler, 4,000 Hz, at least one second of CPU profile, no comparison.
    pub fn new(
        name: RunId,
        workflow: &str,
        implementation: &str,
        run: &'a dyn Fn(),
        rules: &'a BottleneckRules,
    ) -> Self {
        Self {
            name,
            workflow: workflow.to_owned(),
            implementation: implementation.to_owned(),
            run,
            compare_with: None,
            profilers: Profilers::ALL,
            lines_function: None,
            cpu_frequency_hz: bench_profile::cpu::DEFAULT_FREQUENCY_HZ,
            cpu_sampler: bench_profile::cpu::SamplerChoice::Auto,
            min_cpu_seconds: 1.0,
            rules,
            source_root: PathBuf::from("."),
            keep_runtime_frames: false,
        }
    }
}

/// What a pipeline produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineOutput {
    /// File-name stem.
    pub name: String,
    /// What ran.
    pub workflow: String,
    /// The implementation profiled.
    pub implementation: String,
    /// The five largest bottlenecks by own CPU share (empty without CPU and span profiles).
    pub top_5: Vec<Bottleneck>,
    /// The function whose line timings were taken.
    pub lines_function: Option<String>,
    /// Requested CPU sampling rate, Hz.
    pub requested_sample_hz: Option<i32>,
    /// Samples per CPU-second obtained.
    pub effective_sample_hz: Option<Decimal>,
    /// The sampler that ran, and why it is the fallback when it is.
    pub sampler: Option<String>,
    /// CPU samples of the profile.
    pub cpu_samples: Option<u64>,
    /// How many times the workload ran under the CPU profiler.
    pub repetitions_profiled: Option<u64>,
    /// Every file written, in order.
    pub artefacts: Vec<Artefact>,
    /// The full bottleneck analysis.
    #[serde(skip)]
    pub bottlenecks: Option<BottleneckReport>,
    /// What the reader should know: a report that could not be made, stacks that look
    /// truncated.
    pub warnings: Vec<String>,
}

/// Runs `plan`'s profilers in order, writes profiles under `profiles_dir` and the bottleneck
/// report under `reports_dir`, and says what it is doing through `progress`.
pub fn profile_pipeline(
    plan: &ProfilePlan<'_>,
    profiles_dir: &Path,
    reports_dir: &Path,
    progress: &dyn Fn(&str),
) -> Result<PipelineOutput, ReportError> {
    let title = |label: &str| format!("{} — {label}", plan.workflow);
    let options = ProfileOptions {
        cpu_frequency_hz: plan.cpu_frequency_hz,
        cpu_sampler: plan.cpu_sampler,
        min_percent: 0.5,
        span_level: tracing::Level::INFO,
        source_root: plan.source_root.clone(),
        title: title(&plan.implementation),
        collapse_runtime: !plan.keep_runtime_frames,
    };
    let min = plan.min_cpu_seconds;
    let mut artefacts = Vec::new();
    let mut cpu = None;
    let mut repetitions = None;
    if plan.profilers.cpu {
        progress(&format!("CPU profile of {} ({})", plan.workflow, plan.implementation));
        let (n, out) = profile_workflow(
            || bench_measure::repeat_for(min, plan.run),
            &ProfileKind::Cpu,
            profiles_dir,
            &plan.name,
            &options,
        )?;
        repetitions = Some(n);
        artefacts.extend(out.artefacts);
        if let ProfileMetrics::Cpu(p) = out.metrics {
            cpu = Some(p);
        }
        if let (Some(cmp), Some(base)) = (&plan.compare_with, &cpu) {
            progress(&format!("CPU profile of {} ({})", plan.workflow, cmp.label));
            let cmp_options = ProfileOptions { title: title(&cmp.label), ..options.clone() };
            let (_, out) = profile_workflow(
                || bench_measure::repeat_for(min, cmp.run),
                &ProfileKind::Cpu,
                profiles_dir,
                &cmp.name,
                &cmp_options,
            )?;
            artefacts.extend(out.artefacts);
            if let ProfileMetrics::Cpu(after) = out.metrics {
                let svg = profiles_dir
                    .join("flame_graphs")
                    .join(format!("{}_vs_{}_diff.svg", plan.name, cmp.label));
                let draw = |s: &bench_profile::FoldedStacks| {
                    if plan.keep_runtime_frames { s.clone() } else { s.collapse_runtime() }
                };
                generate_differential_flame_graph(
                    &draw(&base.stacks),
                    &draw(&after.stacks),
                    &svg,
                    &format!("{}: {} → {} (differential)", plan.workflow, plan.implementation, cmp.label),
                    options.min_percent,
                )?;
                artefacts.push(Artefact::new(ArtefactKind::DifferentialFlameGraph, svg));
            }
        }
    }
    let mut spans = None;
    if plan.profilers.spans {
        progress(&format!("span profile of {} ({})", plan.workflow, plan.implementation));
        let (_, out) = profile_workflow(plan.run, &ProfileKind::Spans, profiles_dir, &plan.name, &options)?;
        artefacts.extend(out.artefacts);
        if let ProfileMetrics::Spans(p) = out.metrics {
            spans = Some(p);
        }
    }
    let mut memory = None;
    if plan.profilers.memory {
        progress(&format!("memory profile of {} ({})", plan.workflow, plan.implementation));
        let kind = ProfileKind::Memory { deep: plan.profilers.deep_memory };
        let (_, out) = profile_workflow(plan.run, &kind, profiles_dir, &plan.name, &options)?;
        artefacts.extend(out.artefacts);
        if let ProfileMetrics::Memory(m) = out.metrics {
            memory = Some(m);
        }
    }
    let report = match (&spans, &cpu) {
        (Some(s), Some(c)) => {
            let r = analyze_bottlenecks(&plan.workflow, s, c, memory.as_ref(), plan.rules);
            let (md, json) = write_bottleneck_report(&r, plan.name.as_str(), reports_dir)?;
            artefacts.push(Artefact::new(ArtefactKind::BottleneckReport, md));
            artefacts.push(Artefact::new(ArtefactKind::BottleneckReportJson, json));
            Some(r)
        }
        _ => None,
    };
    let mut warnings = Vec::new();
    if report.is_none() {
        warnings.push(format!(
            "no bottleneck report: it joins the span and the CPU profiles, and {} off",
            match (plan.profilers.spans, plan.profilers.cpu) {
                (false, false) => "both were",
                (false, true) => "spans were",
                _ => "the CPU profile was",
            }
        ));
    }
    if let Some(c) = &cpu {
        warnings.extend(truncation_warning(c, plan.rules));
    }
    let mut lines_function = None;
    if plan.profilers.lines {
        let function =
            plan.lines_function.clone().unwrap_or_else(|| choose_lines_function(report.as_ref(), plan.rules));
        progress(&format!("lines profile of {function}"));
        let kind = ProfileKind::Lines { function: function.clone() };
        match profile_workflow(plan.run, &kind, profiles_dir, &plan.name, &options) {
            Ok((_, out)) => {
                artefacts.extend(out.artefacts);
                lines_function = Some(function);
            }
            Err(ProfileError::UnknownFunction { name, known }) => {
                return Err(ReportError::UnknownLineFunction {
                    name,
                    ran: known,
                    probed: plan.rules.probed_functions.join(", "),
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(PipelineOutput {
        name: plan.name.to_string(),
        workflow: plan.workflow.clone(),
        implementation: plan.implementation.clone(),
        top_5: report.as_ref().map(|r| r.summary.top_5_bottlenecks.clone()).unwrap_or_default(),
        warnings,
        lines_function,
        requested_sample_hz: cpu.as_ref().map(|c| c.requested_hz),
        effective_sample_hz: cpu.as_ref().map(|c| c.effective_hz),
        sampler: cpu.as_ref().map(describe_sampler),
        cpu_samples: cpu.as_ref().map(|c| c.samples),
        repetitions_profiled: repetitions,
        artefacts,
        bottlenecks: report,
    })
}

/// The top critical function (> 10% own time) that carries line probes; else the probed
/// function with the largest inclusive share; else the first probed function.
fn choose_lines_function(report: Option<&BottleneckReport>, rules: &BottleneckRules) -> String {
    if let Some(r) = report {
        if let Some(b) = r
            .bottlenecks
            .iter()
            .find(|b| bench_core::to_f64(b.percent_tottime) > 10.0 && rules.is_probed(&b.function))
        {
            return b.function.clone();
        }
        if let Some(b) = r
            .bottlenecks
            .iter()
            .filter(|b| rules.is_probed(&b.function))
            .max_by(|a, b| a.percent_cumtime.cmp(&b.percent_cumtime))
        {
            return b.function.clone();
        }
    }
    rules.probed_functions.first().cloned().unwrap_or_default()
}

/// "perf-event task-clock", or "SIGPROF timer (fallback: why perf events were not used)".
pub fn describe_sampler(c: &bench_profile::cpu::CpuProfile) -> String {
    match &c.fallback_reason {
        Some(why) => format!("{} (fallback: {why})", c.sampler.describe()),
        None => c.sampler.describe().to_owned(),
    }
}

/// A warning when few CPU samples have a frame of the application: its stacks were probably cut
/// short (a crate built without frame pointers, so the walk stops in the first frame that has
/// none), or the application prefixes do not match its function names.
pub(crate) fn truncation_warning(
    cpu: &bench_profile::cpu::CpuProfile,
    rules: &BottleneckRules,
) -> Option<String> {
    if rules.application_prefixes.is_empty() || cpu.samples < 50 {
        return None;
    }
    let inside = cpu
        .functions
        .iter()
        .filter(|f| rules.is_application(&f.function))
        .map(|f| f.total_samples)
        .max()
        .unwrap_or(0);
    (inside * 10 < cpu.samples).then(|| {
        format!(
            "only {} of {} CPU samples have a frame of the application ({}): its stacks look truncated — build it with frame pointers (RUSTFLAGS=\"-C force-frame-pointers=yes\") and line tables (debug = \"limited\" in the release profile), or check the prefixes",
            inside,
            cpu.samples,
            rules.application_prefixes.join(", ")
        )
    })
}
