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
    ] {
        let o = xtask(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}
