//! `cargo xtask evaluate` without files: the ladder of bench-workloads evaluated in sequence.

use std::io::Write as _;

use anyhow::Context;
use bench_core::Workload;
use bench_report::{ReportMeta, performance_json, write_performance_report};
use bench_sequential::{
    Decision, SequenceConfig, SequenceReport, WorkloadHarness, evaluate_optimization_sequence,
};
use bench_threshold::{DatasetSizeCategory, OptimizationConfig, Preset, Verdict, fmt2, format_p};
use bench_workloads::{DataSource, Optimizations, PreparedWorkload, WorkflowKind};

use crate::cli::{EvaluateArgs, WorkloadArg};
use crate::{cli, exit, ladder, paths, progress};

/// Runs the ladder evaluation (or the A/A calibration with `--aa`).
pub fn run(args: &EvaluateArgs) -> anyhow::Result<i32> {
    let kind: WorkflowKind = args.workflow.into();
    let derived = args.workload == WorkloadArg::Derived;
    if derived && (args.bars < 300 || args.assets == 0) {
        return Err(exit::input(format!(
            "--bars {} / --assets {}: derived data needs at least 300 bars and 1 asset",
            args.bars, args.assets
        )));
    }
    if args.combinations == Some(0) {
        return Err(exit::input("--combinations must be at least 1"));
    }
    let workers = cli::resolve_workers(args.workers)?;
    let root = args.output_dir.clone().unwrap_or_else(paths::workspace_root);
    let prof_dir = paths::profiling_dir(&root);
    let bench_dir = paths::benchmark_dir(&root);
    let preset: Preset = args.preset.into();
    let config = OptimizationConfig::from_preset(preset);

    let spin = progress::spinner("preparing the workload", args.json);
    let real = crate::data::load_bundle(None)?;
    let data = if derived {
        DataSource::Derived { assets: args.assets, bars: args.bars, seed: args.seed }
    } else {
        DataSource::Bundled
    };
    let combinations = args.combinations.or(derived.then_some(100));
    let tmp = tempfile::Builder::new()
        .prefix("bench-evaluate-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let (main, cases) = ladder::prepare(kind, data, combinations, workers, &real, tmp.path())?;
    spin.finish_and_clear();
    let ch = main.characteristics();
    let category = DatasetSizeCategory::from_rows(ch.dataset_size);
    let threshold = config.get_threshold(kind.workflow_type(), category.as_str()).clone();
    let pairs = args.runs.unwrap_or(threshold.min_sample_size);
    if pairs < 2 {
        return Err(exit::input(format!("--runs {pairs}: at least 2 pairs are needed for a paired t-test")));
    }
    let goal = args.goal.unwrap_or(config.goal_improvement_percent);
    if goal <= rust_decimal::Decimal::ZERO || goal >= rust_decimal::Decimal::ONE_HUNDRED {
        return Err(exit::input(format!("--goal {goal}: expected a percentage above 0 and below 100")));
    }
    let name = format!("{}_{}", kind.workflow_type(), if derived { "derived" } else { "bundled" });
    let prefix = format!("{name}_{}", paths::stamp());
    let workload = Workload {
        dataset_size: ch.dataset_size,
        parameter_combinations: ch.parameter_combinations,
        backtest_count: ch.backtest_count,
    };
    let runner = main.clone();
    let mut harness = WorkloadHarness::new(
        cases,
        Box::new(|o: &Optimizations, w: &PreparedWorkload| {
            ladder::results_value(&ladder::run_or_panic(w, *o))
        }),
        Box::new(move |o: &Optimizations| {
            std::hint::black_box(ladder::run_or_panic(&runner, *o));
            ladder::inject_fault();
        }),
        Box::new(ladder::describe),
        pairs,
        prof_dir.clone(),
        &prefix,
        kind.workflow_type(),
        workload,
    );
    let bar = progress::bar(pairs as u64, "", args.json);
    let bar2 = bar.clone();
    harness.progress = Some(Box::new(move |label: &str, done: usize, total: usize| {
        bar2.set_length(total as u64);
        bar2.set_position(done as u64);
        bar2.set_message(format!("{label}: pairs"));
    }));
    if !args.json {
        eprintln!("Evaluating {}", main.describe());
        eprintln!(
            "threshold {}/{} ({preset}): improvement ≥ {}%, p < {}, memory ≤ {}%, {} pairs; goal {}%",
            threshold.workflow_type,
            threshold.dataset_size_category,
            fmt2(threshold.min_improvement_percent),
            threshold.alpha(),
            fmt2(threshold.max_memory_increase_percent),
            pairs,
            fmt2(goal)
        );
    }
    if let Some(n) = args.aa {
        bar.finish_and_clear();
        crate::GRACEFUL_INTERRUPT.store(true, std::sync::atomic::Ordering::SeqCst);
        return aa(args, n, &main, &threshold, &mut harness, &bench_dir, &name);
    }
    crate::GRACEFUL_INTERRUPT.store(true, std::sync::atomic::Ordering::SeqCst);
    let report = evaluate_optimization_sequence(
        &ladder::ladder_optimizations(),
        &Optimizations::default(),
        &threshold,
        &SequenceConfig {
            goal_improvement_percent: goal,
            stop_on_goal: !args.continue_after_goal,
            verify_final: true,
        },
        &mut harness,
    );
    bar.finish_and_clear();
    let environment =
        report.steps.iter().find_map(|s| s.baseline_raw.as_deref()).and_then(bench_report::environment_of);
    let meta = ReportMeta {
        name: name.clone(),
        title: format!(
            "{} on {} data",
            kind.cli_name().replace('-', " "),
            if derived { "derived" } else { "real" }
        ),
        command: paths::command_line(),
        generated: bench_profile::sys::now_rfc3339(),
        workload_description: main.describe(),
        workload,
        preset: preset.to_string(),
        environment,
    };
    let files = write_performance_report(&report, &meta, &bench_dir)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&performance_json(&report, &meta))?);
    } else {
        print!("{}", summary(&report));
        println!();
        println!("wrote:");
        for p in [Some(&files.markdown), Some(&files.json), files.chart.as_ref(), Some(&files.bmf)]
            .into_iter()
            .flatten()
        {
            println!("  {}", paths::display(p));
        }
        let raws: Vec<&std::path::Path> = report
            .steps
            .iter()
            .flat_map(|s| [s.baseline_raw.as_deref(), s.candidate_raw.as_deref()])
            .flatten()
            .collect();
        println!("  {} raw-data files under {}", raws.len(), paths::display(&prof_dir.join("raw_data")));
    }
    let _ = std::io::stdout().flush();
    let failed_runs: usize = report
        .steps
        .iter()
        .flat_map(|s| [s.baseline_raw.as_deref(), s.candidate_raw.as_deref()])
        .flatten()
        .filter_map(|p| bench_core::RawData::read(p).ok())
        .map(|r| r.failed_runs.len())
        .sum();
    if !report.complete {
        eprintln!("interrupted: the report above covers what completed and is marked INCOMPLETE");
        return Ok(exit::INTERRUPTED);
    }
    if failed_runs > 0 {
        eprintln!(
            "error: {failed_runs} measured run(s) of the workload panicked; they are recorded as failed in the raw data (exit code 3)"
        );
        return Ok(exit::INTERNAL);
    }
    Ok(exit::SUCCESS)
}

/// The summary table printed after a ladder evaluation.
pub fn summary(r: &SequenceReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>2}  {:<20} {:<11} {:>11} {:>9} {:>10} {:>11} {:>7}  decision",
        "#", "optimization", "equivalence", "improvement", "speedup", "p-value", "memory", "MDE"
    );
    for st in &r.steps {
        let eq = if st.equivalence.passed { "pass" } else { "FAIL" };
        let decision = match st.decision {
            Decision::Accepted => "ACCEPTED",
            Decision::Rejected => "rejected",
            Decision::Blocked => "BLOCKED",
            Decision::Failed => "failed",
        };
        match &st.evaluation {
            Some(e) => {
                let mem = e.memory_increase_percent.map_or("n/a".into(), |m| format!("{}%", fmt2(m)));
                let _ = writeln!(
                    s,
                    "{:>2}  {:<20} {:<11} {:>10}% {:>8}× {:>10} {:>11} {:>6}%  {decision}",
                    st.position,
                    st.name,
                    eq,
                    fmt2(e.improvement_percent),
                    bench_core::round_display(e.speedup_ratio, 2),
                    format_p(bench_core::to_f64(e.p_value)),
                    mem,
                    fmt2(e.minimum_detectable_effect_percent)
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "{:>2}  {:<20} {:<11} {:>11} {:>9} {:>10} {:>11} {:>7}  {decision}",
                    st.position, st.name, eq, "—", "—", "—", "—", "—"
                );
            }
        }
        if st.decision != Decision::Accepted {
            let _ = writeln!(s, "      {}", first_sentence(&st.rationale));
        }
    }
    let direct = r.direct_improvement_percent.map_or("not run".into(), |d| format!("{}%", fmt2(d)));
    let _ = writeln!(
        s,
        "\ncumulative improvement {}% (product of accepted steps); direct check baseline → final {}; goal {}% {}; stopped: {}",
        fmt2(r.cumulative_improvement_percent),
        direct,
        fmt2(r.goal_improvement_percent),
        if r.goal_achieved { "achieved" } else { "not achieved" },
        serde_json::to_value(r.stop_reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    );
    if !r.not_evaluated.is_empty() {
        let _ = writeln!(s, "not evaluated (stopped first): {}", r.not_evaluated.join(", "));
    }
    s
}

fn first_sentence(s: &str) -> String {
    let cut = s.find(". ").map_or(s.len(), |i| i + 1);
    s[..cut].to_owned()
}

/// A/A calibration: the same implementation as its own candidate, `n` times.
fn aa(
    args: &EvaluateArgs,
    n: usize,
    main: &PreparedWorkload,
    threshold: &bench_threshold::PerformanceThreshold,
    harness: &mut WorkloadHarness<Optimizations, PreparedWorkload>,
    bench_dir: &std::path::Path,
    name: &str,
) -> anyhow::Result<i32> {
    use bench_sequential::SequenceHarness;
    let stack = args.step.optimizations();
    let mut rows = Vec::new();
    let mut wrongly = 0;
    let bar = crate::progress::bar(n as u64, "A/A repetitions", args.json);
    for i in 0..n {
        if bench_profile::interrupt_requested() {
            break;
        }
        bar.set_position(i as u64);
        let out = harness.benchmark(&stack, &stack, &format!("aa{i}"))?;
        let e = bench_sequential::evaluate_paired(&out, threshold).map_err(anyhow::Error::msg)?;
        if e.verdict == Verdict::Accepted {
            wrongly += 1;
        }
        rows.push(serde_json::json!({
            "repetition": i + 1,
            "improvement_percent": e.improvement_percent,
            "p_value": e.p_value,
            "minimum_detectable_effect_percent": e.minimum_detectable_effect_percent,
            "verdict": e.verdict,
            "failed_criteria": e.failed_criteria,
        }));
    }
    bar.finish_and_clear();
    let done = rows.len();
    let significant = rows
        .iter()
        .filter(|r| r["p_value"].as_f64().is_some_and(|p| p < bench_core::to_f64(threshold.alpha())))
        .count();
    let doc = serde_json::json!({
        "schema_version": 1,
        "kind": "aa_calibration",
        "workload": main.describe(),
        "implementation": ladder::describe(&stack),
        "pairs_per_comparison": harness.pairs,
        "repetitions": done,
        "wrongly_accepted": wrongly,
        "significant_at_alpha": significant,
        "alpha": threshold.alpha(),
        "threshold": threshold,
        "rows": rows,
    });
    let path = bench_dir.join(format!("{name}_aa.json"));
    bench_core::write_atomic(&path, format!("{}\n", serde_json::to_string_pretty(&doc)?).as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!(
            "A/A calibration of {} ({}), {} pairs per comparison:",
            ladder::describe(&stack),
            main.describe(),
            harness.pairs
        );
        println!(
            "  wrongly accepted {wrongly} of {done}; significant at α = {}: {significant} of {done}",
            threshold.alpha()
        );
        println!("wrote {}", paths::display(&path));
    }
    Ok(if done == n { exit::SUCCESS } else { exit::INTERRUPTED })
}
