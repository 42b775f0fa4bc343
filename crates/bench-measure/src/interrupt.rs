//! Ctrl-C for long measurements: a request that running suites honour after the run in progress,
//! and the handler a program installs so that the first Ctrl-C finishes what is running and
//! keeps it, and a second exits at once.
//!
//! ```
//! use bench_measure::{clear_interrupt, interrupt_requested, request_interrupt};
//! request_interrupt();
//! assert!(interrupt_requested());
//! clear_interrupt();
//! assert!(!interrupt_requested());
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static GRACEFUL: AtomicBool = AtomicBool::new(false);
/// When the interrupt was requested, in microseconds after [`epoch`] (0: not yet).
static REQUESTED_AT: AtomicU64 = AtomicU64::new(0);

/// Interrupts this close together are one: GNU `timeout` (and `kill` of a process group) sends
/// SIGINT to the child and then to its whole process group, so one signal arrives twice, a few
/// microseconds apart; a person pressing Ctrl-C twice is far slower.
pub const SAME_INTERRUPT_WITHIN: Duration = Duration::from_millis(300);

fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_us() -> u64 {
    (epoch().elapsed().as_micros() as u64).max(1)
}

/// Whether an interrupt arriving now repeats the one already requested (see
/// [`SAME_INTERRUPT_WITHIN`]).
fn repeats_the_request() -> bool {
    let at = REQUESTED_AT.load(Ordering::SeqCst);
    at != 0 && now_us().saturating_sub(at) < SAME_INTERRUPT_WITHIN.as_micros() as u64
}

/// Asks running suites to stop after the run in progress (call it from a SIGINT handler).
pub fn request_interrupt() {
    if !INTERRUPTED.swap(true, Ordering::SeqCst) {
        REQUESTED_AT.store(now_us(), Ordering::SeqCst);
    }
}

/// Whether an interrupt was requested.
pub fn interrupt_requested() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Clears an interrupt request (for tests and for a new command).
pub fn clear_interrupt() {
    INTERRUPTED.store(false, Ordering::SeqCst);
    REQUESTED_AT.store(0, Ordering::SeqCst);
}

/// From now on, the handler of [`install_interrupt_handler`] stops gracefully: the first Ctrl-C
/// finishes the run in progress and lets the program write what completed.
pub fn stop_gracefully() {
    GRACEFUL.store(true, Ordering::SeqCst);
}

/// Installs the Ctrl-C handler: before [`stop_gracefully`], a Ctrl-C exits with `exit_code` at
/// once (outputs written atomically leave nothing half-written); after it, the first Ctrl-C
/// requests an interrupt and the second exits with `exit_code` at once — a second one within
/// [`SAME_INTERRUPT_WITHIN`] of the first is the same signal delivered twice and is ignored.
/// Says so on stderr.
#[allow(clippy::print_stderr, reason = "the user pressed Ctrl-C and is told what happens")]
pub fn install_interrupt_handler(exit_code: i32) -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(move || {
        if !GRACEFUL.load(Ordering::SeqCst) {
            eprintln!("\ninterrupted");
            std::process::exit(exit_code);
        }
        if interrupt_requested() {
            if repeats_the_request() {
                return; // the process-group copy of the same signal
            }
            eprintln!("\nsecond interrupt: exiting now");
            std::process::exit(exit_code);
        }
        eprintln!(
            "\ninterrupt: finishing the current run, then writing the completed runs (Ctrl-C again to exit now)"
        );
        request_interrupt();
    })
}
