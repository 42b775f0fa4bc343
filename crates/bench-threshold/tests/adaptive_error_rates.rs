//! Error rates of the adaptive design by simulation on this project's own recorded noise: A/A
//! comparisons of the real workload on the reference machine (`tests/noise/`, with the script
//! and commands that recorded them). Each simulated comparison draws pairs from a recording —
//! centred so the true improvement is exactly zero, or shifted to a known improvement — looks
//! after every ABBA block as the real sampler does, and decides by the same code.

use bench_core::Sample;
use bench_threshold::{AdaptivePlan, OptimizationConfig, simulate_adaptive};

/// Per-pair log-ratios ln(a/b) and the mean seconds of a pair, from a fixture.
fn recording(name: &str) -> (Vec<f64>, f64) {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/noise").join(format!("{name}.csv"));
    let text = std::fs::read_to_string(path).unwrap();
    let rows: Vec<(f64, f64)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<f64> = l.split(',').map(|x| x.parse().unwrap()).collect();
            (f[3], f[4])
        })
        .collect();
    let pair_s = rows.iter().map(|(a, b)| (a + b) / 1e9).sum::<f64>() / rows.len() as f64;
    (rows.iter().map(|(a, b)| (a / b).ln()).collect(), pair_s)
}

#[test]
fn noise_is_rarely_accepted_and_a_real_improvement_is_found_within_the_budget() {
    let t = OptimizationConfig::create_default().fallback().clone();
    let min = bench_core::to_f64(t.min_improvement_percent) / 100.0;
    let n: usize = std::env::var("SIM_SEQUENCES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let plan = AdaptivePlan::default_for(&t);
    for name in ["pw2", "ps2", "base2"] {
        let (ratios, pair_s) = recording(name);
        // An A/A's two sides are exchangeable (ABBA order), so its log-ratios are symmetric
        // about zero: the recorded ones and their negations, centred, make a pool whose mean and
        // median are both exactly zero.
        let mut sorted = ratios.clone();
        sorted.sort_by(f64::total_cmp);
        let median = bench_stats::quantile_linear(&sorted, 0.5);
        let centred: Vec<f64> = ratios.iter().flat_map(|x| [x - median, median - x]).collect();
        let budget = plan.max_pairs.min((plan.max_seconds / pair_s) as usize).max(plan.min_pairs);
        let null = simulate_adaptive(&centred, 0.0, n, budget, &t, &plan, 1).unwrap();
        let shift = -(1.0 - 2.0 * min).ln();
        let real = simulate_adaptive(&centred, shift, n, budget, &t, &plan, 2).unwrap();
        let sd = bench_stats::std_dev(&Sample::new(centred.clone()).unwrap());
        let fixed = bench_stats::required_pairs(
            shift,
            sd,
            bench_core::to_f64(t.alpha()),
            1.0 - real.accepted_rate().min(0.999),
        )
        .unwrap();
        println!(
            "{name}: pair {:.1} ms, budget {budget} pairs; true 0: accepted {:.4}, significant {:.4}, at budget {:.3}, mean pairs {:.1}; true {:.0}%: accepted {:.4}, mean pairs {:.1}, fixed design of the same power {fixed} pairs",
            pair_s * 1e3,
            null.accepted_rate(),
            null.significant_rate(),
            (null.at_budget as f64 / n as f64),
            null.mean_pairs(),
            200.0 * min,
            real.accepted_rate(),
            real.mean_pairs(),
        );
        let alpha = bench_core::to_f64(t.alpha());
        assert!(null.accepted_rate() <= alpha, "{name}: noise accepted {}", null.accepted_rate());
        assert!(null.significant_rate() <= alpha, "{name}: noise significant {}", null.significant_rate());
        assert!(
            real.accepted_rate() >= 0.90,
            "{name}: a {:.0}% improvement accepted only {}",
            200.0 * min,
            real.accepted_rate()
        );
    }
}
