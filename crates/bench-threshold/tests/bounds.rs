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
