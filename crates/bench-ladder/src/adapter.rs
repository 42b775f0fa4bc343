//! The optimization ladder of `bench-workloads` as a sequential evaluation: its steps as
//! optimizations, a harness that times a prepared workload and checks equivalence on its cases,
//! and the threshold that fits the workload.

use std::path::PathBuf;

use bench_core::Workload;
use bench_optimizations::{Optimization, WorkloadHarness};
use bench_threshold::{DatasetSizeCategory, OptimizationConfig, PerformanceThreshold};
use bench_workloads::{LadderEvaluation, LadderStep, Optimizations, PreparedWorkload};

/// A harness over the ladder: stacks of [`Optimizations`], equivalence cases that are prepared
/// workloads.
pub type LadderHarness = WorkloadHarness<Optimizations, PreparedWorkload>;

/// The ladder's steps in evaluation order, each applied on top of the stack accepted so far.
pub fn ladder_optimizations() -> Vec<Optimization<Optimizations>> {
    LadderStep::optimizations_to_evaluate()
        .map(|step| Optimization {
            name: step.name().to_owned(),
            description: step.description().to_owned(),
            apply: Box::new(move |s: &Optimizations| step.on_top_of(*s)),
        })
        .collect()
}

/// The workload characteristics a report records for `main`.
pub fn ladder_workload(main: &PreparedWorkload) -> Workload {
    let ch = main.characteristics();
    Workload {
        dataset_size: ch.dataset_size,
        parameter_combinations: ch.parameter_combinations,
        backtest_count: ch.backtest_count,
    }
}

/// The threshold of `config` for `main`'s workflow and dataset size.
pub fn ladder_threshold(config: &OptimizationConfig, main: &PreparedWorkload) -> PerformanceThreshold {
    let rows = main.characteristics().dataset_size;
    config
        .get_threshold(main.spec.kind.workflow_type(), DatasetSizeCategory::from_rows(rows).as_str())
        .clone()
}

/// A harness that times `evaluation.main` with `pairs` pairs per comparison and checks every
/// candidate's results against the accepted stack's on `evaluation.cases`; raw data goes under
/// `output_dir` with run ids prefixed `run_prefix`. Memory is measured only when the backtests
/// run in this process: on Ray they allocate in the workers, and this process's heap would
/// judge the coordinator, not the candidate. Returns the timed workload beside the harness.
pub fn ladder_harness(
    evaluation: LadderEvaluation,
    pairs: usize,
    output_dir: PathBuf,
    run_prefix: &str,
) -> (PreparedWorkload, LadderHarness) {
    let LadderEvaluation { main, cases } = evaluation;
    let timed = main.clone();
    let mut harness = WorkloadHarness::new(
        cases,
        |o: &Optimizations, w: &PreparedWorkload| w.run_or_panic(*o).to_value(),
        move |o: &Optimizations| drop(std::hint::black_box(timed.run_timed(*o))),
        output_dir,
    )
    .describe(Optimizations::describe)
    .pairs(pairs)
    .recorded_as(run_prefix, main.spec.kind.workflow_type(), ladder_workload(&main));
    harness.measure_memory = !main.runs_on_ray();
    (main, harness)
}
