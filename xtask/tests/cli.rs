//! End-to-end tests of the command line on real files and the real engine.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn xtask() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    c.env("CI", "1");
    c
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn data(name: &str) -> PathBuf {
    root().join("examples/data").join(name)
}

fn run(args: &[&str]) -> Output {
    xtask().args(args).output().expect("xtask runs")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn pairwise_raw_data_accepted_exits_0() {
    let b = data("baseline.json");
    let c = data("candidate_batch_init.json");
    let o = run(&["evaluate", "--baseline", b.to_str().unwrap(), "--candidate", c.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("ACCEPTED: all 4 criteria met"), "{out}");
    assert!(out.contains("improvement") && out.contains("95% CI"));
}

#[test]
fn pairwise_aa_is_rejected_exits_1_and_json_has_the_design_keys() {
    let b = data("aa_first.json");
    let c = data("aa_second.json");
    let o =
        run(&["evaluate", "--baseline", b.to_str().unwrap(), "--candidate", c.to_str().unwrap(), "--json"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("exactly one JSON document");
    for key in [
        "schema_version",
        "passes_threshold",
        "improvement_percent",
        "speedup_ratio",
        "p_value",
        "statistical_significance",
        "memory_increase_percent",
        "baseline_ci_95",
        "optimized_ci_95",
        "decision_rationale",
        "failed_criteria",
        "baseline_sample_size",
        "optimized_sample_size",
        "t_statistic",
        "degrees_of_freedom",
        "threshold",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["passes_threshold"], false);
    assert_eq!(v["threshold"]["workflow_type"], "grid_search");
}

#[test]
fn pairwise_hyperfine_files_exit_0_and_1() {
    let b = data("hyperfine_baseline.json");
    let c = data("hyperfine_candidate.json");
    let o = run(&["evaluate", "--baseline", b.to_str().unwrap(), "--candidate", c.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("hyperfine JSON") && out.contains("memory not measured on both sides"), "{out}");
    let same = data("hyperfine_same.json");
    let o = run(&[
        "evaluate",
        "--baseline",
        c.to_str().unwrap(),
        "--candidate",
        same.to_str().unwrap(),
        "--preset",
        "strict",
    ]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
}

#[test]
fn pairwise_input_errors_exit_2_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("short.json");
    // The baseline's interleaved partner, cut: its runs can no longer be paired. (A file from
    // another suite is not paired at all, so a different count is no error there.)
    let raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("candidate_batch_init.json")).unwrap()).unwrap();
    let mut cut = raw.clone();
    cut["runs"].as_array_mut().unwrap().truncate(5);
    std::fs::write(&short, serde_json::to_string(&cut).unwrap()).unwrap();
    let b = data("baseline.json");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--candidate".into(), short.display().to_string()], "cannot pair runs"),
        (vec!["--candidate".into(), dir.path().join("missing.json").display().to_string()], "no such file"),
        (vec!["--candidate".into(), dir.path().display().to_string()], "is a directory"),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["evaluate".to_string(), "--baseline".into(), b.display().to_string()];
        args.extend(extra);
        let o = xtask().args(&args).output().unwrap();
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    let o = run(&[
        "evaluate",
        "--baseline",
        b.to_str().unwrap(),
        "--candidate",
        b.to_str().unwrap(),
        "--preset",
        "turbo",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("turbo"));
}

#[test]
fn backtest_matches_the_golden_case_and_reports_a_grid() {
    let o = run(&["backtest", "--symbol", "GOOG", "--fast", "10", "--slow", "30", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["trades"], 66);
    assert!((v["final_equity"].as_f64().unwrap() - 51406.235).abs() < 1e-6);
    for k in ["total_return_percent", "max_drawdown_percent", "sharpe_ratio"] {
        assert!(v[k].is_number());
    }
    let o = run(&[
        "backtest",
        "--grid",
        "--fast-range",
        "5:10:5",
        "--slow-range",
        "20:30:10",
        "--symbols",
        "GOOG",
        "--workers",
        "2",
        "--repeat",
        "3",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["combinations"], 4);
    assert_eq!(v["repeats"], 3);
    assert!(v["seconds_min"].as_f64().unwrap() <= v["seconds"].as_f64().unwrap());
    assert_eq!(v["bars"], 2148);
    assert!(v["bar_evals_per_s"].as_f64().unwrap() > 0.0);
    assert!(v["best"]["final_equity"].is_number());
    let o = run(&["backtest", "--grid", "--fast-range", "9:5", "--slow-range", "20:30:10"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn ladder_evaluation_end_to_end_at_a_small_size() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "evaluate",
        "--combinations",
        "2",
        "--runs",
        "10",
        "--max-pairs",
        "40",
        "--max-time",
        "5s",
        "--preset",
        "lenient",
        "--workers",
        "2",
        "--output-dir",
        dir.path().to_str().unwrap(),
        "--json",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["kind"], "sequential_evaluation");
    let steps = v["optimizations"].as_array().unwrap();
    assert!(!steps.is_empty());
    assert_eq!(steps[0]["name"], "batch-init");
    assert!(steps.iter().all(|s| s["equivalence"]["passed"] == true));
    for f in
        ["grid_search_bundled_report.md", "grid_search_bundled_report.json", "grid_search_bundled_bmf.json"]
    {
        assert!(dir.path().join("benchmark-results").join(f).exists(), "{f}");
    }
    let md =
        std::fs::read_to_string(dir.path().join("benchmark-results/grid_search_bundled_report.md")).unwrap();
    for section in ["## Summary", "## Optimizations", "## Threshold", "## Environment", "## Reproduce"] {
        assert!(md.contains(section), "{section}");
    }
    let raws = std::fs::read_dir(dir.path().join("profiling-results/raw_data")).unwrap().count();
    assert!(raws >= 2);
}

/// The `--flag`s a help text mentions anywhere, and the ones it defines in its option list.
fn help_flags(help: &str) -> (std::collections::BTreeSet<String>, std::collections::BTreeSet<String>) {
    let flag = |w: &str| {
        let f: String = w.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        (f.len() > 2 && f.starts_with("--") && f.as_bytes()[2].is_ascii_alphabetic()).then_some(f)
    };
    let mentioned =
        help.split(|c: char| c.is_whitespace() || "[](),;'`".contains(c)).filter_map(flag).collect();
    let mut defined: std::collections::BTreeSet<String> = help
        .lines()
        .filter_map(|l| {
            let t = l.trim_start();
            let t = t.strip_prefix("-").and_then(|r| r.split_once(", ")).map_or(t, |(_, rest)| rest);
            (l.starts_with("  ") && t.starts_with("--")).then(|| flag(t.split_whitespace().next()?)).flatten()
        })
        .collect();
    // clap's `[alias: --old]` (or `[aliases: …]`) after an option's description: other names it takes.
    let help = help.replace("[aliases: ", "[alias: ");
    defined.extend(
        help.split("[alias: ")
            .skip(1)
            .flat_map(|rest| rest.split(']').next().unwrap_or("").split(", ").filter_map(flag)),
    );
    (mentioned, defined)
}

#[test]
fn every_flag_a_help_text_mentions_is_one_the_command_takes() {
    let top = text(&run(&["--help"])).0;
    let (_, global) = help_flags(&top);
    for sub in ["evaluate", "profile", "compare", "calibrate", "backtest"] {
        let help = text(&run(&[sub, "--help"])).0;
        let (mentioned, defined) = help_flags(&help);
        assert!(defined.len() > 3, "{sub}: no option list found in\n{help}");
        // Flags of other tools the help quotes: `hyperfine --export-json`, `ray start --head`,
        // `py-spy record --format raw`, `tools/py_spy_calls.py --folded FILE --out FILE`.
        let others = ["--export-json", "--head", "--format", "--folded", "--out"];
        let unknown: Vec<&String> = mentioned
            .iter()
            .filter(|f| !defined.contains(*f) && !global.contains(*f) && !others.contains(&f.as_str()))
            .collect();
        assert!(
            unknown.is_empty(),
            "`cargo xtask {sub} --help` mentions flags it does not take: {unknown:?}"
        );
    }
}

/// Every path follows `--rules`: the JSON names the rules, and on short windows (where a cross
/// on the last bar or an exact SMA tie is common) the results change with them.
#[test]
fn every_backtest_path_follows_the_rules_flag() {
    let short = ["--symbols", "IBM,GOOG", "--fast-range", "2:8:2", "--slow-range", "5:25:5", "--json"];
    // GOOG 4/5 crosses on its last bar: the search's only pair scores differently.
    let one_pair =
        ["--symbols", "GOOG", "--fast-range", "4:4", "--slow-range", "5:5", "--budget", "100000", "--json"];
    let modes: [(&[&str], &[&str]); 3] = [
        (&["--grid"], &short),
        (&["--walk-forward", "--in-sample", "252", "--out-of-sample", "63"], &short),
        (&["--search", "random"], &one_pair),
    ];
    for (mode, data) in modes {
        let doc = |rules: &str| {
            let args = [&["backtest", "--rules", rules][..], mode, data].concat();
            let o = run(&args);
            let (out, err) = text(&o);
            assert_eq!(o.status.code(), Some(0), "{args:?}: {out}{err}");
            serde_json::from_str::<serde_json::Value>(&out).unwrap()
        };
        let (exact, compat) = (doc("exact"), doc("backtesting-py"));
        if mode[0] == "--search" {
            assert_eq!(compat["rules"], "backtesting-py", "{mode:?}");
            assert_ne!(
                exact["best_objective"], compat["best_objective"],
                "{mode:?}: the search ignored --rules"
            );
            continue;
        }
        assert_eq!(
            (exact["rules"].as_str(), compat["rules"].as_str()),
            (Some("exact"), Some("backtesting-py"))
        );
        let key = if mode[0] == "--grid" { "results" } else { "windows" };
        assert_ne!(exact[key], compat[key], "{mode:?}: the results ignored --rules");
    }
    // The older spelling still works.
    let o = run(&["backtest", "--symbol", "GOOG", "--fast", "4", "--slow", "5", "--sma", "pandas", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
    assert_eq!(v["rules"], "backtesting-py");
    assert!((v["final_equity"].as_f64().unwrap() - 13_687.99).abs() < 0.005, "{v}");
}
