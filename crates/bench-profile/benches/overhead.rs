//! What each profiler costs, measured on the grid-search workload of bench-workloads: every
//! profiled run is paired with an unprofiled run of the same workload in the same process,
//! interleaved in ABBA order, and the overhead is the mean paired ratio with its 95% CI.
//! Also: the harness overhead of a benchmark suite per run, and the effective sample rate.
//!
//! Where `perf` is installed, `perf record` itself is measured the same way at the same rate
//! (started disabled, enabled through its control FIFO just before the timed run), as the cost
//! of the kernel's sampling on this machine that any sampler pays.
//!
//! `cargo bench -p bench-profile --bench overhead [-- PAIRS [CHEAP_PAIRS]]` (default 20 pairs,
//! and 3 × PAIRS for the RSS sampler and the counting allocator, whose overheads are small
//! beside the run-to-run noise).

#![allow(clippy::print_stdout)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use bench_core::Sample;
use bench_measure::*;
use bench_profile::cpu::SamplerChoice;
use bench_profile::*;
use bench_workloads::*;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn workload(step: LadderStep, dir: &Path) -> impl Fn() -> u64 {
    let real = load_csv(&bundled_csv_path()).expect("bundled data");
    let spec = WorkloadSpec {
        kind: WorkflowKind::GridSearch,
        data: DataSource::Bundled,
        combinations: None,
        workers: 2,
    };
    let w =
        PreparedWorkload::prepare(&spec, &real, &dir.join(format!("{}.bin", step.name()))).expect("workload");
    let opts = step.optimizations();
    move || w.run(opts).expect("runs").bar_evaluations()
}

fn time(f: &mut dyn FnMut()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

/// Mean of profiled/plain − 1 over ABBA-interleaved pairs, with a 95% CI, in percent.
fn overhead(pairs: usize, plain: &dyn Fn(), profiled: &mut dyn FnMut()) -> (f64, f64, f64) {
    overhead_timed(pairs, plain, &mut || time(profiled))
}

/// As [`overhead`], for a profiled side that times itself (seconds).
fn overhead_timed(pairs: usize, plain: &dyn Fn(), profiled: &mut dyn FnMut() -> f64) -> (f64, f64, f64) {
    // Warm-up of both.
    plain();
    profiled();
    let mut ratios = Vec::with_capacity(pairs);
    for order in abba_schedule(pairs, 11) {
        let (mut a, mut b) = (0.0, 0.0);
        for side in order {
            match side {
                Side::Baseline => a = time(&mut || plain()),
                Side::Candidate => b = profiled(),
            }
        }
        ratios.push(b / a - 1.0);
    }
    let s = Sample::new(ratios).expect("≥ 2 pairs");
    let ci = bench_stats::confidence_interval(&s, 0.95).expect("ci");
    (ci.mean * 100.0, ci.lower * 100.0, ci.upper * 100.0)
}

/// Whether `perf` can be run.
fn perf_installed() -> bool {
    Command::new("perf").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Times `run` while `perf record` samples this process at `hz` with call chains: perf starts
/// with its events disabled and is enabled through its control FIFO (acknowledged) just before
/// the timed run and disabled just after, so its start-up and its writing of the file are not
/// in the time.
fn under_perf_record(run: &dyn Fn(), hz: u32, dir: &Path) -> f64 {
    let (ctl, ack) = (dir.join("perf-ctl.fifo"), dir.join("perf-ack.fifo"));
    for fifo in [&ctl, &ack] {
        let _ = std::fs::remove_file(fifo);
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: mkfifo reads a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo {}", fifo.display());
    }
    let mut perf = Command::new("perf")
        .args(["record", "-q", "-e", "task-clock", "-F", &hz.to_string(), "-g", "--no-buildid", "-D", "-1"])
        .arg("--control")
        .arg(format!("fifo:{},{}", ctl.display(), ack.display()))
        .arg("-p")
        .arg(std::process::id().to_string())
        .arg("-o")
        .arg(dir.join("perf.data"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("perf record");
    let mut ctl_w = std::fs::OpenOptions::new().write(true).open(&ctl).expect("control FIFO");
    let mut ack_r = BufReader::new(std::fs::File::open(&ack).expect("ack FIFO"));
    let mut command = |c: &str| {
        ctl_w.write_all(c.as_bytes()).expect("perf control");
        let mut line = String::new();
        ack_r.read_line(&mut line).expect("perf ack");
        // perf writes the terminating NUL of "ack\n" too.
        let answer = line.trim_matches(|ch: char| ch == '\0' || ch.is_whitespace());
        assert_eq!(answer, "ack", "perf answered {line:?} to {c:?}");
    };
    command("enable\n");
    let seconds = time(&mut || run());
    command("disable\n");
    // SAFETY: kill sends a signal to the child started above.
    unsafe { libc::kill(perf.id() as i32, libc::SIGINT) };
    let status = perf.wait().expect("perf record ends");
    assert!(
        status.success() || status.code() == Some(130) || status.code().is_none(),
        "perf record: {status}"
    );
    seconds
}

/// Median wall time of `n` calls of `f`, in microseconds.
fn median_us(n: usize, f: &mut dyn FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[n / 2]
}

fn main() {
    let numbers: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let pairs = numbers.first().copied().unwrap_or(20);
    let cheap_pairs = numbers.get(1).copied().unwrap_or(3 * pairs);
    let with_perf = perf_installed();
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "Profiler overhead on the grid-search workload (bundled data, 450 backtests, 2 workers), {pairs} ABBA pairs each ({cheap_pairs} for the RSS sampler and the counting allocator)"
    );
    if !with_perf {
        println!("(perf is not installed: the perf record reference row is left out)");
    }
    println!();
    println!("| ladder step | profiler | overhead (mean) | 95% CI |");
    println!("|---|---|---:|---|");
    let mut plain_ms = Vec::new();
    for step in [LadderStep::Baseline, LadderStep::PrefixSums] {
        let run = workload(step, dir.path());
        let plain = || {
            std::hint::black_box(run());
        };
        plain_ms.push((step, median_us(21, &mut || plain()) / 1e3));
        let row = |name: &str, (m, lo, hi): (f64, f64, f64)| {
            println!("| {} | {name} | {m:+.2}% | [{lo:+.2}%, {hi:+.2}%] |", step.name())
        };
        row(
            "cpu, perf-event (4000 Hz)",
            overhead(pairs, &plain, &mut || {
                let _ = cpu::profile_cpu_with(&run, 4000, SamplerChoice::PerfEvent).expect("cpu profile");
            }),
        );
        if with_perf {
            row(
                "perf record -F 4000 -g (reference, in-run only)",
                overhead_timed(pairs, &plain, &mut || under_perf_record(&plain, 4000, dir.path())),
            );
        }
        row(
            "cpu, SIGPROF (997 Hz)",
            overhead(pairs, &plain, &mut || {
                let _ = cpu::profile_cpu_with(&run, 997, SamplerChoice::Sigprof).expect("cpu profile");
            }),
        );
        row(
            "spans (INFO)",
            overhead(pairs, &plain, &mut || {
                let _ = spans::profile_spans(&run, tracing::Level::INFO).expect("spans");
            }),
        );
        row(
            "RSS sampler (0.1 s)",
            overhead(cheap_pairs, &plain, &mut || {
                let _ = memory::profile_memory(&run, None).expect("memory");
            }),
        );
        // The counting allocator is always installed here; its cost is counting on vs off.
        set_heap_counting(false);
        let uncounted = || {
            std::hint::black_box(run());
        };
        let counted = overhead(cheap_pairs, &uncounted, &mut || {
            set_heap_counting(true);
            std::hint::black_box(run());
            set_heap_counting(false);
        });
        set_heap_counting(true);
        row("counting allocator", counted);
        let dhat_pairs = if step == LadderStep::Baseline { 3 } else { 6 };
        let dhat_file = dir.path().join("dhat.json");
        row(
            &format!("dhat deep mode ({dhat_pairs} pairs)"),
            overhead(dhat_pairs, &plain, &mut || {
                let _ = memory::profile_memory(&run, Some(&dhat_file)).expect("dhat");
            }),
        );
    }
    println!();
    for (step, ms) in plain_ms {
        println!("Unprofiled run of the {} step: {ms:.2} ms (median of 21).", step.name());
    }
    // What a percentage above is made of on a short run: each profiler's fixed cost per
    // profiled call, measured around a no-op.
    println!();
    println!("Fixed cost per profiled call (the profiler around a no-op, median of 101 calls):");
    println!();
    println!("| profiler | fixed cost |");
    println!("|---|---:|");
    let noop = || std::hint::black_box(0u64);
    let fixed = [
        (
            "cpu, perf-event (4000 Hz)",
            median_us(101, &mut || {
                drop(cpu::profile_cpu_with(noop, 4000, SamplerChoice::PerfEvent).expect("cpu"))
            }),
        ),
        (
            "cpu, SIGPROF (997 Hz)",
            median_us(101, &mut || {
                drop(cpu::profile_cpu_with(noop, 997, SamplerChoice::Sigprof).expect("cpu"))
            }),
        ),
        (
            "spans (INFO)",
            median_us(101, &mut || drop(spans::profile_spans(noop, tracing::Level::INFO).expect("spans"))),
        ),
        (
            "RSS sampler (0.1 s)",
            median_us(101, &mut || drop(memory::profile_memory(noop, None).expect("memory"))),
        ),
    ];
    for (name, us) in fixed {
        println!("| {name} | {us:.1} µs |");
    }
    // Effective sample rate on a long multi-threaded run, for each sampler.
    let run = workload(LadderStep::Baseline, dir.path());
    println!();
    for (choice, hz) in [(SamplerChoice::PerfEvent, 4000), (SamplerChoice::Sigprof, 997)] {
        let (_, p) = cpu::profile_cpu_with(
            || {
                let t = Instant::now();
                while t.elapsed().as_secs_f64() < 10.0 {
                    run();
                }
            },
            hz,
            choice,
        )
        .expect("cpu");
        println!(
            "CPU sampler {}: {hz} Hz requested, {} samples over {} CPU-seconds → effective {} Hz, {} lost (10 s of the 2-worker rayon workload)",
            p.sampler.describe(),
            p.samples,
            p.cpu_seconds,
            p.effective_hz,
            p.lost_samples
        );
    }
    // Harness overhead per suite run: a suite of no-op runs.
    for measure_rss in [true, false] {
        let config = SuiteConfig {
            warmup_runs: 0,
            measure_rss,
            ..SuiteConfig::new(20_000, "noop", "harness", Default::default(), dir.path()).expect("config")
        };
        let t = Instant::now();
        let out = run_benchmark_suite(|| std::hint::black_box(0u64), &config).expect("suite");
        let total = t.elapsed().as_secs_f64();
        let measured: f64 = out.raw.runs.iter().map(|r| r.wall_ns as f64 / 1e9).sum();
        let n = out.raw.runs.len() as f64;
        println!(
            "Harness overhead per suite run with per-run RSS {}: {:.2} µs (everything but the workload, over {} no-op runs; the suite's fixed costs — fingerprint, file write — included)",
            if measure_rss { "on" } else { "off" },
            (total - measured) / n * 1e6,
            n
        );
    }
}
