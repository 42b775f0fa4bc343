//! `cargo xtask calibrate`: this machine's noise for a workload, and how the presets fare on it.

use crate::cli::CalibrateArgs;
use crate::evaluate::setup;
use crate::exit::{self, Outcome};
use crate::paths;
use bench_report::terminal as progress;

/// Runs the subcommand.
pub fn run(args: CalibrateArgs) -> Outcome {
    let preset = args.preset;
    let (mut run, bar) = setup("Calibrating on", &args.ladder, preset, &Default::default())?;
    let stack = args.step.optimizations();
    let (cal, path) = run.calibrate(stack, args.noise_pairs, args.comparisons, crate::flags().yes)?;
    bar.finish_and_clear();
    let text = || progress::paint(&cal.to_text(), progress::colour(false)) + &paths::wrote([&Some(path)]);
    exit::print(&cal, text)?;
    Ok(if cal.aa.comparisons == args.comparisons { exit::SUCCESS } else { exit::INTERRUPTED })
}
