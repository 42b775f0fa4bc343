//! Edge cases and domains of the statistics: infinities, degenerate variance, parameter errors.

use bench_core::Sample;
use bench_stats::*;

#[test]
fn t_tails_at_the_extremes() {
    assert_eq!(t_sf(f64::INFINITY, 5.0).unwrap(), 0.0);
    assert_eq!(t_sf(f64::NEG_INFINITY, 5.0).unwrap(), 1.0);
    assert_eq!(t_sf(0.0, 5.0).unwrap(), 0.5);
    assert!(t_sf(f64::NAN, 5.0).is_err());
    assert!(t_sf(1.0, f64::NAN).is_err());
    assert!(t_sf(1.0, -1.0).is_err());
    assert!(t_pdf(0.0, 0.0).is_err());
    // Very large statistics and huge degrees of freedom stay finite and ordered.
    let far = t_sf(200.0, 3.0).unwrap();
    assert!((far - 1.378_198_199_520_458_2e-7).abs() < 1e-18, "{far:e}"); // scipy.stats.t.sf(200, 3)
    // Large degrees of freedom, against scipy.stats.t.sf (the log-gamma ratio uses its
    // asymptotic series there; beyond 1e7 the agreement degrades to ~1e-8 relative).
    for (df, t, want) in [
        (1e3, 1.96, 0.025136592477874368),
        (1e4, 0.5, 0.30854303966161684),
        (1e4, 4.0, 3.189933441156984e-05),
        (1e5, 1.96, 0.02499928159715084),
        (1e6, 4.0, 3.167351700502405e-05),
        (1e7, 1.96, 0.024997909012657114),
    ] {
        let got = t_sf(t, df).unwrap();
        assert!(((got - want) / want).abs() < 1e-9, "t_sf({t}, {df}) = {got:e}, scipy {want:e}");
    }
    assert_eq!(t_quantile(0.5, 3.0).unwrap(), 0.0);
    assert!(t_quantile(1.0, 3.0).is_err());
    // scipy.stats.t.ppf: far-tail quantiles converge from any start.
    for (p, df, want) in [
        (1e-300, 2.0, -7.071067811865475e149),
        (1e-12, 2.0, -707106.7811854869),
        (1e-12, 5.0, -393.95695957760375),
    ] {
        let got = t_quantile(p, df).unwrap();
        assert!(((got - want) / want).abs() < 1e-9, "t.ppf({p}, {df}) = {got:e}, scipy {want:e}");
    }
    assert!((t_quantile(0.975, 1e6).unwrap() - 1.959_966_356_814_107).abs() < 1e-9); // scipy.stats.t.ppf(0.975, 1e6)
    // Absurd degrees of freedom still answer promptly (near the normal quantile).
    let t0 = std::time::Instant::now();
    assert!((t_quantile(0.975, 1e12).unwrap() - 1.959_963_984_540_054).abs() < 1e-5);
    assert!(t0.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn alternatives_have_names_and_parse() {
    for a in [Alternative::Greater, Alternative::Less, Alternative::TwoSided] {
        assert_eq!(a.as_str().parse::<Alternative>().unwrap(), a);
    }
    assert_eq!("two_sided".parse::<Alternative>().unwrap(), Alternative::TwoSided);
    assert!("bigger".parse::<Alternative>().unwrap_err().contains("expected greater, less or two-sided"));
}

#[test]
fn welch_with_zero_variance_on_both_sides_follows_the_degenerate_rule() {
    let a = Sample::timings(vec![2.0, 2.0, 2.0]).unwrap();
    let b = Sample::timings(vec![1.0, 1.0]).unwrap();
    let w = welch_t_test(&a, &b, Alternative::Greater).unwrap();
    assert!(w.degenerate && w.t_statistic.is_none());
    assert_eq!(w.p_value, 0.0);
    assert_eq!(w.degrees_of_freedom, 3.0);
    assert_eq!(welch_t_test(&b, &a, Alternative::Greater).unwrap().p_value, 1.0);
    assert_eq!(welch_t_test(&a, &a, Alternative::TwoSided).unwrap().p_value, 1.0);
}

#[test]
fn power_rejects_invalid_parameters() {
    for (alpha, beta) in [(0.0, 0.2), (0.05, 1.0), (f64::NAN, 0.2)] {
        assert!(matches!(
            minimum_detectable_effect(10, alpha, beta, 1.0),
            Err(StatsError::InvalidParameter { .. })
        ));
    }
    assert!(matches!(
        minimum_detectable_effect(10, 0.05, 0.2, -1.0),
        Err(StatsError::InvalidParameter { name: "sigma_d", .. })
    ));
    assert!(matches!(
        minimum_detectable_effect(10, 0.05, 0.2, f64::INFINITY),
        Err(StatsError::InvalidParameter { .. })
    ));
    assert!(matches!(
        required_pairs(0.0, 1.0, 0.05, 0.2),
        Err(StatsError::InvalidParameter { name: "effect", .. })
    ));
    assert_eq!(required_pairs(100.0, 1.0, 0.05, 0.2).unwrap(), 2, "a huge effect needs the minimum");
    assert_eq!(minimum_detectable_effect(5, 0.05, 0.2, 0.0).unwrap(), 0.0);
    let e = StatsError::TooManyPairs { limit: 10 };
    assert!(e.to_string().contains("more than 10 pairs"));
    let e: StatsError = bench_core::SampleError::TooFew { n: 1 }.into();
    assert_eq!(e.to_string(), "a sample needs at least 2 values, got 1");
}

#[test]
fn effect_sizes_reject_non_positive_means() {
    assert!(speedup_ratio(1.0, 0.0).is_err());
    assert!(speedup_ratio(f64::NAN, 1.0).is_err());
    assert!(improvement_percent(1.0, -1.0).is_err());
    assert_eq!(memory_increase_percent(100, 50).unwrap(), -50.0);
}

#[test]
fn confidence_intervals_report_their_parts() {
    let s = Sample::new(vec![1.0, 2.0, 3.0]).unwrap();
    let ci = confidence_interval(&s, 0.9).unwrap();
    assert!((ci.half_width() - (ci.upper - ci.mean)).abs() < 1e-15);
    assert!(ci.contains(2.0) && !ci.contains(100.0));
    assert_eq!(ci.confidence, 0.9);
}
