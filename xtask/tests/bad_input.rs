//! Every input the project reads, malformed in every way we could think of: the CLI exits 2,
//! names the file and the field or line and what was expected, does not panic, and creates or
//! modifies no file.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn good_raw() -> String {
    std::fs::read_to_string(root().join("examples/data/baseline.json")).unwrap()
}

fn good_hyperfine() -> String {
    std::fs::read_to_string(root().join("examples/data/hyperfine_baseline.json")).unwrap()
}

fn good_csv() -> String {
    "Ticker,Date,Open,High,Low,Close,Volume,Adj Close\n".to_owned()
        + &(0..60)
            .map(|i| {
                let d = 1 + i % 28;
                let m = 1 + i / 28;
                format!(
                    "X,2020-{m:02}-{d:02},{o}.5,{h}.5,{l}.5,{c}.25,1000,{c}.25\n",
                    o = 100 + i % 7,
                    h = 110 + i % 7,
                    l = 90 + i % 7,
                    c = 100 + (i * 3) % 11
                )
            })
            .collect::<String>()
}

/// A Parquet fixture written by pyarrow (crates/bench-workloads/tests/parquet/).
fn parquet(name: &str) -> Vec<u8> {
    std::fs::read(root().join("crates/bench-workloads/tests/parquet").join(name)).unwrap()
}

fn raw_with(f: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&good_raw()).unwrap();
    f(&mut v);
    serde_json::to_string_pretty(&v).unwrap()
}

fn hyperfine_with(f: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&good_hyperfine()).unwrap();
    f(&mut v);
    serde_json::to_string(&v).unwrap()
}

/// What a case feeds in.
enum Input {
    /// Contents of the file given as `--baseline` (the candidate is a good raw-data file).
    Timing(Vec<u8>),
    /// Contents of the file given as `--data` to `backtest --symbol X --fast 2 --slow 5`.
    Data(Vec<u8>),
    /// A path (no file written by the test) given as `--baseline`.
    TimingPath(PathBuf),
    /// Extra command-line arguments, run with `--output-dir` set.
    Args(Vec<&'static str>),
}

struct Case {
    name: &'static str,
    input: Input,
    /// Must appear in stderr (besides the file name for file inputs).
    needle: &'static str,
}

fn cases() -> Vec<Case> {
    use Input::*;
    let t = |s: String| Timing(s.into_bytes());
    let d = |s: String| Data(s.into_bytes());
    let csv = good_csv();
    let lines: Vec<&str> = csv.lines().collect();
    let replace_line = |k: usize, new: &str| -> String {
        let mut v: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        v[k] = new.to_owned();
        v.join("\n") + "\n"
    };
    let bundle = {
        let b = bench_workloads::parse_csv(csv.as_bytes(), Path::new("x.csv")).unwrap();
        b.to_binary()
    };
    let mut future_bundle = bundle.clone();
    future_bundle[8] = 99;
    let mut corrupt_bundle = bundle.clone();
    let mid = corrupt_bundle.len() / 2;
    corrupt_bundle[mid] ^= 0x55;
    vec![
        // Raw-data JSON.
        Case {
            name: "empty raw file",
            input: Timing(vec![]),
            needle: "the file is empty; expected a JSON object",
        },
        Case { name: "whitespace only", input: Timing(b"  \n\t\n".to_vec()), needle: "the file is empty" },
        Case {
            name: "truncated raw document",
            input: t(good_raw()[..200].to_owned()),
            needle: "malformed JSON",
        },
        Case { name: "plain text", input: t("hello".into()), needle: "malformed JSON" },
        Case {
            name: "top-level array",
            input: t("[1,2,3]".into()),
            needle: "found an array without `schema_version` or `results`",
        },
        Case {
            name: "unknown JSON object",
            input: t("{\"foo\": 1}".into()),
            needle: "expected this tool's raw-data file",
        },
        Case {
            name: "missing schema_version",
            input: t(raw_with(|v| {
                v.as_object_mut().unwrap().remove("schema_version");
            })),
            needle: "without `schema_version`",
        },
        Case {
            name: "schema from the future",
            input: t(raw_with(|v| v["schema_version"] = 99.into())),
            needle: "schema_version 99 is newer than this build supports (1); upgrade",
        },
        Case {
            name: "schema_version as string",
            input: t(raw_with(|v| v["schema_version"] = "1".into())),
            needle: "field `schema_version`: expected schema_version 1",
        },
        Case {
            name: "missing runs",
            input: t(raw_with(|v| {
                v.as_object_mut().unwrap().remove("runs");
            })),
            needle: "missing field `runs`",
        },
        Case {
            name: "extra field",
            input: t(raw_with(|v| v["surprise"] = true.into())),
            needle: "unknown field `surprise`",
        },
        Case {
            name: "extra field in a run",
            input: t(raw_with(|v| v["runs"][0]["extra"] = 1.into())),
            needle: "field `runs[0].extra`: unknown field `extra`",
        },
        Case {
            name: "wall_ns as string",
            input: t(raw_with(|v| v["runs"][2]["wall_ns"] = "fast".into())),
            needle: "field `runs[2].wall_ns`",
        },
        Case {
            name: "negative wall_ns",
            input: t(raw_with(|v| v["runs"][1]["wall_ns"] = (-5).into())),
            needle: "field `runs[1].wall_ns`",
        },
        Case {
            name: "zero wall_ns",
            input: t(raw_with(|v| v["runs"][3]["wall_ns"] = 0.into())),
            needle: "field `runs[3].wall_ns`: expected a duration > 0, found 0",
        },
        Case {
            name: "fractional wall_ns",
            input: t(raw_with(|v| v["runs"][0]["wall_ns"] = serde_json::json!(1.5))),
            needle: "field `runs[0].wall_ns`",
        },
        Case {
            name: "NaN timing",
            input: t(good_raw().replacen("\"wall_ns\": ", "\"wall_ns\": NaN, \"x\": ", 1)),
            needle: "malformed JSON",
        },
        Case {
            name: "infinite timing",
            input: t(good_raw().replacen("\"wall_ns\": ", "\"wall_ns\": 1e999, \"x\": ", 1)),
            needle: "field `runs[0].wall_ns`: invalid number",
        },
        Case {
            name: "a single run",
            input: t(raw_with(|v| v["runs"].as_array_mut().unwrap().truncate(1))),
            needle: "field `runs`: expected at least 2 completed runs",
        },
        Case {
            name: "no runs",
            input: t(raw_with(|v| v["runs"] = serde_json::json!([]))),
            needle: "expected at least 2 completed runs",
        },
        Case {
            name: "duplicate run index",
            input: t(raw_with(|v| v["runs"][1]["index"] = 0.into())),
            needle: "field `runs[1].index`: expected a run index not used by an earlier run",
        },
        Case {
            name: "unsafe run id",
            input: t(raw_with(|v| v["run_id"] = "../../etc/passwd".into())),
            needle: "field `run_id`: expected 1–100 characters of [A-Za-z0-9._-]",
        },
        Case {
            name: "non-UTF-8 bytes",
            input: Timing({
                let mut b = good_raw().into_bytes();
                b[30] = 0xff;
                b
            }),
            needle: "is not valid UTF-8",
        },
        Case { name: "extremely long line", input: t("x".repeat(3 << 20)), needle: "malformed JSON" },
        Case {
            name: "directory instead of file",
            input: TimingPath(std::env::temp_dir()),
            needle: "is a directory; expected a file",
        },
        Case {
            name: "unreadable file",
            input: TimingPath(PathBuf::from("/proc/self/mem")),
            needle: "cannot read",
        },
        Case {
            name: "missing file",
            input: TimingPath(PathBuf::from("/nonexistent/timings.json")),
            needle: "no such file; check the path",
        },
        Case {
            name: "mismatched pair counts",
            input: t(raw_with(|v| v["runs"].as_array_mut().unwrap().truncate(4))),
            needle: "cannot pair runs",
        },
        // hyperfine JSON.
        Case {
            name: "hyperfine without results",
            input: t(hyperfine_with(|v| v["results"] = serde_json::json!([]))),
            needle: "field `results`: expected at least one benchmark result",
        },
        Case {
            name: "hyperfine negative time",
            input: t(hyperfine_with(|v| v["results"][0]["times"][2] = serde_json::json!(-0.1))),
            needle: "field `results[0].times[2]`: expected at least 2 finite run times > 0",
        },
        Case {
            name: "hyperfine zero time",
            input: t(hyperfine_with(|v| v["results"][0]["times"][0] = serde_json::json!(0.0))),
            needle: "results[0].times[0]",
        },
        Case {
            name: "hyperfine single run",
            input: t(hyperfine_with(|v| v["results"][0]["times"] = serde_json::json!([0.1]))),
            needle: "a sample needs at least 2 values",
        },
        Case {
            name: "hyperfine times missing",
            input: t(hyperfine_with(|v| {
                v["results"][0].as_object_mut().unwrap().remove("times");
            })),
            needle: "missing field `times`",
        },
        Case {
            name: "hyperfine memory count mismatch",
            input: t(hyperfine_with(|v| v["results"][0]["memory_usage_byte"] = serde_json::json!([1, 2]))),
            needle: "results[0].memory_usage_byte",
        },
        // The CSV bundle.
        Case { name: "empty CSV", input: Data(vec![]), needle: "empty file; expected a header line" },
        Case { name: "wrong header", input: d(csv.replacen("Ticker", "Symbol", 1)), needle: ":1: header is" },
        Case {
            name: "missing CSV field",
            input: d(replace_line(5, "X,2020-01-05,100.5,110.5,90.5")),
            needle: ":6: column Close: missing field",
        },
        Case {
            name: "non-numeric price",
            input: d(replace_line(3, "X,2020-01-03,abc,110.5,90.5,100.25,1000,100.25")),
            needle: ":4: column Open: \"abc\" is not a number",
        },
        Case {
            name: "unsorted dates",
            input: d(replace_line(10, "X,2020-01-02,100.5,110.5,90.5,100.25,1000,100.25")),
            needle: ":11: column Date",
        },
        Case {
            name: "duplicate date",
            input: d(replace_line(2, "X,2020-01-01,100.5,110.5,90.5,100.25,1000,100.25")),
            needle: ":3: column Date: 2020-01-01 is not after the previous date",
        },
        Case {
            name: "high below low",
            input: d(replace_line(7, "X,2020-01-07,100.5,80.5,90.5,100.25,1000,100.25")),
            needle: ":8: column High: high 80.5 is below low 90.5",
        },
        Case {
            name: "non-positive price",
            input: d(replace_line(4, "X,2020-01-04,100.5,110.5,90.5,-1,1000,100.25")),
            needle: ":5: column Close: -1 is not a price",
        },
        Case {
            name: "NaN price",
            input: d(replace_line(4, "X,2020-01-04,NaN,110.5,90.5,100.25,1000,100.25")),
            needle: ":5: column Open: \"NaN\" is not a finite number",
        },
        Case {
            name: "infinite price",
            input: d(replace_line(4, "X,2020-01-04,100.5,inf,90.5,100.25,1000,100.25")),
            needle: ":5: column High: \"inf\" is not a finite number",
        },
        Case {
            name: "negative volume",
            input: d(replace_line(9, "X,2020-01-09,100.5,110.5,90.5,100.25,-3,100.25")),
            needle: ":10: column Volume: -3 is negative",
        },
        Case {
            name: "extremely long CSV line",
            input: d(csv.clone() + &"9".repeat(10_000) + "\n"),
            needle: "line is 10000 bytes long",
        },
        Case {
            name: "non-UTF-8 CSV",
            input: Data({
                let mut b = csv.clone().into_bytes();
                let k = b.len() - 10;
                b[k] = 0xfe;
                b
            }),
            needle: "is not valid UTF-8",
        },
        Case {
            name: "truncated gzip",
            input: Data({
                let g = std::fs::read(root().join("data/stocks.csv.gz")).unwrap();
                g[..g.len() / 3].to_vec()
            }),
            needle: "not a valid gzip stream",
        },
        // The binary bundle file.
        Case {
            name: "truncated bundle",
            input: Data(bundle[..bundle.len() - 100].to_vec()),
            needle: "checksum mismatch",
        },
        Case { name: "corrupted bundle", input: Data(corrupt_bundle), needle: "checksum mismatch" },
        Case {
            name: "bundle from another version",
            input: Data(future_bundle),
            needle: "bundle version 99 is not supported",
        },
        Case {
            name: "bundle header only",
            input: Data(b"BENCHBND".to_vec()),
            needle: "truncated bundle file",
        },
        // CLI flags and values.
        Case {
            name: "unknown preset",
            input: Args(vec!["evaluate", "--preset", "turbo"]),
            needle: "invalid value 'turbo' for '--preset",
        },
        Case {
            name: "one run",
            input: Args(vec!["evaluate", "--runs", "1"]),
            needle: "--runs 1: at least 2 pairs",
        },
        Case {
            name: "non-numeric runs",
            input: Args(vec!["evaluate", "--runs", "ten"]),
            needle: "invalid value 'ten' for '--runs",
        },
        Case {
            name: "goal out of range",
            input: Args(vec!["evaluate", "--goal", "150"]),
            needle: "--goal 150: expected a percentage",
        },
        Case {
            name: "too few derived bars",
            input: Args(vec!["evaluate", "--workload", "derived", "--bars", "10"]),
            needle: "--bars 10",
        },
        Case {
            name: "zero workers",
            input: Args(vec!["evaluate", "--workers", "0"]),
            needle: "--workers must be at least 1",
        },
        Case {
            name: "zero profile workers",
            input: Args(vec!["profile", "--workers", "0"]),
            needle: "--workers must be at least 1",
        },
        Case {
            name: "zero sweep workers",
            input: Args(vec!["backtest", "--grid", "--workers", "0"]),
            needle: "--workers must be at least 1",
        },
        Case {
            name: "unknown ladder step",
            input: Args(vec!["profile", "--step", "turbo"]),
            needle: "unknown ladder step \"turbo\"",
        },
        Case {
            name: "run id escaping the folder",
            input: Args(vec!["profile", "--run-id", "../escape"]),
            needle: "--run-id: run id \"../escape\" contains '/'",
        },
        Case {
            name: "run id that names a directory",
            input: Args(vec!["profile", "--run-id", ".."]),
            needle: "names a directory",
        },
        Case {
            name: "absolute run id",
            input: Args(vec!["profile", "--run-id", "/tmp/x"]),
            needle: "contains '/'",
        },
        Case {
            name: "bad range",
            input: Args(vec!["backtest", "--grid", "--fast-range", "5:x:5"]),
            needle: "--fast-range: range \"5:x:5\"",
        },
        Case {
            name: "zero repeats",
            input: Args(vec!["backtest", "--grid", "--repeat", "0"]),
            needle: "--repeat must be at least 1",
        },
        Case {
            name: "fast not below slow",
            input: Args(vec!["backtest", "--symbol", "GOOG", "--fast", "30", "--slow", "10"]),
            needle: "fast 30 / slow 10: expected 1 ≤ fast < slow",
        },
        Case {
            name: "unknown symbol",
            input: Args(vec!["backtest", "--symbol", "ZZZZ", "--fast", "5", "--slow", "10"]),
            needle: "unknown symbol \"ZZZZ\"; the data holds: AAPL, FB, GOOG, IBM, MSFT",
        },
        Case {
            name: "unknown subcommand",
            input: Args(vec!["measure"]),
            needle: "unrecognized subcommand 'measure'",
        },
        Case {
            name: "Parquet with a text Close column",
            input: Data(parquet("bad_wrong_type.parquet")),
            needle: "column Close: is BYTE_ARRAY (String); expected a number",
        },
        Case {
            name: "Parquet without a Volume column",
            input: Data(parquet("bad_missing_column.parquet")),
            needle: "column Volume: missing",
        },
        Case {
            name: "truncated Parquet",
            input: Data(parquet("bad_truncated.parquet")),
            needle: "not a readable Parquet file",
        },
        Case {
            name: "a Ray address without the Ray backend",
            input: Args(vec!["backtest", "--grid", "--ray-address", "127.0.0.1:1"]),
            needle: "--ray-address and --ray-chunk need --backend ray",
        },
        Case {
            name: "a single backtest on Ray",
            input: Args(vec![
                "backtest",
                "--symbol",
                "GOOG",
                "--fast",
                "10",
                "--slow",
                "30",
                "--backend",
                "ray",
            ]),
            needle: "--backend ray runs a grid search (--grid) or a walk-forward",
        },
        Case {
            name: "Ray chunks of no combination",
            input: Args(vec!["backtest", "--grid", "--backend", "ray", "--ray-chunk", "0"]),
            needle: "--ray-chunk must be at least 1",
        },
        Case {
            name: "the bohb workflow on Ray",
            input: Args(vec!["evaluate", "--workflow", "bohb", "--backend", "ray"]),
            needle: "the bohb workflow runs in this process",
        },
        Case {
            name: "a Ray column without the coordinator scenario",
            input: Args(vec!["profile", "--with-ray"]),
            needle: "--with-ray measures the parallel-coordinator scenario",
        },
        Case {
            name: "zero minimum profile time",
            input: Args(vec!["profile", "--min-seconds", "0"]),
            needle: "--min-seconds 0",
        },
    ]
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn every_bad_input_exits_2_names_the_problem_and_writes_nothing() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let good = root().join("examples/data/candidate_batch_init.json");
    let good_before = std::fs::read(&good).unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let dir = tempfile::tempdir().unwrap();
        let out_dir = dir.path().join("out");
        std::fs::create_dir(&out_dir).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.env("CI", "1");
        let mut input_file: Option<(PathBuf, Vec<u8>)> = None;
        match &case.input {
            Input::Timing(bytes) => {
                let p = dir.path().join("bad_timings.json");
                std::fs::write(&p, bytes).unwrap();
                cmd.args(["evaluate", "--baseline"]).arg(&p).arg("--candidate").arg(&good);
                input_file = Some((p, bytes.clone()));
            }
            Input::TimingPath(p) => {
                cmd.args(["evaluate", "--baseline"]).arg(p).arg("--candidate").arg(&good);
            }
            Input::Data(bytes) => {
                let p = dir.path().join("bad_data.csv");
                std::fs::write(&p, bytes).unwrap();
                cmd.args(["backtest", "--symbol", "X", "--fast", "2", "--slow", "5", "--data"]).arg(&p);
                input_file = Some((p, bytes.clone()));
            }
            Input::Args(args) => {
                cmd.args(args);
                if matches!(args[0], "evaluate" | "profile") {
                    cmd.arg("--output-dir").arg(&out_dir);
                }
            }
        }
        let o = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        let mut problems = Vec::new();
        if o.status.code() != Some(2) {
            problems.push(format!("exit code {:?}", o.status.code()));
        }
        if !err.contains(case.needle) {
            problems.push(format!("stderr lacks {:?}", case.needle));
        }
        if err.contains("panicked") {
            problems.push("panicked".into());
        }
        if let Some((p, bytes)) = &input_file {
            if !err.contains(&p.display().to_string()) {
                problems.push("the message does not name the file".into());
            }
            if std::fs::read(p).unwrap() != *bytes {
                problems.push("the input file was modified".into());
            }
        }
        if let Input::TimingPath(p) = &case.input
            && !err.contains(&p.display().to_string())
        {
            problems.push("the message does not name the file".into());
        }
        let written = files_under(&out_dir);
        if !written.is_empty() {
            problems.push(format!("wrote {written:?}"));
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {} — stderr: {}", case.name, problems.join("; "), err.trim()));
        }
    }
    assert_eq!(std::fs::read(&good).unwrap(), good_before, "the good input was modified");
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
