//! Golden tests of every exporter: fixed inputs, outputs compared byte for byte with the files
//! in `tests/golden/` (regenerate with `UPDATE_GOLDEN=1 cargo test -p bench-report`).

use std::path::Path;

use bench_core::{Decimal, MemoryMetric, Sample, Workload};
use bench_optimizations::*;
use bench_profile::cpu::{CpuProfile, FunctionRow};
use bench_profile::memory::{MemoryProfile, RssSample};
use bench_profile::spans::{SpanProfile, SpanRow};
use bench_report::*;
use bench_threshold::{
    AdaptivePlan, MemoryComparison, OptimizationConfig, evaluate_adaptive, evaluate_threshold,
};

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing; run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(actual, expected, "{name} differs from its golden file");
}

fn samples(mean: f64, n: usize) -> Sample {
    Sample::timings((0..n).map(|i| mean * (1.0 + 0.01 * ((i * 37 % 11) as f64 - 5.0) / 5.0)).collect())
        .unwrap()
}

fn step(
    position: usize,
    name: &str,
    base: f64,
    cand: f64,
    mem: (u64, u64),
    decision: Decision,
    cumulative: i64,
) -> StepRecord {
    let t = OptimizationConfig::create_default().get_threshold("grid_search", "medium").clone();
    let e = evaluate_threshold(
        &samples(base, 10),
        &samples(cand, 10),
        Some(MemoryComparison {
            metric: MemoryMetric::HeapPeak,
            baseline_bytes: mem.0,
            candidate_bytes: mem.1,
        }),
        &t,
    )
    .unwrap();
    StepRecord {
        position,
        name: name.into(),
        description: format!("{name} does something"),
        compared_against: "baseline".into(),
        equivalence: GateResult {
            passed: true,
            report: Some(EquivalenceReport {
                cases: 2,
                values_compared: 1234,
                max_scaled_difference: 0.0,
                tolerance: 1e-10,
                mode: ComparisonMode::Record,
            }),
            error: None,
        },
        rationale: e.decision_rationale.clone(),
        evaluation: Some(e),
        decision,
        baseline_raw: Some(format!("/r/raw_data/{name}_baseline.json").into()),
        candidate_raw: Some(format!("/r/raw_data/{name}_candidate.json").into()),
        failed_runs: 0,
        cumulative_improvement_percent: Decimal::from(cumulative),
    }
}

fn report() -> (SequenceReport, ReportMeta) {
    let t = OptimizationConfig::create_default().get_threshold("grid_search", "medium").clone();
    let blocked = StepRecord {
        position: 3,
        name: "broken".into(),
        description: "changes results".into(),
        compared_against: "baseline + fast".into(),
        equivalence: GateResult {
            passed: false,
            report: None,
            error: Some(
                "case \"w\": trades[3]: baseline 66 vs candidate 65 (difference 1e0, tolerance 1e-10)".into(),
            ),
        },
        evaluation: None,
        decision: Decision::Blocked,
        rationale: "BLOCKED by the functional-equivalence gate, not benchmarked".into(),
        baseline_raw: None,
        candidate_raw: None,
        failed_runs: 0,
        cumulative_improvement_percent: Decimal::from(50),
    };
    let r = SequenceReport {
        steps: vec![
            step(1, "fast", 1.0, 0.5, (10_000_000, 10_000_000), Decision::Accepted, 50),
            step(2, "cache", 0.5, 0.01, (10_000_000, 20_000_000), Decision::Rejected, 50),
            blocked,
        ],
        accepted: vec!["fast".into()],
        cumulative_improvement_percent: Decimal::from(50),
        direct_improvement_percent: None,
        direct_check: None,
        goal_improvement_percent: Decimal::from(40),
        goal_achieved: false,
        stop_reason: StopReason::AllEvaluated,
        complete: true,
        threshold: t,
        not_evaluated: vec![],
        environment: None,
    };
    let meta = ReportMeta {
        name: "golden".into(),
        title: "golden workload".into(),
        command: "cargo xtask evaluate".into(),
        generated: "2026-11-25T00:00:00Z".into(),
        workload_description: "a fixed report".into(),
        workload: Workload { dataset_size: 100, parameter_combinations: 2, backtest_count: 2 },
        preset: "default".into(),
        environment: None,
    };
    (r, meta)
}

#[test]
fn performance_markdown_is_stable() {
    let (r, m) = report();
    golden("performance.md", &performance_markdown(&r, &m, Some("golden_report_times.svg")));
}

#[test]
fn performance_json_is_stable() {
    let (r, m) = report();
    golden("performance.json", &(serde_json::to_string_pretty(&performance_json(&r, &m)).unwrap() + "\n"));
}

#[test]
fn bmf_is_stable_and_has_latency_bounds() {
    let (r, m) = report();
    let v = bmf_json(&r, &m);
    let b = &v["golden/baseline"]["latency"];
    assert!(b["lower_value"].as_f64().unwrap() <= b["value"].as_f64().unwrap());
    assert!(b["value"].as_f64().unwrap() <= b["upper_value"].as_f64().unwrap());
    golden("bmf.json", &(serde_json::to_string_pretty(&v).unwrap() + "\n"));
}

#[test]
fn chart_is_stable() {
    let (r, _) = report();
    let svg = run_time_chart(&timing_points(&r), "golden").unwrap();
    assert!(svg.contains("baseline") && svg.contains("+ fast"));
    golden("chart.svg", &svg);
}

#[test]
fn written_report_files_parse() {
    let (r, m) = report();
    let dir = tempfile::tempdir().unwrap();
    let files = bench_report::write_performance_report(&r, &m, dir.path(), &[]).unwrap();
    let md = std::fs::read_to_string(&files.markdown).unwrap();
    for section in ["## Summary", "## Optimizations", "## Run times", "## Threshold", "## Reproduce"] {
        assert!(md.contains(section), "{section} missing");
    }
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&files.json).unwrap()).unwrap();
    assert_eq!(v["optimizations"].as_array().unwrap().len(), 3);
    assert!(files.chart.unwrap().exists());
    let _: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(files.bmf.as_ref().unwrap()).unwrap()).unwrap();
}

fn bottleneck_inputs() -> (SpanProfile, CpuProfile, MemoryProfile) {
    let row = |f: &str, n: u64, tot: u64, cum: u64| SpanRow {
        function: f.into(),
        ncalls: n,
        primitive_calls: n,
        tottime_s: Decimal::new(tot as i64, 9),
        tottime_percall_s: Decimal::ZERO,
        cumtime_s: Decimal::new(cum as i64, 9),
        cumtime_percall_s: Decimal::ZERO,
        tottime_ns: tot,
        cumtime_ns: cum,
    };
    let spans = SpanProfile::from_rows(
        2_000_000_000,
        2,
        vec![
            row("app::run_grid", 1, 10_000_000, 2_000_000_000),
            row("app::run_one", 450, 50_000_000, 1_900_000_000),
            row("app::load", 450, 400_000_000, 400_000_000),
            row("app::signals", 450, 1_300_000_000, 1_300_000_000),
            row("app::build_pool", 57, 20_000_000, 20_000_000),
        ],
    );
    let folded = "main;app::run_grid;app::run_one;app::signals;app::history;memcpy 300\n\
main;app::run_grid;app::run_one;app::signals 500\n\
main;app::run_grid;app::run_one;app::load;malloc 150\n\
main;app::run_grid;app::run_one;app::load 50\n\
main;app::run_grid;app::build_pool 4\n\
main;std::thread::park 96\n";
    let cpu = CpuProfile {
        sampler: bench_profile::cpu::SamplerKind::Sigprof,
        fallback_reason: None,
        lost_samples: 0,
        timeline: Default::default(),
        requested_hz: 997,
        samples: 1100,
        wall_seconds: Decimal::from(2),
        cpu_seconds: Decimal::new(55, 1),
        effective_hz: Decimal::from(200),
        functions: vec![FunctionRow {
            function: "app::signals".into(),
            self_samples: 500,
            total_samples: 800,
            self_percent: Decimal::ZERO,
            total_percent: Decimal::ZERO,
            self_percent_error: Decimal::ZERO,
            total_percent_error: Decimal::ZERO,
        }],
        stacks: bench_profile::FoldedStacks::parse(folded),
    };
    let memory = MemoryProfile {
        interval_ms: 100,
        timeline: vec![
            RssSample { t_ms: 0.0, rss_bytes: 10 << 20 },
            RssSample { t_ms: 100.0, rss_bytes: 14 << 20 },
        ],
        peak_rss_bytes: 14 << 20,
        start_rss_bytes: 10 << 20,
        end_rss_bytes: 14 << 20,
        heap_peak_bytes: Some(3 << 20),
        heap_growth_bytes: Some(0),
        allocations: Some(900_000),
        dhat: None,
        wall_seconds: 2.0,
    };
    (spans, cpu, memory)
}

#[test]
fn bottleneck_report_joins_spans_and_samples() {
    let (spans, cpu, memory) = bottleneck_inputs();
    // Rules as a workload hands them to the generic analysis (this crate knows no backtests).
    use bench_core::{RecommendationRule, UnitOfWork};
    let rules = bench_core::BottleneckRules {
        application_prefixes: vec!["app::".into()],
        unit_of_work: Some(UnitOfWork { span_suffix: "run_one".into(), noun: "backtest".into() }),
        probed_functions: vec![],
        recommendations: vec![
            RecommendationRule {
                remedy: "cache".into(),
                name_contains: vec!["history".into(), "sma".into()],
                min_inclusive_percent: Some(10.0),
                repeated_only: true,
                reason: "{percent}% of the runtime recomputes indicators from fresh history windows; compute each (asset, window) once and share it".into(),
                ..RecommendationRule::default()
            },
            RecommendationRule {
                remedy: "batch initialisation".into(),
                name_contains: vec!["read_binary".into(), "load".into()],
                min_inclusive_percent: Some(1.0),
                min_calls: Some(10),
                either: true,
                reason: "called {calls} times ({percent}% of the runtime); load the data once and share it across backtests and workers".into(),
                ..RecommendationRule::default()
            },
            RecommendationRule {
                remedy: "persistent workers".into(),
                name_contains: vec!["build_pool".into()],
                min_calls: Some(2),
                reason: "a worker pool is built {calls} times per run; keep one pool for the whole sweep".into(),
                ..RecommendationRule::default()
            },
        ],
    };
    let r = analyze_bottlenecks("golden workflow", &spans, &cpu, Some(&memory), &rules);
    assert_eq!(
        r.summary.bottlenecks_gt_05_percent,
        r.bottlenecks.iter().filter(|b| b.percent_cumtime >= Decimal::new(5, 1)).count()
    );
    assert_eq!(r.bottlenecks.len(), r.summary.bottlenecks_gt_05_percent);
    let top = &r.summary.top_5_bottlenecks[0];
    assert_eq!(top.function, "app::signals");
    assert_eq!(top.ncalls, Some(450));
    assert_eq!(top.category, Category::Variable);
    let history = r.bottlenecks.iter().find(|b| b.function == "app::history").unwrap();
    assert_eq!(history.ncalls, None);
    assert_eq!(history.category_source, "inherited from app::signals");
    assert!(
        r.recommendations.iter().any(|x| x.remedy == "batch initialisation" && x.function == "app::load")
    );
    assert!(r.recommendations.iter().any(|x| x.remedy == "persistent workers"));
    assert!(r.recommendations.iter().any(|x| x.remedy == "reuse buffers"));
    assert!(r.memory_efficiency_issues.iter().any(|m| m.kind == "rss_growth"));
    golden("bottlenecks.md", &bottleneck_markdown(&r));
    let mut json = serde_json::to_value(&r).unwrap();
    json.as_object_mut().unwrap().insert("schema_version".into(), 1.into());
    golden("bottlenecks.json", &(serde_json::to_string_pretty(&json).unwrap() + "\n"));
}

/// An adaptive step interrupted after 3 pairs (one ABBA block: nothing to look at yet) has an
/// empty path: the report is still written, without a path chart and without a link to one
/// (this once failed the whole report with "no pairs to draw", exit 3).
#[test]
fn a_step_interrupted_before_its_first_look_is_written_without_a_path_chart() {
    let (mut r, m) = report();
    let plan = AdaptivePlan::default_for(&r.threshold);
    assert!(plan.min_pairs > 3);
    let e =
        evaluate_adaptive(&samples(1.0, 3), &samples(0.9, 3), None, &r.threshold, &plan, 1.0, "interrupted")
            .unwrap();
    assert!(e.adaptive.as_ref().unwrap().path.is_empty());
    r.steps[0].evaluation = Some(e);
    r.complete = false;
    let dir = tempfile::tempdir().unwrap();
    let files = bench_report::write_performance_report(&r, &m, dir.path(), &[]).unwrap();
    assert!(files.paths.is_empty(), "{:?}", files.paths);
    let md = std::fs::read_to_string(&files.markdown).unwrap();
    assert!(md.contains("Adaptive sampling") && !md.contains("_path_"), "{md}");
}

/// The memory findings' thresholds, on either side: RSS growth above 10% of the start, heap
/// still live above 1 MiB, more than 100 allocations per unit of work — and no unit-of-work
/// span at all is no finding (not a division by zero).
#[test]
fn memory_findings_fire_past_their_thresholds_only() {
    use bench_core::UnitOfWork;
    let (spans, cpu, base) = bottleneck_inputs();
    let rules = |suffix: &str| bench_core::BottleneckRules {
        application_prefixes: vec!["app::".into()],
        unit_of_work: Some(UnitOfWork { span_suffix: suffix.into(), noun: "backtest".into() }),
        ..Default::default()
    };
    let kinds = |m: &MemoryProfile, suffix: &str| -> Vec<&'static str> {
        let r = analyze_bottlenecks("memory", &spans, &cpu, Some(m), &rules(suffix));
        let mut k: Vec<&'static str> =
            r.memory_efficiency_issues.iter().filter(|i| i.function.is_none()).map(|i| i.kind).collect();
        k.sort_unstable();
        k
    };
    // 450 backtests (run_one's calls): 50 allocations each, RSS +5%, 512 KiB still live.
    let quiet = MemoryProfile {
        start_rss_bytes: 100 << 20,
        end_rss_bytes: 105 << 20,
        peak_rss_bytes: 106 << 20,
        heap_growth_bytes: Some(512 << 10),
        allocations: Some(450 * 50),
        ..base.clone()
    };
    assert_eq!(kinds(&quiet, "run_one"), Vec::<&str>::new());
    // 500 allocations each, RSS +15%, 2 MiB still live.
    let loud = MemoryProfile {
        end_rss_bytes: 115 << 20,
        peak_rss_bytes: 116 << 20,
        heap_growth_bytes: Some(2 << 20),
        allocations: Some(450 * 500),
        ..quiet.clone()
    };
    assert_eq!(kinds(&loud, "run_one"), vec!["allocation_heavy", "heap_growth", "rss_growth"]);
    // No span names the unit of work: the per-unit count is not made up.
    assert_eq!(kinds(&loud, "no_such_span"), vec!["heap_growth", "rss_growth"]);
}

/// A report never sits beside another run's files: writing it again where a run with more
/// measured steps wrote removes that run's path charts, run-time chart and export, and leaves
/// other reports' files alone.
#[test]
fn a_report_removes_what_an_earlier_run_under_its_name_left() {
    let (mut r, m) = report();
    let plan = AdaptivePlan::default_for(&r.threshold);
    for st in &mut r.steps {
        st.evaluation = Some(
            evaluate_adaptive(
                &samples(1.0, 40),
                &samples(0.8, 40),
                None,
                &r.threshold,
                &plan,
                1.0,
                "decided",
            )
            .unwrap(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("another_report_path_x.svg");
    std::fs::write(&other, "<svg/>").unwrap();
    let first = bench_report::write_performance_report(&r, &m, dir.path(), &[]).unwrap();
    assert_eq!(first.paths.len(), 3);
    assert!(first.bmf.is_some() && first.chart.is_some());
    // The same report with nothing measured: nothing of the first run is left beside it.
    for st in &mut r.steps {
        st.evaluation = None;
    }
    let second = bench_report::write_performance_report(&r, &m, dir.path(), &[]).unwrap();
    assert!(second.paths.is_empty() && second.bmf.is_none() && second.chart.is_none());
    for p in first.paths.iter().chain(first.bmf.iter()).chain(first.chart.iter()) {
        assert!(!p.exists(), "{} was left by the first run", p.display());
    }
    assert!(other.exists(), "another report's file is not touched");
}
