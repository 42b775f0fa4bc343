//! What a new user meets in the first hour, each finding of the first-hour review with the test
//! that would have caught it: honest pairing, named regressions, thresholds set on the command
//! line, counts that add up, colour only on a terminal, readable profiles, short series named,
//! every grid combination exported, walk-forward from the command line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn xtask() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    c.env("CI", "1").env_remove("NO_COLOR");
    c
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn data(name: &str) -> String {
    root().join("examples/data").join(name).display().to_string()
}

fn run(args: &[&str]) -> Output {
    xtask().args(args).output().expect("xtask runs")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Seconds of a duration as the tool prints it: `850 ms`, `56.6 s`, `1 min 08 s`, `1 h 05 min`.
fn seconds_of(text: &str) -> f64 {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .chunks(2)
        .map(|w| {
            let n: f64 = w[0].parse().unwrap_or_else(|_| panic!("a duration: {text:?}"));
            n * match w.get(1).copied() {
                Some("ms") => 1e-3,
                Some("s") => 1.0,
                Some("min") => 60.0,
                Some("h") => 3600.0,
                unit => panic!("unit {unit:?} in {text:?}"),
            }
        })
        .sum()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("one JSON document: {e}: {:?}", text(o)))
}

/// Finding 1: Runs from two separate invocations are not paired: Welch's test, "not interleaved",
/// unequal counts allowed. Runs interleaved in one suite still pair.
#[test]
fn only_interleaved_runs_are_paired() {
    let o = run(&[
        "evaluate",
        "--baseline",
        &data("baseline.json"),
        "--candidate",
        &data("aa_second.json"),
        "--json",
    ]);
    let v = json(&o);
    assert_eq!(v["pairing"], "not_interleaved", "{v}");
    assert!(v["decision_rationale"].as_str().unwrap().contains("not interleaved"));
    assert!(v["welch_degrees_of_freedom"].is_number());
    let o = run(&["evaluate", "--baseline", &data("baseline.json"), "--candidate", &data("aa_second.json")]);
    let (out, err) = text(&o);
    assert!(out.contains("NOT interleaved (Welch's t-test)"), "{out}");
    assert!(err.contains("not interleaved in one suite"), "{err}");
    // Unequal run counts are fine when nothing is paired.
    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("short.json");
    let mut raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("candidate_indicator_cache.json")).unwrap())
            .unwrap();
    raw["runs"].as_array_mut().unwrap().truncate(7);
    std::fs::write(&short, serde_json::to_string(&raw).unwrap()).unwrap();
    let v = json(&run(&[
        "evaluate",
        "--baseline",
        &data("baseline.json"),
        "--candidate",
        short.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(
        (v["baseline_sample_size"].as_u64(), v["optimized_sample_size"].as_u64()),
        (Some(10), Some(7))
    );
    // The interleaved partners pair.
    let v = json(&run(&[
        "evaluate",
        "--baseline",
        &data("baseline.json"),
        "--candidate",
        &data("candidate_batch_init.json"),
        "--json",
    ]));
    assert_eq!(v["pairing"], "interleaved");
    // A cut partner cannot be paired and is not silently treated as independent.
    let cut = dir.path().join("cut.json");
    let mut raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("candidate_batch_init.json")).unwrap()).unwrap();
    raw["runs"].as_array_mut().unwrap().truncate(6);
    std::fs::write(&cut, serde_json::to_string(&raw).unwrap()).unwrap();
    let o = run(&["evaluate", "--baseline", &data("baseline.json"), "--candidate", cut.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("cannot pair runs"), "{:?}", text(&o));
}

/// Finding 2: A hyperfine export with several commands is refused unless one is chosen.
#[test]
fn a_hyperfine_export_with_several_results_needs_a_choice() {
    let dir = tempfile::tempdir().unwrap();
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(data(f)).unwrap()).unwrap()
    };
    let (a, b) = (read("hyperfine_baseline.json"), read("hyperfine_candidate.json"));
    let both = serde_json::json!({"results": [a["results"][0], b["results"][0]]});
    let path = dir.path().join("both.json");
    std::fs::write(&path, serde_json::to_string(&both).unwrap()).unwrap();
    let p = path.to_str().unwrap();
    let o = run(&["evaluate", "--baseline", p, "--candidate", p]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("0: `") && err.contains("1: `"), "the commands are listed: {err}");
    let o = run(&[
        "evaluate",
        "--baseline",
        p,
        "--baseline-result",
        "0",
        "--candidate",
        p,
        "--candidate-result",
        "1",
        "--json",
    ]);
    let v = json(&o);
    assert_eq!(v["candidate"]["label"], b["results"][0]["command"]);
    let cmd = b["results"][0]["command"].as_str().unwrap();
    let o = run(&[
        "evaluate",
        "--baseline",
        p,
        "--baseline-result",
        "0",
        "--candidate",
        p,
        "--candidate-result",
        cmd,
        "--json",
    ]);
    assert_eq!(json(&o)["candidate"]["label"], cmd);
    let o = run(&[
        "evaluate",
        "--baseline",
        p,
        "--baseline-result",
        "7",
        "--candidate",
        p,
        "--candidate-result",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// Finding 3: A significantly slower candidate is named a regression, with its own test and CI.
#[test]
fn a_significant_slowdown_is_a_regression() {
    let o = run(&[
        "evaluate",
        "--baseline",
        &data("hyperfine_candidate.json"),
        "--candidate",
        &data("hyperfine_baseline.json"),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["verdict"], "regression", "{v}");
    assert!(v["regression_p_value"].as_f64().unwrap() < 0.05);
    let rationale = v["decision_rationale"].as_str().unwrap();
    assert!(
        rationale.starts_with("REGRESSION: the candidate is")
            && rationale.contains("upper bound of the improvement")
            && rationale.contains("Classic rule")
            && rationale.contains("reported beside: REGRESSION"),
        "{rationale}"
    );
}

/// Finding 4: Threshold values from the command line override the preset and are echoed; the header
/// speaks in words; a memory increase under the floor does not fail.
#[test]
fn thresholds_can_be_set_on_the_command_line() {
    let b = data("baseline.json");
    let c = data("candidate_batch_init.json");
    let v = json(&run(&[
        "evaluate",
        "--baseline",
        &b,
        "--candidate",
        &c,
        "--min-improvement",
        "1.5",
        "--confidence",
        "0.9",
        "--max-memory-increase",
        "0",
        "--memory-floor",
        "1GiB",
        "--json",
    ]));
    assert_eq!(v["threshold"]["min_improvement_percent"].as_f64(), Some(1.5));
    assert_eq!(v["threshold"]["statistical_confidence"].as_f64(), Some(0.9));
    assert_eq!(v["threshold"]["memory_floor_bytes"].as_u64(), Some(1 << 30));
    assert!(
        v["threshold"]["rationale"]
            .as_str()
            .unwrap()
            .contains("set by the command line: minimum improvement 1.5%")
    );
    let o = run(&["evaluate", "--baseline", &b, "--candidate", &c, "--min-improvement", "1.5"]);
    let (out, _) = text(&o);
    assert!(out.contains("threshold for grid search on medium datasets (10,000–99,999 rows)"), "{out}");
    assert!(!out.contains("*/*"));
    let o = run(&["evaluate", "--baseline", &b, "--candidate", &c, "--confidence", "1.5"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("statistical_confidence"), "{:?}", text(&o));
}

/// Finding 6, 7: The summary counts every raw-data file it wrote (the final check's pair included) and
/// speaks in human units; 8. no colour codes without a terminal.
#[test]
fn the_ladder_summary_counts_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "evaluate",
        "--combinations",
        "2",
        "--runs",
        "4",
        "--max-time",
        "5s",
        "--preset",
        "lenient",
        "--workers",
        "2",
        "--output-dir",
        dir.path().to_str().unwrap(),
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let written = std::fs::read_dir(dir.path().join("profiling-results/raw_data")).unwrap().count();
    assert!(out.contains(&format!("  {written} raw-data files under")), "{written} files, but: {out}");
    assert!(!out.contains('\x1b'), "no colour codes when stdout is not a terminal");
    let o = run(&[
        "evaluate",
        "--baseline",
        &data("baseline.json"),
        "--candidate",
        &data("candidate_batch_init.json"),
    ]);
    let (out, _) = text(&o);
    assert!(out.contains("354.039 ms") && !out.contains("0.354039"), "human units: {out}");
}

/// Finding 8: Colour on a terminal (a pseudo-terminal from `script`), off with NO_COLOR; usage lines
/// name `cargo xtask`.
#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let cmd = format!(
        "{} evaluate --baseline {} --candidate {}",
        env!("CARGO_BIN_EXE_xtask"),
        data("baseline.json"),
        data("candidate_batch_init.json")
    );
    let tty = |no_color: bool| {
        let mut c = Command::new("script");
        c.args(["-qec", &cmd, "/dev/null"]).env_remove("NO_COLOR");
        if no_color {
            c.env("NO_COLOR", "1");
        }
        String::from_utf8_lossy(&c.output().expect("script(1) from util-linux").stdout).into_owned()
    };
    let coloured = tty(false);
    assert!(coloured.contains("\x1b[1;32mACCEPTED\x1b[0m"), "{coloured:?}");
    assert!(!tty(true).contains('\x1b'));
    let help = text(&run(&["evaluate", "--help"])).0;
    assert!(help.contains("Usage: cargo xtask evaluate"), "{help}");
}

/// Finding 9: The alias shows cargo's progress (stderr) instead of passing --quiet.
#[test]
fn the_alias_shows_the_build() {
    let config = std::fs::read_to_string(root().join(".cargo/config.toml")).unwrap();
    let alias = config.lines().find(|l| l.starts_with("xtask =")).unwrap();
    assert!(alias.contains("--release") && !alias.contains("--quiet"), "{alias}");
}

/// Finding 14: A series shorter than the slow window: a single backtest exits 2 naming the asset, its
/// bars and the window; a grid names the assets too short for some windows.
#[test]
fn short_series_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("short.csv");
    let mut s = String::from("Ticker,Date,Open,High,Low,Close,Volume\n");
    for d in 1..=20 {
        s.push_str(&format!("X,2020-01-{d:02},10,11,9,{}.5,100\n", 10 + d % 3));
    }
    std::fs::write(&csv, s).unwrap();
    let o =
        run(&["backtest", "--symbol", "X", "--fast", "5", "--slow", "30", "--data", csv.to_str().unwrap()]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("X has 20 bars") && err.contains("30-bar slow window"), "{err}");
    let v = json(&run(&["backtest", "--grid", "--json"]));
    let short = v["short_series"].as_array().unwrap();
    assert_eq!(short.len(), 1, "{short:?}");
    assert_eq!((short[0]["symbol"].as_str(), short[0]["bars"].as_u64()), (Some("FB"), Some(196)));
    assert_eq!(short[0]["slow_windows"], serde_json::json!([200]));
    let (out, _) = text(&run(&["backtest", "--grid"]));
    assert!(out.contains("need more bars than FB has (196 bars; slow windows 200)"), "{out}");
}

/// Finding 15, 16, 18: Ranges and naming are documented; a grid exports every combination (JSON, CSV)
/// and draws a heatmap.
#[test]
fn a_grid_exports_every_combination() {
    let help = text(&run(&["backtest", "--help"])).0;
    assert!(help.contains("A:B means step 1"), "{help}");
    let help = text(&run(&["profile", "--help"])).0;
    assert!(help.contains("<ID>_<workflow>_<step>_<kind>"), "{help}");
    let dir = tempfile::tempdir().unwrap();
    let (csv, svg) = (dir.path().join("g.csv"), dir.path().join("g.svg"));
    let o = run(&[
        "backtest",
        "--grid",
        "--fast-range",
        "5:15",
        "--slow-range",
        "20:40:10",
        "--symbols",
        "GOOG,IBM",
        "--export-csv",
        csv.to_str().unwrap(),
        "--heatmap",
        svg.to_str().unwrap(),
        "--json",
    ]);
    let v = json(&o);
    assert_eq!(v["combinations"], 33, "11 fast × 3 slow windows");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 66);
    let rows = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(rows.lines().count(), 67, "a header and one row per backtest");
    assert!(rows.starts_with("symbol,fast,slow,bars,trades,final_equity"));
    let best = &v["best"];
    assert!(rows.contains(&format!(
        "{},{},{},",
        best["symbol"].as_str().unwrap(),
        best["fast"],
        best["slow"]
    )));
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("slow window"));
}

/// Finding 19: The SMA rule is selectable and exact ties are counted.
#[test]
fn exact_sma_ties_are_counted_and_the_pandas_rule_selectable() {
    let v = json(&run(&["backtest", "--symbol", "MSFT", "--fast", "25", "--slow", "40", "--json"]));
    assert_eq!(v["rules"], "exact");
    assert!(v["exact_sma_ties"].as_u64().unwrap() >= 1, "{v}");
    let p = json(&run(&[
        "backtest",
        "--symbol",
        "MSFT",
        "--fast",
        "25",
        "--slow",
        "40",
        "--rules",
        "backtesting-py",
        "--json",
    ]));
    assert_eq!(p["rules"], "backtesting-py");
    let (out, _) = text(&run(&["backtest", "--symbol", "IBM", "--fast", "4", "--slow", "9"]));
    assert!(out.contains("SMA tie at bar(s) 3239, 3240"), "{out}");
}

/// Finding 20: Walk-forward from the command line, with the figures of the backtesting.py cross-check.
#[test]
fn walk_forward_runs_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("oos.svg");
    let v = json(&run(&[
        "backtest",
        "--walk-forward",
        "--symbols",
        "GOOG",
        "--equity-svg",
        svg.to_str().unwrap(),
        "--json",
    ]));
    let golden: serde_json::Value = serde_json::from_str(include_str!(
        "../../crates/bench-workloads/tests/golden/walk_forward_cases.json"
    ))
    .unwrap();
    let case = &golden["cases"][0];
    assert_eq!(case["symbol"], "GOOG");
    let windows = v["windows"].as_array().unwrap();
    assert_eq!(windows.len(), case["windows"].as_array().unwrap().len());
    for (w, g) in windows.iter().zip(case["windows"].as_array().unwrap()) {
        assert_eq!((&w["fast"], &w["slow"]), (&g["fast"], &g["slow"]));
    }
    let e = v["walk_forward_efficiency"].as_f64().unwrap();
    assert!((e - case["summary"]["efficiency"].as_f64().unwrap()).abs() < 1e-9);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("GOOG"));
    let (out, _) = text(&run(&[
        "backtest",
        "--walk-forward",
        "--symbols",
        "GOOG",
        "--in-sample",
        "252",
        "--out-of-sample",
        "63",
        "--step",
        "63",
        "--anchored",
    ]));
    assert!(out.contains("Walk-forward (anchored)") && out.contains("walk-forward efficiency"), "{out}");
}

/// Adaptive verdicts: `calibrate` measures the noise and runs 50 real A/A comparisons (noise
/// must be accepted at most α = 5% of the time), writes calibration.json, and `evaluate` plans
/// with it; the ladder's report shows each comparison's path to its decision.
#[test]
fn calibration_and_adaptive_verdicts_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = run(&[
        "calibrate",
        "--comparisons",
        "50",
        "--noise-pairs",
        "40",
        "--combinations",
        "4",
        "--workers",
        "2",
        "--max-time",
        "10s",
        "--output-dir",
        out,
        "--json",
    ]);
    let v = json(&o);
    assert_eq!(v["schema_version"], 2);
    assert_eq!(v["aa"]["comparisons"], 50);
    let wrongly = v["aa"]["wrongly_accepted"].as_u64().unwrap();
    let significant = v["aa"]["significant"].as_u64().unwrap();
    println!(
        "A/A: wrongly accepted {wrongly} of 50, significant {significant} of 50, {} pairs on average",
        v["aa"]["mean_pairs"]
    );
    assert!(wrongly <= 2, "noise accepted {wrongly} times of 50");
    for k in [
        "single_run_cv_percent",
        "paired_difference_cv_percent",
        "log_ratio_sd_percent",
        "drift_percent_per_100_runs",
    ] {
        assert!(v["noise"][k].is_number(), "{k}");
    }
    assert_eq!(v["presets"].as_array().unwrap().len(), 3);
    // The simulation on the measured pairs counts the sequence's decisions at the threshold
    // and below; 2000 comparisons per cell, so α + 3 standard errors.
    for p in v["presets"].as_array().unwrap() {
        let alpha = p["alpha"].as_f64().unwrap();
        let limit = alpha + 3.0 * (alpha * (1.0 - alpha) / 2000.0).sqrt();
        for k in ["accepted_at_zero", "accepted_at_nine_tenths", "accepted_at_threshold"] {
            let rate = p[k].as_f64().unwrap();
            assert!(rate <= limit, "{}: {k} = {rate} > {limit}", p["preset"]);
        }
        assert!(
            p["power_at_10_percent"].as_f64().is_some()
                && p["adaptive_pairs_at_10_percent"].as_f64().unwrap() >= 10.0,
            "{p}"
        );
    }
    assert!(dir.path().join("benchmark-results/calibration.json").exists());
    let started = std::time::Instant::now();
    let o =
        run(&["evaluate", "--combinations", "4", "--workers", "2", "--max-time", "10s", "--output-dir", out]);
    let took = started.elapsed().as_secs_f64();
    let (stdout, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("calibration of"), "evaluate plans with the calibration: {err}");
    // The expected time is printed before the comparisons start: the bound for all 6
    // comparisons (at most 400 pairs or 10 s each, + a block), and what one takes at its first
    // look and at the calibration's typical pair count.
    let line = err.lines().find(|l| l.starts_with("expected time: at most")).expect(&err);
    assert!(
        line.contains("for up to 6 comparisons; each takes")
            && line.contains("a comparison of no effect takes"),
        "{line}"
    );
    let most = seconds_of(
        line.strip_prefix("expected time: at most ").and_then(|r| r.split(" for ").next()).unwrap(),
    );
    let first_look =
        seconds_of(line.split("each takes ").nth(1).and_then(|r| r.split(" if ").next()).unwrap());
    assert!(most <= 6.0 * 12.0, "at most about a minute: {line}");
    // The estimator against the clock: the whole command — preparing the workload, timing a
    // run, the equivalence checks and warm-ups the plan leaves out — within the bound, and no
    // faster than one comparison deciding at its first look.
    println!(
        "evaluate: planned at most {most:.1} s, one comparison at its first look {first_look:.2} s; took {took:.1} s ({:.0}% of the bound)",
        took / most * 100.0
    );
    assert!(took <= most * 1.25 + 5.0 && took >= 0.5 * first_look, "{line}: took {took:.1} s");
    assert!(stdout.contains("pairs") && stdout.contains("_path_batch-init.svg"), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("benchmark-results/grid_search_bundled_report.json"))
            .unwrap(),
    )
    .unwrap();
    let evaluated: Vec<&serde_json::Value> =
        report["optimizations"].as_array().unwrap().iter().filter(|s| s["evaluation"].is_object()).collect();
    assert!(!evaluated.is_empty(), "at least one step was measured: {report}");
    for step in evaluated {
        let q = &step["evaluation"]["sequential"];
        assert!(q["pairs_used"].as_u64().unwrap() >= 10, "{q}");
        assert!(q["seconds"].is_number() && q["path"].as_array().is_some_and(|p| !p.is_empty()), "{q}");
        let outcome = q["outcome"].as_str().unwrap();
        let rationale = step["evaluation"]["decision_rationale"].as_str().unwrap();
        // The outcome and the verdict agree; only an inconclusive step speaks of power.
        let verdict = step["evaluation"]["verdict"].as_str().unwrap();
        assert!(["accepted", "rejected", "inconclusive"].contains(&outcome), "{outcome}");
        if outcome == "inconclusive" {
            assert!(rationale.starts_with("INCONCLUSIVE"), "{rationale}");
        } else {
            assert!(
                !rationale.contains("UNDERPOWERED") && !rationale.contains("Minimum detectable"),
                "{rationale}"
            );
        }
        if verdict == "accepted" {
            assert_eq!(outcome, "accepted", "{rationale}");
        }
    }
}

/// `evaluate --metric instructions`: every step of the ladder counted under Callgrind in a child
/// process (this program started again), only the measured region, decided exactly after three
/// runs a side because the engine's counts repeat to the instruction. The shared bundle and the
/// indicator cache save instructions and are accepted; the persistent pool saves thread starts,
/// which are system calls Callgrind does not count, and is rejected at exactly 0%; the AVX2 step
/// carries the vector-width warning where the CPU runs it. Without Valgrind: exit 2 naming it.
#[test]
fn the_ladder_decides_on_instruction_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let args = [
        "evaluate",
        "--metric",
        "instructions",
        "--workload",
        "derived",
        "--assets",
        "1",
        "--bars",
        "400",
        "--combinations",
        "3",
        "--workers",
        "1",
        "--output-dir",
        out,
    ];
    let o = run(&[&args[..], &["--json"]].concat());
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let v = json(&o);
    let steps = v.as_array().expect("one entry per step");
    let names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["batch-init", "indicator-cache", "persistent-workers", "vectorized-signals", "prefix-sums"]
    );
    for s in steps {
        let c = &s["comparison"];
        assert_eq!(
            (c["deterministic"].as_bool(), c["baseline"].as_array().map(Vec::len)),
            (Some(true), Some(3)),
            "{s}"
        );
        assert_eq!(c["unit"], "instructions");
    }
    let decision = |i: usize| steps[i]["comparison"]["decision"].as_str().unwrap();
    assert_eq!((decision(0), decision(1), decision(2)), ("accepted", "accepted", "rejected"), "{v}");
    assert_eq!(steps[2]["comparison"]["improvement_percent"].as_f64(), Some(0.0), "{v}");
    let avx2 = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
    let warned = steps[4]["comparison"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("per instruction"));
    assert_eq!(warned, avx2, "{v}");
    // The BMF export: the baseline and each step's stack, the metric named, bounds = least and most.
    let bmf = std::fs::read_dir(dir.path().join("benchmark-results"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_counts_bmf.json"))
        .expect("a counts BMF file");
    let b: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&bmf).unwrap()).unwrap();
    let b = b.as_object().unwrap();
    assert_eq!(b.len(), 6, "{b:?}");
    for (name, v) in b {
        let m = &v["instructions"];
        assert!(
            m["lower_value"].as_f64() == m["upper_value"].as_f64() && m["value"].as_f64() > Some(0.0),
            "{name}: {v}"
        );
    }
    let o = xtask().env("PATH", "/nonexistent").args(args).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    assert!(text(&o).1.contains("`valgrind` package"), "{:?}", text(&o));
}
