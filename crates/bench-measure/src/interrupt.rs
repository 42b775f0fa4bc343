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

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static GRACEFUL: AtomicBool = AtomicBool::new(false);

/// Asks running suites to stop after the run in progress (call it from a SIGINT handler).
pub fn request_interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Whether an interrupt was requested.
pub fn interrupt_requested() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Clears an interrupt request (for tests and for a new command).
pub fn clear_interrupt() {
    INTERRUPTED.store(false, Ordering::SeqCst);
}

/// From now on, the handler of [`install_interrupt_handler`] stops gracefully: the first Ctrl-C
/// finishes the run in progress and lets the program write what completed.
pub fn stop_gracefully() {
    GRACEFUL.store(true, Ordering::SeqCst);
}

/// Installs the Ctrl-C handler: before [`stop_gracefully`], a Ctrl-C exits with `exit_code` at
/// once (outputs written atomically leave nothing half-written); after it, the first Ctrl-C
/// requests an interrupt and the second exits with `exit_code` at once. Says so on stderr.
#[allow(clippy::print_stderr, reason = "the user pressed Ctrl-C and is told what happens")]
pub fn install_interrupt_handler(exit_code: i32) -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(move || {
        if !GRACEFUL.load(Ordering::SeqCst) {
            eprintln!("\ninterrupted");
            std::process::exit(exit_code);
        }
        if interrupt_requested() {
            eprintln!("\nsecond interrupt: exiting now");
            std::process::exit(exit_code);
        }
        eprintln!(
            "\ninterrupt: finishing the current run, then writing the completed runs (Ctrl-C again to exit now)"
        );
        request_interrupt();
    })
}
