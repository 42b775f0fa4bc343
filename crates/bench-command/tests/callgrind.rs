//! Instruction counts under Valgrind's Callgrind, on real processes: the parse against
//! Valgrind's own reader, identical runs counting identically, a loop with 2% more iterations
//! seen, Valgrind missing refused by name, and comparisons decided on the counts. Needs `valgrind` (CI installs the distribution's
//! package).

use bench_command::{
    CallgrindCounts, CallgrindOptions, CommandError, CommandSpec, CountMetric, CountOptions, Shell,
    compare_counts, run_under_callgrind,
};
use bench_optimizations::Decision;
use bench_threshold::OptimizationConfig;

/// The interpreter itself, not a launcher script in front of it.
fn python() -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 runs");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A Python loop of `n` iterations, with string hashing fixed (a Python process randomises it,
/// which moves the counts) and run through `sh` (so the children are followed).
fn loop_of(n: u32) -> CommandSpec {
    let line = format!("PYTHONHASHSEED=0 {} -c 's = 0\nfor i in range({n}): s += i\nprint(s)'", python());
    CommandSpec::parse(&line, Shell::Sh).unwrap()
}

fn options() -> CallgrindOptions {
    CallgrindOptions { trace_children: true, ..CallgrindOptions::default() }
}

/// The counts parsed from Callgrind's file equal the program totals of `callgrind_annotate`,
/// Valgrind's own reader of the format.
#[test]
fn the_parse_agrees_with_callgrind_annotate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("callgrind.out");
    let status = std::process::Command::new("valgrind")
        .args(["--tool=callgrind", "--cache-sim=yes", "--log-file=/dev/null"])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .args(["sort", "--version"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("valgrind is installed (apt-get install valgrind)");
    assert!(status.success());
    let counts = CallgrindCounts::parse(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let annotate = std::process::Command::new("callgrind_annotate").arg(&out).output().unwrap();
    let text = String::from_utf8_lossy(&annotate.stdout);
    let totals = text.lines().find(|l| l.contains("PROGRAM TOTALS")).expect(&text);
    // "256,900,436 (100.0%) 73,157,333 (100.0%) … PROGRAM TOTALS", in the events' order.
    let theirs: Vec<u64> = totals
        .split_whitespace()
        .filter(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|w| w.replace(',', "").parse().unwrap())
        .collect();
    let names = ["Ir", "Dr", "Dw", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw"];
    let ours: Vec<u64> = names.iter().map(|n| counts.events[*n]).collect();
    assert_eq!(ours, theirs, "{totals}");
    assert!(counts.get(CountMetric::Instructions).unwrap() > 100_000);
    let cycles = counts.get(CountMetric::EstimatedCycles).unwrap();
    assert_eq!(cycles, ours[0] + 10 * (ours[3] + ours[4] + ours[5]) + 100 * (ours[6] + ours[7] + ours[8]));
}

/// The same command counts the same instructions twice (no spread: a deterministic metric), and
/// 2% more iterations of the loop — 1.4% more instructions with the interpreter's start-up — is
/// seen in one run of each.
#[test]
fn identical_runs_count_alike_and_two_percent_more_iterations_are_seen() {
    let count = |n: u32| {
        let run = run_under_callgrind(&loop_of(n), &options()).unwrap();
        assert!(run.captured.status.success());
        assert!(run.counts.processes >= 2, "sh and python3: {:?}", run.counts);
        (
            run.counts.get(CountMetric::Instructions).unwrap(),
            run.counts.get(CountMetric::EstimatedCycles).unwrap(),
        )
    };
    let (a, b, more) = (count(300_000), count(300_000), count(306_000));
    assert_eq!(a, b, "identical runs");
    let ratio = more.0 as f64 / a.0 as f64;
    assert!((1.01..1.02).contains(&ratio), "2% more iterations: {ratio}");
    assert!(more.1 > a.1);
}

/// A failing command is an input error with its standard error; a missing Valgrind one naming
/// the package.
#[test]
fn failures_are_named() {
    let failing = CommandSpec::parse("sh -c 'echo broken >&2; exit 3'", Shell::None).unwrap();
    let e = run_under_callgrind(&failing, &options()).unwrap_err();
    assert!(matches!(e, CommandError::Input(_)) && e.to_string().contains("broken"), "{e}");
    let missing = CallgrindOptions { valgrind: "/nonexistent/valgrind".into(), ..options() };
    let e = run_under_callgrind(&loop_of(1), &missing).unwrap_err();
    assert!(matches!(e, CommandError::Input(_)) && e.to_string().contains("`valgrind` package"), "{e}");
}

/// An awk loop of `n` iterations printing the same line whatever `n` (so the output check
/// passes): its start-up is small, and its counts are the same from run to run.
fn awk_loop(n: u32) -> CommandSpec {
    CommandSpec::parse(
        &format!("awk 'BEGIN {{ s = 0; for (i = 0; i < {n}; i++) s += i; print \"done\" }}'"),
        Shell::None,
    )
    .unwrap()
}

fn count_options(min_improvement_percent: f64) -> CountOptions {
    let mut t = OptimizationConfig::create_default().fallback().clone();
    t.min_improvement_percent = bench_core::to_decimal(min_improvement_percent).unwrap();
    CountOptions::new(CountMetric::Instructions, t)
}

/// Deterministic counts decide in three runs a side: the same command is no improvement, 2%
/// fewer iterations are 2% fewer instructions — accepted against a 1% threshold, rejected
/// against the default 5% — and the reverse is a regression against 1%.
#[test]
fn deterministic_counts_decide_in_three_runs() {
    let (fewer, more) = (awk_loop(300_000), awk_loop(306_000));
    let same = compare_counts(&fewer, &fewer, &count_options(1.0), &mut |_| {}).unwrap();
    assert!(same.deterministic && same.equivalence.equivalent, "{same:?}");
    assert_eq!((same.baseline.len(), same.improvement_percent, same.decision), (3, 0.0, Decision::Rejected));
    assert!(same.rationale.starts_with("deterministic"), "{}", same.rationale);
    let faster = compare_counts(&more, &fewer, &count_options(1.0), &mut |_| {}).unwrap();
    assert!(faster.deterministic && faster.evaluation.is_none());
    assert!((1.5..2.5).contains(&faster.improvement_percent), "{}", faster.improvement_percent);
    assert_eq!((faster.candidate.len(), faster.decision), (3, Decision::Accepted), "{}", faster.rationale);
    let t = OptimizationConfig::create_default().fallback().clone();
    let strict =
        compare_counts(&more, &fewer, &CountOptions::new(CountMetric::EstimatedCycles, t), &mut |_| {});
    assert_eq!(strict.unwrap().decision, Decision::Rejected, "2% is short of the default 5%");
    let slower = compare_counts(&fewer, &more, &count_options(1.0), &mut |_| {}).unwrap();
    assert_eq!(slower.decision, Decision::Regression, "{}", slower.rationale);
}

/// Counts that move between runs (awk seeded from the clock picks how many iterations) run to
/// the maximum and are decided by the threshold's criteria, never exactly; different outputs
/// block the comparison before any more runs.
#[test]
fn moving_counts_are_decided_by_the_criteria_and_different_outputs_block() {
    let random = CommandSpec::parse(
        "awk 'BEGIN { srand(); n = 100000 + int(rand() * 2000); for (i = 0; i < n; i++) s += i; print \"done\" }'",
        Shell::None,
    )
    .unwrap();
    let options = CountOptions { max_runs: 5, ..count_options(1.0) };
    let c = compare_counts(&random, &random, &options, &mut |_| {}).unwrap();
    assert!(!c.deterministic && c.spread_percent.0 > 0.0, "{c:?}");
    assert_eq!(c.baseline.len(), 5);
    assert!(c.evaluation.is_some() && c.decision != Decision::Accepted, "{}", c.rationale);
    let other = CommandSpec::parse("awk 'BEGIN { print \"other\" }'", Shell::None).unwrap();
    let blocked = compare_counts(&awk_loop(1000), &other, &options, &mut |_| {}).unwrap();
    assert_eq!((blocked.decision, blocked.baseline.len()), (Decision::Blocked, 1));
}

/// `bench-burn`, a Rust program whose work is its `--work`: 2% more work is seen exactly in
/// three runs a side, and splitting the same work over two threads draws the warning that
/// instructions do not show parallelism.
#[test]
fn a_rust_program_doing_two_percent_more_work_and_a_threaded_one() {
    let burn = |args: &str| {
        CommandSpec::parse(&format!("{} {args}", env!("CARGO_BIN_EXE_bench-burn")), Shell::None).unwrap()
    };
    let c =
        compare_counts(&burn("--work 2.04"), &burn("--work 2"), &count_options(1.0), &mut |_| {}).unwrap();
    assert!(c.deterministic && c.warnings.is_empty(), "{c:?}");
    assert!((1.9..2.0).contains(&c.improvement_percent), "{}", c.improvement_percent);
    assert_eq!((c.baseline.len(), c.decision), (3, Decision::Accepted));
    let t =
        compare_counts(&burn("--work 2"), &burn("--work 2 --threads 2"), &count_options(1.0), &mut |_| {})
            .unwrap();
    assert_eq!(t.threads, (1, 2));
    assert!(t.warnings.iter().any(|w| w.contains("1 thread(s) and the candidate 2")), "{:?}", t.warnings);
    assert_ne!(t.decision, Decision::Accepted, "the same work on two threads is no fewer instructions");
}
