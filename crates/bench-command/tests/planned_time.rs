//! The time a comparison plans before its timed runs, against the time they then take — in a
//! test binary of its own, so that no other comparison holds the measurement lock meanwhile
//! (the wait would be counted).

#![allow(clippy::print_stdout)] // the measured errors are the test's report

use bench_command::*;
use bench_optimizations::Design;
use bench_threshold::{AdaptivePlan, OptimizationConfig, PerformanceThreshold};

fn threshold() -> PerformanceThreshold {
    OptimizationConfig::create_default().fallback().clone()
}

fn options(dir: &std::path::Path, name: &str) -> CompareOptions {
    CompareOptions { overhead_runs: 10, ..CompareOptions::new(name, threshold(), dir) }
}

/// The plan announced before the timed runs, against the time they then take: the fixed
/// design's "about", an adaptive comparison cut by its time budget, and one measured alone.
#[test]
fn the_planned_time_holds() {
    let dir = tempfile::tempdir().unwrap();
    let sleep = || CommandSpec::parse("sleep 0.05", Shell::None).unwrap();
    let timed = |options: &CompareOptions, alone: bool| {
        let plan = std::cell::Cell::new(None);
        let most = std::cell::Cell::new(usize::MAX);
        let mut follow = |e: CompareProgress| match e {
            CompareProgress::Planned(p) => plan.set(Some((p, std::time::Instant::now()))),
            CompareProgress::Done { most: m, .. } => most.set(m),
        };
        if alone {
            measure_command(&sleep(), options, &mut follow).unwrap();
        } else {
            compare_commands(&sleep(), &sleep(), options, &mut follow).unwrap();
        }
        let (plan, at) = plan.get().expect("the plan comes before the timed runs");
        (plan, at.elapsed().as_secs_f64(), most.get())
    };
    let fixed =
        CompareOptions { design: Design::Fixed, runs: 10, warmup_runs: 1, ..options(dir.path(), "fixed") };
    let (plan, took, _) = timed(&fixed, false);
    println!(
        "fixed, 10 pairs of sleep 0.05: planned {plan}; took {took:.3} s ({:+.1}%)",
        (took / plan.least_seconds - 1.0) * 100.0
    );
    assert_eq!((plan.least_runs, plan.most_runs, plan.warmup_runs), (22, 22, 2));
    assert!(plan.to_string().starts_with("about "), "{plan}");
    assert!((0.8 * plan.least_seconds..1.5 * plan.least_seconds).contains(&took), "{plan}: took {took:.3} s");

    // 400 pairs would take 40 s; the 0.5-s budget ends the pairs after a few blocks, before the
    // first look at 10 pairs — and the progress counts to what the budget allows, not to 400.
    let plan = AdaptivePlan {
        min_pairs: 10,
        max_pairs: 400,
        max_seconds: 0.5,
        ..AdaptivePlan::default_for(&threshold())
    };
    let budget = CompareOptions {
        design: Design::Adaptive(plan),
        runs: 10,
        warmup_runs: 1,
        ..options(dir.path(), "budget")
    };
    let (plan, took, most) = timed(&budget, false);
    println!("adaptive, 0.5-s budget: planned {plan}; took {took:.3} s; progress counted to {most} pairs");
    assert!(plan.most_seconds < 1.0 && plan.to_string().contains("time budget"), "{plan}");
    assert!(took <= 1.3 * plan.most_seconds && took >= 0.5, "{plan}: took {took:.3} s");
    assert!(most <= 12, "the progress counts to {most} pairs");

    let alone = CompareOptions { runs: 10, warmup_runs: 2, ..options(dir.path(), "alone") };
    let (plan, took, _) = timed(&alone, true);
    println!(
        "alone, 10 runs: planned {plan}; took {took:.3} s ({:+.1}%)",
        (took / plan.least_seconds - 1.0) * 100.0
    );
    assert_eq!((plan.least_runs, plan.warmup_runs), (12, 2));
    assert!((0.8 * plan.least_seconds..1.5 * plan.least_seconds).contains(&took), "{plan}: took {took:.3} s");
}
