//! Agreement with scipy: every figure in `reference/scipy_reference.json` (written by
//! `reference/gen_reference.py`) is recomputed here and compared.
//!
//! Tolerances: p-values within 1e-9 relative or 1e-15 absolute; CI bounds within
//! 1e-10 relative. The worst agreement found is printed (`cargo test -p bench-stats --test
//! scipy_reference -- --nocapture`).

#![allow(clippy::print_stdout)]

use bench_core::Sample;
use bench_stats::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    cases: Vec<Case>,
    t_quantiles: Vec<TQuantile>,
    t_sf: Vec<TSf>,
    quartiles: Vec<Quartiles>,
    power: Vec<Power>,
    required_pairs: Vec<RequiredPairs>,
}

#[derive(Deserialize)]
struct Case {
    id: u32,
    confidence: f64,
    alternative: String,
    baseline: Vec<f64>,
    candidate: Vec<f64>,
    baseline_mean: f64,
    baseline_std: f64,
    baseline_se: f64,
    candidate_mean: f64,
    candidate_std: f64,
    t_critical: f64,
    baseline_ci: [f64; 2],
    candidate_ci: [f64; 2],
    paired: Test,
    welch: Test,
    improvement_percent: f64,
    speedup_ratio: f64,
    diff_std: f64,
}

#[derive(Deserialize)]
struct Test {
    t_statistic: f64,
    df: f64,
    p_value: f64,
}

#[derive(Deserialize)]
struct TQuantile {
    p: f64,
    df: f64,
    value: f64,
}

#[derive(Deserialize)]
struct TSf {
    t: f64,
    df: f64,
    sf: f64,
    cdf: f64,
}

#[derive(Deserialize)]
struct Quartiles {
    values: Vec<f64>,
    q1: f64,
    median: f64,
    q3: f64,
    lower_mild_fence: f64,
    upper_mild_fence: f64,
    lower_severe_fence: f64,
    upper_severe_fence: f64,
    classification: Vec<String>,
}

#[derive(Deserialize)]
struct Power {
    n: u64,
    alpha: f64,
    beta: f64,
    sigma_d: f64,
    mde: f64,
}

#[derive(Deserialize)]
struct RequiredPairs {
    effect: f64,
    sigma_d: f64,
    alpha: f64,
    beta: f64,
    n: u64,
}

fn fixture() -> Fixture {
    let text = include_str!("reference/scipy_reference.json");
    serde_json::from_str(text).expect("fixture parses")
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b { 0.0 } else { (a - b).abs() / b.abs().max(f64::MIN_POSITIVE) }
}

/// Tracks the worst relative disagreement of one quantity.
struct Worst {
    name: &'static str,
    rel: f64,
    abs: f64,
    count: usize,
}

impl Worst {
    fn new(name: &'static str) -> Self {
        Self { name, rel: 0.0, abs: 0.0, count: 0 }
    }
    fn record(&mut self, got: f64, want: f64) {
        self.count += 1;
        self.rel = self.rel.max(rel(got, want));
        self.abs = self.abs.max((got - want).abs());
    }
    fn print(&self) {
        println!(
            "{:<28} n={:<4} max rel err {:.3e}  max abs err {:.3e}",
            self.name, self.count, self.rel, self.abs
        );
    }
}

fn p_agrees(got: f64, want: f64) -> bool {
    rel(got, want) <= 1e-9 || (got - want).abs() <= 1e-15
}

#[test]
fn paired_and_ci_cases_agree_with_scipy() {
    let f = fixture();
    assert!(f.cases.len() >= 200, "fixture holds {} cases", f.cases.len());
    let mut w_ci = Worst::new("CI bounds");
    let mut w_tcrit = Worst::new("t critical");
    let mut w_p = Worst::new("paired p-value");
    let mut w_t = Worst::new("paired t statistic");
    let mut w_wp = Worst::new("welch p-value");
    let mut w_wdf = Worst::new("welch df");
    let mut w_desc = Worst::new("mean/std/se");
    for c in &f.cases {
        let b = Sample::timings(c.baseline.clone()).unwrap();
        let o = Sample::timings(c.candidate.clone()).unwrap();
        let alt: Alternative = c.alternative.parse().unwrap();

        w_desc.record(mean(&b), c.baseline_mean);
        w_desc.record(std_dev(&b), c.baseline_std);
        w_desc.record(standard_error(&b), c.baseline_se);
        w_desc.record(mean(&o), c.candidate_mean);
        w_desc.record(std_dev(&o), c.candidate_std);

        let bci = confidence_interval(&b, c.confidence).unwrap();
        let oci = confidence_interval(&o, c.confidence).unwrap();
        w_tcrit.record(bci.t_critical, c.t_critical);
        for (got, want) in [
            (bci.lower, c.baseline_ci[0]),
            (bci.upper, c.baseline_ci[1]),
            (oci.lower, c.candidate_ci[0]),
            (oci.upper, c.candidate_ci[1]),
        ] {
            assert!(rel(got, want) <= 1e-10, "case {}: CI bound {got} vs scipy {want}", c.id);
            w_ci.record(got, want);
        }

        let p = paired_t_test(&b, &o, alt).unwrap();
        assert_eq!(p.degrees_of_freedom, c.paired.df, "case {}", c.id);
        assert!(
            p_agrees(p.p_value, c.paired.p_value),
            "case {}: paired p {} vs scipy {}",
            c.id,
            p.p_value,
            c.paired.p_value
        );
        w_p.record(p.p_value, c.paired.p_value);
        w_t.record(p.t_statistic.unwrap(), c.paired.t_statistic);

        let w = welch_t_test(&b, &o, alt).unwrap();
        assert!(
            p_agrees(w.p_value, c.welch.p_value),
            "case {}: welch p {} vs scipy {}",
            c.id,
            w.p_value,
            c.welch.p_value
        );
        assert!(rel(w.degrees_of_freedom, c.welch.df) <= 1e-10, "case {}: welch df", c.id);
        assert!(rel(w.t_statistic.unwrap(), c.welch.t_statistic) <= 1e-9, "case {}: welch t", c.id);
        w_wp.record(w.p_value, c.welch.p_value);
        w_wdf.record(w.degrees_of_freedom, c.welch.df);

        // Absolute tolerance: near-zero improvements have no meaningful relative error.
        assert!(
            (improvement_percent(c.baseline_mean, c.candidate_mean).unwrap() - c.improvement_percent).abs()
                <= 1e-11
        );
        assert!(rel(speedup_ratio(c.baseline_mean, c.candidate_mean).unwrap(), c.speedup_ratio) <= 1e-14);
        let d = Sample::new(c.baseline.iter().zip(&c.candidate).map(|(x, y)| x - y).collect()).unwrap();
        assert!(rel(std_dev(&d), c.diff_std) <= 1e-9, "case {}: diff std", c.id);
    }
    for w in [&w_desc, &w_tcrit, &w_ci, &w_t, &w_p, &w_wp, &w_wdf] {
        w.print();
    }
}

#[test]
fn t_quantiles_and_tails_agree_with_scipy() {
    let f = fixture();
    let mut wq = Worst::new("t quantile");
    for q in &f.t_quantiles {
        let got = t_quantile(q.p, q.df).unwrap();
        assert!(
            rel(got, q.value) <= 1e-10 || (got - q.value).abs() <= 1e-13,
            "t.ppf({}, {}) = {got}, scipy {}",
            q.p,
            q.df,
            q.value
        );
        wq.record(got, q.value);
    }
    let mut ws = Worst::new("t sf / cdf");
    for s in &f.t_sf {
        let sf = t_sf(s.t, s.df).unwrap();
        let cdf = t_cdf(s.t, s.df).unwrap();
        assert!(p_agrees(sf, s.sf), "t.sf({}, {}) = {sf}, scipy {}", s.t, s.df, s.sf);
        assert!(p_agrees(cdf, s.cdf), "t.cdf({}, {}) = {cdf}, scipy {}", s.t, s.df, s.cdf);
        if s.sf > 0.0 {
            ws.record(sf, s.sf);
        }
        if s.cdf > 0.0 {
            ws.record(cdf, s.cdf);
        }
    }
    wq.print();
    ws.print();
}

#[test]
fn quartiles_fences_and_classes_agree_with_numpy() {
    let f = fixture();
    for q in &f.quartiles {
        let mut sorted = q.values.clone();
        sorted.sort_by(f64::total_cmp);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
        assert!(close(quantile_linear(&sorted, 0.25), q.q1));
        assert!(close(quantile_linear(&sorted, 0.5), q.median));
        assert!(close(quantile_linear(&sorted, 0.75), q.q3));
        let s = Sample::new(q.values.clone()).unwrap();
        let r = classify_outliers(&s);
        assert!(close(r.lower_mild, q.lower_mild_fence) && close(r.upper_mild, q.upper_mild_fence));
        assert!(close(r.lower_severe, q.lower_severe_fence) && close(r.upper_severe, q.upper_severe_fence));
        let labels: Vec<&str> = r.classes.iter().map(|c| c.as_str()).collect();
        assert_eq!(labels, q.classification, "values {:?}", q.values);
    }
}

#[test]
fn power_agrees_with_scipy() {
    let f = fixture();
    let mut w = Worst::new("minimum detectable effect");
    for p in &f.power {
        let got = minimum_detectable_effect(p.n, p.alpha, p.beta, p.sigma_d).unwrap();
        assert!(
            rel(got, p.mde) <= 1e-10,
            "mde n={} alpha={} beta={}: {got} vs {}",
            p.n,
            p.alpha,
            p.beta,
            p.mde
        );
        w.record(got, p.mde);
    }
    for r in &f.required_pairs {
        assert_eq!(
            required_pairs(r.effect, r.sigma_d, r.alpha, r.beta).unwrap(),
            r.n,
            "effect {} sigma {}",
            r.effect,
            r.sigma_d
        );
    }
    w.print();
}
