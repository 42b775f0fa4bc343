//! A SIGPROF sampler that walks frame pointers inside the signal handler.
//!
//! Async-signal safety: the handler only reads registers from the `ucontext`, makes raw
//! syscalls (`gettid`, `prctl`, `write`/`read` on a pipe to validate memory), and appends to a
//! buffer preallocated before the timer starts, reserving its slot with one atomic
//! `fetch_add`. It never allocates, locks or unwinds with libgcc.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, AtomicUsize, Ordering::SeqCst};

use crate::ProfileError;

const MAX_DEPTH: usize = 128;
/// Words in the sample buffer (32 MiB): about 200k samples of typical depth.
const BUFFER_WORDS: usize = 4 << 20;
const HEADER_WORDS: usize = 4; // depth, tid, name (16 bytes)

static ACTIVE: AtomicBool = AtomicBool::new(false);
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static BUFFER: AtomicPtr<u64> = AtomicPtr::new(std::ptr::null_mut());
static POS: AtomicUsize = AtomicUsize::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static PIPE_R: AtomicI32 = AtomicI32::new(-1);
static PIPE_W: AtomicI32 = AtomicI32::new(-1);
static RUNNING: AtomicBool = AtomicBool::new(false);

/// One recorded sample.
#[derive(Debug, Clone)]
pub(crate) struct RawSample {
    /// Interrupted instruction pointer first, then return addresses, leaf to root.
    pub frames: Vec<u64>,
    /// Thread name at the time of the sample.
    pub thread: String,
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
    // SAFETY: [start, start + need) was reserved exclusively by the fetch_add above and lies
    // inside the BUFFER_WORDS allocation.
    unsafe {
        let slot = buf.add(start);
        *slot = depth as u64;
        *slot.add(1) = tid;
        *slot.add(2) = u64::from_ne_bytes(name[..8].try_into().expect("8"));
        *slot.add(3) = u64::from_ne_bytes(name[8..].try_into().expect("8"));
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
            let thread = String::from_utf8_lossy(&name[..end]).into_owned();
            let frames = self.buffer[i + HEADER_WORDS..i + HEADER_WORDS + depth].to_vec();
            samples.push(RawSample { frames, thread });
            i += HEADER_WORDS + depth;
        }
        RUNNING.store(false, SeqCst);
        RawProfile { samples }
    }
}

/// Names of the functions at `addr`, outermost first (a function and the functions inlined
/// into it at that address); `[unknown]` when nothing resolves.
pub(crate) fn symbolize(addr: u64) -> Vec<String> {
    let mut names = Vec::new();
    backtrace::resolve(addr as *mut std::ffi::c_void, |sym| {
        if let Some(n) = sym.name() {
            names.push(super::clean_symbol(&format!("{n:#}")));
        }
    });
    if names.is_empty() {
        names.push(format!("[unknown {addr:#x}]"));
    }
    names.reverse();
    names
}
