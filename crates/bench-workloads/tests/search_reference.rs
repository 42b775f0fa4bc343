//! This project's searches beside HpBandSter's BOHB and Optuna's TPE with its Hyperband pruner,
//! on the same objective tables: every valid pair's score at 1/9, 1/3 and all of the history
//! (`tests/golden/search/*.table.json`, written by
//! `cargo run --release -p bench-workloads --example search_comparison 20 OBJECTIVE DIR`), and
//! what the two libraries found on them, 20 seeds per budget
//! (`tests/golden/search/*.reference.json`, written by `tests/golden/search_reference.py` in the
//! environment of `tests/golden/search_requirements.txt`).

use bench_search::{Method, Plan, Table};
use bench_workloads::*;

/// The four tables: bundled data (5 stocks) and a derived 252,000-bar series, each on final
/// equity and on the Sharpe ratio, over fast 2:100:2 × slow 5:300:5 (2,510 pairs).
const CASES: [&str; 4] =
    ["bundled_final_equity", "bundled_sharpe_ratio", "derived_final_equity", "derived_sharpe_ratio"];

fn golden(name: &str) -> String {
    let path = format!("{}/tests/golden/search/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn table(case: &str) -> Table {
    serde_json::from_str::<Table>(&golden(&format!("{case}.table.json"))).unwrap().index().unwrap()
}

fn reference(case: &str) -> serde_json::Value {
    let path = format!("{}/tests/golden/search/{case}.reference.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .map_or(serde_json::json!({"runs": []}), |s| serde_json::from_str(&s).unwrap())
}

fn plan(cost_limit: u64, seed: u64) -> Plan {
    Plan { min_fidelity: MIN_FIDELITY, eta: ETA, cost_limit, seed }
}

fn median(v: Vec<f64>) -> f64 {
    bench_stats::median(&v).expect("20 seeds")
}

/// The bundled data's tables are what the engine gives today: the references ran on this
/// project's objective, not on a stale copy of it. The pairs and costs are equal; the scores
/// within `1e-12 · max(1, |score|)`, because the last bits depend on the CPU — the AVX2/FMA
/// kernel and the scalar loop add the returns' squares in different orders (the Sharpe scores of
/// the committed table and of a machine with AVX2 and AVX-512 differ in their last bits).
#[test]
fn the_committed_tables_are_what_the_engine_gives() {
    let handle = TempEngine::new(load_csv(&bundled_csv_path()).unwrap(), 2).unwrap();
    for (case, objective) in
        [("bundled_final_equity", Objective::FinalEquity), ("bundled_sharpe_ratio", Objective::SharpeRatio)]
    {
        let spec = SearchSpec {
            assets: (0..handle.engine.bundle().assets.len()).collect(),
            fast: "2:100:2".parse().unwrap(),
            slow: "5:300:5".parse().unwrap(),
            method: Method::Grid,
            plan: plan(0, 0),
            rules: Rules::Exact,
            objective,
            max_seconds: None,
        };
        let now = objective_table(&handle.engine, &spec, LadderStep::fastest().optimizations()).unwrap();
        let committed = table(case);
        assert_eq!(
            (now.fidelities.clone(), now.costs.clone()),
            (committed.fidelities.clone(), committed.costs.clone())
        );
        assert_eq!(now.rows.len(), committed.rows.len(), "{case}");
        for (a, b) in now.rows.iter().zip(&committed.rows) {
            assert_eq!((a.len(), a[..2].to_vec()), (b.len(), b[..2].to_vec()), "{case}");
            let close =
                a[2..].iter().zip(&b[2..]).all(|(x, y)| (x - y).abs() <= 1e-12 * x.abs().max(1.0) || x == y);
            assert!(close, "{case}: {a:?} against the committed {b:?}");
        }
    }
}

/// Each reference result belongs to its table: the same pairs and optimum, a best that is one of
/// the table's full-fidelity scores, a spend within the budget, 20 seeds per method and budget.
#[test]
fn the_reference_results_belong_to_their_tables() {
    for case in CASES {
        let t = table(case);
        let r = reference(case);
        let full = t.full_scores();
        let optimum = full.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(r["configurations"].as_u64(), Some(t.rows.len() as u64), "{case}");
        assert_eq!(r["optimum"].as_f64(), Some(optimum), "{case}");
        let grid_cost = t.rows.len() as u64 * t.costs[t.costs.len() - 1];
        let runs = r["runs"].as_array().unwrap();
        // Both references at 1/10 and 1/20 of the grid's cost on every table (and at 1/5 on the
        // Sharpe tables: Optuna's TPE takes about two minutes a seed there).
        for method in ["hpbandster-bohb", "optuna-tpe-hyperband"] {
            for divisor in [10, 20] {
                let n =
                    runs.iter().filter(|x| x["method"] == method && x["budget_divisor"] == divisor).count();
                assert_eq!(n, 1, "{case}: {method} at 1/{divisor}");
            }
        }
        for run in runs {
            let limit = grid_cost / run["budget_divisor"].as_u64().unwrap();
            let seeds = run["seeds"].as_array().unwrap();
            assert_eq!(seeds.len(), 20, "{case}");
            for s in seeds {
                assert!(s["cost"].as_u64().unwrap() <= limit, "{case}: {s}");
                let best = s["best"].as_f64().unwrap();
                assert!(full.contains(&best), "{case}: {best} is not a full-fidelity score of the table");
            }
        }
    }
}

/// What one of this project's methods finds on a table over seeds 0–19 at a budget of
/// `1/divisor` of the grid's cost: each seed's best full-fidelity score and the search's wall
/// time (on a table, the optimiser's own time: a lookup costs next to nothing).
fn ours(t: &Table, method: &Method, divisor: u64) -> Vec<(f64, f64)> {
    let space = sma_space(&"2:100:2".parse().unwrap(), &"5:300:5".parse().unwrap());
    let grid_cost = t.rows.len() as u64 * t.costs[t.costs.len() - 1];
    (0..20)
        .map(|seed| {
            let started = std::time::Instant::now();
            let found =
                bench_search::search(&space, method, &plan(grid_cost / divisor, seed), &mut t.clone())
                    .unwrap();
            (found.best.map_or(f64::NEG_INFINITY, |b| b.score), started.elapsed().as_secs_f64())
        })
        .collect()
}

/// A Markdown row: median and worst share of the optimum, median and worst percentile (share
/// of the table's pairs scoring at most the best found), median wall time.
fn row(t: &Table, divisor: u64, method: &str, found: &[(f64, f64)]) -> String {
    let mut full = t.full_scores();
    full.sort_by(f64::total_cmp);
    let optimum = full[full.len() - 1];
    let shares: Vec<f64> = found.iter().map(|(b, _)| b / optimum).collect();
    let percentiles: Vec<f64> =
        found.iter().map(|(b, _)| full.partition_point(|x| x <= b) as f64 / full.len() as f64).collect();
    let least = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    format!(
        "| 1/{divisor} | {method} | {:.4} | {:.4} | {:.2}% | {:.2}% | {} |",
        median(shares.clone()),
        least(&shares),
        median(percentiles.clone()) * 100.0,
        least(&percentiles) * 100.0,
        bench_core::units::duration(median(found.iter().map(|(_, w)| *w).collect()))
    )
}

/// The references' results of one budget, per method, as (best, wall) per seed.
fn theirs(r: &serde_json::Value, divisor: u64) -> Vec<(String, Vec<(f64, f64)>)> {
    r["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["budget_divisor"].as_u64() == Some(divisor))
        .map(|run| {
            let seeds = run["seeds"].as_array().unwrap();
            let found =
                seeds.iter().map(|s| (s["best"].as_f64().unwrap(), s["wall_seconds"].as_f64().unwrap()));
            (run["method"].as_str().unwrap().to_owned(), found.collect())
        })
        .collect()
}

/// The side-by-side table (`-- --nocapture` prints it): this project's BOHB (24 candidates, and
/// HpBandSter's 64), Hyperband and random search beside HpBandSter's BOHB and Optuna's TPE with
/// its Hyperband pruner, 20 seeds per budget, on each table.
#[test]
fn side_by_side() {
    let header = "| budget | method | share of optimum, median | worst | percentile, median | worst | median wall |\n|---|---|---|---|---|---|---|";
    for case in CASES {
        let t = table(case);
        let r = reference(case);
        let optimum = t.full_scores().iter().copied().fold(f64::NEG_INFINITY, f64::max);
        println!("\n{case} (optimum {optimum:.4})\n\n{header}");
        for divisor in [5u64, 10, 20] {
            for (name, method) in [
                ("bohb", Method::Bohb(bench_search::BohbSettings::default())),
                ("bohb, 64 candidates", Method::Bohb(bench_search::BohbSettings::hpbandster())),
                ("hyperband", Method::Hyperband),
                ("random", Method::Random),
            ] {
                println!("{}", row(&t, divisor, name, &ours(&t, &method, divisor)));
            }
            for (name, found) in theirs(&r, divisor) {
                println!("{}", row(&t, divisor, &name, &found));
            }
        }
    }
}

/// The one cell where this project's BOHB is measurably worse than a reference: on the derived
/// final-equity table at 1/5 of the grid's cost. Its optimum is a needle — the cell (fast 4,
/// slow 5), best at every fidelity but with no good neighbour — found only when a uniform draw
/// lands on it: Optuna's TPE+Hyperband finds it on 10 of 20 seeds, this project's Hyperband
/// (uniform draws only) on 10, HpBandSter's BOHB on 8, this BOHB on 2 (two thirds of its
/// proposals come from the model of the cells already good, a third uniform; Fisher's exact
/// p = 0.007 against Optuna). The medians are then 0.50 (a coin flip between 0.003 and 1.0)
/// against 0.003.
const KNOWN_GAP: (&str, u64, &str) = ("derived_final_equity", 5, "optuna-tpe-hyperband");

/// This project's BOHB against the references on every table and budget they ran, median share
/// of the optimum over 20 seeds. With its defaults (24 candidates, evaluated cells skipped) at
/// least HpBandSter's BOHB's and Optuna's TPE's less 0.05; with HpBandSter's own settings at least
/// HpBandSter's less 0.1 — the same algorithm up to the seeds' luck. A median over 20 seeds moves
/// in steps of the table's top scores (on the bundled Sharpe table the best pairs reach 1, 0.958,
/// 0.933, 0.932, 0.924, 0.908, 0.883, 0.835 of the optimum, and a median falls between two of
/// them), so a tolerance of one or two steps. A model that proposes no better than Hyperband or
/// random search (0.835 and 0.708 there at 1/20, against HpBandSter's 0.924 and Optuna's 1.000)
/// fails it, and so do the defaults without the skip (0.933 at 1/20, 0.946 at 1/10 against
/// Optuna's 1.000 on that table; 0.549 against 1.000 on the derived one at 1/20).
#[test]
fn this_bohb_finds_what_the_references_find() {
    let mut compared = 0;
    for case in CASES {
        let t = table(case);
        let optimum = t.full_scores().iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for divisor in [5u64, 10, 20] {
            let share = |found: &[(f64, f64)]| median(found.iter().map(|(b, _)| b / optimum).collect());
            let mine = ours(&t, &Method::Bohb(bench_search::BohbSettings::default()), divisor);
            let defaults = share(&mine);
            let hpbandster_settings =
                share(&ours(&t, &Method::Bohb(bench_search::BohbSettings::hpbandster()), divisor));
            for (method, found) in theirs(&reference(case), divisor) {
                let reference = share(&found);
                if KNOWN_GAP == (case, divisor, method.as_str()) {
                    // Still worse, by the count of seeds that find the needle (see KNOWN_GAP).
                    let hits = |f: &[(f64, f64)]| f.iter().filter(|(b, _)| b / optimum > 0.99).count();
                    let (ours_found, theirs_found) = (hits(&mine), hits(&found));
                    assert!(
                        defaults < reference - 0.05 && ours_found + 5 <= theirs_found,
                        "{case} at 1/{divisor}: the known gap closed (ours {ours_found}/20 seeds find the optimum, {method} {theirs_found}/20): update KNOWN_GAP and docs/methodology.md"
                    );
                    compared += 1;
                    continue;
                }
                assert!(
                    defaults >= reference - 0.05,
                    "{case} at 1/{divisor}: the defaults' median {defaults:.4} of the optimum against {method}'s {reference:.4}"
                );
                compared += 1;
                if method == "hpbandster-bohb" {
                    assert!(
                        hpbandster_settings >= reference - 0.1,
                        "{case} at 1/{divisor}: HpBandSter's settings' median {hpbandster_settings:.4} of the optimum against HpBandSter's {reference:.4}"
                    );
                }
            }
        }
    }
    assert!(compared >= 24, "{compared} comparisons");
}
