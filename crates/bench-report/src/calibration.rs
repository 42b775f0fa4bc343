//! Calibration: how noisy this machine is for a workload, how often an implementation compared
//! with itself is accepted or called significant, and how many pairs each preset needs — the
//! figures an evaluation plans its budget with.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use bench_core::{Environment, Sample, units};
use bench_sequential::{Design, Sampling, SequenceHarness, WorkloadHarness, calibrate_aa};
use bench_threshold::{AdaptivePlan, OptimizationConfig, PerformanceThreshold, Preset, simulate_adaptive};
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

/// What a preset needs on this noise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresetNeed {
    /// The preset.
    pub preset: String,
    /// Its minimum improvement, percent.
    pub min_improvement_percent: f64,
    /// Its α.
    pub alpha: f64,
    /// Pairs of the fixed design to detect the threshold with power 0.8 (paired t-test on the
    /// log-ratios).
    pub fixed_pairs_power_80: Option<u64>,
    /// Mean pairs the adaptive design takes on this noise when the truth is twice the threshold
    /// (simulated from the measured pairs).
    pub adaptive_pairs_at_twice_threshold: f64,
    /// Mean pairs it takes on an A/A (truth zero).
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
    // What each preset needs on this noise: the A/A log-ratios, symmetrised about zero (the two
    // sides are exchangeable), as the pool of a simulation.
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    let median = if sorted.is_empty() { 0.0 } else { bench_stats::quantile_linear(&sorted, 0.5) };
    let pool: Vec<f64> = ratios.iter().flat_map(|x| [x - median, median - x]).collect();
    let pair_seconds = 2.0 * mean_run;
    let mut presets = Vec::new();
    for preset in [Preset::Default, Preset::Strict, Preset::Lenient] {
        let t = OptimizationConfig::from_preset(preset).fallback().clone();
        let g = bench_core::to_f64(t.min_improvement_percent) / 100.0;
        let alpha = bench_core::to_f64(t.alpha());
        let p = AdaptivePlan { min_pairs: t.min_sample_size, ..*plan };
        let budget = p.max_pairs.min((p.max_seconds / pair_seconds.max(1e-9)) as usize).max(p.min_pairs);
        let twice = simulate_adaptive(&pool, -(1.0 - 2.0 * g).ln(), 2000, budget, &t, &p, 1)?;
        let zero = simulate_adaptive(&pool, 0.0, 2000, budget, &t, &p, 2)?;
        presets.push(PresetNeed {
            preset: preset.to_string(),
            min_improvement_percent: g * 100.0,
            alpha,
            fixed_pairs_power_80: bench_stats::required_pairs(-(1.0 - g).ln(), sd(&pool), alpha, 0.2).ok(),
            adaptive_pairs_at_twice_threshold: twice.mean_pairs(),
            adaptive_pairs_at_zero: zero.mean_pairs(),
        });
    }
    Ok(Calibration {
        schema_version: 1,
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
            "  {} adaptive A/A comparisons: wrongly accepted {}, significant {}, {:.1} pairs on average",
            self.aa.comparisons, self.aa.wrongly_accepted, self.aa.significant, self.aa.mean_pairs
        );
        let _ = writeln!(
            s,
            "  {:<8} {:>10} {:>6} {:>22} {:>26} {:>20}",
            "preset",
            "threshold",
            "α",
            "fixed pairs, power 0.8",
            "adaptive pairs, truth 2×",
            "adaptive pairs, A/A"
        );
        for p in &self.presets {
            let _ = writeln!(
                s,
                "  {:<8} {:>9}% {:>6} {:>22} {:>26.1} {:>20.1}",
                p.preset,
                p.min_improvement_percent,
                p.alpha,
                p.fixed_pairs_power_80.map_or("n/a".into(), |k| k.to_string()),
                p.adaptive_pairs_at_twice_threshold,
                p.adaptive_pairs_at_zero
            );
        }
        s
    }
}
