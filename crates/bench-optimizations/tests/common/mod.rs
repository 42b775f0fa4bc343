//! A harness over the real engine on small derived data, shared by the sequence tests.

#![allow(dead_code)]

use bench_core::Workload;
use bench_optimizations::*;
use bench_workloads::*;

/// A stack of ladder switches, plus a deliberately wrong "optimization" for the gate tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stack {
    pub opts: Optimizations,
    /// Runs every slow window one bar longer: faster to write, wrong results.
    pub wrong_windows: bool,
}

pub fn base() -> Stack {
    Stack { opts: Optimizations::default(), wrong_windows: false }
}

fn run(w: &PreparedWorkload, s: &Stack) -> GridResult {
    let spec = GridSpec {
        assets: vec![0, 1],
        params: combinations(12)
            .unwrap()
            .into_iter()
            .map(|p| if s.wrong_windows { Params { fast: p.fast, slow: p.slow + 1 } } else { p })
            .collect(),
        objective: Objective::FinalEquity,
        rules: bench_workloads::Rules::Exact,
    };
    run_grid(&w.engine, &spec, s.opts).expect("the real engine runs")
}

pub fn values(g: &GridResult) -> Value {
    Value::Record(vec![
        ("trades".into(), Value::Array(g.combos.iter().map(|c| f64::from(c.metrics.trades)).collect())),
        ("final_equity".into(), Value::Array(g.combos.iter().map(|c| c.metrics.final_equity).collect())),
        ("sharpe_ratio".into(), Value::Array(g.combos.iter().map(|c| c.metrics.sharpe_ratio).collect())),
    ])
}

pub fn workload(dir: &std::path::Path) -> PreparedWorkload {
    let real = load_csv(&bundled_csv_path()).unwrap();
    let spec = WorkloadSpec {
        kind: WorkflowKind::GridSearch,
        data: DataSource::Derived { assets: 2, bars: 2500, seed: 11 },
        combinations: Some(12),
        workers: 2,
    };
    PreparedWorkload::prepare(&spec, &real, &dir.join("w.bin")).unwrap()
}

pub fn harness(dir: &std::path::Path, pairs: usize) -> WorkloadHarness<Stack, PreparedWorkload> {
    let w = workload(dir);
    let runner = w.clone();
    WorkloadHarness::new(
        vec![("derived grid".into(), w)],
        |s: &Stack, w: &PreparedWorkload| values(&run(w, s)),
        move |s: &Stack| drop(std::hint::black_box(run(&runner, s))),
        dir,
    )
    .describe(|s: &Stack| format!("{s:?}"))
    .pairs(pairs)
    .recorded_as("test", "grid_search", Workload::default())
}

pub fn step(step: LadderStep) -> Optimization<Stack> {
    Optimization {
        name: step.name().into(),
        description: step.description().into(),
        apply: Box::new(move |s: &Stack| Stack { opts: step.on_top_of(s.opts), ..*s }),
    }
}

pub fn same_again(name: &str) -> Optimization<Stack> {
    Optimization {
        name: name.into(),
        description: "the same implementation (A/A)".into(),
        apply: Box::new(|s: &Stack| *s),
    }
}

pub fn wrong_windows() -> Optimization<Stack> {
    Optimization {
        name: "wrong-windows".into(),
        description: "changes the slow window (a result-changing candidate)".into(),
        apply: Box::new(|s: &Stack| Stack { wrong_windows: true, ..*s }),
    }
}
