//! A SIGPROF sampler that walks frame pointers inside the signal handler.
//!
//! Async-signal safety: the handler only reads registers from the `ucontext`, makes raw
//! syscalls (`gettid`, `prctl`, `write`/`read` on a pipe to validate memory), and appends to a
//! buffer preallocated before the timer starts, reserving its slot with one atomic
//! `fetch_add`. It never allocates, locks or unwinds with libgcc.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{LazyLock, Mutex};

use crate::ProfileError;

const MAX_DEPTH: usize = 128;
/// Words in the sample buffer (32 MiB): about 200k samples of typical depth.
const BUFFER_WORDS: usize = 4 << 20;
pub(crate) const CANDIDATES: usize = 3;
const HEADER_WORDS: usize = 6 + CANDIDATES; // depth, tid, name (16 bytes), word at the stack pointer, time, candidates
const MAX_RANGES: usize = 128;

static ACTIVE: AtomicBool = AtomicBool::new(false);
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static BUFFER: AtomicPtr<u64> = AtomicPtr::new(std::ptr::null_mut());
static POS: AtomicUsize = AtomicUsize::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static PIPE_R: AtomicI32 = AtomicI32::new(-1);
static PIPE_W: AtomicI32 = AtomicI32::new(-1);
static RUNNING: AtomicBool = AtomicBool::new(false);
/// Executable mappings: (start, end, is the main executable), read before the timer starts.
static RANGES: [[AtomicUsize; 3]; MAX_RANGES] =
    [const { [AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0)] }; MAX_RANGES];
static RANGE_COUNT: AtomicUsize = AtomicUsize::new(0);

/// Loads the executable mappings of the process from `/proc/self/maps`.
pub(crate) fn load_ranges() {
    let exe = std::fs::read_link("/proc/self/exe").ok();
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let mut n = 0;
    let mut signature = std::hash::DefaultHasher::new();
    for line in maps.lines() {
        let mut parts = line.split_whitespace();
        let (Some(range), Some(perms)) = (parts.next(), parts.next()) else { continue };
        if !perms.contains('x') || n == MAX_RANGES {
            continue;
        }
        std::hash::Hash::hash(line, &mut signature);
        let path = parts.nth(3).map(std::path::PathBuf::from);
        let Some((a, b)) = range.split_once('-') else { continue };
        let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16)) else { continue };
        RANGES[n][0].store(a, SeqCst);
        RANGES[n][1].store(b, SeqCst);
        RANGES[n][2].store(usize::from(path.is_some() && path == exe), SeqCst);
        n += 1;
    }
    RANGE_COUNT.store(n, SeqCst);
    let signature = std::hash::Hasher::finish(&signature);
    let mut symbols = SYMBOLS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if symbols.0 != signature {
        *symbols = (signature, HashMap::new());
    }
}

/// Names by code address, kept across the profiles of a process: resolving an address is the
/// dearest part of a short profile (debug info lookups), and the code does not move. Keyed by a
/// signature of the executable mappings, and emptied when they change (a library loaded or
/// unloaded could put other code at a known address).
type SymbolCache = (u64, HashMap<u64, Vec<super::Located>>);
static SYMBOLS: LazyLock<Mutex<SymbolCache>> = LazyLock::new(|| Mutex::new((0, HashMap::new())));

/// Some(true) for the main executable's code, Some(false) for other code, None otherwise.
#[inline]
fn code_kind(addr: usize) -> Option<bool> {
    let n = RANGE_COUNT.load(SeqCst);
    (0..n).find_map(|i| {
        let (a, b) = (RANGES[i][0].load(SeqCst), RANGES[i][1].load(SeqCst));
        (a <= addr && addr < b).then(|| RANGES[i][2].load(SeqCst) == 1)
    })
}

/// The caller a frame-pointer walk missed, when the leaf is frameless: a frameless leaf hides
/// its caller from the walk; its return address is then the word at the stack pointer (`top`),
/// or, in a library built without frame pointers, among the words between the stack pointer and
/// the frame pointer that point into the executable's code (`candidates`, nearest first).
/// Returned only when it is a call's return address not already in the stack.
pub(crate) fn recovered_caller(frames: &[u64], top: u64, candidates: &[u64]) -> Option<u64> {
    let leaf = *frames.first()?;
    match code_kind(leaf as usize) {
        // In a library: the candidate that is a call's return address into a function the next
        // frame calls directly (stale return addresses left in the leaf's stack slots fail this),
        // else the first candidate that is a call's return address.
        Some(false) => {
            let usable = |c: u64| c != 0 && frames.get(1) != Some(&c) && follows_call(c);
            let consistent = |c: u64| frames.get(1).is_some_and(|&next| calls_function_of(next, c - 1));
            candidates
                .iter()
                .copied()
                .find(|&c| usable(c) && consistent(c))
                .or_else(|| candidates.iter().copied().find(|&c| usable(c)))
        }
        // In the executable: only a frameless leaf at its first instruction or a tiny leaf that
        // never touches the stack, recognised exactly: the word at the stack pointer returns
        // from a direct call to the leaf's own function.
        _ => (top != 0 && frames.get(1) != Some(&top) && calls_function_of(top, leaf + 1)).then_some(top),
    }
}

/// Up to `CANDIDATES` words of a copy of the stack (`stack`, starting at the stack pointer
/// `sp`) that point into the executable's code, nearest first, looking no further than the
/// frame pointer `fp` when it is above the stack pointer.
pub(crate) fn stack_candidates(stack: &[u8], sp: u64, fp: u64) -> [u64; CANDIDATES] {
    let mut out = [0u64; CANDIDATES];
    let limit = if fp > sp && fp - sp <= stack.len() as u64 { (fp - sp) as usize } else { stack.len() };
    let words = stack[..limit].chunks_exact(8).map(|w| u64::from_ne_bytes(w.try_into().expect("8 bytes")));
    for (slot, w) in out.iter_mut().zip(words.filter(|&w| code_kind(w as usize) == Some(true))) {
        *slot = w;
    }
    out
}

/// One recorded sample.
#[derive(Debug, Clone)]
pub(crate) struct RawSample {
    /// Interrupted instruction pointer first, then return addresses, leaf to root.
    pub frames: Vec<u64>,
    /// Thread name at the time of the sample (shared by the thread's samples).
    pub thread: std::sync::Arc<str>,
    /// Thread id.
    pub tid: u64,
    /// `CLOCK_MONOTONIC` at the sample, nanoseconds.
    pub time_ns: u64,
    /// The thread was in the kernel (a system call or fault entered from `frames`).
    pub in_kernel: bool,
}

/// True when the bytes just before `addr` encode a `call` instruction, i.e. `addr` is where a
/// call returns to. Only called on addresses that resolve to a symbol of a loaded object, so
/// the bytes are mapped code.
fn follows_call(addr: u64) -> bool {
    if addr < 8 || code_kind(addr as usize).is_none() || resolve_count(addr) == 0 {
        return false;
    }
    // SAFETY: `addr` lies in a loaded object's code (it resolved to a symbol); the 7 bytes
    // before it are part of the same text mapping.
    let b = unsafe { std::slice::from_raw_parts((addr - 7) as *const u8, 7) };
    let modrm_call = |m: u8| (m >> 3) & 7 == 2;
    // call rel32
    b[2] == 0xE8
        // call reg (ff /2, mod 3), optionally with a REX prefix
        || (b[5] == 0xFF && modrm_call(b[6]) && b[6] >> 6 == 3)
        // call [rip+disp32] or [reg+disp32] (ff /2, mod 0 rm 5 or mod 2)
        || (b[1] == 0xFF && modrm_call(b[2]) && (b[2] >> 6 == 2 || (b[2] >> 6 == 0 && b[2] & 7 == 5)))
        // call [reg+disp8] (ff /2, mod 1)
        || (b[4] == 0xFF && modrm_call(b[5]) && b[5] >> 6 == 1)
        // call [reg] (ff /2, mod 0)
        || (b[5] == 0xFF && modrm_call(b[6]) && b[6] >> 6 == 0 && b[6] & 7 != 4 && b[6] & 7 != 5)
}

/// True when `ret` follows a direct `call rel32` whose target lies in the same function as the
/// byte before `inside` (`backtrace::resolve`'s convention: pass an instruction pointer plus
/// one, or a return address minus one), compared by the outermost function the debug info
/// names at each.
fn calls_function_of(ret: u64, inside: u64) -> bool {
    if ret < 8 || resolve_count(ret) == 0 || code_kind(ret as usize).is_none() {
        return false;
    }
    // SAFETY: `ret` lies in mapped code (see `follows_call`).
    let b = unsafe { std::slice::from_raw_parts((ret - 5) as *const u8, 5) };
    if b[0] != 0xE8 {
        return false;
    }
    let target = ret.wrapping_add_signed(i64::from(i32::from_le_bytes([b[1], b[2], b[3], b[4]])));
    if code_kind(target as usize).is_none() {
        return false;
    }
    let outer = |a: u64| locate(a).first().map(|l| l.function.clone()).filter(|f| !f.starts_with("[unknown"));
    // `backtrace::resolve` looks up the byte before an address (it expects return addresses):
    // one past the target finds the target itself.
    matches!((outer(target + 1), outer(inside)), (Some(a), Some(b)) if a == b)
}

/// 1 when the debug info names a function at `addr` (the byte before it, as
/// `backtrace::resolve` looks up), else 0; cached with the names, since the recovery asks it
/// for every sample taken in a library.
fn resolve_count(addr: u64) -> usize {
    usize::from(locate(addr).first().is_some_and(|l| !l.function.starts_with("[unknown")))
}

/// All samples of a session.
#[derive(Debug, Clone)]
pub(crate) struct RawProfile {
    pub samples: Vec<RawSample>,
}

/// True when `len` bytes at `addr` are readable: the kernel copies them into a pipe (and
/// reports EFAULT instead of faulting when they are not); the bytes are read back at once so
/// the pipe never fills.
#[inline]
unsafe fn readable(addr: usize, len: usize) -> bool {
    let (r, w) = (PIPE_R.load(SeqCst), PIPE_W.load(SeqCst));
    if r < 0 || w < 0 {
        return false;
    }
    // SAFETY: write/read are async-signal-safe syscalls; `addr` is only passed to the kernel.
    unsafe {
        let n = libc::write(w, addr as *const libc::c_void, len);
        if n != len as isize {
            return false;
        }
        let mut sink = [0u8; 16];
        let _ = libc::read(r, sink.as_mut_ptr().cast(), len.min(16));
    }
    true
}

extern "C" fn on_sigprof(_sig: libc::c_int, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    IN_FLIGHT.fetch_add(1, SeqCst);
    // SAFETY: errno is thread-local; saving and restoring it keeps the interrupted code's view.
    let saved_errno = unsafe { *libc::__errno_location() };
    if ACTIVE.load(SeqCst) && !ctx.is_null() {
        // SAFETY: the kernel passes a valid ucontext_t for SA_SIGINFO handlers.
        unsafe { record(ctx.cast::<libc::ucontext_t>()) };
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved_errno };
    IN_FLIGHT.fetch_sub(1, SeqCst);
}

/// Walks the interrupted thread's frame-pointer chain and appends one sample.
unsafe fn record(uc: *mut libc::ucontext_t) {
    // SAFETY: reading general registers saved by the kernel in the ucontext.
    let (rip, mut fp, sp) = unsafe {
        let g = &(*uc).uc_mcontext.gregs;
        (
            g[libc::REG_RIP as usize] as usize,
            g[libc::REG_RBP as usize] as usize,
            g[libc::REG_RSP as usize] as usize,
        )
    };
    // The word at the stack pointer: the return address when the interrupted function has not
    // set up a frame (a frameless leaf such as a libm routine, or a prologue/epilogue).
    // SAFETY: `readable` only hands the address to the kernel; the read follows its check.
    let stack_top =
        if sp % 8 == 0 && unsafe { readable(sp, 8) } { unsafe { *(sp as *const u64) } } else { 0 };
    // When the interrupted code is not in the main executable (glibc, libm: built without frame
    // pointers), the frame-pointer chain skips its caller. Remember the first few words between
    // the stack pointer and the frame pointer that point into the main executable's code: the
    // caller's return address is among them.
    let mut candidates = [0u64; CANDIDATES];
    if code_kind(rip) == Some(false) && sp % 8 == 0 {
        // Up to the frame pointer when it looks like one; the library may use rbp as a
        // general register, so otherwise scan a fixed window.
        let end = if fp > sp && fp - sp <= 4096 { fp } else { sp + 1024 };
        let (mut at, mut found, mut page) = (sp, 0, usize::MAX);
        while at + 8 <= end && found < CANDIDATES {
            if at >> 12 != page {
                // SAFETY: `readable` only hands the address to the kernel.
                if !unsafe { readable(at, 8) } {
                    break;
                }
                page = at >> 12;
            }
            // SAFETY: the page holding these 8 bytes was just validated.
            let w = unsafe { *(at as *const usize) };
            if code_kind(w) == Some(true) {
                candidates[found] = w as u64;
                found += 1;
            }
            at += 8;
        }
    }
    let mut frames = [0u64; MAX_DEPTH];
    frames[0] = rip as u64;
    let mut depth = 1;
    let mut checked_page = usize::MAX;
    while depth < MAX_DEPTH {
        // A frame record lives on the stack above the stack pointer, 16-byte pairs, and each
        // caller's record is above its callee's.
        if fp == 0 || fp % 8 != 0 || fp < sp || fp - sp > (256 << 20) {
            break;
        }
        let page = fp >> 12;
        if page != checked_page || (fp + 15) >> 12 != page {
            // SAFETY: `readable` only hands the address to the kernel.
            if !unsafe { readable(fp, 16) } {
                break;
            }
            checked_page = page;
        }
        // SAFETY: the 16 bytes at `fp` were just validated as readable.
        let (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if ret == 0 {
            break;
        }
        frames[depth] = ret as u64;
        depth += 1;
        if next <= fp {
            break;
        }
        fp = next;
    }
    let need = HEADER_WORDS + depth;
    let start = POS.fetch_add(need, SeqCst);
    let buf = BUFFER.load(SeqCst);
    if buf.is_null() || start + need > BUFFER_WORDS {
        DROPPED.fetch_add(1, SeqCst);
        return;
    }
    // SAFETY: raw syscalls without memory arguments beyond our local buffer.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) } as u64;
    let mut name = [0u8; 16];
    // SAFETY: PR_GET_NAME writes at most 16 bytes into `name`.
    unsafe { libc::prctl(libc::PR_GET_NAME, name.as_mut_ptr() as libc::c_ulong, 0, 0, 0) };
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime is async-signal-safe and writes into `now`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    let time_ns = (now.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(now.tv_nsec as u64);
    // SAFETY: [start, start + need) was reserved exclusively by the fetch_add above and lies
    // inside the BUFFER_WORDS allocation.
    unsafe {
        let slot = buf.add(start);
        *slot = depth as u64;
        *slot.add(1) = tid;
        *slot.add(2) = u64::from_ne_bytes(name[..8].try_into().expect("8"));
        *slot.add(3) = u64::from_ne_bytes(name[8..].try_into().expect("8"));
        *slot.add(4) = stack_top;
        *slot.add(5) = time_ns;
        for (k, c) in candidates.iter().enumerate() {
            *slot.add(6 + k) = *c;
        }
        for (i, f) in frames[..depth].iter().enumerate() {
            *slot.add(HEADER_WORDS + i) = *f;
        }
    }
}

/// A running sampler; stop it to get the samples. One per process at a time.
pub(crate) struct Session {
    old_action: libc::sigaction,
    buffer: Vec<u64>,
}

impl Session {
    /// Installs the handler and starts the profiling timer at `frequency_hz`.
    pub(crate) fn start(frequency_hz: i32) -> Result<Self, ProfileError> {
        if !(1..=10_000).contains(&frequency_hz) {
            return Err(ProfileError::Profiler(format!(
                "sampling frequency {frequency_hz} Hz: expected 1 to 10000"
            )));
        }
        if RUNNING.swap(true, SeqCst) {
            return Err(ProfileError::Profiler("a CPU profile is already running in this process".into()));
        }
        let mut fds = [0i32; 2];
        // SAFETY: pipe2 writes two descriptors into `fds`.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
            RUNNING.store(false, SeqCst);
            return Err(ProfileError::Profiler("cannot create the validation pipe".into()));
        }
        load_ranges();
        PIPE_R.store(fds[0], SeqCst);
        PIPE_W.store(fds[1], SeqCst);
        let mut buffer = vec![0u64; BUFFER_WORDS];
        BUFFER.store(buffer.as_mut_ptr(), SeqCst);
        POS.store(0, SeqCst);
        DROPPED.store(0, SeqCst);
        // SAFETY: a zeroed sigaction is a valid starting value; we then set the handler, flags
        // and an empty mask, and install it, keeping the previous action to restore.
        let old_action = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigprof as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGPROF, &action, &mut old);
            old
        };
        ACTIVE.store(true, SeqCst);
        let usec = (1_000_000 / i64::from(frequency_hz)).max(1);
        let interval = libc::timeval { tv_sec: usec / 1_000_000, tv_usec: usec % 1_000_000 };
        let timer = libc::itimerval { it_interval: interval, it_value: interval };
        // SAFETY: setitimer with a valid itimerval.
        unsafe { libc::setitimer(libc::ITIMER_PROF, &timer, std::ptr::null_mut()) };
        Ok(Self { old_action, buffer })
    }

    /// Stops the timer, waits for handlers in flight, restores the previous handler and
    /// decodes the samples.
    pub(crate) fn stop(self) -> RawProfile {
        let zero = libc::itimerval {
            it_interval: libc::timeval { tv_sec: 0, tv_usec: 0 },
            it_value: libc::timeval { tv_sec: 0, tv_usec: 0 },
        };
        // SAFETY: disabling the timer.
        unsafe { libc::setitimer(libc::ITIMER_PROF, &zero, std::ptr::null_mut()) };
        ACTIVE.store(false, SeqCst);
        while IN_FLIGHT.load(SeqCst) != 0 {
            std::hint::spin_loop();
        }
        // SAFETY: restoring the action saved at start.
        unsafe { libc::sigaction(libc::SIGPROF, &self.old_action, std::ptr::null_mut()) };
        BUFFER.store(std::ptr::null_mut(), SeqCst);
        for fd in [PIPE_R.swap(-1, SeqCst), PIPE_W.swap(-1, SeqCst)] {
            // SAFETY: closing descriptors this session opened.
            unsafe { libc::close(fd) };
        }
        let used = POS.load(SeqCst).min(BUFFER_WORDS);
        let mut samples = Vec::new();
        let mut i = 0;
        while i + HEADER_WORDS <= used {
            let depth = self.buffer[i] as usize;
            if depth == 0 || i + HEADER_WORDS + depth > used {
                break;
            }
            let mut name = [0u8; 16];
            name[..8].copy_from_slice(&self.buffer[i + 2].to_ne_bytes());
            name[8..].copy_from_slice(&self.buffer[i + 3].to_ne_bytes());
            let end = name.iter().position(|&b| b == 0).unwrap_or(16);
            let thread: std::sync::Arc<str> = String::from_utf8_lossy(&name[..end]).into();
            let mut frames = self.buffer[i + HEADER_WORDS..i + HEADER_WORDS + depth].to_vec();
            let candidates = &self.buffer[i + 6..i + 6 + CANDIDATES];
            if let Some(r) = recovered_caller(&frames, self.buffer[i + 4], candidates) {
                frames.insert(1, r);
            }
            samples.push(RawSample {
                frames,
                thread,
                tid: self.buffer[i + 1],
                time_ns: self.buffer[i + 5],
                in_kernel: false,
            });
            i += HEADER_WORDS + depth;
        }
        RUNNING.store(false, SeqCst);
        RawProfile { samples }
    }
}

/// The functions at `addr`, outermost first (a function and the functions inlined into it at
/// that address), each with its file and line (in an outer function, the line of the inlined
/// call); `[unknown …]` when nothing resolves.
pub(crate) fn locate(addr: u64) -> Vec<super::Located> {
    let mut symbols = SYMBOLS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    symbols.1.entry(addr).or_insert_with(|| resolve(addr)).clone()
}

fn resolve(addr: u64) -> Vec<super::Located> {
    let mut found = Vec::new();
    backtrace::resolve(addr as *mut std::ffi::c_void, |sym| {
        if let Some(n) = sym.name() {
            found.push(super::Located {
                function: super::clean_symbol(&format!("{n:#}")).into(),
                file: sym.filename().map(|f| f.to_string_lossy().into()),
                line: sym.lineno(),
            });
        }
    });
    if found.is_empty() {
        found.push(super::Located {
            function: format!("[unknown {addr:#x}]").into(),
            file: None,
            line: None,
        });
    }
    found.reverse();
    found
}
