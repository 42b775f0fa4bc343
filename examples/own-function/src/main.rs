//! Profiling and evaluating *your own* function with the library crates alone.
//!
//! The function here is a moving average: a naive version that re-sums every window and an
//! optimized rolling version. The example
//! 1. checks that both give the same results (the BLOCKING equivalence gate),
//! 2. profiles the naive one (CPU samples with a flame graph, span call counts, memory),
//! 3. benchmarks both interleaved in ABBA pairs and accepts or rejects the rolling version on
//!    the default thresholds.
//!
//! Run it with `cargo run --release -p example-own-function [OUTPUT_DIR]`.

#![allow(clippy::print_stdout)]

use bench_core::RunId;
use bench_profile::{
    PairedConfig, ProfileKind, ProfileMetrics, ProfileOptions, SuiteConfig, profile_workflow,
    run_paired_suite,
};
use bench_sequential::{ComparisonMode, Value, test_functional_equivalence};
use bench_threshold::{MemoryComparison, OptimizationConfig, evaluate_threshold};

#[global_allocator]
static ALLOC: bench_profile::CountingAlloc = bench_profile::CountingAlloc;

/// Your function, version 1: every window summed from scratch.
#[tracing::instrument(level = "info", skip_all)]
fn moving_average_naive(prices: &[f64], window: usize) -> Vec<f64> {
    prices.windows(window).map(|w| w.iter().sum::<f64>() / window as f64).collect()
}

/// Your function, version 2: a rolling sum.
#[tracing::instrument(level = "info", skip_all)]
fn moving_average_rolling(prices: &[f64], window: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(prices.len().saturating_sub(window) + 1);
    let mut sum: f64 = prices[..window].iter().sum();
    out.push(sum / window as f64);
    for i in window..prices.len() {
        sum += prices[i] - prices[i - window];
        out.push(sum / window as f64);
    }
    out
}

fn prices(n: usize) -> Vec<f64> {
    // A deterministic random walk in whole cents.
    let mut x = 100.0f64;
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            x = (x * (1.0 + ((s % 2001) as f64 - 1000.0) / 100_000.0) * 100.0).round() / 100.0;
            x
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("own-function-example"));
    let data = prices(200_000);
    let window = 50;
    let workload_naive = || moving_average_naive(&data, window);
    let workload_rolling = || moving_average_rolling(&data, window);

    // 1. The equivalence gate: the rolling sum must reproduce the naive results (to 1e-10).
    let cases: Vec<(String, (Vec<f64>, usize))> = vec![
        ("random walk, window 50".into(), (prices(5_000), 50)),
        ("random walk, window 3".into(), (prices(1_000), 3)),
        ("constant series".into(), (vec![10.0; 500], 20)),
    ];
    let gate = test_functional_equivalence(
        |c: &(Vec<f64>, usize)| Value::Array(moving_average_naive(&c.0, c.1)),
        |c: &(Vec<f64>, usize)| Value::Array(moving_average_rolling(&c.0, c.1)),
        &cases,
        1e-10,
        ComparisonMode::Array,
    )?;
    println!(
        "equivalence: {} values over {} cases, largest scaled difference {:.1e}",
        gate.values_compared, gate.cases, gate.max_scaled_difference
    );

    // 2. Profile the naive version.
    let options = ProfileOptions { title: "moving_average_naive".into(), ..Default::default() };
    let id = RunId::new("own_function_naive")?;
    let (_, cpu) = profile_workflow(
        || (0..200).map(|_| workload_naive().len()).sum::<usize>(),
        &ProfileKind::Cpu,
        &out_dir,
        &id,
        &options,
    )?;
    if let ProfileMetrics::Cpu(p) = &cpu.metrics {
        println!(
            "cpu: {} samples at an effective {} Hz; top functions by total share:",
            p.samples, p.effective_hz
        );
        for f in p.functions.iter().filter(|f| f.function.contains("moving_average")).take(3) {
            println!("  {:>6}% ± {}  {}", f.total_percent, f.total_percent_error, f.function);
        }
    }
    let (_, spans) =
        profile_workflow(|| workload_naive().len(), &ProfileKind::Spans, &out_dir, &id, &options)?;
    if let ProfileMetrics::Spans(s) = &spans.metrics {
        print!("{}", s.to_text());
    }
    let (_, mem) = profile_workflow(
        || workload_naive().len(),
        &ProfileKind::Memory { deep: false },
        &out_dir,
        &id,
        &options,
    )?;
    if let ProfileMetrics::Memory(m) = &mem.metrics {
        println!(
            "memory: heap peak {:?} bytes, {} allocations",
            m.heap_peak_bytes,
            m.allocations.unwrap_or(0)
        );
    }

    // 3. Benchmark both, interleaved, and decide.
    let cfg = |name: &str| SuiteConfig::new(0, name, "moving_average", Default::default(), &out_dir);
    let config = PairedConfig { pairs: 10, seed: 42, baseline: cfg("naive")?, candidate: cfg("rolling")? };
    let paired = run_paired_suite(workload_naive, workload_rolling, &config, &mut |_, _| {})?;
    let b = bench_core::Measurements::from_raw(&paired.baseline.raw, &paired.baseline.raw_path)?;
    let c = bench_core::Measurements::from_raw(&paired.candidate.raw, &paired.candidate.raw_path)?;
    let memory = bench_core::Measurements::common_memory_peak(&b, &c)
        .map(|(metric, x, y)| MemoryComparison { metric, baseline_bytes: x, candidate_bytes: y });
    let threshold = OptimizationConfig::create_default().fallback().clone();
    let verdict = evaluate_threshold(&b.times, &c.times, memory, &threshold)?;
    println!("{}", verdict.decision_rationale);
    println!("files written under {}:", out_dir.display());
    for f in cpu
        .files
        .iter()
        .chain(&spans.files)
        .chain(&mem.files)
        .chain([&paired.baseline.raw_path, &paired.candidate.raw_path])
    {
        println!("  {}", f.display());
    }
    Ok(())
}
