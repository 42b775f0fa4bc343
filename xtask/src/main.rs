//! `cargo xtask`: the command line of the bench workspace — flags, folders and exit codes; the
//! work itself is library calls (bench-report, bench-optimizations, bench-workloads, …).
//!
//! Subcommands (one module each): `evaluate` judges an optimization, `profile` finds where the
//! time goes, `calibrate` measures the machine's noise, `compare` judges any two commands,
//! `backtest` runs the engine. Exit codes: 0 success (for a pairwise evaluation:
//! accepted), 1 a pairwise evaluation that was rejected, 2 usage or input error, 3 internal
//! failure, 130 interrupted. Data goes to stdout, progress and diagnostics to stderr.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod backtest;
mod calibrate;
mod cli;
mod compare;
mod evaluate;
mod exit;
mod history;
mod paths;
mod profile;

use clap::Parser;

/// Heap figures for every measured run come from the counting allocator.
#[global_allocator]
static ALLOC: bench_measure::CountingAlloc = bench_measure::CountingAlloc;

fn main() {
    // `evaluate --metric` starts this program again under Callgrind to count one stack.
    bench_ladder::serve_count_request();
    let cli = cli::Cli::parse();
    bench_core::limits::set_memory_limit_from(cli.global.max_memory, "--max-memory");
    FLAGS.set(cli.global.clone()).expect("set once");
    // --record needs a commit: refused before anything is measured, not after.
    if let Some(Err(e)) = cli.global.record.then(|| bench_history::Source::current(".".as_ref())) {
        std::process::exit(exit::report(Err(exit::Failure::input(format!("--record: {e}")))));
    }
    // Graceful commands keep what completed on the first Ctrl-C (see install_interrupt_handler).
    if let Err(e) = bench_measure::install_interrupt_handler(exit::INTERRUPTED) {
        eprintln!("warning: cannot install the Ctrl-C handler: {e}");
    }
    let outcome = match cli.command {
        cli::Command::Evaluate(args) => evaluate::run(args),
        cli::Command::Backtest(args) => backtest::run(args),
        cli::Command::Profile(args) => profile::run(args),
        cli::Command::Calibrate(args) => calibrate::run(args),
        cli::Command::Compare(args) => compare::run(args),
        cli::Command::History { action } => history::run(action),
    };
    std::process::exit(exit::report(outcome));
}

/// The global flags (`--yes`, `--json`, `--record`, …), set once from the command line.
static FLAGS: std::sync::OnceLock<cli::Global> = std::sync::OnceLock::new();

/// The global flags.
pub(crate) fn flags() -> &'static cli::Global {
    FLAGS.get().expect("set in main")
}
