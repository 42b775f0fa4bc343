//! `cargo xtask backtest --search`: the documented JSON fields, the budget kept, every trial
//! exported with its fidelity and score, seeds that replay, and bad input refused.

use std::process::Command;

fn xtask(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).env("CI", "1").output().unwrap()
}

#[test]
fn a_seeded_search_keeps_its_budget_exports_every_trial_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let run = |csv: &str| {
        let csv = dir.path().join(csv);
        let o = xtask(&[
            "backtest",
            "--search",
            "hyperband",
            "--fast-range",
            "5:30:1",
            "--slow-range",
            "20:100:5",
            "--budget",
            "2000000",
            "--seed",
            "7",
            "--json",
            "--export-csv",
            csv.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        (v, std::fs::read_to_string(csv).unwrap())
    };
    let (mut a, csv_a) = run("a.csv");
    let (mut b, csv_b) = run("b.csv");
    // The clock's readings aside (a search without a model spends none in it).
    assert!(a["wall_seconds"].as_f64().unwrap() > 0.0 && a["model_seconds"] == 0.0, "{a}");
    for v in [&mut a, &mut b] {
        v["wall_seconds"] = serde_json::Value::Null;
    }
    assert_eq!(a, b, "the same seed, the same search");
    assert_eq!(csv_a, csv_b);
    let spent = a["bar_evals"].as_u64().unwrap();
    assert!(spent <= 2_000_000 && spent > 1_800_000, "spent {spent}");
    assert!(a["best_objective"].as_f64().unwrap() > 0.0);
    let best = &a["best_params"];
    assert!(best["fast"].as_u64().unwrap() < best["slow"].as_u64().unwrap());
    // Every trial, with its fidelity, score and cost; the costs add up to what was spent.
    let mut lines = csv_a.lines();
    let header = lines.next().unwrap();
    assert!(
        header.contains("fidelity") && header.contains("objective") && header.contains("bar_evals"),
        "{header}"
    );
    let col = |name: &str| header.split(',').position(|h| h == name).unwrap();
    let (fid, cost) = (col("fidelity"), col("bar_evals"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len() as u64, a["trials"].as_u64().unwrap());
    assert_eq!(rows.iter().map(|r| r[cost].parse::<u64>().unwrap()).sum::<u64>(), spent);
    let fidelities: std::collections::BTreeSet<String> = rows.iter().map(|r| r[fid].to_owned()).collect();
    assert!(fidelities.len() == 3, "Hyperband runs 1/9, 1/3 and full fidelity: {fidelities:?}");
}

#[test]
fn bad_search_input_is_refused_with_exit_2() {
    for (args, expected) in [
        (vec!["backtest", "--search", "bohb", "--budget", "0"], "--budget 0"),
        (vec!["backtest", "--search", "annealing"], "annealing"),
        (vec!["backtest", "--search", "grid", "--fast-range", "50:10:1"], "--fast-range"),
        (vec!["backtest", "--search", "random", "--objective", "backtesting-py-sharpe"], "walk-forward's"),
        (vec!["backtest", "--grid", "--objective", "backtesting-py-sharpe"], "walk-forward's"),
        (
            vec!["backtest", "--symbol", "GOOG", "--fast", "5", "--slow", "20", "--objective", "calmar"],
            "--fast",
        ),
        (vec!["backtest", "--walk-forward", "--search", "bohb", "--budget-time", "1s"], "--budget-time"),
    ] {
        let o = xtask(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

/// `--objective` reaches the grid (its best, its heatmap's scale) and the search (its best and
/// the objective it names), and the two agree on the pair.
#[test]
fn the_objective_is_named_and_shared_by_grid_and_search() {
    let dir = tempfile::tempdir().unwrap();
    let heatmap = dir.path().join("h.svg");
    let ranges = ["--fast-range", "5:40:5", "--slow-range", "20:200:20", "--objective", "sharpe-ratio"];
    let grid = xtask(
        &[&["backtest", "--grid", "--json", "--heatmap", heatmap.to_str().unwrap()], &ranges[..]].concat(),
    );
    assert_eq!(grid.status.code(), Some(0), "{}", String::from_utf8_lossy(&grid.stderr));
    let g: serde_json::Value = serde_json::from_slice(&grid.stdout).unwrap();
    assert_eq!(g["objective"], "Sharpe ratio");
    assert!(std::fs::read_to_string(&heatmap).unwrap().contains("Sharpe ratio (mean over assets)"));
    let every = ["backtest", "--search", "grid", "--budget", "1000000000000", "--json"];
    let search = xtask(&[&every[..], &ranges[..]].concat());
    assert_eq!(search.status.code(), Some(0), "{}", String::from_utf8_lossy(&search.stderr));
    let s: serde_json::Value = serde_json::from_slice(&search.stdout).unwrap();
    assert_eq!(s["objective"], "mean Sharpe ratio over the assets (full history)");
    assert_eq!(
        (&s["best_params"]["fast"], &s["best_params"]["slow"]),
        (&g["best_mean"]["fast"], &g["best_mean"]["slow"])
    );
    assert!(s["wall_seconds"].as_f64().unwrap() > 0.0);
}

/// `--budget-time` alone: no bar budget, the time stated, and the search ends by it.
#[test]
fn a_search_given_only_time_stops_in_it() {
    let o = xtask(&["backtest", "--search", "bohb", "--budget-time", "300ms", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["max_seconds"], 0.3);
    assert_eq!(v["budget"], u64::MAX);
    assert!(v["wall_seconds"].as_f64().unwrap() < 0.3 + 0.3, "{v}");
    let text = xtask(&["backtest", "--search", "random", "--budget-time", "200ms"]);
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(out.contains("of unlimited bar evaluations") && out.contains("of a 200 ms time budget"), "{out}");
}

/// `--walk-forward --search`: each window's pair chosen by the search, the summary says so.
#[test]
fn a_walk_forward_can_choose_by_search() {
    let o = xtask(&[
        "backtest",
        "--walk-forward",
        "--search",
        "random",
        "--budget",
        "500000",
        "--symbols",
        "GOOG,IBM",
        "--fast-range",
        "2:40:2",
        "--slow-range",
        "10:120:10",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["selection"], "random search, 500,000 bar evaluations per window");
    let windows = v["windows"].as_array().unwrap();
    assert!(!windows.is_empty());
    let oos: u64 = windows
        .iter()
        .map(|w| w["bars"]["oos_hi"].as_u64().unwrap() - w["bars"]["is_hi"].as_u64().unwrap())
        .sum();
    assert!(
        v["bar_evaluations"].as_u64().unwrap() <= windows.len() as u64 * 500_000 + oos,
        "{}",
        v["bar_evaluations"]
    );
}
