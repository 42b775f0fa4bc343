//! Properties that must hold for any valid input, checked on generated samples.

use bench_core::Sample;
use bench_stats::*;
use proptest::prelude::*;

/// Positive timing-like samples: n in 2..60, values spread around a random scale.
fn timings(n: std::ops::Range<usize>) -> impl Strategy<Value = Vec<f64>> {
    (1e-6f64..1e3, n)
        .prop_flat_map(|(scale, n)| proptest::collection::vec((0.5f64..1.5).prop_map(move |f| f * scale), n))
}

/// Two paired positive samples of equal length.
fn paired() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (2usize..60).prop_flat_map(|n| {
        (proptest::collection::vec(0.5f64..2.0, n), proptest::collection::vec(0.3f64..2.2, n))
    })
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-300)
}

proptest! {
    #[test]
    fn ci_contains_the_mean(v in timings(2..60), conf in 0.5f64..0.999) {
        let s = Sample::timings(v).unwrap();
        let ci = confidence_interval(&s, conf).unwrap();
        prop_assert!(ci.contains(mean(&s)));
        prop_assert!(ci.lower <= ci.upper);
    }

    #[test]
    fn lower_confidence_gives_a_narrower_ci(v in timings(2..60), lo in 0.5f64..0.9, gap in 0.01f64..0.09) {
        let s = Sample::timings(v).unwrap();
        let narrow = confidence_interval(&s, lo).unwrap();
        let wide = confidence_interval(&s, lo + gap).unwrap();
        prop_assert!(narrow.half_width() <= wide.half_width());
        prop_assert!(wide.lower <= narrow.lower && narrow.upper <= wide.upper);
    }

    #[test]
    fn one_sided_p_values_sum_to_one((a, b) in paired()) {
        let (a, b) = (Sample::timings(a).unwrap(), Sample::timings(b).unwrap());
        let g = paired_t_test(&a, &b, Alternative::Greater).unwrap();
        let l = paired_t_test(&a, &b, Alternative::Less).unwrap();
        let two = paired_t_test(&a, &b, Alternative::TwoSided).unwrap();
        prop_assume!(!g.degenerate);
        prop_assert!(close(g.p_value + l.p_value, 1.0, 1e-12));
        prop_assert!(close(two.p_value, 2.0 * g.p_value.min(l.p_value), 1e-12));
        let wg = welch_t_test(&a, &b, Alternative::Greater).unwrap();
        let wl = welch_t_test(&a, &b, Alternative::Less).unwrap();
        prop_assert!(close(wg.p_value + wl.p_value, 1.0, 1e-12));
    }

    #[test]
    fn p_value_is_scale_invariant((a, b) in paired(), k in 1e-6f64..1e6) {
        let (sa, sb) = (Sample::timings(a).unwrap(), Sample::timings(b).unwrap());
        let base = paired_t_test(&sa, &sb, Alternative::Greater).unwrap();
        let scaled = paired_t_test(&sa.scaled(k).unwrap(), &sb.scaled(k).unwrap(), Alternative::Greater).unwrap();
        prop_assume!(!base.degenerate);
        prop_assert!((base.p_value - scaled.p_value).abs() <= 1e-9 * base.p_value.max(1e-300) || (base.p_value - scaled.p_value).abs() < 1e-14);
        let wb = welch_t_test(&sa, &sb, Alternative::Greater).unwrap();
        let ws = welch_t_test(&sa.scaled(k).unwrap(), &sb.scaled(k).unwrap(), Alternative::Greater).unwrap();
        prop_assert!((wb.p_value - ws.p_value).abs() <= 1e-9 * wb.p_value.max(1e-300) || (wb.p_value - ws.p_value).abs() < 1e-14);
    }

    #[test]
    fn swapping_sides_negates_difference_and_inverts_speedup((a, b) in paired()) {
        let (sa, sb) = (Sample::timings(a).unwrap(), Sample::timings(b).unwrap());
        let ab = paired_t_test(&sa, &sb, Alternative::Greater).unwrap();
        let ba = paired_t_test(&sb, &sa, Alternative::Greater).unwrap();
        prop_assert!(close(ab.mean_difference, -ba.mean_difference, 1e-12));
        let (ma, mb) = (mean(&sa), mean(&sb));
        let s1 = speedup_ratio(ma, mb).unwrap();
        let s2 = speedup_ratio(mb, ma).unwrap();
        prop_assert!(close(s1 * s2, 1.0, 1e-14));
        if !ab.degenerate {
            prop_assert!(close(ab.p_value, paired_t_test(&sb, &sa, Alternative::Less).unwrap().p_value, 1e-12));
        }
    }

    #[test]
    fn quantile_is_inverse_of_cdf(p in 0.001f64..0.999, df in 1.0f64..200.0) {
        let t = t_quantile(p, df).unwrap();
        prop_assert!(close(t_cdf(t, df).unwrap(), p, 1e-12));
    }

    #[test]
    fn mde_shrinks_with_more_pairs(n in 2u64..200, sigma in 0.01f64..50.0) {
        let a = minimum_detectable_effect(n, 0.05, DEFAULT_BETA, sigma).unwrap();
        let b = minimum_detectable_effect(n + 1, 0.05, DEFAULT_BETA, sigma).unwrap();
        prop_assert!(b < a);
        let need = required_pairs(a, sigma, 0.05, DEFAULT_BETA).unwrap();
        prop_assert!(need <= n);
    }

    #[test]
    fn outlier_classes_cover_every_value(v in timings(2..60)) {
        let s = Sample::new(v).unwrap();
        let r = classify_outliers(&s);
        prop_assert_eq!(r.classes.len(), s.len());
        prop_assert!(r.lower_severe <= r.lower_mild && r.lower_mild <= r.q1 && r.q1 <= r.median);
        prop_assert!(r.median <= r.q3 && r.q3 <= r.upper_mild && r.upper_mild <= r.upper_severe);
    }
}

#[test]
fn zero_variance_differences_follow_the_degenerate_rule() {
    let a = Sample::timings(vec![2.0, 3.0, 4.0]).unwrap();
    let faster = Sample::timings(vec![1.0, 2.0, 3.0]).unwrap();
    let t = paired_t_test(&a, &faster, Alternative::Greater).unwrap();
    assert!(t.degenerate && t.t_statistic.is_none());
    assert_eq!(t.p_value, 0.0);
    assert_eq!(paired_t_test(&a, &faster, Alternative::Less).unwrap().p_value, 1.0);
    assert_eq!(paired_t_test(&a, &faster, Alternative::TwoSided).unwrap().p_value, 0.0);
    let same = paired_t_test(&a, &a, Alternative::Greater).unwrap();
    assert_eq!(same.p_value, 1.0);
    assert_eq!(paired_t_test(&a, &a, Alternative::TwoSided).unwrap().p_value, 1.0);
}

#[test]
fn mismatched_pairs_are_an_error() {
    let a = Sample::timings(vec![2.0, 3.0, 4.0]).unwrap();
    let b = Sample::timings(vec![1.0, 2.0]).unwrap();
    assert_eq!(
        paired_t_test(&a, &b, Alternative::Greater).unwrap_err(),
        StatsError::MismatchedPairs { baseline: 3, candidate: 2 }
    );
}

#[test]
fn invalid_parameters_are_errors() {
    let s = Sample::timings(vec![1.0, 2.0]).unwrap();
    for c in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        assert!(matches!(
            confidence_interval(&s, c),
            Err(StatsError::InvalidParameter { name: "confidence level", .. })
        ));
    }
    assert!(t_quantile(0.0, 5.0).is_err());
    assert!(t_quantile(0.5, 0.0).is_err());
    assert!(improvement_percent(0.0, 1.0).is_err());
    assert!(memory_increase_percent(0, 10).is_err());
    assert!(minimum_detectable_effect(1, 0.05, 0.2, 1.0).is_err());
    assert!(matches!(required_pairs(1e-9, 1.0, 0.05, 0.2), Err(StatsError::TooManyPairs { .. })));
}
