//! `cargo xtask profile --from`: another profiler's stacks through the same analysis. The input
//! is a real py-spy recording of a backtesting.py sweep with cProfile's exact call counts
//! (`crates/bench-profile/tests/pyspy/`, remade by its `record.sh`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/bench-profile/tests/pyspy").join(name)
}

fn xtask(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).env("CI", "1").output().unwrap()
}

#[test]
fn a_py_spy_recording_of_backtesting_py_gets_a_bottleneck_report() {
    let dir = tempfile::tempdir().unwrap();
    let (stacks, calls) = (fixture("backtesting_py.folded.gz"), fixture("backtesting_py_calls.json"));
    let o = xtask(&[
        "profile",
        "--from",
        stacks.to_str().unwrap(),
        "--calls",
        calls.to_str().unwrap(),
        "--app",
        "backtesting/",
        "--output-dir",
        dir.path().to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let run: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let w = &run["workflows"][0];
    assert_eq!(w["sampler"], "folded stacks from a file");
    let report_path = dir.path().join("benchmark-results/backtesting_py_bottlenecks.json");
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    let listed = r["bottlenecks"].as_array().unwrap();
    let counts: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&calls).unwrap()).unwrap();
    println!("{} samples; top 5:", r["summary"]["cpu_samples"]);
    for b in r["summary"]["top_5_bottlenecks"].as_array().unwrap() {
        println!(
            "  {} {}% own, {}% inclusive, {} calls, {}",
            b["function"], b["percent_tottime"], b["percent_cumtime"], b["ncalls"], b["category"]
        );
    }
    // The top entries are backtesting.py's own functions (py-spy's frames, named file::function).
    let top = r["summary"]["top_5_bottlenecks"].as_array().unwrap();
    assert_eq!(top.len(), 5);
    assert!(top.iter().all(|b| b["function"].as_str().unwrap().starts_with("backtesting/")), "{top:?}");
    assert!(
        top.iter().any(|b| b["function"].as_str().unwrap().contains("_Broker")
            || b["function"].as_str().unwrap().contains("Backtest.run")),
        "{top:?}"
    );
    // Categories follow the call counts (FIXED under 10 calls, VARIABLE from 10), and the
    // ≥ 0.5% count is the number of entries listed.
    assert_eq!(r["summary"]["bottlenecks_gt_05_percent"].as_u64().unwrap() as usize, listed.len());
    let mut with_counts = 0;
    for b in listed {
        assert!(b["percent_cumtime"].as_f64().unwrap() >= 0.5, "{b}");
        if let Some(n) = counts[b["function"].as_str().unwrap()].as_u64() {
            with_counts += 1;
            let expected = if n < 10 { "FIXED" } else { "VARIABLE" };
            assert_eq!(b["category"], expected, "{b}");
            assert_eq!(b["ncalls"].as_u64(), Some(n), "{b}");
        }
    }
    assert!(with_counts >= 5, "only {with_counts} listed functions have call counts");
    // Frames keep their lines: the sampled line tables and the Firefox Profiler file.
    let lines: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("profiling-results/backtesting_py_cpu_lines.json")).unwrap(),
    )
    .unwrap();
    let first = &lines["profile"][0];
    assert!(first["lines"][0]["line"].as_u64().unwrap() > 0, "{first}");
    let ff: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("profiling-results/backtesting_py_cpu.profile.json"))
            .unwrap(),
    )
    .unwrap();
    assert!(ff["threads"].as_array().is_some_and(|t| !t.is_empty()));
    assert!(dir.path().join("profiling-results/flame_graphs/backtesting_py.svg").exists());
}

#[test]
fn malformed_stacks_and_missing_files_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.folded");
    std::fs::write(&bad, "main;work 3\nmain;work three\n").unwrap();
    let out = dir.path().to_str().unwrap();
    let o = xtask(&["profile", "--from", bad.to_str().unwrap(), "--output-dir", out]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.folded") && err.contains("line 2") && err.contains("whole number"), "{err}");
    let o = xtask(&["profile", "--from", "/nonexistent/x.folded", "--output-dir", out]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(&bad, "main;work 3\n").unwrap();
    let calls = dir.path().join("calls.json");
    std::fs::write(&calls, "[1, 2]").unwrap();
    let o = xtask(&[
        "profile",
        "--from",
        bad.to_str().unwrap(),
        "--calls",
        calls.to_str().unwrap(),
        "--output-dir",
        out,
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("calls.json") && err.contains("expected an object"), "{err}");
    assert!(!dir.path().join("benchmark-results/bad_bottlenecks.md").exists(), "no report from bad input");
}

/// Without `--calls` nothing says how often a function ran: no category is guessed. The
/// recording's import time (bokeh and pandas loading under Python's importlib) is start-up, on
/// its own line and out of the top 5; times that were never measured read "—" (null in JSON),
/// and a Python function gets Python advice.
#[test]
fn without_call_counts_nothing_is_guessed_and_imports_are_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let stacks = fixture("backtesting_py.folded.gz");
    let o = xtask(&[
        "profile",
        "--from",
        stacks.to_str().unwrap(),
        "--app",
        "backtesting/",
        "--output-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let base = dir.path().join("benchmark-results/backtesting_py_bottlenecks");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(base.with_extension("json")).unwrap()).unwrap();
    let listed = r["bottlenecks"].as_array().unwrap();
    assert!(listed.iter().all(|b| b["category"] == "UNKNOWN" || b["category"] == "IMPORT"), "{listed:?}");
    assert!(listed.iter().all(|b| b["tottime_s"].is_null() && b["cumtime_s"].is_null()));
    let plotting = listed.iter().find(|b| b["function"] == "backtesting/_plotting.py::<module>").unwrap();
    assert_eq!(plotting["category"], "IMPORT");
    let top = r["summary"]["top_5_bottlenecks"].as_array().unwrap();
    assert!(top.iter().all(|b| !b["function"].as_str().unwrap().ends_with("<module>")), "{top:?}");
    assert!(r["summary"]["percent_import"].as_f64().unwrap() > 40.0, "{}", r["summary"]);
    assert!(r["summary"]["wall_seconds"].is_null());
    let recs = r["recommendations"].as_array().unwrap();
    assert!(recs.iter().any(|x| x["remedy"] == "start-up"), "{recs:?}");
    assert!(recs.iter().all(|x| !x["reason"].as_str().unwrap().contains("#[line_probe]")), "{recs:?}");
    let md = std::fs::read_to_string(base.with_extension("md")).unwrap();
    assert!(md.contains("Imports (start-up)") && md.contains("| — | — | — |"), "{md}");
    assert!(!md.contains("assumed FIXED"), "{md}");
}
