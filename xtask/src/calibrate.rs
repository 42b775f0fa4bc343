//! `cargo xtask calibrate`: this machine's noise for a workload, and how the presets fare on it.

use bench_threshold::AdaptivePlan;

use crate::cli::CalibrateArgs;
use crate::evaluate::setup;
use crate::exit::{self, Failure, Outcome};
use crate::paths;
use bench_report::terminal as progress;

/// Runs the subcommand.
pub fn run(args: CalibrateArgs) -> Outcome {
    if args.noise_pairs < 4 || args.comparisons == 0 {
        return Err(Failure::input("--noise-pairs must be at least 4 and --comparisons at least 1"));
    }
    let preset = args.preset;
    let (mut run, bar) = setup("Calibrating on", &args.ladder, preset, &Default::default(), args.json)?;
    let plan = match run.design {
        bench_optimizations::Design::Adaptive(p) => p,
        bench_optimizations::Design::Fixed => AdaptivePlan::default_for(&run.threshold),
    };
    // The noise suite alone takes --noise-pairs pairs, and every A/A comparison its first look.
    let seconds = run.time_one_run(args.step.optimizations());
    bench_optimizations::Design::Fixed
        .expected_time(seconds, 1, args.noise_pairs + args.comparisons * plan.min_pairs, None)
        .admit("the calibration", crate::confirmed())?;
    bench_measure::stop_gracefully();
    let cal = bench_report::calibrate(
        &mut run.harness,
        &args.step.optimizations(),
        &run.main.describe(),
        &run.threshold,
        &plan,
        args.noise_pairs,
        args.comparisons,
        &bench_measure::sys::now_rfc3339(),
    )?;
    bar.finish_and_clear();
    let path = cal.write(&run.benchmark_dir)?;
    if args.json {
        println!("{}", exit::json(&cal)?);
    } else {
        print!("{}", progress::paint(&cal.to_text(), progress::colour(args.json)));
        println!("wrote {}", paths::display(&path));
    }
    Ok(if cal.aa.comparisons == args.comparisons { exit::SUCCESS } else { exit::INTERRUPTED })
}
