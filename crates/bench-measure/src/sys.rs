//! Process measurements (CPU time, resident set) and the environment fingerprint.
//!
//! CPU clocks and `getrusage` are read through libc on Unix; the resident set and its
//! high-water mark come from Linux's `/proc`. Elsewhere these readings are absent (`None`, or 0
//! for CPU time) rather than wrong, and reports say "not measured".

use std::time::{Instant, SystemTime};

use bench_core::{Environment, to_decimal};

/// CPU time of the whole process (all threads), in nanoseconds (0 where unsupported).
pub fn process_cpu_ns() -> u64 {
    #[cfg(unix)]
    return clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID);
    #[cfg(not(unix))]
    return 0;
}

/// CPU time of the calling thread, in nanoseconds (0 where unsupported).
pub fn thread_cpu_ns() -> u64 {
    #[cfg(unix)]
    return clock_ns(libc::CLOCK_THREAD_CPUTIME_ID);
    #[cfg(not(unix))]
    return 0;
}

#[cfg(unix)]
fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the clock ids used are supported on Linux.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Current resident set size in bytes (from `/proc/self/statm`), if available.
pub fn current_rss_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

/// The current resident set, read from `/proc/self/statm` kept open: each reading is one
/// `pread` (no open, no close, no allocation), for samplers that read it many times.
///
/// ```
/// if let Some(mut statm) = bench_measure::sys::RssReader::open() {
///     let a = statm.read().unwrap();
///     let big = vec![1u8; 64 << 20]; // touched: resident
///     let b = statm.read().unwrap();
///     assert!(b >= a + (32 << 20), "{a} → {b}");
///     drop(big);
/// }
/// ```
#[derive(Debug)]
pub struct RssReader {
    file: std::fs::File,
    buf: [u8; 128],
}

impl RssReader {
    /// Opens `/proc/self/statm` (`None` where it does not exist).
    pub fn open() -> Option<Self> {
        Some(Self { file: std::fs::File::open("/proc/self/statm").ok()?, buf: [0; 128] })
    }

    /// The resident set now, in bytes.
    pub fn read(&mut self) -> Option<u64> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileExt;
            let n = self.file.read_at(&mut self.buf, 0).ok()?;
            let text = std::str::from_utf8(&self.buf[..n]).ok()?;
            let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
            Some(pages * page_size())
        }
        #[cfg(not(unix))]
        None
    }
}

/// The memory page size in bytes (looked up once).
pub(crate) fn page_size() -> u64 {
    static PAGE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *PAGE.get_or_init(|| {
        #[cfg(unix)]
        {
            // SAFETY: sysconf has no preconditions.
            let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            if p > 0 { p as u64 } else { 4096 }
        }
        #[cfg(not(unix))]
        4096
    })
}

/// Resident-set high-water mark (`VmHWM`) in bytes, if available.
pub fn peak_rss_bytes() -> Option<u64> {
    vmhwm_bytes(&std::fs::read_to_string("/proc/self/status").ok()?)
}

/// The `VmHWM:` line of a `/proc/<pid>/status` text, in bytes: the one parser of it (the
/// suite and the child-process runner re-read the file into a kept buffer and call this).
///
/// ```
/// let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 1024 kB\n";
/// assert_eq!(bench_measure::sys::vmhwm_bytes(status), Some(2048 * 1024));
/// assert_eq!(bench_measure::sys::vmhwm_bytes("Name:\tx\n"), None);
/// ```
pub fn vmhwm_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// `getrusage(RUSAGE_SELF).ru_maxrss` in bytes: the larger of the resident-set high-water mark
/// (the same figure as `VmHWM`, so [`reset_peak_rss`] resets it) and a value the kernel froze
/// when the process image started (the peak of the image it replaced at exec). One syscall,
/// about a tenth of the cost of reading `/proc/self/status`; exact only when the frozen value is
/// known not to exceed the peak, which the suite checks per run.
pub fn maxrss_bytes() -> Option<u64> {
    #[cfg(unix)]
    {
        // SAFETY: `usage` is a valid, writable rusage; RUSAGE_SELF is always supported.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
        // Linux reports kilobytes, macOS bytes.
        let unit = if cfg!(target_os = "macos") { 1 } else { 1024 };
        (rc == 0 && usage.ru_maxrss > 0).then(|| usage.ru_maxrss as u64 * unit)
    }
    #[cfg(not(unix))]
    None
}

/// Resets the resident-set high-water mark to the current RSS (Linux ≥ 4.0:
/// `echo 5 > /proc/self/clear_refs`), so the next [`peak_rss_bytes`] is the peak of what
/// follows. Returns false where unsupported (the peak then covers the whole process life).
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", b"5").is_ok()
}

/// Measured cost of one `Instant::now()` in nanoseconds (median of 21 batches of 1000 reads).
pub fn timer_cost_ns() -> f64 {
    let mut batches: Vec<f64> = (0..21)
        .map(|_| {
            let t = Instant::now();
            let mut last = t;
            for _ in 0..1000 {
                last = std::hint::black_box(Instant::now());
            }
            (last - t).as_nanos() as f64 / 1000.0
        })
        .collect();
    batches.sort_by(f64::total_cmp);
    batches[10]
}

/// `release` or `debug`, with the optimisation level this crate was built at.
pub fn build_profile() -> String {
    let kind = if cfg!(debug_assertions) { "debug" } else { "release" };
    format!("{kind} (opt-level {})", env!("BENCH_OPT_LEVEL"))
}

/// True when measurements come from an unoptimised or debug-assertion build.
pub fn is_debug_build() -> bool {
    cfg!(debug_assertions) || env!("BENCH_OPT_LEVEL") == "0"
}

/// The CPU's model name (`/proc/cpuinfo`), or the architecture where it is not known.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned())
}

fn os() -> String {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    format!("{} {} {}", std::env::consts::OS, release, std::env::consts::ARCH).replace("  ", " ")
}

/// The machine's fingerprint, what keeps one machine's measurements apart from another's:
/// `BENCH_MACHINE` when set (a CI runner pool whose machines are alike, say), else the CPU model
/// and the number of CPUs this process may use, e.g. `AMD EPYC 7B13 ×2`.
pub fn machine() -> String {
    match std::env::var("BENCH_MACHINE") {
        Ok(m) if !m.trim().is_empty() => m.trim().to_owned(),
        _ => machine_of(&cpu_model(), std::thread::available_parallelism().map_or(1, |n| n.get()) as u32),
    }
}

/// The fingerprint of a machine with `cpu` and `cores` (as an environment record states them):
/// `AMD EPYC 7B13 ×2`.
pub fn machine_of(cpu: &str, cores: u32) -> String {
    format!("{cpu} ×{cores}")
}

/// The git commit of the working directory and whether the tree has uncommitted changes.
pub fn git_state() -> (Option<String>, Option<bool>) {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let commit = run(&["rev-parse", "HEAD"]);
    let dirty = commit
        .as_ref()
        .and_then(|_| run(&["status", "--porcelain", "--untracked-files=no"]))
        .map(|s| !s.is_empty());
    (commit, dirty)
}

/// An RFC 3339 UTC timestamp.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// A UTC timestamp and the process id, usable in file names and unique across concurrent
/// processes, e.g. `20261125T101500.123Z-4242`.
pub fn file_stamp() -> String {
    format!("{}-{}", now_rfc3339().replace(['-', ':'], ""), std::process::id())
}

/// The environment fingerprint (`finished` is filled in at the end of a suite).
pub fn environment() -> Environment {
    let (git_commit, git_dirty) = git_state();
    Environment {
        os: os(),
        cpu: cpu_model(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        rustc: env!("BENCH_RUSTC_VERSION").to_owned(),
        build_profile: build_profile(),
        git_commit,
        git_dirty,
        clocksource: std::fs::read_to_string(
            "/sys/devices/system/clocksource/clocksource0/current_clocksource",
        )
        .ok()
        .map(|s| s.trim().to_owned()),
        timer_cost_ns: to_decimal((timer_cost_ns() * 1000.0).round() / 1000.0).ok(),
        started: now_rfc3339(),
        finished: String::new(),
    }
}
