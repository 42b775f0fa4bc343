//! Calibration: how noisy this machine is for a workload, how often an implementation compared
//! with itself is accepted or called significant, and how many pairs each preset needs — the
//! figures an evaluation plans its budget with.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use bench_core::{Environment, Sample, units};
use bench_optimizations::{Design, Sampling, SequenceHarness, WorkloadHarness, calibrate_aa};
use bench_threshold::{
    AdaptivePlan, OptimizationConfig, PerformanceThreshold, Preset, RecordedNoise, simulate_adaptive,
};

/// Simulated comparisons per preset and true improvement.
const SIMULATED: usize = 2000;
use serde::{Deserialize, Serialize};

use crate::ReportError;

/// File name of the calibration, under the benchmark-results folder.
pub const CALIBRATION_FILE: &str = "calibration.json";

/// The noise of one workload, measured from an A/A paired suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Noise {
    /// Pairs measured.
    pub pairs: usize,
    /// Mean wall time of one run, seconds.
    pub run_seconds: f64,
    /// Coefficient of variation of single runs, percent.
    pub single_run_cv_percent: f64,
    /// Standard deviation of paired wall-time differences over the mean run, percent.
    pub paired_difference_cv_percent: f64,
    /// The same for process CPU time, percent.
    pub cpu_difference_cv_percent: f64,
    /// Standard deviation of the per-pair log-ratios, percent.
    pub log_ratio_sd_percent: f64,
    /// Drift: change of the run time over the measurement, percent per 100 runs (least
    /// squares on the run order).
    pub drift_percent_per_100_runs: f64,
}

/// A/A comparisons by the adaptive design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AaSummary {
    /// Comparisons run.
    pub comparisons: usize,
    /// Wrongly accepted.
    pub wrongly_accepted: usize,
    /// Significant (should be at most α of them).
    pub significant: usize,
    /// Mean pairs per comparison.
    pub mean_pairs: f64,
}

/// What a preset needs on this noise, and how its adaptive decision fares on it: simulated
/// comparisons that replay the measured A/A pairs in blocks of 20 (keeping their serial
/// dependence), with the candidate side scaled to a known true improvement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresetNeed {
    /// The preset.
    pub preset: String,
    /// Its minimum improvement, percent.
    pub min_improvement_percent: f64,
    /// Its α.
    pub alpha: f64,
    /// Simulated comparisons per true improvement.
    pub simulated: usize,
    /// Pairs of the fixed design to detect the threshold with power 0.8 (paired t-test on the
    /// log-ratios).
    pub fixed_pairs_power_80: Option<u64>,
    /// Share accepted when the true improvement is exactly the threshold (must be ≤ α).
    pub accepted_at_threshold: f64,
    /// Share accepted at 0.9× the threshold.
    pub accepted_at_nine_tenths: f64,
    /// Share accepted with no improvement at all.
    pub accepted_at_zero: f64,
    /// Share accepted at twice the threshold (power).
    pub power_at_twice_threshold: f64,
    /// Mean pairs to a decision at twice the threshold.
    pub adaptive_pairs_at_twice_threshold: f64,
    /// Share accepted at a true improvement of 10%.
    pub power_at_10_percent: f64,
    /// Mean pairs at a true improvement of 10%.
    pub adaptive_pairs_at_10_percent: f64,
    /// Mean pairs with no improvement.
    pub adaptive_pairs_at_zero: f64,
}

/// The calibration document (`calibration.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Format version.
    pub schema_version: u32,
    /// When it was measured.
    pub generated: String,
    /// The workload measured.
    pub workload: String,
    /// The implementation compared with itself.
    pub implementation: String,
    /// The noise.
    pub noise: Noise,
    /// The A/A comparisons.
    pub aa: AaSummary,
    /// Per preset.
    pub presets: Vec<PresetNeed>,
    /// Where it ran.
    pub environment: Option<Environment>,
}

fn cv(values: &[f64]) -> f64 {
    Sample::new(values.to_vec())
        .map_or(0.0, |s| bench_stats::std_dev(&s) / bench_stats::mean(&s).abs() * 100.0)
}

fn sd(values: &[f64]) -> f64 {
    Sample::new(values.to_vec()).map_or(0.0, |s| bench_stats::std_dev(&s))
}

/// Measures the noise of `stack` with an A/A suite of `noise_pairs` pairs, runs `comparisons`
/// adaptive A/A comparisons under `threshold` and `plan`, and works out what each preset needs.
#[allow(clippy::too_many_arguments)]
pub fn calibrate<S, C>(
    harness: &mut WorkloadHarness<S, C>,
    stack: &S,
    workload: &str,
    threshold: &PerformanceThreshold,
    plan: &AdaptivePlan,
    noise_pairs: usize,
    comparisons: usize,
    generated: &str,
) -> Result<Calibration, ReportError> {
    let fixed_pairs = harness.pairs;
    harness.pairs = noise_pairs;
    let noise_run =
        harness.benchmark(stack, stack, "calibration-noise", &Sampling::new(Design::Fixed, threshold));
    harness.pairs = fixed_pairs;
    let out = noise_run?;
    let wall =
        |runs: &[bench_core::RunRecord]| runs.iter().map(|r| r.wall_ns as f64 / 1e9).collect::<Vec<_>>();
    let cpu = |runs: &[bench_core::RunRecord]| runs.iter().map(|r| r.cpu_ns as f64 / 1e9).collect::<Vec<_>>();
    let (a, b) = (wall(&out.baseline.raw.runs), wall(&out.candidate.raw.runs));
    let (ca, cb) = (cpu(&out.baseline.raw.runs), cpu(&out.candidate.raw.runs));
    let all: Vec<f64> = a.iter().chain(&b).copied().collect();
    let mean_run = all.iter().sum::<f64>() / all.len().max(1) as f64;
    let diffs: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
    let cdiffs: Vec<f64> = ca.iter().zip(&cb).map(|(x, y)| x - y).collect();
    let cpu_mean = ca.iter().chain(&cb).sum::<f64>() / (2 * ca.len()).max(1) as f64;
    let ratios: Vec<f64> = a.iter().zip(&b).map(|(x, y)| (x / y).ln()).collect();
    // Drift: least-squares slope of run time against the position in the schedule.
    let ordered: Vec<(f64, f64)> = out
        .baseline
        .raw
        .runs
        .iter()
        .chain(&out.candidate.raw.runs)
        .map(|r| (f64::from(r.sequence.unwrap_or(0)), r.wall_ns as f64 / 1e9))
        .collect();
    let n = ordered.len() as f64;
    let (mx, my) =
        (ordered.iter().map(|p| p.0).sum::<f64>() / n, ordered.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = ordered.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = ordered.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let noise = Noise {
        pairs: ratios.len(),
        run_seconds: mean_run,
        single_run_cv_percent: cv(&all),
        paired_difference_cv_percent: sd(&diffs) / mean_run * 100.0,
        cpu_difference_cv_percent: if cpu_mean > 0.0 { sd(&cdiffs) / cpu_mean * 100.0 } else { 0.0 },
        log_ratio_sd_percent: sd(&ratios) * 100.0,
        drift_percent_per_100_runs: slope * 100.0 / my * 100.0,
    };
    let cal = calibrate_aa(harness, stack, threshold, Design::Adaptive(*plan), comparisons, &mut |_, _| {})?;
    let aa = AaSummary {
        comparisons: cal.repetitions,
        wrongly_accepted: cal.wrongly_accepted,
        significant: cal.significant_at_alpha,
        mean_pairs: cal.pairs_used.iter().sum::<usize>() as f64 / cal.pairs_used.len().max(1) as f64,
    };
    // What each preset needs on this noise: the measured pairs, replayed in blocks.
    let recorded: Vec<(f64, f64)> = a.iter().copied().zip(b.iter().copied()).collect();
    let pair_seconds = 2.0 * mean_run;
    let mut presets = Vec::new();
    for preset in [Preset::Default, Preset::Strict, Preset::Lenient] {
        let t = OptimizationConfig::from_preset(preset).fallback().clone();
        let g = bench_core::to_f64(t.min_improvement_percent);
        let alpha = bench_core::to_f64(t.alpha());
        let budget =
            plan.max_pairs.min((plan.max_seconds / pair_seconds.max(1e-9)) as usize).max(t.min_sample_size);
        // The plan as a real comparison runs it: the pair budget the time allows, the tuning unchanged.
        let p = AdaptivePlan { min_pairs: t.min_sample_size, max_pairs: budget, ..*plan };
        let run = |improvement: f64, seed: u64| {
            let mut noise = RecordedNoise::new(recorded.clone(), 20, improvement);
            simulate_adaptive(SIMULATED, &t, &p, seed, |rng| noise.draw(rng))
        };
        let (zero, nine, at, twice, ten) =
            (run(0.0, 1)?, run(0.9 * g, 2)?, run(g, 3)?, run(2.0 * g, 4)?, run(10.0, 5)?);
        presets.push(PresetNeed {
            preset: preset.to_string(),
            min_improvement_percent: g,
            alpha,
            simulated: SIMULATED,
            fixed_pairs_power_80: bench_stats::required_pairs(
                -(1.0 - g / 100.0).ln(),
                sd(&ratios),
                alpha,
                0.2,
            )
            .ok(),
            accepted_at_threshold: at.accepted_rate(),
            accepted_at_nine_tenths: nine.accepted_rate(),
            accepted_at_zero: zero.accepted_rate(),
            power_at_twice_threshold: twice.accepted_rate(),
            adaptive_pairs_at_twice_threshold: twice.mean_pairs(),
            power_at_10_percent: ten.accepted_rate(),
            adaptive_pairs_at_10_percent: ten.mean_pairs(),
            adaptive_pairs_at_zero: zero.mean_pairs(),
        });
    }
    Ok(Calibration {
        schema_version: 2,
        generated: generated.to_owned(),
        workload: workload.to_owned(),
        implementation: cal.implementation,
        noise,
        aa,
        presets,
        environment: Some(out.baseline.raw.environment.clone()),
    })
}

impl Calibration {
    /// Writes `calibration.json` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, ReportError> {
        let path = dir.join(CALIBRATION_FILE);
        crate::write(&path, &crate::pretty(&serde_json::to_value(self).unwrap_or_default()))?;
        Ok(path)
    }

    /// Reads `calibration.json` from `dir`, when there is a readable one.
    pub fn read(dir: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(dir.join(CALIBRATION_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// The expected pairs of an adaptive comparison under `preset` (the mean of a true
    /// improvement at twice the threshold and of none), when the preset was calibrated.
    pub fn expected_pairs(&self, preset: Preset) -> Option<f64> {
        self.presets
            .iter()
            .find(|p| p.preset == preset.to_string())
            .map(|p| (p.adaptive_pairs_at_twice_threshold + p.adaptive_pairs_at_zero) / 2.0)
    }

    /// For a person.
    pub fn to_text(&self) -> String {
        let n = &self.noise;
        let mut s = String::new();
        let _ = writeln!(s, "Calibration of {} ({}):", self.implementation, self.workload);
        let _ = writeln!(
            s,
            "  noise over {} A/A pairs of {} runs: single-run CV {:.1}%, paired difference CV {:.1}% (CPU time {:.1}%), log-ratio sd {:.1}%, drift {:+.2}% per 100 runs",
            n.pairs,
            units::duration(n.run_seconds),
            n.single_run_cv_percent,
            n.paired_difference_cv_percent,
            n.cpu_difference_cv_percent,
            n.log_ratio_sd_percent,
            n.drift_percent_per_100_runs
        );
        let _ = writeln!(
            s,
            "  {} adaptive A/A comparisons: wrongly accepted {}, lower bound above zero {}, {:.1} pairs on average",
            self.aa.comparisons, self.aa.wrongly_accepted, self.aa.significant, self.aa.mean_pairs
        );
        let _ = writeln!(
            s,
            "  simulated on these pairs ({} comparisons per cell): accepted at a true improvement of 0 / 0.9× / 1× the threshold (each must be ≤ α), power and mean pairs at 2× and at 10%",
            self.presets.first().map_or(0, |p| p.simulated)
        );
        let _ = writeln!(
            s,
            "  {:<8} {:>9} {:>5} {:>10} {:>20} {:>16} {:>16} {:>12}",
            "preset",
            "threshold",
            "α",
            "fixed n",
            "accepted 0/.9×/1×",
            "power 2× (pairs)",
            "power 10% (pairs)",
            "pairs A/A"
        );
        for p in &self.presets {
            let _ = writeln!(
                s,
                "  {:<8} {:>8}% {:>5} {:>10} {:>20} {:>16} {:>16} {:>12.0}",
                p.preset,
                p.min_improvement_percent,
                p.alpha,
                p.fixed_pairs_power_80.map_or("n/a".into(), |k| k.to_string()),
                format!(
                    "{:.3}/{:.3}/{:.3}",
                    p.accepted_at_zero, p.accepted_at_nine_tenths, p.accepted_at_threshold
                ),
                format!("{:.2} ({:.0})", p.power_at_twice_threshold, p.adaptive_pairs_at_twice_threshold),
                format!("{:.2} ({:.0})", p.power_at_10_percent, p.adaptive_pairs_at_10_percent),
                p.adaptive_pairs_at_zero
            );
        }
        s
    }
}
