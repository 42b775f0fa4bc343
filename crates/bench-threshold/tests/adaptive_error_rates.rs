//! Error rates of the adaptive design, by simulation, **at the decision boundary**: a candidate
//! whose true improvement of mean time is exactly the threshold, or 0.9×, 0.8× or 0× of it, must
//! be accepted at most α = 5% of the time — under skewed (log-normal), heavy-tailed (Student-t,
//! 3 df), serially dependent (AR(1), φ = 0.5), drifting (+1% per 100 runs) noise, with rare stalls
//! on either side, and on this project's own recorded A/A noise (`tests/noise/`, replayed in
//! blocks so the serial dependence of its level is kept, the sides swapped per ABBA block). Each cell simulates 10,000 comparisons that look
//! after every ABBA block, within a 400-pair budget, through the same [`SequentialState`] a real
//! comparison uses. Power and the mean pairs to a decision at 2× the threshold are printed and
//! held to a floor, so a design that never accepts fails too.
//!
//! `cargo test --release -p bench-threshold --test adaptive_error_rates -- --nocapture` prints
//! the table.

#![allow(clippy::print_stdout)]

use bench_core::SplitMix64;
use bench_threshold::{
    AdaptivePlan, OptimizationConfig, PerformanceThreshold, RecordedNoise, SimulationTally, simulate_adaptive,
};

const SEQUENCES: usize = 10_000;
const ALPHA: f64 = 0.05;
/// Fractions of the threshold simulated; all but the last must be accepted at most α.
const EFFECTS: [f64; 5] = [0.0, 0.8, 0.9, 1.0, 2.0];

fn threshold() -> PerformanceThreshold {
    OptimizationConfig::create_default().fallback().clone()
}

fn normal(rng: &mut SplitMix64) -> f64 {
    let (u, v) = (rng.unit().max(1e-300), rng.unit());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// A log-normal draw with mean 1 and log-sd `s`.
fn lognormal(rng: &mut SplitMix64, s: f64) -> f64 {
    (s * normal(rng) - s * s / 2.0).exp()
}

fn log_sd(cv: f64) -> f64 {
    (1.0 + cv * cv).ln().sqrt()
}

/// Student's t with 3 degrees of freedom, scaled to unit variance.
fn t3(rng: &mut SplitMix64) -> f64 {
    let chi: f64 = (0..3).map(|_| normal(rng).powi(2)).sum();
    normal(rng) / (chi / 3.0).sqrt() / 3f64.sqrt()
}

/// A generator of pairs (baseline, candidate).
type Pairs = Box<dyn FnMut(&mut SplitMix64) -> (f64, f64)>;

/// Simulates one cell: `model(g)` builds a fresh pair generator for a candidate whose true
/// improvement of mean time is `g` (a fraction).
fn cell(name: &str, model: &dyn Fn(f64) -> Pairs) -> Vec<SimulationTally> {
    cell_with(name, &AdaptivePlan::default_for(&threshold()), model)
}

/// [`cell`] under another plan.
fn cell_with(name: &str, plan: &AdaptivePlan, model: &dyn Fn(f64) -> Pairs) -> Vec<SimulationTally> {
    let t = threshold();
    let plan = *plan;
    let delta = bench_core::to_f64(t.min_improvement_percent) / 100.0;
    let mut row = Vec::new();
    for (i, f) in EFFECTS.iter().enumerate() {
        let mut draw = model(f * delta);
        let tally = simulate_adaptive(SEQUENCES, &t, &plan, 1000 + i as u64, |rng| draw(rng)).unwrap();
        row.push(tally);
    }
    let cells: Vec<String> = row
        .iter()
        .zip(EFFECTS)
        .map(|(t, f)| format!("{f}δ {:.4} ({:.0})", t.accepted_rate(), t.mean_pairs()))
        .collect();
    println!("{name:<34} accepted (mean pairs): {}", cells.join(" | "));
    row
}

/// Asserts the boundary rates and the power floor of a row.
fn check(name: &str, row: &[SimulationTally], power_floor: f64) {
    for (t, f) in row.iter().zip(EFFECTS) {
        if f <= 1.0 {
            assert!(
                t.accepted_rate() <= ALPHA,
                "{name}: at {f}× the threshold {:.4} of comparisons were accepted (> α = {ALPHA})",
                t.accepted_rate()
            );
        }
    }
    let power = row[EFFECTS.len() - 1].accepted_rate();
    assert!(power >= power_floor, "{name}: power at 2× the threshold {power:.3} < {power_floor}");
}

#[test]
fn log_normal_noise_10_and_25_percent() {
    for (cv, floor) in [(0.10, 0.95), (0.25, 0.5)] {
        let s = log_sd(cv);
        let name = format!("log-normal, CV {:.0}%", cv * 100.0);
        let row = cell(&name, &|g| {
            Box::new(move |r: &mut SplitMix64| (lognormal(r, s), (1.0 - g) * lognormal(r, s)))
        });
        check(&name, &row, floor);
    }
}

#[test]
fn heavy_tailed_student_t() {
    let name = "Student-t 3 df, sd 10%";
    let row = cell(name, &|g| {
        Box::new(move |r: &mut SplitMix64| (1.0 + 0.1 * t3(r), (1.0 - g) * (1.0 + 0.1 * t3(r))))
    });
    check(name, &row, 0.95);
}

#[test]
fn serially_dependent_ar1() {
    let name = "AR(1) φ 0.5 between pairs, CV 10%";
    let s = log_sd(0.10);
    let phi: f64 = 0.5;
    let row = cell(name, &|g| {
        let (mut u, mut v) = (0.0f64, 0.0f64);
        let mut started = false;
        Box::new(move |r: &mut SplitMix64| {
            if started {
                u = phi * u + (1.0 - phi * phi).sqrt() * normal(r);
                v = phi * v + (1.0 - phi * phi).sqrt() * normal(r);
            } else {
                (u, v, started) = (normal(r), normal(r), true);
            }
            ((s * u - s * s / 2.0).exp(), (1.0 - g) * (s * v - s * s / 2.0).exp())
        })
    });
    check(name, &row, 0.8);
}

#[test]
fn drift_of_one_percent_per_hundred_runs() {
    let name = "drift +1%/100 runs, CV 10%";
    let s = log_sd(0.10);
    let row = cell(name, &|g| {
        let mut pair = 0usize;
        Box::new(move |r: &mut SplitMix64| {
            // ABBA order: pair t runs at positions 2t and 2t+1, baseline first on even pairs.
            let speed = |run: usize| 1.0 + 0.01 * run as f64 / 100.0;
            let (rb, rc) =
                if pair.is_multiple_of(2) { (2 * pair, 2 * pair + 1) } else { (2 * pair + 1, 2 * pair) };
            pair += 1;
            (speed(rb) * lognormal(r, s), speed(rc) * (1.0 - g) * lognormal(r, s))
        })
    });
    check(name, &row, 0.95);
}

#[test]
fn rare_stalls_on_either_side() {
    let s = log_sd(0.10);
    // 8% of runs take twice as long. On the candidate: it is faster on most runs, and its mean
    // is exactly `g` better only counting the stalls.
    let (p, k) = (0.08, 2.0);
    let stall = move |r: &mut SplitMix64| if r.unit() < p { k } else { 1.0 };
    let mean = 1.0 + p * (k - 1.0);
    let name = "candidate stalls ×2 on 8% of runs";
    let row = cell(name, &|g| {
        Box::new(move |r: &mut SplitMix64| (lognormal(r, s), (1.0 - g) / mean * stall(r) * lognormal(r, s)))
    });
    check(name, &row, 0.6);
    let name = "baseline stalls ×2 on 8% of runs";
    let row = cell(name, &|g| {
        Box::new(move |r: &mut SplitMix64| (stall(r) * lognormal(r, s), (1.0 - g) * mean * lognormal(r, s)))
    });
    check(name, &row, 0.6);
    // The documented limit: stalls rarer and larger than the early looks can see (×3 on 3% of
    // the candidate's runs) are missed by a sequence that stops before they show. The rate at
    // the threshold is then above α; docs/methodology.md gives this row and the lever
    // (`--min-pairs`). Held to its measured level so it cannot silently get worse.
    let (p3, k3) = (0.03, 3.0);
    let mean3 = 1.0 + p3 * (k3 - 1.0);
    let name = "candidate stalls ×3 on 3% (limit)";
    let row = cell(name, &|g| {
        Box::new(move |r: &mut SplitMix64| {
            let st = if r.unit() < p3 { k3 } else { 1.0 };
            (lognormal(r, s), (1.0 - g) / mean3 * st * lognormal(r, s))
        })
    });
    assert!(row[3].accepted_rate() <= 0.16, "{}", row[3].accepted_rate());
    assert!(row[0].accepted_rate() <= ALPHA);
}

/// The recorded A/A pairs `(a, b)` of a fixture, wall nanoseconds.
fn recording(name: &str) -> Vec<(f64, f64)> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/noise").join(format!("{name}.csv"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<f64> = l.split(',').map(|x| x.parse().unwrap()).collect();
            (f[3], f[4])
        })
        .collect()
}

#[test]
fn this_machines_recorded_noise() {
    for name in ["pw2", "pw1", "pw1pin", "base2", "ps2"] {
        let pairs = recording(name);
        assert!(pairs.len() >= 200, "{name}: {} pairs", pairs.len());
        let label = format!("recorded A/A {name} ({} pairs)", pairs.len());
        let row = cell(&label, &|g| {
            let mut noise = RecordedNoise::new(pairs.clone(), 20, g * 100.0);
            Box::new(move |r: &mut SplitMix64| noise.draw(r))
        });
        check(&label, &row, 0.5);
    }
}

/// What `calibrate` replays: a short recording (40 pairs of 0.33-ms runs, `tests/noise/aa40.csv`)
/// where one side happened to stall 8 times and the other once. Replayed in blocks of 20 with the
/// whole block's sides swapped together, that chance excess became a true difference of ±2.5%
/// per block, and a candidate at the threshold was accepted 21% of the time; swapped per ABBA
/// block it must hold α like any other noise.
#[test]
fn a_short_recording_with_one_sided_stalls() {
    let pairs = recording("aa40");
    assert_eq!(pairs.len(), 40);
    let ratios: Vec<f64> = pairs.iter().map(|(a, b)| (a / b).ln()).collect();
    let stalls = |side: f64| ratios.iter().filter(|r| side * **r > 0.05).count();
    assert_eq!((stalls(1.0), stalls(-1.0)), (8, 1), "the recording's one-sided stalls");
    let label = "recorded A/A aa40 (40 pairs)";
    let row = cell(label, &|g| {
        let mut noise = RecordedNoise::new(pairs.clone(), 20, g * 100.0);
        Box::new(move |r: &mut SplitMix64| noise.draw(r))
    });
    check(label, &row, 0.9);
}

/// When the time budget binds first (a 60-s budget on 1-s pairs: 60 pairs), the sequence keeps
/// its tuning for twice the pair budget — conservative at the pairs it can reach, so power is
/// low, but the boundary rates hold. (Tuning it for the 60 reachable pairs instead was measured:
/// a candidate stalling ×2 on 8% of runs was then accepted 7.0% of the time at the threshold,
/// above α; so the tuning stays.)
#[test]
fn a_time_limited_budget_of_60_pairs() {
    let plan = AdaptivePlan { max_pairs: 60, ..AdaptivePlan::default_for(&threshold()) };
    assert_eq!(plan.tuned_for_pairs, 800.0);
    let s25 = log_sd(0.25);
    let row = cell_with("60 pairs: log-normal CV 25%", &plan, &|g| {
        Box::new(move |r: &mut SplitMix64| (lognormal(r, s25), (1.0 - g) * lognormal(r, s25)))
    });
    check("60 pairs: log-normal CV 25%", &row, 0.0);
    let s = log_sd(0.10);
    let row = cell_with("60 pairs: log-normal CV 10%", &plan, &|g| {
        Box::new(move |r: &mut SplitMix64| (lognormal(r, s), (1.0 - g) * lognormal(r, s)))
    });
    check("60 pairs: log-normal CV 10%", &row, 0.03);
    let (p, k) = (0.08, 2.0);
    let mean = 1.0 + p * (k - 1.0);
    let row = cell_with("60 pairs: candidate stalls ×2 on 8%", &plan, &|g| {
        Box::new(move |r: &mut SplitMix64| {
            let st = if r.unit() < p { k } else { 1.0 };
            (lognormal(r, s), (1.0 - g) / mean * st * lognormal(r, s))
        })
    });
    check("60 pairs: candidate stalls ×2 on 8%", &row, 0.0);
    let pairs = recording("pw2");
    let row = cell_with("60 pairs: recorded A/A pw2", &plan, &|g| {
        let mut noise = RecordedNoise::new(pairs.clone(), 20, g * 100.0);
        Box::new(move |r: &mut SplitMix64| noise.draw(r))
    });
    check("60 pairs: recorded A/A pw2", &row, 0.0);
}
