//! `cargo xtask evaluate`: a pairwise evaluation of two timing files, the sequential evaluation
//! of the optimization ladder, or an A/A calibration.

use bench_ladder::{Backend, LadderOptions, LadderRun};
use bench_report::{PairwiseRequest, aa_text, evaluate_files, performance_json, sequence_summary};
use bench_threshold::{OptimizationConfig, Preset, Verdict};
use bench_workloads::{DataSource, LadderStep, WorkloadSpec};

use crate::cli::{EvaluateArgs, LadderArgs};
use crate::exit::{self, Failure, Outcome};
use crate::paths;
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
            e.warnings.iter().for_each(|w| eprintln!("warning: {w}"));
            exit::print(&e.to_json(), || progress::paint(&e.to_text(), progress::colour(false)))?;
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
) -> Result<(LadderRun, progress::ProgressBar), Failure> {
    let json = crate::flags().json;
    let workers = bench_workloads::resolve_workers(ladder.workers)?;
    let backend = Backend::of(ladder.backend.ray(ladder.workers)?, ladder.backend.ray_chunk);
    let root = ladder.output_dir.clone().unwrap_or_else(paths::workspace_root);
    let options = LadderOptions {
        spec: WorkloadSpec {
            kind: ladder.workflow,
            data: DataSource::of(ladder.workload, ladder.assets, ladder.bars, ladder.seed),
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
        stamp: bench_measure::sys::file_stamp(),
    };
    let spin = progress::spinner("preparing the workload", json);
    let mut run = LadderRun::prepare(&options, &mut |what| spin.set_message(what.to_owned()))?;
    spin.finish_and_clear();
    let bar = progress::budget_bar(run.harness.pairs as u64, "", json);
    run.harness.progress = Some(Box::new(progress::follow_pairs(&bar)));
    if !json {
        run.plan_lines(doing, preset).iter().for_each(|line| eprintln!("{line}"));
    }
    Ok((run, bar))
}

/// The ladder evaluation (or the A/A calibration with `--aa`).
fn ladder(args: &EvaluateArgs) -> Outcome {
    let preset: Preset = args.threshold.preset;
    let doing = if args.metric.is_some() { "Counting" } else { "Evaluating" };
    let (mut run, bar) = setup(doing, &args.ladder, preset, &args.threshold.overrides())?;
    if let Some(metric) = args.metric {
        return counted(&run, metric, &bar);
    }
    let config = OptimizationConfig::from_preset(preset);
    let goal = args.goal.unwrap_or(config.goal_improvement_percent);
    if goal <= rust_decimal::Decimal::ZERO || goal >= rust_decimal::Decimal::ONE_HUNDRED {
        return Err(Failure::input(format!("--goal {goal}: expected a percentage above 0 and below 100")));
    }
    bench_measure::stop_gracefully();
    // One timed baseline run plans the time: every step, then the direct baseline → final check
    // (or the A/A repetitions). A plan that cannot finish within an hour needs --yes.
    let comparisons = args.aa.unwrap_or(LadderStep::optimizations_to_evaluate().count() + 1);
    let expected = run.expected_time(preset, comparisons);
    expected.admit("the evaluation", crate::flags().yes)?;
    if !crate::flags().json {
        eprintln!("expected time: {expected}");
    }
    if let Some(n) = args.aa {
        bar.set_length(n as u64);
        bar.set_message("A/A repetitions");
        let (cal, doc, path) = run.calibrate_aa(args.step.optimizations(), n)?;
        bar.finish_and_clear();
        exit::print(&doc, || aa_text(&cal, &run.main.describe()) + &paths::wrote([&Some(path)]))?;
        return Ok(if cal.complete() { exit::SUCCESS } else { exit::INTERRUPTED });
    }
    let report = run.evaluate(goal, args.continue_after_goal);
    bar.finish_and_clear();
    let (files, meta) = run.write_report(&report, preset, &paths::command_line())?;
    paths::record(files.bmf.as_slice(), &[])?;
    if crate::flags().json {
        println!("{}", exit::json(&performance_json(&report, &meta))?);
    } else {
        print!("{}", progress::paint(&sequence_summary(&report), progress::colour(false)));
        println!("\nwrote:");
        files.all().for_each(|p| println!("  {}", paths::display(p)));
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

/// The ladder decided on a count under Callgrind (`--metric`): each stack counted in this
/// program started again, its results checked as the time-based evaluation checks them.
fn counted(run: &LadderRun, metric: bench_command::CountMetric, bar: &progress::ProgressBar) -> Outcome {
    bar.set_length(3);
    let (steps, bmf) = run.count(metric, &mut |step, n| {
        bar.set_message(format!("{step}: runs under Callgrind"));
        bar.set_position(n as u64);
    })?;
    bar.finish_and_clear();
    paths::record(std::slice::from_ref(&bmf), &[])?;
    let text = || progress::paint(&bench_ladder::count_ladder_text(&steps), progress::colour(false));
    exit::print(&steps, || text() + &paths::wrote([&Some(bmf)]))?;
    Ok(exit::SUCCESS)
}
