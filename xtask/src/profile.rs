//! `cargo xtask profile`: the profiling pipeline on each workflow, the extended scenarios, and
//! the consolidated report.

use bench_core::RunId;
use bench_ladder::{Scenario, WorkloadProfiles};
use bench_report::{FoldedRequest, Profilers, profile_folded, write_profile_reports};
use bench_workloads::load_data;

use crate::cli::ProfileArgs;
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
        let id = run_id.as_ref().map(RunId::as_str);
        let request = FoldedRequest::for_file(from, id, args.calls.clone(), args.app.clone());
        let started = bench_measure::sys::now_rfc3339();
        let output = profile_folded(&request, &prof_dir, &bench_dir)?;
        return finish(write_profile_reports(
            vec![output],
            vec![],
            &prof_dir,
            &started,
            &paths::command_line(),
        )?);
    }
    let (workflows, scenarios) = bench_ladder::ProfileTarget::selection(args.workflow);
    if args.with_ray && !scenarios.contains(&Scenario::ParallelCoordinator) {
        return Err(Failure::input(
            "--with-ray measures the parallel-coordinator scenario: add --workflow parallel-coordinator (or all)",
        ));
    }
    let profiles = WorkloadProfiles {
        workflows,
        scenarios,
        step: args.step,
        combinations: args.combinations,
        workers: bench_workloads::resolve_workers(args.workers)?,
        run_id,
        profilers: Profilers::chosen(args.profiler, args.deep_memory),
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
    let spin = progress::spinner("loading data", crate::flags().json);
    let real = load_data(args.data.as_deref())?;
    let started = bench_measure::sys::now_rfc3339();
    let (outputs, tables) =
        profiles.run(&real, &prof_dir, &bench_dir, &|m: &str| spin.set_message(m.to_owned()))?;
    spin.finish_and_clear();
    finish(write_profile_reports(outputs, tables, &prof_dir, &started, &paths::command_line())?)
}

/// Prints what a profile run wrote.
fn finish(run: bench_report::ProfileRun) -> Outcome {
    paths::record(&[], &[run.bmf().to_string()])?;
    let files: Vec<Option<std::path::PathBuf>> = run.files().into_iter().map(Some).collect();
    exit::print(&run.to_json(), || run.to_text() + &paths::wrote(&files))?;
    Ok(exit::SUCCESS)
}
