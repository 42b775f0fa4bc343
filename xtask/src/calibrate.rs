//! `cargo xtask calibrate`: this machine's noise for a workload, and how the presets fare on it.

use crate::cli::CalibrateArgs;
use crate::evaluate::setup;
use crate::exit::{self, Outcome};
use crate::paths;
use bench_report::terminal as progress;

/// Runs the subcommand.
pub fn run(args: CalibrateArgs) -> Outcome {
    let preset = args.preset;
    let (mut run, bar) = setup("Calibrating on", &args.ladder, preset, &Default::default(), args.json)?;
    let stack = args.step.optimizations();
    let (cal, path) = run.calibrate(stack, args.noise_pairs, args.comparisons, crate::confirmed())?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", exit::json(&cal)?);
    } else {
        print!("{}", progress::paint(&cal.to_text(), progress::colour(args.json)));
        println!("wrote {}", paths::display(&path));
    }
    Ok(if cal.aa.comparisons == args.comparisons { exit::SUCCESS } else { exit::INTERRUPTED })
}
