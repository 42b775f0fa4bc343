//! The pairwise evaluation of two timing files — this tool's raw data or `hyperfine
//! --export-json` output — with the threshold their workflow calls for, and its renderings.

use std::fmt::Write;
use std::path::Path;

use bench_core::units::{self, fmt2};
use bench_core::{Measurements, RAW_SCHEMA_VERSION, round_display};
use bench_threshold::{
    Criterion, Evaluation, OptimizationConfig, Pairing, Preset, ThresholdOverrides, compare_measurements,
    threshold_for,
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
    pub(crate) fn of(m: &Measurements) -> Self {
        Self {
            file: m.source.display().to_string(),
            format: m.format.to_string(),
            label: m.label.clone(),
            runs: m.times.len(),
        }
    }
}

/// What to compare: two files, which result of each (for hyperfine exports holding several),
/// the preset and any values that override it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairwiseRequest<'a> {
    /// The baseline's timing file.
    pub baseline: &'a Path,
    /// The candidate's timing file.
    pub candidate: &'a Path,
    /// Which result of the baseline file (index or command), when it holds several.
    pub baseline_result: Option<&'a str>,
    /// Which result of the candidate file.
    pub candidate_result: Option<&'a str>,
    /// The preset.
    pub preset: Preset,
    /// Values that replace the preset's.
    pub overrides: ThresholdOverrides,
}

impl<'a> PairwiseRequest<'a> {
    /// Two files under a preset, nothing overridden.
    pub fn new(baseline: &'a Path, candidate: &'a Path, preset: Preset) -> Self {
        Self {
            baseline,
            candidate,
            baseline_result: None,
            candidate_result: None,
            preset,
            overrides: ThresholdOverrides::default(),
        }
    }
}

/// A pairwise evaluation of two files.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairwiseEvaluation {
    /// The preset whose threshold applied.
    pub preset: Preset,
    /// What the threshold applies to, in words.
    pub threshold_applies_to: String,
    /// The baseline side.
    pub baseline: SideInfo,
    /// The candidate side.
    pub candidate: SideInfo,
    /// What the reader should know (e.g. the files measure different workflows).
    pub warnings: Vec<String>,
    /// The time compared (wall unless asked otherwise).
    pub metric: bench_core::TimeMetric,
    /// The decision.
    #[serde(flatten)]
    pub evaluation: Evaluation,
}

/// Reads both files, picks the threshold of the preset for their workflow and size (with the
/// overrides applied), and decides. Runs interleaved in one suite (each raw-data file names the
/// other as its partner) are paired run by run; anything else — two invocations, hyperfine
/// exports — is compared as independent samples with Welch's test, and counts may differ.
pub fn evaluate_files(request: &PairwiseRequest<'_>) -> Result<PairwiseEvaluation, ReportError> {
    let read = |side: &'static str, path: &Path, select: Option<&str>| {
        Measurements::read_selected(path, select).map_err(|source| ReportError::Measurements { side, source })
    };
    let b = read("baseline", request.baseline, request.baseline_result)?;
    let c = read("candidate", request.candidate, request.candidate_result)?;
    if b.interleaved_with(&c) && !b.pairs_match(&c) {
        return Err(ReportError::Input(format!(
            "cannot pair runs: {} ({} runs) and {} ({} runs) were interleaved in one suite, but their pairs no longer line up; was a file cut or edited?",
            request.baseline.display(),
            b.times.len(),
            request.candidate.display(),
            c.times.len(),
        )));
    }
    let config = OptimizationConfig::from_preset(request.preset);
    let (threshold, mut warnings) = threshold_for(&config, &b, &c);
    let threshold = threshold.with_overrides(&request.overrides, "the command line")?;
    let evaluation = compare_measurements(&b, &c, &threshold)?;
    if evaluation.pairing == Pairing::NotInterleaved {
        warnings.push(
            "the two sides were not interleaved in one suite, so they are compared as independent samples (Welch's t-test); measure both in one `cargo xtask evaluate` for a paired verdict".into(),
        );
    }
    Ok(PairwiseEvaluation {
        preset: request.preset,
        threshold_applies_to: threshold.applies_to(),
        baseline: SideInfo::of(&b),
        candidate: SideInfo::of(&c),
        warnings,
        metric: bench_core::TimeMetric::Wall,
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
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Pairwise evaluation — preset {}, threshold for {}; runs {}",
            self.preset,
            self.threshold_applies_to,
            match e.pairing {
                Pairing::Interleaved => "interleaved (paired t-test)",
                Pairing::NotInterleaved => "NOT interleaved (Welch's t-test)",
            }
        );
        for (name, side) in [("baseline ", &self.baseline), ("candidate", &self.candidate)] {
            let _ = writeln!(
                s,
                "  {name}: {} ({}, {} runs, \"{}\")",
                side.file, side.format, side.runs, side.label
            );
        }
        s.push_str(&self.figures_text());
        s
    }

    /// The figures of [`PairwiseEvaluation::to_text`] below its heading: both sides' statistics,
    /// the four criteria, the bounds and speedup (the MDE when inconclusive), the rationale.
    pub fn figures_text(&self) -> String {
        figures(&self.evaluation, self.metric)
    }
}

/// Both sides' statistics, the four criteria, the bounds and speedup (the MDE when
/// inconclusive) and the rationale of `e`, for `metric`.
fn figures(e: &Evaluation, metric: bench_core::TimeMetric) -> String {
    let t = &e.threshold;
    let mark = |c: Criterion| if e.failed_criteria.contains(&c) { "FAIL" } else { "pass" };
    let mut s = String::new();
    let _ = writeln!(s);
    let row = |s: &mut String, what: &str, b: String, c: String| {
        let _ = writeln!(s, "  {what:<22} {b:>28} {c:>28}");
    };
    row(&mut s, "", "baseline".into(), "candidate".into());
    row(&mut s, "runs", e.baseline_sample_size.to_string(), e.optimized_sample_size.to_string());
    row(
        &mut s,
        match metric {
            bench_core::TimeMetric::Wall => "mean wall time",
            bench_core::TimeMetric::Cpu => "mean CPU time",
        },
        units::duration_decimal(e.baseline_mean_s),
        units::duration_decimal(e.optimized_mean_s),
    );
    let ci = |x: &[bench_core::Decimal; 2]| {
        format!("[{}, {}]", units::duration_decimal(x[0]), units::duration_decimal(x[1]))
    };
    row(&mut s, "95% CI of the mean", ci(&e.baseline_ci_95), ci(&e.optimized_ci_95));
    let out = |o: &bench_threshold::OutlierCounts| format!("{} mild, {} severe", o.mild, o.severe);
    row(&mut s, "outliers (kept)", out(&e.baseline_outliers), out(&e.optimized_outliers));
    if let Some(m) = &e.memory {
        row(&mut s, &m.metric.to_string(), units::bytes(m.baseline_bytes), units::bytes(m.candidate_bytes));
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "  {:<14} {:>12}   {:<28} result", "criterion", "measured", "required");
    let crit = |s: &mut String, name: &str, measured: String, required: String, c: Criterion| {
        let _ = writeln!(s, "  {name:<14} {measured:>12}   {required:<28} {}", mark(c));
    };
    match e.rule {
        bench_threshold::Rule::Strict => {
            let lower = e.bound.lower_percent.map_or("−∞".to_owned(), units::percent);
            crit(
                &mut s,
                "lower bound",
                lower.clone(),
                format!("≥ {}%", fmt2(t.min_improvement_percent)),
                Criterion::Improvement,
            );
            crit(&mut s, "excludes zero", lower, "> 0%".into(), Criterion::Significance);
        }
        bench_threshold::Rule::Classic => {
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
                format!("p={}", units::p_value(e.p_value)),
                format!("< α = {}", e.alpha),
                Criterion::Significance,
            );
        }
    }
    crit(
        &mut s,
        "memory",
        e.memory_increase_percent.map_or("not measured".to_owned(), units::percent),
        format!("≤ {}% or < {}", fmt2(t.max_memory_increase_percent), units::bytes(t.memory_floor_bytes)),
        Criterion::Memory,
    );
    let (sizes, unit) = match e.pairing {
        Pairing::Interleaved => (e.baseline_sample_size.to_string(), "pairs"),
        Pairing::NotInterleaved => {
            (format!("{} / {}", e.baseline_sample_size, e.optimized_sample_size), "runs per side")
        }
    };
    crit(&mut s, "sample size", sizes, format!("≥ {} {unit}", t.min_sample_size), Criterion::SampleSize);
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  improvement of mean time {} (one-sided {}% bounds {}), speedup {}×; classic rule: {}",
        units::percent(e.improvement_percent),
        (e.bound.confidence * bench_core::Decimal::ONE_HUNDRED).normalize(),
        e.bound.interval_text(),
        round_display(e.speedup_ratio, 3),
        e.classic_verdict.label()
    );
    if e.verdict == bench_threshold::Verdict::Inconclusive {
        let _ = writeln!(
            s,
            "  minimum detectable effect {}%{}; about {} would decide at this noise",
            fmt2(e.minimum_detectable_effect_percent),
            if e.underpowered { " (UNDERPOWERED)" } else { "" },
            e.bound.pairs_to_decide.map_or("an unknown number of runs".into(), |p| format!("{p} {unit}"))
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "{}", e.decision_rationale);
    s
}

/// The report of one comparison made in a program (`bench_optimizations::evaluate_pair`): where
/// its files are, and its text (also its `Display`).
#[derive(Debug, Clone, PartialEq)]
pub struct PairReport {
    /// `<name>_report.md`.
    pub markdown: std::path::PathBuf,
    /// `<name>_report.json`: the evaluation's keys, both raw-data files and the name.
    pub json: std::path::PathBuf,
    /// `<name>_path.svg`: the running estimate and confidence sequence of an adaptive
    /// comparison, when it took at least two looks.
    pub path_svg: Option<std::path::PathBuf>,
    /// What the Markdown says, as plain text.
    pub text: String,
}

impl std::fmt::Display for PairReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Writes the report of a single comparison into `dir` (`<name>_report.md`, `.json`, and the
/// adaptive path's SVG) — the one call a program needs after
/// [`bench_optimizations::evaluate_pair`]. Files are written atomically; the name is sanitised.
pub fn write_pair_report(
    pair: &bench_optimizations::PairEvaluation,
    name: &str,
    dir: &Path,
) -> Result<PairReport, ReportError> {
    let e = &pair.evaluation;
    let stem = bench_core::RunId::sanitized(name);
    let side =
        |o: &bench_measure::SuiteOutcome| format!("{} ({} runs)", o.raw_path.display(), o.raw.runs.len());
    let mut text = String::new();
    let _ = writeln!(text, "{name}: {}", e.verdict);
    let _ = writeln!(text, "  baseline : {}", side(&pair.outcome.baseline));
    let _ = writeln!(text, "  candidate: {}", side(&pair.outcome.candidate));
    text.push_str(&figures(e, bench_core::TimeMetric::Wall));
    let path_svg = match e.adaptive.as_ref().filter(|q| !q.path.is_empty()) {
        Some(q) => {
            let path = dir.join(format!("{stem}_path.svg"));
            let title =
                format!("{name}: {} pairs, {}", q.pairs_used, crate::performance::outcome_text(q.outcome));
            let threshold = bench_core::to_f64(e.threshold.min_improvement_percent);
            crate::write(&path, &crate::chart::adaptive_path_svg(&q.path, threshold, &title)?)?;
            Some(path)
        }
        None => None,
    };
    let mut md = format!("# {name}: {}\n\n```text\n{text}```\n", e.verdict);
    if let Some(p) = path_svg.as_ref().and_then(|p| p.file_name()) {
        let _ = writeln!(md, "\n![running estimate and confidence sequence]({})", p.to_string_lossy());
    }
    let _ = writeln!(
        md,
        "\n## Reproduce\n\nMeasured by a program through `bench_optimizations::evaluate_pair`, interleaved in randomised ABBA pairs. The verdict can be recomputed from the two raw-data files above with `bench_report::evaluate_files` (the command line's `evaluate --baseline A --candidate B`)."
    );
    let markdown = dir.join(format!("{stem}_report.md"));
    crate::write(&markdown, &md)?;
    let mut doc = serde_json::Map::new();
    doc.insert("schema_version".into(), RAW_SCHEMA_VERSION.into());
    doc.insert("kind".into(), "pair_evaluation".into());
    doc.insert("name".into(), name.into());
    for (key, o) in [("baseline_raw", &pair.outcome.baseline), ("candidate_raw", &pair.outcome.candidate)] {
        doc.insert(key.into(), o.raw_path.display().to_string().into());
    }
    if let Ok(serde_json::Value::Object(ev)) = serde_json::to_value(e) {
        doc.extend(ev);
    }
    let json = dir.join(format!("{stem}_report.json"));
    crate::write(&json, &crate::pretty(&serde_json::Value::Object(doc)))?;
    Ok(PairReport { markdown, json, path_svg, text })
}
