//! The perf-event sampler: the kernel's software `task-clock` event (an hrtimer, so not capped by
//! the scheduler tick as SIGPROF is) samples every thread of the process at a fixed period of its
//! CPU time and records the user call chain itself, from frame pointers, into one mmap ring per
//! event. Nothing runs inside the sampled threads: a reader thread copies the records out of the
//! rings every 10 ms.
//!
//! Coverage: one event per (thread, CPU) for every thread that exists when the profile starts,
//! each with `inherit`, so threads those threads create later (a rayon pool started inside the
//! profile) are sampled too, into the ring of the event they inherited. The reader thread itself
//! is started first and left out. A thread created in the instant between listing the threads
//! and opening its parent's events is missed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use perf_event::data::Record;
use perf_event::events::Software;
use perf_event::{Builder, Clock, SampleFlag, Sampler};

use super::sampler::{RawProfile, RawSample};

/// Call-chain entries at or above this are context markers (`PERF_CONTEXT_USER`, …), not
/// addresses.
const PERF_CONTEXT_MAX: u64 = -4095i64 as u64;
/// Bytes of each event's ring (a power of two): 256 KiB holds about 500 samples of a 30-frame
/// stack and its 256-byte stack copy, 125 ms at 4 kHz (an event's ring receives the samples of
/// its thread and the threads that inherited it on one CPU: at most one running at a time).
const RING_BYTES: usize = 1 << 18;
/// How often the reader drains the rings: a tenth of the time a ring holds at 4 kHz. Every
/// wake-up takes a core from the profiled threads for a moment (on a 2-core machine running 2
/// workers, 1,000 wake-ups a second cost several percent); 100 a second do not.
const DRAIN_EVERY: Duration = Duration::from_millis(10);
/// x86-64 `perf_regs` indices of the registers each sample keeps: rbp, rsp, rip.
const REGS_MASK: u64 = (1 << 6) | (1 << 7) | (1 << 8);
/// Bytes of user stack each sample copies, from the stack pointer: enough to find the return
/// address of a frameless leaf (the SIGPROF sampler's recovery, done here on the copy).
const STACK_BYTES: u32 = 256;
/// Set to `off` (or `0`) to make the perf-event sampler refuse to start, so the SIGPROF fallback
/// runs; for testing the fallback and for comparing the two samplers.
pub const DISABLE_ENV: &str = "BENCH_PERF_EVENTS";

/// The kernel's ceiling on a sampling event's rate, `/proc/sys/kernel/perf_event_max_sample_rate`.
pub(crate) fn max_sample_rate() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/kernel/perf_event_max_sample_rate").ok()?.trim().parse().ok()
}

/// What the reader collected.
#[derive(Debug, Default)]
struct Collected {
    samples: Vec<RawSample>,
    lost: u64,
    reader_cpu_ns: u64,
}

/// A running perf-event profile.
pub(crate) struct Session {
    stop: Arc<AtomicBool>,
    reader: std::thread::JoinHandle<Collected>,
}

/// A finished perf-event profile.
pub(crate) struct Finished {
    pub profile: RawProfile,
    /// Samples the kernel dropped because a ring was full.
    pub lost: u64,
    /// CPU time of the reader thread (not sampled), nanoseconds.
    pub reader_cpu_ns: u64,
}

fn gettid() -> i32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

fn thread_name(tid: u32) -> String {
    std::fs::read_to_string(format!("/proc/self/task/{tid}/comm"))
        .map(|s| s.trim_end().to_owned())
        .unwrap_or_else(|_| format!("thread-{tid}"))
}

fn drain(s: &mut Sampler, out: &mut Collected, names: &mut HashMap<u32, String>) {
    while let Some(rec) = s.next_record() {
        match rec.parse_record() {
            Ok(Record::Sample(smp)) => {
                let mut frames: Vec<u64> = smp
                    .callchain()
                    .unwrap_or(&[])
                    .iter()
                    .copied()
                    .filter(|&a| a < PERF_CONTEXT_MAX)
                    .collect();
                if let (Some(regs), Some(stack)) = (smp.regs_user(), smp.stack_user())
                    && let [bp, sp, _ip] = regs.regs[..]
                {
                    let candidates = super::sampler::stack_candidates(stack, sp, bp);
                    let top =
                        stack.get(..8).map_or(0, |w| u64::from_ne_bytes(w.try_into().expect("8 bytes")));
                    if let Some(r) = super::sampler::recovered_caller(&frames, top, &candidates) {
                        frames.insert(1, r);
                    }
                }
                let frames = if frames.is_empty() {
                    smp.ip().filter(|&ip| ip < 1 << 63).into_iter().collect()
                } else {
                    frames
                };
                if frames.is_empty() {
                    continue;
                }
                let tid = smp.tid().unwrap_or(0);
                let thread = names.entry(tid).or_insert_with(|| thread_name(tid)).clone();
                // x86-64 kernel addresses are the upper half.
                let in_kernel = smp.ip().is_some_and(|ip| ip >= 1 << 63);
                out.samples.push(RawSample {
                    frames,
                    thread,
                    tid: u64::from(tid),
                    time_ns: smp.time().unwrap_or(0),
                    in_kernel,
                });
            }
            Ok(Record::Lost(l)) => out.lost += l.lost,
            _ => {}
        }
    }
}

/// Why perf events cannot be used here, when the user or a test turned them off.
fn disabled_by_env() -> Option<String> {
    let v = std::env::var(DISABLE_ENV).ok()?;
    matches!(v.trim(), "off" | "0" | "false" | "no").then(|| format!("{DISABLE_ENV}={v}"))
}

impl Session {
    /// Opens the events at `frequency_hz` samples per CPU-second of each thread and starts them.
    pub(crate) fn start(frequency_hz: u32) -> Result<Self, String> {
        if let Some(why) = disabled_by_env() {
            return Err(format!("perf events turned off by {why}"));
        }
        if let Some(max) = max_sample_rate()
            && u64::from(frequency_hz) > max
        {
            return Err(format!(
                "{frequency_hz} Hz is above the kernel's perf_event_max_sample_rate ({max} Hz)"
            ));
        }
        let period = (1e9 / f64::from(frequency_hz.max(1))).round() as u64;
        let stop = Arc::new(AtomicBool::new(false));
        let (tid_tx, tid_rx) = mpsc::channel::<i32>();
        let (rings_tx, rings_rx) = mpsc::channel::<Vec<Sampler>>();
        let stop_reader = Arc::clone(&stop);
        let reader = std::thread::Builder::new()
            .name("perf-reader".into())
            .spawn(move || {
                let _ = tid_tx.send(gettid());
                let mut out = Collected::default();
                let Ok(mut rings) = rings_rx.recv() else { return out };
                let mut names = HashMap::new();
                loop {
                    let done = stop_reader.load(SeqCst);
                    for s in &mut rings {
                        drain(s, &mut out, &mut names);
                    }
                    if done {
                        break;
                    }
                    std::thread::park_timeout(DRAIN_EVERY);
                }
                for s in &mut rings {
                    let _ = s.disable();
                    drain(s, &mut out, &mut names);
                }
                out.reader_cpu_ns = bench_measure::sys::thread_cpu_ns();
                out
            })
            .map_err(|e| format!("cannot start the reader thread: {e}"))?;
        let reader_tid = tid_rx.recv().map_err(|_| "the reader thread did not start".to_owned())?;
        // SAFETY: sysconf has no memory arguments.
        let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as usize;
        let mut tids: Vec<i32> = std::fs::read_dir("/proc/self/task")
            .map_err(|e| format!("cannot list /proc/self/task: {e}"))?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .filter(|&t| t != reader_tid)
            .collect();
        tids.sort_unstable();
        let open = |tid: i32, cpu: usize, kernel: bool| {
            Builder::new(Software::TASK_CLOCK)
                .observe_pid(tid)
                .one_cpu(cpu)
                .inherit(true)
                .sample_period(period)
                .sample(
                    SampleFlag::IP
                        | SampleFlag::TID
                        | SampleFlag::TIME
                        | SampleFlag::CALLCHAIN
                        | SampleFlag::REGS_USER
                        | SampleFlag::STACK_USER,
                )
                .sample_regs_user(REGS_MASK)
                .sample_stack_user(STACK_BYTES)
                .clockid(Clock::MONOTONIC)
                .exclude_kernel(!kernel)
                .exclude_hv(true)
                .exclude_callchain_kernel(true)
                .build()
                .and_then(|c| c.sampled(RING_BYTES))
        };
        // Time in the kernel (system calls, page faults) is sampled too where allowed, charged
        // to the user stack that entered it; otherwise only user time is.
        let mut kernel = true;
        let mut rings: Vec<Sampler> = Vec::with_capacity(tids.len() * cpus);
        for &tid in &tids {
            for cpu in 0..cpus {
                let mut opened = open(tid, cpu, kernel);
                if kernel
                    && rings.is_empty()
                    && matches!(
                        opened.as_ref().err().and_then(std::io::Error::raw_os_error),
                        Some(libc::EACCES | libc::EPERM)
                    )
                {
                    kernel = false;
                    opened = open(tid, cpu, kernel);
                }
                match opened {
                    Ok(s) => rings.push(s),
                    // The thread ended since the listing.
                    Err(e) if e.raw_os_error() == Some(libc::ESRCH) => break,
                    Err(e) => {
                        drop(rings);
                        drop(rings_tx);
                        stop.store(true, SeqCst);
                        let _ = reader.join();
                        return Err(format!("perf_event_open (task-clock, thread {tid}, CPU {cpu}): {e}"));
                    }
                }
            }
        }
        for s in &mut rings {
            if let Err(e) = s.enable() {
                drop(rings);
                drop(rings_tx);
                stop.store(true, SeqCst);
                let _ = reader.join();
                return Err(format!("cannot enable a perf event: {e}"));
            }
        }
        rings_tx.send(rings).map_err(|_| "the reader thread ended early".to_owned())?;
        Ok(Self { stop, reader })
    }

    /// Stops the events and returns every sample, in the order read.
    pub(crate) fn stop(self) -> Finished {
        self.stop.store(true, SeqCst);
        self.reader.thread().unpark();
        let c = self.reader.join().unwrap_or_default();
        Finished { profile: RawProfile { samples: c.samples }, lost: c.lost, reader_cpu_ns: c.reader_cpu_ns }
    }
}
