//! `cargo xtask profile` end to end at a small size: every file exists and parses, the
//! history/SMA path tops the baseline and shrinks with the indicator cache, and the extended
//! scenarios' rows match their sizes.

use std::path::Path;
use std::process::Command;

fn profile(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "profile",
        "--combinations",
        "90",
        "--scenario-backtests",
        "10",
        "--min-seconds",
        "0.3",
        "--json",
        "--output-dir",
    ];
    args.push(dir.to_str().unwrap());
    args.extend_from_slice(extra);
    let o = Command::new(env!("CARGO_BIN_EXE_xtask")).args(&args).env("CI", "1").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("one JSON document")
}

fn share(v: &serde_json::Value, workflow: usize, needle: &str) -> f64 {
    v["workflows"][workflow]["top_5"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["function"].as_str().unwrap().contains(needle))
        .map(|b| b["percent_cumtime"].as_f64().unwrap())
        .fold(0.0, f64::max)
}

#[test]
fn profile_all_writes_every_artefact_and_finds_the_history_path() {
    let dir = tempfile::tempdir().unwrap();
    let v = profile(dir.path(), &["--workflow", "all"]);
    for f in v["files"].as_array().unwrap() {
        let p = Path::new(f.as_str().unwrap());
        assert!(p.exists(), "{} missing", p.display());
        let text = std::fs::read_to_string(p).unwrap();
        if p.extension().is_some_and(|e| e == "json") {
            let _: serde_json::Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        }
        if p.extension().is_some_and(|e| e == "svg") {
            assert!(text.contains("<svg"), "{}", p.display());
        }
    }
    let prof = dir.path().join("profiling-results");
    for f in ["CONSOLIDATED_PROFILING_REPORT.md", "EXTENDED_OPERATIONS_PROFILING_REPORT.md"] {
        assert!(prof.join(f).exists(), "{f}");
    }
    let consolidated = std::fs::read_to_string(prof.join("CONSOLIDATED_PROFILING_REPORT.md")).unwrap();
    assert!(consolidated.contains("differential flame graph"));
    // The bottleneck files hold the documented keys, and the ≥ 0.5% count is consistent.
    let b: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("benchmark-results/grid_search_baseline_bottlenecks.json"))
            .unwrap(),
    )
    .unwrap();
    let listed = b["bottlenecks"].as_array().unwrap();
    assert_eq!(listed.len() as u64, b["summary"]["bottlenecks_gt_05_percent"].as_u64().unwrap());
    assert!(listed.iter().all(|x| x["percent_cumtime"].as_f64().unwrap() >= 0.5));
    for k in
        ["function", "percent_cumtime", "percent_tottime", "ncalls", "cumtime_s", "tottime_s", "category"]
    {
        assert!(listed[0].get(k).is_some(), "{k}");
    }
    assert!(b["memory_efficiency_issues"].is_array() && b["recommendations"].is_array());
    // Baseline: the history/SMA path is the top bottleneck among the work a backtest does
    // (its inclusive share beats loading the bundle and simulating the orders).
    let inclusive = |name: &str| {
        listed
            .iter()
            .find(|x| x["function"].as_str().unwrap().ends_with(name))
            .map_or(0.0, |x| x["percent_cumtime"].as_f64().unwrap())
    };
    let history = inclusive("signals_from_history");
    assert!(
        history > inclusive("Bundle::read_binary") && history > inclusive("engine::simulate"),
        "history/SMA path at {history}%: {listed:?}"
    );
    // Extended scenarios: one row per size, growing bundle and load time.
    let rows = v["batch_init"].as_array().unwrap();
    let assets: Vec<u64> = rows.iter().map(|r| r["assets"].as_u64().unwrap()).collect();
    assert_eq!(assets, [10, 50, 100, 500]);
    let bundle_rows: Vec<u64> = rows.iter().map(|r| r["bundle_rows"].as_u64().unwrap()).collect();
    assert_eq!(bundle_rows, [2520, 12600, 25200, 126000]);
    let load = |i: usize| rows[i]["load_ms_per_worker"].as_f64().unwrap();
    assert!(load(3) > load(0), "loading 500 assets takes longer than 10: {} vs {}", load(3), load(0));
    let coord = v["parallel_coordinator"].as_array().unwrap();
    let workers: Vec<u64> = coord.iter().map(|r| r["workers"].as_u64().unwrap()).collect();
    assert_eq!(workers, [1, 2, 4, 8, 16]);
    for r in coord {
        let u = r["utilisation"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&u));
        assert!((r["coordinator_overhead"].as_f64().unwrap() - (1.0 - u)).abs() < 1e-12);
    }
    let report = std::fs::read_to_string(prof.join("EXTENDED_OPERATIONS_PROFILING_REPORT.md")).unwrap();
    assert!(report.contains("cores"));
    // One scenario run again keeps the other's section.
    let again = profile(dir.path(), &["--workflow", "parallel-coordinator"]);
    assert!(again["batch_init"].is_null() && again["parallel_coordinator"].is_array());
    let merged = std::fs::read_to_string(prof.join("EXTENDED_OPERATIONS_PROFILING_REPORT.md")).unwrap();
    assert!(merged.contains("## Batch initialisation across bundle sizes"), "{merged}");
    assert!(merged.contains("## Parallel coordinator across worker counts"), "{merged}");
    // Only probed functions are recommended for a line-level deep-dive by name.
    for r in b["recommendations"].as_array().unwrap() {
        let reason = r["reason"].as_str().unwrap();
        if let Some(i) = reason.find("--function ") {
            let f = reason[i + 11..].trim_end_matches(')');
            assert!(
                bench_workloads::PROBED_FUNCTIONS.iter().any(|p| p.ends_with(&format!("::{f}"))),
                "recommends --function {f}, which has no line probes"
            );
        }
    }

    // With the indicator cache the history/SMA path shrinks.
    let cached =
        profile(dir.path(), &["--workflow", "grid-search", "--step", "indicator-cache", "--profiler", "all"]);
    let before = history;
    let after = share(&cached, 0, "signals_from_history");
    assert!(before > 10.0 && after < before, "signals_from_history {before}% → {after}%");
}
