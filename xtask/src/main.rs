//! `cargo xtask`: the command line of the bench workspace.
//!
//! Subcommands (one module each): `evaluate` judges an optimization, `profile` finds where the
//! time goes, `backtest` runs the engine. Exit codes: 0 success (for a pairwise evaluation:
//! accepted), 1 a pairwise evaluation that was rejected, 2 usage or input error, 3 internal
//! failure. Data goes to stdout, progress and diagnostics to stderr.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod backtest;
mod cli;
mod data;
mod evaluate;
mod exit;
mod progress;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let code = match cli.command {
        cli::Command::Evaluate(args) => evaluate::run(args),
        cli::Command::Backtest(args) => backtest::run(args),
    };
    std::process::exit(exit::report(code));
}
