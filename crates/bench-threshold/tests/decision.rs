//! The decision rule: each criterion can fail on its own, the rationale states every criterion
//! and the miss, and the presets hold their documented values.

use bench_core::{MemoryMetric, Sample};
use bench_threshold::*;
use rust_decimal::Decimal;

fn noisy(mean: f64, n: usize, spread: f64) -> Sample {
    // Deterministic pseudo-noise in [-spread, spread].
    Sample::timings((0..n).map(|i| mean * (1.0 + spread * (((i * 7919) % 13) as f64 / 6.0 - 1.0))).collect())
        .unwrap()
}

fn default_threshold() -> PerformanceThreshold {
    OptimizationConfig::create_default().get_threshold("grid_search", "production").clone()
}

#[test]
fn presets_hold_the_seed_values() {
    let d = |s: &str| s.parse::<Decimal>().unwrap();
    for (preset, imp, conf, runs, mem, goal) in [
        (Preset::Default, "5", "0.95", 10, "2", "40"),
        (Preset::Strict, "10", "0.99", 20, "1", "50"),
        (Preset::Lenient, "2", "0.90", 10, "10", "20"),
    ] {
        let c = OptimizationConfig::from_preset(preset);
        for wf in KNOWN_WORKFLOWS.iter().chain(["unknown_workflow"].iter()) {
            for cat in ["small", "medium", "production", "huge"] {
                let t = c.get_threshold(wf, cat);
                assert_eq!(t.min_improvement_percent, d(imp));
                assert_eq!(t.statistical_confidence, d(conf));
                assert_eq!(t.min_sample_size, runs);
                assert_eq!(t.max_memory_increase_percent, d(mem));
            }
        }
        assert_eq!(c.goal_improvement_percent, d(goal));
        assert_eq!(preset.as_str().parse::<Preset>().unwrap(), preset);
    }
    assert_eq!(OptimizationConfig::create_strict().preset, Preset::Strict);
    assert_eq!(OptimizationConfig::create_lenient().preset, Preset::Lenient);
    assert!(OptimizationConfig::create_lenient().debug_logging);
    let unknown = "fast".parse::<Preset>().unwrap_err();
    assert_eq!(unknown.to_string(), "unknown preset \"fast\"; expected one of: default, strict, lenient");
}

#[test]
fn fallback_and_custom_thresholds() {
    let mut c = OptimizationConfig::create_default();
    assert_eq!(c.get_threshold("no_such", "small").workflow_type, "*");
    let custom = create_threshold(
        Decimal::new(15, 0),
        "grid_search",
        "small",
        Decimal::new(95, 2),
        12,
        Decimal::ZERO,
        "custom",
    )
    .unwrap();
    c.set_threshold(custom.clone());
    assert_eq!(c.get_threshold("grid_search", "small"), &custom);
    assert_eq!(c.fallback().workflow_type, "*");
}

#[test]
fn create_threshold_validates_every_field() {
    let ok = |imp: i64, conf: i64, runs: usize, mem: i64| {
        create_threshold(
            Decimal::new(imp, 0),
            "w",
            "c",
            Decimal::new(conf, 2),
            runs,
            Decimal::new(mem, 0),
            "",
        )
    };
    assert!(ok(5, 95, 10, 2).is_ok());
    for (imp, conf, runs, mem, field) in [
        (-1, 95, 10, 2, "min_improvement_percent"),
        (100, 95, 10, 2, "min_improvement_percent"),
        (5, 100, 10, 2, "statistical_confidence"),
        (5, 0, 10, 2, "statistical_confidence"),
        (5, 95, 1, 2, "min_sample_size"),
        (5, 95, 10, -1, "max_memory_increase_percent"),
    ] {
        match ok(imp, conf, runs, mem) {
            Err(ThresholdError::InvalidThreshold { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected an invalid {field}, got {other:?}"),
        }
    }
}

fn classic(t: &PerformanceThreshold) -> PerformanceThreshold {
    t.with_overrides(&ThresholdOverrides { rule: Some(Rule::Classic), ..Default::default() }, "the test")
        .unwrap()
}

#[test]
fn a_clear_improvement_is_accepted_with_every_criterion_stated() {
    let base = noisy(1.0, 10, 0.02);
    let fast = Sample::timings(
        base.values().iter().enumerate().map(|(i, x)| x * (0.6 + 0.01 * ((i % 3) as f64 - 1.0))).collect(),
    )
    .unwrap();
    let mem =
        MemoryComparison { metric: MemoryMetric::HeapPeak, baseline_bytes: 1000, candidate_bytes: 1010 };
    let e = evaluate_threshold(&base, &fast, Some(mem), &default_threshold()).unwrap();
    assert_eq!(e.verdict, Verdict::Accepted);
    assert_eq!(e.rule, Rule::Strict);
    assert_eq!(e.classic_verdict, Verdict::Accepted);
    assert!(e.passes_threshold && e.statistical_significance && e.failed_criteria.is_empty());
    assert_eq!(e.memory_increase_percent, Some(Decimal::ONE));
    assert!(e.decision_rationale.starts_with("ACCEPTED: all 4 criteria met"));
    for needle in [
        "95% lower bound of the improvement",
        "≥ 5.00% required",
        "memory increase 1.00% ≤ 2.00%",
        "sample size 10 pairs ≥ 10",
        "Estimand: the improvement of mean time",
        "paired t bound (fixed sample)",
        "Classic rule (accepts when the point estimate ≥ 5.00% and p < α against no improvement; here 40.",
    ] {
        assert!(e.decision_rationale.contains(needle), "{needle:?} missing from {}", e.decision_rationale);
    }
    // A decided result carries no power note.
    assert!(!e.decision_rationale.contains("Minimum detectable effect"), "{}", e.decision_rationale);
    assert!(!e.underpowered);
    let lower = e.bound.lower_percent.unwrap();
    assert!(lower >= Decimal::new(5, 0) && lower < e.improvement_percent);
    assert_eq!(e.degrees_of_freedom, 9);
    assert!(e.baseline_ci_95[0] < e.baseline_ci_95[1]);
}

#[test]
fn each_criterion_fails_on_its_own() {
    let t = default_threshold();
    // Improvement shown to fall short: exactly 2% on every pair.
    let base = noisy(1.0, 10, 0.02);
    let small = Sample::timings(base.values().iter().map(|x| x * 0.98).collect()).unwrap();
    let e = evaluate_threshold(&base, &small, None, &t).unwrap();
    assert_eq!(e.verdict, Verdict::Rejected);
    assert_eq!(e.failed_criteria, vec![Criterion::Improvement]);
    assert!(e.decision_rationale.contains("short by 3.00 percentage points"), "{}", e.decision_rationale);

    // A large mean gain driven by one pair, the rest noise: the strict rule cannot bound it
    // above the threshold (inconclusive); the classic rule fails only significance.
    let b = Sample::timings(vec![1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 5.0]).unwrap();
    let c = Sample::timings(vec![1.05, 0.95, 1.04, 0.96, 1.03, 0.97, 1.05, 0.95, 1.0, 1.0]).unwrap();
    let e = evaluate_threshold(&b, &c, None, &t).unwrap();
    assert_eq!(e.verdict, Verdict::Inconclusive);
    assert_eq!(e.failed_criteria, vec![Criterion::Improvement, Criterion::Significance]);
    assert!(e.decision_rationale.starts_with("INCONCLUSIVE: the 95% bounds"), "{}", e.decision_rationale);
    let e = evaluate_threshold(&b, &c, None, &classic(&t)).unwrap();
    assert_eq!(e.failed_criteria, vec![Criterion::Significance]);
    assert_eq!(e.verdict, Verdict::Rejected);
    assert!(e.decision_rationale.contains("≥ α = 0.05 (missed by"), "{}", e.decision_rationale);
    assert!(e.decision_rationale.contains("Decided by the classic rule, as asked; the strict rule"));

    // Memory grew too much (by more than the absolute floor, too).
    let fast = noisy(0.5, 10, 0.02);
    let mem = MemoryComparison {
        metric: MemoryMetric::PeakRss,
        baseline_bytes: 10_000_000,
        candidate_bytes: 11_000_000,
    };
    let e = evaluate_threshold(&base, &fast, Some(mem), &t).unwrap();
    assert_eq!(e.failed_criteria, vec![Criterion::Memory]);
    assert_eq!(e.verdict, Verdict::Rejected);
    assert!(
        e.decision_rationale
            .contains("memory increase 10.00% > 2.00% allowed (missed by 8.00 percentage points"),
        "{}",
        e.decision_rationale
    );
    // The same 10% on a small heap is under the floor: reported, not failed.
    let small =
        MemoryComparison { metric: MemoryMetric::PeakRss, baseline_bytes: 1000, candidate_bytes: 1100 };
    let e = evaluate_threshold(&base, &fast, Some(small), &t).unwrap();
    assert!(e.failed_criteria.is_empty(), "{}", e.decision_rationale);
    assert!(
        e.decision_rationale.contains("under the 64.0 KiB floor: reported, not failed"),
        "{}",
        e.decision_rationale
    );

    // Too few runs: the bound clears the threshold, but the sample is short — not decided.
    let e = evaluate_threshold(&noisy(1.0, 5, 0.02), &noisy(0.5, 5, 0.02), None, &t).unwrap();
    assert_eq!(e.failed_criteria, vec![Criterion::SampleSize]);
    assert!(e.decision_rationale.contains("sample size 5 pairs < 10 required (missed by 5)"));
    assert_eq!(e.verdict, Verdict::Inconclusive);
    assert!(
        e.decision_rationale.starts_with("INCONCLUSIVE: the bound reaches the threshold but only 5 pairs")
    );
    assert_eq!(
        evaluate_threshold(&noisy(1.0, 5, 0.02), &noisy(0.5, 5, 0.02), None, &classic(&t)).unwrap().verdict,
        Verdict::Rejected
    );
}

#[test]
fn zero_variance_is_explained_and_decided_by_rule() {
    let t = default_threshold();
    // Dyadic times, so `x − 0.25` is exact and every difference is exactly 0.25 s.
    let base = Sample::timings((0..10).map(|i| 1.0 + f64::from(i % 4) / 8.0).collect()).unwrap();
    let shifted = Sample::timings(base.values().iter().map(|x| x - 0.25).collect()).unwrap();
    let e = evaluate_threshold(&base, &shifted, None, &t).unwrap();
    assert!(e.zero_variance);
    assert_eq!(e.p_value, Decimal::ZERO);
    assert!(e.t_statistic.is_none());
    assert!(e.decision_rationale.contains("zero variance") || e.rule == Rule::Strict);
    assert_eq!(e.verdict, Verdict::Accepted, "{}", e.decision_rationale);
    let c = evaluate_threshold(&base, &shifted, None, &classic(&t)).unwrap();
    assert!(c.decision_rationale.contains("zero variance"), "{}", c.decision_rationale);
    let same = evaluate_threshold(&base, &base, None, &t).unwrap();
    assert!(same.zero_variance);
    assert_eq!(same.p_value, Decimal::ONE);
    assert_eq!(same.verdict, Verdict::Rejected);
    // Every pair is identical: both bounds are exactly 0%.
    assert_eq!(same.bound.lower_percent, Some(Decimal::ZERO));
    assert_eq!(same.bound.upper_percent, Some(Decimal::ZERO));
}

#[test]
fn underpowered_is_flagged_only_when_inconclusive() {
    let t = default_threshold();
    // Very noisy differences at n = 10: the detectable effect is far above 5%.
    let b = Sample::timings(vec![1.0, 1.6, 0.7, 1.4, 0.8, 1.5, 0.6, 1.2, 0.9, 1.3]).unwrap();
    let c = Sample::timings(vec![1.5, 0.7, 1.3, 0.6, 1.4, 0.8, 1.2, 0.7, 1.1, 0.9]).unwrap();
    let e = evaluate_threshold(&b, &c, None, &t).unwrap();
    assert_eq!(e.verdict, Verdict::Inconclusive);
    assert!(e.underpowered);
    assert!(e.minimum_detectable_effect_percent > Decimal::new(5, 0));
    assert!(e.decision_rationale.contains("UNDERPOWERED"));
    let more = e.bound.pairs_to_decide.expect("an estimate of the pairs a decision needs");
    assert!(more > 10, "{more}");
    assert!(e.decision_rationale.contains(&format!("About {more} pairs in all would decide")));
}

#[test]
fn dependent_runs_are_not_decided() {
    let t = default_threshold();
    // A slow drift that the candidate follows late: the differences climb steadily, so
    // neighbouring pairs are strongly correlated (lag-1 autocorrelation near 1).
    let b = Sample::timings((0..30).map(|i| 1.0 + 0.001 * f64::from(i % 2)).collect()).unwrap();
    let c = Sample::timings((0..30).map(|i| 0.99 - 0.01 * f64::from(i)).collect()).unwrap();
    let e = evaluate_threshold(&b, &c, None, &t).unwrap();
    let rho = e.bound.lag1_autocorrelation.unwrap();
    assert!(rho > Decimal::new(8, 1), "{rho}");
    assert!(e.bound.dependent);
    assert_eq!(e.verdict, Verdict::Inconclusive, "{}", e.decision_rationale);
    assert!(
        e.decision_rationale.starts_with("INCONCLUSIVE: runs are not independent"),
        "{}",
        e.decision_rationale
    );
}

#[test]
fn separate_runs_get_a_welch_bound() {
    let t = default_threshold();
    let b = noisy(1.0, 12, 0.03);
    let c = noisy(0.8, 9, 0.03);
    let e = evaluate_independent(&b, &c, None, &t).unwrap();
    assert_eq!(e.bound.method, BoundMethod::WelchT);
    assert_eq!(
        e.verdict,
        Verdict::Inconclusive,
        "9 runs on one side < 10 required: {}",
        e.decision_rationale
    );
    let c = noisy(0.8, 10, 0.03);
    let e = evaluate_independent(&b, &c, None, &t).unwrap();
    assert_eq!(e.verdict, Verdict::Accepted, "{}", e.decision_rationale);
    assert!(e.decision_rationale.contains("Welch t bound"));
    // Just under the threshold, measured very precisely: shown to fall short.
    let c = Sample::timings(b.values().iter().map(|x| x * 0.96).collect()).unwrap();
    let e = evaluate_independent(&b, &c, None, &t).unwrap();
    assert_eq!(
        e.verdict,
        Verdict::Inconclusive,
        "3% noise on 12 and 12 runs cannot separate 4% from 5%: {}",
        e.decision_rationale
    );
}

#[test]
fn mismatched_pairs_are_refused() {
    let e = evaluate_threshold(&noisy(1.0, 10, 0.02), &noisy(1.0, 9, 0.02), None, &default_threshold())
        .unwrap_err();
    assert_eq!(e, ThresholdError::MismatchedPairs { baseline: 10, candidate: 9 });
    assert!(e.to_string().contains("baseline has 10 runs, candidate has 9"));
}

#[test]
fn evaluation_serialises_with_the_design_keys() {
    let e =
        evaluate_threshold(&noisy(1.0, 10, 0.02), &noisy(0.7, 10, 0.02), None, &default_threshold()).unwrap();
    let v = serde_json::to_value(&e).unwrap();
    for key in [
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
        "minimum_detectable_effect_percent",
        "underpowered",
        "rule",
        "bound",
        "classic_verdict",
    ] {
        assert!(v.get(key).is_some(), "missing key {key}");
    }
    assert!(v["memory_increase_percent"].is_null());
    assert!(v["improvement_percent"].is_number());
    assert_eq!(v["rule"], "strict");
    assert_eq!(v["bound"]["estimand"], ESTIMAND);
    assert_eq!(v["bound"]["method"], "paired_t");
    assert!(v["bound"]["lower_percent"].is_number());
}
