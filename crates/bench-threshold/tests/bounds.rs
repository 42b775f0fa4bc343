//! The fixed-sample bounds' side figures — pairs to decide, the interval and the sentence —
//! against independent arithmetic (edges a mutation run found unguarded).

use bench_core::ErrorClass;
use bench_threshold::{ThresholdError, independent_bound, paired_bound};
use rust_decimal::Decimal;

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn var(v: &[f64]) -> f64 {
    let m = mean(v);
    v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64
}

/// Alternating noise: negative lag-1 autocorrelation, so no variance is widened.
fn alternating(level: f64, n: usize, amp: f64) -> Vec<f64> {
    (0..n)
        .map(|i| level * (1.0 + amp * if i % 2 == 0 { 1.0 } else { -0.7 } * (1.0 + (i % 5) as f64 / 10.0)))
        .collect()
}

/// The smallest m ≥ 2 with `width(m) ≤ gap`, by walking m upward.
fn smallest(gap: f64, width: impl Fn(usize) -> f64) -> usize {
    (2..1_000_000).find(|&m| width(m) <= gap).unwrap()
}

#[test]
fn welch_pairs_to_decide_is_the_smallest_run_count_whose_half_width_fits_the_gap() {
    let (b, c) = (alternating(1.0, 12, 0.05), alternating(0.93, 10, 0.06));
    let bound = independent_bound(&b, &c, 0.05, 5.0).unwrap();
    assert_eq!(bound.variance_inflation, Decimal::ONE, "alternating noise widens nothing");
    let r = mean(&c) / mean(&b);
    let per_run = (r * r * var(&b) + var(&c)).sqrt() / mean(&b);
    let gap = ((1.0 - 0.05) - r).abs();
    let want = smallest(gap, |m| {
        bench_stats::t_quantile(0.95, (m - 1) as f64).unwrap() * per_run / (m as f64).sqrt()
    });
    assert_eq!(bound.pairs_to_decide, Some(want), "gap {gap}, per-run {per_run}");
}

#[test]
fn paired_pairs_to_decide_is_the_smallest_pair_count_whose_half_width_fits_the_gap() {
    let b = alternating(1.0, 12, 0.05);
    let c: Vec<f64> = b.iter().enumerate().map(|(i, x)| x * (0.93 + 0.01 * (i % 3) as f64)).collect();
    let bound = paired_bound(&b, &c, 0.05, 5.0).unwrap();
    let r = mean(&c) / mean(&b);
    let d: Vec<f64> = b.iter().zip(&c).map(|(x, y)| r * x - y).collect();
    let spread = var(&d).sqrt() / mean(&b);
    let inflation = bench_core::to_f64(bound.variance_inflation);
    let gap = ((1.0 - 0.05) - r).abs();
    let want = smallest(gap, |m| {
        (bench_stats::paired_critical(m, 0.05, inflation).unwrap() / m as f64).sqrt() * spread
    });
    assert_eq!(bound.pairs_to_decide, Some(want), "gap {gap}, spread {spread}");
}

#[test]
fn the_interval_and_the_sentence_say_what_the_bound_holds() {
    let b = alternating(1.0, 12, 0.05);
    let c: Vec<f64> = b.iter().enumerate().map(|(i, x)| x * (0.93 + 0.01 * (i % 3) as f64)).collect();
    let bound = paired_bound(&b, &c, 0.05, 5.0).unwrap();
    let f = bench_core::units::fmt2;
    assert_eq!(
        bound.interval_text(),
        format!("[{}%, {}%]", f(bound.lower_percent.unwrap()), f(bound.upper_percent.unwrap()))
    );
    assert!(!bound.statement().contains("widened"), "{}", bound.statement());
    // A drift: positive lag-1 autocorrelation widens the variance, and the sentence says so.
    let drift: Vec<f64> = (0..12).map(|i| 1.0 + 0.01 * i as f64 + 0.002 * (i % 2) as f64).collect();
    let cand: Vec<f64> = drift.iter().enumerate().map(|(i, x)| x * 0.9 + 0.004 * i as f64).collect();
    let widened = paired_bound(&drift, &cand, 0.05, 5.0).unwrap();
    assert!(widened.variance_inflation > Decimal::ONE, "{widened:?}");
    assert!(widened.statement().contains("variance widened ×"), "{}", widened.statement());
}

#[test]
fn a_figure_that_is_not_finite_is_an_internal_error() {
    assert!(!ThresholdError::NonFinite { what: "the estimate", value: f64::NAN }.is_input_error());
}

#[test]
fn abba_blocks_sum_consecutive_pairs_and_keep_a_last_single_pair() {
    let (x, y) =
        bench_threshold::abba_blocks(&[1.0, 2.0, 3.0, 4.0, 5.0], &[10.0, 20.0, 30.0, 40.0, 50.0, 60.0]);
    assert_eq!(x, vec![3.0, 7.0, 5.0]);
    assert_eq!(y, vec![30.0, 70.0, 50.0], "the candidate's extra run has no partner and is left out");
}

#[test]
fn sequential_pairs_to_decide_is_the_smallest_block_count_whose_width_fits_the_gap() {
    let b = alternating(1.0, 24, 0.05);
    let c: Vec<f64> = b.iter().enumerate().map(|(i, x)| x * (0.93 + 0.01 * (i % 3) as f64)).collect();
    let boundary = bench_stats::MixtureBoundary::tuned_for(400.0, 0.05).unwrap();
    let bound = bench_threshold::confidence_sequence_bound(&b, &c, &boundary, 5.0).unwrap();
    // Blocks of two consecutive pairs, summed by hand.
    let xs: Vec<f64> = b.chunks(2).map(|w| w.iter().sum()).collect();
    let ys: Vec<f64> = c.chunks(2).map(|w| w.iter().sum()).collect();
    let r = ys.iter().sum::<f64>() / xs.iter().sum::<f64>();
    let d: Vec<f64> = xs.iter().zip(&ys).map(|(x, y)| r * x - y).collect();
    let spread = var(&d).sqrt() / mean(&xs);
    let inflation = bench_core::to_f64(bound.variance_inflation);
    let gap = ((1.0 - 0.05) - r).abs();
    let blocks = smallest(gap, |m| {
        let q = boundary.critical(m);
        if q.is_finite() { q * (inflation / m as f64).sqrt() * spread } else { f64::INFINITY }
    });
    assert_eq!(bound.pairs_per_unit, 2);
    assert_eq!(bound.pairs_to_decide, Some(2 * blocks), "gap {gap}, spread {spread}");
}

/// Separate runs: the difference's CI is Welch's (mean difference ± t(df) · se, with the
/// Welch–Satterthwaite df computed here), and its CV uses √(s²_b + s²_c).
#[test]
fn independent_samples_get_welchs_difference_interval_and_spread() {
    let (b, c) = (alternating(1.0, 12, 0.05), alternating(0.93, 10, 0.06));
    let t = bench_threshold::OptimizationConfig::create_default().fallback().clone();
    let sample = |v: &[f64]| bench_core::Sample::new(v.to_vec()).unwrap();
    let e = bench_threshold::evaluate_independent(&sample(&b), &sample(&c), None, &t).unwrap();
    let (vb, vc) = (var(&b) / b.len() as f64, var(&c) / c.len() as f64);
    let se = (vb + vc).sqrt();
    let df = (vb + vc).powi(2) / (vb * vb / (b.len() - 1) as f64 + vc * vc / (c.len() - 1) as f64);
    let half = bench_stats::t_quantile(0.975, df).unwrap() * se;
    let md = mean(&b) - mean(&c);
    let ci = e.difference_ci.expect("not degenerate");
    let close = |a: Decimal, x: f64| (bench_core::to_f64(a) - x).abs() < 1e-12;
    assert!(close(ci[0], md - half) && close(ci[1], md + half), "{ci:?} vs {} ± {half}", md);
    let cv = (var(&b) + var(&c)).sqrt() / mean(&b) * 100.0;
    assert!(
        (bench_core::to_f64(e.difference_cv_percent) - cv).abs() < 1e-9,
        "{} vs {cv}",
        e.difference_cv_percent
    );
}

/// The classic rule reports a slower candidate as a regression, and a faster one never.
#[test]
fn the_classic_rule_names_a_regression_only_when_the_candidate_is_slower() {
    let t = bench_threshold::OptimizationConfig::create_default().fallback().clone();
    let sample = |v: Vec<f64>| bench_core::Sample::new(v).unwrap();
    let b = alternating(1.0, 12, 0.01);
    let slower: Vec<f64> = b.iter().map(|x| x * 1.2).collect();
    let faster: Vec<f64> = b.iter().map(|x| x * 0.8).collect();
    let up = bench_threshold::evaluate_threshold(&sample(b.clone()), &sample(slower), None, &t).unwrap();
    assert_eq!(up.classic_verdict, bench_threshold::Verdict::Regression);
    let down = bench_threshold::evaluate_threshold(&sample(b), &sample(faster), None, &t).unwrap();
    assert_eq!(down.classic_verdict, bench_threshold::Verdict::Accepted);
}

/// An adaptive comparison decided on clearly faster runs is accepted; the same runs cut short
/// by an interrupt are not (the plan was not run to its end).
#[test]
fn an_interrupted_adaptive_comparison_is_never_accepted_but_a_decided_one_is() {
    use bench_threshold::{AdaptivePlan, OptimizationConfig, Verdict, evaluate_adaptive};
    let t = OptimizationConfig::create_default().fallback().clone();
    let plan = AdaptivePlan::default_for(&t);
    let b = alternating(1.0, 40, 0.01);
    let c: Vec<f64> = b.iter().map(|x| x * 0.7).collect();
    let sample = |v: &[f64]| bench_core::Sample::new(v.to_vec()).unwrap();
    let decided = evaluate_adaptive(&sample(&b), &sample(&c), None, &t, &plan, 1.0, "decided").unwrap();
    assert_eq!(decided.verdict, Verdict::Accepted, "{}", decided.decision_rationale);
    let cut = evaluate_adaptive(&sample(&b), &sample(&c), None, &t, &plan, 1.0, "interrupted").unwrap();
    assert_eq!(cut.verdict, Verdict::Inconclusive, "{}", cut.decision_rationale);
    // The path counts pairs: one point per block from the second on, 2 pairs per block.
    let path = &decided.adaptive.as_ref().unwrap().path;
    assert_eq!(path.first().map(|p| p.pairs), Some(4));
    assert_eq!(path.last().map(|p| p.pairs), Some(40));
}

#[test]
fn the_incremental_state_counts_pairs_and_the_tally_its_rates() {
    use bench_threshold::{AdaptivePlan, AdaptiveState, OptimizationConfig, simulate_adaptive};
    let t = OptimizationConfig::create_default().fallback().clone();
    let plan = AdaptivePlan::default_for(&t).with_budget(40);
    let mut state = AdaptiveState::new(&t, &plan).unwrap();
    for i in 0..7 {
        state.push(1.0 + 0.01 * (i % 3) as f64, 0.9);
    }
    assert_eq!(state.pairs(), 7);
    let (point, _) = state.status();
    assert_eq!(point.map(|p| p.pairs), Some(6), "three closed blocks");
    // No effect against a 5% threshold, a budget of 40 pairs: some comparisons reject, the rest
    // run out of budget; the rates are the counts over the comparisons.
    let tally = simulate_adaptive(50, &t, &plan, 3, |rng| {
        (1.0 + 0.05 * (rng.unit() - 0.5), 1.0 + 0.05 * (rng.unit() - 0.5))
    })
    .unwrap();
    assert_eq!(tally.comparisons, 50);
    assert_eq!(tally.accepted + tally.rejected + tally.inconclusive, 50);
    assert!(tally.inconclusive < 50, "{tally:?}");
    assert!((tally.inconclusive_rate() - tally.inconclusive as f64 / 50.0).abs() < 1e-12);
    assert!((tally.mean_pairs() - tally.pairs as f64 / 50.0).abs() < 1e-12);
    assert!(tally.mean_pairs() > 2.0 && tally.mean_pairs() <= 40.0, "{}", tally.mean_pairs());
}

#[test]
fn a_budget_sets_the_pairs_and_tunes_the_sequence_for_twice_it() {
    let t = bench_threshold::OptimizationConfig::create_default().fallback().clone();
    let plan = bench_threshold::AdaptivePlan::default_for(&t).with_budget(150);
    assert_eq!(plan.max_pairs, 150);
    assert_eq!(plan.tuned_for_pairs, 300.0);
    assert_eq!(plan.min_pairs, t.min_sample_size);
}
