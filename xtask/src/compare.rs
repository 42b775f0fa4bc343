//! `cargo xtask compare`: two commands (or one against a saved baseline), their verdict and report.

use bench_command::{
    CommandComparison, CommandSpec, CompareOptions, CountOptions, SavedBaseline, compare_commands,
    compare_counts, compare_with_saved, hyperfine_export, record_baseline,
};
use bench_core::RunId;
use bench_report::{
    CompareMeta, compare_bmf, compare_json, compare_markdown, compare_text, count_bmf, count_json,
    count_text, write_compare_report, write_count_report,
};
use bench_threshold::OptimizationConfig;

use crate::cli::CompareArgs;
use crate::exit::{self, Failure, Outcome};
use crate::paths;
use bench_report::terminal as progress;

/// Runs the subcommand.
pub fn run(args: CompareArgs) -> Outcome {
    let root = args.output_dir.clone().unwrap_or_else(paths::workspace_root);
    let (bench_dir, baselines) = (paths::benchmark_dir(&root), paths::baselines_dir(&root));
    let shell = args.shell;
    let specs = args.commands.iter().map(|c| CommandSpec::parse(c, shell)).collect::<Result<Vec<_>, _>>()?;
    let preset = args.threshold.preset;
    let threshold = OptimizationConfig::from_preset(preset)
        .fallback()
        .clone()
        .with_overrides(&args.threshold.overrides(), "the command line")?;
    if let Some(metric) = args.metric.count() {
        return counts(&specs, CountOptions::new(metric, threshold), &args, &bench_dir);
    }
    let (runs, design) = args.sampling.request().resolve(&threshold)?;
    if let Some(name) = &args.save_baseline {
        SavedBaseline::check_name(name)?;
    }
    let options = CompareOptions {
        name: RunId::sanitized(&format!("{}_{}", args.name, bench_measure::sys::file_stamp())).to_string(),
        design,
        runs,
        warmup_runs: args.warmup,
        prepare: args.prepare.as_deref().map(|p| CommandSpec::parse(p, shell)).transpose()?,
        metric: args.metric.time().unwrap_or_default(),
        ignore_failure: args.ignore_failure,
        check: args.check_output,
        seed: args.seed,
        confirmed: crate::confirmed(),
        ..CompareOptions::new("compare", threshold, &paths::profiling_dir(&root))
    };
    bench_measure::stop_gracefully();
    let bar = progress::budget_bar(options.runs as u64, "pairs", args.json);
    let mut tick = progress::follow_comparison(&bar, specs.len() == 2, args.json);
    let comparison = match (specs.as_slice(), &args.against, &args.save_baseline) {
        ([b], Some(name), _) => {
            compare_with_saved(&SavedBaseline::load(&baselines, name)?, b, &options, &mut tick)?
        }
        ([a], None, Some(name)) => {
            bar.set_message("runs");
            let (saved, suite) = record_baseline(&baselines, name, a, &options, &mut tick)?;
            bar.finish_and_clear();
            if args.json {
                println!("{}", exit::json(&saved.to_json())?);
            } else {
                println!("{}", saved.describe(&suite));
                println!("compare with it later: cargo xtask compare --against {name} 'COMMAND'");
            }
            let complete = suite.raw.status == bench_core::SuiteStatus::Complete;
            return Ok(if complete { exit::SUCCESS } else { exit::INTERRUPTED });
        }
        ([a, b], None, _) => compare_commands(a, b, &options, &mut tick)?,
        ([_, _], Some(_), _) => {
            return Err(Failure::input(
                "--against NAME compares ONE command with the saved baseline NAME; give only the candidate",
            ));
        }
        _ => {
            return Err(Failure::input(
                "give two commands ('A' 'B'), one command with --against NAME, or one command with --save-baseline NAME",
            ));
        }
    };
    bar.finish_and_clear();
    if let (Some(name), Some(raw)) = (&args.save_baseline, &comparison.baseline.raw) {
        let now = bench_measure::sys::now_rfc3339();
        SavedBaseline::save(&baselines, name, &specs[0].text, shell, raw, &comparison.baseline_stdout, &now)?;
    }
    finish(&comparison, &args, &bench_dir)
}

/// Two commands decided on a count under Callgrind: the report, the BMF export, the verdict.
fn counts(specs: &[CommandSpec], o: CountOptions, args: &CompareArgs, dir: &std::path::Path) -> Outcome {
    let mut options = CountOptions { check: args.check_output, ..o };
    options.callgrind.prepare =
        args.prepare.as_deref().map(|p| CommandSpec::parse(p, args.shell)).transpose()?;
    let ([a, b], None, None) = (specs, &args.against, &args.save_baseline) else {
        return Err(Failure::input("--metric instructions|estimated-cycles compares two commands ('A' 'B')"));
    };
    let activity = progress::Activity::new("running under Callgrind", "runs", args.json);
    let c = compare_counts(a, b, &options, &mut |n| activity.count(n as u64, options.runs as u64))?;
    activity.clear();
    let meta = meta(args);
    let path = write_count_report(&c, &meta, dir)?;
    paths::export(&args.export_bmf, &format!("{}\n", exit::json(&count_bmf(&c, &meta))?))?;
    paths::export(&args.export_json, &format!("{}\n", exit::json(&count_json(&c, &meta))?))?;
    match args.json {
        true => println!("{}", exit::json(&count_json(&c, &meta))?),
        false => print!("{}\nwrote:\n  {}\n", count_text(&c, &meta), paths::display(&path)),
    }
    Ok(if c.decision == bench_optimizations::Decision::Accepted { exit::SUCCESS } else { exit::REJECTED })
}

fn meta(args: &CompareArgs) -> CompareMeta {
    CompareMeta {
        name: RunId::sanitized(&args.name).to_string(),
        command: paths::command_line(),
        generated: bench_measure::sys::now_rfc3339(),
        preset: args.threshold.preset,
    }
}

/// Writes the report and the exports, prints the verdict, returns the exit code.
fn finish(c: &CommandComparison, args: &CompareArgs, bench_dir: &std::path::Path) -> Outcome {
    let meta = meta(args);
    let files = write_compare_report(c, &meta, bench_dir)?;
    let json = compare_json(c, &meta);
    paths::export(&args.export_json, &format!("{}\n", exit::json(&json)?))?;
    paths::export(&args.export_markdown, &compare_markdown(c, &meta, None))?;
    paths::export(&args.export_hyperfine, &format!("{}\n", exit::json(&hyperfine_export(c))?))?;
    paths::export(&args.export_bmf, &format!("{}\n", exit::json(&compare_bmf(c, &meta))?))?;
    if args.json {
        println!("{}", exit::json(&json)?);
    } else {
        print!("{}", progress::paint(&compare_text(c, &meta), progress::colour(false)));
        println!("\nwrote:");
        for p in [Some(&files.markdown), Some(&files.json), files.path_svg.as_ref()].into_iter().flatten() {
            println!("  {}", paths::display(p));
        }
        for p in [&args.export_json, &args.export_markdown, &args.export_hyperfine].into_iter().flatten() {
            println!("  {}", paths::display(p));
        }
        if let Some(name) = &args.save_baseline {
            println!("  baseline {name:?} saved: compare with it later with --against {name}");
        }
    }
    Ok(if !c.complete {
        exit::INTERRUPTED
    } else if c.accepted() {
        exit::SUCCESS
    } else {
        exit::REJECTED
    })
}
