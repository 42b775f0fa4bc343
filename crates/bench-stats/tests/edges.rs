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

// ---- Edges a mutation run (cargo mutants) found unguarded ----

/// Independent arithmetic for the running sums: d = r·x − y unit by unit.
fn direct(xs: &[f64], ys: &[f64], r: f64) -> (f64, f64, f64, f64) {
    let d: Vec<f64> = xs.iter().zip(ys).map(|(x, y)| r * x - y).collect();
    let n = d.len() as f64;
    let t: f64 = d.iter().sum();
    let w: f64 = d.iter().map(|v| v * v).sum();
    let m = t / n;
    let sd = (d.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0)).sqrt();
    let spread = sd / (xs.iter().sum::<f64>() / n);
    (t, w, spread, lag1_autocorrelation(&d))
}

#[test]
fn running_sums_agree_with_the_units_away_from_r_equal_one() {
    let xs = [1.00, 1.07, 0.95, 1.12, 0.99, 1.03, 0.91, 1.08, 1.01];
    let ys = [0.81, 0.90, 0.74, 0.97, 0.86, 0.80, 0.77, 0.92, 0.83];
    for n in [2, 3, 9] {
        let s = PairedSums::from_units(&xs[..n], &ys[..n]);
        for r in [0.6, 0.85, 1.3] {
            let (t, w, spread, lag) = direct(&xs[..n], &ys[..n], r);
            assert!((s.t(r) - t).abs() < 1e-12 && (s.w(r) - w).abs() < 1e-12, "n {n} r {r}");
            assert!((s.q(r) - t / w.sqrt()).abs() < 1e-12, "q at n {n} r {r}");
            assert!((s.relative_spread(r) - spread).abs() < 1e-12, "spread at n {n} r {r}");
            if n > 2 {
                assert!((s.lag1(r) - lag).abs() < 1e-9, "lag-1 at n {n} r {r}: {} vs {lag}", s.lag1(r));
            }
        }
    }
}

/// Fieller's bounds are the roots of (r·Sx − Sy)² = k·W(r): check both roots on both branches
/// of the stable root formula (b ≥ 0 and, with negative y, b < 0), and that the estimate lies
/// between them.
#[test]
fn ratio_bounds_are_the_roots_of_fiellers_quadratic() {
    let xs = [1.0, 1.2, 0.9, 1.1, 1.05, 0.95];
    let cases: [&[f64]; 2] = [&[0.8, 1.0, 0.7, 0.9, 0.85, 0.8], &[-0.5, -0.9, -0.2, -0.8, -0.4, -0.6]];
    for ys in cases {
        let s = PairedSums::from_units(&xs, ys);
        let k = paired_critical(6, 0.05, 1.0).unwrap();
        let b = s.ratio_bounds(k);
        let (lo, hi) = (b.lower.unwrap(), b.upper.unwrap());
        assert!(lo < b.estimate && b.estimate < hi, "{b:?}");
        // T(r) = r·Sx − Sy and W(r) = Σ(r·x − y)².
        let g = |r: f64| s.t(r).powi(2) - k * s.w(r);
        for r in [lo, hi] {
            assert!(g(r).abs() < 1e-9 * (1.0 + k * s.w(r)), "g({r}) = {}", g(r));
        }
        assert!(g(b.estimate) < 0.0);
    }
}

#[test]
fn invalid_critical_values_and_levels_give_no_bound() {
    let s = PairedSums::from_units(&[1.0, 1.1, 0.9], &[0.8, 0.9, 0.85]);
    for k in [-1.0, f64::NAN, f64::INFINITY] {
        let b = s.ratio_bounds(k);
        assert!(b.lower.is_none() && b.upper.is_none(), "k {k}: {b:?}");
    }
    for alpha in [0.0, 1.0, 1.5, -0.1] {
        assert!(paired_critical(8, alpha, 1.0).is_err(), "alpha {alpha}");
        assert!(MixtureBoundary::tuned_for(100.0, alpha).is_err(), "alpha {alpha}");
    }
}

#[test]
fn the_mixture_precision_follows_from_its_tuning() {
    // c = t* / (l + ln(1 + l)), l = −2 ln α.
    let m = MixtureBoundary::tuned_for(200.0, 0.05).unwrap();
    let l = -2.0 * 0.05f64.ln();
    assert!((m.precision() - 200.0 / (l + (1.0 + l).ln())).abs() < 1e-12, "{}", m.precision());
}

#[test]
fn welch_bounds_with_one_constant_side_are_not_degenerate() {
    let x = [1.0, 1.0, 1.0, 1.0, 1.0];
    let y = [0.80, 0.85, 0.78, 0.83, 0.79];
    let b = welch_ratio_bounds(&x, &y, 0.05, [1.0, 1.0]).unwrap();
    assert!(b.lower.unwrap() < b.estimate && b.estimate < b.upper.unwrap(), "{b:?}");
}

#[test]
fn quantiles_reach_both_ends() {
    let v = [1.0, 2.0, 4.0];
    assert_eq!(quantile_linear(&v, 0.0), 1.0);
    assert_eq!(quantile_linear(&v, 1.0), 4.0);
    assert_eq!(quantile_linear(&v, 0.75), 3.0);
}

#[test]
fn only_the_callers_data_make_an_input_error() {
    use bench_core::ErrorClass;
    assert!(
        paired_t_test(
            &Sample::new(vec![1.0, 2.0]).unwrap(),
            &Sample::new(vec![1.0, 2.0, 3.0]).unwrap(),
            Alternative::Greater
        )
        .unwrap_err()
        .is_input_error()
    );
    // A parameter out of its domain is the calling code's mistake, not the user's input.
    assert!(!t_sf(1.0, -1.0).unwrap_err().is_input_error());
    assert!(!paired_critical(8, 1.5, 1.0).unwrap_err().is_input_error());
}

/// Far tails and huge degrees of freedom, against scipy.stats.t (isf and sf, scipy 1.17).
#[test]
fn t_quantiles_in_the_far_tails_and_huge_degrees_of_freedom() {
    for (q, df, want) in [
        (1e-12, 3.0, 10331.108244292487),
        (1e-20, 5.0, 15683.925454365775),
        (1e-50, 2.0, 7.071067811865475e24),
        (1e-9, 1.5, 521946.94273343723),
        (1e-100, 4.0, 1.3160740129524926e25),
        (0.3, 2.0, 0.6172133998483678),
        (0.025, 1e6, 1.9599663568141072),
    ] {
        // The lower-tail quantile at q is minus the upper-tail one (1 − 1e-50 is 1 in f64).
        let got = -t_quantile(q, df).unwrap();
        // At a million degrees of freedom the tail sum loses a few digits (5e-12 relative,
        // checked with mpmath at 40 digits: scipy's 1.9599663568141070 is right).
        let tol = if df >= 1e6 { 1e-11 } else { 1e-12 };
        assert!((got / want - 1.0).abs() < tol, "t_quantile({q}, {df}) = {got:e}, scipy {want:e}");
    }
    let sf = t_sf(2.0, 1e9).unwrap();
    assert!((sf / 0.022750132083156623 - 1.0).abs() < 1e-7, "{sf}");
}
