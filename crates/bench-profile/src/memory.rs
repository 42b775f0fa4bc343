//! Memory profiling: an RSS sampler thread at 0.1 s (one per process, parked between profiles),
//! heap figures from the counting allocator,
//! and an opt-in deep mode with dhat (allocation sites; slow — every allocation takes a global
//! lock and records a backtrace).

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;

use bench_measure::{heap_snapshot, reset_heap_peak, set_deep_mode, sys};

use crate::ProfileError;

/// Interval of the RSS sampler.
pub const SAMPLE_INTERVAL: Duration = Duration::from_millis(100);

/// One RSS sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RssSample {
    /// Milliseconds since the start of the profile.
    pub t_ms: f64,
    /// Resident set in bytes.
    pub rss_bytes: u64,
}

/// dhat's totals for the deep mode.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DhatTotals {
    /// Blocks allocated during the profile.
    pub total_blocks: u64,
    /// Bytes allocated during the profile.
    pub total_bytes: u64,
    /// Peak live bytes (dhat's `max_bytes`).
    pub max_bytes: usize,
    /// Peak live blocks.
    pub max_blocks: usize,
    /// The `dhat-heap.json` written, for dhat's viewer (`dh_view.html`).
    pub file: String,
}

/// A memory profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryProfile {
    /// Sampler interval, milliseconds.
    pub interval_ms: u64,
    /// RSS samples (the first at the start, the last at the end).
    pub timeline: Vec<RssSample>,
    /// Largest RSS seen (sampled, and the kernel's high-water mark when it could be reset).
    pub peak_rss_bytes: u64,
    /// RSS at the start.
    pub start_rss_bytes: u64,
    /// RSS at the end.
    pub end_rss_bytes: u64,
    /// Peak live heap above the start level (counting allocator), if installed.
    pub heap_peak_bytes: Option<u64>,
    /// Live heap at the end minus at the start (a leak indicator).
    pub heap_growth_bytes: Option<i64>,
    /// Allocations made during the profile.
    pub allocations: Option<u64>,
    /// dhat's totals (deep mode only).
    pub dhat: Option<DhatTotals>,
    /// Wall time profiled, seconds.
    pub wall_seconds: f64,
}

/// The process's RSS sampler thread: started on the first memory profile and parked between
/// profiles, so a profile costs a lock and a wake-up rather than a thread's start and join (the
/// fixed cost that dominated short profiled runs).
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    active: bool,
    t0: Option<Instant>,
    next_due: Option<Instant>,
    samples: Vec<RssSample>,
}

fn shared() -> Option<&'static Arc<Shared>> {
    static SHARED: OnceLock<Option<Arc<Shared>>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let shared = Arc::new(Shared { state: Mutex::new(State::default()), wake: Condvar::new() });
            let worker = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("rss-sampler".into())
                .spawn(move || sample_loop(&worker))
                .ok()?;
            Some(shared)
        })
        .as_ref()
}

fn sample_loop(shared: &Shared) {
    // Opened once and re-read in place: a sample is one read system call.
    let mut statm = sys::RssReader::open();
    let mut st = shared.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        let Some(due) = st.next_due.filter(|_| st.active) else {
            st = shared.wake.wait(st).unwrap_or_else(std::sync::PoisonError::into_inner);
            continue;
        };
        let now = Instant::now();
        if now < due {
            st = shared.wake.wait_timeout(st, due - now).unwrap_or_else(std::sync::PoisonError::into_inner).0;
            continue;
        }
        if let (Some(rss), Some(t0)) = (statm.as_mut().and_then(sys::RssReader::read), st.t0) {
            st.samples.push(RssSample { t_ms: t0.elapsed().as_secs_f64() * 1e3, rss_bytes: rss });
        }
        st.next_due = Some(due + SAMPLE_INTERVAL);
    }
}

/// A profile's use of the sampler thread.
struct Sampler {
    shared: Option<&'static Arc<Shared>>,
    /// The first sample, kept here when the sampler thread is busy with another profile (two
    /// profiles at once share nothing: the second gets only its start and end).
    first: RssSample,
}

impl Sampler {
    /// Starts sampling every [`SAMPLE_INTERVAL`] after `first`, the sample the caller took at
    /// the start: the first read is one interval in, so a short profiled run shares its cores
    /// with nothing.
    fn start(t0: Instant, first: RssSample) -> Self {
        let Some(shared) = shared() else { return Self { shared: None, first } };
        let mut st = shared.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if st.active {
            return Self { shared: None, first };
        }
        *st =
            State { active: true, t0: Some(t0), next_due: Some(t0 + SAMPLE_INTERVAL), samples: vec![first] };
        drop(st);
        shared.wake.notify_one();
        Self { shared: Some(shared), first }
    }

    fn finish(self) -> Vec<RssSample> {
        let Some(shared) = self.shared else { return vec![self.first] };
        let mut st = shared.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        st.active = false;
        st.next_due = None;
        std::mem::take(&mut st.samples)
    }
}

/// Runs `f` with the RSS sampler and heap counters; with `deep_dhat_file`, also under dhat,
/// writing its `dhat-heap.json` there.
pub fn profile_memory<T>(
    f: impl FnOnce() -> T,
    deep_dhat_file: Option<&Path>,
) -> Result<(T, MemoryProfile), ProfileError> {
    let t0 = Instant::now();
    let rss_reset = sys::reset_peak_rss();
    let start_rss = sys::current_rss_bytes().unwrap_or(0);
    let first = RssSample { t_ms: t0.elapsed().as_secs_f64() * 1e3, rss_bytes: start_rss };
    reset_heap_peak();
    let heap0 = heap_snapshot();
    let sampler = Sampler::start(t0, first);
    let (out, dhat) = match deep_dhat_file {
        None => (f(), None),
        Some(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| ProfileError::io(dir, &e))?;
            }
            let profiler = dhat::Profiler::builder().file_name(path).build();
            set_deep_mode(true);
            let out = f();
            set_deep_mode(false);
            let stats = dhat::HeapStats::get();
            drop(profiler);
            (
                out,
                Some(DhatTotals {
                    total_blocks: stats.total_blocks,
                    total_bytes: stats.total_bytes,
                    max_bytes: stats.max_bytes,
                    max_blocks: stats.max_blocks,
                    file: path.display().to_string(),
                }),
            )
        }
    };
    let wall = t0.elapsed().as_secs_f64();
    let mut timeline = sampler.finish();
    let end_rss = sys::current_rss_bytes().unwrap_or(0);
    timeline.push(RssSample { t_ms: wall * 1e3, rss_bytes: end_rss });
    let sampled_peak = timeline.iter().map(|s| s.rss_bytes).max().unwrap_or(0);
    let hwm = if rss_reset { sys::peak_rss_bytes().unwrap_or(0) } else { 0 };
    let heap1 = heap_snapshot();
    let (heap_peak, growth, allocs) = match (heap0, heap1) {
        (Some(a), Some(b)) => (
            Some(b.peak_bytes.saturating_sub(a.current_bytes)),
            Some(b.current_bytes as i64 - a.current_bytes as i64),
            Some(b.allocations - a.allocations),
        ),
        _ => (None, None, None),
    };
    Ok((
        out,
        MemoryProfile {
            interval_ms: SAMPLE_INTERVAL.as_millis() as u64,
            timeline,
            peak_rss_bytes: sampled_peak.max(hwm),
            start_rss_bytes: start_rss,
            end_rss_bytes: end_rss,
            heap_peak_bytes: heap_peak,
            heap_growth_bytes: growth,
            allocations: allocs,
            dhat,
            wall_seconds: wall,
        },
    ))
}
