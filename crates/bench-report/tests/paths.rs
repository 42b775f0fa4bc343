//! Report exporters on the paths the golden files do not take: other stop reasons and
//! decisions, a direct check, the environment section, empty inputs.

use bench_core::{Decimal, Environment, Sample, Workload};
use bench_optimizations::*;
use bench_profile::cpu::CpuProfile;
use bench_profile::memory::MemoryProfile;
use bench_profile::spans::{SpanProfile, SpanRow};
use bench_report::*;
use bench_threshold::{OptimizationConfig, evaluate_threshold};

fn eval(base: f64, cand: f64, n: usize) -> bench_threshold::Evaluation {
    let t = OptimizationConfig::create_default().fallback().clone();
    let s =
        |m: f64| Sample::timings((0..n).map(|i| m * (1.0 + 0.2 * ((i % 3) as f64 - 1.0))).collect()).unwrap();
    evaluate_threshold(&s(base), &s(cand), None, &t).unwrap()
}

fn step(decision: Decision, e: Option<bench_threshold::Evaluation>) -> StepRecord {
    StepRecord {
        position: 1,
        name: "x".into(),
        description: "does x".into(),
        compared_against: "baseline".into(),
        equivalence: GateResult {
            passed: e.is_some(),
            report: None,
            error: e.is_none().then(|| "case \"c\": [0]: differs".into()),
        },
        evaluation: e,
        decision,
        rationale: "why".into(),
        baseline_raw: None,
        candidate_raw: None,
        failed_runs: 0,
        cumulative_improvement_percent: Decimal::ZERO,
    }
}

fn report(
    steps: Vec<StepRecord>,
    stop: StopReason,
    direct: Option<DirectCheck>,
    complete: bool,
) -> SequenceReport {
    SequenceReport {
        steps,
        accepted: vec![],
        cumulative_improvement_percent: Decimal::ZERO,
        direct_improvement_percent: direct.as_ref().map(|d| d.evaluation.improvement_percent),
        direct_check: direct,
        goal_improvement_percent: Decimal::from(40),
        goal_achieved: false,
        stop_reason: stop,
        complete,
        threshold: OptimizationConfig::create_default().fallback().clone(),
        not_evaluated: vec!["later".into()],
        environment: None,
    }
}

fn meta(environment: Option<Environment>) -> ReportMeta {
    ReportMeta {
        name: "paths".into(),
        title: "paths".into(),
        command: "cmd".into(),
        generated: "now".into(),
        workload_description: "w".into(),
        workload: Workload::default(),
        preset: "default".into(),
        environment,
    }
}

#[test]
fn every_stop_reason_and_decision_is_worded() {
    for (stop, text) in [
        (StopReason::GoalReached, "goal reached"),
        (StopReason::AllEvaluated, "all optimizations evaluated"),
        (StopReason::DiminishingReturns, "diminishing returns"),
        (StopReason::Interrupted, "INCOMPLETE"),
    ] {
        let r = report(
            vec![step(Decision::Failed, Some(eval(2e-5, 1e-5, 5)))],
            stop,
            None,
            stop != StopReason::Interrupted,
        );
        let md = performance_markdown(&r, &meta(None), None);
        assert!(md.contains(text), "{text}");
        assert!(md.contains("| failed |"), "a failed decision is worded");
        assert!(md.contains("µs"), "microsecond timings");
        assert!(md.contains("UNDERPOWERED") || md.contains("underpowered"));
        assert!(md.contains("| not evaluated | later |"));
        assert!(md.contains("not run (nothing accepted, interrupted, or not asked for)"));
        assert!(!md.contains("## Run times"), "no chart linked");
    }
}

#[test]
fn blocked_steps_direct_checks_and_environments_are_reported() {
    let direct = DirectCheck {
        final_stack: "all".into(),
        evaluation: eval(2.0, 1.0, 10),
        baseline_raw: "a.json".into(),
        candidate_raw: "b.json".into(),
        failed_runs: 0,
    };
    let r = report(vec![step(Decision::Blocked, None)], StopReason::AllEvaluated, Some(direct), true);
    let env = Environment {
        os: "linux".into(),
        cpu: "cpu".into(),
        cores: 2,
        rustc: "rustc".into(),
        build_profile: "release".into(),
        git_commit: Some("abc".into()),
        git_dirty: Some(true),
        clocksource: None,
        timer_cost_ns: Some(Decimal::from(20)),
        started: "s".into(),
        finished: "f".into(),
    };
    let md = performance_markdown(&r, &meta(Some(env)), None);
    for needle in [
        "BLOCKED (results differ)",
        "Equivalence: FAILED",
        "direct check, baseline → final stack | 50.00%",
        "## Environment",
        "abc (dirty tree)",
        "| clock source | unknown |",
        "| timer cost | 20 ns |",
    ] {
        assert!(md.contains(needle), "{needle}");
    }
    let bmf = bmf_json(&r, &meta(None));
    assert_eq!(bmf.as_object().unwrap().len(), 0, "nothing benchmarked, nothing exported");
    assert!(timing_points(&r).is_empty());
    assert!(matches!(run_time_chart(&[], "t"), Err(ReportError::Empty(_))));
    let dir = tempfile::tempdir().unwrap();
    let files = write_performance_report(&r, &meta(None), dir.path(), &[]).unwrap();
    assert!(files.chart.is_none());
    let bad = ReportMeta { name: "../escape".into(), ..meta(None) };
    assert!(matches!(write_performance_report(&r, &bad, dir.path(), &[]), Err(ReportError::Name(_))));
    assert!(write_performance_report(&r, &meta(None), std::path::Path::new("/proc/no/such"), &[]).is_err());
}

#[test]
fn bottlenecks_handle_closures_spans_without_samples_and_quiet_profiles() {
    let row = |f: &str, n: u64| SpanRow {
        function: f.into(),
        ncalls: n,
        primitive_calls: n,
        tottime_s: Decimal::ZERO,
        tottime_percall_s: Decimal::ZERO,
        cumtime_s: Decimal::ZERO,
        cumtime_percall_s: Decimal::ZERO,
        tottime_ns: 1_000_000,
        cumtime_ns: 1_000_000,
    };
    let spans =
        SpanProfile::from_rows(1_000_000_000, 1, vec![row("app::driver", 3), row("app::never_sampled", 5)]);
    let cpu = CpuProfile {
        sampler: bench_profile::cpu::SamplerKind::Sigprof,
        fallback_reason: None,
        lost_samples: 0,
        timeline: Default::default(),
        requested_hz: 997,
        samples: 100,
        wall_seconds: Decimal::ONE,
        cpu_seconds: Decimal::ONE,
        effective_hz: Decimal::from(100),
        functions: vec![],
        stacks: bench_profile::FoldedStacks::parse(
            "main;app::orphan::{{closure}}::{{closure}} 60\nmain;app::driver;app::leaf 40\n",
        ),
    };
    let quiet = MemoryProfile {
        interval_ms: 100,
        timeline: vec![],
        peak_rss_bytes: 10,
        start_rss_bytes: 10,
        end_rss_bytes: 10,
        heap_peak_bytes: None,
        heap_growth_bytes: Some(5 << 20),
        allocations: None,
        dhat: None,
        wall_seconds: 1.0,
    };
    let rules =
        bench_core::BottleneckRules { application_prefixes: vec!["app::".into()], ..Default::default() };
    let r = analyze_bottlenecks("w", &spans, &cpu, Some(&quiet), &rules);
    let orphan = r
        .bottlenecks
        .iter()
        .find(|b| b.function == "app::orphan")
        .expect("closures fold into their function");
    assert_eq!(orphan.category_source, "no call count for it or a caller");
    assert_eq!(orphan.category, Category::Unknown);
    let leaf = r.bottlenecks.iter().find(|b| b.function == "app::leaf").unwrap();
    assert_eq!(leaf.category_source, "inherited from app::driver");
    assert!(r.bottlenecks.iter().all(|b| b.function != "app::never_sampled"), "0% entries are not listed");
    assert!(r.memory_efficiency_issues.iter().any(|m| m.kind == "heap_growth"));
    let empty = analyze_bottlenecks(
        "w",
        &SpanProfile::from_rows(1, 1, vec![]),
        &CpuProfile { stacks: bench_profile::FoldedStacks::default(), ..cpu },
        None,
        &rules,
    );
    let md = bottleneck_markdown(&empty);
    assert!(md.contains("None found.") && md.contains("None."));
    let dir = tempfile::tempdir().unwrap();
    let (m, j) = write_bottleneck_report(&r, "w_baseline", dir.path()).unwrap();
    assert!(m.exists() && j.exists());
    assert!(write_bottleneck_report(&r, "../x", dir.path()).is_err());
}

/// `#[tracing::instrument]` names a span by the function alone; it still joins the sampled
/// function of that name.
#[test]
fn spans_named_by_the_function_alone_join_their_samples() {
    let row = SpanRow {
        function: "work".into(),
        ncalls: 12,
        primitive_calls: 12,
        tottime_s: Decimal::ZERO,
        tottime_percall_s: Decimal::ZERO,
        cumtime_s: Decimal::ZERO,
        cumtime_percall_s: Decimal::ZERO,
        tottime_ns: 1_000,
        cumtime_ns: 1_000,
    };
    let spans = SpanProfile::from_rows(1_000_000, 1, vec![row]);
    let cpu = CpuProfile {
        sampler: bench_profile::cpu::SamplerKind::Sigprof,
        fallback_reason: None,
        lost_samples: 0,
        timeline: Default::default(),
        requested_hz: 997,
        samples: 10,
        wall_seconds: Decimal::ONE,
        cpu_seconds: Decimal::ONE,
        effective_hz: Decimal::from(10),
        functions: vec![],
        stacks: bench_profile::FoldedStacks::parse("main;my_app::run;my_app::work 10\n"),
    };
    let rules =
        bench_core::BottleneckRules { application_prefixes: vec!["my_app::".into()], ..Default::default() };
    let r = analyze_bottlenecks("w", &spans, &cpu, None, &rules);
    let work = r.bottlenecks.iter().find(|b| b.function == "my_app::work").unwrap();
    assert_eq!(work.ncalls, Some(12));
    assert_eq!(work.category, Category::Variable);
}
