//! Why BOHB's defaults depart from HpBandSter's — 24 candidates per proposal instead of 64, and
//! candidates already evaluated at the bracket's first fidelity skipped — HpBandSter's settings,
//! 24 candidates without the skip and the defaults over 20 seeds (0–19) at 1/5, 1/10 and 1/20 of
//! the grid's bar evaluations, on objective tables (every pair's
//! score at each fidelity, computed once) of four objectives — final equity, Sharpe, Sortino and
//! Calmar ratios — over three spaces: the bundled data (5 stocks) with fast 2:100:1 × slow
//! 5:300:1 and with fast 2:100:2 × slow 5:300:5, and a derived 252,000-bar series with the
//! stepped ranges. Prints each case's median and worst share of the optimum and the defaults'
//! tally against each of the other two.
//!
//! ```text
//! cargo run --release -p bench-workloads --example bohb_settings
//! ```

#![allow(clippy::print_stdout)] // the figures are the output

use bench_search::{BohbSettings, Method, Plan, Table};
use bench_workloads::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let real = load_csv(&bundled_csv_path())?;
    let cases = [
        ("bundled, full", real.clone(), "2:100:1", "5:300:1"),
        ("bundled, stepped", real.clone(), "2:100:2", "5:300:5"),
        ("derived", derive(&real, 1, 252_000, 42)?, "2:100:2", "5:300:5"),
    ];
    let settings = [
        BohbSettings::hpbandster(),
        BohbSettings { skip_evaluated: false, ..BohbSettings::default() },
        BohbSettings::default(),
    ];
    // The defaults against HpBandSter's settings and against 24 candidates without the skip:
    // better, equal, worse median.
    let mut tally = [[0; 3]; 2];
    println!(
        "| data | objective | budget | HpBandSter's (64): median | worst | 24, no skip: median | worst | default (24, skip): median | worst |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (name, bundle, f, s) in cases {
        let handle = TempEngine::new(bundle, std::thread::available_parallelism().map_or(1, usize::from))?;
        let (fast, slow): (ParamRange, ParamRange) = (f.parse()?, s.parse()?);
        let space = sma_space(&fast, &slow);
        for objective in
            [Objective::FinalEquity, Objective::SharpeRatio, Objective::SortinoRatio, Objective::Calmar]
        {
            let spec = SearchSpec {
                assets: (0..handle.engine.bundle().assets.len()).collect(),
                fast,
                slow,
                method: Method::Grid,
                plan: Plan { min_fidelity: MIN_FIDELITY, eta: ETA, cost_limit: 0, seed: 0 },
                rules: Rules::Exact,
                objective,
                max_seconds: None,
            };
            let table: Table = objective_table(&handle.engine, &spec, LadderStep::fastest().optimizations())?;
            let optimum = table.full_scores().iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let grid_cost = table.rows.len() as u64 * table.costs[table.costs.len() - 1];
            for divisor in [5u64, 10, 20] {
                let mut medians = Vec::new();
                let mut row = format!("| {name} | {} | 1/{divisor} |", objective.name());
                for s in &settings {
                    let mut shares = (0..20)
                        .map(|seed| {
                            let plan = Plan {
                                min_fidelity: MIN_FIDELITY,
                                eta: ETA,
                                cost_limit: grid_cost / divisor,
                                seed,
                            };
                            let found = bench_search::search(
                                &space,
                                &Method::Bohb(s.clone()),
                                &plan,
                                &mut table.clone(),
                            )?;
                            Ok(found.best.map_or(f64::NEG_INFINITY, |b| b.score / optimum))
                        })
                        .collect::<Result<Vec<f64>, bench_search::SearchError<bench_search::TableError>>>()?;
                    shares.sort_by(f64::total_cmp);
                    let median = (shares[9] + shares[10]) / 2.0;
                    medians.push(median);
                    row.push_str(&format!(" {median:.4} | {:.4} |", shares[0]));
                }
                println!("{row}");
                for (t, other) in tally.iter_mut().zip(&medians) {
                    t[match medians[2].total_cmp(other) {
                        std::cmp::Ordering::Greater => 0,
                        std::cmp::Ordering::Equal => 1,
                        std::cmp::Ordering::Less => 2,
                    }] += 1;
                }
            }
        }
    }
    for (t, name) in tally.iter().zip(["HpBandSter's settings", "24 candidates without the skip"]) {
        println!(
            "\nThe defaults against {name}, median share of the optimum: better in {}, equal in {}, worse in {} cases",
            t[0], t[1], t[2]
        );
    }
    Ok(())
}
