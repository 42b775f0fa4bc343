//! The anytime-valid ratio bound holds at every sample size at once: over many simulated
//! streams, looked at after every unit, the share whose one-sided bound ever excludes the true
//! ratio stays at or below α — exactly for Gaussian differences (the mixture's guarantee), and
//! for the skewed, ratio-shaped units a benchmark produces. The same check on the fixed-sample
//! bound, looked at just as often, must fail: that is what makes the test able to fail.

#![allow(clippy::print_stdout)]

use bench_stats::{MixtureBoundary, PairedSums, paired_critical};

struct Rng(u64);
impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-300), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Share of `streams` streams of `len` units whose lower bound on `μ_y/μ_x` ever rises above
/// `truth` (one-sided miss), looking after every unit from the second on; `k(n)` is the critical
/// value at `n` units.
fn ever_missed(
    streams: usize,
    len: usize,
    truth: f64,
    k: &dyn Fn(usize) -> f64,
    draw: &mut dyn FnMut(&mut Rng) -> (f64, f64),
) -> f64 {
    let mut rng = Rng(20261203);
    let mut missed = 0;
    for _ in 0..streams {
        let mut s = PairedSums::default();
        for n in 1..=len {
            let (x, y) = draw(&mut rng);
            s.push(x, y);
            if n >= 2 && s.ratio_bounds(k(n)).lower.is_some_and(|lo| lo > truth) {
                missed += 1;
                break;
            }
        }
    }
    missed as f64 / streams as f64
}

#[test]
fn the_mixture_bound_covers_at_every_look_and_the_fixed_bound_does_not() {
    let alpha = 0.05;
    let b = MixtureBoundary::tuned_for(200.0, alpha).unwrap();
    let table = b.table(400);
    let seq = |n: usize| table[n] * table[n];
    let fixed = |n: usize| paired_critical(n, alpha, 1.0).unwrap();
    let streams = 2000;
    // Standard error of a rate near 5% over 2000 streams: 0.0049; 0.05 + 3 SE = 0.065.
    let limit = alpha + 3.0 * (alpha * (1.0 - alpha) / streams as f64).sqrt();

    // Gaussian: x around 1, y = 0.9·x + Gaussian noise, so r·x − y has mean 0 at r = 0.9.
    let mut gaussian = |r: &mut Rng| {
        let x = 1.0 + 0.05 * r.normal();
        (x, 0.9 * x + 0.08 * r.normal())
    };
    let g_seq = ever_missed(streams, 400, 0.9, &seq, &mut gaussian);
    let g_fixed = ever_missed(streams, 400, 0.9, &fixed, &mut gaussian);
    // Log-normal run times with a 25% coefficient of variation on both sides: the ratio of the
    // means is exactly 0.9.
    let s = (1.0f64 + 0.25 * 0.25).ln().sqrt();
    let mut lognormal = |r: &mut Rng| {
        let x = (s * r.normal() - s * s / 2.0).exp();
        (x, 0.9 * (s * r.normal() - s * s / 2.0).exp())
    };
    let l_seq = ever_missed(streams, 400, 0.9, &seq, &mut lognormal);
    let l_fixed = ever_missed(streams, 400, 0.9, &fixed, &mut lognormal);
    println!(
        "ever above the true ratio over 400 looks: mixture {g_seq:.4} (Gaussian), {l_seq:.4} (log-normal); fixed-sample bound {g_fixed:.4}, {l_fixed:.4}"
    );
    assert!(g_seq <= limit && l_seq <= limit, "the mixture bound must hold at every look: {g_seq}, {l_seq}");
    // Looking 400 times at a fixed-sample bound inflates its error several-fold: the same
    // check cannot pass it, so the check above has teeth.
    assert!(g_fixed > 3.0 * alpha && l_fixed > 3.0 * alpha, "{g_fixed} {l_fixed}");
    // And the mixture bound is not vacuous: it does bound the ratio once data are in.
    let first = table.iter().position(|q| q.is_finite()).unwrap();
    println!("first finite boundary at {first} units");
    assert!((3..=30).contains(&first), "{first}");
}

#[test]
fn the_mixture_bound_tightens_and_decides_a_real_difference() {
    // A 20% faster candidate with 10% noise: the upper bound on the ratio falls below 0.95
    // within a few dozen units.
    let b = MixtureBoundary::tuned_for(200.0, 0.05).unwrap();
    let mut rng = Rng(3);
    let mut s = PairedSums::default();
    let mut decided_at = None;
    for n in 1..=400 {
        let x = 1.0 + 0.1 * rng.normal();
        s.push(x, 0.8 * x * (1.0 + 0.1 * rng.normal()));
        let q = b.critical(n);
        if s.ratio_bounds(q * q).upper.is_some_and(|u| u < 0.95) {
            decided_at = Some(n);
            break;
        }
    }
    let n = decided_at.expect("a 20% difference at 10% noise is decided within 400 units");
    println!("decided after {n} units");
    assert!(n < 60, "{n}");
}
