//! The time every sweep plans before it starts (grid, walk-forward, the searches), checked
//! against the time the work then takes (to the summary, rule checks included). The estimate
//! is the work in bar evaluations over a pilot's rate — backtests and the rule check on the
//! first asset for a grid or a walk-forward, the same search on a twentieth of its budget for
//! a search — so it misses what the pilot cannot see: other assets, the pool's scaling over
//! many more backtests, a model whose cost grows with its trials. Each ratio is printed; the
//! bound is what a person planning their time can rely on, on this noisy 2-core machine.

#![allow(clippy::print_stdout)] // the measured errors are the test's report

use std::sync::Mutex;
use std::time::Instant;

use bench_workloads::*;

/// The planned seconds and the seconds from the plan to the end of `work`.
fn planned_and_taken(work: impl FnOnce(&(dyn Fn(SweepEvent<'_>) + Sync))) -> (f64, f64) {
    let planned: Mutex<Option<(f64, Instant)>> = Mutex::new(None);
    let show = |e: SweepEvent<'_>| {
        if let SweepEvent::Plan { seconds, .. } = e {
            *planned.lock().unwrap() = Some((seconds, Instant::now()));
        }
    };
    work(&show);
    let (seconds, at) = planned.lock().unwrap().expect("a plan is announced before the work");
    (seconds, at.elapsed().as_secs_f64())
}

fn sweep() -> Sweep {
    Sweep { step: LadderStep::fastest(), workers: 2, backend: SweepBackend::Local, confirmed: false }
}

fn bundle() -> Bundle {
    load_csv(&bundled_csv_path()).unwrap()
}

/// Within a factor of `FACTOR` either way: a plan that says "about 20 s" for work of 7 s to
/// a minute. The measured factors are far tighter (printed; 0.9–1.25 on the reference machine,
/// BOHB's the widest: its model costs more per trial as trials accumulate, which a pilot of a
/// twentieth of the budget sees too little of); the bound leaves room for a neighbour taking
/// a core for part of the run.
const FACTOR: f64 = 3.0;

/// The tests here time work on both cores: one at a time.
static ALONE: Mutex<()> = Mutex::new(());

fn check(what: &str, (planned, taken): (f64, f64)) -> Option<String> {
    let ratio = taken / planned;
    println!("{what}: planned {planned:.2} s, took {taken:.2} s, taken / planned = {ratio:.2}");
    (!(1.0 / FACTOR..=FACTOR).contains(&ratio)).then(|| {
        format!("{what}: planned {planned:.2} s, took {taken:.2} s (ratio {ratio:.2}, allowed 1/{FACTOR}–{FACTOR})")
    })
}

#[test]
fn grid_and_walk_forward_estimates_hold() {
    let _alone = ALONE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let b = bundle();
    let params = param_grid(&"2:100:1".parse().unwrap(), &"10:300:2".parse().unwrap());
    let assets: Vec<usize> = (0..b.assets.len()).collect();
    let spec = GridSpec {
        assets: assets.clone(),
        params: params.clone(),
        objective: Objective::FinalEquity,
        rules: Rules::Exact,
    };
    let mut off = Vec::new();
    off.extend(check(
        "grid (5 assets, 13,000+ pairs)",
        planned_and_taken(|show| {
            sweep().grid(b.clone(), &spec, 1, show).unwrap();
        }),
    ));
    let spec = WalkForwardSpec {
        assets,
        params: param_grid(&"2:60:1".parse().unwrap(), &"10:200:2".parse().unwrap()),
        in_sample: 500,
        out_of_sample: 100,
        step: 100,
        mode: WindowMode::Rolling,
        objective: Objective::SharpeRatio,
        rules: Rules::Exact,
        search: None,
    };
    off.extend(check(
        "walk-forward (5 assets, rolling 500/100)",
        planned_and_taken(|show| {
            sweep().walk_forward(b.clone(), &spec, show).unwrap();
        }),
    ));
    for method in ["bohb", "random"] {
        let searched = WalkForwardSpec {
            search: Some(WindowSearch { method: method.into(), budget: None, seed: 1 }),
            ..spec.clone()
        };
        off.extend(check(
            &format!("walk-forward choosing by a {method} search"),
            planned_and_taken(|show| {
                sweep().walk_forward(b.clone(), &searched, show).unwrap();
            }),
        ));
    }
    assert!(off.is_empty(), "{off:#?}");
}

#[test]
fn search_estimates_hold() {
    let _alone = ALONE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let b = bundle();
    let assets: Vec<usize> = (0..b.assets.len()).collect();
    let (fast, slow): (ParamRange, ParamRange) = ("2:100:1".parse().unwrap(), "10:300:2".parse().unwrap());
    let bars: u64 = assets.iter().map(|&a| b.assets[a].len() as u64).sum();
    let mut off = Vec::new();
    // The default budget (a tenth of the full grid's), and one past what the search can spend
    // (not for BOHB: its model's cost grows faster than its trials — 148 s against 56 s
    // planned at 5×10¹⁰ here, noted in the docs, and too long for a test).
    let default = default_search_budget(grid_size(&fast, &slow).unwrap(), bars);
    let cases = [
        (default, "bohb"),
        (default, "hyperband"),
        (default, "random"),
        (50_000_000_000, "hyperband"),
        (50_000_000_000, "random"),
    ];
    for (budget, method) in cases {
        {
            let spec = SearchSpec {
                assets: assets.clone(),
                fast,
                slow,
                method: method.parse().unwrap(),
                plan: bench_search::Plan {
                    min_fidelity: MIN_FIDELITY,
                    eta: ETA,
                    cost_limit: budget,
                    seed: 3,
                },
                rules: Rules::Exact,
                objective: Objective::FinalEquity,
                max_seconds: None,
            };
            off.extend(check(
                &format!("{method} search ({} bar evaluations)", bench_core::units::count(budget)),
                planned_and_taken(|show| {
                    sweep().search(b.clone(), &spec, show).unwrap();
                }),
            ));
        }
    }
    assert!(off.is_empty(), "{off:#?}");
}
