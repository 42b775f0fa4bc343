//! Confidence sequences hold at every sample size at once: over many simulated streams, the
//! share whose interval ever excludes the true value stays at or below α, for heavy-tailed and
//! skewed data too (the median sequence assumes nothing about the distribution).

use bench_stats::{ConfidenceSequence, MedianSequence};

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

/// Share of `streams` streams of `len` draws whose median sequence ever excludes `truth`.
fn median_miss(streams: usize, len: usize, truth: f64, draw: &mut dyn FnMut(&mut Rng) -> f64) -> f64 {
    let cs = MedianSequence::tuned_for(100.0, 0.05).unwrap();
    let mut rng = Rng(11);
    let mut missed = 0;
    for _ in 0..streams {
        let mut sorted: Vec<f64> = Vec::with_capacity(len);
        for _ in 0..len {
            let x = draw(&mut rng);
            let at = sorted.partition_point(|y| *y < x);
            sorted.insert(at, x);
            let (lo, hi) = cs.interval_sorted(&sorted).unwrap();
            if truth < lo || truth > hi {
                missed += 1;
                break;
            }
        }
    }
    missed as f64 / streams as f64
}

#[test]
fn the_median_sequence_covers_at_every_look_whatever_the_tails() {
    // Standard Cauchy (no mean at all), median 0.
    let cauchy = median_miss(2000, 400, 0.0, &mut |r| (std::f64::consts::PI * (r.unit() - 0.5)).tan());
    // Log-normal (skewed), median 1.
    let lognormal = median_miss(2000, 400, 1.0, &mut |r| r.normal().exp());
    println!("median sequence, ever missed: Cauchy {cauchy:.4}, log-normal {lognormal:.4}");
    assert!(cauchy <= 0.05 && lognormal <= 0.05);
    // The data bound it only once enough observations are in.
    let cs = MedianSequence::tuned_for(100.0, 0.05).unwrap();
    assert!(cs.interval(&[1.0; 10]).unwrap().0.is_infinite());
    assert!(cs.interval(&(0..40).map(f64::from).collect::<Vec<_>>()).unwrap().0.is_finite());
}

#[test]
fn the_mean_sequence_covers_gaussian_data_at_every_look() {
    let cs = ConfidenceSequence::tuned_for(100.0, 0.05).unwrap();
    let mut rng = Rng(5);
    let streams = 2000;
    let mut missed = 0;
    for _ in 0..streams {
        let (mut n, mut sum, mut sq) = (0.0f64, 0.0f64, 0.0f64);
        for _ in 0..400 {
            let x = 3.0 + 2.0 * rng.normal();
            n += 1.0;
            sum += x;
            sq += x * x;
            if n >= 10.0 {
                let mean = sum / n;
                let sd = ((sq - n * mean * mean) / (n - 1.0)).sqrt();
                let h = cs.half_width(n as usize, sd);
                if (mean - 3.0).abs() > h {
                    missed += 1;
                    break;
                }
            }
        }
    }
    let rate = missed as f64 / streams as f64;
    println!("mean sequence (estimated σ, from 10 observations), ever missed: {rate:.4}");
    assert!(rate <= 0.06, "{rate}");
}
