//! The report of a comparison decided on instructions or estimated cycles
//! ([`bench_command::compare_counts`]): for a terminal, as JSON, and in the Bencher Metric Format
//! — which a time comparison exports too ([`compare_bmf`]).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use bench_command::{CommandComparison, CountComparison};
use bench_core::units;
use serde_json::Value;

use crate::{CompareMeta, ReportError, pretty, write};

/// The verdict and the figures, for a terminal.
pub fn count_text(c: &CountComparison, meta: &CompareMeta) -> String {
    let mut s = String::new();
    let unit = c.unit;
    let _ = writeln!(s, "Count comparison ({unit} under Callgrind): {}", c.decision.label());
    if !c.equivalence.equivalent {
        let _ = writeln!(s, "  the outputs differ ({} check): the candidate is blocked", c.equivalence.check);
    }
    let mean = |v: &[u64]| v.iter().sum::<u64>() / v.len().max(1) as u64;
    for (side, counts, spread) in
        [("baseline", &c.baseline, c.spread_percent.0), ("candidate", &c.candidate, c.spread_percent.1)]
    {
        let _ = writeln!(
            s,
            "  {side:<9} {} {unit} (mean of {} run(s), spread {spread:.3}%)",
            units::count(mean(counts)),
            counts.len()
        );
    }
    if c.equivalence.equivalent {
        let _ = writeln!(
            s,
            "  improvement {:.3}% ({} threshold {}%)",
            c.improvement_percent, meta.preset, c.min_improvement_percent
        );
    }
    let _ = writeln!(s, "  {}", c.rationale);
    for w in &c.warnings {
        let _ = writeln!(s, "  warning: {w}");
    }
    let _ = writeln!(s, "  {} under Callgrind", units::duration(c.seconds));
    s
}

/// The report as JSON: kind `count_comparison`, the metric and its unit, every count.
pub fn count_json(c: &CountComparison, meta: &CompareMeta) -> Value {
    let mut doc = crate::command_report::report_header("count_comparison", meta);
    if let Ok(Value::Object(o)) = serde_json::to_value(c) {
        doc.extend(o);
    }
    Value::Object(doc)
}

/// The Bencher Metric Format: `<name>/baseline` and `<name>/candidate`, each with the metric
/// (`instructions` or `estimated-cycles`) as the measure: the mean count, the least and the most.
pub fn count_bmf(c: &CountComparison, meta: &CompareMeta) -> Value {
    let mut map = serde_json::Map::new();
    for (side, counts) in [("baseline", &c.baseline), ("candidate", &c.candidate)] {
        map.insert(format!("{}/{side}", meta.name), count_bmf_entry(counts, c.metric));
    }
    Value::Object(map)
}

/// One benchmark's entry of the Bencher Metric Format for counts: `{metric: {value: the mean,
/// lower_value: the least, upper_value: the most}}`.
///
/// ```
/// use bench_command::CountMetric;
/// let e = bench_report::count_bmf_entry(&[10, 12, 14], CountMetric::Instructions);
/// assert_eq!(e["instructions"]["value"], 12.0);
/// assert_eq!((e["instructions"]["lower_value"].as_u64(), e["instructions"]["upper_value"].as_u64()), (Some(10), Some(14)));
/// ```
pub fn count_bmf_entry(counts: &[u64], metric: bench_command::CountMetric) -> Value {
    let mean = counts.iter().map(|&x| x as f64).sum::<f64>() / counts.len().max(1) as f64;
    let (lo, hi) = (counts.iter().min().copied().unwrap_or(0), counts.iter().max().copied().unwrap_or(0));
    serde_json::json!({ metric.as_str(): { "value": mean, "lower_value": lo, "upper_value": hi } })
}

/// Writes `<name>_report.json` into `dir` (atomically) and returns its path.
pub fn write_count_report(
    c: &CountComparison,
    meta: &CompareMeta,
    dir: &Path,
) -> Result<PathBuf, ReportError> {
    let name = bench_core::RunId::new(&meta.name)?;
    let path = dir.join(format!("{name}_report.json"));
    write(&path, &pretty(&count_json(c, meta)))?;
    Ok(path)
}

/// A time comparison in the Bencher Metric Format: `<name>/baseline` and `<name>/candidate`,
/// `latency` (wall time) or `cpu-time` in nanoseconds — the mean run, the fastest and the slowest.
pub fn compare_bmf(c: &CommandComparison, meta: &CompareMeta) -> Value {
    let measure = match c.metric {
        bench_core::TimeMetric::Wall => "latency",
        bench_core::TimeMetric::Cpu => "cpu-time",
    };
    let mut map = serde_json::Map::new();
    for (side, s) in [("baseline", &c.baseline), ("candidate", &c.candidate)] {
        let ns: Vec<f64> = match c.metric {
            bench_core::TimeMetric::Wall => &s.times_s,
            bench_core::TimeMetric::Cpu => &s.cpu_s,
        }
        .iter()
        .map(|t| t * 1e9)
        .collect();
        let mean = ns.iter().sum::<f64>() / ns.len().max(1) as f64;
        let (lo, hi) = ns.iter().fold((f64::INFINITY, 0f64), |(l, h), &x| (l.min(x), h.max(x)));
        map.insert(
            format!("{}/{side}", meta.name),
            serde_json::json!({ measure: { "value": mean.round(), "lower_value": lo.round(), "upper_value": hi.round() } }),
        );
    }
    Value::Object(map)
}

/// The documents `compare` writes where it is asked (`--export-json`, `--export-markdown`,
/// `--export-hyperfine`, `--export-bmf`), beside its report.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompareExports<'a> {
    /// The JSON report.
    pub json: Option<&'a Path>,
    /// The Markdown report.
    pub markdown: Option<&'a Path>,
    /// Both sides' runs in hyperfine's `--export-json` format.
    pub hyperfine: Option<&'a Path>,
    /// Both sides' mean, least and most in the Bencher Metric Format.
    pub bmf: Option<&'a Path>,
}

impl CompareExports<'_> {
    /// Writes each document asked for (atomically); returns the paths written.
    pub fn write(&self, c: &CommandComparison, meta: &CompareMeta) -> Result<Vec<PathBuf>, ReportError> {
        let hyperfine = || serde_json::to_value(bench_command::hyperfine_export(c)).unwrap_or_default();
        let docs: [(Option<&Path>, &dyn Fn() -> String); 4] = [
            (self.json, &|| pretty(&crate::compare_json(c, meta))),
            (self.markdown, &|| crate::compare_markdown(c, meta, None)),
            (self.hyperfine, &|| pretty(&hyperfine())),
            (self.bmf, &|| pretty(&compare_bmf(c, meta))),
        ];
        let mut written = Vec::new();
        for (path, text) in docs {
            if let Some(path) = path {
                write(path, &text())?;
                written.push(path.to_path_buf());
            }
        }
        Ok(written)
    }
}
