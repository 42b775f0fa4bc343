//! The HTML reports in a real headless Chromium: `compare` of two real commands, `evaluate` of
//! the ladder, and `history detect`'s dashboard of a real SQLite history load with no console
//! message and no script error, their verdicts and figures in the DOM equal the JSON, they
//! reference nothing on the network, and a screenshot of each is kept under
//! `target/test-artefacts/`.
//!
//! Chromium is found as `BENCH_CHROMIUM`, `chromium`, `chromium-browser` or `google-chrome`.
//! Without one the tests say so and pass, unless `BENCH_REQUIRE_BROWSER` is set (CI sets it
//! and installs Chromium from the distribution's packages).

#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;

use bench_history::{History, Outcome, Record, Source, VerdictRecord};

fn xtask(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(dir)
        .env("CI", "1")
        .args(args)
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e})"))
}

/// The one file of `dir` whose name ends with `suffix`.
fn file(dir: &Path, suffix: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    assert_eq!(found.len(), 1, "{suffix} in {}: {found:?}", dir.display());
    found[0].clone()
}

fn chromium() -> Option<PathBuf> {
    let candidates = std::env::var_os("BENCH_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(["chromium", "chromium-browser", "google-chrome"].map(PathBuf::from));
    for c in candidates {
        if Command::new(&c).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return Some(c);
        }
    }
    assert!(
        std::env::var_os("BENCH_REQUIRE_BROWSER").is_none(),
        "BENCH_REQUIRE_BROWSER is set but no Chromium was found (install the `chromium` package or set BENCH_CHROMIUM)"
    );
    eprintln!(
        "no Chromium found: the browser tests are skipped (set BENCH_REQUIRE_BROWSER to make this a failure)"
    );
    None
}

/// The page's DOM after its scripts ran, and Chromium's console lines; a screenshot is written
/// to `target/test-artefacts/<shot>.png`.
fn load(browser: &Path, page: &Path, shot: &str) -> String {
    let url = format!("file://{}", page.display());
    let flags = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let dom = Command::new(browser).args(flags).arg("--dump-dom").arg(&url).output().expect("chromium runs");
    assert!(dom.status.success(), "chromium --dump-dom {url}: {}", String::from_utf8_lossy(&dom.stderr));
    let console: Vec<String> = String::from_utf8_lossy(&dom.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    assert!(console.is_empty(), "{url} wrote to the console: {console:#?}");
    let artefacts = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("target/test-artefacts");
    std::fs::create_dir_all(&artefacts).unwrap();
    let png = artefacts.join(format!("{shot}.png"));
    let _ = std::fs::remove_file(&png);
    let s = Command::new(browser)
        .args(flags)
        .arg("--window-size=1200,2200")
        .arg(format!("--screenshot={}", png.display()))
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(s.status.success() && png.metadata().is_ok_and(|m| m.len() > 10_000), "no screenshot of {url}");
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    assert!(
        dom.contains("<body data-ready=\"yes\">"),
        "the page's scripts did not finish (or raised): {}",
        &dom[..dom.len().min(600)]
    );
    dom
}

/// The value of `attr` on the element with `id`.
fn attr(dom: &str, id: &str, attr: &str) -> String {
    let at = dom.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no element #{id}"));
    let tag = &dom[dom[..at].rfind('<').unwrap()..at + dom[at..].find('>').unwrap()];
    let key = format!("{attr}=\"");
    let from = tag.find(&key).unwrap_or_else(|| panic!("#{id} has no {attr}: {tag}")) + key.len();
    tag[from..from + tag[from..].find('"').unwrap()].to_owned()
}

/// No `src`/`href` to another host, no `@import`, no `url(http…)`: the page loads alone.
fn assert_self_contained(html: &str) {
    for bad in ["src=\"http", "src='http", "@import", "url(http", "<link rel=\"stylesheet\""] {
        assert!(!html.contains(bad), "the page references a network resource ({bad})");
    }
}

#[test]
fn a_comparison_report_loads_and_says_what_its_json_says() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    xtask(
        dir.path(),
        &[
            "compare",
            "--output-dir",
            &out,
            "--name",
            "browser",
            "--design",
            "fixed",
            "--runs",
            "12",
            "--json",
            "sh -c 'i=0; while [ $i -lt 40000 ]; do i=$((i+1)); done'",
            "sh -c 'i=0; while [ $i -lt 4000 ]; do i=$((i+1)); done'",
        ],
    );
    let reports = dir.path().join("benchmark-results");
    let files = (file(&reports, "_report.html"), file(&reports, "_report.json"));
    let html = std::fs::read_to_string(&files.0).unwrap();
    assert_self_contained(&html);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&files.1).unwrap()).unwrap();
    let dom = load(&browser, &files.0, "compare_report");
    let e = &json["evaluation"];
    assert_eq!(attr(&dom, "verdict", "data-decision"), json["decision"].as_str().unwrap().to_lowercase());
    assert_eq!(json["decision"], "accepted", "ten times the loop: {}", json["verdict"]);
    let text = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    for (id, value) in [
        ("improvement", &e["improvement_percent"]),
        ("baseline-mean", &e["baseline_mean_s"]),
        ("candidate-mean", &e["optimized_mean_s"]),
        ("lower", &e["bound"]["lower_percent"]),
        ("upper", &e["bound"]["upper_percent"]),
    ] {
        assert_eq!(attr(&dom, id, "data-value"), text(value), "#{id}");
    }
    // Every run is in the table, both sides' counts as the JSON's.
    let runs = json["baseline"]["times_s"].as_array().unwrap().len();
    assert_eq!(runs, 12);
    let table = &dom[dom.find("id=\"runs\"").unwrap()..];
    let body = &table[table.find("<tbody>").unwrap()..table.find("</tbody>").unwrap()];
    assert_eq!(body.matches("<tr>").count(), runs);
    assert!(dom.contains("id=\"runs-chart\"") && dom.contains("<svg"), "the runs chart is inline SVG");
}

#[test]
fn the_history_dashboard_shows_the_change_points_and_their_verdicts() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut history = History::open(&dir.path().join("h.sqlite")).unwrap();
    // 36 commits on one machine, 20% slower from commit 20 (noise ±1%), and 36 on another
    // machine at a different level (never a change point).
    let wobble = |i: usize| [0.004, -0.007, 0.01, -0.002, 0.006, -0.009][i % 6];
    let mut records = Vec::new();
    for i in 0..36 {
        for (machine, base) in [("ci", 1.0e7), ("laptop", 2.3e7)] {
            let step = if machine == "ci" && i >= 20 { 1.2 } else { 1.0 };
            let source = Source {
                commit: format!("{i:040x}"),
                dirty: false,
                machine: machine.into(),
                recorded_at: i as i64,
            };
            records.push(Record::new(
                &source,
                "grid/prefix-sums",
                "latency",
                "ns",
                base * step * (1.0 + wobble(i)),
            ));
        }
    }
    history.record(&records).unwrap();
    history
        .record_verdict(&VerdictRecord {
            machine: "ci".into(),
            benchmark: "grid/prefix-sums".into(),
            metric: "latency".into(),
            baseline_commit: format!("{:040x}", 19),
            candidate_commit: format!("{:040x}", 20),
            outcome: Outcome::Moved,
            change_percent: 19.6,
            lower: Some(17.0),
            upper: Some(22.1),
            threshold_percent: 5.0,
            recorded_at: 99,
        })
        .unwrap();
    drop(history);
    // The dashboard as `history detect` writes it, beside the history file.
    let h = dir.path().join("h.sqlite").display().to_string();
    let detected = xtask(dir.path(), &["history", "detect", "--history", &h, "--json"]);
    let found = detected.as_array().unwrap();
    let page = dir.path().join("h.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert_self_contained(&html);
    let dom = load(&browser, &page, "history_dashboard");
    let changes: usize = found.iter().map(|f| f["changes"].as_array().unwrap().len()).sum();
    assert_eq!(changes, 1, "{detected:#}");
    assert_eq!(attr(&dom, "change-count", "data-value"), "1");
    assert_eq!(dom.matches("class=\"series\"").count(), 2, "one series per machine");
    let c = &found.iter().find(|f| f["series"]["machine"] == "ci").unwrap()["changes"][0];
    assert_eq!(c["first_after"], format!("{:040x}", 20));
    assert!(dom.contains(&format!("data-value=\"{}\"", c["change_percent"])), "the change's figure");
    assert!(dom.contains("class=\"verdict confirmed\">confirmed (+19.6%)"), "the verdict confirms it");
    assert!(!dom.contains("href=\"https://"), "outside a repository with an origin: no commit links");
}

#[test]
fn an_evaluation_report_loads_and_says_what_its_json_says() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let json = xtask(
        dir.path(),
        &[
            "evaluate",
            "--output-dir",
            &out,
            "--combinations",
            "4",
            "--workers",
            "1",
            "--max-time",
            "5s",
            "--continue-after-goal",
            "--json",
        ],
    );
    let page = file(&dir.path().join("benchmark-results"), "_report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert_self_contained(&html);
    let dom = load(&browser, &page, "evaluate_report");
    let text = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    assert_eq!(attr(&dom, "cumulative", "data-value"), text(&json["cumulative_improvement_percent"]));
    // Each optimization's decision, in order, as the JSON's.
    let steps = json["optimizations"].as_array().unwrap();
    let table = &dom[dom.find("<h2>Optimizations</h2>").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let shown: Vec<&str> =
        table.split("data-decision=\"").skip(1).map(|t| &t[..t.find('"').unwrap()]).collect();
    let want: Vec<String> = steps.iter().map(|s| s["decision"].as_str().unwrap().to_lowercase()).collect();
    assert_eq!(shown, want);
    assert_eq!(dom.matches("class=\"step\"").count(), steps.len());
}
