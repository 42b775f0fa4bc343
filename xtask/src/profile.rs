//! `cargo xtask profile`: profile the workloads with every profiler kind, write bottleneck
//! reports, the extended scenarios and the consolidated report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use bench_core::RunId;
use bench_profile::{ProfileError, ProfileKind, ProfileMetrics, ProfileOptions, profile_workflow};
use bench_report::{Bottleneck, BottleneckReport, analyze_bottlenecks, write_bottleneck_report};
use bench_workloads::{
    DataSource, LadderStep, PROBED_FUNCTIONS, PreparedWorkload, WorkflowKind, WorkloadSpec,
};
use serde::Serialize;

use crate::cli::{ProfileArgs, ProfileWorkflowArg, ProfilerArg};
use crate::{cli, exit, extended, paths, progress};

/// What one workflow's profile produced.
#[derive(Debug, Serialize)]
struct WorkflowProfile {
    workflow: String,
    step: String,
    description: String,
    top_5: Vec<Bottleneck>,
    lines_function: Option<String>,
    effective_sample_hz: Option<String>,
    repetitions_profiled: Option<u64>,
    files: Vec<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: ProfileArgs) -> anyhow::Result<i32> {
    let run_id = match &args.run_id {
        Some(id) => Some(RunId::new(id).map_err(|e| exit::input(format!("--run-id: {e}")))?),
        None => None,
    };
    if !(args.min_seconds > 0.0 && args.min_seconds <= 600.0) {
        return Err(exit::input(format!(
            "--min-seconds {}: expected more than 0 and at most 600",
            args.min_seconds
        )));
    }
    if !(1..=10_000).contains(&args.frequency) {
        return Err(exit::input(format!("--frequency {}: expected 1 to 10000 Hz", args.frequency)));
    }
    if args.combinations == Some(0) || args.scenario_backtests == 0 {
        return Err(exit::input("--combinations and --scenario-backtests must be at least 1"));
    }
    let workers = cli::resolve_workers(args.workers)?;
    let root = args.output_dir.clone().unwrap_or_else(paths::workspace_root);
    let prof_dir = paths::profiling_dir(&root);
    let bench_dir = paths::benchmark_dir(&root);
    let (workflows, scenarios): (Vec<WorkflowKind>, Vec<ProfileWorkflowArg>) = match args.workflow {
        None => (vec![WorkflowKind::GridSearch, WorkflowKind::WalkForward], vec![]),
        Some(ProfileWorkflowArg::All) => (
            vec![WorkflowKind::GridSearch, WorkflowKind::WalkForward],
            vec![ProfileWorkflowArg::BatchInit, ProfileWorkflowArg::ParallelCoordinator],
        ),
        Some(ProfileWorkflowArg::GridSearch) => (vec![WorkflowKind::GridSearch], vec![]),
        Some(ProfileWorkflowArg::WalkForward) => (vec![WorkflowKind::WalkForward], vec![]),
        Some(s) => (vec![], vec![s]),
    };
    let spin = progress::spinner("loading data", args.json);
    let real = crate::data::load_bundle(args.data.as_deref())?;
    let started = bench_profile::sys::now_rfc3339();
    let mut profiles = Vec::new();
    for kind in workflows {
        profiles.push(profile_one(
            kind,
            &args,
            run_id.as_ref(),
            workers,
            &real,
            &prof_dir,
            &bench_dir,
            &|m| spin.set_message(m.to_owned()),
        )?);
    }
    let mut batch = Vec::new();
    let mut coord = Vec::new();
    for s in &scenarios {
        match s {
            ProfileWorkflowArg::BatchInit => {
                batch = extended::batch_init(
                    &real,
                    workers,
                    args.scenario_backtests,
                    &prof_dir,
                    args.frequency,
                    args.min_seconds.min(0.5),
                    &|m| spin.set_message(m.to_owned()),
                )?
            }
            ProfileWorkflowArg::ParallelCoordinator => {
                coord = extended::parallel_coordinator(
                    &real,
                    args.scenario_backtests,
                    &prof_dir,
                    args.frequency,
                    args.min_seconds.min(0.5),
                    &|m| spin.set_message(m.to_owned()),
                )?
            }
            _ => {}
        }
    }
    spin.finish_and_clear();
    let command = paths::command_line();
    let mut extra_files = Vec::new();
    if !batch.is_empty() || !coord.is_empty() {
        let path = prof_dir.join("EXTENDED_OPERATIONS_PROFILING_REPORT.md");
        crate::write_text(&path, &extended::extended_report(&batch, &coord, &prof_dir, &started, &command))?;
        extra_files.push(path);
        extra_files.extend(batch.iter().map(|r| r.flame_graph.clone()));
        extra_files.extend(coord.iter().map(|r| r.flame_graph.clone()));
    }
    let consolidated = prof_dir.join("CONSOLIDATED_PROFILING_REPORT.md");
    crate::write_text(
        &consolidated,
        &consolidated_report(&profiles, &extra_files, &root, &started, &command),
    )?;
    if args.json {
        let doc = serde_json::json!({
            "schema_version": 1,
            "kind": "profile",
            "workflows": profiles,
            "batch_init": batch,
            "parallel_coordinator": coord,
            "files": profiles.iter().flat_map(|p| p.files.iter()).chain(extra_files.iter()).chain(std::iter::once(&consolidated)).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for p in &profiles {
            println!("{} ({}): {}", p.workflow, p.step, p.description);
            if let Some(hz) = &p.effective_sample_hz {
                println!("  CPU sampling: effective {hz} Hz (requested {} Hz)", args.frequency);
            }
            println!("  TOP 5 BOTTLENECKS (own CPU time):");
            for (i, b) in p.top_5.iter().enumerate() {
                println!(
                    "  {}. {}: {}% ± {} own, {}% inclusive ({}) — {:?}",
                    i + 1,
                    b.function,
                    bench_threshold::fmt2(b.percent_tottime),
                    bench_threshold::fmt2(b.percent_tottime_error),
                    bench_threshold::fmt2(b.percent_cumtime),
                    b.ncalls.map_or("calls not instrumented".into(), |c| format!("{c} calls")),
                    b.category
                );
            }
            println!();
        }
        if !batch.is_empty() || !coord.is_empty() {
            print!("{}", extended::extended_report(&batch, &coord, &prof_dir, &started, &command));
        }
        println!("wrote:");
        for f in profiles
            .iter()
            .flat_map(|p| p.files.iter())
            .chain(extra_files.iter())
            .chain(std::iter::once(&consolidated))
        {
            println!("  {}", paths::display(f));
        }
    }
    Ok(exit::SUCCESS)
}

#[allow(clippy::too_many_arguments)]
fn profile_one(
    kind: WorkflowKind,
    args: &ProfileArgs,
    run_id: Option<&RunId>,
    workers: usize,
    real: &bench_workloads::Bundle,
    prof_dir: &Path,
    bench_dir: &Path,
    say: &dyn Fn(&str),
) -> anyhow::Result<WorkflowProfile> {
    let tmp = tempfile::Builder::new().prefix("bench-profile-").tempdir()?;
    let spec = WorkloadSpec { kind, data: DataSource::Bundled, combinations: args.combinations, workers };
    let workload = PreparedWorkload::prepare(&spec, real, &tmp.path().join("bundle.bin"))
        .context("cannot prepare the workload")?;
    let step = args.step;
    let opts = step.optimizations();
    let stem = match run_id {
        Some(id) => format!("{id}_{}_{}", kind.workflow_type(), step.name()),
        None => format!("{}_{}", kind.workflow_type(), step.name()),
    };
    let id = RunId::new(&stem)?;
    let options = ProfileOptions {
        cpu_frequency_hz: args.frequency,
        min_percent: 0.5,
        span_level: tracing::Level::INFO,
        source_root: paths::workspace_root(),
        title: format!("{} — {} step", workload.describe(), step.name()),
    };
    let want = |p: ProfilerArg| args.profiler == ProfilerArg::All || args.profiler == p;
    let run_once = || crate::ladder::run_or_panic(&workload, opts);
    let repeated = |o: bench_workloads::Optimizations| {
        let workload = &workload;
        let min = args.min_seconds;
        move || {
            let t0 = Instant::now();
            let mut n = 0u64;
            while n == 0 || t0.elapsed().as_secs_f64() < min {
                std::hint::black_box(crate::ladder::run_or_panic(workload, o));
                n += 1;
            }
            n
        }
    };
    let mut files = Vec::new();
    let mut cpu = None;
    let mut reps = None;
    if want(ProfilerArg::Cpu) {
        say(&format!("CPU profile of {} ({})", kind.cli_name(), step.name()));
        let (n, out) = profile_workflow(repeated(opts), &ProfileKind::Cpu, prof_dir, &id, &options)?;
        reps = Some(n);
        files.extend(out.files);
        if let ProfileMetrics::Cpu(p) = out.metrics {
            cpu = Some(p);
        }
        // The fastest step, for the differential flame graph.
        let fastest = *LadderStep::ALL.last().expect("non-empty ladder");
        if step != fastest {
            say(&format!("CPU profile of {} ({})", kind.cli_name(), fastest.name()));
            let fid = RunId::new(&format!(
                "{}_{}",
                stem.trim_end_matches(step.name()).trim_end_matches('_'),
                fastest.name()
            ))?;
            let fast_options = ProfileOptions {
                title: format!("{} — {} step", workload.describe(), fastest.name()),
                ..options.clone()
            };
            let (_, out) = profile_workflow(
                repeated(fastest.optimizations()),
                &ProfileKind::Cpu,
                prof_dir,
                &fid,
                &fast_options,
            )?;
            files.extend(out.files);
            if let (ProfileMetrics::Cpu(fast), Some(base)) = (out.metrics, cpu.as_ref()) {
                let svg =
                    prof_dir.join("flame_graphs").join(format!("{stem}_vs_{}_diff.svg", fastest.name()));
                bench_profile::generate_differential_flame_graph(
                    &base.folded,
                    &fast.folded,
                    &svg,
                    &format!("{}: {} → {} (differential)", kind.cli_name(), step.name(), fastest.name()),
                )?;
                files.push(svg);
            }
        }
    }
    let mut spans = None;
    if want(ProfilerArg::Spans) {
        say(&format!("span profile of {} ({})", kind.cli_name(), step.name()));
        let (_, out) = profile_workflow(run_once, &ProfileKind::Spans, prof_dir, &id, &options)?;
        files.extend(out.files);
        if let ProfileMetrics::Spans(p) = out.metrics {
            spans = Some(p);
        }
    }
    let mut memory = None;
    if want(ProfilerArg::Memory) {
        say(&format!("memory profile of {} ({})", kind.cli_name(), step.name()));
        let (_, out) = profile_workflow(
            run_once,
            &ProfileKind::Memory { deep: args.deep_memory },
            prof_dir,
            &id,
            &options,
        )?;
        files.extend(out.files);
        if let ProfileMetrics::Memory(m) = out.metrics {
            memory = Some(m);
        }
    }
    let report: Option<BottleneckReport> = match (&spans, &cpu) {
        (Some(s), Some(c)) => {
            let r = analyze_bottlenecks(&workload.describe(), s, c, memory.as_ref(), &["bench_workloads::"]);
            let (md, json) = write_bottleneck_report(&r, &stem.to_string(), bench_dir)?;
            files.extend([md, json]);
            Some(r)
        }
        _ => None,
    };
    let mut lines_function = None;
    if want(ProfilerArg::Lines) {
        let function = match &args.function {
            Some(f) => f.clone(),
            None => choose_lines_function(report.as_ref()),
        };
        say(&format!("lines profile of {function}"));
        match profile_workflow(
            run_once,
            &ProfileKind::Lines { function: function.clone() },
            prof_dir,
            &id,
            &options,
        ) {
            Ok((_, out)) => {
                files.extend(out.files);
                lines_function = Some(function);
            }
            Err(ProfileError::UnknownFunction { name, known }) => {
                return Err(exit::input(format!(
                    "--function {name}: no line probes ran for it in this workload (probed functions that ran: {known}; annotated in bench-workloads: {})",
                    PROBED_FUNCTIONS.join(", ")
                )));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(WorkflowProfile {
        workflow: kind.cli_name().into(),
        step: step.name().into(),
        description: workload.describe(),
        top_5: report.map(|r| r.summary.top_5_bottlenecks).unwrap_or_default(),
        lines_function,
        effective_sample_hz: cpu.as_ref().map(|c| c.effective_hz.to_string()),
        repetitions_profiled: reps,
        files,
    })
}

/// The top critical function (> 10% own time) that carries line probes; else the probed
/// function with the largest inclusive share; else the first probed function.
fn choose_lines_function(report: Option<&BottleneckReport>) -> String {
    if let Some(r) = report {
        let probed = |f: &str| PROBED_FUNCTIONS.contains(&f);
        if let Some(b) =
            r.bottlenecks.iter().find(|b| bench_core::to_f64(b.percent_tottime) > 10.0 && probed(&b.function))
        {
            return b.function.clone();
        }
        if let Some(b) = r
            .bottlenecks
            .iter()
            .filter(|b| probed(&b.function))
            .max_by(|a, b| a.percent_cumtime.cmp(&b.percent_cumtime))
        {
            return b.function.clone();
        }
    }
    PROBED_FUNCTIONS[0].to_owned()
}

fn consolidated_report(
    profiles: &[WorkflowProfile],
    extra: &[PathBuf],
    root: &Path,
    generated: &str,
    command: &str,
) -> String {
    use std::fmt::Write;
    let rel = |p: &Path| -> String {
        let prof = paths::profiling_dir(root);
        match p.strip_prefix(&prof) {
            Ok(r) => r.display().to_string(),
            Err(_) => p
                .strip_prefix(root)
                .map_or_else(|_| p.display().to_string(), |r| format!("../{}", r.display())),
        }
    };
    let mut s = String::new();
    let _ = writeln!(s, "# Consolidated profiling report");
    let _ = writeln!(s);
    let _ = writeln!(s, "Generated {generated} by `{command}`. Every artefact of this run:");
    let _ = writeln!(s);
    for p in profiles {
        let _ = writeln!(s, "## {} — {} step", p.workflow, p.step);
        let _ = writeln!(s);
        let _ = writeln!(s, "{}.", p.description);
        if let (Some(hz), Some(n)) = (&p.effective_sample_hz, p.repetitions_profiled) {
            let _ = writeln!(
                s,
                "CPU profile: {n} repetition(s) of the workload, effective sampling rate {hz} Hz."
            );
        }
        let _ = writeln!(s);
        if !p.top_5.is_empty() {
            let _ = writeln!(s, "| # | function | own % | inclusive % | calls | category |");
            let _ = writeln!(s, "|---|---|---|---|---|---|");
            for (i, b) in p.top_5.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "| {} | `{}` | {} ± {} | {} | {} | {:?} |",
                    i + 1,
                    b.function,
                    bench_threshold::fmt2(b.percent_tottime),
                    bench_threshold::fmt2(b.percent_tottime_error),
                    bench_threshold::fmt2(b.percent_cumtime),
                    b.ncalls.map_or("—".into(), |c| c.to_string()),
                    b.category
                );
            }
            let _ = writeln!(s);
        }
        for f in &p.files {
            let name = f.file_name().map(|x| x.to_string_lossy().into_owned()).unwrap_or_default();
            let what = if name.ends_with("_diff.svg") {
                "differential flame graph, baseline step vs fastest step"
            } else if name.ends_with(".svg") {
                "flame graph"
            } else if name.ends_with("_bottlenecks.md") {
                "bottleneck report"
            } else if name.ends_with("_bottlenecks.json") {
                "bottleneck report (JSON)"
            } else if name.ends_with("_cpu.json") {
                "CPU function table"
            } else if name.ends_with("_cpu.folded") {
                "folded stacks"
            } else if name.ends_with("_spans.txt") {
                "span table (pstats-like)"
            } else if name.ends_with("_spans.json") {
                "span statistics (JSON)"
            } else if name.ends_with("_trace.json") {
                "Chrome trace (open in Perfetto)"
            } else if name.ends_with("_lines.txt") {
                "line timings"
            } else if name.ends_with("_lines.json") {
                "line timings (JSON)"
            } else if name.ends_with("_memory.json") {
                "memory profile"
            } else if name.ends_with("dhat-heap.json") {
                "dhat heap profile (open in dh_view.html)"
            } else {
                "artefact"
            };
            let _ = writeln!(s, "- [{}]({}) — {what}", name, rel(f));
        }
        let _ = writeln!(s);
    }
    if !extra.is_empty() {
        let _ = writeln!(s, "## Extended scenarios");
        let _ = writeln!(s);
        for f in extra {
            let name = f.file_name().map(|x| x.to_string_lossy().into_owned()).unwrap_or_default();
            let _ = writeln!(s, "- [{}]({})", name, rel(f));
        }
        let _ = writeln!(s);
    }
    s
}
