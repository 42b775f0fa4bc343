//! The bench-workloads ladder wired for evaluation: workloads, equivalence cases and results.

use std::path::Path;

use anyhow::Context;
use bench_sequential::{Optimization, Value};
use bench_workloads::{
    Bundle, DataSource, LadderStep, Optimizations, PreparedWorkload, WorkflowKind, WorkloadOutput,
    WorkloadSpec,
};

/// The optimizations above the baseline, in priority order.
pub fn ladder_optimizations() -> Vec<Optimization<Optimizations>> {
    LadderStep::ALL
        .into_iter()
        .skip(1)
        .map(|step| Optimization {
            name: step.name().to_owned(),
            description: step.description().to_owned(),
            apply: Box::new(move |s: &Optimizations| step.on_top_of(*s)),
        })
        .collect()
}

/// The ladder steps a set of switches contains, e.g. `baseline + batch-init + indicator-cache`.
pub fn describe(o: &Optimizations) -> String {
    let mut parts = vec!["baseline".to_owned()];
    for step in LadderStep::ALL.into_iter().skip(1) {
        if step.on_top_of(*o) == *o {
            parts.push(step.name().to_owned());
        }
    }
    parts.join(" + ")
}

/// A workload's results as a record for the equivalence gate.
pub fn results_value(out: &WorkloadOutput) -> Value {
    let metric_arrays = |ms: Vec<&bench_workloads::Metrics>| -> Vec<(String, Value)> {
        vec![
            ("trades".into(), Value::Array(ms.iter().map(|m| f64::from(m.trades)).collect())),
            ("final_equity".into(), Value::Array(ms.iter().map(|m| m.final_equity).collect())),
            (
                "total_return_percent".into(),
                Value::Array(ms.iter().map(|m| m.total_return_percent).collect()),
            ),
            (
                "max_drawdown_percent".into(),
                Value::Array(ms.iter().map(|m| m.max_drawdown_percent).collect()),
            ),
            ("sharpe_ratio".into(), Value::Array(ms.iter().map(|m| m.sharpe_ratio).collect())),
            ("exposure_percent".into(), Value::Array(ms.iter().map(|m| m.exposure_percent).collect())),
        ]
    };
    match out {
        WorkloadOutput::Grid(g) => {
            let mut fields = metric_arrays(g.combos.iter().map(|c| &c.metrics).collect());
            fields.push(("best_index".into(), Value::Scalar(g.best.map_or(f64::NAN, |b| b as f64))));
            Value::Record(fields)
        }
        WorkloadOutput::WalkForward(w) => {
            let mut fields = metric_arrays(w.windows.iter().map(|x| &x.out_of_sample).collect());
            fields.push((
                "fast".into(),
                Value::Array(w.windows.iter().map(|x| f64::from(x.params.fast)).collect()),
            ));
            fields.push((
                "slow".into(),
                Value::Array(w.windows.iter().map(|x| f64::from(x.params.slow)).collect()),
            ));
            fields.push((
                "stitched_equity".into(),
                Value::Array(w.stitched.iter().flat_map(|c| c.equity.iter().copied()).collect()),
            ));
            fields.push(("efficiency".into(), Value::Scalar(w.efficiency.unwrap_or(f64::NAN))));
            fields.push(("parameter_stability".into(), Value::Scalar(w.parameter_stability)));
            Value::Record(fields)
        }
    }
}

/// Prepares the main workload and the small extra equivalence case, with their bundle files
/// under `dir`.
pub fn prepare(
    kind: WorkflowKind,
    data: DataSource,
    combinations: Option<usize>,
    workers: usize,
    real: &Bundle,
    dir: &Path,
) -> anyhow::Result<(PreparedWorkload, Vec<(String, PreparedWorkload)>)> {
    let spec = WorkloadSpec { kind, data, combinations, workers };
    let main = PreparedWorkload::prepare(&spec, real, &dir.join("workload.bin"))
        .context("cannot prepare the workload")?;
    let small_spec = WorkloadSpec {
        kind,
        data: DataSource::Derived {
            assets: 2,
            bars: if kind == WorkflowKind::GridSearch { 900 } else { 1400 },
            seed: 7,
        },
        combinations: Some(12),
        workers,
    };
    let small = PreparedWorkload::prepare(&small_spec, real, &dir.join("equivalence.bin"))
        .context("cannot prepare the equivalence case")?;
    let cases = vec![
        (format!("the workload ({})", main.describe()), main.clone()),
        ("derived 2 assets × small grid".to_owned(), small),
    ];
    Ok((main, cases))
}

/// Fault injection for testing the failure path: with `BENCH_FAULT_PANIC_AT_RUN=N`, the N-th
/// timed workload run of the process (warm-ups included, counted from 1) panics after running.
pub fn inject_fault() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let n = RUNS.fetch_add(1, Ordering::SeqCst) + 1;
    if std::env::var("BENCH_FAULT_PANIC_AT_RUN").ok().and_then(|v| v.parse::<u64>().ok()) == Some(n) {
        panic!("injected fault: BENCH_FAULT_PANIC_AT_RUN={n}");
    }
}

/// Runs a workload, turning an engine error into a panic (recorded as a failed run by suites).
pub fn run_or_panic(w: &PreparedWorkload, o: Optimizations) -> WorkloadOutput {
    match w.run(o) {
        Ok(out) => out,
        Err(e) => panic!("workload failed: {e}"),
    }
}
