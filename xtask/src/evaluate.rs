//! `cargo xtask evaluate`: a pairwise evaluation of two timing files, the sequential evaluation
//! of the optimization ladder, or an A/A calibration.

use bench_core::{RunId, Workload};
use bench_ladder::{LadderHarness, ladder_harness, ladder_optimizations, ladder_threshold};
use bench_report::{
    Calibration, PairwiseRequest, ReportMeta, aa_json, aa_text, evaluate_files, performance_json,
    sequence_summary, write_performance_report,
};
use bench_sequential::{Design, SequenceConfig, calibrate_aa, evaluate_optimization_sequence};
use bench_threshold::{OptimizationConfig, Preset, Verdict};
use bench_workloads::{
    DataSource, LadderEvaluation, LadderStep, Optimizations, PreparedWorkload, WorkloadSpec, load_data,
};

use crate::cli::{EvaluateArgs, LadderArgs, WorkloadArg};
use crate::exit::{self, Context, Failure, Outcome};
use crate::{cli, paths, progress};

/// Runs the subcommand and returns the exit code.
pub fn run(args: EvaluateArgs) -> Outcome {
    match (&args.baseline, &args.candidate) {
        (Some(b), Some(c)) => {
            let request = PairwiseRequest {
                baseline_result: args.baseline_result.as_deref(),
                candidate_result: args.candidate_result.as_deref(),
                overrides: args.threshold.overrides(),
                ..PairwiseRequest::new(b, c, args.threshold.preset.into())
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

/// A ladder workload ready to compare implementations of: the harness, its threshold and
/// design, where results go.
pub struct Setup {
    /// The workload timed.
    pub main: PreparedWorkload,
    /// Compares stacks of the ladder.
    pub harness: LadderHarness,
    /// The threshold (preset, overrides applied).
    pub threshold: bench_threshold::PerformanceThreshold,
    /// Fixed or adaptive.
    pub design: Design,
    /// `grid_search_bundled` and the like.
    pub name: String,
    /// Its workload characteristics.
    pub workload: Workload,
    /// profiling-results/.
    pub prof_dir: std::path::PathBuf,
    /// benchmark-results/.
    pub bench_dir: std::path::PathBuf,
    /// Where a comparison usually stops, from this machine's calibration.
    pub typical_pairs: Option<f64>,
    /// The progress bar the harness drives.
    pub bar: indicatif::ProgressBar,
    /// Holds the workload's bundle files: keep it alive as long as the harness.
    pub tmp: tempfile::TempDir,
}

/// Prepares the workload of `ladder` and a harness over it; `doing` heads what is printed
/// ("Evaluating", "Calibrating").
pub fn setup(
    doing: &str,
    ladder: &LadderArgs,
    preset: Preset,
    overrides: &bench_threshold::ThresholdOverrides,
    json: bool,
) -> Result<Setup, Failure> {
    let derived = ladder.workload == WorkloadArg::Derived;
    if derived && (ladder.bars < 300 || ladder.assets == 0) {
        return Err(Failure::input(format!(
            "--bars {} / --assets {}: derived data needs at least 300 bars and 1 asset",
            ladder.bars, ladder.assets
        )));
    }
    if ladder.combinations == Some(0) {
        return Err(Failure::input("--combinations must be at least 1"));
    }
    let workers = cli::resolve_workers(ladder.workers)?;
    let ray = ladder.backend.ray(ladder.workers)?;
    if ray.is_some() && ladder.workflow == cli::WorkflowArg::Bohb {
        return Err(Failure::input(
            "--backend ray runs grid-search and walk-forward; the bohb workflow runs in this process",
        ));
    }
    let root = ladder.output_dir.clone().unwrap_or_else(paths::workspace_root);
    let (prof_dir, bench_dir) = (paths::profiling_dir(&root), paths::benchmark_dir(&root));
    let config = OptimizationConfig::from_preset(preset);
    let spin = progress::spinner("preparing the workload", json);
    let real = load_data(None)?;
    let spec = WorkloadSpec {
        kind: ladder.workflow.into(),
        data: if derived {
            DataSource::Derived { assets: ladder.assets, bars: ladder.bars, seed: ladder.seed }
        } else {
            DataSource::Bundled
        },
        combinations: ladder.combinations.or(derived.then_some(100)),
        workers,
    };
    let tmp = tempfile::Builder::new().prefix("bench-evaluate-").tempdir().map_err(Failure::internal)?;
    let mut evaluation =
        LadderEvaluation::prepare(&spec, &real, tmp.path()).context("cannot prepare the workload")?;
    if let Some(ray) = ray {
        spin.set_message("starting or joining the Ray cluster");
        let session = std::sync::Arc::new(std::sync::Mutex::new(ray.start(tmp.path())?));
        evaluation = evaluation.on_ray(session, ladder.backend.ray_chunk)?;
    }
    spin.finish_and_clear();
    let threshold =
        ladder_threshold(&config, &evaluation.main).with_overrides(overrides, "the command line")?;
    // A calibration of this machine says where comparisons usually stop (for the expected time).
    let calibration = Calibration::read(&bench_dir);
    let (pairs, design) = ladder.sampling.design(&threshold)?;
    let name = format!("{}_{}", spec.kind.workflow_type(), if derived { "derived" } else { "bundled" });
    let (main, mut harness) =
        ladder_harness(evaluation, pairs, prof_dir.clone(), &format!("{name}_{}", paths::stamp()));
    let workload = harness.workload;
    let on_ray = main.runs_on_ray();
    let bar = progress::bar(pairs as u64, "", json);
    let shown = bar.clone();
    harness.progress = Some(Box::new(move |label: &str, done: usize, total: usize| {
        shown.set_length(total as u64);
        shown.set_position(done as u64);
        shown.set_message(format!("{label}: pairs"));
    }));
    if !json {
        eprintln!("{doing} {}", main.describe());
        eprintln!(
            "threshold for {} ({preset} preset, {} rule): {}, memory ≤ {}% (or < {}), {}",
            threshold.applies_to(),
            threshold.rule.as_str(),
            match threshold.rule {
                bench_threshold::Rule::Strict => format!(
                    "the {}% lower bound of the improvement of mean time ≥ {}%",
                    (threshold.statistical_confidence * rust_decimal::Decimal::ONE_HUNDRED).normalize(),
                    threshold.min_improvement_percent
                ),
                bench_threshold::Rule::Classic => format!(
                    "improvement ≥ {}% and p < {}",
                    threshold.min_improvement_percent,
                    threshold.alpha()
                ),
            },
            threshold.max_memory_increase_percent,
            bench_core::units::bytes(threshold.memory_floor_bytes),
            match design {
                Design::Fixed => format!("{pairs} pairs per comparison"),
                Design::Adaptive(p) => format!(
                    "adaptive: {} to {} pairs or {} per comparison",
                    p.min_pairs,
                    p.max_pairs,
                    bench_core::units::duration_short(p.max_seconds)
                ),
            }
        );
        if on_ray {
            eprintln!(
                "on Ray: times include Ray's scheduling; memory is not measured (the backtests allocate in the Ray workers)"
            );
        }
        if let (Some(c), Design::Adaptive(p), Some(typical)) =
            (&calibration, design, calibration.as_ref().and_then(|c| c.expected_pairs(preset)))
        {
            eprintln!(
                "calibration of {} ({}): about {typical:.0} pairs per comparison on its noise; each comparison takes at most {}",
                c.implementation,
                c.generated,
                bench_core::units::duration(p.max_seconds)
            );
        }
    }
    let typical_pairs = calibration.as_ref().and_then(|c| c.expected_pairs(preset));
    Ok(Setup {
        main,
        harness,
        threshold,
        design,
        name,
        workload,
        prof_dir,
        bench_dir,
        typical_pairs,
        bar,
        tmp,
    })
}

/// The ladder evaluation (or the A/A calibration with `--aa`).
fn ladder(args: &EvaluateArgs) -> Outcome {
    let preset: Preset = args.threshold.preset.into();
    let Setup {
        main,
        mut harness,
        threshold,
        design,
        name,
        workload,
        prof_dir,
        bench_dir,
        typical_pairs,
        bar,
        tmp: _tmp,
    } = setup("Evaluating", &args.ladder, preset, &args.threshold.overrides(), args.json)?;
    let config = OptimizationConfig::from_preset(preset);
    let goal = args.goal.unwrap_or(config.goal_improvement_percent);
    if goal <= rust_decimal::Decimal::ZERO || goal >= rust_decimal::Decimal::ONE_HUNDRED {
        return Err(Failure::input(format!("--goal {goal}: expected a percentage above 0 and below 100")));
    }
    let derived = args.ladder.workload == WorkloadArg::Derived;
    let kind: bench_workloads::WorkflowKind = args.ladder.workflow.into();
    crate::GRACEFUL_INTERRUPT.store(true, std::sync::atomic::Ordering::SeqCst);
    // One timed baseline run plans the time: every step, then the direct baseline → final check
    // (or the A/A repetitions). A plan that cannot finish within an hour needs --yes.
    let comparisons = args.aa.unwrap_or(LadderStep::optimizations_to_evaluate().count() + 1);
    let t0 = std::time::Instant::now();
    std::hint::black_box(main.run_or_panic(Optimizations::default()));
    let run_seconds = t0.elapsed().as_secs_f64();
    let expected = design.expected_time(run_seconds, comparisons, harness.pairs, typical_pairs);
    expected.admit("the evaluation", crate::confirmed())?;
    if !args.json {
        eprintln!("expected time: {expected}");
    }
    if let Some(n) = args.aa {
        bar.set_length(n as u64);
        bar.set_message("A/A repetitions");
        let stack = args.step.optimizations();
        let cal = calibrate_aa(&mut harness, &stack, &threshold, design, n, &mut |_, _| {})?;
        bar.finish_and_clear();
        let doc = aa_json(&cal, &main.describe());
        let path = bench_dir.join(format!("{name}_aa.json"));
        bench_core::write_atomic(&path, format!("{}\n", exit::json(&doc)?).as_bytes())
            .map_err(|e| Failure::internal(e).context(format!("cannot write {}", path.display())))?;
        if args.json {
            println!("{}", exit::json(&doc)?);
        } else {
            print!("{}", aa_text(&cal, &main.describe()));
            println!("wrote {}", paths::display(&path));
        }
        return Ok(if cal.complete() { exit::SUCCESS } else { exit::INTERRUPTED });
    }
    let optimizations = ladder_optimizations();
    let sequence = SequenceConfig {
        goal_improvement_percent: goal,
        stop_on_goal: !args.continue_after_goal,
        verify_final: true,
        design,
    };
    let report = evaluate_optimization_sequence(
        &optimizations,
        &Optimizations::default(),
        &threshold,
        &sequence,
        &mut harness,
    );
    bar.finish_and_clear();
    let meta = ReportMeta {
        name: RunId::sanitized(&name).to_string(),
        title: format!(
            "{} on {} data",
            kind.cli_name().replace('-', " "),
            if derived { "derived" } else { "real" }
        ),
        command: paths::command_line(),
        generated: bench_measure::sys::now_rfc3339(),
        workload_description: main.describe(),
        workload,
        preset: preset.to_string(),
        environment: report.environment.clone(),
    };
    let files = write_performance_report(&report, &meta, &bench_dir)?;
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
            paths::display(&prof_dir.join("raw_data"))
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
