//! The walk-forward workflow cross-checked against backtesting.py 0.6.6: every window's
//! in-sample pick (best Sharpe ratio over the grid), its in- and out-of-sample metrics, the
//! walk-forward efficiency, parameter stability and the stitched out-of-sample equity, as computed
//! by `golden/gen_walk_forward.py` (committed with its output; backtesting.py runs every backtest,
//! the script computes the engine's metric definitions from its equity curves).

use std::path::Path;

use bench_workloads::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    symbol: String,
    spec: Spec,
    exact_ties: u64,
    summary: Summary,
    windows: Vec<Window>,
}

#[derive(Deserialize)]
struct Spec {
    params: Vec<(u32, u32)>,
    in_sample: usize,
    out_of_sample: usize,
    step: usize,
    mode: String,
}

#[derive(Deserialize)]
struct Summary {
    efficiency: Option<f64>,
    parameter_stability: f64,
    profitable_oos_share: f64,
    bar_evaluations: u64,
    stitched: Vec<Stitched>,
}

#[derive(Deserialize)]
struct Stitched {
    symbol: String,
    start_bar: usize,
    length: usize,
    #[serde(rename = "final")]
    last: f64,
    #[serde(default)]
    equity: Option<Vec<f64>>,
}

#[derive(Deserialize)]
struct Window {
    is_lo: usize,
    is_hi: usize,
    oos_hi: usize,
    fast: u32,
    slow: u32,
    in_sample: Metrics6,
    out_of_sample: Metrics6,
}

#[derive(Deserialize)]
struct Metrics6 {
    trades: u32,
    final_equity: f64,
    total_return_percent: f64,
    max_drawdown_percent: f64,
    sharpe_ratio: f64,
    exposure_percent: f64,
}

fn close(what: &str, a: f64, b: f64) {
    let tol = 1e-9 * b.abs().max(1.0);
    assert!((a - b).abs() <= tol, "{what}: engine {a} vs backtesting.py {b}");
}

fn same(what: &str, m: &Metrics, g: &Metrics6) {
    assert_eq!(m.trades, g.trades, "{what}: trades");
    close(&format!("{what}: final equity"), m.final_equity, g.final_equity);
    close(&format!("{what}: total return"), m.total_return_percent, g.total_return_percent);
    close(&format!("{what}: max drawdown"), m.max_drawdown_percent, g.max_drawdown_percent);
    close(&format!("{what}: Sharpe"), m.sharpe_ratio, g.sharpe_ratio);
    close(&format!("{what}: exposure"), m.exposure_percent, g.exposure_percent);
}

#[test]
fn walk_forward_matches_backtesting_py_window_by_window() {
    let golden: Golden =
        serde_json::from_str(include_str!("golden/walk_forward_cases.json")).expect("golden parses");
    let bundle = load_csv(&bundled_csv_path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.bin");
    bundle.write_binary(&path).unwrap();
    assert_eq!(golden.cases.len(), 3);
    for case in &golden.cases {
        assert_eq!(case.exact_ties, 0, "{}: a tie would make the two rules differ", case.name);
        let spec = WalkForwardSpec {
            assets: vec![bundle.asset_index(&case.symbol).unwrap()],
            params: case.spec.params.iter().map(|&(f, s)| Params::new(f, s).unwrap()).collect(),
            in_sample: case.spec.in_sample,
            out_of_sample: case.spec.out_of_sample,
            step: case.spec.step,
            mode: if case.spec.mode == "anchored" { WindowMode::Anchored } else { WindowMode::Rolling },
            objective: Objective::SharpeRatio,
            rules: bench_workloads::Rules::Exact,
            search: None,
        };
        // The same result from the slowest and the fastest implementation, at any worker count.
        for (step, workers) in [(LadderStep::Baseline, 1), (LadderStep::PrefixSums, 2)] {
            let engine = Engine::open(Path::new(&path), workers).unwrap();
            let r = run_walk_forward(&engine, &spec, step.optimizations()).unwrap();
            assert_eq!(r.windows.len(), case.windows.len(), "{}: windows", case.name);
            for (k, (w, g)) in r.windows.iter().zip(&case.windows).enumerate() {
                let what = format!("{} window {k} ({step})", case.name);
                assert_eq!(
                    (w.range.is_lo, w.range.is_hi, w.range.oos_hi),
                    (g.is_lo, g.is_hi, g.oos_hi),
                    "{what}"
                );
                assert_eq!((w.params.fast, w.params.slow), (g.fast, g.slow), "{what}: in-sample pick");
                same(&format!("{what} in-sample"), &w.in_sample, &g.in_sample);
                same(&format!("{what} out-of-sample"), &w.out_of_sample, &g.out_of_sample);
            }
            let s = &case.summary;
            match (r.efficiency, s.efficiency) {
                (Some(a), Some(b)) => close(&format!("{}: efficiency", case.name), a, b),
                (a, b) => assert_eq!(a.is_some(), b.is_some(), "{}: efficiency {a:?} vs {b:?}", case.name),
            }
            close(&format!("{}: stability", case.name), r.parameter_stability, s.parameter_stability);
            close(
                &format!("{}: profitable share", case.name),
                r.profitable_oos_share,
                s.profitable_oos_share,
            );
            assert_eq!(r.bar_evaluations, s.bar_evaluations, "{}: bar evaluations", case.name);
            assert_eq!(r.stitched.len(), s.stitched.len());
            for (c, g) in r.stitched.iter().zip(&s.stitched) {
                assert_eq!(
                    (c.symbol.as_str(), c.start_bar, c.equity.len()),
                    (g.symbol.as_str(), g.start_bar, g.length)
                );
                close(&format!("{}: stitched final", case.name), *c.equity.last().unwrap(), g.last);
                if let Some(curve) = &g.equity {
                    for (i, (a, b)) in c.equity.iter().zip(curve).enumerate() {
                        close(&format!("{}: stitched equity bar {i}", case.name), *a, *b);
                    }
                }
            }
        }
    }
}
