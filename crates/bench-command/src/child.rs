//! One run of a command as a child process: wall time from a monotonic clock around
//! spawn → reap, user + system CPU time and peak resident set from the kernel's accounting of
//! that child (`wait4`), and its exit status.

use std::io::{Read, Seek, SeekFrom};
use std::process::{ExitStatus, Stdio};
use std::time::Instant;

use bench_core::RunRecord;
use serde::Serialize;

use crate::{CommandError, CommandSpec, Shell};

/// What a child's accounting says about one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildUsage {
    /// Spawn → reap, nanoseconds.
    pub wall_ns: u64,
    /// User + system CPU time of the child and the descendants it waited for, nanoseconds.
    pub cpu_ns: u64,
    /// Peak resident set of the child (or of its largest waited-for descendant), bytes.
    pub peak_rss_bytes: Option<u64>,
}

/// Waits for `child` and returns its status and usage. `std::process::Child::wait` does not
/// return the child's resource usage, and `getrusage(RUSAGE_CHILDREN)` sums (and for the peak,
/// maximises) over every child ever reaped, so a per-run figure needs `wait4` itself.
#[cfg(unix)]
fn reap(child: &mut std::process::Child) -> std::io::Result<(ExitStatus, Option<libc::rusage>)> {
    use std::os::unix::process::ExitStatusExt as _;
    let pid = libc::pid_t::try_from(child.id()).map_err(std::io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is this process's own child, not yet reaped (std only reaps in
        // `wait`/`try_wait`, which are never called on it); both out-pointers are valid for writes.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == pid {
            return Ok((ExitStatus::from_raw(status), Some(usage)));
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

#[cfg(not(unix))]
fn reap(child: &mut std::process::Child) -> std::io::Result<(ExitStatus, Option<()>)> {
    Ok((child.wait()?, None))
}

#[cfg(unix)]
fn usage_of(wall_ns: u64, usage: Option<libc::rusage>) -> ChildUsage {
    let tv = |t: libc::timeval| (t.tv_sec as u64) * 1_000_000_000 + (t.tv_usec as u64) * 1_000;
    match usage {
        Some(u) => ChildUsage {
            wall_ns,
            cpu_ns: tv(u.ru_utime) + tv(u.ru_stime),
            // Linux reports kibibytes, macOS bytes.
            peak_rss_bytes: Some(if cfg!(target_os = "macos") {
                u.ru_maxrss as u64
            } else {
                u.ru_maxrss as u64 * 1024
            }),
        },
        None => ChildUsage { wall_ns, cpu_ns: 0, peak_rss_bytes: None },
    }
}

#[cfg(not(unix))]
fn usage_of(wall_ns: u64, _usage: Option<()>) -> ChildUsage {
    ChildUsage { wall_ns, cpu_ns: 0, peak_rss_bytes: None }
}

/// How a run ended, in words: `exit code 3`, `killed by signal 9`.
pub fn describe_status(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit code {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(sig) = status.signal() {
            return format!("killed by signal {sig}");
        }
    }
    status.to_string()
}

/// The last lines of a command's standard error, for a failure message.
pub fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(2000)..]);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let shown = lines[lines.len().saturating_sub(3)..].join(" | ");
    if shown.is_empty() { "(nothing on stderr)".into() } else { shown }
}

/// A run with its output captured (the equivalence gate's run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// Everything written to standard output.
    pub stdout: Vec<u8>,
    /// Everything written to standard error.
    pub stderr: Vec<u8>,
    /// How it ended.
    pub status: ExitStatus,
    /// Spawn → reap on a monotonic clock, and the kernel's accounting of the child. Its
    /// `peak_rss_bytes` is the kernel's figure as reported — at least the floor below.
    pub usage: ChildUsage,
    /// This process's own resident set just before the spawn, which Linux reports as the
    /// child's peak when the child stays below it (so `usage.peak_rss_bytes` is the child's own
    /// peak when above this, and an upper bound of it otherwise).
    pub rss_floor_bytes: Option<u64>,
}

impl Captured {
    /// Spawn → reap, seconds.
    pub fn wall_seconds(&self) -> f64 {
        self.usage.wall_ns as f64 / 1e9
    }
}

/// Runs `spec` once with both outputs captured (after `prepare`, if any), measured like a timed
/// run. A command that cannot be started is an input error naming it.
pub fn run_captured(spec: &CommandSpec, prepare: Option<&CommandSpec>) -> Result<Captured, CommandError> {
    if let Some(p) = prepare {
        run_prepare(p).map_err(CommandError::Input)?;
    }
    // Outputs go to scratch files (read after the reap), so the child never blocks on a full
    // pipe and the wait can be `wait4`.
    let scratch = || tempfile::tempfile().map_err(|e| CommandError::io("cannot create a scratch file", e));
    let (mut out, mut err) = (scratch()?, scratch()?);
    let clone = |f: &std::fs::File| f.try_clone().map_err(|e| CommandError::io("scratch file", e));
    let mut cmd = spec.command();
    cmd.stdout(clone(&out)?).stderr(clone(&err)?);
    let floor = if cfg!(target_os = "linux") { OwnPeak::new().reset() } else { None };
    let t0 = Instant::now();
    let mut child = cmd.spawn().map_err(|e| spec.start_error(&e))?;
    let (status, usage) =
        reap(&mut child).map_err(|e| CommandError::io(format!("waiting for {:?}", spec.text), e))?;
    let wall_ns = (t0.elapsed().as_nanos() as u64).max(1);
    drop(cmd);
    let read = |f: &mut std::fs::File| -> Result<Vec<u8>, CommandError> {
        let mut v = Vec::new();
        f.seek(SeekFrom::Start(0))
            .and_then(|_| f.read_to_end(&mut v))
            .map_err(|e| CommandError::io("scratch file", e))?;
        Ok(v)
    };
    Ok(Captured {
        stdout: read(&mut out)?,
        stderr: read(&mut err)?,
        status,
        usage: usage_of(wall_ns, usage),
        rss_floor_bytes: floor,
    })
}

fn run_prepare(prepare: &CommandSpec) -> Result<(), String> {
    let out = prepare
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| prepare.start_error(&e).to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "--prepare {:?} failed ({}): {}",
            prepare.text,
            describe_status(out.status),
            tail(&out.stderr)
        ))
    }
}

/// This process's resident-set high-water mark, reset to its current resident set first.
///
/// Why: Linux keeps a process's peak across `exec` — the image a child leaves at exec is the
/// spawner's (`posix_spawn` shares it until then), so the child's `ru_maxrss` is
/// `max(spawner's peak, child's own peak)`. Resetting our peak just before the spawn makes that
/// floor our current resident set, and reading it tells which reported peaks are the child's
/// own (above it) and which are only the floor (the child stayed below it: not measurable).
#[derive(Debug)]
struct OwnPeak {
    clear_refs: Option<std::fs::File>,
    status: Option<std::fs::File>,
    buf: String,
}

impl OwnPeak {
    fn new() -> Self {
        Self {
            clear_refs: std::fs::OpenOptions::new().write(true).open("/proc/self/clear_refs").ok(),
            status: std::fs::File::open("/proc/self/status").ok(),
            buf: String::with_capacity(2048),
        }
    }

    /// Resets the peak and returns it (bytes), when the platform allows both.
    fn reset(&mut self) -> Option<u64> {
        use std::io::Write as _;
        self.clear_refs.as_mut()?.write_all(b"5").ok()?;
        let f = self.status.as_mut()?;
        f.rewind().ok()?;
        self.buf.clear();
        f.read_to_string(&mut self.buf).ok()?;
        bench_measure::sys::vmhwm_bytes(&self.buf)
    }
}

/// Takes timed runs of one command: output to `/dev/null`, standard error to a scratch file
/// (read only when a run fails, to name the failure), `prepare` before each run, untimed.
#[derive(Debug)]
pub struct TimedRunner {
    spec: CommandSpec,
    prepare: Option<CommandSpec>,
    ignore_failure: bool,
    stderr: std::fs::File,
    own_peak: OwnPeak,
    /// Exit code of every run taken, in order (`None`: killed by a signal).
    pub exit_codes: Vec<Option<i32>>,
    /// Runs whose peak resident set stayed below this process's own at spawn, which Linux
    /// reports in its place: their peak is not recorded.
    pub rss_below_floor: usize,
    /// The largest such floor, bytes.
    pub rss_floor_bytes: u64,
}

impl TimedRunner {
    /// A runner of `spec`. With `ignore_failure`, a non-zero exit is a run like any other.
    pub fn new(
        spec: &CommandSpec,
        prepare: Option<&CommandSpec>,
        ignore_failure: bool,
    ) -> Result<Self, CommandError> {
        let stderr = tempfile::tempfile()
            .map_err(|e| CommandError::io("cannot create a scratch file for stderr", e))?;
        Ok(Self {
            spec: spec.clone(),
            prepare: prepare.cloned(),
            ignore_failure,
            stderr,
            own_peak: OwnPeak::new(),
            exit_codes: Vec::new(),
            rss_below_floor: 0,
            rss_floor_bytes: 0,
        })
    }

    /// One timed run: its record, or why it failed (a non-zero exit names the status and the
    /// tail of standard error). Every call appends to [`TimedRunner::exit_codes`], so the log
    /// lines up with the calls.
    pub fn run(&mut self) -> Result<RunRecord, String> {
        let (code, result) = self.take();
        self.exit_codes.push(code);
        result
    }

    fn take(&mut self) -> (Option<i32>, Result<RunRecord, String>) {
        if let Some(p) = &self.prepare
            && let Err(e) = run_prepare(p)
        {
            return (None, Err(e));
        }
        let err = self
            .stderr
            .set_len(0)
            .and_then(|()| self.stderr.seek(SeekFrom::Start(0)))
            .and_then(|_| self.stderr.try_clone());
        let err = match err {
            Ok(f) => f,
            Err(e) => return (None, Err(format!("scratch file for stderr: {e}"))),
        };
        let mut cmd = self.spec.command();
        cmd.stdout(Stdio::null()).stderr(err);
        let floor = if cfg!(target_os = "linux") { self.own_peak.reset() } else { Some(0) };
        let t0 = Instant::now();
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return (None, Err(self.spec.start_error(&e).to_string())),
        };
        let (status, usage) = match reap(&mut child) {
            Ok(x) => x,
            Err(e) => return (None, Err(format!("waiting for {:?}: {e}", self.spec.text))),
        };
        let wall_ns = (t0.elapsed().as_nanos() as u64).max(1);
        if !(status.success() || self.ignore_failure && status.code().is_some()) {
            let mut text = Vec::new();
            let _ = self.stderr.seek(SeekFrom::Start(0));
            let _ = (&self.stderr).read_to_end(&mut text);
            return (
                status.code(),
                Err(format!("{:?} failed ({}): {}", self.spec.text, describe_status(status), tail(&text))),
            );
        }
        let mut u = usage_of(wall_ns, usage);
        match (floor, u.peak_rss_bytes) {
            (Some(f), Some(p)) if p <= f => {
                self.rss_below_floor += 1;
                self.rss_floor_bytes = self.rss_floor_bytes.max(f);
                u.peak_rss_bytes = None;
            }
            (None, _) => u.peak_rss_bytes = None,
            _ => {}
        }
        (
            status.code(),
            Ok(RunRecord {
                wall_ns: u.wall_ns,
                cpu_ns: u.cpu_ns,
                peak_rss_bytes: u.peak_rss_bytes,
                ..RunRecord::default()
            }),
        )
    }
}

/// The harness's own cost per run: spawn → reap of a process that does nothing (`true`, or
/// `sh -c :` under `--shell sh`), measured the same way as the commands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overhead {
    /// What was run.
    pub probe: String,
    /// Runs measured.
    pub runs: usize,
    /// Median spawn → reap, seconds.
    pub median_seconds: f64,
    /// Fastest, seconds.
    pub min_seconds: f64,
}

/// Measures [`Overhead`] over `runs` runs (after one untimed run).
pub fn harness_overhead(shell: Shell, runs: usize) -> Result<Overhead, CommandError> {
    let probe = match shell {
        Shell::None => CommandSpec::parse("true", Shell::None)?,
        Shell::Sh => CommandSpec::parse(":", Shell::Sh)?,
    };
    let mut runner = TimedRunner::new(&probe, None, true)?;
    runner.run().map_err(CommandError::Input)?;
    let mut secs = Vec::with_capacity(runs.max(1));
    for _ in 0..runs.max(1) {
        secs.push(runner.run().map_err(CommandError::Input)?.wall_ns as f64 / 1e9);
    }
    secs.sort_by(f64::total_cmp);
    let median = if secs.len() % 2 == 1 {
        secs[secs.len() / 2]
    } else {
        (secs[secs.len() / 2 - 1] + secs[secs.len() / 2]) / 2.0
    };
    Ok(Overhead { probe: probe.text, runs: secs.len(), median_seconds: median, min_seconds: secs[0] })
}
