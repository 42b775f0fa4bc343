//! Reports of a comparison of two commands: the terminal summary, Markdown, JSON and the SVG of
//! the adaptive path, written atomically; an interrupted comparison is written beside the last
//! complete report, never over it.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use bench_command::{CommandComparison, LineDifference, OutputCheck, SideSummary};
use bench_core::TimeMetric;
use bench_core::units;
use bench_optimizations::Decision;
use bench_threshold::{Pairing, Preset};
use serde_json::Value;

use crate::pairwise::{PairwiseEvaluation, SideInfo};
use crate::{ReportError, pretty, write};

/// What a comparison report says about where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompareMeta {
    /// File-name stem of the report (`compare` by default).
    pub name: String,
    /// The command line that reproduces it.
    pub command: String,
    /// RFC 3339 UTC time.
    pub generated: String,
    /// The preset whose threshold applied.
    pub preset: Preset,
}

/// The files of a comparison report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompareFiles {
    /// `<name>_report.md`.
    pub markdown: PathBuf,
    /// `<name>_report.json`.
    pub json: PathBuf,
    /// `<name>_report.html`: the report as one self-contained page.
    pub html: PathBuf,
    /// `<name>_path.svg`, for an adaptive comparison.
    pub path_svg: Option<PathBuf>,
}

impl CompareFiles {
    /// Every file written: the Markdown, the JSON, the HTML, the chart when there is one.
    pub fn all(&self) -> impl Iterator<Item = &PathBuf> {
        [Some(&self.markdown), Some(&self.json), Some(&self.html), self.path_svg.as_ref()]
            .into_iter()
            .flatten()
    }
}

fn metric_name(m: TimeMetric) -> &'static str {
    match m {
        TimeMetric::Wall => "wall time",
        TimeMetric::Cpu => "CPU time (user + system)",
    }
}

/// The statistics of both sides as a pairwise evaluation, to render them the same way.
fn as_pairwise(c: &CommandComparison, meta: &CompareMeta) -> Option<PairwiseEvaluation> {
    let e = c.evaluation.clone()?;
    let side = |s: &SideSummary| SideInfo {
        file: s.raw_path.as_ref().map_or_else(String::new, |p| p.display().to_string()),
        format: "child-process runs".into(),
        label: s.command.clone(),
        runs: s.runs,
    };
    Some(PairwiseEvaluation {
        preset: meta.preset,
        threshold_applies_to: e.threshold.applies_to(),
        baseline: side(&c.baseline),
        candidate: side(&c.candidate),
        warnings: c.warnings.clone(),
        metric: c.metric,
        evaluation: e,
    })
}

fn gate_text(c: &CommandComparison) -> String {
    let q = &c.equivalence;
    match (q.check, &q.first_difference) {
        (OutputCheck::None, _) => "not compared (--check-output none)".into(),
        (check, None) => {
            let numbers = if let OutputCheck::Numeric(_) = check {
                format!(
                    ", {} numbers within the tolerance (largest difference {:.3e})",
                    q.numbers_compared, q.largest_difference
                )
            } else {
                String::new()
            };
            let lines = if q.baseline_lines == 1 {
                "1 line".to_owned()
            } else {
                format!("{} lines", q.baseline_lines)
            };
            format!("same output ({check}): {lines}{numbers}")
        }
        (check, Some(d)) => format!("outputs DIFFER ({check}) at line {}", d.line),
    }
}

fn difference_lines(d: &LineDifference) -> [String; 2] {
    let show =
        |l: &Option<String>| l.as_ref().map_or_else(|| "(no such line)".to_owned(), |t| format!("{t:?}"));
    [format!("A: {}", show(&d.baseline)), format!("B: {}", show(&d.candidate))]
}

fn sampling_text(c: &CommandComparison) -> Option<String> {
    let e = c.evaluation.as_ref()?;
    Some(match &e.adaptive {
        Some(q) => {
            let end = |x: Option<bench_core::Decimal>, inf: &str| {
                x.map_or(inf.to_owned(), |v| format!("{}%", units::fmt2(v)))
            };
            let by = match q.stopped_by.as_str() {
                "max_pairs" => " (pair budget spent)",
                "max_time" => " (time budget spent)",
                "interrupted" => " (interrupted)",
                _ => "",
            };
            format!(
                "adaptive, {} pairs in {}{by}: {}; confidence sequence of the improvement of mean time [{}, {}]",
                q.pairs_used,
                units::duration_short(c.seconds),
                crate::performance::outcome_text(q.outcome),
                end(q.interval_at_stop_percent[0], "−∞"),
                end(q.interval_at_stop_percent[1], "+∞")
            )
        }
        None => match c.pairing {
            Pairing::Interleaved => {
                format!("fixed: {} pairs in {}", c.baseline.runs, units::duration_short(c.seconds))
            }
            Pairing::NotInterleaved => format!(
                "fixed: {} saved runs against {} new ones in {}",
                c.baseline.runs,
                c.candidate.runs,
                units::duration_short(c.seconds)
            ),
        },
    })
}

/// The terminal summary.
pub fn compare_text(c: &CommandComparison, meta: &CompareMeta) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Comparing two commands — preset {}, decided on {}; {}",
        meta.preset,
        metric_name(c.metric),
        match c.pairing {
            Pairing::Interleaved => "interleaved in randomised ABBA pairs (paired)",
            Pairing::NotInterleaved => "against a saved baseline: NOT interleaved (Welch's t-test)",
        }
    );
    let _ = writeln!(s, "  A (baseline):  {}  [{}]", c.baseline.command, c.baseline.check_run);
    let _ = writeln!(s, "  B (candidate): {}  [{}]", c.candidate.command, c.candidate.check_run);
    let _ = writeln!(s, "  output check:  {}", gate_text(c));
    if let Some(d) = &c.equivalence.first_difference {
        for l in difference_lines(d) {
            let _ = writeln!(s, "                   {l}");
        }
    }
    if let Some(o) = &c.overhead {
        let _ = writeln!(
            s,
            "  harness cost:  {} per run (spawn → reap of `{}`, median of {}), inside both sides' times",
            units::duration(o.median_seconds),
            o.probe,
            o.runs
        );
    }
    if let Some(t) = sampling_text(c) {
        let _ = writeln!(s, "  sampling:      {t}");
    }
    match as_pairwise(c, meta) {
        Some(p) => s.push_str(&p.figures_text()),
        None => {
            let _ = writeln!(s);
            let _ = writeln!(s, "{}", verdict_line(c));
        }
    }
    if !c.warnings.is_empty() {
        let _ = writeln!(s);
        for w in &c.warnings {
            let _ = writeln!(s, "  warning: {w}");
        }
    }
    if !c.complete {
        let _ = writeln!(s, "INCOMPLETE: interrupted; the figures cover the runs that completed.");
    }
    s
}

fn verdict_line(c: &CommandComparison) -> String {
    match c.decision {
        Decision::Blocked => "BLOCKED: the candidate's output differs from the baseline's, so it was not timed. If the difference is rounding noise, compare with --check-output numeric:TOL.".into(),
        Decision::Failed => format!(
            "FAILED: no decision ({}).",
            c.warnings.iter().find(|w| w.starts_with("no decision")).map_or("too few runs completed", String::as_str)
        ),
        d => d.label().to_owned(),
    }
}

/// The JSON document: every field of the comparison, with the report's provenance.
pub fn compare_json(c: &CommandComparison, meta: &CompareMeta) -> Value {
    let mut doc = report_header("command_comparison", meta);
    doc.insert("verdict".into(), verdict_line(c).into());
    if let Ok(Value::Object(o)) = serde_json::to_value(c) {
        doc.extend(o);
    }
    Value::Object(doc)
}

/// The fields every comparison report opens with: schema version, `kind`, name, when, the
/// command line and the preset.
pub(crate) fn report_header(kind: &str, meta: &CompareMeta) -> serde_json::Map<String, Value> {
    let mut doc = serde_json::Map::new();
    doc.insert("schema_version".into(), 1.into());
    doc.insert("kind".into(), kind.into());
    doc.insert("name".into(), meta.name.clone().into());
    doc.insert("generated".into(), meta.generated.clone().into());
    doc.insert("command".into(), meta.command.clone().into());
    doc.insert("preset".into(), meta.preset.to_string().into());
    doc
}

/// The Markdown report; `path_svg` names the adaptive path's SVG beside it.
pub fn compare_markdown(c: &CommandComparison, meta: &CompareMeta, path_svg: Option<&str>) -> String {
    let mut s = String::new();
    let _ =
        writeln!(s, "# Command comparison: {}\n", if c.complete { c.decision.label() } else { "INCOMPLETE" });
    let _ = writeln!(s, "Generated {} by `{}`.\n", meta.generated, meta.command);
    let _ = writeln!(s, "| | command | check run | timed runs | failed runs |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    for (name, side) in [("A (baseline)", &c.baseline), ("B (candidate)", &c.candidate)] {
        let _ = writeln!(
            s,
            "| {name} | `{}` | {} | {} | {} |",
            side.command.replace('|', "\\|"),
            side.check_run,
            side.runs,
            side.failed_runs.len()
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "- **Output check:** {}", gate_text(c));
    if let Some(d) = &c.equivalence.first_difference {
        for l in difference_lines(d) {
            let _ = writeln!(s, "  - {l}");
        }
    }
    let _ = writeln!(
        s,
        "- **Pairing:** {}",
        match c.pairing {
            Pairing::Interleaved => "interleaved in randomised ABBA pairs; paired decision",
            Pairing::NotInterleaved => "against a saved baseline, not interleaved; Welch's t-test",
        }
    );
    let _ = writeln!(s, "- **Decided on:** {}", metric_name(c.metric));
    if let Some(o) = &c.overhead {
        let _ = writeln!(
            s,
            "- **Harness cost:** {} per run (spawn → reap of `{}`, median of {}), inside both sides' times",
            units::duration(o.median_seconds),
            o.probe,
            o.runs
        );
    }
    if let Some(t) = sampling_text(c) {
        let _ = writeln!(s, "- **Sampling:** {t}");
    }
    if let Some(p) = as_pairwise(c, meta) {
        let _ = writeln!(s, "\n## Figures\n\n```text{}```", p.figures_text());
    } else {
        let _ = writeln!(s, "\n{}", verdict_line(c));
    }
    if let Some(svg) = path_svg {
        let _ = writeln!(
            s,
            "\n## Path to the decision\n\n![running estimate and confidence sequence against the threshold]({svg})"
        );
    }
    if !c.warnings.is_empty() {
        let _ = writeln!(s, "\n## Warnings\n");
        for w in &c.warnings {
            let _ = writeln!(s, "- {w}");
        }
    }
    let raw: Vec<&PathBuf> = [&c.baseline.raw_path, &c.candidate.raw_path].into_iter().flatten().collect();
    if !raw.is_empty() {
        let _ = writeln!(s, "\n## Raw data\n");
        for p in raw {
            let _ = writeln!(s, "- `{}`", p.display());
        }
    }
    s
}

/// Writes `<name>_report.md`, `<name>_report.json` and, for an adaptive comparison,
/// `<name>_path.svg` into `dir` (`<name>_incomplete_…` when interrupted).
pub fn write_compare_report(
    c: &CommandComparison,
    meta: &CompareMeta,
    dir: &Path,
) -> Result<CompareFiles, ReportError> {
    let stem = if c.complete { meta.name.clone() } else { format!("{}_incomplete", meta.name) };
    let name = bench_core::RunId::new(&stem)?;
    let sequence = c.evaluation.as_ref().and_then(|e| e.adaptive.as_ref().map(|q| (e, q)));
    // An interrupted comparison may stop before its first look: no path to draw.
    let path_svg = match sequence.filter(|(_, q)| !q.path.is_empty()) {
        Some((e, q)) => {
            let path = dir.join(format!("{name}_path.svg"));
            let title = format!("{} pairs, {}", q.pairs_used, crate::performance::outcome_text(q.outcome));
            write(
                &path,
                &crate::chart::adaptive_path_svg(
                    &q.path,
                    bench_core::to_f64(e.threshold.min_improvement_percent),
                    &title,
                )?,
            )?;
            Some(path)
        }
        None => None,
    };
    // A comparison without a path (blocked, or stopped before its first look) leaves no chart
    // of an earlier run beside its report.
    if path_svg.is_none() {
        crate::remove_stale(dir, &[dir.join(format!("{name}_path.svg"))], None, &[]);
    }
    let svg_name = path_svg.as_ref().and_then(|p| p.file_name()).map(|f| f.to_string_lossy().into_owned());
    let markdown = dir.join(format!("{name}_report.md"));
    write(&markdown, &compare_markdown(c, meta, svg_name.as_deref()))?;
    let json = dir.join(format!("{name}_report.json"));
    write(&json, &pretty(&compare_json(c, meta)))?;
    let html = dir.join(format!("{name}_report.html"));
    write(&html, &compare_html(c, meta))?;
    Ok(CompareFiles { markdown, json, html, path_svg })
}

/// A decimal as the JSON report writes it (its `data-value` in the HTML report).
fn json_number(d: &impl serde::Serialize) -> String {
    serde_json::to_value(d)
        .map_or_else(|_| String::new(), |v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
}

/// The report as one self-contained HTML page: the verdict and its rationale, the figures, both
/// sides run by run, the confidence sequence pair by pair, and every run in a table that sorts
/// on a click. Each figure carries the JSON report's value in `data-value`.
pub fn compare_html(c: &CommandComparison, meta: &CompareMeta) -> String {
    use crate::html::{escape, page, table};
    let mut b = String::new();
    let metric = metric_name(c.metric);
    let _ = writeln!(b, "<h1>Comparing two commands: {}</h1>", escape(&meta.name));
    let _ = writeln!(
        b,
        "<p class=\"meta\">generated {} · preset {} · decided on {metric} · reproduce with <code>{}</code></p>",
        escape(&meta.generated),
        meta.preset,
        escape(&meta.command)
    );
    let _ = writeln!(
        b,
        "<p id=\"verdict\" class=\"verdict {}\" data-decision=\"{}\">{}</p>",
        crate::html::decision_class(c.decision),
        crate::html::decision_class(c.decision),
        escape(&verdict_line(c))
    );
    if let Some(e) = &c.evaluation {
        let _ = writeln!(b, "<p id=\"rationale\">{}</p>", escape(&e.decision_rationale));
        let pct = |d: Option<bench_core::Decimal>, id: &str| match d {
            Some(v) => {
                format!("<span id=\"{id}\" data-value=\"{}\">{}%</span>", json_number(&v), units::fmt2(v))
            }
            None => format!("<span id=\"{id}\" data-value=\"\">unbounded</span>"),
        };
        let secs = |d: bench_core::Decimal, id: &str| {
            format!(
                "<span id=\"{id}\" data-value=\"{}\">{}</span>",
                json_number(&d),
                units::duration_decimal(d)
            )
        };
        let rows = vec![
            vec![
                "improvement of mean time (estimate)".into(),
                pct(Some(e.improvement_percent), "improvement"),
            ],
            vec![format!("{} lower bound", e.bound.estimand), pct(e.bound.lower_percent, "lower")],
            vec![format!("{} upper bound", e.bound.estimand), pct(e.bound.upper_percent, "upper")],
            vec![
                "minimum improvement (threshold)".into(),
                pct(Some(e.threshold.min_improvement_percent), "threshold"),
            ],
            vec!["A mean".into(), secs(e.baseline_mean_s, "baseline-mean")],
            vec!["B mean".into(), secs(e.optimized_mean_s, "candidate-mean")],
            vec!["sampling".into(), escape(&sampling_text(c).unwrap_or_default())],
        ];
        let _ = writeln!(b, "<h2>Figures</h2>\n{}", table(&["figure", "value"], &rows, &[1]));
    }
    let pick =
        |s: &SideSummary| if c.metric == TimeMetric::Cpu { s.cpu_s.clone() } else { s.times_s.clone() };
    let (a, bt) = (pick(&c.baseline), pick(&c.candidate));
    let title = format!("{metric} of every run");
    if let Ok(svg) = crate::chart::runs_svg(&[("A (baseline)", &a), ("B (candidate)", &bt)], metric, &title) {
        let _ = writeln!(b, "<h2>Both sides, run by run</h2>\n<figure id=\"runs-chart\">{svg}</figure>");
    }
    let path = c.evaluation.as_ref().and_then(|e| e.adaptive.as_ref().map(|q| (e, q)));
    if let Some((e, q)) = path.filter(|(_, q)| !q.path.is_empty()) {
        let threshold = bench_core::to_f64(e.threshold.min_improvement_percent);
        let title = format!("{} pairs, {}", q.pairs_used, crate::performance::outcome_text(q.outcome));
        if let Ok(svg) = crate::chart::adaptive_path_svg(&q.path, threshold, &title) {
            let _ = writeln!(
                b,
                "<h2>The confidence sequence, pair by pair</h2>\n<figure id=\"path-chart\">{svg}</figure>"
            );
        }
    }
    let stats = |x: &[f64]| {
        let mean = x.iter().sum::<f64>() / x.len().max(1) as f64;
        let (lo, hi) = x.iter().fold((f64::INFINITY, 0f64), |(l, h), &v| (l.min(v), h.max(v)));
        let d = |s: f64| if s.is_finite() { units::duration(s) } else { "–".into() };
        [d(mean), d(bench_stats::median(x).unwrap_or(f64::NAN)), d(lo), d(hi)]
    };
    let side_row = |name: &str, s: &SideSummary, x: &[f64]| {
        let [mean, median, lo, hi] = stats(x);
        vec![
            name.into(),
            format!("<code>{}</code>", escape(&s.command)),
            s.runs.to_string(),
            mean,
            median,
            lo,
            hi,
        ]
    };
    let rows = vec![side_row("A", &c.baseline, &a), side_row("B", &c.candidate, &bt)];
    let head = ["side", "command", "runs", "mean", "median", "least", "most"];
    let _ = writeln!(b, "<h2>The commands</h2>\n{}", table(&head, &rows, &[2, 3, 4, 5, 6]));
    let runs: Vec<Vec<String>> = (0..a.len().max(bt.len()))
        .map(|i| {
            let cell = |x: &[f64]| x.get(i).map_or(String::new(), |&v| format!("{v:.9}"));
            vec![(i + 1).to_string(), cell(&a), cell(&bt)]
        })
        .collect();
    let _ = writeln!(
        b,
        "<details id=\"runs\"><summary>every run ({} and {}), seconds — click a column to sort</summary>\n{}</details>",
        a.len(),
        bt.len(),
        table(&["run", "A", "B"], &runs, &[0, 1, 2])
    );
    let check = if c.equivalence.equivalent { "the outputs are equivalent" } else { "the outputs DIFFER" };
    let _ = writeln!(
        b,
        "<h2>Output check</h2>\n<p id=\"output-check\">{check} ({} lines and {} lines)</p>",
        c.equivalence.baseline_lines, c.equivalence.candidate_lines
    );
    if !c.warnings.is_empty() {
        let items: String = c.warnings.iter().map(|w| format!("<li>{}</li>", escape(w))).collect();
        let _ = writeln!(b, "<h2>Warnings</h2>\n<ul>{items}</ul>");
    }
    if !c.complete {
        b.push_str("<p class=\"verdict inconclusive\">INCOMPLETE: interrupted; the figures cover the runs that completed.</p>\n");
    }
    page(&format!("{} — comparison report", meta.name), &b, "")
}
