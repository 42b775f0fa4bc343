//! The parameter searches on the real engine and the real data: budgets are kept, costs add up,
//! seeds replay, every ladder step finds the same, and on a real space every search — BOHB,
//! Hyperband and random — lands in the grid's top percent at a tenth of its cost. (That the
//! model-based searches *beat* random search is not shown here: on this space random search is
//! already in the top percent.)

use bench_workloads::*;

fn engine() -> TempEngine {
    TempEngine::new(load_csv(&bundled_csv_path()).unwrap(), 2).unwrap()
}

fn spec(e: &TempEngine, method: &str, budget: u64, seed: u64) -> SearchSpec {
    SearchSpec {
        assets: (0..e.engine.bundle().assets.len()).collect(),
        fast: "5:60:1".parse().unwrap(),
        slow: "20:300:10".parse().unwrap(),
        method: method.parse().unwrap(),
        plan: bench_search::Plan { min_fidelity: MIN_FIDELITY, eta: ETA, cost_limit: budget, seed },
        rules: Rules::Exact,
        objective: Objective::FinalEquity,
        max_seconds: None,
    }
}

#[test]
fn budgets_are_kept_costs_add_up_and_seeds_replay() {
    let e = engine();
    let opts = LadderStep::fastest().optimizations();
    let grid = run_search(&e.engine, &spec(&e, "grid", u64::MAX, 0), opts).unwrap();
    assert_eq!(grid.bar_evals, grid.grid_bar_evals, "the grid evaluates every pair once on the full history");
    assert_eq!(grid.trials.len() as u64, grid.space_size);
    // The grid's optimum is the best heatmap cell of run_grid (mean final equity over assets).
    let g = run_grid(
        &e.engine,
        &GridSpec {
            assets: (0..5).collect(),
            params: param_grid(&"5:60:1".parse().unwrap(), &"20:300:10".parse().unwrap()),
            objective: Objective::FinalEquity,
            rules: bench_workloads::Rules::Exact,
        },
        opts,
    )
    .unwrap();
    let best_cell = g.heat_cells(Objective::FinalEquity).into_iter().map(|c| c.2).fold(f64::MIN, f64::max);
    assert!((grid.best_objective.unwrap() - best_cell).abs() < 1e-9 * best_cell);
    // And the grid's report names the same pair as its best over the assets.
    let best = BestPair::of(&g.combos, Objective::FinalEquity).unwrap();
    let found = grid.best_params.unwrap();
    assert_eq!((best.fast, best.slow, best.assets), (found.fast, found.slow, 5));
    assert!((best.mean_score - best_cell).abs() < 1e-9 * best_cell);
    let budget = grid.grid_bar_evals / 10;
    for method in ["bohb", "hyperband", "random"] {
        let a = run_search(&e.engine, &spec(&e, method, budget, 3), opts).unwrap();
        let b = run_search(&e.engine, &spec(&e, method, budget, 3), opts).unwrap();
        // Everything but the clock's readings.
        let timeless =
            |o: &SearchOutcome| SearchOutcome { wall_seconds: 0.0, model_seconds: 0.0, ..o.clone() };
        assert_eq!(timeless(&a), timeless(&b), "{method}: seeded, so replayed exactly");
        assert!(a.wall_seconds > 0.0 && (method == "bohb") == (a.model_seconds > 0.0), "{method}");
        assert!(a.model_seconds < a.wall_seconds, "{method}: the model's time is part of the search's");
        assert!(a.bar_evals <= budget, "{method}: spent {} of {budget}", a.bar_evals);
        assert!(a.bar_evals > budget * 9 / 10, "{method}: spends (nearly) its budget: {}", a.bar_evals);
        assert_eq!(a.trials.iter().map(|t| t.cost).sum::<u64>(), a.bar_evals, "{method}: trial costs add up");
        assert!(a.best_objective.unwrap() <= grid.best_objective.unwrap() + 1e-9);
        let c = run_search(&e.engine, &spec(&e, method, budget, 4), opts).unwrap();
        assert_ne!(a.trials, c.trials, "{method}: another seed, another search");
    }
    // Every rung of a bracket keeps 1/η of the configurations at η times the fidelity.
    let hb = run_search(&e.engine, &spec(&e, "hyperband", budget, 3), opts).unwrap();
    let first: Vec<&bench_search::Trial> =
        hb.trials.iter().filter(|t| t.bracket.is_some_and(|b| b.0 == 2)).collect();
    let per_rung = |r: u32| first.iter().filter(|t| t.bracket == Some((2, r))).count();
    assert!(per_rung(0) >= 9 && per_rung(1) * 3 <= per_rung(0) + 2, "{} {}", per_rung(0), per_rung(1));
}

#[test]
fn every_ladder_step_finds_the_same() {
    let e = engine();
    let s = spec(&e, "bohb", 2_000_000, 11);
    // Everything but the clock's readings.
    let timeless = |o: SearchOutcome| SearchOutcome { wall_seconds: 0.0, model_seconds: 0.0, ..o };
    let reference = timeless(run_search(&e.engine, &s, LadderStep::Baseline.optimizations()).unwrap());
    for step in LadderStep::ALL.into_iter().skip(1) {
        assert_eq!(timeless(run_search(&e.engine, &s, step.optimizations()).unwrap()), reference, "{step:?}");
    }
}

#[test]
fn searches_at_a_tenth_of_the_grid_find_pairs_near_its_top() {
    let e = engine();
    let opts = LadderStep::fastest().optimizations();
    let grid = run_search(&e.engine, &spec(&e, "grid", u64::MAX, 0), opts).unwrap();
    let mut all: Vec<f64> = grid.trials.iter().map(|t| t.score).collect();
    all.sort_by(f64::total_cmp);
    // The share of the grid's pairs the best found beats or equals.
    let percentile = |v: f64| all.partition_point(|&x| x <= v) as f64 / all.len() as f64;
    let budget = grid.grid_bar_evals / 10;
    let median = |method: &str| {
        let mut v: Vec<f64> = (0..7)
            .map(|seed| {
                percentile(
                    run_search(&e.engine, &spec(&e, method, budget, seed), opts)
                        .unwrap()
                        .best_objective
                        .unwrap(),
                )
            })
            .collect();
        v.sort_by(f64::total_cmp);
        v[3]
    };
    let (bohb, hyperband, random) = (median("bohb"), median("hyperband"), median("random"));
    println!(
        "median percentile of the best found at 1/10 of the grid's cost, 7 seeds: bohb {bohb:.4}, hyperband {hyperband:.4}, random {random:.4}"
    );
    // Random search with a tenth of the pairs lands in the top percent; the bracket methods,
    // which spend part of the budget on lower fidelities, must too.
    for (m, p) in [("bohb", bohb), ("hyperband", hyperband), ("random", random)] {
        assert!(p > 0.99, "{m}: median percentile {p}");
    }
}

/// Every objective means the same on the grid and the search: the search over every pair
/// (method `grid`) picks the pair of the grid's best mean over the assets, with the same score;
/// backtesting.py's Sharpe ratio (it needs equity curves) is refused by both.
#[test]
fn every_objective_ranks_the_grid_and_the_search_alike() {
    let e = engine();
    let opts = LadderStep::fastest().optimizations();
    let (fast, slow): (ParamRange, ParamRange) = ("5:40:5".parse().unwrap(), "20:200:20".parse().unwrap());
    let assets: Vec<usize> = (0..5).collect();
    for objective in [
        Objective::FinalEquity,
        Objective::SharpeRatio,
        Objective::SortinoRatio,
        Objective::MinDrawdown,
        Objective::TotalReturn,
        Objective::Calmar,
    ] {
        let grid = GridSpec {
            assets: assets.clone(),
            params: param_grid(&fast, &slow),
            objective,
            rules: Rules::Exact,
        };
        let g = run_grid(&e.engine, &grid, opts).unwrap();
        let best = BestPair::of(&g.combos, objective).unwrap();
        let s = SearchSpec { fast, slow, objective, ..spec(&e, "grid", u64::MAX, 0) };
        let found = run_search(&e.engine, &s, opts).unwrap();
        let p = found.best_params.unwrap();
        assert_eq!((p.fast, p.slow), (best.fast, best.slow), "{objective:?}");
        let score = found.best_objective.unwrap();
        assert!((score - best.mean_score).abs() <= 1e-9 * best.mean_score.abs().max(1.0), "{objective:?}");
        assert!(found.objective.contains(objective.name()), "{}", found.objective);
    }
    // The Calmar ratio of one backtest: total return over the drawdown, floored at 1%.
    let g = run_grid(
        &e.engine,
        &GridSpec {
            assets,
            params: param_grid(&fast, &slow),
            objective: Objective::Calmar,
            rules: Rules::Exact,
        },
        opts,
    )
    .unwrap();
    for c in &g.combos {
        let m = &c.metrics;
        assert_eq!(Objective::Calmar.score(m), m.total_return_percent / m.max_drawdown_percent.max(1.0));
    }
    // The Sortino ratio of one backtest, from its recorded equity curve by the definition:
    // mean per-bar return over √(Σ min(r, 0)² / n), × √252 — on every pair of the grid, on
    // both paths (the AVX2 kernel sums in four lanes, so to 1e-9 relative).
    let mut checked = 0;
    for c in &g.combos {
        let asset = e.engine.bundle().assets.iter().position(|a| a.symbol == c.symbol).unwrap();
        let Ok(run) = backtest_with(e.engine.bundle(), asset, c.params, Rules::Exact) else {
            // A slow window longer than the history: no trade, no downside.
            assert_eq!(c.metrics.sortino_ratio, 0.0);
            continue;
        };
        let curve = &run.record.as_ref().unwrap().equity;
        let r: Vec<f64> = curve.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
        let n = r.len() as f64;
        let down = (r.iter().map(|x| x.min(0.0).powi(2)).sum::<f64>() / n).sqrt();
        let expected = if down > 0.0 { r.iter().sum::<f64>() / n / down * 252f64.sqrt() } else { 0.0 };
        let got = c.metrics.sortino_ratio;
        assert!(
            (got - expected).abs() <= 1e-9 * expected.abs().max(1e-3),
            "{} {:?}: {got} vs {expected}",
            c.symbol,
            c.params
        );
        assert_eq!(Objective::SortinoRatio.score(&c.metrics), got);
        checked += usize::from(expected != 0.0);
    }
    assert!(checked > 100, "{checked} pairs with a downside");
    let bad = SearchSpec { objective: Objective::BacktestingPySharpe, ..spec(&e, "random", 1_000_000, 0) };
    assert!(matches!(run_search(&e.engine, &bad, opts), Err(WorkloadError::InvalidParameter(_))));
}

/// A time budget ends the search: no evaluation starts after it (so it ends at most one
/// evaluation past it), and one that does not bind changes nothing.
#[test]
fn a_time_budget_ends_the_search_and_one_that_does_not_bind_changes_nothing() {
    let e = engine();
    let opts = LadderStep::fastest().optimizations();
    let timed = SearchSpec { max_seconds: Some(0.2), ..spec(&e, "bohb", u64::MAX, 5) };
    let out = run_search(&e.engine, &timed, opts).unwrap();
    println!(
        "0.2-s budget: {:.3} s, {} bar evaluations, {} trials",
        out.wall_seconds,
        out.bar_evals,
        out.trials.len()
    );
    assert!(out.wall_seconds < 0.2 + 0.3, "took {} s", out.wall_seconds);
    assert!(out.bar_evals > 0 && out.best_params.is_some());
    assert_eq!(out.max_seconds, Some(0.2));
    let timeless =
        |o: SearchOutcome| SearchOutcome { wall_seconds: 0.0, model_seconds: 0.0, max_seconds: None, ..o };
    let free = spec(&e, "hyperband", 3_000_000, 5);
    let loose = SearchSpec { max_seconds: Some(1e6), ..free.clone() };
    assert_eq!(
        timeless(run_search(&e.engine, &loose, opts).unwrap()),
        timeless(run_search(&e.engine, &free, opts).unwrap())
    );
}

/// A search inside the walk-forward: an exhaustive one (method `grid`, no budget limit) picks
/// every window's pair as the in-sample grid does, with the same out-of-sample results and
/// cost; a BOHB search picks listed pairs within its per-window budget; backtesting.py's Sharpe
/// ratio is refused.
#[test]
fn a_search_inside_the_walk_forward_chooses_as_the_grid_when_exhaustive() {
    let e = engine();
    let opts = LadderStep::fastest().optimizations();
    let spec = WalkForwardSpec {
        assets: vec![0, 1],
        params: param_grid(&"2:30:2".parse().unwrap(), &"10:120:10".parse().unwrap()),
        in_sample: 600,
        out_of_sample: 150,
        step: 150,
        mode: WindowMode::Rolling,
        objective: Objective::SharpeRatio,
        rules: Rules::Exact,
        search: None,
    };
    let grid = run_walk_forward(&e.engine, &spec, opts).unwrap();
    let every = WindowSearch { method: "grid".into(), budget: Some(u64::MAX), seed: 0 };
    let exhaustive =
        run_walk_forward(&e.engine, &WalkForwardSpec { search: Some(every), ..spec.clone() }, opts).unwrap();
    assert_eq!(exhaustive, grid);
    let bohb = WindowSearch { method: "bohb".into(), budget: None, seed: 3 };
    let searched =
        run_walk_forward(&e.engine, &WalkForwardSpec { search: Some(bohb.clone()), ..spec.clone() }, opts)
            .unwrap();
    assert_eq!(searched.windows.len(), grid.windows.len());
    let oos: u64 = grid.windows.iter().map(|w| (w.range.oos_hi - w.range.is_hi) as u64).sum();
    let budget: u64 =
        grid.windows.iter().map(|w| bohb.budget_for(spec.params.len(), w.range.is_hi - w.range.is_lo)).sum();
    assert!(searched.bar_evaluations <= budget + oos, "{} > {budget} + {oos}", searched.bar_evaluations);
    assert!(searched.bar_evaluations * 5 < grid.bar_evaluations, "a tenth of the grid's cost, about");
    assert!(searched.windows.iter().all(|w| spec.params.contains(&w.params)));
    let same = searched.windows.iter().zip(&grid.windows).filter(|(a, b)| a.params == b.params).count();
    println!("BOHB at 1/10 picked the grid's pair in {same} of {} windows", grid.windows.len());
    let refused = WalkForwardSpec { objective: Objective::BacktestingPySharpe, search: Some(bohb), ..spec };
    assert!(matches!(run_walk_forward(&e.engine, &refused, opts), Err(WorkloadError::InvalidParameter(_))));
}
