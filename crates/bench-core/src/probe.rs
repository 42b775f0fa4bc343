//! The runtime of line probes: per-line hit counts and exclusive times of functions annotated
//! with `#[bench_line_probe::line_probe]`.
//!
//! The attribute compiles the function twice: the original body, and a copy with a guard
//! around every statement. A call takes the probed copy only while probes are [`enabled`] (one
//! relaxed atomic load per call otherwise), so instrumented code costs nothing in normal runs.
//! A guard measures the wall time from before its statement to after it, minus everything its
//! nested guards took (inner statements of loops and blocks, their timing code included), and
//! adds one hit. The guards' own cost is therefore charged to no line: a loop header's line
//! holds its loop control, not the timing of the statements inside it.
//!
//! This module only counts; `bench-profile` turns the counters into a line_profiler-style
//! report.

use std::cell::RefCell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Instant;

static ENABLED: AtomicBool = AtomicBool::new(false);
/// Nanoseconds of a guard's own cost that fall outside its measured footprint (after its last
/// clock read), measured by [`calibrate`] and charged to no line.
static LEAK_NS: AtomicU64 = AtomicU64::new(0);
static REGISTRY: Mutex<Vec<&'static LineTable>> = Mutex::new(Vec::new());

/// Whether probed copies run.
#[inline]
pub fn enabled() -> bool {
    ENABLED.load(Relaxed)
}

/// Turns probes on or off for every annotated function.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Relaxed);
}

/// Hits and exclusive nanoseconds of one probed statement.
#[derive(Debug)]
pub struct LineCounter {
    hits: AtomicU64,
    nanos: AtomicU64,
}

impl LineCounter {
    /// A zeroed counter (usable in statics).
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Self { hits: AtomicU64::new(0), nanos: AtomicU64::new(0) }
    }

    /// (hits, exclusive nanoseconds).
    pub fn read(&self) -> (u64, u64) {
        (self.hits.load(Relaxed), self.nanos.load(Relaxed))
    }

    fn reset(&self) {
        self.hits.store(0, Relaxed);
        self.nanos.store(0, Relaxed);
    }
}

/// The probes of one annotated function.
#[derive(Debug)]
pub struct LineTable {
    /// `module::path::function`.
    pub function: &'static str,
    /// Source file as `file!()` gives it (relative to the workspace root).
    pub file: &'static str,
    /// Line of the `fn` item and of its closing brace.
    pub span: (u32, u32),
    /// Source line of each probe.
    pub lines: &'static [u32],
    /// One counter per probe.
    pub counters: &'static [LineCounter],
    registered: AtomicBool,
}

impl LineTable {
    /// A table (used by the attribute's generated statics).
    pub const fn new(
        function: &'static str,
        file: &'static str,
        span: (u32, u32),
        lines: &'static [u32],
        counters: &'static [LineCounter],
    ) -> Self {
        Self { function, file, span, lines, counters, registered: AtomicBool::new(false) }
    }

    /// Makes the table findable by [`tables`] (idempotent, cheap after the first call).
    #[inline]
    pub fn register(&'static self) {
        if !self.registered.load(Relaxed) && !self.registered.swap(true, Relaxed) {
            REGISTRY.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(self);
        }
    }

    /// Zeroes every counter.
    pub fn reset(&self) {
        self.counters.iter().for_each(LineCounter::reset);
    }
}

/// Measures how much of a guard's own cost still lands on the enclosing statement (the part
/// after its last clock read) and sets it aside from then on, so the line of a loop over cheap
/// statements shows its loop control, not the timing of its body. Returns the nanoseconds per
/// guard (median of 15 rounds of 2,000 nested guards).
pub fn calibrate() -> u64 {
    static PARENT: LineCounter = LineCounter::new();
    static CHILD_COUNTER: LineCounter = LineCounter::new();
    const K: u64 = 2_000;
    LEAK_NS.store(0, Relaxed);
    let mut rounds: Vec<u64> = (0..15)
        .map(|_| {
            PARENT.reset();
            {
                let _parent = Probe::enter(&PARENT);
                for _ in 0..K {
                    let _child = Probe::enter(&CHILD_COUNTER);
                }
            }
            PARENT.read().1 / K
        })
        .collect();
    rounds.sort_unstable();
    let leak = rounds[rounds.len() / 2];
    LEAK_NS.store(leak, Relaxed);
    leak
}

/// Every table whose function has run with probes enabled.
pub fn tables() -> Vec<&'static LineTable> {
    REGISTRY.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
}

/// Zeroes every registered table.
pub fn reset_all() {
    tables().iter().for_each(|t| t.reset());
}

thread_local! {
    /// Nanoseconds spent in nested guards, one accumulator per open guard.
    static CHILD: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Times one execution of one statement; records on drop.
#[derive(Debug)]
pub struct Probe {
    counter: &'static LineCounter,
    /// Before any of this guard's own work: its whole footprint is charged to no line.
    outer: Instant,
    start: Instant,
}

impl Probe {
    /// Starts timing a statement.
    #[inline]
    pub fn enter(counter: &'static LineCounter) -> Self {
        let outer = Instant::now();
        CHILD.with(|c| c.borrow_mut().push(0));
        Self { counter, outer, start: Instant::now() }
    }
}

impl Drop for Probe {
    #[inline]
    fn drop(&mut self) {
        let elapsed = self.start.elapsed().as_nanos() as u64;
        let nested = CHILD.with(|c| c.borrow_mut().pop().unwrap_or(0));
        self.counter.hits.fetch_add(1, Relaxed);
        self.counter.nanos.fetch_add(elapsed.saturating_sub(nested), Relaxed);
        // The enclosing statement excludes this guard's whole footprint, timing included, and
        // the calibrated remainder that falls after the last clock read.
        let footprint = self.outer.elapsed().as_nanos() as u64 + LEAK_NS.load(Relaxed);
        CHILD.with(|c| {
            if let Some(parent) = c.borrow_mut().last_mut() {
                *parent += footprint;
            }
        });
    }
}
