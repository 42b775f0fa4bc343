//! Nothing lost, nothing crashes: panicking workloads, interrupts and concurrent writers, each
//! tested with real processes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

fn xtask() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    c.env("CI", "1");
    c
}

fn raw_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir.join("profiling-results/raw_data"))
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn a_panicking_run_is_recorded_and_the_command_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    // Run 4 of the process is the first timed run of the first comparison (2 warm-ups a side
    // come first: runs 1–4 are warm-ups, so pick a timed one).
    let o = xtask()
        .args([
            "evaluate",
            "--combinations",
            "2",
            "--design",
            "fixed",
            "--runs",
            "6",
            "--preset",
            "lenient",
            "--output-dir",
        ])
        .arg(dir.path())
        .env("BENCH_FAULT_PANIC_AT_RUN", "7")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("measured run(s) of the workload panicked"), "{err}");
    let raws: Vec<bench_core::RawData> =
        raw_files(dir.path()).iter().map(|p| bench_core::RawData::read(p).unwrap()).collect();
    let failed: Vec<&bench_core::FailedRun> = raws.iter().flat_map(|r| &r.failed_runs).collect();
    assert_eq!(failed.len(), 1, "exactly one failed run");
    assert!(failed[0].message.contains("injected fault"), "{}", failed[0].message);
    // The completed runs are kept: the partner of the failed pair is kept unpaired, the other
    // pairs are complete.
    let with_failure = raws.iter().find(|r| !r.failed_runs.is_empty()).unwrap();
    assert_eq!(with_failure.runs.len(), 5);
    let partner =
        raws.iter().find(|r| r.run_id == with_failure.pairing.as_ref().unwrap().partner_run_id).unwrap();
    assert_eq!(partner.runs.len(), 5);
    assert_eq!(partner.unpaired_runs.len(), 1);
    assert!(dir.path().join("benchmark-results/grid_search_bundled_report.md").exists());
}

/// Interrupted the way CI jobs interrupt: under GNU `timeout -s INT`, which relays a signal to
/// its child and then to the child's whole process group, so the tool receives SIGINT twice at
/// once. That is one interrupt: the run finishes gracefully, with its completed runs kept.
#[test]
fn sigint_mid_suite_writes_completed_runs_marks_the_report_incomplete_and_exits_130() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    // The last complete report must survive an interrupted run.
    let complete = dir.path().join("benchmark-results/grid_search_bundled_report.md");
    std::fs::create_dir_all(complete.parent().unwrap()).unwrap();
    std::fs::write(&complete, "# the last complete report\n").unwrap();
    let mut child = Command::new("timeout")
        .args(["-s", "INT", "3600", env!("CARGO_BIN_EXE_xtask"), "evaluate", "--runs", "200", "--output-dir"])
        .arg(dir.path())
        .env("CI", "1")
        // Its own process group, as a CI job's: timeout's group-wide relay must not reach the test.
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the evaluation has started (its first stderr line), then give the timed run,
    // the equivalence gate and the first pairs time to finish (20 s: on a loaded machine 10 s
    // were not always enough): with 200 pairs the first comparison runs for minutes, so the
    // interrupt lands mid-suite.
    let (rx, reader) = common::follow_stderr(child.stderr.take().unwrap(), "Evaluating");
    let start = Instant::now();
    rx.recv_timeout(Duration::from_secs(120)).expect("the evaluation starts");
    std::thread::sleep(Duration::from_secs(20));
    // SAFETY: sending SIGINT to our own child process (`timeout`, which relays it twice).
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(rc, 0);
    let out = child.wait_with_output().unwrap();
    let err = reader.join().unwrap();
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(!err.contains("second interrupt"), "one signal relayed twice is one interrupt:\n{err}");
    assert!(err.contains("finishing the current run"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(240));
    assert_eq!(std::fs::read_to_string(&complete).unwrap(), "# the last complete report\n");
    assert!(String::from_utf8_lossy(&out.stdout).contains("INCOMPLETE"), "stdout says so");
    let report = std::fs::read_to_string(
        dir.path().join("benchmark-results/grid_search_bundled_incomplete_report.md"),
    )
    .unwrap();
    assert!(report.contains("INCOMPLETE"), "{report}");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path().join("benchmark-results/grid_search_bundled_incomplete_report.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(json["complete"], false);
    assert_eq!(json["stop_reason"], "interrupted");
    let raws: Vec<bench_core::RawData> =
        raw_files(dir.path()).iter().map(|p| bench_core::RawData::read(p).unwrap()).collect();
    assert!(!raws.is_empty(), "the completed runs were written");
    let interrupted: Vec<&bench_core::RawData> =
        raws.iter().filter(|r| r.status == bench_core::SuiteStatus::Interrupted).collect();
    assert_eq!(interrupted.len(), 2, "both sides of the comparison in progress are marked interrupted");
    assert!(
        interrupted.iter().all(|r| !r.runs.is_empty() && r.runs.len() < 200),
        "some, but fewer runs than requested"
    );
}

#[test]
fn two_concurrent_evaluations_into_the_same_folders_never_corrupt_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let spawn = || {
        xtask()
            .args([
                "evaluate",
                "--combinations",
                "2",
                "--design",
                "fixed",
                "--runs",
                "4",
                "--preset",
                "lenient",
                "--continue-after-goal",
                "--output-dir",
            ])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn(), spawn());
    // The two writers must really overlap: watch the raw-data folder while both are alive and
    // count the file writes (a name with a new modification time) seen in that window.
    let mut seen = std::collections::HashSet::new();
    let mut writes_while_both_ran = 0;
    while a.try_wait().unwrap().is_none() && b.try_wait().unwrap().is_none() {
        for p in raw_files(dir.path()) {
            if let Ok(m) = std::fs::metadata(&p).and_then(|m| m.modified())
                && seen.insert((p, m))
            {
                writes_while_both_ran += 1;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let (oa, ob) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(
        writes_while_both_ran >= 4,
        "only {writes_while_both_ran} raw-data writes happened while both evaluations ran: they did not overlap"
    );
    for o in [&oa, &ob] {
        // Too few runs for the default minimum is fine: both must finish cleanly.
        assert!(matches!(o.status.code(), Some(0)), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let bench = dir.path().join("benchmark-results");
    for f in ["grid_search_bundled_report.json", "grid_search_bundled_bmf.json"] {
        let text = std::fs::read_to_string(bench.join(f)).unwrap();
        let _: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{f} corrupt: {e}"));
    }
    let md = std::fs::read_to_string(bench.join("grid_search_bundled_report.md")).unwrap();
    assert!(
        md.starts_with("# Performance report") && md.contains("## Reproduce"),
        "the Markdown report is whole"
    );
    for p in raw_files(dir.path()) {
        bench_core::RawData::read(&p).unwrap_or_else(|e| panic!("{} corrupt: {e}", p.display()));
    }
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&bench)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
