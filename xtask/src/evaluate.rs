//! `cargo xtask evaluate`: pairwise evaluation of two timing files.

use std::path::Path;

use anyhow::Context;
use bench_core::{Measurements, RAW_SCHEMA_VERSION};
use bench_threshold::{
    DatasetSizeCategory, Evaluation, MemoryComparison, OptimizationConfig, Preset, Verdict,
    evaluate_threshold, fmt2, format_p,
};
use serde::Serialize;

use crate::cli::EvaluateArgs;
use crate::exit;

/// Runs the subcommand and returns the exit code.
pub fn run(args: EvaluateArgs) -> anyhow::Result<i32> {
    match (&args.baseline, &args.candidate) {
        (Some(b), Some(c)) => pairwise(b, c, args.preset.into(), args.json),
        _ => crate::sequence::run(&args),
    }
}

/// One side of the comparison as described in the JSON output.
#[derive(Serialize)]
struct SideInfo<'a> {
    file: String,
    format: String,
    label: &'a str,
    runs: usize,
}

/// The `--json` document of a pairwise evaluation.
#[derive(Serialize)]
struct PairwiseDocument<'a> {
    schema_version: u32,
    kind: &'static str,
    preset: Preset,
    baseline: SideInfo<'a>,
    candidate: SideInfo<'a>,
    warnings: Vec<String>,
    #[serde(flatten)]
    evaluation: &'a Evaluation,
}

fn side(m: &Measurements) -> SideInfo<'_> {
    SideInfo {
        file: m.source.display().to_string(),
        format: m.format.to_string(),
        label: &m.label,
        runs: m.times.len(),
    }
}

/// Compares two files and prints the verdict; exit code 0 accepted, 1 rejected.
pub fn pairwise(baseline: &Path, candidate: &Path, preset: Preset, json: bool) -> anyhow::Result<i32> {
    let b = Measurements::read(baseline).context("cannot use the baseline file")?;
    let c = Measurements::read(candidate).context("cannot use the candidate file")?;
    if b.times.len() != c.times.len() {
        return Err(exit::input(format!(
            "cannot pair runs: {} has {} runs, {} has {}; run i of one pairs with run i of the other, so both need the same count",
            baseline.display(),
            b.times.len(),
            candidate.display(),
            c.times.len()
        )));
    }
    let mut warnings = Vec::new();
    let workflow = b.workflow_type.clone().or_else(|| c.workflow_type.clone());
    if let (Some(x), Some(y)) = (&b.workflow_type, &c.workflow_type)
        && x != y
    {
        warnings.push(format!(
            "the files measure different workflows ({x} vs {y}); using the baseline's threshold"
        ));
    }
    let category = b.dataset_size.or(c.dataset_size).map(DatasetSizeCategory::from_rows);
    let config = OptimizationConfig::from_preset(preset);
    let threshold = match (&workflow, category) {
        (Some(w), Some(cat)) => config.get_threshold(w, cat.as_str()),
        _ => config.fallback(),
    };
    let memory = Measurements::common_memory_peak(&b, &c).map(|(metric, x, y)| MemoryComparison {
        metric,
        baseline_bytes: x,
        candidate_bytes: y,
    });
    let evaluation = evaluate_threshold(&b.times, &c.times, memory, threshold)?;
    if json {
        let doc = PairwiseDocument {
            schema_version: RAW_SCHEMA_VERSION,
            kind: "pairwise_evaluation",
            preset,
            baseline: side(&b),
            candidate: side(&c),
            warnings,
            evaluation: &evaluation,
        };
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for w in &warnings {
            eprintln!("warning: {w}");
        }
        print!("{}", summary(&b, &c, preset, &evaluation));
    }
    Ok(match evaluation.verdict {
        Verdict::Accepted => exit::SUCCESS,
        Verdict::Rejected => exit::REJECTED,
    })
}

fn secs(d: bench_core::Decimal) -> String {
    format!("{:.6} s", bench_core::round_display(d, 6))
}

/// The readable summary of a pairwise evaluation.
fn summary(b: &Measurements, c: &Measurements, preset: Preset, e: &Evaluation) -> String {
    use std::fmt::Write;
    let t = &e.threshold;
    let mark = |ok: bool| if ok { "pass" } else { "FAIL" };
    let failed = |name: bench_threshold::Criterion| e.failed_criteria.contains(&name);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Pairwise evaluation — preset {preset}, threshold {}/{}",
        t.workflow_type, t.dataset_size_category
    );
    let _ = writeln!(
        s,
        "  baseline : {} ({}, {} runs, \"{}\")",
        b.source.display(),
        b.format,
        b.times.len(),
        b.label
    );
    let _ = writeln!(
        s,
        "  candidate: {} ({}, {} runs, \"{}\")",
        c.source.display(),
        c.format,
        c.times.len(),
        c.label
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "  {:<22} {:>28} {:>28}", "", "baseline", "candidate");
    let _ = writeln!(
        s,
        "  {:<22} {:>28} {:>28}",
        "mean wall time",
        secs(e.baseline_mean_s),
        secs(e.optimized_mean_s)
    );
    let ci = |x: &[bench_core::Decimal; 2]| {
        format!("[{}, {}]", bench_core::round_display(x[0], 6), bench_core::round_display(x[1], 6))
    };
    let _ =
        writeln!(s, "  {:<22} {:>28} {:>28}", "95% CI (s)", ci(&e.baseline_ci_95), ci(&e.optimized_ci_95));
    let out = |o: &bench_threshold::OutlierCounts| format!("{} mild, {} severe", o.mild, o.severe);
    let _ = writeln!(
        s,
        "  {:<22} {:>28} {:>28}",
        "outliers (kept)",
        out(&e.baseline_outliers),
        out(&e.optimized_outliers)
    );
    if let Some(m) = &e.memory {
        let _ = writeln!(
            s,
            "  {:<22} {:>28} {:>28}",
            format!("{} (bytes)", m.metric),
            m.baseline_bytes,
            m.candidate_bytes
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "  {:<14} {:>12}   {:<24} result", "criterion", "measured", "required");
    let _ = writeln!(
        s,
        "  {:<14} {:>12}   {:<24} {}",
        "improvement",
        format!("{}%", fmt2(e.improvement_percent)),
        format!("≥ {}%", fmt2(t.min_improvement_percent)),
        mark(!failed(bench_threshold::Criterion::Improvement))
    );
    let _ = writeln!(
        s,
        "  {:<14} {:>12}   {:<24} {}",
        "significance",
        format!("p={}", format_p(bench_core::to_f64(e.p_value))),
        format!("< α = {}", e.alpha),
        mark(!failed(bench_threshold::Criterion::Significance))
    );
    let mem = e.memory_increase_percent.map_or("not measured".to_owned(), |m| format!("{}%", fmt2(m)));
    let _ = writeln!(
        s,
        "  {:<14} {:>12}   {:<24} {}",
        "memory",
        mem,
        format!("≤ {}%", fmt2(t.max_memory_increase_percent)),
        mark(!failed(bench_threshold::Criterion::Memory))
    );
    let _ = writeln!(
        s,
        "  {:<14} {:>12}   {:<24} {}",
        "sample size",
        e.baseline_sample_size,
        format!("≥ {} pairs", t.min_sample_size),
        mark(!failed(bench_threshold::Criterion::SampleSize))
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  speedup {}×, minimum detectable effect {}%{}",
        bench_core::round_display(e.speedup_ratio, 3),
        fmt2(e.minimum_detectable_effect_percent),
        if e.underpowered { " (UNDERPOWERED)" } else { "" }
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "{}", e.decision_rationale);
    s
}
