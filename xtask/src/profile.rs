//! `cargo xtask profile`: the profiling pipeline on each workflow, the extended scenarios, and
//! the consolidated report.

use bench_core::RunId;
use bench_ladder::{Scenario, WorkloadProfiles};
use bench_report::{FoldedRequest, Profilers, profile_folded, write_profile_reports};
use bench_workloads::{WorkflowKind, load_data};

use crate::cli::{ProfileArgs, ProfileWorkflowArg, ProfilerArg};
use crate::exit::{self, Failure, Outcome};
use crate::paths;
use bench_report::terminal as progress;

/// Runs the subcommand.
pub fn run(args: ProfileArgs) -> Outcome {
    let run_id = match &args.run_id {
        Some(id) => Some(RunId::new(id).map_err(|e| Failure::input(format!("--run-id: {e}")))?),
        None => None,
    };
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
    use ProfileWorkflowArg as W;
    let both = vec![WorkflowKind::GridSearch, WorkflowKind::WalkForward];
    let all_scenarios = vec![Scenario::BatchInit, Scenario::ParallelCoordinator, Scenario::SearchMethods];
    let (workflows, scenarios) = match args.workflow {
        None => (both, vec![]),
        Some(W::All) => ([both, vec![WorkflowKind::Bohb]].concat(), all_scenarios),
        Some(W::GridSearch) => (vec![WorkflowKind::GridSearch], vec![]),
        Some(W::WalkForward) => (vec![WorkflowKind::WalkForward], vec![]),
        Some(W::Bohb) => (vec![WorkflowKind::Bohb], vec![]),
        Some(W::BatchInit) => (vec![], vec![Scenario::BatchInit]),
        Some(W::ParallelCoordinator) => (vec![], vec![Scenario::ParallelCoordinator]),
        Some(W::SearchMethods) => (vec![], vec![Scenario::SearchMethods]),
    };
    if args.with_ray && !scenarios.contains(&Scenario::ParallelCoordinator) {
        return Err(Failure::input(
            "--with-ray measures the parallel-coordinator scenario: add --workflow parallel-coordinator (or all)",
        ));
    }
    let want = |p: ProfilerArg| args.profiler == ProfilerArg::All || args.profiler == p;
    let profiles = WorkloadProfiles {
        workflows,
        scenarios,
        step: args.step,
        combinations: args.combinations,
        workers: bench_workloads::resolve_workers(args.workers)?,
        run_id,
        profilers: Profilers {
            cpu: want(ProfilerArg::Cpu),
            spans: want(ProfilerArg::Spans),
            lines: want(ProfilerArg::Lines),
            memory: want(ProfilerArg::Memory),
            deep_memory: args.deep_memory,
        },
        lines_function: args.function.clone(),
        cpu_frequency_hz: args.frequency,
        cpu_sampler: args.sampler,
        min_cpu_seconds: args.min_seconds,
        source_root: paths::workspace_root(),
        keep_runtime_frames: args.keep_runtime_frames,
        scenario_backtests: args.scenario_backtests,
        ray: args
            .with_ray
            .then(|| bench_workloads::RayBackend::new(crate::paths::ray_python(), None, None, 0)),
    };
    let spin = progress::spinner("loading data", args.json);
    let real = load_data(args.data.as_deref())?;
    let started = bench_measure::sys::now_rfc3339();
    let (outputs, tables) =
        profiles.run(&real, &prof_dir, &bench_dir, &|m: &str| spin.set_message(m.to_owned()))?;
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
