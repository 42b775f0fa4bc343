//! Profiling and evaluating *your own* function with the library crates alone.
//!
//! The function is a moving average: a naive version that re-sums every window, and a rolling
//! one. The example checks that both give the same results (the blocking equivalence gate),
//! profiles the naive one (CPU samples with a flame graph, exact span counts, memory, the
//! bottleneck report), and benchmarks both interleaved to accept or reject the rolling one.
//! The README's library section shows this file whole (a test keeps the two the same).
//!
//! Run it with `cargo run --release -p example-own-function [OUTPUT_DIR]`.
#![allow(clippy::print_stdout)]

use bench_core::{BottleneckRules, RunId};
use bench_optimizations::{ComparisonMode, PairOptions, evaluate_pair, test_functional_equivalence};
use bench_report::{ProfilePlan, profile_pipeline, top_bottleneck_lines, write_pair_report};

#[global_allocator] // heap figures for the profile
static ALLOC: bench_measure::CountingAlloc = bench_measure::CountingAlloc;

#[tracing::instrument(skip_all)] // a span: exact call counts and times in the profile
fn moving_average_naive(prices: &[f64], window: usize) -> Vec<f64> {
    prices.windows(window).map(|w| w.iter().sum::<f64>() / window as f64).collect()
}

#[tracing::instrument(skip_all)]
fn moving_average_rolling(prices: &[f64], window: usize) -> Vec<f64> {
    let mut sum: f64 = prices[..window].iter().sum();
    let mut out = vec![sum / window as f64];
    for i in window..prices.len() {
        sum += prices[i] - prices[i - window];
        out.push(sum / window as f64);
    }
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = &std::env::args().nth(1).map_or("target/own-function".into(), std::path::PathBuf::from);
    let prices = |n: usize| (0..n).map(|i| 100.0 + (i * 7919 % 2001) as f64 / 100.0).collect::<Vec<_>>();
    // 1. The gate (blocking): the rolling sum must reproduce the naive results to 1e-10.
    let cases = [("window 50".into(), (prices(5_000), 50)), ("window 3".into(), (vec![10.0; 500], 3))];
    let run = |f: fn(&[f64], usize) -> Vec<f64>| move |c: &(Vec<f64>, usize)| f(&c.0, c.1).into();
    let (naive_run, rolling_run) = (run(moving_average_naive), run(moving_average_rolling));
    let gate = test_functional_equivalence(naive_run, rolling_run, &cases, 1e-10, ComparisonMode::Array)?;
    println!("equivalence: {} values over {} cases agree", gate.values_compared, gate.cases);
    // 2. Profile the naive version: CPU samples, spans and memory, then the bottleneck report.
    let (data, rules) = (prices(200_000), BottleneckRules::for_application("example_own_function::"));
    let naive = || drop(moving_average_naive(&data, 50));
    let mut plan =
        ProfilePlan::new(RunId::new("own_function_naive")?, "moving average", "naive", &naive, &rules);
    plan.profilers.lines = false; // line timings need #[line_probe] on the function
    let profile = profile_pipeline(&plan, out, out, &|_| {})?;
    top_bottleneck_lines(&profile.top_5, false).iter().chain(&profile.warnings).for_each(|l| println!("{l}"));
    // 3. Both interleaved until the verdict is clear: accepted when the gain is shown to reach 5%.
    let pair =
        evaluate_pair(naive, || drop(moving_average_rolling(&data, 50)), &PairOptions::new("rolling", out))?;
    print!("{}", write_pair_report(&pair, "moving average: rolling vs naive", out)?);
    Ok(())
}
