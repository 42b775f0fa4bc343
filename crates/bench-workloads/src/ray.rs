//! The Ray backend: a [`Job`]'s pieces run as Ray tasks by the Python driver in `python/`
//! (`python -m bench_ray run`), which calls this crate's pieces through the `bench_py`
//! extension and writes their outputs; [`RayBackend::run`] returns them in piece order for
//! [`merge_grid`] / [`merge_walk_forward`].
//! A [`RaySession`] keeps one driver connected for many jobs (an evaluation's timed runs).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use serde::Deserialize;

use crate::distributed::{Job, PieceOutput, merge_grid, merge_walk_forward};
use crate::{
    Bundle, GridResult, GridSpec, Optimizations, SweepTiming, WalkForwardResult, WalkForwardSpec,
    WorkloadError,
};

/// How to reach Ray.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RayBackend {
    /// The Python interpreter of the venv where `bash python/setup.sh` installed Ray, the
    /// `bench_py` extension and the `bench_ray` driver.
    pub python: PathBuf,
    /// A running cluster (`host:port` of a head from `ray start --head`, `ray://host:port`,
    /// `auto`); `None` starts a local Ray instance for the run.
    pub address: Option<String>,
    /// CPUs of the local instance (`None`: all); ignored with an address.
    pub workers: Option<usize>,
    /// Retries of a task lost with its worker process or node.
    pub max_retries: u32,
    /// The command that sets the backend up, named in the error when it is not.
    pub setup_hint: String,
}

impl RayBackend {
    /// The backend of the venv's `python` (set up by `bash python/setup.sh`, which an error
    /// names): a cluster at `address`, or a local instance with `workers` CPUs.
    pub fn new(python: PathBuf, address: Option<String>, workers: Option<usize>, max_retries: u32) -> Self {
        Self { python, address, workers, max_retries, setup_hint: "bash python/setup.sh".into() }
    }

    /// The backend of a command line's flags: `None` for rayon (`ray` false), where
    /// `--ray-address` and `--ray-chunk` are refused; a chunk of 0 combinations is refused.
    ///
    /// ```
    /// use bench_workloads::RayBackend;
    /// assert!(RayBackend::from_flags(false, "python".into(), None, None, None, 0).unwrap().is_none());
    /// assert!(RayBackend::from_flags(false, "python".into(), None, Some(4), None, 0).is_err());
    /// assert!(RayBackend::from_flags(true, "python".into(), None, Some(0), None, 0).is_err());
    /// assert!(RayBackend::from_flags(true, "python".into(), None, Some(4), Some(2), 1).unwrap().is_some());
    /// ```
    pub fn from_flags(
        ray: bool,
        python: PathBuf,
        address: Option<String>,
        chunk: Option<usize>,
        workers: Option<usize>,
        max_retries: u32,
    ) -> Result<Option<Self>, WorkloadError> {
        let refuse = |m: &str| Err(WorkloadError::InvalidParameter(m.into()));
        if !ray {
            if address.is_some() || chunk.is_some() {
                return refuse("--ray-address and --ray-chunk need --backend ray");
            }
            return Ok(None);
        }
        if chunk == Some(0) {
            return refuse("--ray-chunk must be at least 1 combination");
        }
        Ok(Some(Self::new(python, address, workers, max_retries)))
    }
}

/// What a Ray run returned.
#[derive(Debug, Clone, PartialEq)]
pub struct RayRun {
    /// Piece outputs, in piece order.
    pub outputs: Vec<PieceOutput>,
    /// The nodes that ran pieces.
    pub nodes: Vec<String>,
    /// CPUs of the cluster.
    pub cluster_cpus: f64,
    /// Wall time of the pieces from first submission to last result, seconds.
    pub wall_seconds: f64,
    /// Wall time from sending the job to the driver's answer, seconds.
    pub driver_seconds: f64,
}

#[derive(Deserialize)]
struct DriverOutput {
    outputs: Vec<PieceOutput>,
    nodes: Vec<String>,
    cluster_cpus: f64,
    wall_seconds: f64,
}

#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    ok: bool,
    #[serde(default)]
    ready: bool,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    cluster_cpus: f64,
    #[serde(default)]
    job_format: u32,
}

/// The marker that starts every reply line of `python -m bench_ray serve`; anything else the
/// driver's process prints on stdout is skipped. The driver reads this very constant through the
/// extension (`bench_py.SERVE_REPLY_PREFIX`), so the two sides cannot drift apart.
///
/// The protocol, one JSON document per line:
/// - the driver connects to Ray once and answers
///   `{"ready": true, "cluster_cpus": F, "nodes": N, "job_format": J}`;
/// - each request line `{"job": PATH, "bundle": PATH, "out": PATH}` (file paths: a [`Job`], a
///   binary bundle, where to write the piece outputs atomically) gets one reply:
///   `{"ok": true, "wall_seconds": F, "pieces": N}` or
///   `{"ok": false, "kind": "input" | "lost" | "internal", "error": TEXT}`;
/// - the session ends when the driver's stdin closes.
pub const SERVE_REPLY_PREFIX: &str = "@bench_ray ";

/// Whether this machine lets an unprivileged process have a network namespace of its own
/// (`unshare --net --map-root-user`, and `ip` to bring its loopback up): checked once.
fn private_network_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        Command::new("unshare")
            .args(["--net", "--map-root-user", "--", "ip", "link", "set", "lo", "up"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Where a local Ray can be reached from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// A cluster joined at an address: its own settings decide (see `docs/distributed.md`
    /// for token authentication).
    Joined,
    /// A local Ray in a network namespace of its own whose only interface is the loopback:
    /// nothing outside this machine — nor other processes on it — can reach it.
    LoopbackOnly,
    /// A local Ray whose servers listen on every interface, because this machine does not
    /// allow a private network namespace (unprivileged user namespaces off, or no `ip`).
    EveryInterface,
}

impl RayBackend {
    /// The driver's command: in a private network namespace with only the loopback up when
    /// it starts a local Ray and the machine allows it — Ray 2.60's GCS, raylet and workers
    /// listen on every interface, and a one-user local sweep has no reason to be reachable
    /// from the network.
    fn driver(&self) -> (Command, Reach) {
        match &self.address {
            Some(_) => (Command::new(&self.python), Reach::Joined),
            None if private_network_available() => {
                let mut cmd = Command::new("unshare");
                cmd.args([
                    "--net",
                    "--map-root-user",
                    "--",
                    "sh",
                    "-c",
                    "ip link set lo up && exec \"$0\" \"$@\"",
                ])
                .arg(&self.python);
                (cmd, Reach::LoopbackOnly)
            }
            None => (Command::new(&self.python), Reach::EveryInterface),
        }
    }

    fn unavailable(&self, why: &str) -> WorkloadError {
        WorkloadError::BackendUnavailable(format!(
            "the Ray backend is not set up ({why}): run `{}` (or set BENCH_RAY_PYTHON to a Python with ray, bench_py and bench_ray)",
            self.setup_hint
        ))
    }

    /// Checks that the interpreter exists and imports Ray, the extension and the driver.
    pub fn check(&self) -> Result<(), WorkloadError> {
        if !self.python.exists() {
            return Err(self.unavailable(&format!("no Python at {}", self.python.display())));
        }
        let out = Command::new(&self.python)
            .args(["-c", "import ray, bench_py, bench_ray"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| self.unavailable(&format!("cannot run {}: {e}", self.python.display())))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("import failed");
            return Err(self.unavailable(&format!("{}: {last}", self.python.display())));
        }
        Ok(())
    }

    /// Starts the driver (`python -m bench_ray serve`), which connects to the cluster (or
    /// starts a local one) once for any number of jobs; `scratch` holds the job, output and
    /// log files.
    pub fn start(&self, scratch: &Path) -> Result<RaySession, WorkloadError> {
        self.check()?;
        let log_path = scratch.join("ray-driver.log");
        let log = std::fs::File::create(&log_path)
            .map_err(|e| WorkloadError::Backend(format!("cannot create {}: {e}", log_path.display())))?;
        let (mut cmd, reach) = self.driver();
        cmd.args(["-m", "bench_ray", "serve", "--max-retries", &self.max_retries.to_string()]);
        if let Some(a) = &self.address {
            cmd.args(["--address", a]);
        } else if let Some(w) = self.workers {
            cmd.args(["--workers", &w.to_string()]);
        }
        let started = Instant::now();
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| self.unavailable(&format!("cannot run {}: {e}", self.python.display())))?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut session = RaySession {
            child,
            stdin: Some(stdin),
            stdout,
            scratch: scratch.to_path_buf(),
            log: log_path,
            runs: 0,
            cluster_cpus: 0.0,
            start_seconds: 0.0,
            reach,
        };
        let ready = session.reply()?;
        if !ready.ready {
            return Err(session.failed("the driver did not start"));
        }
        if ready.job_format != crate::JOB_FORMAT {
            return Err(WorkloadError::BackendUnavailable(format!(
                "the Ray backend's extension speaks job format {} and this build {}: it was built from other sources; run `{}` again",
                ready.job_format,
                crate::JOB_FORMAT,
                self.setup_hint
            )));
        }
        if ready.cluster_cpus <= 0.0 {
            return Err(WorkloadError::BackendUnavailable(format!(
                "the Ray cluster{} has no CPUs to run tasks on (a head started with --num-cpus 0 and no worker node yet?)",
                self.address.as_deref().map(|a| format!(" at {a}")).unwrap_or_default()
            )));
        }
        session.cluster_cpus = ready.cluster_cpus;
        session.start_seconds = started.elapsed().as_secs_f64();
        Ok(session)
    }

    /// Measures Ray as a parallel coordinator (`python -m bench_ray coordinator`): per worker
    /// count of `workers`, `tasks` one-backtest tasks on a local Ray instance, and the task size
    /// at which Ray's overhead falls below 5%. Returns the driver's JSON document.
    pub fn coordinator(
        &self,
        workers: &[usize],
        tasks: usize,
        scratch: &Path,
    ) -> Result<serde_json::Value, WorkloadError> {
        self.check()?;
        let out_path = scratch.join("ray-coordinator.json");
        let log_path = scratch.join("ray-coordinator.log");
        let log = std::fs::File::create(&log_path)
            .map_err(|e| WorkloadError::Backend(format!("cannot create {}: {e}", log_path.display())))?;
        let list: Vec<String> = workers.iter().map(usize::to_string).collect();
        let status = self
            .driver()
            .0
            .args([
                "-m",
                "bench_ray",
                "coordinator",
                "--workers",
                &list.join(","),
                "--tasks",
                &tasks.to_string(),
            ])
            .arg("--out")
            .arg(&out_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .status()
            .map_err(|e| self.unavailable(&format!("cannot run {}: {e}", self.python.display())))?;
        if !status.success() {
            let said = std::fs::read_to_string(&log_path).unwrap_or_default();
            let last = said.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message").to_string();
            return Err(WorkloadError::Backend(format!("the Ray coordinator measurement failed: {last}")));
        }
        let text = std::fs::read(&out_path)
            .map_err(|e| WorkloadError::Backend(format!("cannot read {}: {e}", out_path.display())))?;
        serde_json::from_slice(&text)
            .map_err(|e| WorkloadError::Backend(format!("{}: {e}", out_path.display())))
    }

    /// Runs every piece of `job` on Ray in a driver started for this job alone.
    pub fn run(&self, job: &Job, bundle: &Path, scratch: &Path) -> Result<RayRun, WorkloadError> {
        self.start(scratch)?.run(job, bundle)
    }

    /// Runs the walk-forward `spec` on Ray, one piece per window, in a driver started for it
    /// alone, and assembles the result (what [`crate::run_walk_forward`] returns in-process).
    /// `bundle_path` is `bundle` written by [`crate::Bundle::write_binary`].
    pub fn run_walk_forward(
        &self,
        spec: &WalkForwardSpec,
        bundle: &Bundle,
        bundle_path: &Path,
        opts: Optimizations,
        scratch: &Path,
    ) -> Result<WalkForwardResult, WorkloadError> {
        self.start(scratch)?.run_walk_forward(spec, bundle, bundle_path, opts)
    }
}

/// Combinations per grid piece when none is given: about four pieces per worker and asset, so
/// a slow worker or a retried piece does not hold up the sweep for long.
pub fn default_grid_chunk(combinations: usize, workers: usize) -> usize {
    combinations.div_ceil(4 * workers.max(1)).max(1)
}

/// A running driver connected to a cluster.
#[derive(Debug)]
pub struct RaySession {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    scratch: PathBuf,
    log: PathBuf,
    runs: usize,
    /// CPUs of the cluster.
    pub cluster_cpus: f64,
    /// Seconds from starting the driver to its being connected (Ray started or joined).
    pub start_seconds: f64,
    /// Where the Ray it runs on can be reached from.
    pub reach: Reach,
}

impl RaySession {
    /// What a person should know about who can reach the Ray this session runs on, if
    /// anything: a local Ray that listens on every interface, with what to do about it.
    pub fn reach_warning(&self) -> Option<String> {
        (self.reach == Reach::EveryInterface).then(|| {
            "warning: the local Ray listens on every network interface (this machine does not let the driver have a private network namespace: `unshare --net --map-root-user` or `ip` failed); Ray 2.60 turns token authentication on for it, but on a shared network run on a machine that allows user namespaces, or start Ray yourself and pass --ray-address (docs/distributed.md, \"Who can reach Ray\")".to_owned()
        })
    }

    fn log_says(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.lines()
            .rev()
            .find(|l| l.starts_with("error: ") || l.contains("Error"))
            .map(|l| l.trim_start_matches("error: ").to_string())
            .unwrap_or_else(|| "no message".into())
    }

    fn failed(&mut self, what: &str) -> WorkloadError {
        // The driver closed its end: give it time to finish exiting (its exit code says what
        // went wrong) before stopping it.
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        let mut status = None;
        while Instant::now() < deadline {
            if let Ok(Some(s)) = self.child.try_wait() {
                status = Some(s);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if status.is_none() {
            let _ = self.child.kill();
            status = self.child.wait().ok();
        }
        let said = self.log_says();
        match status.and_then(|s| s.code()) {
            Some(2) => WorkloadError::BackendUnavailable(format!("Ray: {said}")),
            code => WorkloadError::Backend(format!(
                "{what} (driver exit {}): {said}; the driver's log: {}",
                code.map_or_else(|| "by signal".to_string(), |c| c.to_string()),
                self.log.display()
            )),
        }
    }

    fn reply(&mut self) -> Result<Reply, WorkloadError> {
        let mut bytes = Vec::new();
        loop {
            bytes.clear();
            let n = self.stdout.read_until(b'\n', &mut bytes).unwrap_or(0);
            if n == 0 {
                return Err(self.failed("the Ray driver stopped"));
            }
            let line = String::from_utf8_lossy(&bytes);
            if let Some(json) = line.trim_end().strip_prefix(SERVE_REPLY_PREFIX) {
                return serde_json::from_str(json)
                    .map_err(|e| WorkloadError::Backend(format!("the Ray driver's reply {json:?}: {e}")));
            }
        }
    }

    /// Runs every piece of `job` (on the binary bundle at `bundle`, put in the cluster's object
    /// store the first time this session sees it).
    pub fn run(&mut self, job: &Job, bundle: &Path) -> Result<RayRun, WorkloadError> {
        self.runs += 1;
        let job_path = self.scratch.join(format!("ray-job-{}.json", self.runs));
        let out_path = self.scratch.join(format!("ray-outputs-{}.json", self.runs));
        let text = serde_json::to_vec(job).map_err(|e| WorkloadError::Backend(format!("job JSON: {e}")))?;
        std::fs::write(&job_path, text)
            .map_err(|e| WorkloadError::Backend(format!("cannot write {}: {e}", job_path.display())))?;
        let request = serde_json::json!({ "job": job_path, "bundle": bundle, "out": out_path }).to_string();
        let started = Instant::now();
        let sent = self.stdin.as_mut().map(|s| writeln!(s, "{request}").and_then(|()| s.flush()));
        if !matches!(sent, Some(Ok(()))) {
            return Err(self.failed("cannot send the job to the Ray driver"));
        }
        let reply = self.reply()?;
        let driver_seconds = started.elapsed().as_secs_f64();
        if !reply.ok {
            return Err(if reply.kind == "input" {
                WorkloadError::InvalidParameter(format!("Ray: {}", reply.error))
            } else {
                WorkloadError::Backend(format!("Ray: {}", reply.error))
            });
        }
        let text = std::fs::read(&out_path)
            .map_err(|e| WorkloadError::Backend(format!("cannot read {}: {e}", out_path.display())))?;
        let out: DriverOutput = serde_json::from_slice(&text)
            .map_err(|e| WorkloadError::Backend(format!("{}: {e}", out_path.display())))?;
        let _ = std::fs::remove_file(&out_path);
        let _ = std::fs::remove_file(&job_path);
        if out.outputs.len() != job.pieces() {
            return Err(WorkloadError::Backend(format!(
                "Ray returned {} of the job's {} pieces",
                out.outputs.len(),
                job.pieces()
            )));
        }
        Ok(RayRun {
            outputs: out.outputs,
            nodes: out.nodes,
            cluster_cpus: out.cluster_cpus,
            wall_seconds: out.wall_seconds,
            driver_seconds,
        })
    }
}

impl RaySession {
    /// Runs the grid search `spec` on Ray `repeat` times (at least once), `per_chunk`
    /// combinations of one asset per piece, and returns the result (what [`crate::run_grid`]
    /// returns in-process; every run's is merged and checked, the last is kept) with the timing
    /// of the sweeps, each as Ray's wall time from submitting the pieces to having every
    /// output. `bundle_path` is `bundle` written by [`crate::Bundle::write_binary`].
    pub fn run_grid(
        &mut self,
        spec: &GridSpec,
        bundle: &Bundle,
        bundle_path: &Path,
        opts: Optimizations,
        per_chunk: usize,
        repeat: usize,
    ) -> Result<(GridResult, SweepTiming), WorkloadError> {
        let job = Job::grid(spec, opts, per_chunk);
        let mut times = Vec::with_capacity(repeat.max(1));
        let mut result = None;
        for _ in 0..repeat.max(1) {
            let run = self.run(&job, bundle_path)?;
            times.push(run.wall_seconds);
            result = Some(merge_grid(bundle, &job, run.outputs)?);
        }
        let result = result.ok_or_else(|| WorkloadError::Backend("no run".into()))?;
        Ok((result, SweepTiming::from_times(&times)))
    }

    /// Runs the walk-forward `spec` on Ray, one piece per window, and assembles the result
    /// (what [`crate::run_walk_forward`] returns in-process).
    pub fn run_walk_forward(
        &mut self,
        spec: &WalkForwardSpec,
        bundle: &Bundle,
        bundle_path: &Path,
        opts: Optimizations,
    ) -> Result<WalkForwardResult, WorkloadError> {
        let job = Job::walk_forward(spec, bundle, opts)?;
        let run = self.run(&job, bundle_path)?;
        merge_walk_forward(bundle, &job, run.outputs)
    }
}

impl Drop for RaySession {
    fn drop(&mut self) {
        // Closing stdin ends the driver's loop; it disconnects (and stops a local Ray) itself.
        drop(self.stdin.take());
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
