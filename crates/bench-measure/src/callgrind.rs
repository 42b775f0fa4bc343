//! Valgrind client requests that mark the measured region of a program run under Callgrind
//! with `--instr-atstart=no`: [`start_instrumentation`] before it and [`stop_instrumentation`]
//! after, so that loading data, building pools and warming caches are not counted.
//!
//! Instrumentation is switched for the whole process, every thread alike (unlike
//! `--toggle-collect` and `CALLGRIND_TOGGLE_COLLECT`, which switch only the calling thread's
//! collection and miss the work a thread pool does for it).
//!
//! A client request is a no-op sequence of instructions that Valgrind's JIT recognises (four
//! rotations of `rdi` that add up to a full turn, then `xchg rbx, rbx`); natively it does
//! nothing but cost a few cycles. It is written here for x86-64 Linux (the sequence of
//! Valgrind's `valgrind.h`) because the crates that wrap it build C with the Valgrind headers
//! or need libclang at build time, and this workspace must build with nothing but cargo.
//! Elsewhere the functions do nothing and [`running_on_valgrind`] is `false`.
//!
//! ```
//! use bench_measure::callgrind;
//! // Natively (not under Valgrind) the requests do nothing.
//! assert!(!callgrind::running_on_valgrind());
//! callgrind::start_instrumentation();
//! let n: u64 = (0..1000u64).sum();
//! callgrind::stop_instrumentation();
//! assert_eq!(n, 499_500);
//! ```

/// `VG_USERREQ_TOOL_BASE('C', 'T')`: Callgrind's requests follow it in `callgrind.h`'s order
/// (dump, zero, toggle collect, dump at, start instrumentation, stop instrumentation).
const CALLGRIND_BASE: u64 = ((b'C' as u64) << 24) | ((b'T' as u64) << 16);
const START_INSTRUMENTATION: u64 = CALLGRIND_BASE + 4;
const STOP_INSTRUMENTATION: u64 = CALLGRIND_BASE + 5;
/// `VG_USERREQ__RUNNING_ON_VALGRIND` of `valgrind.h`.
const RUNNING_ON_VALGRIND: u64 = 0x1001;

/// Sends `request` with no arguments; returns Valgrind's answer, or `default` when the program
/// does not run under Valgrind.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn client_request(default: u64, request: u64) -> u64 {
    let args: [u64; 6] = [request, 0, 0, 0, 0, 0];
    let mut result = default;
    // SAFETY: the rotations of rdi add up to 128 bits (rdi is declared clobbered all the same),
    // `xchg rbx, rbx` changes nothing, rax points at six readable u64; natively the sequence
    // leaves rdx as it was, under Valgrind rdx receives the answer.
    unsafe {
        std::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            inout("rdx") result,
            in("rax") args.as_ptr(),
            out("rdi") _,
            options(nostack),
        );
    }
    result
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn client_request(default: u64, _request: u64) -> u64 {
    default
}

/// Whether this process runs under Valgrind (any of its tools).
pub fn running_on_valgrind() -> bool {
    client_request(0, RUNNING_ON_VALGRIND) != 0
}

/// Switches Callgrind's instrumentation on for every thread (a no-op when it is on, or when the
/// process does not run under Callgrind).
pub fn start_instrumentation() {
    client_request(0, START_INSTRUMENTATION);
}

/// Switches Callgrind's instrumentation off for every thread: nothing is counted until it is
/// switched on again.
pub fn stop_instrumentation() {
    client_request(0, STOP_INSTRUMENTATION);
}
