//! `cargo xtask compare`: two commands (or one against a saved baseline), their verdict and report.

use bench_command::{
    CommandComparison, CommandSpec, CompareOptions, CountOptions, SavedBaseline, compare_commands,
    compare_counts, compare_with_saved, record_baseline,
};
use bench_core::RunId;
use bench_report::{
    CompareExports, CompareMeta, compare_bmf, compare_json, compare_text, count_bmf, count_json, count_text,
    write_compare_report, write_count_report,
};

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
    let threshold = args.threshold.threshold()?;
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
        confirmed: crate::flags().yes,
        ..CompareOptions::new("compare", threshold, &paths::profiling_dir(&root))
    };
    bench_measure::stop_gracefully();
    let bar = progress::budget_bar(options.runs as u64, "pairs", crate::flags().json);
    let mut tick = progress::follow_comparison(&bar, specs.len() == 2, crate::flags().json);
    let comparison = match (specs.as_slice(), &args.against, &args.save_baseline) {
        ([b], Some(name), _) => {
            compare_with_saved(&SavedBaseline::load(&baselines, name)?, b, &options, &mut tick)?
        }
        ([a], None, Some(name)) => {
            bar.set_message("runs");
            let (saved, suite) = record_baseline(&baselines, name, a, &options, &mut tick)?;
            bar.finish_and_clear();
            let hint = format!("compare with it later: cargo xtask compare --against {name} 'COMMAND'");
            exit::print(&saved.to_json(), || format!("{}\n{hint}\n", saved.describe(&suite)))?;
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
    let activity = progress::Activity::new("running under Callgrind", "runs", crate::flags().json);
    let c = compare_counts(a, b, &options, &mut |n| activity.count(n as u64, options.runs as u64))?;
    activity.clear();
    let meta = meta(args);
    let path = write_count_report(&c, &meta, dir)?;
    paths::export(&args.export_bmf, &format!("{}\n", exit::json(&count_bmf(&c, &meta))?))?;
    paths::record(&[], &[count_bmf(&c, &meta).to_string()])?;
    paths::export(&args.export_json, &format!("{}\n", exit::json(&count_json(&c, &meta))?))?;
    exit::print(&count_json(&c, &meta), || count_text(&c, &meta) + "\n" + &paths::wrote([&Some(path)]))?;
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
    let (json, markdown, hyperfine, bmf) =
        (&args.export_json, &args.export_markdown, &args.export_hyperfine, &args.export_bmf);
    let exports = CompareExports {
        json: json.as_deref(),
        markdown: markdown.as_deref(),
        hyperfine: hyperfine.as_deref(),
        bmf: bmf.as_deref(),
    };
    let exported = exports.write(c, &meta)?;
    paths::record(&[], &[compare_bmf(c, &meta).to_string()])?;
    if crate::flags().json {
        println!("{}", exit::json(&compare_json(c, &meta))?);
    } else {
        print!("{}", progress::paint(&compare_text(c, &meta), progress::colour(false)));
        println!("\nwrote:");
        files.all().chain(&exported).for_each(|p| println!("  {}", paths::display(p)));
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
