//! backtesting.py's rules (`Rules::BacktestingPy`, `--rules backtesting-py`) against
//! backtesting.py 0.6.6 itself, on every path: single backtests, the grid, the walk-forward and
//! the distributed job's pieces (what Ray runs). The reference is
//! `golden/backtesting_py_sweep.json.gz`, written by `golden/gen_compat.py` (committed beside
//! it): every (fast, slow) with fast < slow ≤ 30 on the five bundled stocks, and two
//! walk-forward runs in which backtesting.py ran every backtest, uncorrected.
//!
//! The exact rules are checked against the same runs: wherever they give another backtest,
//! the summary's `rule_differences` must name a bar, and wherever it names none, the two rules'
//! backtests must be equal.

use std::io::Read;

mod common;

use bench_workloads::*;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// symbol, fast, slow, trades, final equity, trade left open, trade digest, backtesting.py's
/// "Sharpe Ratio" (null where NaN).
type SweepCase = (String, u32, u32, u32, f64, bool, String, Option<f64>);

#[derive(Deserialize)]
struct Fixture {
    out_of_money: OutOfMoney,
    walk_forward: Vec<WalkForwardCase>,
    sweep: Vec<SweepCase>,
}

#[derive(Deserialize)]
struct OutOfMoney {
    fast: u32,
    slow: u32,
    open: Vec<f64>,
    close: Vec<f64>,
    trades: Vec<common::TradeRow>,
    equity: Vec<f64>,
    final_equity: f64,
}

#[derive(Deserialize)]
struct WalkForwardCase {
    name: String,
    symbol: String,
    spec: CaseSpec,
    summary: CaseSummary,
    windows: Vec<CaseWindow>,
}

#[derive(Deserialize)]
struct CaseSpec {
    params: Vec<(u32, u32)>,
    in_sample: usize,
    out_of_sample: usize,
    step: usize,
    mode: String,
}

#[derive(Deserialize)]
struct CaseSummary {
    efficiency: Option<f64>,
    parameter_stability: f64,
    profitable_oos_share: f64,
    stitched_start: usize,
    stitched_final: f64,
    stitched_length: usize,
}

#[derive(Deserialize)]
struct CaseWindow {
    is_lo: usize,
    is_hi: usize,
    oos_hi: usize,
    fast: u32,
    slow: u32,
    in_sample: CaseMetrics,
    out_of_sample: CaseMetrics,
    is_annualized_return_percent: f64,
    oos_annualized_return_percent: f64,
    oos_trade_list: Vec<common::TradeRow>,
    pick_by_backtesting_py_sharpe: (u32, u32),
}

#[derive(Deserialize)]
struct CaseMetrics {
    trades: u32,
    final_equity: f64,
    total_return_percent: f64,
    max_drawdown_percent: f64,
    sharpe_ratio: f64,
    exposure_percent: f64,
}

fn fixture() -> Fixture {
    let bytes = include_bytes!("golden/backtesting_py_sweep.json.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut text).expect("the fixture is gzip text");
    serde_json::from_str(&text).expect("the fixture parses")
}

fn bundle() -> Bundle {
    load_csv(&bundled_csv_path()).expect("bundled data loads")
}

/// `gen_compat.py`'s `trade_digest`: SHA-256 of "entry,exit,size,bits(entry price),bits(exit
/// price);" per trade.
fn digest(trades: &[Trade]) -> String {
    let text: String = trades
        .iter()
        .map(|t| {
            format!(
                "{},{},{},{},{};",
                t.entry_bar,
                t.exit_bar,
                t.size,
                t.entry_price.to_bits(),
                t.exit_price.to_bits()
            )
        })
        .collect();
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn close(what: &str, got: f64, want: f64) {
    let tol = 1e-9 * want.abs().max(1.0);
    assert!((got - want).abs() <= tol, "{what}: engine {got}, backtesting.py {want}");
}

#[test]
fn every_pair_up_to_30_bars_equals_backtesting_py_and_the_exact_rules_name_every_difference() {
    let b = bundle();
    let f = fixture();
    assert_eq!(f.sweep.len(), 2175, "435 pairs on each of five stocks");
    let (mut left_open, mut exact_differs, mut stated) = (0, 0, 0);
    let mut sharpe_checked = 0;
    for (symbol, fast, slow, trades, final_equity, trade_left_open, trade_digest, bt_sharpe) in &f.sweep {
        let case = format!("{symbol} {fast}/{slow}");
        let a = b.asset_index(symbol).unwrap();
        let params = Params::new(*fast, *slow).unwrap();
        let r = backtest_with(&b, a, params, Rules::BacktestingPy).unwrap();
        assert_eq!(r.metrics.trades, *trades, "{case}: trades");
        assert_eq!(r.metrics.final_equity, *final_equity, "{case}: final equity, to the bit");
        let record = r.record.as_ref().unwrap();
        assert_eq!(&digest(&record.trades), trade_digest, "{case}: the trade list, to the bit");
        match (engine::backtesting_py_sharpe(&record.equity), bt_sharpe) {
            (Some(got), Some(want)) => {
                close(&format!("{case}: backtesting.py's Sharpe"), got, *want);
                sharpe_checked += 1;
            }
            (got, want) => assert_eq!(got, *want, "{case}: backtesting.py's Sharpe"),
        }
        left_open += usize::from(*trade_left_open);

        let exact = backtest(&b, a, params).unwrap();
        let summary = BacktestSummary::new(&b, a, params, Rules::Exact, &exact);
        let d = &summary.rule_differences;
        assert_eq!(
            d.last_bar_signal.is_some(),
            *trade_left_open,
            "{case}: a trade is left open iff a cross is on the last bar"
        );
        if d.is_empty() {
            assert_eq!(
                exact.metrics, r.metrics,
                "{case}: no difference stated, yet the rules' backtests differ"
            );
        } else {
            stated += 1;
        }
        exact_differs += usize::from(exact.metrics != r.metrics);
    }
    assert!(left_open > 0 && exact_differs > 0, "the sweep exercises both differences");
    assert!(sharpe_checked > 2000, "{sharpe_checked}");
    println!(
        "2175 pairs equal to backtesting.py; {left_open} leave a trade open; the exact rules differ on {exact_differs}, and {stated} state a difference"
    );
}

#[test]
fn the_grid_and_its_distributed_pieces_under_backtesting_py_rules_equal_backtesting_py() {
    let f = fixture();
    let handle = TempEngine::new(bundle(), 2).unwrap();
    let engine = &handle.engine;
    let params = param_grid(&"1:29:1".parse().unwrap(), &"2:30:1".parse().unwrap());
    assert_eq!(params.len(), 435);
    let spec = GridSpec {
        assets: engine.bundle().select_assets(None).unwrap(),
        params,
        objective: Objective::FinalEquity,
        rules: Rules::BacktestingPy,
    };
    let want = |c: &ComboResult| {
        f.sweep
            .iter()
            .find(|s| s.0 == c.symbol && (s.1, s.2) == (c.params.fast, c.params.slow))
            .map(|s| (s.3, s.4))
            .expect("every combination is in the sweep")
    };
    // Every ladder step gives the same result: the optimizations decide crosses exactly and do
    // not apply under backtesting.py's float rule.
    for step in [LadderStep::Baseline, LadderStep::fastest()] {
        let grid = run_grid(engine, &spec, step.optimizations()).unwrap();
        assert_eq!(grid.combos.len(), 2175);
        for c in &grid.combos {
            assert_eq!(
                (c.metrics.trades, c.metrics.final_equity),
                want(c),
                "{} {:?} ({step:?})",
                c.symbol,
                c.params
            );
        }
    }
    // The distributed job (serialised as Ray ships it) carries the rules to every piece.
    let job = Job::grid(&spec, LadderStep::fastest().optimizations(), 100);
    let job: Job = serde_json::from_str(&serde_json::to_string(&job).unwrap()).unwrap();
    let outputs = (0..job.pieces()).map(|i| run_piece(engine, &job, i).unwrap()).collect();
    let merged = merge_grid(engine.bundle(), &job, outputs).unwrap();
    assert_eq!(merged, run_grid(engine, &spec, LadderStep::fastest().optimizations()).unwrap());
    // And the exact rules do not: at least one pair differs.
    let exact = run_grid(
        engine,
        &GridSpec { rules: Rules::Exact, ..spec.clone() },
        LadderStep::fastest().optimizations(),
    )
    .unwrap();
    assert!(exact.combos.iter().any(|c| (c.metrics.trades, c.metrics.final_equity) != want(c)));
}

#[test]
fn walk_forward_under_backtesting_py_rules_equals_backtesting_py_window_by_window() {
    let f = fixture();
    let handle = TempEngine::new(bundle(), 2).unwrap();
    let engine = &handle.engine;
    let mut windows_checked = 0;
    for case in &f.walk_forward {
        let asset = engine.bundle().asset_index(&case.symbol).unwrap();
        let spec = WalkForwardSpec {
            assets: vec![asset],
            params: case.spec.params.iter().map(|&(a, b)| Params::new(a, b).unwrap()).collect(),
            in_sample: case.spec.in_sample,
            out_of_sample: case.spec.out_of_sample,
            step: case.spec.step,
            mode: if case.spec.mode == "anchored" { WindowMode::Anchored } else { WindowMode::Rolling },
            objective: Objective::SharpeRatio,
            rules: Rules::BacktestingPy,
            search: None,
        };
        let result = run_walk_forward(engine, &spec, LadderStep::fastest().optimizations()).unwrap();
        // The distributed pieces give the same result.
        let job = Job::walk_forward(&spec, engine.bundle(), LadderStep::fastest().optimizations()).unwrap();
        let job: Job = serde_json::from_str(&serde_json::to_string(&job).unwrap()).unwrap();
        let outputs = (0..job.pieces()).map(|i| run_piece(engine, &job, i).unwrap()).collect();
        assert_eq!(merge_walk_forward(engine.bundle(), &job, outputs).unwrap(), result, "{}", case.name);

        assert_eq!(result.windows.len(), case.windows.len(), "{}: windows", case.name);
        for (w, g) in result.windows.iter().zip(&case.windows) {
            let at = format!("{} window {}..{}..{}", case.name, g.is_lo, g.is_hi, g.oos_hi);
            assert_eq!((w.range.is_lo, w.range.is_hi, w.range.oos_hi), (g.is_lo, g.is_hi, g.oos_hi), "{at}");
            assert_eq!((w.params.fast, w.params.slow), (g.fast, g.slow), "{at}: the in-sample pick");
            for (name, got, want) in [
                ("in-sample", &w.in_sample, &g.in_sample),
                ("out-of-sample", &w.out_of_sample, &g.out_of_sample),
            ] {
                assert_eq!(got.trades, want.trades, "{at}: {name} trades");
                close(&format!("{at}: {name} final equity"), got.final_equity, want.final_equity);
                close(&format!("{at}: {name} return"), got.total_return_percent, want.total_return_percent);
                close(&format!("{at}: {name} drawdown"), got.max_drawdown_percent, want.max_drawdown_percent);
                close(&format!("{at}: {name} Sharpe"), got.sharpe_ratio, want.sharpe_ratio);
                close(&format!("{at}: {name} exposure"), got.exposure_percent, want.exposure_percent);
            }
            close(
                &format!("{at}: IS annualised"),
                w.is_annualized_return_percent,
                g.is_annualized_return_percent,
            );
            close(
                &format!("{at}: OOS annualised"),
                w.oos_annualized_return_percent,
                g.oos_annualized_return_percent,
            );
            // The out-of-sample trades, one by one.
            let task = Task {
                asset,
                lo: g.is_hi,
                hi: g.oos_hi,
                params: w.params,
                lookback: true,
                rules: Rules::BacktestingPy,
            };
            let run = engine.run(&[task], LadderStep::Baseline.optimizations(), true).unwrap();
            let trades = common::trade_rows(&run[0].record.as_ref().unwrap().trades);
            assert_eq!(trades, g.oos_trade_list, "{at}: out-of-sample trades");
            windows_checked += 1;
        }
        // Chosen on backtesting.py's own Sharpe ratio instead, each window picks its pair.
        let by_bt = run_walk_forward(
            engine,
            &WalkForwardSpec { objective: Objective::BacktestingPySharpe, ..spec.clone() },
            LadderStep::fastest().optimizations(),
        )
        .unwrap();
        let picks: Vec<(u32, u32)> = by_bt.windows.iter().map(|w| (w.params.fast, w.params.slow)).collect();
        let want: Vec<(u32, u32)> = case.windows.iter().map(|w| w.pick_by_backtesting_py_sharpe).collect();
        assert_eq!(picks, want, "{}: picks by backtesting.py's Sharpe", case.name);
        let differ = want.iter().zip(&case.windows).filter(|(p, w)| **p != (w.fast, w.slow)).count();
        println!(
            "{}: backtesting.py's Sharpe picks another pair in {differ} of {} windows",
            case.name,
            want.len()
        );
        let s = &case.summary;
        match (result.efficiency, s.efficiency) {
            (Some(got), Some(want)) => close(&format!("{}: efficiency", case.name), got, want),
            (got, want) => assert_eq!(got, want, "{}: efficiency", case.name),
        }
        close(&format!("{}: stability", case.name), result.parameter_stability, s.parameter_stability);
        close(
            &format!("{}: profitable share", case.name),
            result.profitable_oos_share,
            s.profitable_oos_share,
        );
        let curve = &result.stitched[0];
        assert_eq!(
            (curve.start_bar, curve.equity.len()),
            (s.stitched_start, s.stitched_length),
            "{}",
            case.name
        );
        close(&format!("{}: stitched final", case.name), *curve.equity.last().unwrap(), s.stitched_final);
    }
    println!("{windows_checked} walk-forward windows equal to backtesting.py");
}

/// A short caught by a gap: backtesting.py's out-of-money stop closes it at that bar's close,
/// sets the cash to 0 and values every later bar at 0. Under backtesting.py's rules the engine
/// does the same; under the exact rules the equity goes below zero and the run goes on.
#[test]
fn a_run_that_loses_everything_stops_at_zero_under_backtesting_py_rules() {
    let case = fixture().out_of_money;
    let mut series = bundle().assets[0].clone();
    let n = case.close.len();
    for col in [
        &mut series.open,
        &mut series.high,
        &mut series.low,
        &mut series.close,
        &mut series.volume,
        &mut series.adj_close,
    ] {
        col.truncate(n);
    }
    series.dates.truncate(n);
    series.open.clone_from(&case.open);
    series.close.clone_from(&case.close);
    let b = Bundle { assets: vec![series], provenance: Provenance::Real };
    let params = Params::new(case.fast, case.slow).unwrap();
    let r = backtest_with(&b, 0, params, Rules::BacktestingPy).unwrap();
    let record = r.record.unwrap();
    let trades = common::trade_rows(&record.trades);
    assert_eq!(trades, case.trades);
    assert_eq!(record.equity, case.equity);
    assert_eq!(r.metrics.final_equity, case.final_equity);
    assert_eq!(r.metrics.max_drawdown_percent, 100.0);
    assert!(r.metrics.sharpe_ratio.is_finite());

    let exact = backtest(&b, 0, params).unwrap();
    assert!(
        exact.metrics.final_equity < 0.0,
        "the exact rules let the equity go below zero: {:?}",
        exact.metrics
    );
    assert!(exact.record.unwrap().equity.iter().any(|&e| e < 0.0));
}
