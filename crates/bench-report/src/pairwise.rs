//! The pairwise evaluation of two timing files — this tool's raw data or `hyperfine
//! --export-json` output — with the threshold their workflow calls for, and its renderings.

use std::fmt::Write;
use std::path::Path;

use bench_core::units::{self, fmt2};
use bench_core::{Measurements, RAW_SCHEMA_VERSION, round_display};
use bench_threshold::{
    Criterion, Evaluation, OptimizationConfig, Preset, compare_measurements, threshold_for,
};
use serde::Serialize;

use crate::ReportError;

/// One side of a pairwise evaluation, as described in reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideInfo {
    /// The file read.
    pub file: String,
    /// Its format (`raw data`, `hyperfine JSON`).
    pub format: String,
    /// Its label (configuration name or command).
    pub label: String,
    /// Runs it holds.
    pub runs: usize,
}

impl SideInfo {
    fn of(m: &Measurements) -> Self {
        Self {
            file: m.source.display().to_string(),
            format: m.format.to_string(),
            label: m.label.clone(),
            runs: m.times.len(),
        }
    }
}

/// A pairwise evaluation of two files.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairwiseEvaluation {
    /// The preset whose threshold applied.
    pub preset: Preset,
    /// The baseline side.
    pub baseline: SideInfo,
    /// The candidate side.
    pub candidate: SideInfo,
    /// What the reader should know (e.g. the files measure different workflows).
    pub warnings: Vec<String>,
    /// The decision.
    #[serde(flatten)]
    pub evaluation: Evaluation,
}

/// Reads both files, picks the threshold of `preset` for their workflow and size, and decides.
/// Run `i` of one side pairs with run `i` of the other, so both need the same run count.
pub fn evaluate_files(
    baseline: &Path,
    candidate: &Path,
    preset: Preset,
) -> Result<PairwiseEvaluation, ReportError> {
    let read = |side: &'static str, path: &Path| {
        Measurements::read(path).map_err(|source| ReportError::Measurements { side, source })
    };
    let b = read("baseline", baseline)?;
    let c = read("candidate", candidate)?;
    if b.times.len() != c.times.len() {
        return Err(ReportError::Input(format!(
            "cannot pair runs: {} has {} runs, {} has {}; run i of one pairs with run i of the other, so both need the same count",
            baseline.display(),
            b.times.len(),
            candidate.display(),
            c.times.len()
        )));
    }
    let config = OptimizationConfig::from_preset(preset);
    let (threshold, warnings) = threshold_for(&config, &b, &c);
    let evaluation = compare_measurements(&b, &c, threshold)?;
    Ok(PairwiseEvaluation {
        preset,
        baseline: SideInfo::of(&b),
        candidate: SideInfo::of(&c),
        warnings,
        evaluation,
    })
}

impl PairwiseEvaluation {
    /// The `--json` document: the evaluation's keys plus both sides and the preset.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            let mut doc = serde_json::Map::new();
            doc.insert("schema_version".into(), RAW_SCHEMA_VERSION.into());
            doc.insert("kind".into(), "pairwise_evaluation".into());
            doc.extend(std::mem::take(o));
            return serde_json::Value::Object(doc);
        }
        v
    }

    /// The readable summary: both sides, the four criteria with their measured and required
    /// values, the minimum detectable effect and the rationale.
    pub fn to_text(&self) -> String {
        let e = &self.evaluation;
        let t = &e.threshold;
        let mark = |c: Criterion| if e.failed_criteria.contains(&c) { "FAIL" } else { "pass" };
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Pairwise evaluation — preset {}, threshold {}/{}",
            self.preset, t.workflow_type, t.dataset_size_category
        );
        for (name, side) in [("baseline ", &self.baseline), ("candidate", &self.candidate)] {
            let _ = writeln!(
                s,
                "  {name}: {} ({}, {} runs, \"{}\")",
                side.file, side.format, side.runs, side.label
            );
        }
        let _ = writeln!(s);
        let row = |s: &mut String, what: &str, b: String, c: String| {
            let _ = writeln!(s, "  {what:<22} {b:>28} {c:>28}");
        };
        row(&mut s, "", "baseline".into(), "candidate".into());
        row(&mut s, "mean wall time", secs(e.baseline_mean_s), secs(e.optimized_mean_s));
        let ci = |x: &[bench_core::Decimal; 2]| {
            format!("[{}, {}]", round_display(x[0], 6), round_display(x[1], 6))
        };
        row(&mut s, "95% CI (s)", ci(&e.baseline_ci_95), ci(&e.optimized_ci_95));
        let out = |o: &bench_threshold::OutlierCounts| format!("{} mild, {} severe", o.mild, o.severe);
        row(&mut s, "outliers (kept)", out(&e.baseline_outliers), out(&e.optimized_outliers));
        if let Some(m) = &e.memory {
            row(
                &mut s,
                &format!("{} (bytes)", m.metric),
                m.baseline_bytes.to_string(),
                m.candidate_bytes.to_string(),
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "  {:<14} {:>12}   {:<24} result", "criterion", "measured", "required");
        let crit = |s: &mut String, name: &str, measured: String, required: String, c: Criterion| {
            let _ = writeln!(s, "  {name:<14} {measured:>12}   {required:<24} {}", mark(c));
        };
        crit(
            &mut s,
            "improvement",
            units::percent(e.improvement_percent),
            format!("≥ {}%", fmt2(t.min_improvement_percent)),
            Criterion::Improvement,
        );
        crit(
            &mut s,
            "significance",
            format!("p={}", units::p_value(bench_core::to_f64(e.p_value))),
            format!("< α = {}", e.alpha),
            Criterion::Significance,
        );
        crit(
            &mut s,
            "memory",
            e.memory_increase_percent.map_or("not measured".to_owned(), units::percent),
            format!("≤ {}%", fmt2(t.max_memory_increase_percent)),
            Criterion::Memory,
        );
        crit(
            &mut s,
            "sample size",
            e.baseline_sample_size.to_string(),
            format!("≥ {} pairs", t.min_sample_size),
            Criterion::SampleSize,
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "  speedup {}×, minimum detectable effect {}%{}",
            round_display(e.speedup_ratio, 3),
            fmt2(e.minimum_detectable_effect_percent),
            if e.underpowered { " (UNDERPOWERED)" } else { "" }
        );
        let _ = writeln!(s);
        let _ = writeln!(s, "{}", e.decision_rationale);
        s
    }
}

fn secs(d: bench_core::Decimal) -> String {
    format!("{:.6} s", round_display(d, 6))
}
