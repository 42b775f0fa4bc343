//! A counting global allocator: live bytes, peak and allocation count, at the cost of one
//! shared and one mostly thread-private relaxed atomic operation per allocation; and an opt-in deep mode that hands allocations to
//! dhat (heap profile with allocation sites, much slower).
//!
//! A library cannot choose the global allocator, so the binary does:
//!
//! ```
//! #[global_allocator]
//! static ALLOC: bench_measure::CountingAlloc = bench_measure::CountingAlloc;
//!
//! fn main() {
//!     let before = bench_measure::heap_snapshot().unwrap().current_bytes;
//!     let v = vec![0u8; 1 << 20];
//!     assert!(bench_measure::heap_snapshot().unwrap().current_bytes >= before + (1 << 20));
//!     drop(v);
//! }
//! ```
//!
//! Without it, heap figures are reported as "not measured" ([`heap_tracking_active`] is false).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};

/// Keeps its contents on a cache-line pair of their own (x86 fetches lines in adjacent pairs),
/// so the counters every allocation writes do not evict the read-mostly peak and flags from the
/// other cores' caches (false sharing between the two workers of a sweep).
#[repr(align(128))]
struct OwnLine<T>(T);

/// Written on every allocation and free, by every thread: the one line that moves between
/// cores. Only the live-byte count lives here, because the peak must be checked against the
/// exact total at every allocation; the allocation count, which only ever grows, is spread over
/// [`COUNTS`] and summed when read.
struct Hot {
    current: AtomicUsize,
}

/// Shards of the allocation count, each on its own line pair; a thread adds to the shard its
/// thread-local address hashes to, so two threads allocating at once rarely share a line.
const SHARDS: usize = 64;
static COUNTS: [OwnLine<AtomicU64>; SHARDS] = [const { OwnLine(AtomicU64::new(0)) }; SHARDS];

thread_local! {
    /// Its address names the thread (no destructor, so readable even while the thread ends).
    static THREAD_MARK: u8 = const { 0 };
}

#[inline]
fn count_shard() -> &'static AtomicU64 {
    let a = THREAD_MARK.with(|m| std::ptr::from_ref(m) as usize);
    // Thread-local blocks sit at least a page apart; fold the bits above the page offset.
    let h = (a >> 12) ^ (a >> 18) ^ (a >> 24);
    &COUNTS[h % SHARDS].0
}

/// Read on every allocation, written only at start-up and by the profilers' switches.
struct Flags {
    active: AtomicBool,
    deep: AtomicBool,
    counting: AtomicBool,
}

static HOT: OwnLine<Hot> = OwnLine(Hot { current: AtomicUsize::new(0) });
static PEAK: OwnLine<AtomicUsize> = OwnLine(AtomicUsize::new(0));
static FLAGS: OwnLine<Flags> = OwnLine(Flags {
    active: AtomicBool::new(false),
    deep: AtomicBool::new(false),
    counting: AtomicBool::new(true),
});

/// The counting allocator; install it with `#[global_allocator]` in a binary.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAlloc;

#[inline]
fn on_alloc(size: usize) {
    if !FLAGS.0.counting.load(Relaxed) {
        return;
    }
    let now = HOT.0.current.fetch_add(size, Relaxed) + size;
    // Cheap check first: most allocations do not set a new peak.
    if now > PEAK.0.load(Relaxed) {
        PEAK.0.fetch_max(now, Relaxed);
    }
    count_shard().fetch_add(1, Relaxed);
}

#[inline]
fn on_dealloc(size: usize) {
    if !FLAGS.0.counting.load(Relaxed) {
        return;
    }
    HOT.0.current.fetch_sub(size, Relaxed);
}

// SAFETY: every method forwards to an allocator that upholds the GlobalAlloc contract (System,
// or dhat::Alloc which itself forwards to System) with the caller's arguments unchanged; the
// bookkeeping only touches atomics and never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract (see the impl comment).
        let p = unsafe {
            if FLAGS.0.deep.load(Relaxed) { dhat::Alloc.alloc(layout) } else { System.alloc(layout) }
        };
        if !p.is_null() {
            if !FLAGS.0.active.load(Relaxed) {
                FLAGS.0.active.store(true, Relaxed);
            }
            on_alloc(layout.size());
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe {
            if FLAGS.0.deep.load(Relaxed) {
                dhat::Alloc.alloc_zeroed(layout)
            } else {
                System.alloc_zeroed(layout)
            }
        };
        if !p.is_null() {
            on_alloc(layout.size());
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract; dhat::Alloc frees with System, so blocks may cross modes.
        unsafe {
            if FLAGS.0.deep.load(Relaxed) {
                dhat::Alloc.dealloc(ptr, layout)
            } else {
                System.dealloc(ptr, layout)
            }
        }
        on_dealloc(layout.size());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe {
            if FLAGS.0.deep.load(Relaxed) {
                dhat::Alloc.realloc(ptr, layout, new_size)
            } else {
                System.realloc(ptr, layout, new_size)
            }
        };
        if !p.is_null() {
            on_dealloc(layout.size());
            on_alloc(new_size);
        }
        p
    }
}

/// A snapshot of the heap counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct HeapSnapshot {
    /// Live heap bytes.
    pub current_bytes: u64,
    /// Highest live heap bytes since the last [`reset_heap_peak`].
    pub peak_bytes: u64,
    /// Allocations (including reallocations) since the process started.
    pub allocations: u64,
}

/// True once the counting allocator has served an allocation, i.e. it is installed.
pub fn heap_tracking_active() -> bool {
    FLAGS.0.active.load(Relaxed)
}

/// The current counters, or `None` when the counting allocator is not installed.
pub fn heap_snapshot() -> Option<HeapSnapshot> {
    heap_tracking_active().then(|| HeapSnapshot {
        current_bytes: HOT.0.current.load(Relaxed) as u64,
        peak_bytes: PEAK.0.load(Relaxed) as u64,
        allocations: COUNTS.iter().map(|c| c.0.load(Relaxed)).sum(),
    })
}

/// Resets the peak to the current live bytes, so the next peak is that of what follows.
pub fn reset_heap_peak() {
    PEAK.0.store(HOT.0.current.load(Relaxed), Relaxed);
}

/// Turns the counting on or off (on by default). Off, the allocator forwards to the system
/// allocator after one relaxed load, which is how its overhead is measured; live-byte figures
/// taken while it was off are meaningless.
pub fn set_heap_counting(on: bool) {
    FLAGS.0.counting.store(on, Relaxed);
}

/// Routes allocations through dhat (deep mode: allocation sites, much slower) or not. Only
/// meaningful while a `dhat::Profiler` runs, as in bench-profile's memory profiler.
pub fn set_deep_mode(on: bool) {
    FLAGS.0.deep.store(on, Relaxed);
}
