//! Timed benchmark suites: [`run_benchmark_suite`] for one configuration and
//! [`run_paired_suite`] for a baseline and a candidate interleaved in randomised ABBA blocks.

use std::io::{Read, Seek, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use bench_core::{
    BenchmarkResult, Decimal, Environment, FailedRun, Partner, RAW_SCHEMA_VERSION, RawData, RunId, RunRecord,
    Sample, SplitMix64, SuiteStatus, Workload, to_decimal,
};

use crate::MeasureError;
use crate::alloc::{heap_snapshot, reset_heap_peak};
use crate::interrupt::interrupt_requested;
use crate::sys;

/// Default number of untimed warm-up runs.
pub const DEFAULT_WARMUP_RUNS: usize = 2;

/// Everything a suite records besides the workflow itself.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteConfig {
    /// Timed runs requested.
    pub num_runs: usize,
    /// Untimed warm-up runs before them.
    pub warmup_runs: usize,
    /// Name of the configuration measured.
    pub configuration_name: String,
    /// Workflow measured, e.g. `grid_search`.
    pub workflow_type: String,
    /// Workload characteristics.
    pub workload: Workload,
    /// Directory that receives `raw_data/<run_id>.json`.
    pub output_dir: PathBuf,
    /// File-name stem of the raw data.
    pub run_id: RunId,
    /// Reset and read the resident-set high-water mark around every run (about 10 µs of
    /// `/proc` access per run, outside the timed region); off, `peak_rss_bytes` is not recorded.
    pub measure_rss: bool,
    /// Record the counting allocator's heap figures per run; off (for work done in other
    /// processes, such as Ray workers) `heap_peak_bytes` and `heap_start_bytes` are not recorded.
    pub measure_heap: bool,
}

impl SuiteConfig {
    /// A configuration with the default warm-up and a run id made of the configuration name,
    /// the workflow type and the current time.
    pub fn new(
        num_runs: usize,
        configuration_name: &str,
        workflow_type: &str,
        workload: Workload,
        output_dir: &Path,
    ) -> Result<Self, MeasureError> {
        let stamp =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let run_id = RunId::sanitized(&format!("{configuration_name}_{workflow_type}_{stamp}"));
        Ok(Self {
            num_runs,
            warmup_runs: DEFAULT_WARMUP_RUNS,
            configuration_name: configuration_name.to_owned(),
            workflow_type: workflow_type.to_owned(),
            workload,
            output_dir: output_dir.to_path_buf(),
            run_id,
            measure_rss: true,
            measure_heap: true,
        })
    }
}

/// What a suite produced.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteOutcome {
    /// The summary; `None` when fewer than two runs completed.
    pub result: Option<BenchmarkResult>,
    /// Every measured figure, as written.
    pub raw: RawData,
    /// Where the raw data was written.
    pub raw_path: PathBuf,
}

/// Per-run memory probes. The RSS peak is reset through `/proc/self/clear_refs` and read with
/// `getrusage`, which reports `max(peak since the reset, S)` where `S` is a value the kernel
/// froze at exec (the peak of the image the process replaced — with `cargo run`, cargo's). Right
/// after the reset, `getrusage` is compared with the current RSS from `/proc/self/statm`: when
/// it is not above it, `S` cannot mask anything and the after-run `getrusage` is the run's
/// exact peak; otherwise `VmHWM` is read from `/proc/self/status`, exact but ten times dearer.
/// The three files stay open, so a run costs four small syscalls.
struct MemoryProbe {
    clear_refs: Option<std::fs::File>,
    statm: Option<std::fs::File>,
    status: Option<std::fs::File>,
    buf: String,
    /// Whether the after-run `getrusage` is exact for the current run.
    rusage_exact: bool,
}

impl MemoryProbe {
    fn new() -> Self {
        let clear_refs = std::fs::OpenOptions::new().write(true).open("/proc/self/clear_refs").ok();
        let statm = std::fs::File::open("/proc/self/statm").ok();
        let status = std::fs::File::open("/proc/self/status").ok();
        Self { clear_refs, statm, status, buf: String::with_capacity(2048), rusage_exact: false }
    }

    fn reset(&mut self, rss: bool) -> bool {
        reset_heap_peak();
        let ok = match &mut self.clear_refs {
            Some(f) if rss => f.write_all(b"5").is_ok(),
            _ => false,
        };
        self.rusage_exact = ok
            && match (sys::maxrss_bytes(), self.current_rss()) {
                (Some(max), Some(now)) => max <= now,
                _ => false,
            };
        ok
    }

    /// Current RSS in bytes from the open `/proc/self/statm`, without allocating.
    #[cfg(unix)]
    fn current_rss(&mut self) -> Option<u64> {
        use std::os::unix::fs::FileExt as _;
        let mut buf = [0u8; 128];
        let n = self.statm.as_ref()?.read_at(&mut buf, 0).ok()?;
        let text = std::str::from_utf8(&buf[..n]).ok()?;
        let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
        Some(pages * sys::page_size())
    }

    #[cfg(not(unix))]
    fn current_rss(&mut self) -> Option<u64> {
        None
    }

    fn peak_rss(&mut self) -> Option<u64> {
        if self.rusage_exact
            && let Some(peak) = sys::maxrss_bytes()
        {
            return Some(peak);
        }
        let f = self.status.as_mut()?;
        f.rewind().ok()?;
        self.buf.clear();
        f.read_to_string(&mut self.buf).ok()?;
        sys::vmhwm_bytes(&self.buf)
    }
}

/// One measured run.
fn measure<T>(
    probe: &mut MemoryProbe,
    rss_ok: bool,
    heap_ok: bool,
    f: &mut impl FnMut() -> T,
) -> Result<RunRecord, String> {
    probe.reset(rss_ok);
    let heap_start = heap_snapshot().filter(|_| heap_ok).map(|h| h.current_bytes);
    let cpu0 = sys::process_cpu_ns();
    let t0 = Instant::now();
    let r = catch_unwind(AssertUnwindSafe(|| {
        std::hint::black_box(f());
    }));
    let wall = t0.elapsed().as_nanos() as u64;
    let cpu = sys::process_cpu_ns().saturating_sub(cpu0);
    if let Err(payload) = r {
        return Err(panic_message(payload.as_ref()));
    }
    // Absolute peak: everything live during the run, including what the process held when it
    // started (the shared data, caches built earlier), so both sides of a comparison are
    // measured on the same footing.
    let heap_peak = heap_snapshot().filter(|_| heap_ok).map(|h| h.peak_bytes);
    Ok(RunRecord {
        index: 0,
        wall_ns: wall.max(1),
        cpu_ns: cpu,
        peak_rss_bytes: if rss_ok { probe.peak_rss() } else { None },
        heap_peak_bytes: heap_peak,
        heap_start_bytes: heap_start,
        pair: None,
        sequence: None,
    })
}

/// Runs `f` until at least `min_seconds` of wall time have passed (at least once) and returns
/// how many times it ran: a workload of a few milliseconds is repeated so a profile of it holds
/// enough samples to mean something.
///
/// ```
/// let n = bench_measure::repeat_for(0.01, || std::hint::black_box(1 + 1));
/// assert!(n >= 1);
/// ```
pub fn repeat_for<T>(min_seconds: f64, mut f: impl FnMut() -> T) -> u64 {
    let t0 = Instant::now();
    let mut n = 0u64;
    while n == 0 || t0.elapsed().as_secs_f64() < min_seconds {
        std::hint::black_box(f());
        n += 1;
    }
    n
}

/// What [`time_repeated`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatedTiming<T> {
    /// The last run's output.
    pub output: T,
    /// Every run's wall time, seconds, in run order.
    pub seconds: Vec<f64>,
    /// Their median.
    pub median_s: f64,
    /// The fastest.
    pub min_s: f64,
}

/// Runs `f` `runs` times (at least once) on the same data and reports the median and fastest
/// wall time, for work too short for one timing to mean much on a shared machine.
///
/// ```
/// let t = bench_measure::time_repeated(5, || (0..10_000u64).sum::<u64>());
/// assert_eq!(t.seconds.len(), 5);
/// assert!(t.min_s <= t.median_s);
/// ```
pub fn time_repeated<T>(runs: usize, mut f: impl FnMut() -> T) -> RepeatedTiming<T> {
    let mut seconds = Vec::with_capacity(runs.clamp(1, 4096));
    let mut output = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        output = Some(std::hint::black_box(f()));
        seconds.push(t.elapsed().as_secs_f64());
    }
    let median_s = bench_stats::median(&seconds).unwrap_or(0.0);
    let min_s = seconds.iter().copied().fold(f64::INFINITY, f64::min);
    RepeatedTiming { output: output.expect("ran at least once"), seconds, median_s, min_s }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

fn summarize(raw: &RawData, env: &Environment, taken: Taken) -> (Option<BenchmarkResult>, Vec<String>) {
    let mut warnings = Vec::new();
    let in_process = matches!(taken, Taken::InProcess { .. });
    if in_process && sys::is_debug_build() {
        warnings.push(format!(
            "DEBUG BUILD ({}): timings of an unoptimised build say little about release performance",
            env.build_profile
        ));
    }
    if in_process && env.git_dirty == Some(true) {
        warnings
            .push("the git working tree has uncommitted changes: the measured code is not a commit".into());
    }
    if !raw.failed_runs.is_empty() {
        warnings
            .push(format!("{} run(s) failed and are excluded from the statistics", raw.failed_runs.len()));
    }
    if raw.status == SuiteStatus::Interrupted {
        warnings.push("the suite was interrupted: fewer runs than requested".into());
    }
    if matches!(taken, Taken::InProcess { rss_reset: false }) {
        warnings.push(
            "the RSS high-water mark could not be reset per run: peak RSS covers the whole process".into(),
        );
    }
    let Ok(times) = Sample::from_nanos(&raw.wall_ns()) else {
        warnings
            .push(format!("only {} run(s) completed: at least 2 are needed for statistics", raw.runs.len()));
        return (None, warnings);
    };
    let mean = bench_stats::mean(&times);
    let sd = bench_stats::std_dev(&times);
    if sd / mean > 0.10 {
        warnings.push(format!("high variability: coefficient of variation {:.1}% > 10%", sd / mean * 100.0));
    }
    if let Some(cost) = env.timer_cost_ns {
        let cost = bench_core::to_f64(cost);
        if mean * 1e9 < 1000.0 * cost {
            warnings.push(format!("runs are shorter than 1000× the timer cost ({cost:.0} ns): timings are dominated by timer resolution"));
        }
    }
    let ci = bench_stats::confidence_interval(&times, 0.95).expect("0.95 is a valid level");
    let d = |x: f64| to_decimal(x).unwrap_or(Decimal::ZERO);
    let cpu_mean = raw.runs.iter().map(|r| r.cpu_ns as f64).sum::<f64>() / raw.runs.len() as f64 / 1e9;
    let result = BenchmarkResult {
        configuration_name: raw.configuration_name.clone(),
        workflow_type: raw.workflow_type.clone(),
        workload: raw.workload,
        num_runs: raw.runs.len(),
        failed_runs: raw.failed_runs.len(),
        execution_time_mean: d(mean),
        execution_time_std_dev: d(sd),
        execution_time_ci_95: [d(ci.lower), d(ci.upper)],
        cpu_time_mean: d(cpu_mean),
        memory_peak_bytes: raw.runs.iter().filter_map(|r| r.peak_rss_bytes).max(),
        heap_peak_bytes: raw.runs.iter().filter_map(|r| r.heap_peak_bytes).max(),
        warnings: warnings.clone(),
    };
    (Some(result), warnings)
}

fn write_raw(raw: &RawData, output_dir: &Path) -> Result<PathBuf, MeasureError> {
    let run_id = RunId::new(&raw.run_id)?;
    let path = RawData::path_in(output_dir, &run_id);
    raw.write(&path)?;
    Ok(path)
}

fn new_raw(c: &SuiteConfig, env: &Environment) -> RawData {
    RawData {
        schema_version: RAW_SCHEMA_VERSION,
        run_id: c.run_id.as_str().to_owned(),
        configuration_name: c.configuration_name.clone(),
        workflow_type: c.workflow_type.clone(),
        workload: c.workload,
        warmup_runs: c.warmup_runs as u32,
        runs: Vec::new(),
        failed_runs: Vec::new(),
        unpaired_runs: Vec::new(),
        status: SuiteStatus::Complete,
        pairing: None,
        environment: env.clone(),
    }
}

/// Runs `workflow` `num_runs` times after the warm-ups, measuring wall time, process CPU time,
/// peak RSS and heap peak per run, and writes `raw_data/<run_id>.json` under the output
/// directory. A run that panics is recorded as failed with its message and the suite goes on;
/// an interrupt ([`request_interrupt`](crate::request_interrupt)) stops it after the run in progress, and the completed
/// runs are written with status `interrupted`.
pub fn run_benchmark_suite<T>(
    mut workflow: impl FnMut() -> T,
    config: &SuiteConfig,
) -> Result<SuiteOutcome, MeasureError> {
    run_benchmark_suite_with_progress(&mut workflow, config, &mut |_, _| {})
}

/// [`run_benchmark_suite`] calling `progress(done, total)` after every run.
pub fn run_benchmark_suite_with_progress<T>(
    workflow: &mut impl FnMut() -> T,
    config: &SuiteConfig,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SuiteOutcome, MeasureError> {
    let _exclusive = measurement_lock();
    let mut probe = MemoryProbe::new();
    let rss_ok = config.measure_rss && probe.reset(true);
    let mut run = || measure(&mut probe, rss_ok, config.measure_heap, workflow);
    single(&mut run, config, progress, Taken::InProcess { rss_reset: rss_ok })
}

/// [`run_benchmark_suite_with_progress`] for runs the caller measures itself (child processes):
/// `run()` takes one run and returns its record or why it failed.
pub fn run_measured_suite(
    run: &mut dyn FnMut() -> Result<RunRecord, String>,
    config: &SuiteConfig,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SuiteOutcome, MeasureError> {
    let _exclusive = measurement_lock();
    single(run, config, progress, Taken::ByCaller)
}

fn single(
    run: &mut dyn FnMut() -> Result<RunRecord, String>,
    config: &SuiteConfig,
    progress: &mut dyn FnMut(usize, usize),
    taken: Taken,
) -> Result<SuiteOutcome, MeasureError> {
    check_run_count(&format!("{} runs", config.num_runs), config.num_runs as u128)?;
    let mut env = sys::environment();
    let mut raw = new_raw(config, &env);
    let open = RawData::path_in(&config.output_dir, &RunId::new(&raw.run_id)?);
    for _ in 0..config.warmup_runs {
        if interrupt_requested() {
            break;
        }
        let _ = run();
    }
    for i in 0..config.num_runs {
        if interrupt_requested() {
            raw.status = SuiteStatus::Interrupted;
            break;
        }
        match run() {
            Ok(mut r) => {
                r.index = i as u32;
                raw.runs.push(r);
            }
            Err(message) => raw.failed_runs.push(FailedRun { index: i as u32, message }),
        }
        crate::interrupt::keep_open(&open, &raw);
        progress(i + 1, config.num_runs);
    }
    env.finished = sys::now_rfc3339();
    raw.environment = env.clone();
    let (result, _) = summarize(&raw, &env, taken);
    let raw_path = write_raw(&raw, &config.output_dir);
    crate::interrupt::close_open(&open);
    Ok(SuiteOutcome { result, raw, raw_path: raw_path? })
}

/// Refuses a suite whose `runs` records (with the schedule and the raw-data text they become)
/// would not fit the memory budget, before anything is allocated; `what` names the count as the
/// user gave it (e.g. `--runs 10000000000`).
pub fn check_run_count(what: &str, runs: u128) -> Result<(), MeasureError> {
    // A record, its slot in the schedule, and its JSON text (about 200 bytes) when written.
    let each = (std::mem::size_of::<RunRecord>() + 2 + 200) as u128;
    bench_core::limits::memory_limit().check(what, runs, each)?;
    Ok(())
}

/// Which side of a paired suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The reference.
    Baseline,
    /// The change under evaluation.
    Candidate,
}

/// The run order of a paired suite: for each pair, which side runs first.
///
/// Pairs come in blocks of two with opposite orders (AB then BA, or BA then AB), each block's
/// orientation drawn from a SplitMix64 stream seeded with `seed`; an odd last pair gets a random
/// order. So every side runs first equally often (±1), and a drift in machine conditions hits
/// both sides alike.
pub fn abba_schedule(pairs: usize, seed: u64) -> Vec<[Side; 2]> {
    let mut rng = SplitMix64::new(seed);
    let mut coin = || rng.coin();
    let (ab, ba) = ([Side::Baseline, Side::Candidate], [Side::Candidate, Side::Baseline]);
    let mut out = Vec::with_capacity(pairs);
    while out.len() + 2 <= pairs {
        if coin() {
            out.extend([ab, ba]);
        } else {
            out.extend([ba, ab]);
        }
    }
    if out.len() < pairs {
        out.push(if coin() { ab } else { ba });
    }
    out
}

/// Configuration of a paired suite: one [`SuiteConfig`] per side (their `num_runs` are ignored:
/// `pairs` decides) and the ABBA schedule's seed.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedConfig {
    /// Number of (baseline, candidate) pairs.
    pub pairs: usize,
    /// Seed of the block orientations.
    pub seed: u64,
    /// Baseline side.
    pub baseline: SuiteConfig,
    /// Candidate side.
    pub candidate: SuiteConfig,
}

/// Why a paired suite stopped taking pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuiteStop {
    /// Every pair asked for ran.
    AllPairs,
    /// The caller's stopping rule decided.
    Decided,
    /// The time budget ran out.
    MaxTime,
    /// An interrupt stopped it.
    Interrupted,
}

impl SuiteStop {
    /// snake_case name, as in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllPairs => "max_pairs",
            Self::Decided => "decided",
            Self::MaxTime => "max_time",
            Self::Interrupted => "interrupted",
        }
    }
}

/// What a paired suite produced.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedOutcome {
    /// Baseline side (its runs are the completed pairs, in pair order).
    pub baseline: SuiteOutcome,
    /// Candidate side.
    pub candidate: SuiteOutcome,
    /// The order that was run (the pairs taken).
    pub schedule: Vec<[Side; 2]>,
    /// Why it stopped.
    pub stopped: SuiteStop,
    /// Wall time of the timed pairs (warm-ups excluded), seconds.
    pub seconds: f64,
}

/// Runs `pairs` (baseline, candidate) pairs interleaved in randomised ABBA blocks so each pair
/// shares the machine's conditions — what makes the paired t-test valid on a noisy machine —
/// and writes both sides' raw data, recording each run's pair and position in the schedule.
///
/// Warm-ups alternate sides. If either run of a pair panics, the failure is recorded and the
/// partner's completed run is kept under `unpaired_runs`; the other pairs go on.
pub fn run_paired_suite<A, B>(
    baseline: impl FnMut() -> A,
    candidate: impl FnMut() -> B,
    config: &PairedConfig,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<PairedOutcome, MeasureError> {
    run_paired_suite_until(baseline, candidate, config, None, &mut |_, _| false, progress)
}

/// [`run_paired_suite`] that may stop early: after every completed ABBA block (two pairs)
/// `decided(baseline_runs, candidate_runs)` is asked whether the answer is clear, and sampling
/// also stops when `max_seconds` of timed pairs have passed. `config.pairs` is the most pairs it
/// takes. The outcome says why it stopped. `progress(done, most)` counts the pairs; `most` is
/// the pair budget, or fewer when the time budget at the pace so far stops sooner
/// ([`most_pairs`]).
pub fn run_paired_suite_until<A, B>(
    mut baseline: impl FnMut() -> A,
    mut candidate: impl FnMut() -> B,
    config: &PairedConfig,
    max_seconds: Option<f64>,
    decided: &mut dyn FnMut(&[RunRecord], &[RunRecord]) -> bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<PairedOutcome, MeasureError> {
    let _exclusive = measurement_lock();
    let mut probe = MemoryProbe::new();
    let rss_ok = config.baseline.measure_rss && config.candidate.measure_rss && probe.reset(true);
    let heap_ok = config.baseline.measure_heap && config.candidate.measure_heap;
    let mut run = |side: Side| match side {
        Side::Baseline => measure(&mut probe, rss_ok, heap_ok, &mut baseline),
        Side::Candidate => measure(&mut probe, rss_ok, heap_ok, &mut candidate),
    };
    paired(&mut run, config, max_seconds, decided, progress, Taken::InProcess { rss_reset: rss_ok })
}

/// [`run_paired_suite_until`] for runs the caller measures itself — child processes, say, whose
/// wall time, CPU time and peak RSS come from the kernel's accounting of the child: `run(side)`
/// takes one run of that side and returns its record (`index`, `pair` and `sequence` are filled
/// in here) or why it failed. Same schedule, warm-ups, stopping rule, interrupts and raw data.
///
/// ```
/// use bench_core::{RunId, RunRecord, Workload};
/// use bench_measure::{PairedConfig, Side, SuiteConfig, run_paired_measured_until};
/// let dir = tempfile::tempdir().unwrap();
/// let side = |name: &str| SuiteConfig::new(4, name, "doc", Workload::default(), dir.path()).unwrap();
/// let config = PairedConfig { pairs: 4, seed: 1, baseline: side("a"), candidate: side("b") };
/// let mut run = |s: Side| {
///     let t = std::time::Instant::now();
///     std::hint::black_box((0..10_000u64).sum::<u64>());
///     let wall_ns = t.elapsed().as_nanos().max(1) as u64;
///     Ok(RunRecord { wall_ns, cpu_ns: wall_ns, ..RunRecord::default() })
/// };
/// let out = run_paired_measured_until(&mut run, &config, None, &mut |_, _| false, &mut |_, _| {}).unwrap();
/// assert_eq!(out.baseline.raw.runs.len(), 4);
/// ```
pub fn run_paired_measured_until(
    run: &mut dyn FnMut(Side) -> Result<RunRecord, String>,
    config: &PairedConfig,
    max_seconds: Option<f64>,
    decided: &mut dyn FnMut(&[RunRecord], &[RunRecord]) -> bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<PairedOutcome, MeasureError> {
    let _exclusive = measurement_lock();
    paired(run, config, max_seconds, decided, progress, Taken::ByCaller)
}

/// The most pairs a suite can still reach after `done` pairs in `elapsed` seconds: `budget`, or
/// fewer when `max_seconds` at the pace so far stops it sooner — the time budget is checked
/// between ABBA blocks of two pairs, so up to a block more than the time allows, rounded up to
/// a whole block.
///
/// ```
/// use bench_measure::most_pairs;
/// assert_eq!(most_pairs(10, 400, None, 5.0), 400);
/// // 10 pairs in 5 s under a 60-s budget: 120 pairs fit, plus a block.
/// assert_eq!(most_pairs(10, 400, Some(60.0), 5.0), 122);
/// assert_eq!(most_pairs(10, 100, Some(60.0), 5.0), 100);
/// ```
pub fn most_pairs(done: usize, budget: usize, max_seconds: Option<f64>, elapsed: f64) -> usize {
    let Some(limit) = max_seconds.filter(|_| done > 0 && elapsed > 0.0) else { return budget };
    let per_pair = elapsed / done as f64;
    let fit = (limit / per_pair).ceil().min(budget as f64) as usize;
    (fit.div_ceil(2) * 2 + 2).min(budget).max(done)
}

/// Where the runs of a suite were measured, for its warnings.
#[derive(Clone, Copy)]
enum Taken {
    /// In this process; whether the RSS high-water mark could be reset per run.
    InProcess { rss_reset: bool },
    /// By the caller (e.g. in child processes): this process's build and RSS say nothing of them.
    ByCaller,
}

fn paired(
    run: &mut dyn FnMut(Side) -> Result<RunRecord, String>,
    config: &PairedConfig,
    max_seconds: Option<f64>,
    decided: &mut dyn FnMut(&[RunRecord], &[RunRecord]) -> bool,
    progress: &mut dyn FnMut(usize, usize),
    taken: Taken,
) -> Result<PairedOutcome, MeasureError> {
    check_run_count(&format!("{} pairs", config.pairs), 2 * config.pairs as u128)?;
    let mut env = sys::environment();
    let schedule = abba_schedule(config.pairs, config.seed);
    let mut raw_b = new_raw(&config.baseline, &env);
    let mut raw_c = new_raw(&config.candidate, &env);
    let scheme = "randomised ABBA blocks".to_owned();
    raw_b.pairing = Some(Partner {
        role: "baseline".into(),
        partner_run_id: raw_c.run_id.clone(),
        scheme: scheme.clone(),
        seed: config.seed,
    });
    raw_c.pairing = Some(Partner {
        role: "candidate".into(),
        partner_run_id: raw_b.run_id.clone(),
        scheme,
        seed: config.seed,
    });
    let open_b = RawData::path_in(&config.baseline.output_dir, &RunId::new(&raw_b.run_id)?);
    let open_c = RawData::path_in(&config.candidate.output_dir, &RunId::new(&raw_c.run_id)?);
    let warmups = config.baseline.warmup_runs.max(config.candidate.warmup_runs);
    for _ in 0..warmups {
        if interrupt_requested() {
            break;
        }
        let _ = run(Side::Baseline);
        let _ = run(Side::Candidate);
    }
    let mut sequence = 0u32;
    let mut stopped = SuiteStop::AllPairs;
    let mut taken_pairs = schedule.len();
    let started = Instant::now();
    for (pair, order) in schedule.iter().enumerate() {
        if interrupt_requested() {
            raw_b.status = SuiteStatus::Interrupted;
            raw_c.status = SuiteStatus::Interrupted;
            stopped = SuiteStop::Interrupted;
            taken_pairs = pair;
            break;
        }
        if pair > 0 && pair % 2 == 0 {
            if decided(&raw_b.runs, &raw_c.runs) {
                stopped = SuiteStop::Decided;
                taken_pairs = pair;
                break;
            }
            if max_seconds.is_some_and(|m| started.elapsed().as_secs_f64() >= m) {
                stopped = SuiteStop::MaxTime;
                taken_pairs = pair;
                break;
            }
        }
        let mut results: [Option<Result<RunRecord, String>>; 2] = [None, None];
        for side in order {
            let r = run(*side).map(|mut rec| {
                rec.pair = Some(pair as u32);
                rec.sequence = Some(sequence);
                rec
            });
            sequence += 1;
            results[usize::from(*side == Side::Candidate)] = Some(r);
        }
        let [rb, rc] = results.map(|r| r.expect("both sides ran"));
        match (rb, rc) {
            (Ok(mut b), Ok(mut c)) => {
                b.index = raw_b.runs.len() as u32;
                c.index = raw_c.runs.len() as u32;
                raw_b.runs.push(b);
                raw_c.runs.push(c);
            }
            (b, c) => {
                for (res, raw) in [(b, &mut raw_b), (c, &mut raw_c)] {
                    match res {
                        Ok(rec) => raw.unpaired_runs.push(rec),
                        Err(message) => raw.failed_runs.push(FailedRun { index: pair as u32, message }),
                    }
                }
            }
        }
        crate::interrupt::keep_open(&open_b, &raw_b);
        crate::interrupt::keep_open(&open_c, &raw_c);
        progress(pair + 1, most_pairs(pair + 1, config.pairs, max_seconds, started.elapsed().as_secs_f64()));
    }
    if stopped == SuiteStop::AllPairs && decided(&raw_b.runs, &raw_c.runs) {
        stopped = SuiteStop::Decided;
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut schedule = schedule;
    schedule.truncate(taken_pairs);
    env.finished = sys::now_rfc3339();
    raw_b.environment = env.clone();
    raw_c.environment = env.clone();
    let (rb, _) = summarize(&raw_b, &env, taken);
    let (rc, _) = summarize(&raw_c, &env, taken);
    let written =
        (write_raw(&raw_b, &config.baseline.output_dir), write_raw(&raw_c, &config.candidate.output_dir));
    crate::interrupt::close_open(&open_b);
    crate::interrupt::close_open(&open_c);
    let (pb, pc) = (written.0?, written.1?);
    Ok(PairedOutcome {
        baseline: SuiteOutcome { result: rb, raw: raw_b, raw_path: pb },
        candidate: SuiteOutcome { result: rc, raw: raw_c, raw_path: pc },
        schedule,
        stopped,
        seconds,
    })
}

/// Serialises access to process-global measurement state (the RSS high-water mark, the heap
/// counters, the profiler singletons): one suite or profile at a time per process.
static MEASUREMENT_LOCK: Mutex<()> = Mutex::new(());

/// Takes the process-wide measurement lock (a panicking holder does not poison it for others).
/// Suites take it, and so do profilers built on these readings: hold it around anything that
/// resets or reads the process-wide peaks.
pub fn measurement_lock() -> std::sync::MutexGuard<'static, ()> {
    MEASUREMENT_LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    /// With a resident set above whatever the kernel froze at exec (cargo's peak when run by
    /// `cargo test`), the cheap `getrusage` path is taken and agrees with `VmHWM`; a run that
    /// touches 64 MiB more shows exactly that growth on both.
    #[test]
    fn the_getrusage_path_agrees_with_vmhwm() {
        let _guard = MEASUREMENT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let resident = vec![1u8; 512 * MIB as usize];
        let mut probe = MemoryProbe::new();
        assert!(probe.reset(true), "clear_refs is writable on Linux ≥ 4.0");
        assert!(probe.rusage_exact, "512 MiB resident is above the value frozen at exec");
        let more = vec![2u8; 64 * MIB as usize];
        let fast = probe.peak_rss().unwrap();
        let exact = sys::peak_rss_bytes().unwrap();
        assert!(fast.abs_diff(exact) <= MIB, "getrusage {fast} B vs VmHWM {exact} B");
        assert!(fast >= 576 * MIB, "peak {fast} B below the 576 MiB resident");
        std::hint::black_box((&resident, &more));
    }
}
