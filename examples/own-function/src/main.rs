//! Profiling and evaluating *your own* function with the library crates alone.
//!
//! The function is a moving average: a naive version that re-sums every window, and a rolling
//! one. The example checks that both give the same results (the blocking equivalence gate),
//! profiles the naive one (CPU samples with a flame graph, exact span counts, memory, the
//! bottleneck report), and benchmarks both interleaved to accept or reject the rolling one.
//!
//! Run it with `cargo run --release -p example-own-function [OUTPUT_DIR]`.

#![allow(clippy::print_stdout)]

use bench_core::{BottleneckRules, RunId};
use bench_optimizations::{ComparisonMode, PairOptions, Value, evaluate_pair, test_functional_equivalence};
use bench_report::{ProfilePlan, Profilers, profile_pipeline, write_pair_report};
use bench_threshold::OptimizationConfig;

#[global_allocator]
static ALLOC: bench_measure::CountingAlloc = bench_measure::CountingAlloc;

/// Your function, version 1: every window summed from scratch.
#[tracing::instrument(level = "info", skip_all)]
fn moving_average_naive(prices: &[f64], window: usize) -> Vec<f64> {
    prices.windows(window).map(|w| w.iter().sum::<f64>() / window as f64).collect()
}

/// Your function, version 2: a rolling sum.
#[tracing::instrument(level = "info", skip_all)]
fn moving_average_rolling(prices: &[f64], window: usize) -> Vec<f64> {
    let mut sum: f64 = prices[..window].iter().sum();
    let mut out = vec![sum / window as f64];
    for i in window..prices.len() {
        sum += prices[i] - prices[i - window];
        out.push(sum / window as f64);
    }
    out
}

/// A deterministic random walk in whole cents.
fn prices(n: usize) -> Vec<f64> {
    let moves = (0..n).map(|i| 1.0 + ((i * 7919 % 2001) as f64 - 1000.0) / 1e5);
    moves.scan(100.0, |x: &mut f64, m| Some(std::mem::replace(x, (*x * m * 100.0).round() / 100.0))).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out =
        std::env::args().nth(1).map_or_else(|| std::env::temp_dir().join("own-function-example"), Into::into);
    let data = prices(200_000);
    // 1. The gate: the rolling sum must reproduce the naive results (to 1e-10) on test cases.
    let cases = vec![("window 50".into(), (prices(5_000), 50)), ("window 3".into(), (vec![10.0; 500], 3))];
    let results = |f: fn(&[f64], usize) -> Vec<f64>| move |c: &(Vec<f64>, usize)| Value::Array(f(&c.0, c.1));
    let gate = test_functional_equivalence(
        results(moving_average_naive),
        results(moving_average_rolling),
        &cases,
        1e-10,
        ComparisonMode::Array,
    )?;
    println!("equivalence: {} values over {} cases agree", gate.values_compared, gate.cases);
    // 2. Profile the naive version: every profiler but line timings, and the bottleneck report.
    let rules =
        BottleneckRules { application_prefixes: vec!["example_own_function::".into()], ..Default::default() };
    let naive = || drop(moving_average_naive(&data, 50));
    let plan = ProfilePlan {
        profilers: Profilers { lines: false, ..Profilers::ALL },
        min_cpu_seconds: 0.5,
        ..ProfilePlan::new(RunId::new("own_function_naive")?, "moving average", "naive", &naive, &rules)
    };
    let profile = profile_pipeline(&plan, &out, &out, &|_| {})?;
    bench_report::top_bottleneck_lines(&profile.top_5, false).iter().for_each(|line| println!("  {line}"));
    profile.warnings.iter().for_each(|w| println!("warning: {w}"));
    // 3. Benchmark both interleaved, decide on the default thresholds, and write the report.
    let threshold = OptimizationConfig::create_default().fallback().clone();
    let rolling = || drop(moving_average_rolling(&data, 50));
    let decision = evaluate_pair(naive, rolling, &PairOptions::new("moving_average", threshold, &out))?;
    print!("{}", write_pair_report(&decision, "moving average: rolling vs naive", &out)?);
    Ok(())
}
