//! CPU sampling: call stacks and a cProfile-like function table with each percentage's
//! sampling error.
//!
//! Samples are taken by a SIGPROF handler that walks frame pointers (the workspace forces them),
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

use bench_core::{Decimal, to_decimal};
use serde::Serialize;

use bench_measure::sys;

use crate::ProfileError;
use crate::stacks::{FoldedStacks, sampling_error_percent};

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod sampler;

/// Whether the CPU sampler works on this platform: it reads x86-64 registers from a Linux
/// signal context and Linux's `/proc/self/maps`. Elsewhere [`profile_cpu`] returns
/// [`ProfileError::Unsupported`] and every other profiler still works.
pub const SUPPORTED: bool = cfg!(all(target_os = "linux", target_arch = "x86_64"));

/// Default requested sampling frequency (a prime, to avoid lockstep with periodic work).
pub const DEFAULT_FREQUENCY_HZ: i32 = 997;

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
    /// Requested SIGPROF frequency.
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

/// Runs `f` under the sampling profiler.
pub fn profile_cpu<T>(f: impl FnOnce() -> T, frequency_hz: i32) -> Result<(T, CpuProfile), ProfileError> {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    return sample(f, frequency_hz);
    #[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
    {
        drop(f);
        Err(ProfileError::Unsupported(format!(
            "the CPU sampler needs Linux on x86-64 (this is {} on {}); use the spans, lines and memory profilers",
            std::env::consts::OS,
            std::env::consts::ARCH
        )))
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn sample<T>(f: impl FnOnce() -> T, frequency_hz: i32) -> Result<(T, CpuProfile), ProfileError> {
    let session = sampler::Session::start(frequency_hz)?;
    let cpu0 = sys::process_cpu_ns();
    let t0 = std::time::Instant::now();
    let out = f();
    let wall = t0.elapsed().as_secs_f64();
    let cpu = sys::process_cpu_ns().saturating_sub(cpu0) as f64 / 1e9;
    let raw = session.stop();

    // Symbolise each distinct address once; inlined functions become frames of their own.
    let mut names: HashMap<u64, Vec<String>> = HashMap::new();
    let mut stacks: HashMap<Vec<String>, u64> = HashMap::new();
    for sample in &raw.samples {
        let mut stack = vec![thread_root(&sample.thread)];
        for (depth, &addr) in sample.frames.iter().enumerate().rev() {
            // Return addresses point after the call; look up the call instruction itself.
            let lookup = if depth == 0 { addr } else { addr.saturating_sub(1) };
            let syms = names.entry(lookup).or_insert_with(|| sampler::symbolize(lookup));
            stack.extend(syms.iter().cloned());
        }
        *stacks.entry(stack).or_default() += 1;
    }
    let samples: u64 = stacks.values().sum();
    let mut self_s: HashMap<&str, u64> = HashMap::new();
    let mut total_s: HashMap<&str, u64> = HashMap::new();
    for (stack, &n) in &stacks {
        if let Some(leaf) = stack.last() {
            *self_s.entry(leaf).or_default() += n;
        }
        let mut seen: Vec<&str> = Vec::new();
        for f in stack.iter().skip(1) {
            if !seen.contains(&f.as_str()) {
                seen.push(f);
                *total_s.entry(f).or_default() += n;
            }
        }
    }
    let pct = |k: u64| k as f64 / samples.max(1) as f64;
    let err = |k: u64| sampling_error_percent(k, samples);
    let d = |x: f64| to_decimal((x * 1e4).round() / 1e4).unwrap_or(Decimal::ZERO);
    let mut functions: Vec<FunctionRow> = total_s
        .iter()
        .map(|(&f, &t)| {
            let s = self_s.get(f).copied().unwrap_or(0);
            FunctionRow {
                function: f.to_owned(),
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
    Ok((
        out,
        CpuProfile {
            requested_hz: frequency_hz,
            samples,
            wall_seconds: d(wall),
            cpu_seconds: d(cpu),
            effective_hz: d(if cpu > 0.0 { samples as f64 / cpu } else { 0.0 }),
            functions,
            stacks: FoldedStacks::from_counts(stacks),
        },
    ))
}
