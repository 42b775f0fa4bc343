//! Input that is well-formed but too big is refused in well under a second with a message that
//! names the flag or file and the limit — never an abort, swap or hang. Each case runs the real
//! command as a child process; its time and peak resident set come from the kernel's accounting
//! of that child (`wait4`), and are printed as a table.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bench_command::{CommandSpec, Shell, run_captured};

/// The cases run one at a time: a child's peak resident set is reported as at least this
/// process's own at the spawn (Linux keeps the spawner's peak across exec), so no other test of
/// this file may be holding a large buffer meanwhile.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A refusal must come within this bound of peak resident set …
const MAX_RSS: u64 = 200 << 20;
/// … and of time.
const MAX_SECONDS: f64 = 1.0;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Runs `cargo xtask ARGS` (the test build) and checks the refusal; returns the table row.
fn refused(case: &str, args: &[&str], expected: &[&str]) -> String {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut words = vec![env!("CARGO_BIN_EXE_xtask").to_owned()];
    words.extend(args.iter().map(|a| a.to_string()));
    let line = shlex::try_join(words.iter().map(String::as_str)).unwrap();
    let spec = CommandSpec::parse(&line, Shell::None).unwrap();
    let c = run_captured(&spec, None).unwrap();
    let err = String::from_utf8_lossy(&c.stderr).into_owned();
    assert_eq!(c.status.code(), Some(2), "{case}: {args:?}\n{err}");
    assert!(!err.contains("panicked") && !err.contains("memory allocation"), "{case}: {err}");
    for e in expected {
        assert!(err.contains(e), "{case}: expected {e:?} in\n{err}");
    }
    let rss = c.usage.peak_rss_bytes.expect("the kernel reports a peak");
    let secs = c.wall_seconds();
    assert!(rss < MAX_RSS, "{case}: peak RSS {rss} bytes");
    assert!(secs < MAX_SECONDS, "{case}: took {secs:.3} s");
    let first = err.lines().next().unwrap_or_default();
    format!(
        "| {case} | {:.1} MiB | {:.0} ms | {} |",
        rss as f64 / 1048576.0,
        secs * 1e3,
        first.replace('|', "\\|")
    )
}

#[allow(clippy::print_stdout)] // the table is the test's report
fn report(rows: &[String]) {
    println!("| case | peak RSS (≤) | time to refuse | message |\n|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}

#[test]
fn derived_data_and_grids_too_big_for_memory_are_refused_before_allocating() {
    let rows = vec![
        refused(
            "derived bars",
            &["backtest", "--grid", "--derived", "--assets", "1", "--bars", "3000000000000"],
            &[
                "--assets 1 --bars 3000000000000",
                "derived data of 1 asset(s) × 3000000000000 bars",
                "past the limit of",
                "--max-memory",
            ],
        ),
        refused(
            "derived assets",
            &["backtest", "--grid", "--derived", "--assets", "70000000", "--bars", "500"],
            &["--assets 70000000 --bars 500", "past the limit of"],
        ),
        refused(
            "grid ranges",
            &[
                "backtest",
                "--grid",
                "--fast-range",
                "1:3000000",
                "--slow-range",
                "2:3000000",
                "--symbols",
                "GOOG",
            ],
            &["--fast-range 1:3000000 --slow-range 2:3000000", "4.5×10¹² combinations", "past the limit of"],
        ),
        refused(
            "walk-forward windows",
            &[
                "backtest",
                "--walk-forward",
                "--in-sample",
                "400",
                "--out-of-sample",
                "1",
                "--step",
                "1",
                "--fast-range",
                "1:150",
                "--slow-range",
                "151:390",
            ],
            &["a walk-forward of", "windows × 36000 combinations", "past the limit of"],
        ),
        refused(
            "runs",
            &["evaluate", "--design", "fixed", "--runs", "5000000000", "--combinations", "4"],
            &["--runs 5000000000", "past the limit of"],
        ),
        refused(
            "pairs",
            &["compare", "--max-pairs", "9000000000", "true", "true"],
            &["--max-pairs 9000000000", "past the limit of"],
        ),
    ];
    report(&rows);
}

#[test]
fn jobs_past_an_hour_are_refused_without_yes() {
    let rows = vec![
        refused(
            "grid time",
            &[
                "backtest",
                "--grid",
                "--step",
                "baseline",
                "--fast-range",
                "1:1600",
                "--slow-range",
                "1601:3200",
                "--symbols",
                "AAPL",
                "--repeat",
                "10",
                "--max-memory",
                "4GiB",
            ],
            &["the grid search", "2,560,000 backtests", "would take about", "pass --yes"],
        ),
        refused(
            "evaluation time",
            &[
                "evaluate",
                "--design",
                "fixed",
                "--runs",
                "20000000",
                "--combinations",
                "4",
                "--max-memory",
                "16GiB",
            ],
            &["the evaluation", "comparisons of at least 20000000 pairs", "pass --yes"],
        ),
        refused(
            "comparison time",
            &["compare", "--design", "fixed", "--runs", "10000000", "--max-memory", "16GiB", "true", "true"],
            &["the comparison", "20000000 timed runs", "pass --yes"],
        ),
    ];
    report(&rows);
}

/// Writes `n` valid rows of one ticker with consecutive dates (streamed, bounded memory).
fn write_rows(path: &Path, n: usize) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "Ticker,Date,Open,High,Low,Close,Volume").unwrap();
    let mut day = chrono_free_date(0);
    for i in 0..n {
        let p = 100 + (i % 50);
        writeln!(w, "ZZ,{day},{p}.0,{p}.5,{p}.0,{p}.25,1000").unwrap();
        day = chrono_free_date(i + 1);
    }
    w.flush().unwrap();
}

/// `YYYY-MM-DD` of day `k` after 1970-01-01 (a civil-from-days conversion).
fn chrono_free_date(k: usize) -> String {
    let z = k as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A gzip file of `header` then `n` copies of `unit`, written streamed.
fn write_gzip(path: &Path, header: &str, unit: &[u8], n: usize) {
    let f = std::fs::File::create(path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(f), flate2::Compression::fast());
    gz.write_all(header.as_bytes()).unwrap();
    let block: Vec<u8> = unit.iter().copied().cycle().take(unit.len() * 4096).collect();
    for _ in 0..n.div_ceil(4096) {
        gz.write_all(&block).unwrap();
    }
    gz.finish().unwrap().flush().unwrap();
}

#[test]
fn data_files_too_big_or_endless_are_refused_while_reading() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    write_rows(&p("many.csv"), 150_000);
    write_gzip(&p("newlines.csv.gz"), "Ticker,Date,Open,High,Low,Close,Volume\n", b"\n", 100 << 20);
    write_gzip(&p("one_line.csv.gz"), "", b"x", 60 << 20);
    let sparse = |name: &str, head: &[u8], len: u64| {
        let f = std::fs::File::create(p(name)).unwrap();
        (&f).write_all(head).unwrap();
        f.set_len(len).unwrap();
        p(name).display().to_string()
    };
    let big_json = sparse("big.json", b"{", 10 << 30);
    let big_bundle = sparse("big.bin", b"BENCHBND", 100 << 30);
    let s = |path: PathBuf| path.display().to_string();
    let single = |data: &str| -> Vec<String> {
        ["backtest", "--symbol", "ZZ", "--fast", "5", "--slow", "20", "--data", data]
            .map(str::to_owned)
            .to_vec()
    };
    let refuse = |case: &str, args: Vec<String>, expected: &[&str]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(case, &args, expected)
    };
    let mut many = single(&s(p("many.csv")));
    many.extend(["--max-memory".into(), "16MiB".into()]);
    let parquet = root().join("crates/bench-workloads/tests/parquet/stocks.parquet");
    let mut parquet_args = single(&s(parquet));
    parquet_args.extend(["--max-memory".into(), "64KiB".into()]);
    let mut bundle_args = single(&big_bundle);
    bundle_args.extend(["--max-memory".into(), "1GiB".into()]);
    let rows = vec![
        refuse("/dev/zero as data", single("/dev/zero"), &["/dev/zero:1", "line is more than", "4096 bytes"]),
        refuse(
            "gzip, one endless line",
            single(&s(p("one_line.csv.gz"))),
            &["one_line.csv.gz:1", "line is more than"],
        ),
        refuse(
            "gzip bomb of blank lines",
            single(&s(p("newlines.csv.gz"))),
            &["newlines.csv.gz", "inflates more than 100×"],
        ),
        refuse(
            "rows past --max-memory",
            many,
            &["many.csv:", "the bars read so far", "past the limit of 16.0 MiB (--max-memory 16.0 MiB)"],
        ),
        refuse(
            "parquet rows past --max-memory",
            parquet_args,
            &["stocks.parquet", "rows: would need", "--max-memory 64.0 KiB"],
        ),
        refuse(
            "bundle larger than memory",
            bundle_args,
            &["big.bin", "bundle file", "past the limit of 1.00 GiB"],
        ),
        refuse(
            "/dev/zero as JSON",
            ["evaluate", "--baseline", "/dev/zero", "--candidate", "/dev/zero"].map(str::to_owned).to_vec(),
            &["/dev/zero: more than 64.0 MiB is past the 64.0 MiB this reader accepts"],
        ),
        refuse(
            "10 GiB JSON",
            ["evaluate", "--baseline", &big_json, "--candidate", &big_json].map(str::to_owned).to_vec(),
            &["big.json: 10.0 GiB is past the 64.0 MiB this reader accepts"],
        ),
    ];
    report(&rows);
}
