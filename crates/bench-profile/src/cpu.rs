//! CPU sampling: call stacks, a cProfile-like function table with each percentage's sampling
//! error, sampled line attribution and a timeline (for the Firefox Profiler format).
//!
//! Two samplers. The default is the kernel's perf-event `task-clock` clock (see `perf.rs`): an
//! hrtimer per thread at 4,000 samples per CPU-second by default, call chains recorded by the
//! kernel from frame pointers, read off the hot path. Where perf events cannot be opened
//! (permissions, containers, other kernels, or `BENCH_PERF_EVENTS=off`) the SIGPROF sampler
//! runs instead and the profile says so, with the reason. Every profile states which sampler
//! ran and its effective rate.
//!
//! The SIGPROF samples are taken by a signal handler that walks frame pointers (the workspace forces them),
//! because unwinding with libgcc inside a signal handler is not async-signal-safe and can
//! deadlock (pprof-rs issues #36, #76, #152). A frame-pointer walk that starts from the first
//! return address loses the leaf function of every sample (a hot `#[inline(never)]` loop goes
//! missing from every stack), so the handler here records the interrupted instruction pointer first, then
//! the return addresses, validating every frame read with a pipe write so a stray frame
//! pointer (from code built without frame pointers) ends the walk instead of faulting.
//!
//! The kernel caps the SIGPROF rate, so the *effective* sample rate (samples per CPU-second) is
//! measured and reported next to the requested one.

use std::collections::HashMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use bench_core::{Decimal, to_decimal};
use serde::Serialize;

use bench_measure::sys;

use crate::ProfileError;
use crate::stacks::{FoldedStacks, sampling_error_percent};

mod firefox;
mod folded;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod perf;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod sampler;

pub use folded::{MAX_FOLDED_BYTES, profile_from_folded, read_folded};

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub use perf::{DISABLE_ENV as PERF_EVENTS_ENV, release as release_perf_events};

/// Whether the CPU sampler works on this platform: it reads x86-64 registers from a Linux
/// signal context and Linux's `/proc/self/maps`. Elsewhere [`profile_cpu`] returns
/// [`ProfileError::Unsupported`] and every other profiler still works.
pub const SUPPORTED: bool = cfg!(all(target_os = "linux", target_arch = "x86_64"));

/// Default requested sampling frequency, samples per CPU-second of each thread (what `perf
/// record` defaults to). The SIGPROF fallback is capped by the kernel tick (about 250 Hz here).
pub const DEFAULT_FREQUENCY_HZ: i32 = 4000;

/// The leaf frame of a sample taken while the thread was in the kernel (a system call or a
/// page fault, entered from the frames above it).
pub const KERNEL_FRAME: &str = "[kernel]";

/// Which sampler to use.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SamplerChoice {
    /// perf events, else SIGPROF (with the reason recorded).
    #[default]
    Auto,
    /// perf events only: an error where they cannot be opened.
    PerfEvent,
    /// The SIGPROF timer only.
    Sigprof,
}

/// The sampler that ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SamplerKind {
    /// The kernel's software `task-clock` event, per thread, with kernel-recorded call chains.
    PerfEvent,
    /// `setitimer(ITIMER_PROF)` and a frame-pointer walk in the signal handler.
    Sigprof,
    /// Another profiler's folded stacks, read from a file ([`read_folded`]).
    Folded,
}

impl SamplerKind {
    /// How a report names it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::PerfEvent => "perf-event task-clock",
            Self::Sigprof => "SIGPROF timer",
            Self::Folded => "folded stacks from a file",
        }
    }
}

/// One frame of a sampled stack with its source position (when the line tables have it). The
/// names are shared (`Arc<str>`): a profile holds every distinct stack, and a 4 kHz profile's
/// thousands of frames would otherwise be as many string copies to make and to free.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Located {
    /// Function (inlined functions are frames of their own).
    pub function: Arc<str>,
    /// Source file.
    pub file: Option<Arc<str>>,
    /// Line in `file`: in a caller, the line of the call.
    pub line: Option<u32>,
}

/// One sample on the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedSample {
    /// Thread id.
    pub tid: u64,
    /// `CLOCK_MONOTONIC` at the sample, nanoseconds (0 when the input had no times).
    pub time_ns: u64,
    /// Index into [`Timeline::stacks`].
    pub stack: usize,
    /// How many samples this entry stands for (1 for a sampler's own samples).
    pub weight: u64,
}

/// Every sample in the order taken, for timeline views (the Firefox Profiler format).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Timeline {
    /// `CLOCK_MONOTONIC` when the profile started, nanoseconds.
    pub start_ns: u64,
    /// The wall clock at the same instant, milliseconds since the Unix epoch.
    pub start_unix_ms: f64,
    /// Thread names by id.
    pub threads: Vec<(u64, String)>,
    /// Distinct stacks, outermost frame first (without the thread root).
    pub stacks: Vec<Vec<Located>>,
    /// The samples.
    pub samples: Vec<TimedSample>,
    /// Nominal interval between two samples of a thread, nanoseconds.
    pub interval_ns: u64,
}

/// Samples attributed to one source line of a function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampledLine {
    /// Source file.
    pub file: String,
    /// Line.
    pub line: u32,
    /// Samples whose stack runs this line of the function (its own work, or a call it makes).
    pub samples: u64,
    /// Share of the function's samples, percent.
    pub percent: f64,
}

/// One function of the CPU table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionRow {
    /// Demangled function name (inlined functions appear as their own rows).
    pub function: String,
    /// Samples whose innermost frame is this function.
    pub self_samples: u64,
    /// Samples whose stack contains this function (counted once per stack, like cProfile's
    /// treatment of recursion).
    pub total_samples: u64,
    /// `self_samples / samples × 100`.
    pub self_percent: Decimal,
    /// `total_samples / samples × 100`.
    pub total_percent: Decimal,
    /// Standard error of `self_percent` from sampling, `100·√(p(1−p)/N)` percentage points.
    pub self_percent_error: Decimal,
    /// Standard error of `total_percent`.
    pub total_percent_error: Decimal,
}

/// The result of a CPU profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuProfile {
    /// The sampler that ran.
    pub sampler: SamplerKind,
    /// Why perf events were not used, when the SIGPROF sampler ran in their place.
    pub fallback_reason: Option<String>,
    /// Samples the kernel dropped (a full ring buffer); counted, not in the figures.
    pub lost_samples: u64,
    /// Requested frequency, samples per CPU-second.
    pub requested_hz: i32,
    /// Samples collected.
    pub samples: u64,
    /// Wall time profiled, seconds.
    pub wall_seconds: Decimal,
    /// Process CPU time (all threads) during the profile, seconds.
    pub cpu_seconds: Decimal,
    /// Samples per CPU-second actually obtained.
    pub effective_hz: Decimal,
    /// Functions by total samples, descending.
    pub functions: Vec<FunctionRow>,
    /// The sampled call stacks (root = thread), the input of flame graphs and the bottleneck
    /// analysis.
    #[serde(skip)]
    pub stacks: FoldedStacks,
    /// Every sample with its time, thread and located stack.
    #[serde(skip)]
    pub timeline: Timeline,
}

impl CpuProfile {
    /// The line table of `function` (a full name or its last `::` segments) from the samples: for
    /// each line of the function, the samples whose stack passes through it — the function's
    /// own instructions on that line, or a call made from it — as a share of the samples that
    /// hold the function. Needs the binary's line tables (`debug = "line-tables-only"` or more).
    pub fn sampled_lines(&self, function: &str) -> Vec<SampledLine> {
        let suffix = format!("::{function}");
        let matches = |f: &str| f == function || f.ends_with(&suffix);
        let mut per_line: HashMap<(String, u32), u64> = HashMap::new();
        let mut holding = 0u64;
        for s in &self.timeline.samples {
            let stack = &self.timeline.stacks[s.stack];
            let mut seen: Vec<(&str, u32)> = Vec::new();
            let mut held = false;
            for fr in stack.iter().filter(|fr| matches(&fr.function)) {
                held = true;
                if let (Some(file), Some(line)) = (&fr.file, fr.line)
                    && !seen.contains(&(&**file, line))
                {
                    seen.push((file, line));
                    *per_line.entry((file.to_string(), line)).or_default() += s.weight;
                }
            }
            if held {
                holding += s.weight;
            }
        }
        let mut rows: Vec<SampledLine> = per_line
            .into_iter()
            .map(|((file, line), n)| SampledLine {
                file,
                line,
                samples: n,
                percent: n as f64 * 100.0 / holding.max(1) as f64,
            })
            .collect();
        rows.sort_by(|a, b| b.samples.cmp(&a.samples).then(a.line.cmp(&b.line)));
        rows
    }

    /// The profile in the Firefox Profiler's processed format (also opened by speedscope): one
    /// process, a track per thread with its samples on the timeline, the call tree.
    pub fn to_firefox_profile(&self, product: &str) -> Result<Vec<u8>, ProfileError> {
        firefox::to_json(self, product)
    }
}

/// Normalises a demangled Rust symbol: strips the `::h0123456789abcdef` hash of legacy
/// mangling, and writes v0's `<path::Type>::method` of an inherent impl as
/// `path::Type::method` (the form span names use), leaving trait impls (`<T as Trait>::m`)
/// alone.
pub fn clean_symbol(name: &str) -> String {
    let name = match name.rfind("::h") {
        Some(i) if name.len() - i == 19 && name[i + 3..].bytes().all(|b| b.is_ascii_hexdigit()) => &name[..i],
        _ => name,
    };
    if let Some(rest) = name.strip_prefix('<')
        && let Some(close) = rest.find(">::")
    {
        let inner = &rest[..close];
        if !inner.contains(" as ") && !inner.contains('<') && !inner.contains('>') {
            return format!("{inner}::{}", &rest[close + 3..]);
        }
    }
    name.to_owned()
}

/// Thread names without their trailing worker number, so a pool's threads merge.
fn thread_root(name: &str) -> String {
    let trimmed = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '_');
    if trimmed.is_empty() { name.to_owned() } else { trimmed.to_owned() }
}

/// Runs `f` under the sampling profiler: perf events where they can be opened, else SIGPROF.
pub fn profile_cpu<T>(f: impl FnOnce() -> T, frequency_hz: i32) -> Result<(T, CpuProfile), ProfileError> {
    profile_cpu_with(f, frequency_hz, SamplerChoice::Auto)
}

/// Runs `f` under the sampler `choice` at `frequency_hz` samples per CPU-second.
pub fn profile_cpu_with<T>(
    f: impl FnOnce() -> T,
    frequency_hz: i32,
    choice: SamplerChoice,
) -> Result<(T, CpuProfile), ProfileError> {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    return sample(f, frequency_hz, choice);
    #[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
    {
        drop((f, choice));
        Err(ProfileError::Unsupported(format!(
            "the CPU sampler needs Linux on x86-64 (this is {} on {}); use the spans, lines and memory profilers",
            std::env::consts::OS,
            std::env::consts::ARCH
        )))
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn sample<T>(
    f: impl FnOnce() -> T,
    frequency_hz: i32,
    choice: SamplerChoice,
) -> Result<(T, CpuProfile), ProfileError> {
    if frequency_hz < 1 {
        return Err(ProfileError::Profiler(format!(
            "sampling frequency {frequency_hz} Hz: expected at least 1"
        )));
    }
    enum Running {
        Perf(perf::Session),
        Sigprof(sampler::Session),
    }
    /// One CPU profile per process at a time, whichever the sampler.
    static PROFILING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    struct Exclusive;
    impl Drop for Exclusive {
        fn drop(&mut self) {
            PROFILING.store(false, std::sync::atomic::Ordering::SeqCst);
        }
    }
    if PROFILING.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return Err(ProfileError::Profiler("a CPU profile is already running in this process".into()));
    }
    let _exclusive = Exclusive;
    // The code ranges are loaded by whichever sampler starts (the perf-event reader loads them
    // off this thread).
    let mut fallback_reason = None;
    let running = match choice {
        SamplerChoice::Sigprof => Running::Sigprof(sampler::Session::start(frequency_hz)?),
        SamplerChoice::PerfEvent => Running::Perf(
            perf::Session::start(frequency_hz as u32)
                .map_err(|e| ProfileError::Profiler(format!("perf-event sampler: {e}")))?,
        ),
        SamplerChoice::Auto => match perf::Session::start(frequency_hz as u32) {
            Ok(s) => Running::Perf(s),
            Err(why) => {
                fallback_reason = Some(why);
                Running::Sigprof(sampler::Session::start(frequency_hz.min(10_000))?)
            }
        },
    };
    let start_ns = monotonic_ns();
    let start_unix = start_unix_ms();
    let cpu0 = sys::process_cpu_ns();
    let t0 = std::time::Instant::now();
    let out = f();
    let wall = t0.elapsed().as_secs_f64();
    let mut cpu_ns = sys::process_cpu_ns().saturating_sub(cpu0);
    let (kind, raw, lost) = match running {
        Running::Perf(s) => {
            let done = s.stop();
            cpu_ns = cpu_ns.saturating_sub(done.reader_cpu_ns);
            (SamplerKind::PerfEvent, done.profile, done.lost)
        }
        Running::Sigprof(s) => (SamplerKind::Sigprof, s.stop(), 0),
    };
    let cpu = cpu_ns as f64 / 1e9;

    // Symbolise each distinct address once (inlined functions become frames of their own) and
    // work on interned frame ids: at 4 kHz a profile has thousands of samples of deep stacks,
    // and cloning their names per sample cost more than the sampling.
    let mut frames: Vec<Located> = Vec::new();
    let mut frame_ids: FxHashMap<Located, u32> = FxHashMap::default();
    let mut intern = |l: Located| -> u32 {
        let next = frames.len() as u32;
        *frame_ids.entry(l.clone()).or_insert_with(|| {
            frames.push(l);
            next
        })
    };
    let kernel_id = intern(Located { function: KERNEL_FRAME.into(), file: None, line: None });
    let mut by_addr: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
    let mut roots: Vec<String> = Vec::new();
    let mut root_of_thread: FxHashMap<Arc<str>, u32> = FxHashMap::default();
    let mut stack_ids: FxHashMap<Vec<u32>, usize> = FxHashMap::default();
    let mut id_stacks: Vec<Vec<u32>> = Vec::new();
    let mut counts: FxHashMap<(u32, usize), u64> = FxHashMap::default();
    let mut timeline = Timeline {
        start_ns,
        start_unix_ms: start_unix,
        interval_ns: (1e9 / f64::from(frequency_hz)).round() as u64,
        ..Timeline::default()
    };
    let mut threads: std::collections::BTreeMap<u64, String> = std::collections::BTreeMap::new();
    let mut ids: Vec<u32> = Vec::new();
    for sample in &raw.samples {
        ids.clear();
        for (depth, &addr) in sample.frames.iter().enumerate().rev() {
            // Return addresses point after the call; look up the call instruction itself.
            let lookup = if depth == 0 { addr } else { addr.saturating_sub(1) };
            let syms = by_addr
                .entry(lookup)
                .or_insert_with(|| sampler::locate(lookup).into_iter().map(&mut intern).collect());
            ids.extend_from_slice(syms);
        }
        if sample.in_kernel {
            ids.push(kernel_id);
        }
        let root = match root_of_thread.get(&sample.thread) {
            Some(&r) => r,
            None => {
                let name = thread_root(&sample.thread);
                let r = roots.iter().position(|x| *x == name).unwrap_or_else(|| {
                    roots.push(name);
                    roots.len() - 1
                }) as u32;
                root_of_thread.insert(Arc::clone(&sample.thread), r);
                r
            }
        };
        threads.entry(sample.tid).or_insert_with(|| sample.thread.to_string());
        let id = match stack_ids.get(&ids) {
            Some(&id) => id,
            None => {
                stack_ids.insert(ids.clone(), id_stacks.len());
                id_stacks.push(ids.clone());
                id_stacks.len() - 1
            }
        };
        *counts.entry((root, id)).or_default() += 1;
        timeline.samples.push(TimedSample { tid: sample.tid, time_ns: sample.time_ns, stack: id, weight: 1 });
    }
    timeline.stacks =
        id_stacks.iter().map(|s| s.iter().map(|&i| frames[i as usize].clone()).collect()).collect();
    // Stacks that differ only in their lines are one stack of functions: add them up, on
    // function ids (a name is a long string; hashing and copying it per stack cost more than the
    // rest of the post-processing).
    let mut fn_ids: FxHashMap<Arc<str>, u32> = FxHashMap::default();
    let mut fn_names: Vec<Arc<str>> = Vec::new();
    let frame_fn: Vec<u32> = frames
        .iter()
        .map(|l| {
            let next = fn_names.len() as u32;
            *fn_ids.entry(Arc::clone(&l.function)).or_insert_with(|| {
                fn_names.push(Arc::clone(&l.function));
                next
            })
        })
        .collect();
    let mut fn_stacks: FxHashMap<(u32, Vec<u32>), u64> = FxHashMap::default();
    for ((root, id), n) in counts {
        let key = (root, id_stacks[id].iter().map(|&i| frame_fn[i as usize]).collect());
        *fn_stacks.entry(key).or_default() += n;
    }
    let fn_stacks: Vec<((u32, Vec<u32>), u64)> = fn_stacks.into_iter().collect();
    timeline.samples.sort_by_key(|s| s.time_ns);
    timeline.threads = threads.into_iter().collect();
    let (samples, functions) =
        function_table_ids(&fn_names, fn_stacks.iter().map(|((_, stack), n)| (stack.as_slice(), *n)));
    let stacks = FoldedStacks::from_counts(fn_stacks.into_iter().map(|((root, stack), n)| {
        let mut names = Vec::with_capacity(stack.len() + 1);
        names.push(roots[root as usize].clone());
        names.extend(stack.iter().map(|&f| fn_names[f as usize].to_string()));
        (names, n)
    }));
    let d = |x: f64| to_decimal((x * 1e4).round() / 1e4).unwrap_or(Decimal::ZERO);
    Ok((
        out,
        CpuProfile {
            sampler: kind,
            fallback_reason,
            lost_samples: lost,
            requested_hz: frequency_hz,
            samples,
            wall_seconds: d(wall),
            cpu_seconds: d(cpu),
            effective_hz: d(if cpu > 0.0 { samples as f64 / cpu } else { 0.0 }),
            functions,
            stacks,
            timeline,
        },
    ))
}

/// The sample count and the function table of folded stacks (the first frame of each is the
/// thread root, not a function).
fn function_table(stacks: &HashMap<Vec<String>, u64>) -> (u64, Vec<FunctionRow>) {
    let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
    let mut names: Vec<Arc<str>> = Vec::new();
    let id_stacks: Vec<(Vec<u32>, u64)> = stacks
        .iter()
        .map(|(stack, &n)| {
            let ids = stack
                .iter()
                .skip(1)
                .map(|f| {
                    let next = names.len() as u32;
                    *ids.entry(f.as_str()).or_insert_with(|| {
                        names.push(f.as_str().into());
                        next
                    })
                })
                .collect();
            (ids, n)
        })
        .collect();
    function_table_ids(&names, id_stacks.iter().map(|(s, n)| (s.as_slice(), *n)))
}

/// The sample count and the function table of stacks of function ids (indices into `names`,
/// outermost first, without the thread root), each with its sample count. A function counts
/// once per stack in its total (recursion), and in its self count where it is the leaf.
fn function_table_ids<'a>(
    names: &[Arc<str>],
    stacks: impl Iterator<Item = (&'a [u32], u64)>,
) -> (u64, Vec<FunctionRow>) {
    let mut self_s = vec![0u64; names.len()];
    let mut total_s = vec![0u64; names.len()];
    // The stack in which a function was last counted, so a recursive one counts once.
    let mut counted_in = vec![usize::MAX; names.len()];
    let mut samples = 0u64;
    for (k, (stack, n)) in stacks.enumerate() {
        samples += n;
        if let Some(&leaf) = stack.last() {
            self_s[leaf as usize] += n;
        }
        for &f in stack {
            if counted_in[f as usize] != k {
                counted_in[f as usize] = k;
                total_s[f as usize] += n;
            }
        }
    }
    let pct = |k: u64| k as f64 / samples.max(1) as f64;
    let err = |k: u64| sampling_error_percent(k, samples);
    let d = |x: f64| to_decimal((x * 1e4).round() / 1e4).unwrap_or(Decimal::ZERO);
    let mut functions: Vec<FunctionRow> = (0..names.len())
        .filter(|&f| total_s[f] > 0)
        .map(|f| {
            let (s, t) = (self_s[f], total_s[f]);
            FunctionRow {
                function: names[f].to_string(),
                self_samples: s,
                total_samples: t,
                self_percent: d(pct(s) * 100.0),
                total_percent: d(pct(t) * 100.0),
                self_percent_error: d(err(s)),
                total_percent_error: d(err(t)),
            }
        })
        .collect();
    functions.sort_by(|a, b| {
        b.total_samples
            .cmp(&a.total_samples)
            .then(b.self_samples.cmp(&a.self_samples))
            .then(a.function.cmp(&b.function))
    });
    (samples, functions)
}

/// `CLOCK_MONOTONIC`, nanoseconds (the clock both samplers stamp samples with).
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into `ts`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn start_unix_ms() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The function table counts a recursive function once per stack in its total, the leaf in
    /// its self count, and leaves the thread roots out.
    #[test]
    fn the_function_table_counts_recursion_once_and_roots_never() {
        let s = |frames: &[&str]| frames.iter().map(|f| (*f).to_owned()).collect::<Vec<String>>();
        let stacks: HashMap<Vec<String>, u64> = [
            (s(&["main", "a", "b", "a"]), 3),
            (s(&["main", "a", "c"]), 2),
            (s(&["worker", "b"]), 5),
            (s(&["main"]), 1),
        ]
        .into_iter()
        .collect();
        let (samples, rows) = function_table(&stacks);
        assert_eq!(samples, 11);
        let row = |f: &str| rows.iter().find(|r| r.function == f).map(|r| (r.self_samples, r.total_samples));
        assert_eq!(row("a"), Some((3, 5)));
        assert_eq!(row("b"), Some((5, 8)));
        assert_eq!(row("c"), Some((2, 2)));
        assert_eq!(row("main"), None);
        assert_eq!(row("worker"), None);
        let order: Vec<&str> = rows.iter().map(|r| r.function.as_str()).collect();
        assert_eq!(order, ["b", "a", "c"]);
        assert_eq!(rows[0].total_percent, to_decimal(8.0 / 11.0 * 100.0).map(|d| d.round_dp(4)).unwrap());
    }
}
