//! The history dashboard: every recorded series with its change points, each named by commit
//! range, sized, and marked by what paired verdicts say of it, in one self-contained HTML page.

use std::fmt::Write;
use std::path::Path;

use bench_history::SeriesChanges;

use crate::html::{escape, page, table};
use crate::{ReportError, write};

/// A commit as a link (`url` holds `{commit}`) or as text, its first 10 characters shown.
fn commit(hash: &str, url: Option<&str>) -> String {
    let short = escape(bench_history::git::short(hash));
    match url {
        Some(u) => format!(
            "<a href=\"{}\" title=\"{}\"><code>{short}</code></a>",
            escape(&u.replace("{commit}", hash)),
            escape(hash)
        ),
        None => format!("<code title=\"{}\">{short}</code>", escape(hash)),
    }
}

/// The dashboard of `found` (what `bench_history::detect` returns): per series its chart, its
/// change points in a table (commit range, before → after, change with its 95% interval,
/// p-value, paired verdict), and every commit's figure in a table that sorts on a click.
/// Commits link to `commit_url` with `{commit}` replaced, when given.
pub fn history_html(found: &[SeriesChanges], commit_url: Option<&str>) -> String {
    let mut b = String::from("<h1>Performance history</h1>\n");
    let points: usize = found.iter().map(|f| f.series.points.len()).sum();
    let changes: usize = found.iter().map(|f| f.changes.len()).sum();
    let _ = writeln!(
        b,
        "<p class=\"meta\">{} series, {points} results, <span id=\"change-count\" data-value=\"{changes}\">{changes} change point{}</span> (E-divisive with Student's t-test); machines kept apart</p>",
        found.len(),
        if changes == 1 { "" } else { "s" }
    );
    if found.is_empty() {
        b.push_str("<p>No results recorded yet: add <code>--record</code> to evaluate, compare or a grid backtest, or <code>cargo xtask history import FILE</code>.</p>\n");
    }
    for (k, f) in found.iter().enumerate() {
        let s = &f.series;
        let _ = writeln!(
            b,
            "<section class=\"series\" id=\"series-{k}\" data-benchmark=\"{}\" data-metric=\"{}\" data-machine=\"{}\">",
            escape(&s.benchmark),
            escape(&s.metric),
            escape(&s.machine)
        );
        let _ = writeln!(
            b,
            "<h2>{} · {} ({})</h2>\n<p class=\"meta\">on {}</p>",
            escape(&s.benchmark),
            escape(&s.metric),
            escape(&s.unit),
            escape(&s.machine)
        );
        if let Ok(svg) = crate::chart::history_svg(f, &format!("{} points", s.points.len())) {
            let _ = writeln!(b, "<figure>{svg}</figure>");
        }
        let figure = |v: f64| match s.unit.as_str() {
            "ns" => bench_core::units::duration(v / 1e9),
            _ => format!("{v:.6e}"),
        };
        let rows: Vec<Vec<String>> = f
            .changes
            .iter()
            .map(|c| {
                let (class, said) = match (&c.verdict, c.confirmed) {
                    (None, _) => ("unconfirmed", "no paired verdict".to_owned()),
                    (Some(v), Some(true)) => ("confirmed", format!("confirmed ({:+.1}%)", v.change_percent)),
                    (Some(v), Some(false)) => (
                        "contradicted",
                        format!("not confirmed: {} ({:+.1}%)", v.outcome.as_str(), v.change_percent),
                    ),
                    (Some(_), None) => ("inconclusive", "inconclusive verdict".to_owned()),
                };
                let ci = c.ci_percent.map_or("–".into(), |[l, u]| format!("{l:+.1}% … {u:+.1}%"));
                vec![
                    format!(
                        "{} .. {}",
                        commit(&c.last_before, commit_url),
                        commit(&c.first_after, commit_url)
                    ),
                    format!("{} → {}", figure(c.mean_before), figure(c.mean_after)),
                    format!(
                        "<span class=\"change\" data-value=\"{}\">{:+.1}%</span>",
                        c.change_percent, c.change_percent
                    ),
                    ci,
                    format!("{:.2e}", c.p_value),
                    format!("<span class=\"verdict {class}\">{}</span>", escape(&said)),
                ]
            })
            .collect();
        if rows.is_empty() {
            b.push_str("<p class=\"changes\">No change point.</p>\n");
        } else {
            let head = ["commits", "level", "change", "95% interval", "p", "paired verdict"];
            let _ = writeln!(b, "<div class=\"changes\">{}</div>", table(&head, &rows, &[2, 4]));
        }
        let all: Vec<Vec<String>> = s
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let dirty = if p.dirty { " (dirty)" } else { "" };
                vec![
                    (i + 1).to_string(),
                    commit(&p.commit, commit_url) + dirty,
                    format!("<span data-value=\"{}\">{}</span>", p.value, figure(p.value)),
                ]
            })
            .collect();
        let _ = writeln!(
            b,
            "<details><summary>every result ({})</summary>\n{}</details>\n</section>",
            all.len(),
            table(&["#", "commit", "value"], &all, &[0, 2])
        );
    }
    page("Performance history", &b, "")
}

/// Writes [`history_html`] to `path` (atomically).
pub fn write_history_html(
    found: &[SeriesChanges],
    commit_url: Option<&str>,
    path: &Path,
) -> Result<(), ReportError> {
    write(path, &history_html(found, commit_url))
}
