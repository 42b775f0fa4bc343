//! A counting global allocator: live bytes, peak and allocation count, at the cost of a few
//! relaxed atomic operations per allocation; and an opt-in deep mode that hands allocations to
//! dhat (heap profile with allocation sites, much slower).
//!
//! A library cannot choose the global allocator, so the binary does:
//!
//! ```
//! #[global_allocator]
//! static ALLOC: bench_profile::CountingAlloc = bench_profile::CountingAlloc;
//!
//! fn main() {
//!     let before = bench_profile::heap_snapshot().unwrap().current_bytes;
//!     let v = vec![0u8; 1 << 20];
//!     assert!(bench_profile::heap_snapshot().unwrap().current_bytes >= before + (1 << 20));
//!     drop(v);
//! }
//! ```
//!
//! Without it, heap figures are reported as "not measured" ([`heap_tracking_active`] is false).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ACTIVE: AtomicBool = AtomicBool::new(false);
static DEEP: AtomicBool = AtomicBool::new(false);
static COUNTING: AtomicBool = AtomicBool::new(true);

/// The counting allocator; install it with `#[global_allocator]` in a binary.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAlloc;

#[inline]
fn on_alloc(size: usize) {
    if !COUNTING.load(Relaxed) {
        return;
    }
    let now = CURRENT.fetch_add(size, Relaxed) + size;
    // Cheap check first: most allocations do not set a new peak.
    if now > PEAK.load(Relaxed) {
        PEAK.fetch_max(now, Relaxed);
    }
    ALLOCATIONS.fetch_add(1, Relaxed);
}

#[inline]
fn on_dealloc(size: usize) {
    if !COUNTING.load(Relaxed) {
        return;
    }
    CURRENT.fetch_sub(size, Relaxed);
}

// SAFETY: every method forwards to an allocator that upholds the GlobalAlloc contract (System,
// or dhat::Alloc which itself forwards to System) with the caller's arguments unchanged; the
// bookkeeping only touches atomics and never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract (see the impl comment).
        let p = unsafe { if DEEP.load(Relaxed) { dhat::Alloc.alloc(layout) } else { System.alloc(layout) } };
        if !p.is_null() {
            if !ACTIVE.load(Relaxed) {
                ACTIVE.store(true, Relaxed);
            }
            on_alloc(layout.size());
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe {
            if DEEP.load(Relaxed) { dhat::Alloc.alloc_zeroed(layout) } else { System.alloc_zeroed(layout) }
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
            if DEEP.load(Relaxed) { dhat::Alloc.dealloc(ptr, layout) } else { System.dealloc(ptr, layout) }
        }
        on_dealloc(layout.size());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe {
            if DEEP.load(Relaxed) {
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
    ACTIVE.load(Relaxed)
}

/// The current counters, or `None` when the counting allocator is not installed.
pub fn heap_snapshot() -> Option<HeapSnapshot> {
    heap_tracking_active().then(|| HeapSnapshot {
        current_bytes: CURRENT.load(Relaxed) as u64,
        peak_bytes: PEAK.load(Relaxed) as u64,
        allocations: ALLOCATIONS.load(Relaxed),
    })
}

/// Resets the peak to the current live bytes, so the next peak is that of what follows.
pub fn reset_heap_peak() {
    PEAK.store(CURRENT.load(Relaxed), Relaxed);
}

/// Turns the counting on or off (on by default). Off, the allocator forwards to the system
/// allocator after one relaxed load, which is how its overhead is measured; live-byte figures
/// taken while it was off are meaningless.
pub fn set_heap_counting(on: bool) {
    COUNTING.store(on, Relaxed);
}

/// Routes allocations through dhat (deep mode) or not. Only meaningful while a
/// `dhat::Profiler` runs; see [`crate::memory`].
pub(crate) fn set_deep(on: bool) {
    DEEP.store(on, Relaxed);
}
