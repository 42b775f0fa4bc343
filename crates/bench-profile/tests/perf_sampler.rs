//! The perf-event sampler on a workload of known split (measured independently with the
//! thread CPU clock), its rate, its SIGPROF fallback, its Firefox Profiler file and its sampled
//! line table against the line probes.

#![allow(clippy::print_stdout)] // a test says why it could not check perf events

use std::path::Path;

use bench_core::RunId;
use bench_measure::sys::thread_cpu_ns;
use bench_profile::cpu::{self, SamplerChoice, SamplerKind};
use bench_profile::*;

mod common;
use common::dominant_line;

/// The sampler sees every thread of this binary: the tests here run one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

#[inline(never)]
fn burn_seventy(n: u64) -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..n {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i) ^ (x >> 29);
    }
    std::hint::black_box(x)
}

#[inline(never)]
fn burn_thirty(n: u64) -> u64 {
    let mut x = 0xD1B5_4A32_D192_ED03u64;
    for i in 0..n {
        x = x.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(i) ^ (x >> 31);
    }
    std::hint::black_box(x)
}

/// The lock of [`alone`] when perf events can be opened. They are expected to work here (root
/// on Linux, as CI runs); elsewhere the test says why it cannot check them (and returns), unless
/// `CI` is set, where that is a failure.
fn alone_with_perf() -> Option<std::sync::MutexGuard<'static, ()>> {
    let guard = alone();
    match cpu::profile_cpu_with(|| (), 100, SamplerChoice::PerfEvent) {
        Ok(_) => Some(guard),
        // A refused perf_event_open fails the test unless the skip is asked for by name: a
        // test that cannot run must not pass silently.
        Err(e) if std::env::var_os("BENCH_SKIP_PERF").is_some() => {
            println!("SKIPPED (BENCH_SKIP_PERF is set): perf events cannot be opened here ({e})");
            None
        }
        Err(e) => panic!(
            "perf events cannot be opened here ({e}). Run as root or lower kernel.perf_event_paranoid, or set BENCH_SKIP_PERF=1 to skip the four perf-event tests knowingly (the SIGPROF fallback test still runs)"
        ),
    }
}

#[test]
fn a_known_70_30_split_is_measured_within_its_sampling_error_at_4_khz() {
    let Some(_alone) = alone_with_perf() else { return };
    // Alternate 0.7 : 0.3 of the work for three CPU-seconds, timing each function's share with
    // the thread CPU clock (the independent truth the samples are compared with); each call
    // runs long enough (about a millisecond for both) that the clock's own cost is negligible.
    let work = || {
        let (mut a, mut b) = (0u64, 0u64);
        let start = thread_cpu_ns();
        while thread_cpu_ns() - start < 3_000_000_000 {
            let t0 = thread_cpu_ns();
            burn_seventy(700_000);
            let t1 = thread_cpu_ns();
            burn_thirty(300_000);
            let t2 = thread_cpu_ns();
            a += t1 - t0;
            b += t2 - t1;
        }
        (a, b)
    };
    let ((a, b), p) = cpu::profile_cpu_with(work, cpu::DEFAULT_FREQUENCY_HZ, SamplerChoice::Auto).unwrap();
    assert_eq!(p.sampler, SamplerKind::PerfEvent, "fallback: {:?}", p.fallback_reason);
    // Inclusive samples: the functions do not call each other, and what is inlined into them
    // (`u64::wrapping_mul`) is theirs.
    let own =
        |name: &str| p.functions.iter().find(|f| f.function.ends_with(name)).map_or(0, |f| f.total_samples);
    let (sa, sb) = (own("burn_seventy"), own("burn_thirty"));
    let truth = a as f64 / (a + b) as f64 * 100.0;
    let sampled = sa as f64 / (sa + sb) as f64 * 100.0;
    let effective = bench_core::to_f64(p.effective_hz);
    println!(
        "true split {truth:.2}% (thread CPU clock), sampled {sampled:.2}% of {} samples in the two functions; {} samples, effective {effective:.0} Hz, lost {}",
        sa + sb,
        p.samples,
        p.lost_samples
    );
    // Every sample is counted once, whatever lines its stack ran.
    assert_eq!(p.samples, p.timeline.samples.iter().map(|s| s.weight).sum::<u64>());
    assert_eq!(p.samples, p.stacks.total());
    assert!((truth - 70.0).abs() < 5.0, "the workload's own split is {truth:.2}%");
    // A sample lands in one function or the other like a coin of bias `truth`: its standard
    // error over n samples is √(p(1−p)/n) (0.74 points at one CPU-second, where a fixed
    // one-point tolerance failed about one run in six). Four standard errors (≈ 1.7 points at
    // three CPU-seconds) fail a correct sampler about once in 16,000 runs; a sampler biased by
    // two points still fails.
    let n = (sa + sb) as f64;
    let tolerance = 4.0 * (truth / 100.0 * (1.0 - truth / 100.0) / n).sqrt() * 100.0;
    assert!(tolerance < 2.0, "{n} samples give a {tolerance:.2}-point tolerance");
    assert!(
        (sampled - truth).abs() <= tolerance,
        "sampled {sampled:.2}% vs true {truth:.2}% (tolerance {tolerance:.2} points, 4 standard errors of {n} samples)"
    );
    assert!(effective >= 3500.0, "effective rate {effective:.0} Hz at 4,000 requested");

    // Sampled line attribution: the loop body is where the function's samples land.
    let lines = p.sampled_lines("burn_seventy");
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/perf_sampler.rs")).unwrap();
    let top = &lines[0];
    let text = source.lines().nth(top.line as usize - 1).unwrap_or("");
    println!("burn_seventy's sampled lines: {lines:?}");
    assert!(
        top.file.ends_with("perf_sampler.rs") && text.contains("wrapping_mul"),
        "top line {top:?}: {text:?}"
    );
    assert!(top.percent > 50.0, "{top:?}");

    // The Firefox Profiler file: a processed profile with this thread's samples and the
    // functions' names.
    let json: serde_json::Value = serde_json::from_slice(&p.to_firefox_profile("test").unwrap()).unwrap();
    assert!(json["meta"]["version"].as_u64().is_some(), "{}", json["meta"]);
    let threads = json["threads"].as_array().unwrap();
    let in_tracks: u64 = threads.iter().map(|t| t["samples"]["length"].as_u64().unwrap_or(0)).sum();
    assert_eq!(in_tracks, p.samples, "every sample is on a thread's track");
    let strings = json["shared"]["stringArray"].as_array().or(threads[0]["stringArray"].as_array()).unwrap();
    assert!(strings.iter().any(|s| s.as_str().is_some_and(|s| s.ends_with("burn_seventy"))));
}

#[test]
fn without_perf_events_the_sigprof_sampler_runs_and_says_why() {
    let _alone = alone();
    // SAFETY: the tests of this binary run one at a time (the lock above) and nothing else
    // reads the environment meanwhile.
    unsafe { std::env::set_var(cpu::PERF_EVENTS_ENV, "off") };
    let auto = cpu::profile_cpu(|| burn_seventy(50_000_000), cpu::DEFAULT_FREQUENCY_HZ);
    let forced = cpu::profile_cpu_with(|| (), 100, SamplerChoice::PerfEvent);
    // SAFETY: as above.
    unsafe { std::env::remove_var(cpu::PERF_EVENTS_ENV) };
    let (_, p) = auto.unwrap();
    assert_eq!(p.sampler, SamplerKind::Sigprof);
    let why = p.fallback_reason.clone().unwrap();
    assert!(why.contains("BENCH_PERF_EVENTS=off"), "{why}");
    assert!(p.samples > 0 && p.functions.iter().any(|f| f.function.ends_with("burn_seventy")));
    println!("fallback: {} samples, effective {} Hz, because {why}", p.samples, p.effective_hz);
    let e = forced.unwrap_err().to_string();
    assert!(e.contains("perf-event sampler") && e.contains("BENCH_PERF_EVENTS=off"), "{e}");
}

#[test]
fn sampled_lines_agree_with_the_line_probes_on_the_hot_line() {
    let Some(_alone) = alone_with_perf() else { return };
    let dir = tempfile::tempdir().unwrap();
    let options = ProfileOptions {
        source_root: Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
        ..Default::default()
    };
    let work = || (0..50).map(|_| dominant_line(200_000)).sum::<f64>();
    let (_, probed) = profile_workflow(
        work,
        &ProfileKind::Lines { function: "dominant_line".into() },
        dir.path(),
        &RunId::new("probed").unwrap(),
        &options,
    )
    .unwrap();
    let ProfileMetrics::Lines(r) = probed.metrics else { panic!("lines") };
    let probe_top = r.ranked()[0].clone();
    let (_, sampled) =
        profile_workflow(work, &ProfileKind::Cpu, dir.path(), &RunId::new("sampled").unwrap(), &options)
            .unwrap();
    let ProfileMetrics::Cpu(p) = sampled.metrics else { panic!("cpu") };
    let lines = p.sampled_lines("dominant_line");
    println!("probed top line {} ({:?}%): {:?}", probe_top.line, probe_top.percent, probe_top.contents);
    println!("sampled: {lines:?}");
    assert_eq!(lines[0].line, probe_top.line, "the sampled and probed hot lines differ");
    assert!(lines[0].percent > 80.0 && probe_top.percent.unwrap() > 80.0);
    // The CPU profile's files: the Firefox profile and the hot functions' line tables.
    let hot: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sampled_cpu_lines.json")).unwrap())
            .unwrap();
    assert!(
        hot["profile"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["function"].as_str().unwrap().ends_with("dominant_line")),
        "{hot}"
    );
    assert!(dir.path().join("sampled_cpu.profile.json").exists());
}

/// The events are opened once per process: a thread started between two profiles inherits
/// them (disabled) and is sampled by the next profile, once per tick (not twice, as it would
/// be if it also got events of its own); and after [`cpu::release_perf_events`] a profile opens
/// them again.
#[test]
fn a_thread_started_between_profiles_is_sampled_once() {
    let Some(_alone) = alone_with_perf() else { return };
    // The events exist now (opened at 100 Hz by the check above); profile at 4 kHz so they are
    // opened at that rate, then start the thread.
    cpu::profile_cpu_with(|| (), cpu::DEFAULT_FREQUENCY_HZ, SamplerChoice::PerfEvent).unwrap();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<u64>();
    let worker = std::thread::Builder::new()
        .name("late-worker".into())
        .spawn(move || {
            for () in go_rx {
                let start = thread_cpu_ns();
                while thread_cpu_ns() - start < 300_000_000 {
                    burn_seventy(100_000);
                }
                done_tx.send(thread_cpu_ns() - start).unwrap();
            }
        })
        .unwrap();
    let run = || {
        go_tx.send(()).unwrap();
        done_rx.recv().unwrap()
    };
    let (busy_ns, p) =
        cpu::profile_cpu_with(run, cpu::DEFAULT_FREQUENCY_HZ, SamplerChoice::PerfEvent).unwrap();
    let tid = p.timeline.threads.iter().find(|(_, name)| name == "late-worker").map(|(t, _)| *t);
    let on_worker: u64 = p.timeline.samples.iter().filter(|s| Some(s.tid) == tid).map(|s| s.weight).sum();
    let expected = busy_ns as f64 / 1e9 * f64::from(cpu::DEFAULT_FREQUENCY_HZ);
    println!(
        "late thread: {on_worker} samples for {:.3} CPU-s ({expected:.0} expected)",
        busy_ns as f64 / 1e9
    );
    assert!(
        (0.8..1.2).contains(&(on_worker as f64 / expected)),
        "{on_worker} samples of the late thread, {expected:.0} expected at {} Hz",
        cpu::DEFAULT_FREQUENCY_HZ
    );
    assert!(cpu::release_perf_events());
    let (busy_ns, p) =
        cpu::profile_cpu_with(run, cpu::DEFAULT_FREQUENCY_HZ, SamplerChoice::PerfEvent).unwrap();
    let expected = busy_ns as f64 / 1e9 * f64::from(cpu::DEFAULT_FREQUENCY_HZ);
    println!("after release: {} samples for {expected:.0} expected", p.samples);
    assert!(
        (0.8..1.3).contains(&(p.samples as f64 / expected)),
        "{} samples, {expected:.0} expected",
        p.samples
    );
    drop(go_tx);
    worker.join().unwrap();
}

/// A child process started during a profile is not sampled: its addresses mean nothing in
/// this process's code.
#[test]
fn a_child_process_is_not_sampled() {
    let Some(_alone) = alone_with_perf() else { return };
    let child = || {
        let t = std::time::Instant::now();
        let status = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"])
            .status()
            .unwrap();
        assert!(status.success());
        t.elapsed().as_secs_f64()
    };
    let (wall, p) =
        cpu::profile_cpu_with(child, cpu::DEFAULT_FREQUENCY_HZ, SamplerChoice::PerfEvent).unwrap();
    let if_sampled = wall * f64::from(cpu::DEFAULT_FREQUENCY_HZ);
    println!(
        "{} samples while a child process ran for {wall:.3} s ({if_sampled:.0} if it were sampled)",
        p.samples
    );
    assert!(wall > 0.05, "the child ran {wall:.3} s: too short to tell");
    assert!((p.samples as f64) < if_sampled * 0.05, "{} samples: the child was sampled", p.samples);
}
