//! Change points of recorded series, named by commit range, sized with a confidence interval,
//! and joined to the paired verdicts that confirm or contradict them; and the text a person
//! reads (`history show`, `history detect`).

use serde::Serialize;

use crate::git::short;
use crate::{DetectOptions, History, HistoryError, Outcome, Series, VerdictRecord, change_points};

/// A change point of a series, where it lies in the commits, and what verdicts say of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Index of the first point at the new level.
    pub index: usize,
    /// The last commit measured at the old level.
    pub last_before: String,
    /// The first commit measured at the new level: the change is in `last_before..first_after`.
    pub first_after: String,
    /// Mean of the segment before, in the series' unit.
    pub mean_before: f64,
    /// Mean of the segment after.
    pub mean_after: f64,
    /// `(after / before − 1) × 100`.
    pub change_percent: f64,
    /// 95% confidence interval of the change in percent (Welch's t on the two segments, relative
    /// to the mean before); `None` when a segment has a single point.
    pub ci_percent: Option<[f64; 2]>,
    /// The change point's p-value (Student's t-test between the neighbouring segments).
    pub p_value: f64,
    /// The latest paired verdict between a commit before and one at or after the change.
    pub verdict: Option<VerdictRecord>,
    /// `Some(true)`: that verdict found a move in the same direction; `Some(false)`: it found
    /// none, or the opposite; `None`: no verdict, or an inconclusive one.
    pub confirmed: Option<bool>,
}

/// One series with its change points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesChanges {
    /// The series.
    pub series: Series,
    /// Its change points, oldest first.
    pub changes: Vec<Change>,
}

/// The change points of every series of `history` (or of `benchmark` and `metric`), each
/// machine's series searched on its own.
pub fn detect(
    history: &History,
    benchmark: Option<&str>,
    metric: Option<&str>,
    options: &DetectOptions,
) -> Result<Vec<SeriesChanges>, HistoryError> {
    let mut out = Vec::new();
    for series in history.series(benchmark, metric)? {
        let values: Vec<f64> = series.points.iter().map(|p| p.value).collect();
        let points = change_points(&values, options);
        let verdicts = history.verdicts(&series.machine, &series.benchmark, &series.metric)?;
        let bounds: Vec<usize> =
            std::iter::once(0).chain(points.iter().map(|c| c.index)).chain([values.len()]).collect();
        let changes = points
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let (before, after) = (&values[bounds[k]..c.index], &values[c.index..bounds[k + 2]]);
                let commits = |r: std::ops::Range<usize>| {
                    series.points[r].iter().map(|p| p.commit.as_str()).collect::<Vec<_>>()
                };
                let (old, new) = (commits(0..c.index), commits(c.index..values.len()));
                let verdict = verdicts
                    .iter()
                    .rev()
                    .find(|v| {
                        old.contains(&v.baseline_commit.as_str())
                            && new.contains(&v.candidate_commit.as_str())
                    })
                    .cloned();
                let change_percent = c.change_percent();
                let confirmed = verdict.as_ref().and_then(|v| match v.outcome {
                    Outcome::Moved => Some(v.change_percent.signum() == change_percent.signum()),
                    Outcome::Unchanged => Some(false),
                    Outcome::Inconclusive => None,
                });
                Change {
                    index: c.index,
                    last_before: series.points[c.index - 1].commit.clone(),
                    first_after: series.points[c.index].commit.clone(),
                    mean_before: c.mean_before,
                    mean_after: c.mean_after,
                    change_percent,
                    ci_percent: welch_ci_percent(before, after),
                    p_value: c.p_value,
                    verdict,
                    confirmed,
                }
            })
            .collect();
        out.push(SeriesChanges { series, changes });
    }
    Ok(out)
}

/// The 95% interval of `(mean(after) − mean(before)) / mean(before) × 100` by Welch's t
/// (`bench_stats::welch_t_test`, the mean before taken as exact).
fn welch_ci_percent(before: &[f64], after: &[f64]) -> Option<[f64; 2]> {
    if before.len() < 2 || after.len() < 2 {
        return None;
    }
    let sample = |x: &[f64]| bench_core::Sample::new(x.to_vec()).ok();
    let (b, a) = (sample(before)?, sample(after)?);
    let w = bench_stats::welch_t_test(&a, &b, bench_stats::Alternative::TwoSided).ok()?;
    let t = if w.degenerate { 0.0 } else { bench_stats::t_quantile(0.975, w.degrees_of_freedom).ok()? };
    let m1 = bench_stats::mean(&b);
    let (d, half) = (w.mean_difference, t * w.standard_error);
    (m1 != 0.0).then(|| [(d - half) / m1 * 100.0, (d + half) / m1 * 100.0])
}

/// A one-line chart of `values` in block characters, lowest `▁` to highest `█`.
///
/// ```
/// assert_eq!(bench_history::sparkline(&[1.0, 1.0, 2.0, 3.0, 1.5]), "▁▁▅█▃");
/// ```
pub fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    values
        .iter()
        .map(|&v| if hi > lo { BARS[(((v - lo) / (hi - lo)) * 7.0).round() as usize] } else { BARS[0] })
        .collect()
}

/// A figure in its unit, readable: nanoseconds as a duration, counts with separators.
fn figure(value: f64, unit: &str) -> String {
    match unit {
        "ns" => bench_core::units::duration(value / 1e9),
        _ => format!("{} {unit}", bench_core::units::count(value.round().max(0.0) as u64)),
    }
}

fn heading(s: &Series) -> String {
    format!("{} · {} ({}) on {} — {} points", s.benchmark, s.metric, s.unit, s.machine, s.points.len())
}

/// Every series as a table of commits and figures, under a one-line chart.
pub fn show_text(series: &[Series]) -> String {
    let mut out = String::new();
    if series.is_empty() {
        out.push_str("no results recorded (record with --record, or `history import FILE`)\n");
    }
    for s in series {
        let values: Vec<f64> = s.points.iter().map(|p| p.value).collect();
        out.push_str(&format!("{}\n  {}\n", heading(s), sparkline(&values)));
        for p in &s.points {
            let bounds = match (p.lower, p.upper) {
                (Some(l), Some(u)) => format!("  [{} … {}]", figure(l, &s.unit), figure(u, &s.unit)),
                _ => String::new(),
            };
            let dirty = if p.dirty { " (dirty)" } else { "" };
            out.push_str(&format!(
                "  {:<10}{dirty}  {}{bounds}\n",
                short(&p.commit),
                figure(p.value, &s.unit)
            ));
        }
    }
    out
}

/// Every series' change points: the commit range, the size with its interval, the p-value and
/// what a paired verdict says.
pub fn detect_text(found: &[SeriesChanges], options: &DetectOptions) -> String {
    let mut out = format!(
        "change points (E-divisive, p < {}, windows of {}, smallest change {}%)\n",
        options.max_p,
        options.window,
        options.min_magnitude * 100.0
    );
    for f in found {
        let values: Vec<f64> = f.series.points.iter().map(|p| p.value).collect();
        out.push_str(&format!("\n{}\n  {}\n", heading(&f.series), sparkline(&values)));
        if f.changes.is_empty() {
            out.push_str("  no change point\n");
        }
        for c in &f.changes {
            let ci = c.ci_percent.map_or(String::new(), |[l, u]| format!(" (95% CI {l:+.1}% … {u:+.1}%)"));
            let said = match (&c.verdict, c.confirmed) {
                (None, _) => "no paired verdict yet: `history bisect` the range to confirm it".to_owned(),
                (Some(v), Some(true)) => format!("CONFIRMED by a paired verdict ({:+.1}%)", v.change_percent),
                (Some(v), Some(false)) => {
                    format!(
                        "NOT confirmed: a paired verdict found {} ({:+.1}%)",
                        v.outcome.as_str(),
                        v.change_percent
                    )
                }
                (Some(_), None) => "a paired verdict was inconclusive".to_owned(),
            };
            out.push_str(&format!(
                "  {}..{}  {} → {}  {:+.1}%{ci}  p = {:.2e}\n    {said}\n",
                short(&c.last_before),
                short(&c.first_after),
                figure(c.mean_before, &f.series.unit),
                figure(c.mean_after, &f.series.unit),
                c.change_percent,
                c.p_value
            ));
        }
    }
    out
}
