//! The perf-event sampler: the kernel's software `task-clock` event (an hrtimer, so not capped by
//! the scheduler tick as SIGPROF is) samples every thread of the process at a fixed period of its
//! CPU time and records the user call chain itself, from frame pointers, into one mmap ring per
//! event. Nothing runs inside the sampled threads: a reader thread copies the records out of the
//! rings every 10 ms.
//!
//! The events are opened once per process (and again only when the sampling rate changes), not
//! per profile: opening an event and mapping its ring cost about 90 µs each on a shared 2-core KVM guest,
//! so a profile that opened its own spent most of a millisecond before sampling anything.
//! Between profiles the events stay open and disabled (the grid workload ran no slower with
//! them attached: −1.1% ± 2.3% over 30 pairs); a profile enables them and disables them again,
//! and the reader thread (started once, excluded from sampling) parks between profiles.
//! [`release`] closes them.
//!
//! Coverage: one event per (thread, CPU) for every thread that exists when the events are
//! opened, each with `inherit`, so every thread those threads create afterwards, during a
//! profile or between profiles (a rayon pool started later), carries inherited events that are
//! enabled and disabled with their parents' and write into their rings. `inherit_thread` keeps
//! child processes out (a forked process would otherwise be sampled against this process's
//! symbols); on kernels before 5.13, which lack it, samples of other processes are dropped by
//! process id. A thread created while the events are being opened could be missed, so the
//! threads are listed again afterwards and the opening is redone when one appeared.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
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
/// How many times the events are reopened when threads keep appearing while they are opened.
const OPEN_ATTEMPTS: usize = 3;
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

/// The open events of the process.
struct Rig {
    /// Sampling period, nanoseconds of a thread's CPU time.
    period: u64,
    /// One per (thread, CPU), for the threads that existed when the rig was built.
    rings: Vec<Sampler>,
}

struct State {
    /// A profile is running: the events are enabled and the reader drains the rings every
    /// [`DRAIN_EVERY`].
    running: bool,
    /// The reader has not yet seen this profile (it loads the code ranges and notes its CPU
    /// clock when it does).
    fresh: bool,
    rig: Option<Rig>,
    out: Collected,
    /// The reader's CPU clock when it first saw this profile, nanoseconds.
    reader_cpu_at_start: Option<u64>,
    /// Thread names by id, for this profile.
    names: HashMap<u32, Arc<str>>,
}

/// The reader thread and what it shares with the profiling thread.
struct Reader {
    state: Mutex<State>,
    wake: Condvar,
    /// The reader's thread id, left out of the events.
    tid: i32,
    /// The reader's CPU-time clock.
    cpu_clock: libc::clockid_t,
}

/// The CPU time of the thread whose clock is `clock`, nanoseconds.
fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into `ts`; a clock that is no longer valid returns an error.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The process's reader thread, once started.
static READER: OnceLock<Result<&'static Reader, String>> = OnceLock::new();

/// The process's reader thread, started on first use.
fn reader() -> Result<&'static Reader, String> {
    READER
        .get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel::<&'static Reader>();
            std::thread::Builder::new()
                .name("perf-reader".into())
                .spawn(move || {
                    let reader: &'static Reader = Box::leak(Box::new(Reader {
                        state: Mutex::new(State {
                            running: false,
                            fresh: false,
                            rig: None,
                            out: Collected::default(),
                            reader_cpu_at_start: None,
                            names: HashMap::new(),
                        }),
                        wake: Condvar::new(),
                        tid: gettid(),
                        cpu_clock: own_cpu_clock(),
                    }));
                    if tx.send(reader).is_ok() {
                        reader_loop(reader);
                    }
                })
                .map_err(|e| format!("cannot start the reader thread: {e}"))?;
            rx.recv().map_err(|_| "the reader thread did not start".to_owned())
        })
        .clone()
}

/// The calling thread's CPU-time clock.
fn own_cpu_clock() -> libc::clockid_t {
    let mut clock: libc::clockid_t = libc::CLOCK_THREAD_CPUTIME_ID;
    // SAFETY: pthread_getcpuclockid writes a clock id for the calling thread into `clock`.
    let _ = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
    clock
}

fn reader_loop(reader: &Reader) {
    let mut st = lock(&reader.state);
    loop {
        if !st.running {
            st = reader.wake.wait(st).unwrap_or_else(PoisonError::into_inner);
            continue;
        }
        if st.fresh {
            see_profile(&mut st, Some(bench_measure::sys::thread_cpu_ns()));
        }
        drain_all(&mut st);
        st = reader.wake.wait_timeout(st, DRAIN_EVERY).unwrap_or_else(PoisonError::into_inner).0;
    }
}

/// What is done once per profile before its first drain: the code ranges (which the stack
/// recovery of [`drain`] checks addresses against) are loaded.
fn see_profile(st: &mut State, reader_cpu: Option<u64>) {
    st.fresh = false;
    st.names.clear();
    st.reader_cpu_at_start = reader_cpu;
    super::sampler::load_ranges();
}

fn drain_all(st: &mut State) {
    let State { rig, out, names, .. } = st;
    if let Some(rig) = rig {
        for s in &mut rig.rings {
            drain(s, out, names);
        }
    }
}

/// A running perf-event profile. Dropping it without [`Session::stop`] (the profiled function
/// panicked) disables the events and discards the samples.
pub(crate) struct Session {
    reader: &'static Reader,
    stopped: bool,
}

/// A finished perf-event profile.
pub(crate) struct Finished {
    pub profile: RawProfile,
    /// Samples the kernel dropped because a ring was full.
    pub lost: u64,
    /// CPU time of the reader thread (not sampled) during the profile, nanoseconds.
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

fn drain(s: &mut Sampler, out: &mut Collected, names: &mut HashMap<u32, Arc<str>>) {
    let pid = std::process::id();
    while let Some(rec) = s.next_record() {
        match rec.parse_record() {
            // Another process (a child forked on a kernel without `inherit_thread`).
            Ok(Record::Sample(smp)) if smp.pid().is_some_and(|p| p != pid) => {}
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
                let thread = Arc::clone(names.entry(tid).or_insert_with(|| thread_name(tid).into()));
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

/// Closes the process's perf events and unmaps their rings (a later profile opens them again).
/// Returns false, doing nothing, while a profile is running.
pub fn release() -> bool {
    let Some(Ok(reader)) = READER.get() else { return true };
    let mut st = lock(&reader.state);
    if st.running {
        return false;
    }
    st.rig = None;
    true
}

/// The thread ids of the process, but `skip`, in order.
fn list_threads(skip: i32) -> Result<Vec<i32>, String> {
    let mut tids: Vec<i32> = std::fs::read_dir("/proc/self/task")
        .map_err(|e| format!("cannot list /proc/self/task: {e}"))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&t| t != skip)
        .collect();
    tids.sort_unstable();
    Ok(tids)
}

/// Opens one disabled, inheriting event per (thread, CPU) for every thread of the process but
/// the reader, listing the threads again afterwards until no thread appeared meanwhile.
fn build_rig(period: u64, reader_tid: i32) -> Result<Rig, String> {
    // SAFETY: sysconf has no memory arguments.
    let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as usize;
    let open = |tid: i32, cpu: usize, kernel: bool, threads_only: bool| {
        Builder::new(Software::TASK_CLOCK)
            .observe_pid(tid)
            .one_cpu(cpu)
            .inherit(true)
            .inherit_thread(threads_only)
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
    // Time in the kernel (system calls, page faults) is sampled too where allowed, charged to
    // the user stack that entered it; otherwise only user time is.
    let mut kernel = true;
    let mut threads_only = true;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let tids = list_threads(reader_tid)?;
        let mut rings: Vec<Sampler> = Vec::with_capacity(tids.len() * cpus);
        for &tid in &tids {
            for cpu in 0..cpus {
                let mut opened = open(tid, cpu, kernel, threads_only);
                if rings.is_empty() {
                    let errno = opened.as_ref().err().and_then(std::io::Error::raw_os_error);
                    if threads_only && errno == Some(libc::EINVAL) {
                        // A kernel before 5.13: no `inherit_thread`.
                        threads_only = false;
                        opened = open(tid, cpu, kernel, threads_only);
                    }
                    let errno = opened.as_ref().err().and_then(std::io::Error::raw_os_error);
                    if kernel && matches!(errno, Some(libc::EACCES | libc::EPERM)) {
                        kernel = false;
                        opened = open(tid, cpu, kernel, threads_only);
                    }
                }
                match opened {
                    Ok(s) => rings.push(s),
                    // The thread ended since the listing.
                    Err(e) if e.raw_os_error() == Some(libc::ESRCH) => break,
                    Err(e) => {
                        return Err(format!("perf_event_open (task-clock, thread {tid}, CPU {cpu}): {e}"));
                    }
                }
            }
        }
        let appeared = list_threads(reader_tid)?.iter().any(|t| tids.binary_search(t).is_err());
        if !appeared || attempt == OPEN_ATTEMPTS {
            return Ok(Rig { period, rings });
        }
    }
}

impl Session {
    /// Enables the events at `frequency_hz` samples per CPU-second of each thread, opening them
    /// first when this process has none at that rate.
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
        let reader = reader()?;
        let mut st = lock(&reader.state);
        if st.running {
            return Err("a perf-event profile is already running in this process".into());
        }
        if st.rig.as_ref().is_none_or(|r| r.period != period) {
            // Close the old events first: their inherited copies would sample too.
            st.rig = None;
            st.rig = Some(build_rig(period, reader.tid)?);
        }
        let rig = st.rig.as_mut().expect("built above");
        for (i, s) in rig.rings.iter_mut().enumerate() {
            if let Err(e) = s.enable() {
                for s in &mut rig.rings[..i] {
                    let _ = s.disable();
                }
                st.rig = None;
                return Err(format!("cannot enable a perf event: {e}"));
            }
        }
        st.out = Collected::default();
        st.fresh = true;
        st.running = true;
        drop(st);
        reader.wake.notify_all();
        Ok(Self { reader, stopped: false })
    }

    /// Disables the events, drains the rings a last time (on this thread: waking the reader
    /// for it would cost a scheduling round trip) and returns every sample, in the order read.
    pub(crate) fn stop(mut self) -> Finished {
        self.stopped = true;
        let c = self.finish();
        Finished { profile: RawProfile { samples: c.samples }, lost: c.lost, reader_cpu_ns: c.reader_cpu_ns }
    }

    fn finish(&self) -> Collected {
        let mut st = lock(&self.reader.state);
        disable_all(&mut st);
        if st.fresh {
            // The reader has not woken since the start.
            see_profile(&mut st, None);
        }
        drain_all(&mut st);
        st.running = false;
        let mut c = std::mem::take(&mut st.out);
        c.reader_cpu_ns =
            st.reader_cpu_at_start.map_or(0, |t0| clock_ns(self.reader.cpu_clock).saturating_sub(t0));
        c
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if !self.stopped {
            drop(self.finish());
        }
    }
}

/// Disables every event (and, through them, every inherited copy). When one cannot be disabled
/// the rings are drained and every event is closed, rather than one left sampling.
fn disable_all(st: &mut State) {
    // Every event is disabled, even after one fails (so no `any`).
    let mut failed = false;
    for s in st.rig.iter_mut().flat_map(|rig| &mut rig.rings) {
        failed |= s.disable().is_err();
    }
    if failed {
        drain_all(st);
        st.rig = None;
    }
}
