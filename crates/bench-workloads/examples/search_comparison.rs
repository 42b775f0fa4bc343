//! The figures behind the BOHB workflow's design, reproducible with
//!
//! ```text
//! cargo run --release -p bench-workloads --example search_comparison [SEEDS] [OBJECTIVE] [TABLES]
//! ```
//!
//! (`SEEDS` = 0: the rank agreement only; `OBJECTIVE`: `final_equity` (default), `sharpe_ratio`,
//! `calmar`, … as `--objective` takes them; `TABLES`: a folder to write each case's objective
//! table to, `bundled_<objective>.table.json` and `derived_<objective>.table.json`, for
//! `crates/bench-workloads/tests/golden/search_reference.py` to run HpBandSter's BOHB and
//! Optuna's TPE on — after checking that every method's search on the table finds what it
//! finds on the engine).
//!
//! 1. Rank agreement (Spearman's ρ) between the objective at fidelities 1/9 and 1/3 and on the
//!    full history, over every pair of the space, for the segments the search uses (spread over
//!    the history) and for the most recent bars — what justifies the fidelities.
//! 2. For BOHB, Hyperband and random search, at budgets of 1/5, 1/10 and 1/20 of the full grid's
//!    bar evaluations, over SEEDS seeds (default 20): the best objective found (at full fidelity)
//!    as a fraction of the grid's optimum, median and worst, and the share of the grid's pairs it
//!    beats or equals (its percentile), median and worst; the median wall time of a search and
//!    the median share of it spent in BOHB's model.
//!
//! Three cases: the bundled data (5 stocks) with fast 2–100 × slow 5–300 step 1 (24,648 pairs)
//! and with fast step 2 × slow step 5 (2,510 pairs), and one derived 252,000-bar series with
//! fast step 2 × slow step 5. The tables are written for the two stepped cases only
//! (`bundled_…` and `derived_…`): HpBandSter refits its model after every result, which makes
//! a run over the 24,648-pair space (28,000 trials at 1/10) take tens of minutes (its time grows
//! with the square of the trials: 22 s for 2,700).

#![allow(clippy::print_stdout)] // the figures are the output

use bench_workloads::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seeds: u64 = std::env::args().nth(1).map_or(Ok(20), |s| s.parse())?;
    let objective: Objective = std::env::args().nth(2).map_or(Ok(Objective::FinalEquity), |s| s.parse())?;
    let tables = std::env::args().nth(3).map(std::path::PathBuf::from);
    println!("objective: mean {} over the assets\n", objective.name());
    let real = load_csv(&bundled_csv_path())?;
    let opts = LadderStep::fastest().optimizations();
    let cases = [
        ("bundled_full", "bundled, 5 stocks", real.clone(), "2:100:1", "5:300:1"),
        ("bundled", "bundled, 5 stocks, stepped", real.clone(), "2:100:2", "5:300:5"),
        ("derived", "derived, 252,000 bars", derive(&real, 1, 252_000, 42)?, "2:100:2", "5:300:5"),
    ];
    for (short, name, bundle, f, s) in cases {
        let handle = TempEngine::new(bundle, std::thread::available_parallelism().map_or(1, usize::from))?;
        let (fast, slow): (ParamRange, ParamRange) = (f.parse()?, s.parse()?);
        let assets: Vec<usize> = (0..handle.engine.bundle().assets.len()).collect();
        println!("## {name}: fast {f} × slow {s}\n");
        for (label, layout) in
            [("spread segments", FidelityLayout::Spread), ("most recent bars", FidelityLayout::Recent)]
        {
            let t0 = std::time::Instant::now();
            let fids = [1.0 / 9.0, 1.0 / 3.0];
            let rho = fidelity_rank_agreement(&handle.engine, &assets, &fast, &slow, &fids, layout, opts)?;
            println!(
                "rank agreement with the full history, {label} (Spearman's ρ over {} pairs): 1/9 → {:.3}, 1/3 → {:.3} ({:.1} s)\n",
                grid_size(&fast, &slow)?,
                rho[0].1,
                rho[1].1,
                t0.elapsed().as_secs_f64()
            );
        }
        let spec = |method: &str, budget: u64, seed: u64| -> Result<SearchSpec, Box<dyn std::error::Error>> {
            Ok(SearchSpec {
                assets: assets.clone(),
                fast,
                slow,
                method: method.parse()?,
                plan: bench_search::Plan { min_fidelity: MIN_FIDELITY, eta: ETA, cost_limit: budget, seed },
                rules: bench_workloads::Rules::Exact,
                objective,
                max_seconds: None,
            })
        };
        if seeds == 0 {
            continue; // rank agreement only
        }
        let grid = run_search(&handle.engine, &spec("grid", u64::MAX, 0)?, opts)?;
        if let Some(dir) = tables.as_ref().filter(|_| short != "bundled_full") {
            let table = objective_table(&handle.engine, &spec("grid", 0, 0)?, opts)?;
            let space = sma_space(&fast, &slow);
            for method in ["grid", "bohb", "hyperband", "random"] {
                let on_engine =
                    run_search(&handle.engine, &spec(method, grid.grid_bar_evals / 10, 1)?, opts)?;
                let s = spec(method, grid.grid_bar_evals / 10, 1)?;
                let on_table = bench_search::search(&space, &s.method, &s.plan, &mut table.clone())?;
                let same = on_table.best.as_ref().map(|b| b.score) == on_engine.best_objective
                    && on_table.cost == on_engine.bar_evals
                    && on_table.trials == on_engine.trials;
                if !same {
                    return Err(format!(
                        "{method}: the search on the table differs from the search on the engine"
                    )
                    .into());
                }
            }
            std::fs::create_dir_all(dir)?;
            let path =
                dir.join(format!("{short}_{}.table.json", objective.name().to_lowercase().replace(" ", "_")));
            std::fs::write(&path, serde_json::to_string(&table)?)?;
            println!(
                "objective table: {} ({} pairs × {} fidelities; every method's search on it equals its search on the engine)\n",
                path.display(),
                table.rows.len(),
                table.fidelities.len()
            );
        }
        let optimum = grid.best_objective.ok_or("the grid found nothing")?;
        let top = |k: usize| {
            grid.trials.iter().map(|t| t.score).fold(Vec::new(), |mut v, x| {
                v.push(x);
                v.sort_by(|a, b| b.total_cmp(a));
                v.truncate(k);
                v
            })
        };
        println!(
            "grid optimum {optimum:.4} at {:?}, {} bar evaluations; the 2nd, 10th and 100th best pairs reach {:.3}, {:.3} and {:.3} of it\n",
            grid.best_params,
            grid.grid_bar_evals,
            top(2)[1] / optimum,
            top(10)[9] / optimum,
            top(100)[99] / optimum
        );
        let mut all: Vec<f64> = grid.trials.iter().map(|t| t.score).collect();
        all.sort_by(f64::total_cmp);
        let percentile = |v: f64| all.partition_point(|&x| x <= v) as f64 / all.len() as f64;
        println!(
            "| budget | method | share of optimum, median | worst | percentile, median | worst | median bar evals | median trials | median wall | model share |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
        for den in [5u64, 10, 20] {
            let budget = grid.grid_bar_evals / den;
            for method in ["bohb", "hyperband", "random"] {
                let mut shares = Vec::new();
                let mut pct = Vec::new();
                let mut evals = Vec::new();
                let mut trials = Vec::new();
                let mut wall = Vec::new();
                let mut model = Vec::new();
                for seed in 0..seeds {
                    let out = run_search(&handle.engine, &spec(method, budget, seed)?, opts)?;
                    shares.push(out.best_objective.map_or(0.0, |b| b / optimum));
                    pct.push(out.best_objective.map_or(0.0, percentile));
                    evals.push(out.bar_evals as f64);
                    trials.push(out.trials.len() as f64);
                    wall.push(out.wall_seconds);
                    model.push(out.model_seconds / out.wall_seconds.max(1e-12));
                }
                let median = |v: &mut Vec<f64>| {
                    v.sort_by(f64::total_cmp);
                    let n = v.len();
                    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
                };
                let worst = shares.iter().copied().fold(f64::INFINITY, f64::min);
                let worst_pct = pct.iter().copied().fold(f64::INFINITY, f64::min);
                println!(
                    "| 1/{den} | {method} | {:.4} | {:.4} | {:.2}% | {:.2}% | {:.0} | {:.0} | {:.2} s | {:.0}% |",
                    median(&mut shares),
                    worst,
                    median(&mut pct) * 100.0,
                    worst_pct * 100.0,
                    median(&mut evals),
                    median(&mut trials),
                    median(&mut wall),
                    median(&mut model) * 100.0
                );
            }
        }
        println!();
    }
    Ok(())
}
