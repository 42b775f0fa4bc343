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
/// Even the forced exit keeps the completed runs of the suites running
/// ([`write_open_suites`]). Says so on stderr.
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
            let kept = write_open_suites();
            if kept.is_empty() {
                eprintln!("\nsecond interrupt: exiting now");
            } else {
                let files: Vec<String> = kept
                    .iter()
                    .map(|(p, n)| format!("{} ({n} run{})", p.display(), if *n == 1 { "" } else { "s" }))
                    .collect();
                eprintln!(
                    "\nsecond interrupt: exiting now; the completed runs are kept, marked interrupted, in {} (no report)",
                    files.join(", ")
                );
            }
            std::process::exit(exit_code);
        }
        eprintln!(
            "\ninterrupt: finishing the current run, then writing the completed runs (Ctrl-C again to exit now)"
        );
        request_interrupt();
    })
}

/// The suites running now, with what they have completed: a forced exit (the second Ctrl-C)
/// writes them before it exits, so even then the completed runs are kept (marked
/// interrupted). Keyed by the raw-data file each suite will write.
static OPEN_SUITES: std::sync::Mutex<Vec<(std::path::PathBuf, bench_core::RawData)>> =
    std::sync::Mutex::new(Vec::new());

/// Records what the suite writing `path` has completed so far (its status set to interrupted:
/// this is what a forced exit keeps). A suite only appends records, so after the first call
/// only the new ones are copied: keeping a suite of `n` runs costs `n` record copies, not `n²`.
pub(crate) fn keep_open(path: &std::path::Path, raw: &bench_core::RawData) {
    let mut open = OPEN_SUITES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match open.iter_mut().find(|(p, _)| p == path) {
        Some((_, kept)) => {
            let new = |have: usize, all: &[bench_core::RunRecord]| all[have.min(all.len())..].to_vec();
            kept.runs.extend(new(kept.runs.len(), &raw.runs));
            kept.unpaired_runs.extend(new(kept.unpaired_runs.len(), &raw.unpaired_runs));
            let failed = kept.failed_runs.len().min(raw.failed_runs.len());
            kept.failed_runs.extend_from_slice(&raw.failed_runs[failed..]);
        }
        None => {
            let mut raw = raw.clone();
            raw.status = bench_core::SuiteStatus::Interrupted;
            open.push((path.to_path_buf(), raw));
        }
    }
}

/// The suite writing `path` has ended and written its own file.
pub(crate) fn close_open(path: &std::path::Path) {
    OPEN_SUITES.lock().unwrap_or_else(std::sync::PoisonError::into_inner).retain(|(p, _)| p != path);
}

/// Writes every open suite's completed runs (atomically, marked interrupted) and returns the
/// files written with their run counts: what the second Ctrl-C keeps before exiting.
pub fn write_open_suites() -> Vec<(std::path::PathBuf, usize)> {
    let open = OPEN_SUITES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    open.iter()
        .filter(|(_, raw)| !raw.runs.is_empty())
        .filter_map(|(path, raw)| raw.write(path).ok().map(|()| (path.clone(), raw.runs.len())))
        .collect()
}
