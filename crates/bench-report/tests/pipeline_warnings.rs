//! A profile that cannot say what was asked of it says so: a real CPU profile of a toy
//! workload, with the spans off (no bottleneck report) and application prefixes that match
//! nothing (what truncated stacks look like).

use bench_core::{BottleneckRules, RunId};
use bench_report::{ProfilePlan, Profilers, profile_pipeline};

#[test]
fn a_missing_report_and_stacks_without_the_application_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let work = || {
        std::hint::black_box((0..2_000_000u64).map(|i| (i as f64).sqrt()).sum::<f64>());
    };
    let rules =
        BottleneckRules { application_prefixes: vec!["no_such_crate::".into()], ..Default::default() };
    let plan = ProfilePlan {
        profilers: Profilers { spans: false, lines: false, memory: false, ..Profilers::default() },
        min_cpu_seconds: 0.3,
        ..ProfilePlan::new(RunId::new("warned").unwrap(), "toy", "sqrt sum", &work, &rules)
    };
    let out = profile_pipeline(&plan, dir.path(), dir.path(), &|_| {}).unwrap();
    assert!(out.top_5.is_empty());
    assert!(
        out.warnings.iter().any(|w| w.starts_with("no bottleneck report") && w.contains("spans were off")),
        "{:?}",
        out.warnings
    );
    assert!(
        out.warnings.iter().any(|w| w.contains("have a frame of the application (no_such_crate::)")
            && w.contains("force-frame-pointers")),
        "{:?}",
        out.warnings
    );
    // With prefixes that match this test's own functions, the truncation warning goes away.
    let rules =
        BottleneckRules { application_prefixes: vec!["pipeline_warnings::".into()], ..Default::default() };
    let plan = ProfilePlan { rules: &rules, name: RunId::new("not_warned").unwrap(), ..plan };
    let out = profile_pipeline(&plan, dir.path(), dir.path(), &|_| {}).unwrap();
    assert!(!out.warnings.iter().any(|w| w.contains("frame of the application")), "{:?}", out.warnings);
}
