//! Agreement with scipy for the ratio-of-means bounds: every figure in
//! `reference/ratio_reference.json` (written by `reference/gen_ratio_reference.py`, which computes
//! the mixture's evidence by numerical integration of its definition and the bounds by root
//! finding on scipy's t-tests) is recomputed here and compared.
//!
//! Tolerances: the mixture's log-evidence within 1e-6 absolute and its critical value within
//! 1e-6 relative (the reference integrates numerically); the paired and Welch bounds within 1e-7
//! relative; an unbounded end must be unbounded on both sides. The worst agreement is printed
//! (`cargo test -p bench-stats --test ratio_reference -- --nocapture`).

#![allow(clippy::print_stdout)]

use bench_stats::{MixtureBoundary, PairedSums, paired_critical, welch_ratio_bounds};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    mixture: Vec<Mixture>,
    paired: Vec<Bounds>,
    welch: Vec<Bounds>,
}

#[derive(Deserialize)]
struct Mixture {
    alpha: f64,
    t_star: f64,
    n: usize,
    q: Vec<f64>,
    log_evidence: Vec<f64>,
    critical: Option<f64>,
}

#[derive(Deserialize)]
struct Bounds {
    alpha: f64,
    x: Vec<f64>,
    y: Vec<f64>,
    estimate: f64,
    lower: Option<f64>,
    upper: Option<f64>,
}

fn fixture() -> Fixture {
    let text = include_str!("reference/ratio_reference.json");
    serde_json::from_str(text).expect("ratio_reference.json parses")
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// Compares one end; returns its relative error (0 when both are unbounded).
fn end(what: &str, ours: Option<f64>, theirs: Option<f64>, tol: f64) -> f64 {
    match (ours, theirs) {
        (None, None) => 0.0,
        (Some(a), Some(b)) => {
            let e = rel(a, b);
            assert!(e <= tol, "{what}: ours {a}, scipy {b} (relative error {e:e})");
            e
        }
        (a, b) => panic!("{what}: ours {a:?}, scipy {b:?} — one is bounded and the other is not"),
    }
}

#[test]
fn the_mixture_evidence_and_boundary_match_numerical_integration() {
    let f = fixture();
    let (mut worst_e, mut worst_q) = (0.0f64, 0.0f64);
    let mut bounded = 0;
    for m in &f.mixture {
        let b = MixtureBoundary::tuned_for(m.t_star, m.alpha).unwrap();
        for (q, want) in m.q.iter().zip(&m.log_evidence) {
            let got = b.log_evidence(*q, m.n);
            let e = (got - want).abs();
            assert!(
                e < 1e-6,
                "log E_{}({q}) α={} t*={}: ours {got}, integrated {want}",
                m.n,
                m.alpha,
                m.t_star
            );
            worst_e = worst_e.max(e);
        }
        let got = b.critical(m.n);
        match m.critical {
            Some(want) => {
                bounded += 1;
                worst_q = worst_q.max(end("critical q", Some(got), Some(want), 1e-6));
            }
            None => assert!(
                got.is_infinite(),
                "n={} α={} t*={}: ours {got}, integration finds none",
                m.n,
                m.alpha,
                m.t_star
            ),
        }
    }
    println!(
        "mixture: {} cases, worst |Δ log E| {worst_e:.2e}, worst critical relative error {worst_q:.2e} ({bounded} finite)",
        f.mixture.len()
    );
    assert!(bounded > f.mixture.len() / 2, "the fixture must exercise finite boundaries");
}

#[test]
fn paired_bounds_match_scipy_t_tests() {
    let f = fixture();
    let mut worst = 0.0f64;
    let mut finite = 0;
    for (i, c) in f.paired.iter().enumerate() {
        let s = PairedSums::from_units(&c.x, &c.y);
        let b = s.ratio_bounds(paired_critical(c.x.len(), c.alpha, 1.0).unwrap());
        assert!(rel(b.estimate, c.estimate) < 1e-12);
        worst = worst.max(end(&format!("paired case {i} lower"), b.lower, c.lower, 1e-7));
        worst = worst.max(end(&format!("paired case {i} upper"), b.upper, c.upper, 1e-7));
        finite += usize::from(c.lower.is_some() && c.upper.is_some());
    }
    println!(
        "paired: {} cases ({finite} bounded both sides), worst relative error {worst:.2e}",
        f.paired.len()
    );
    assert!(finite > f.paired.len() / 2);
}

#[test]
fn welch_bounds_match_scipy_welch_tests() {
    let f = fixture();
    let mut worst = 0.0f64;
    for (i, c) in f.welch.iter().enumerate() {
        let b = welch_ratio_bounds(&c.x, &c.y, c.alpha, [1.0, 1.0]).unwrap();
        assert!(rel(b.estimate, c.estimate) < 1e-12);
        worst = worst.max(end(&format!("welch case {i} lower"), b.lower, c.lower, 1e-7));
        worst = worst.max(end(&format!("welch case {i} upper"), b.upper, c.upper, 1e-7));
    }
    println!("welch: {} cases, worst relative error {worst:.2e}", f.welch.len());
}
