//! `cargo xtask compare` end to end, with real child processes (`sleep`, `sh`, `echo`): the
//! verdict and its exit code, the gate, saved baselines, exports, bad input and Ctrl-C.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;

fn xtask() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    c.env("CI", "1");
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    xtask().args(["compare", "--output-dir"]).arg(dir).args(args).output().expect("xtask runs")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap()
}

/// `sleep` is a command whose wall time is known and steady: 50 ms against 40 ms is a 20%
/// improvement, accepted within a few pairs, exit 0; its reports and exports are written.
#[test]
fn a_faster_command_is_accepted_with_its_reports_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let hf = dir.path().join("hf.json");
    let md = dir.path().join("cmp.md");
    let o = run(
        dir.path(),
        &[
            "sleep 0.05",
            "sleep 0.04",
            "--export-hyperfine",
            hf.to_str().unwrap(),
            "--export-markdown",
            md.to_str().unwrap(),
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("ACCEPTED") && out.contains("interleaved in randomised ABBA pairs"), "{out}");
    assert!(out.contains("harness cost:") && out.contains("spawn → reap of `true`"), "{out}");
    let report = read_json(&dir.path().join("benchmark-results/compare_report.json"));
    assert_eq!(report["kind"], "command_comparison");
    assert_eq!(report["decision"], "accepted");
    assert_eq!(report["pairing"], "interleaved");
    let q = &report["evaluation"]["sequential"];
    assert!(q["pairs_used"].as_u64().unwrap() >= 10 && q["outcome"] == "accepted", "{q}");
    assert!(dir.path().join("benchmark-results/compare_path.svg").exists());
    assert!(std::fs::read_to_string(&md).unwrap().starts_with("# Command comparison: ACCEPTED"));
    // An independent reader of hyperfine's format (Python's standard library, written from
    // hyperfine's documented fields) accepts the export and recomputes its figures from `times`;
    // the same reader refuses a copy whose mean was altered, so it can fail.
    let reader =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/bench-command/tests/reference/read_hyperfine.py");
    let o = Command::new("python3").arg(reader).arg(&hf).args(["sleep 0.05", "sleep 0.04"]).output().unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("sleep 0.05: ") && out.contains("sleep 0.04: ") && out.contains("exit codes ['0']"),
        "{out}"
    );
    let mut doc = read_json(&hf);
    let mean = doc["results"][1]["mean"].as_f64().unwrap();
    doc["results"][1]["mean"] = serde_json::json!(mean * 1.001);
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, doc.to_string()).unwrap();
    let o = Command::new("python3").arg(reader).arg(&broken).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    assert!(text(&o).1.contains("results[1].mean"), "{:?}", text(&o));
    // The hyperfine export reads as one: the pairwise evaluation of its two results (never
    // paired: hyperfine files are independent samples) agrees.
    let o = xtask()
        .args(["evaluate", "--baseline"])
        .arg(&hf)
        .args(["--baseline-result", "0", "--candidate"])
        .arg(&hf)
        .args(["--candidate-result", "sleep 0.04"])
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("hyperfine JSON") && out.contains("NOT interleaved"), "{out}");
    // The raw data of both sides is there to recompute the paired verdict from.
    let raw = |side: &str| report[side]["raw_path"].as_str().unwrap().to_owned();
    let o = xtask()
        .args(["evaluate", "--baseline", &raw("baseline"), "--candidate", &raw("candidate")])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(text(&o).0.contains("runs interleaved (paired t-test)"));
}

#[test]
fn a_different_output_is_blocked_and_a_failing_command_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["echo 42", "echo 43"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "blocked exits like a rejection");
    assert!(out.contains("BLOCKED") && out.contains("A: \"42\"") && out.contains("B: \"43\""), "{out}");
    assert!(!dir.path().join("profiling-results/raw_data").exists(), "never timed");
    // Numbers within a tolerance pass the gate.
    let o = run(
        dir.path(),
        &[
            "echo 1.0000001",
            "echo 1.0000002",
            "--check-output",
            "numeric:1e-6",
            "--design",
            "fixed",
            "--runs",
            "3",
        ],
    );
    assert!(text(&o).0.contains("same output (numeric:0.000001)"), "{:?}", text(&o));
    let o = run(dir.path(), &["--shell", "sh", "true", "echo oops >&2; exit 5"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("exit code 5") && err.contains("oops") && err.contains("--ignore-failure"), "{err}");
}

#[test]
fn a_pipe_runs_under_sh() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        &[
            "--shell",
            "sh",
            "--design",
            "fixed",
            "--runs",
            "4",
            "printf '3\\n1\\n2\\n' | sort",
            "printf '1\\n2\\n3\\n'",
            "--json",
        ],
    );
    let (out, err) = text(&o);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["equivalence"]["equivalent"], true, "the sorted pipe prints what printf prints");
    assert_eq!(v["baseline"]["runs"], 4);
    assert_eq!(v["overhead"]["probe"], ":");
}

#[test]
fn a_saved_baseline_compared_later_says_not_interleaved() {
    let dir = tempfile::tempdir().unwrap();
    let o =
        run(dir.path(), &["--save-baseline", "before", "sleep 0.03", "--runs", "10", "--design", "fixed"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(dir.path().join("benchmark-results/baselines/before/baseline.json").exists());
    let o = run(dir.path(), &["--against", "before", "sleep 0.02", "--runs", "10", "--design", "fixed"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("NOT interleaved (Welch's t-test)") && out.contains("warning: not interleaved"),
        "{out}"
    );
    let report = read_json(&dir.path().join("benchmark-results/compare_report.json"));
    assert_eq!(report["pairing"], "not_interleaved");
    assert_eq!(report["evaluation"]["pairing"], "not_interleaved");
    // Saved from a comparison of two commands: the baseline side is kept.
    let o = run(
        dir.path(),
        &["sleep 0.01", "sleep 0.01", "--save-baseline", "pair", "--runs", "10", "--design", "fixed"],
    );
    assert!(text(&o).0.contains("baseline \"pair\" saved"), "{:?}", text(&o));
    let o = run(dir.path(), &["--against", "nothing", "sleep 0.01"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("saved: before, pair"), "lists what is saved: {err}");
}

#[test]
fn bad_input_exits_2_with_a_way_to_fix_it_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (vec!["", "true"], "an empty command"),
        (vec!["echo 'open", "true"], "quote is not closed"),
        (vec!["--shell", "sh", "echo (", "true"], "shell syntax error"),
        (vec!["no-such-program-xyz", "true"], "no program \"no-such-program-xyz\" was found on PATH"),
        (vec!["true"], "give two commands"),
        (vec!["--against", "x", "true", "true"], "compares ONE command"),
        (vec!["--check-output", "numeric:abc", "true", "true"], "numeric:TOL"),
        (vec!["--save-baseline", "../up", "true"], "baseline name"),
        (vec!["--runs", "1", "true", "true"], "at least 2 pairs"),
        (
            vec!["--check-output", "numeric:0", "--shell", "sh", "printf '\\377'", "printf '\\377'"],
            "not UTF-8",
        ),
    ] {
        let o = run(dir.path(), &args);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    assert!(!dir.path().join("benchmark-results").exists() && !dir.path().join("profiling-results").exists());
}

#[test]
fn ctrl_c_keeps_the_completed_runs_and_marks_the_report_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let child = xtask()
        .args(["compare", "--output-dir"])
        .arg(dir.path())
        .args(["--design", "fixed", "--runs", "200", "sleep 0.02", "sleep 0.02"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    // SAFETY: sending SIGINT to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(130), "{stdout}{stderr}");
    assert!(stdout.contains("INCOMPLETE"), "{stdout}");
    let report = read_json(&dir.path().join("benchmark-results/compare_incomplete_report.json"));
    assert_eq!(report["complete"], false);
    let runs = report["baseline"]["runs"].as_u64().unwrap();
    assert!(runs > 2 && runs < 200, "{runs} pairs completed");
    let raw = bench_core::RawData::read(Path::new(report["baseline"]["raw_path"].as_str().unwrap())).unwrap();
    assert_eq!(raw.status, bench_core::SuiteStatus::Interrupted);
    assert_eq!(raw.runs.len() as u64, runs);
}

/// A second Ctrl-C exits at once — mid-run — and still keeps the runs completed before it,
/// marked interrupted; no report is written (none was asked to be forced).
#[test]
fn a_second_ctrl_c_exits_at_once_and_keeps_the_completed_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = xtask()
        .args(["compare", "--output-dir"])
        .arg(dir.path())
        .args(["--design", "fixed", "--runs", "20", "--warmup", "0", "sleep 3", "sleep 3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The plan line comes after the check runs, just before the pairs: each run takes 3 s, so 7 s
    // later the first pair is done and the second pair's first run is half-way.
    let (rx, reader) = common::follow_stderr(child.stderr.take().unwrap(), "expected time:");
    rx.recv_timeout(Duration::from_secs(60)).expect("the plan is printed");
    std::thread::sleep(Duration::from_secs(7));
    for _ in 0..2 {
        // SAFETY: sending SIGINT to our own child process, twice, 0.5 s apart (a person's
        // second Ctrl-C, not one signal relayed twice).
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) }, 0);
        std::thread::sleep(Duration::from_millis(500));
    }
    let started = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    let err = reader.join().unwrap();
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2), "exited at once, not after the run");
    assert!(err.contains("second interrupt: exiting now; the completed runs are kept"), "{err}");
    let raws: Vec<bench_core::RawData> = std::fs::read_dir(dir.path().join("profiling-results/raw_data"))
        .unwrap()
        .flatten()
        .map(|e| bench_core::RawData::read(&e.path()).unwrap())
        .collect();
    assert_eq!(raws.len(), 2, "both sides' runs are kept");
    for raw in &raws {
        assert_eq!(raw.status, bench_core::SuiteStatus::Interrupted);
        assert_eq!(raw.runs.len(), 1, "{}: the first pair", raw.run_id);
        assert!(err.contains(&format!("{}.json (1 run)", raw.run_id)), "{err}");
    }
    assert!(!dir.path().join("benchmark-results").exists(), "no report from a forced exit");
}

/// An awk loop of `n` iterations that prints the same line whatever `n`.
fn awk_loop(n: u32) -> String {
    format!("awk 'BEGIN {{ for (i = 0; i < {n}; i++) s += i; print \"done\" }}'")
}

/// `--metric instructions`: two commands under Callgrind, decided exactly in three runs a side
/// (2% fewer iterations accepted against a 1% threshold, exit 0; rejected against the default
/// 5% on estimated cycles, exit 1), the report and the BMF export naming the metric; one command
/// and a missing Valgrind are refused with exit 2.
#[test]
fn instruction_counts_decide_exactly_and_export_bmf() {
    let dir = tempfile::tempdir().unwrap();
    let bmf = dir.path().join("bmf.json");
    let (more, fewer) = (awk_loop(306_000), awk_loop(300_000));
    let args = ["--metric", "instructions", "--min-improvement", "1", "--json", "--export-bmf"];
    let o = run(
        dir.path(),
        &[more.as_str(), fewer.as_str()]
            .iter()
            .chain(&args)
            .copied()
            .chain([bmf.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["kind"].as_str(), v["metric"].as_str(), v["unit"].as_str()),
        (Some("count_comparison"), Some("instructions"), Some("instructions"))
    );
    assert_eq!((v["deterministic"].as_bool(), v["decision"].as_str()), (Some(true), Some("accepted")), "{v}");
    assert_eq!(v["baseline"].as_array().unwrap().len(), 3);
    let report = read_json(&dir.path().join("benchmark-results/compare_report.json"));
    assert_eq!(report["improvement_percent"], v["improvement_percent"]);
    let b = read_json(&bmf);
    let (base, cand) = (
        b["compare/baseline"]["instructions"]["value"].as_f64().unwrap(),
        b["compare/candidate"]["instructions"]["value"].as_f64().unwrap(),
    );
    assert!((0.015..0.025).contains(&(1.0 - cand / base)), "{b}");
    let o = run(dir.path(), &[more.as_str(), fewer.as_str(), "--metric", "estimated-cycles"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        out.contains("(estimated cycles under Callgrind): rejected")
            && out.contains("short of the 5% threshold"),
        "{out}"
    );
    let o = run(dir.path(), &[fewer.as_str(), "--metric", "instructions"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("compares two commands"), "{}", text(&o).1);
    let o = xtask()
        .env("PATH", "/nonexistent")
        .args(["compare", "--output-dir"])
        .arg(dir.path())
        .args([more.as_str(), fewer.as_str(), "--metric", "instructions"])
        .output()
        .unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("`valgrind` package"), "{err}");
}
