//! Self-contained HTML pages: one file with its styles and scripts inline, charts as inline SVG,
//! no network resource — a report opens the same offline, attached to an e-mail or from CI.
//!
//! Every page traps script errors: `<body data-ready="yes">` once its scripts ran, and
//! `data-errors` holds the messages of any error, so a headless browser can check a page by
//! its DOM alone.
//!
//! ```
//! use bench_report::html::{escape, page};
//! let p = page("A <b> report", &format!("<p>{}</p>", escape("1 < 2 & \"3\"")), "");
//! assert!(p.starts_with("<!DOCTYPE html>") && p.contains("<title>A &lt;b&gt; report</title>"));
//! assert!(p.contains("<p>1 &lt; 2 &amp; &quot;3&quot;</p>") && !p.contains("http://") && !p.contains("https://"));
//! ```

/// `text` with `&`, `<`, `>`, `"` and `'` escaped, for element text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1d232b; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #d8dde3; }
.meta { color: #5b6672; font-size: .9rem; }
.verdict { font-size: 1.15rem; font-weight: 600; padding: .6rem .9rem; border-radius: .4rem; display: inline-block; }
.accepted, .confirmed { background: #e3f5e6; color: #135c23; } .rejected, .regression, .blocked, .failed, .contradicted { background: #fbe5e3; color: #8a1c12; }
.inconclusive, .unconfirmed { background: #fdf3d6; color: #6b4e00; }
table { border-collapse: collapse; margin: .6rem 0; } th, td { padding: .25rem .7rem; border-bottom: 1px solid #e5e8ec; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; } th[data-sort] { cursor: pointer; text-decoration: underline dotted; }
svg { max-width: 100%; height: auto; } details { margin: .6rem 0; } code { background: #f1f3f5; padding: 0 .25rem; border-radius: .2rem; }
";

/// Traps script errors into `data-errors`, sorts a table by a clicked `th[data-sort]` column,
/// and marks the page ready.
const SCRIPT: &str = "
window.addEventListener('error', function (e) { var b = document.body; b.dataset.errors = (b.dataset.errors || '') + e.message + '\\n'; });
document.querySelectorAll('th[data-sort]').forEach(function (th) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), body = table.tBodies[0], i = th.cellIndex, down = th.dataset.dir !== 'down';
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[i].dataset.value || a.cells[i].textContent, y = b.cells[i].dataset.value || b.cells[i].textContent;
      var nx = parseFloat(x), ny = parseFloat(y), r = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
      return down ? r : -r;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    th.dataset.dir = down ? 'down' : 'up';
  });
});
";

/// A whole page: `title`, the `body` markup, and `script` (run after the page's own, inside the
/// error trap).
pub fn page(title: &str, body: &str, script: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n<script>\n(function () {{ try {{ {SCRIPT}\n{script}\n }} catch (e) {{ document.body.dataset.errors = (document.body.dataset.errors || '') + e.message + '\\n'; }} document.body.dataset.ready = 'yes'; }})();\n</script>\n</body>\n</html>\n",
        escape(title)
    )
}

/// A table of `head` and `rows` (cells already markup); numeric columns named in `numeric` are
/// right-aligned; every column sorts on a click.
pub fn table(head: &[&str], rows: &[Vec<String>], numeric: &[usize]) -> String {
    let class = |i: usize| if numeric.contains(&i) { " class=\"num\"" } else { "" };
    let mut out = String::from("<table>\n<thead><tr>");
    for (i, h) in head.iter().enumerate() {
        out.push_str(&format!("<th{} data-sort>{}</th>", class(i), escape(h)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            out.push_str(&format!("<td{}>{cell}</td>", class(i)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

/// A decision as a CSS class of the HTML reports (`accepted`, `rejected`, …).
pub(crate) fn decision_class(d: bench_optimizations::Decision) -> &'static str {
    match d {
        bench_optimizations::Decision::Accepted => "accepted",
        bench_optimizations::Decision::Rejected => "rejected",
        bench_optimizations::Decision::Regression => "regression",
        bench_optimizations::Decision::Inconclusive => "inconclusive",
        bench_optimizations::Decision::Blocked => "blocked",
        bench_optimizations::Decision::Failed => "failed",
    }
}
