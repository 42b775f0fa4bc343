//! Real child processes: `bench-burn` (this crate's helper binary, a loop of known cost that
//! prints a given result), `sh` and `true`. Nothing is simulated.

use bench_command::*;
use bench_core::{Measurements, TimeMetric};
use bench_optimizations::{Decision, Design};
use bench_threshold::{AdaptivePlan, OptimizationConfig, Pairing, PerformanceThreshold};

const BURN: &str = env!("CARGO_BIN_EXE_bench-burn");

fn threshold() -> PerformanceThreshold {
    OptimizationConfig::create_default().fallback().clone()
}

fn burn(args: &str) -> CommandSpec {
    CommandSpec::parse(&format!("{BURN} {args}"), Shell::None).unwrap()
}

fn options(dir: &std::path::Path, name: &str) -> CompareOptions {
    CompareOptions { overhead_runs: 10, ..CompareOptions::new(name, threshold(), dir) }
}

fn raw_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir.join("raw_data")).map_or(0, |d| d.count())
}

#[test]
fn a_candidate_doing_15_percent_less_work_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let c =
        compare_commands(&burn("--work 20"), &burn("--work 17"), &options(dir.path(), "less"), &mut |_| {})
            .unwrap();
    let e = c.evaluation.as_ref().expect("measured");
    let q = e.adaptive.as_ref().expect("adaptive by default");
    println!(
        "15% less work: {} after {} pairs ({}), improvement {}%, bounds {}, overhead {:.3} ms",
        c.decision,
        q.pairs_used,
        q.stopped_by,
        e.improvement_percent,
        e.bound.interval_text(),
        c.overhead.as_ref().unwrap().median_seconds * 1e3
    );
    assert_eq!(c.decision, Decision::Accepted, "{}", e.decision_rationale);
    assert_eq!(c.pairing, Pairing::Interleaved);
    assert!(c.equivalence.equivalent && c.complete);
    assert_eq!(c.baseline.runs, q.pairs_used);
    // The kernel's accounting of each child: CPU time near the wall time of a single-threaded
    // loop, and a resident set.
    let cpu: f64 = c.baseline.cpu_s.iter().sum::<f64>() / c.baseline.cpu_s.len() as f64;
    let wall: f64 = c.baseline.times_s.iter().sum::<f64>() / c.baseline.times_s.len() as f64;
    assert!(cpu > 0.5 * wall && cpu <= 1.05 * wall + 0.002, "cpu {cpu} s, wall {wall} s");
    assert!(c.baseline.exit_codes.iter().all(|&x| x == Some(0)));
    assert!(c.baseline.raw_path.as_ref().unwrap().exists());
    // The same decision on CPU time.
    let cpu_options = CompareOptions { metric: TimeMetric::Cpu, ..options(dir.path(), "less_cpu") };
    let c = compare_commands(&burn("--work 20"), &burn("--work 17"), &cpu_options, &mut |_| {}).unwrap();
    assert_eq!(c.decision, Decision::Accepted, "{:?}", c.evaluation.map(|e| e.decision_rationale));
}

#[test]
fn a_faster_candidate_that_holds_64_mib_more_is_rejected_on_memory() {
    let dir = tempfile::tempdir().unwrap();
    let o = CompareOptions { design: Design::Fixed, runs: 10, ..options(dir.path(), "mem") };
    let c = compare_commands(&burn("--work 60 --alloc 4"), &burn("--work 10 --alloc 68"), &o, &mut |_| {})
        .unwrap();
    let e = c.evaluation.as_ref().unwrap();
    let m = e.memory.as_ref().expect("both sides' peaks are above this process's own, so measured");
    println!("peak RSS {} → {}: {}", m.baseline_bytes, m.candidate_bytes, e.decision_rationale);
    // The child's own peak, not this process's: the difference is the 64 MiB touched.
    let grew = m.candidate_bytes as f64 - m.baseline_bytes as f64;
    assert!((60.0..70.0).contains(&(grew / 1048576.0)), "grew by {grew} bytes");
    assert_eq!(c.decision, Decision::Rejected);
    assert!(e.failed_criteria == [bench_threshold::Criterion::Memory], "{}", e.decision_rationale);
    // A child smaller than this process: its peak is hidden by ours, said so, not compared.
    let c = compare_commands(&burn("--work 1"), &burn("--work 1"), &o, &mut |_| {}).unwrap();
    assert!(c.baseline.peak_rss_bytes.is_empty());
    assert!(
        c.warnings.iter().any(|w| w.contains("stayed below this tool's own resident set")),
        "{:?}",
        c.warnings
    );
}

#[test]
fn the_same_command_on_both_sides_is_not_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let t = threshold();
    let plan = AdaptivePlan { max_pairs: 60, ..AdaptivePlan::default_for(&t) };
    let mut accepted = 0;
    let mut pairs = 0;
    for i in 0..20 {
        let o = CompareOptions {
            design: Design::Adaptive(plan),
            seed: i,
            warmup_runs: 1,
            overhead_runs: 1,
            ..options(dir.path(), &format!("aa{i}"))
        };
        let c = compare_commands(&burn("--work 1"), &burn("--work 1"), &o, &mut |_| {}).unwrap();
        pairs += c.baseline.runs;
        if c.decision == Decision::Accepted {
            accepted += 1;
        }
    }
    println!("A/A: accepted {accepted} of 20, {:.1} pairs on average", pairs as f64 / 20.0);
    assert!(accepted <= 1, "the same command was accepted {accepted} times of 20");
}

#[test]
fn a_candidate_printing_another_result_is_blocked_and_never_timed() {
    let dir = tempfile::tempdir().unwrap();
    let c = compare_commands(
        &burn("--work 1 --print 'sharpe 1.25'"),
        &burn("--work 1 --print 'sharpe 1.26'"),
        &options(dir.path(), "blocked"),
        &mut |_| panic!("nothing is timed"),
    )
    .unwrap();
    assert_eq!(c.decision, Decision::Blocked);
    let d = c.equivalence.first_difference.as_ref().unwrap();
    assert_eq!(
        (d.line, d.baseline.as_deref(), d.candidate.as_deref()),
        (1, Some("sharpe 1.25"), Some("sharpe 1.26"))
    );
    assert!(c.evaluation.is_none() && c.candidate.times_s.is_empty() && c.candidate.raw_path.is_none());
    assert_eq!(raw_files(dir.path()), 0, "no raw data: nothing was timed");
    // Within a numeric tolerance the same outputs pass the gate.
    let o = CompareOptions {
        check: OutputCheck::Numeric(0.01),
        design: Design::Fixed,
        runs: 2,
        ..options(dir.path(), "numeric")
    };
    let c = compare_commands(
        &burn("--work 1 --print 'sharpe 1.25'"),
        &burn("--work 1 --print 'sharpe 1.26'"),
        &o,
        &mut |_| {},
    )
    .unwrap();
    assert!(c.equivalence.equivalent && c.equivalence.numbers_compared == 1, "{:?}", c.equivalence);
}

#[test]
fn a_failing_command_is_reported_with_its_status_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let e = compare_commands(
        &burn("--work 1"),
        &burn("--exit 3 --stderr 'no data for AAPL'"),
        &options(dir.path(), "fail"),
        &mut |_| {},
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(bench_core::ErrorClass::is_input_error(&e));
    assert!(
        text.contains("candidate") && text.contains("exit code 3") && text.contains("no data for AAPL"),
        "{text}"
    );
    assert!(text.contains("--ignore-failure"), "says how to go on: {text}");
    // With --ignore-failure the runs count, and their exit codes are kept.
    let o = CompareOptions {
        ignore_failure: true,
        design: Design::Fixed,
        runs: 3,
        ..options(dir.path(), "ignored")
    };
    let c = compare_commands(&burn("--work 1"), &burn("--work 1 --exit 3"), &o, &mut |_| {}).unwrap();
    assert_eq!(c.candidate.exit_codes, vec![Some(3); 3]);
    assert_eq!(c.candidate.runs, 3);
}

#[test]
fn a_pipe_runs_under_sh_and_its_whole_pipeline_is_timed() {
    let dir = tempfile::tempdir().unwrap();
    let a = CommandSpec::parse(&format!("{BURN} --work 8 --print 3 | sort -n"), Shell::Sh).unwrap();
    let b = CommandSpec::parse(&format!("{BURN} --work 2 --print 3 | cat"), Shell::Sh).unwrap();
    let o = CompareOptions { design: Design::Fixed, runs: 6, ..options(dir.path(), "pipe") };
    let c = compare_commands(&a, &b, &o, &mut |_| {}).unwrap();
    assert!(c.equivalence.equivalent);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    // The burner inside the pipe is timed (and its CPU counted, through sh's wait for it): the
    // side doing four times the work takes longer.
    assert!(
        mean(&c.baseline.times_s) > 1.5 * mean(&c.candidate.times_s),
        "{:?} vs {:?}",
        c.baseline.times_s,
        c.candidate.times_s
    );
    assert!(mean(&c.baseline.cpu_s) > 1.5 * mean(&c.candidate.cpu_s));
    assert_eq!(c.overhead.as_ref().unwrap().probe, ":");
    // Without a shell the pipe is an argument, and the words are the program's.
    let no_shell = CommandSpec::parse("echo a | sort", Shell::None).unwrap();
    assert_eq!(no_shell.argv(), ["echo", "a", "|", "sort"]);
}

#[test]
fn the_hyperfine_export_reads_as_a_hyperfine_file() {
    let dir = tempfile::tempdir().unwrap();
    let o = CompareOptions { design: Design::Fixed, runs: 5, ..options(dir.path(), "hf") };
    let c = compare_commands(&burn("--work 2 --alloc 32"), &burn("--work 1 --alloc 32"), &o, &mut |_| {})
        .unwrap();
    assert_eq!(c.candidate.peak_rss_bytes.len(), 5, "{:?}", c.warnings);
    let path = dir.path().join("hf.json");
    std::fs::write(&path, serde_json::to_string_pretty(&hyperfine_export(&c)).unwrap()).unwrap();
    for (i, side) in [(0, &c.baseline), (1, &c.candidate)] {
        let m = Measurements::read_selected(&path, Some(&i.to_string())).unwrap();
        assert_eq!(m.format, bench_core::InputFormat::Hyperfine);
        assert_eq!(m.label, side.command);
        assert_eq!(m.times.values(), side.times_s.as_slice());
        let rss = (side.peak_rss_bytes.len() == side.times_s.len()).then_some(side.peak_rss_bytes.as_slice());
        assert_eq!(m.peak_rss_bytes.as_deref(), rss);
    }
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for r in v["results"].as_array().unwrap() {
        for k in
            ["command", "mean", "stddev", "median", "user", "system", "min", "max", "times", "exit_codes"]
        {
            assert!(!r[k].is_null(), "hyperfine field {k} missing");
        }
        assert!(r["min"].as_f64() <= r["median"].as_f64() && r["median"].as_f64() <= r["max"].as_f64());
    }
}

#[test]
fn a_saved_baseline_compared_later_is_not_interleaved() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("baselines");
    let o = CompareOptions { design: Design::Fixed, runs: 10, ..options(dir.path(), "saved") };
    let (check, suite, _) = measure_command(&burn("--work 10"), &o, &mut |_| {}).unwrap();
    let saved = SavedBaseline::save(
        &store,
        "before",
        &format!("{BURN} --work 10"),
        Shell::None,
        &suite.raw,
        &check.stdout,
        "2026-11-30T00:00:00Z",
    )
    .unwrap();
    assert_eq!(saved.raw.runs.len(), 10);
    assert_eq!(SavedBaseline::list(&store), ["before"]);
    let loaded = SavedBaseline::load(&store, "before").unwrap();
    let c = compare_with_saved(&loaded, &burn("--work 5"), &o, &mut |_| {}).unwrap();
    assert_eq!(c.pairing, Pairing::NotInterleaved);
    let e = c.evaluation.as_ref().unwrap();
    assert_eq!(e.pairing, Pairing::NotInterleaved, "Welch's test");
    assert!(c.warnings.iter().any(|w| w.starts_with("not interleaved")), "{:?}", c.warnings);
    assert_eq!(c.decision, Decision::Accepted, "{}", e.decision_rationale);
    // The gate compares with the saved output.
    let c = compare_with_saved(&loaded, &burn("--work 5 --print other"), &o, &mut |_| {}).unwrap();
    assert_eq!(c.decision, Decision::Blocked);
    // Saving again under the name replaces it whole.
    SavedBaseline::save(&store, "before", "x", Shell::None, &suite.raw, b"new\n", "2026-12-01T00:00:00Z")
        .unwrap();
    assert_eq!(SavedBaseline::load(&store, "before").unwrap().stdout, b"new\n");
    assert_eq!(std::fs::read_dir(&store).unwrap().count(), 1, "no scratch directories left behind");
}

#[test]
fn bad_input_is_refused_with_a_way_to_fix_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = |r: Result<CommandSpec, CommandError>| {
        let e = r.unwrap_err();
        assert!(bench_core::ErrorClass::is_input_error(&e));
        e.to_string()
    };
    assert!(input(CommandSpec::parse("", Shell::None)).contains("empty command"));
    assert!(input(CommandSpec::parse("echo 'open", Shell::None)).contains("quote is not closed"));
    assert!(input(CommandSpec::parse("echo (", Shell::Sh)).contains("syntax error"));
    let o = options(dir.path(), "bad");
    let e = compare_commands(
        &CommandSpec::parse("no-such-program-xyz --flag", Shell::None).unwrap(),
        &burn(""),
        &o,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("no program \"no-such-program-xyz\" was found on PATH"), "{e}");
    let e = compare_commands(
        &CommandSpec::parse("no-such-program-xyz", Shell::Sh).unwrap(),
        &burn(""),
        &o,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("exit code 127"), "sh's 'not found': {e}");
    let e = SavedBaseline::load(&dir.path().join("baselines"), "nope").unwrap_err();
    assert!(
        e.to_string().contains("no saved baseline named \"nope\"")
            && e.to_string().contains("--save-baseline nope"),
        "{e}"
    );
    assert!(SavedBaseline::load(dir.path(), "../x").unwrap_err().to_string().contains("baseline name"));
    let binary = CommandSpec::parse("printf '\\377\\n'", Shell::Sh).unwrap();
    let o = CompareOptions { check: OutputCheck::Numeric(1e-9), ..options(dir.path(), "bin") };
    let e = compare_commands(&binary, &binary, &o, &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("not UTF-8") && e.to_string().contains("--check-output exact"), "{e}");
    assert_eq!(raw_files(dir.path()), 0, "nothing half-written");
    assert!("numeric:x".parse::<OutputCheck>().is_err() && "numeric:-1".parse::<OutputCheck>().is_err());
}

#[test]
fn the_harness_cost_per_run_is_measured() {
    let o = harness_overhead(Shell::None, 20).unwrap();
    println!(
        "spawn → reap of `true`: median {:.3} ms, fastest {:.3} ms",
        o.median_seconds * 1e3,
        o.min_seconds * 1e3
    );
    assert!(o.min_seconds > 0.0 && o.min_seconds <= o.median_seconds && o.median_seconds < 0.1);
    assert_eq!((o.runs, o.probe.as_str()), (20, "true"));
    // An independent measurement of the same thing, interleaved with the harness's own: spawn
    // and wait for `true` with std::process, timed here. The harness's median must be the same
    // cost, within a factor of three either way on a noisy machine (a harness that timed
    // nothing, or the wrong thing such as the whole 20-run loop, falls outside).
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..5 {
        theirs.push(harness_overhead(Shell::None, 10).unwrap().median_seconds);
        for _ in 0..10 {
            let t0 = std::time::Instant::now();
            let status = std::process::Command::new("true").status().unwrap();
            ours.push(t0.elapsed().as_secs_f64());
            assert!(status.success());
        }
    }
    ours.sort_by(f64::total_cmp);
    theirs.sort_by(f64::total_cmp);
    let (mine, harness) = (ours[ours.len() / 2], theirs[theirs.len() / 2]);
    println!(
        "independent spawn → wait of `true`: median {:.3} ms; harness {:.3} ms",
        mine * 1e3,
        harness * 1e3
    );
    assert!(harness > mine / 3.0 && harness < mine * 3.0, "harness {harness} s vs independent {mine} s");
}

/// Just under the threshold, for real: `--work 3.84` does 4% less work than `--work 4`, and the
/// process start-up both pay makes the true improvement of mean time smaller still. Ten adaptive
/// comparisons of real child processes: none may be accepted (the strict rule accepts a
/// candidate at the threshold at most α of the time, and this one is below it).
#[test]
fn a_candidate_just_under_the_threshold_is_not_accepted_in_ten_real_comparisons() {
    let dir = tempfile::tempdir().unwrap();
    let mut tally = std::collections::BTreeMap::new();
    for i in 0..10 {
        let c = compare_commands(
            &burn("--work 4"),
            &burn("--work 3.84"),
            &options(dir.path(), &format!("under{i}")),
            &mut |_| {},
        )
        .unwrap();
        let e = c.evaluation.as_ref().expect("measured");
        let q = e.adaptive.as_ref().expect("adaptive by default");
        println!(
            "4% less work, comparison {i}: {} after {} pairs, estimate {}%, bounds {}",
            c.decision,
            q.pairs_used,
            e.improvement_percent,
            e.bound.interval_text()
        );
        assert_ne!(c.decision, Decision::Accepted, "{}", e.decision_rationale);
        *tally.entry(c.decision.label()).or_insert(0) += 1;
    }
    println!("just under the threshold, 10 real comparisons: {tally:?}");
}

/// A suite's warning says whose runs it is about: a baseline sleeping 10–90 ms at random
/// beside a steady 50-ms candidate.
#[test]
fn a_high_variability_warning_names_its_side() {
    let dir = tempfile::tempdir().unwrap();
    let jumpy =
        CommandSpec::parse("n=$(od -An -N1 -tu1 /dev/urandom); sleep 0.0$((n % 9 + 1))", Shell::Sh).unwrap();
    let steady = CommandSpec::parse("sleep 0.05", Shell::Sh).unwrap();
    let o = CompareOptions { design: Design::Fixed, runs: 8, warmup_runs: 1, ..options(dir.path(), "jumpy") };
    let c = compare_commands(&jumpy, &steady, &o, &mut |_| {}).unwrap();
    assert!(c.warnings.iter().any(|w| w.starts_with("baseline: high variability")), "{:?}", c.warnings);
    assert!(!c.warnings.iter().any(|w| w.contains("candidate: high variability")), "{:?}", c.warnings);
}
