//! `cargo xtask profile`: the profiling pipeline on each workflow, the extended scenarios, and
//! the consolidated report.

use bench_core::RunId;
use bench_report::{
    Comparison, FoldedRequest, ProfilePlan, Profilers, ScenarioOptions, profile_folded, profile_pipeline,
    run_scenarios, write_profile_reports,
};
use bench_workloads::{
    DataSource, LadderStep, PreparedWorkload, WorkflowKind, WorkloadSpec, batch_init_scenarios,
    bottleneck_rules, coordinator_scenarios, load_data, search_scenarios,
};

use crate::cli::{ProfileArgs, ProfileWorkflowArg, ProfilerArg};
use crate::exit::{self, Context, Failure, Outcome};
use crate::{cli, paths};
use bench_report::terminal as progress;

/// Runs the subcommand.
pub fn run(args: ProfileArgs) -> Outcome {
    let run_id = match &args.run_id {
        Some(id) => Some(RunId::new(id).map_err(|e| Failure::input(format!("--run-id: {e}")))?),
        None => None,
    };
    if !(args.min_seconds > 0.0 && args.min_seconds <= 600.0) {
        return Err(Failure::input(format!(
            "--min-seconds {}: expected more than 0 and at most 600",
            args.min_seconds
        )));
    }
    if !(1..=100_000).contains(&args.frequency) {
        return Err(Failure::input(format!("--frequency {}: expected 1 to 100000 Hz", args.frequency)));
    }
    if args.combinations == Some(0) || args.scenario_backtests == 0 {
        return Err(Failure::input("--combinations and --scenario-backtests must be at least 1"));
    }
    let root = args.output_dir.clone().unwrap_or_else(paths::workspace_root);
    let (prof_dir, bench_dir) = (paths::profiling_dir(&root), paths::benchmark_dir(&root));
    if let Some(from) = &args.from {
        let stem = from.file_name().map_or("imported".into(), |n| n.to_string_lossy().into_owned());
        let stem = stem.trim_end_matches(".gz").trim_end_matches(".folded").trim_end_matches(".txt");
        let name = match &run_id {
            Some(id) => RunId::sanitized(&format!("{id}_{stem}")),
            None => RunId::sanitized(stem),
        };
        let request = FoldedRequest {
            stacks: from.clone(),
            calls: args.calls.clone(),
            name,
            title: format!("{} (folded stacks)", paths::display(from)),
            application_prefixes: args.app.clone(),
        };
        let started = bench_measure::sys::now_rfc3339();
        let output = profile_folded(&request, &prof_dir, &bench_dir)?;
        return finish(
            write_profile_reports(vec![output], vec![], &prof_dir, &started, &paths::command_line())?,
            args.json,
        );
    }
    let workers = cli::resolve_workers(args.workers)?;
    use ProfileWorkflowArg as W;
    let both = vec![WorkflowKind::GridSearch, WorkflowKind::WalkForward];
    let (workflows, scenarios): (Vec<WorkflowKind>, Vec<W>) = match args.workflow {
        None => (both, vec![]),
        Some(W::All) => (
            vec![WorkflowKind::GridSearch, WorkflowKind::WalkForward, WorkflowKind::Bohb],
            vec![W::BatchInit, W::ParallelCoordinator, W::SearchMethods],
        ),
        Some(W::GridSearch) => (vec![WorkflowKind::GridSearch], vec![]),
        Some(W::WalkForward) => (vec![WorkflowKind::WalkForward], vec![]),
        Some(W::Bohb) => (vec![WorkflowKind::Bohb], vec![]),
        Some(s) => (vec![], vec![s]),
    };
    if args.with_ray && !scenarios.contains(&W::ParallelCoordinator) {
        return Err(Failure::input(
            "--with-ray measures the parallel-coordinator scenario: add --workflow parallel-coordinator (or all)",
        ));
    }
    let spin = progress::spinner("loading data", args.json);
    let say = |m: &str| spin.set_message(m.to_owned());
    let real = load_data(args.data.as_deref())?;
    let started = bench_measure::sys::now_rfc3339();
    let rules = bottleneck_rules();
    let want = |p: ProfilerArg| args.profiler == ProfilerArg::All || args.profiler == p;
    let profilers = Profilers {
        cpu: want(ProfilerArg::Cpu),
        spans: want(ProfilerArg::Spans),
        lines: want(ProfilerArg::Lines),
        memory: want(ProfilerArg::Memory),
        deep_memory: args.deep_memory,
    };
    let tmp = tempfile::Builder::new().prefix("bench-profile-").tempdir().map_err(Failure::internal)?;
    let mut outputs = Vec::new();
    for kind in workflows {
        let spec = WorkloadSpec { kind, data: DataSource::Bundled, combinations: args.combinations, workers };
        let workload =
            PreparedWorkload::prepare(&spec, &real, &tmp.path().join(format!("{}.bin", kind.cli_name())))
                .context("cannot prepare the workload")?;
        let stem = |step: LadderStep| {
            let s = format!("{}_{}", kind.workflow_type(), step.name());
            RunId::sanitized(&run_id.as_ref().map_or(s.clone(), |id| format!("{id}_{s}")))
        };
        let (step, fastest) = (args.step, LadderStep::fastest());
        let run = || {
            std::hint::black_box(workload.run_or_panic(step.optimizations()));
        };
        let run_fastest = || {
            std::hint::black_box(workload.run_or_panic(fastest.optimizations()));
        };
        let plan = ProfilePlan {
            compare_with: (step != fastest).then(|| Comparison {
                name: stem(fastest),
                label: fastest.name().into(),
                run: &run_fastest,
            }),
            profilers,
            lines_function: args.function.clone(),
            cpu_frequency_hz: args.frequency,
            cpu_sampler: args.sampler,
            min_cpu_seconds: args.min_seconds,
            source_root: paths::workspace_root(),
            keep_runtime_frames: args.keep_runtime_frames,
            ..ProfilePlan::new(stem(step), &workload.describe(), step.name(), &run, &rules)
        };
        outputs.push(profile_pipeline(&plan, &prof_dir, &bench_dir, &say)?);
    }
    let options = ScenarioOptions {
        cpu_frequency_hz: args.frequency,
        cpu_sampler: args.sampler,
        min_flame_seconds: args.min_seconds.min(0.5),
        ..ScenarioOptions::default()
    };
    let mut tables = Vec::new();
    for s in scenarios {
        let set = match s {
            W::BatchInit => batch_init_scenarios(&real, workers, args.scenario_backtests, tmp.path())?,
            W::SearchMethods => search_scenarios(&real, workers, 10)?,
            _ => coordinator_scenarios(&real, args.scenario_backtests)?,
        };
        let mut table = run_scenarios(&set, &options, &prof_dir, &say)?;
        if args.with_ray && s == W::ParallelCoordinator {
            say("parallel_coordinator: the same on Ray (a local instance per worker count)");
            let ray = crate::cli::ray_backend(None, None, 0);
            let doc =
                ray.coordinator(&bench_workloads::WORKER_COUNTS, args.scenario_backtests, tmp.path())?;
            table.ray = Some(serde_json::from_value(doc).map_err(|e| {
                Failure::internal(anyhow::anyhow!("the Ray coordinator measurement's JSON: {e}"))
            })?);
        }
        tables.push(table);
    }
    spin.finish_and_clear();
    finish(write_profile_reports(outputs, tables, &prof_dir, &started, &paths::command_line())?, args.json)
}

/// Prints what a profile run wrote.
fn finish(run: bench_report::ProfileRun, json: bool) -> Outcome {
    if json {
        println!("{}", exit::json(&run.to_json())?);
    } else {
        print!("{}", run.to_text());
        println!("wrote:");
        for f in run.files() {
            println!("  {}", paths::display(&f));
        }
    }
    Ok(exit::SUCCESS)
}
