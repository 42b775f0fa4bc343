//! Every rung of the ladder under the four metrics side by side: the median wall time and CPU
//! time of native runs (the rungs interleaved round by round), and the instructions and
//! estimated cycles of the measured region under Callgrind, each with its change from the rung
//! below, as a Markdown table on stdout.
//!
//! `cargo run --release -p bench-ladder --example ladder_metrics -- [COMBINATIONS] [WORKERS] [ROUNDS]`
//! (default: the grid-search workflow on the bundled data, 90 combinations per asset, 2
//! workers, 7 rounds). Needs valgrind.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use bench_workloads::{DataSource, WorkflowKind, WorkloadSpec};

fn main() {
    // The counted children are this program started again with a request.
    bench_ladder::serve_count_request();
    let arg = |i: usize, default: usize| {
        std::env::args().nth(i).map_or(default, |a| {
            a.parse().unwrap_or_else(|_| {
                eprintln!("error: argument {i} ({a:?}) must be a whole number; usage: ladder_metrics [COMBINATIONS] [WORKERS] [ROUNDS]");
                std::process::exit(2)
            })
        })
    };
    let spec = WorkloadSpec {
        kind: WorkflowKind::GridSearch,
        data: DataSource::Bundled,
        combinations: Some(arg(1, 90)),
        workers: arg(2, 2),
    };
    let exe = std::env::current_exe().expect("the path of this program");
    match bench_ladder::rung_metrics(&exe, &spec, arg(3, 7), &mut |what| eprintln!("{what}")) {
        Ok(rows) => print!("{}", bench_ladder::rung_metrics_markdown(&rows)),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2)
        }
    }
}
