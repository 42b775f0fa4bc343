//! `cargo xtask evaluate`: a pairwise evaluation of two timing files, the sequential evaluation
//! of the optimization ladder, or an A/A calibration.

use bench_core::RunId;
use bench_ladder::{Backend, LadderOptions, LadderRun, ladder_optimizations};
use bench_optimizations::{Design, SequenceConfig, calibrate_aa, evaluate_optimization_sequence};
use bench_report::{
    PairwiseRequest, ReportMeta, aa_json, aa_text, evaluate_files, performance_json, sequence_summary,
    write_performance_report,
};
use bench_threshold::{OptimizationConfig, Preset, Verdict};
use bench_workloads::{DataSource, LadderStep, Optimizations, WorkloadSpec};

use crate::cli::{EvaluateArgs, LadderArgs, WorkloadArg};
use crate::exit::{self, Failure, Outcome};
use crate::{cli, paths};
use bench_report::terminal as progress;

/// Runs the subcommand and returns the exit code.
pub fn run(args: EvaluateArgs) -> Outcome {
    match (&args.baseline, &args.candidate) {
        (Some(b), Some(c)) => {
            let request = PairwiseRequest {
                baseline_result: args.baseline_result.as_deref(),
                candidate_result: args.candidate_result.as_deref(),
                overrides: args.threshold.overrides(),
                ..PairwiseRequest::new(b, c, args.threshold.preset)
            };
            let e = evaluate_files(&request)?;
            if args.json {
                println!("{}", exit::json(&e.to_json())?);
            } else {
                for w in &e.warnings {
                    eprintln!("warning: {w}");
                }
                print!("{}", progress::paint(&e.to_text(), progress::colour(args.json)));
            }
            Ok(if e.evaluation.verdict == Verdict::Accepted { exit::SUCCESS } else { exit::REJECTED })
        }
        _ => ladder(&args),
    }
}

/// Prepares the ladder run of `ladder` (a spinner while it prepares) and prints what it will
/// do; `doing` heads it ("Evaluating", "Calibrating on"). Returns the run and the progress bar
/// its harness drives.
pub fn setup(
    doing: &str,
    ladder: &LadderArgs,
    preset: Preset,
    overrides: &bench_threshold::ThresholdOverrides,
    json: bool,
) -> Result<(LadderRun, progress::ProgressBar), Failure> {
    let workers = cli::resolve_workers(ladder.workers)?;
    let backend = match ladder.backend.ray(ladder.workers)? {
        Some(backend) => Backend::Ray { backend, chunk: ladder.backend.ray_chunk },
        None => Backend::Rayon,
    };
    let root = ladder.output_dir.clone().unwrap_or_else(paths::workspace_root);
    let options = LadderOptions {
        spec: WorkloadSpec {
            kind: ladder.workflow,
            data: if ladder.workload == WorkloadArg::Derived {
                DataSource::Derived { assets: ladder.assets, bars: ladder.bars, seed: ladder.seed }
            } else {
                DataSource::Bundled
            },
            combinations: ladder.combinations,
            workers,
        },
        backend,
        preset,
        overrides: *overrides,
        overridden_by: "the command line".into(),
        sampling: ladder.sampling.request(),
        profiling_dir: paths::profiling_dir(&root),
        benchmark_dir: paths::benchmark_dir(&root),
        stamp: paths::stamp(),
    };
    let spin = progress::spinner("preparing the workload", json);
    let mut run = LadderRun::prepare(&options, &mut |what| spin.set_message(what.to_owned()))?;
    spin.finish_and_clear();
    let bar = progress::bar(run.harness.pairs as u64, "", json);
    let shown = bar.clone();
    run.harness.progress = Some(Box::new(move |label: &str, done: usize, total: usize| {
        shown.set_length(total as u64);
        shown.set_position(done as u64);
        shown.set_message(format!("{label}: pairs"));
    }));
    if !json {
        eprintln!("{doing} {}", run.main.describe());
        eprintln!("{}", run.threshold_line(preset));
        if run.main.runs_on_ray() {
            eprintln!(
                "on Ray: times include Ray's scheduling; memory is not measured (the backtests allocate in the Ray workers)"
            );
        }
        if let (Some(c), Design::Adaptive(p), Some(typical)) =
            (&run.calibration, run.design, run.typical_pairs(preset))
        {
            eprintln!(
                "calibration of {} ({}): about {typical:.0} pairs per comparison on its noise; each comparison takes at most {}",
                c.implementation,
                c.generated,
                bench_core::units::duration(p.max_seconds)
            );
        }
    }
    Ok((run, bar))
}

/// The ladder evaluation (or the A/A calibration with `--aa`).
fn ladder(args: &EvaluateArgs) -> Outcome {
    let preset: Preset = args.threshold.preset;
    let (mut run, bar) = setup("Evaluating", &args.ladder, preset, &args.threshold.overrides(), args.json)?;
    let typical_pairs = run.typical_pairs(preset);
    let config = OptimizationConfig::from_preset(preset);
    let goal = args.goal.unwrap_or(config.goal_improvement_percent);
    if goal <= rust_decimal::Decimal::ZERO || goal >= rust_decimal::Decimal::ONE_HUNDRED {
        return Err(Failure::input(format!("--goal {goal}: expected a percentage above 0 and below 100")));
    }
    let derived = args.ladder.workload == WorkloadArg::Derived;
    let kind: bench_workloads::WorkflowKind = args.ladder.workflow;
    crate::GRACEFUL_INTERRUPT.store(true, std::sync::atomic::Ordering::SeqCst);
    // One timed baseline run plans the time: every step, then the direct baseline → final check
    // (or the A/A repetitions). A plan that cannot finish within an hour needs --yes.
    let comparisons = args.aa.unwrap_or(LadderStep::optimizations_to_evaluate().count() + 1);
    let run_seconds = run.time_one_run(Optimizations::default());
    let expected = run.design.expected_time(run_seconds, comparisons, run.harness.pairs, typical_pairs);
    expected.admit("the evaluation", crate::confirmed())?;
    if !args.json {
        eprintln!("expected time: {expected}");
    }
    if let Some(n) = args.aa {
        bar.set_length(n as u64);
        bar.set_message("A/A repetitions");
        let stack = args.step.optimizations();
        let cal = calibrate_aa(&mut run.harness, &stack, &run.threshold, run.design, n, &mut |_, _| {})?;
        bar.finish_and_clear();
        let doc = aa_json(&cal, &run.main.describe());
        let path = run.benchmark_dir.join(format!("{}_aa.json", run.name));
        bench_core::write_atomic(&path, format!("{}\n", exit::json(&doc)?).as_bytes())
            .map_err(|e| Failure::internal(e).context(format!("cannot write {}", path.display())))?;
        if args.json {
            println!("{}", exit::json(&doc)?);
        } else {
            print!("{}", aa_text(&cal, &run.main.describe()));
            println!("wrote {}", paths::display(&path));
        }
        return Ok(if cal.complete() { exit::SUCCESS } else { exit::INTERRUPTED });
    }
    let optimizations = ladder_optimizations();
    let sequence = SequenceConfig {
        goal_improvement_percent: goal,
        stop_on_goal: !args.continue_after_goal,
        verify_final: true,
        design: run.design,
    };
    let report = evaluate_optimization_sequence(
        &optimizations,
        &Optimizations::default(),
        &run.threshold,
        &sequence,
        &mut run.harness,
    );
    bar.finish_and_clear();
    let meta = ReportMeta {
        name: RunId::sanitized(&run.name).to_string(),
        title: format!(
            "{} on {} data",
            kind.cli_name().replace('-', " "),
            if derived { "derived" } else { "real" }
        ),
        command: paths::command_line(),
        generated: bench_measure::sys::now_rfc3339(),
        workload_description: run.main.describe(),
        workload: run.workload,
        preset: preset.to_string(),
        environment: report.environment.clone(),
    };
    let files = write_performance_report(&report, &meta, &run.benchmark_dir)?;
    if args.json {
        println!("{}", exit::json(&performance_json(&report, &meta))?);
    } else {
        print!("{}", progress::paint(&sequence_summary(&report), progress::colour(args.json)));
        println!("\nwrote:");
        for p in [Some(&files.markdown), Some(&files.json), files.chart.as_ref(), Some(&files.bmf)]
            .into_iter()
            .flatten()
            .chain(&files.paths)
        {
            println!("  {}", paths::display(p));
        }
        println!(
            "  {} raw-data files under {}",
            report.raw_files().len(),
            paths::display(&run.profiling_dir.join("raw_data"))
        );
    }
    if !report.complete {
        eprintln!("interrupted: the report above covers what completed and is marked INCOMPLETE");
        return Ok(exit::INTERRUPTED);
    }
    let failed = report.failed_runs();
    if failed > 0 {
        eprintln!(
            "error: {failed} measured run(s) of the workload panicked; they are recorded as failed in the raw data (exit code 3)"
        );
        return Ok(exit::INTERNAL);
    }
    Ok(exit::SUCCESS)
}
