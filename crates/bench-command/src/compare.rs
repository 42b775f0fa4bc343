//! The whole method for two commands: the output-equivalence gate, interleaved ABBA pairs of
//! child processes (adaptive by default), and the four-criterion decision — or a command against
//! a saved baseline, which was never interleaved with it.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use bench_core::{Environment, Measurements, RawData, RunRecord, TimeMetric, Workload};
use bench_measure::{
    DEFAULT_WARMUP_RUNS, PairedConfig, Side, SuiteConfig, SuiteStop, run_measured_suite,
    run_paired_measured_until,
};
use bench_optimizations::{Decision, Design, Sampling};
use bench_threshold::{
    AdaptivePlan, Evaluation, Pairing, PerformanceThreshold, Verdict, compare_measurements,
};
use serde::Serialize;

use crate::child::{Captured, Overhead, TimedRunner, describe_status, harness_overhead, run_captured, tail};
use crate::{CommandError, CommandSpec, OutputCheck, OutputComparison, SavedBaseline, compare_outputs};

/// How [`compare_commands`] measures and decides.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// Name of the comparison (run ids of the raw data).
    pub name: String,
    /// The decision's criteria.
    pub threshold: PerformanceThreshold,
    /// Adaptive (default) or fixed.
    pub design: Design,
    /// Pairs of the fixed design and the first look of the adaptive one; runs of a command
    /// measured alone (against a saved baseline, or to save one).
    pub runs: usize,
    /// Untimed warm-up runs per side.
    pub warmup_runs: usize,
    /// Run before every run (warm-ups, the gate and timed runs), untimed.
    pub prepare: Option<CommandSpec>,
    /// The time decided on.
    pub metric: TimeMetric,
    /// Keep runs that exit non-zero instead of failing them.
    pub ignore_failure: bool,
    /// How the gate compares the outputs.
    pub check: OutputCheck,
    /// Seed of the ABBA schedule.
    pub seed: u64,
    /// Directory that receives `raw_data/`.
    pub output_dir: PathBuf,
    /// Runs of the empty process that measure the harness's own cost per run.
    pub overhead_runs: usize,
    /// Run even when the least time the plan can take passes an hour (`--yes`).
    pub confirmed: bool,
}

impl CompareOptions {
    /// The adaptive design with its default budget, the threshold's minimum pairs, two warm-ups,
    /// wall time, the exact output check.
    pub fn new(name: &str, threshold: PerformanceThreshold, output_dir: &std::path::Path) -> Self {
        Self {
            name: name.to_owned(),
            runs: threshold.min_sample_size,
            design: Design::Adaptive(AdaptivePlan::default_for(&threshold)),
            threshold,
            warmup_runs: DEFAULT_WARMUP_RUNS,
            prepare: None,
            metric: TimeMetric::Wall,
            ignore_failure: false,
            check: OutputCheck::Exact,
            seed: 0x5EED,
            output_dir: output_dir.to_path_buf(),
            overhead_runs: 30,
            confirmed: false,
        }
    }
}

/// What a comparison reports as it goes: its plan once the check runs have timed the
/// commands, then the pairs (or the runs of a command measured alone) done.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CompareProgress {
    /// The time planned, before the first timed run.
    Planned(ComparePlan),
    /// `done` pairs (or runs) of at most `most`.
    Done {
        /// Pairs (or runs) done.
        done: usize,
        /// Pairs (or runs) at most.
        most: usize,
    },
}

/// The time a comparison should take, planned from its check runs (one run of each command,
/// with its output captured) before the first timed run: warm-ups and timed runs at that
/// pace. The harness-overhead runs of the empty process (milliseconds) are left out.
///
/// ```
/// use bench_command::ComparePlan;
/// use bench_optimizations::Design;
/// // 10 pairs of 0.5-s runs after 2 warm-ups per side: 24 runs, 12 s.
/// let p = ComparePlan::paired(Design::Fixed, 10, 2, 0.5);
/// assert_eq!((p.least_seconds, p.most_seconds), (12.0, 12.0));
/// assert_eq!(p.to_string(), "about 12 s: 24 runs of ~500 ms (20 timed, 4 warm-ups)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ComparePlan {
    /// Seconds of one run: the mean of the check runs.
    pub run_seconds: f64,
    /// Runs at least, warm-ups included, both sides counted.
    pub least_runs: usize,
    /// Runs at most (the pair budget), warm-ups included.
    pub most_runs: usize,
    /// Warm-up runs among them.
    pub warmup_runs: usize,
    /// Seconds at least: the first look decides.
    pub least_seconds: f64,
    /// Seconds at most: the pair budget or the time budget, whichever ends first (the time
    /// budget is checked between ABBA blocks of two pairs, so a block may run past it).
    pub most_seconds: f64,
    /// The time budget of the timed pairs, if any.
    pub max_seconds: Option<f64>,
}

impl ComparePlan {
    /// The plan of interleaved pairs under `design`: `runs` pairs (the fixed count or the
    /// adaptive first look), `warmup_runs` per side, runs of about `run_seconds`.
    pub fn paired(design: Design, runs: usize, warmup_runs: usize, run_seconds: f64) -> Self {
        let run = run_seconds.max(0.0);
        let warm = 2 * warmup_runs;
        let (least, most, budget) = match design {
            Design::Fixed => (2 * runs, 2 * runs, None),
            Design::Adaptive(p) => (2 * p.min_pairs, 2 * p.max_pairs, Some(p.max_seconds)),
        };
        // The time budget is checked between ABBA blocks (two pairs, four runs), even before
        // the first look.
        let timed =
            |runs: usize| budget.map_or(runs as f64 * run, |b| (runs as f64 * run).min(b + 4.0 * run));
        Self {
            run_seconds: run,
            least_runs: warm + least,
            most_runs: warm + most,
            warmup_runs: warm,
            least_seconds: warm as f64 * run + timed(least),
            most_seconds: warm as f64 * run + timed(most),
            max_seconds: budget,
        }
    }

    /// The plan of `runs` timed runs of one command after `warmup_runs` warm-ups.
    pub fn alone(runs: usize, warmup_runs: usize, run_seconds: f64) -> Self {
        let run = run_seconds.max(0.0);
        let n = runs + warmup_runs;
        Self {
            run_seconds: run,
            least_runs: n,
            most_runs: n,
            warmup_runs,
            least_seconds: n as f64 * run,
            most_seconds: n as f64 * run,
            max_seconds: None,
        }
    }
}

impl ComparePlan {
    /// Timed runs (warm-ups left out) that fit in [`ComparePlan::most_seconds`] at the
    /// planned pace: what a progress bar counts to, so that its time left is a bound, not the
    /// pair budget's hours.
    ///
    /// ```
    /// use bench_command::ComparePlan;
    /// use bench_optimizations::Design;
    /// let t = bench_threshold::OptimizationConfig::create_default().fallback().clone();
    /// let plan = bench_threshold::AdaptivePlan { max_pairs: 400, max_seconds: 60.0, ..bench_threshold::AdaptivePlan::default_for(&t) };
    /// // 800 runs of 2.5 s would take 33 minutes; the 60-s budget stops them after 24 + a block of 4.
    /// assert_eq!(ComparePlan::paired(Design::Adaptive(plan), 10, 2, 2.5).timed_at_most(), 28);
    /// ```
    pub fn timed_at_most(&self) -> usize {
        let timed = self.most_runs - self.warmup_runs;
        if self.run_seconds <= 0.0 {
            return timed;
        }
        let fit =
            ((self.most_seconds - self.warmup_runs as f64 * self.run_seconds) / self.run_seconds).ceil();
        (fit.max(0.0) as usize).min(timed)
    }
}

impl std::fmt::Display for ComparePlan {
    /// `about 12 s: 24 runs of ~500 ms (20 timed, 4 warm-ups)`, or for an adaptive comparison
    /// `at least 12 s (24 runs of ~500 ms, 4 of them warm-ups) if the first look decides, at
    /// most 1 min 03 s (the 60 s time budget)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use bench_core::units::{clock, count, duration_short};
        let run = duration_short(self.run_seconds);
        if self.most_runs == self.least_runs {
            return write!(
                f,
                "about {}: {} runs of ~{run} ({} timed, {} warm-ups)",
                clock(self.least_seconds),
                count(self.least_runs as u64),
                count((self.least_runs - self.warmup_runs) as u64),
                self.warmup_runs
            );
        }
        let limit = match self.max_seconds {
            Some(b) if self.most_seconds < (self.most_runs as f64) * self.run_seconds => {
                format!("the {} time budget", duration_short(b))
            }
            _ => format!("{} runs", count(self.most_runs as u64)),
        };
        write!(
            f,
            "at least {} ({} runs of ~{run}, {} of them warm-ups) if the first look decides, at most {} ({limit})",
            clock(self.least_seconds),
            count(self.least_runs as u64),
            self.warmup_runs,
            clock(self.most_seconds)
        )
    }
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideSummary {
    /// The command line (or the saved baseline's).
    pub command: String,
    /// `none` or `sh`.
    pub shell: String,
    /// How its check run ended, e.g. `exit code 0`.
    pub check_run: String,
    /// Bytes it printed on its check run.
    pub output_bytes: usize,
    /// Completed timed runs.
    pub runs: usize,
    /// Runs that failed (excluded from the statistics), with why.
    pub failed_runs: Vec<String>,
    /// The raw data, when it was measured.
    pub raw_path: Option<PathBuf>,
    /// Time of every completed run under the metric, seconds, in the order taken.
    pub times_s: Vec<f64>,
    /// User + system CPU time of every completed run, seconds.
    pub cpu_s: Vec<f64>,
    /// Exit code of every completed run (`0` unless `--ignore-failure` kept others).
    pub exit_codes: Vec<Option<i32>>,
    /// Peak resident set of every completed run, bytes, where measured.
    pub peak_rss_bytes: Vec<u64>,
    /// The raw data itself (as written to `raw_path`), kept so a caller can save or re-judge
    /// it without reading the file back.
    #[serde(skip)]
    pub raw: Option<RawData>,
}

/// What a comparison of two commands found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommandComparison {
    /// The baseline (A).
    pub baseline: SideSummary,
    /// The candidate (B).
    pub candidate: SideSummary,
    /// The equivalence gate.
    pub equivalence: OutputComparison,
    /// Interleaved (paired) or not (a saved baseline: Welch's test).
    pub pairing: Pairing,
    /// The time decided on.
    pub metric: TimeMetric,
    /// The harness's own cost per run (not subtracted: both sides pay it alike).
    pub overhead: Option<Overhead>,
    /// accepted, rejected, regression, blocked (outputs differ, not timed) or failed (fewer
    /// than two complete pairs).
    pub decision: Decision,
    /// The decision's figures; `None` when blocked or failed.
    pub evaluation: Option<Evaluation>,
    /// Why sampling stopped: `decided`, `max_pairs`, `max_time`, `interrupted`.
    pub stopped_by: Option<String>,
    /// Wall time of the timed runs, seconds.
    pub seconds: f64,
    /// What the reader should know.
    pub warnings: Vec<String>,
    /// False when an interrupt cut the runs short.
    pub complete: bool,
    /// What the baseline printed on its check run (to save it as a baseline).
    #[serde(skip)]
    pub baseline_stdout: Vec<u8>,
}

impl CommandComparison {
    /// The process exit code a CLI should end with: 0 accepted, 1 anything else.
    pub fn accepted(&self) -> bool {
        self.decision == Decision::Accepted
    }
}

/// The gate's run of one side: an input error when it cannot start, or fails without
/// `--ignore-failure`.
fn check_run(spec: &CommandSpec, role: &str, options: &CompareOptions) -> Result<Captured, CommandError> {
    let c = run_captured(spec, options.prepare.as_ref())?;
    if !(c.status.success() || options.ignore_failure && c.status.code().is_some()) {
        return Err(CommandError::Input(format!(
            "the {role} command {:?} failed on its check run ({}): {}. Fix the command, or pass --ignore-failure if a non-zero exit is expected",
            spec.text,
            describe_status(c.status),
            tail(&c.stderr)
        )));
    }
    Ok(c)
}

impl CommandComparison {
    /// A comparison stopped at the output gate: the outputs differ, so nothing is timed.
    fn blocked(
        baseline: SideSummary,
        candidate: SideSummary,
        equivalence: OutputComparison,
        pairing: Pairing,
        metric: TimeMetric,
        warnings: Vec<String>,
        baseline_stdout: Vec<u8>,
    ) -> Self {
        Self {
            baseline,
            candidate,
            equivalence,
            pairing,
            metric,
            overhead: None,
            decision: Decision::Blocked,
            evaluation: None,
            stopped_by: None,
            seconds: 0.0,
            warnings,
            complete: true,
            baseline_stdout,
        }
    }
}

fn side_summary(
    spec_text: &str,
    shell: &str,
    check: &Captured,
    raw: Option<(&RawData, &PathBuf)>,
    exit_codes: Vec<Option<i32>>,
    metric: TimeMetric,
) -> SideSummary {
    let (runs, failed, path, times, cpu, rss) = match raw {
        Some((r, p)) => (
            r.runs.len(),
            r.failed_runs.iter().map(|f| f.message.clone()).collect(),
            Some(p.clone()),
            r.runs.iter().map(|x| metric.nanos(x) as f64 / 1e9).collect(),
            r.runs.iter().map(|x| x.cpu_ns as f64 / 1e9).collect(),
            r.runs.iter().filter_map(|x| x.peak_rss_bytes).collect(),
        ),
        None => (0, Vec::new(), None, Vec::new(), Vec::new(), Vec::new()),
    };
    SideSummary {
        command: spec_text.to_owned(),
        shell: shell.to_owned(),
        check_run: describe_status(check.status),
        output_bytes: check.stdout.len(),
        runs,
        failed_runs: failed,
        raw_path: path,
        times_s: times,
        cpu_s: cpu,
        exit_codes,
        peak_rss_bytes: rss,
        raw: raw.map(|(r, _)| r.clone()),
    }
}

fn suite_config(options: &CompareOptions, role: &str, command: &str) -> Result<SuiteConfig, CommandError> {
    let mut c = SuiteConfig::new(options.runs, command, "command", Workload::default(), &options.output_dir)?;
    c.run_id = bench_core::RunId::sanitized(&format!("{}_{role}", options.name));
    c.warmup_runs = options.warmup_runs;
    c.measure_rss = false;
    Ok(c)
}

/// Exit codes of `runs`, from the log of every call in order: the first `skip` calls were
/// warm-ups, and the call after them at position `k` is the run at schedule position `k`.
fn exit_codes_of(
    runs: &[RunRecord],
    log: &[Option<i32>],
    skip: usize,
    position: fn(&RunRecord) -> usize,
) -> Vec<Option<i32>> {
    runs.iter().map(|r| log.get(skip + position(r)).copied().flatten()).collect()
}

/// Says so when some runs' peak resident set was hidden by this process's own (see
/// [`TimedRunner::rss_below_floor`]).
/// The suites' warnings, each naming its side ("high variability" of which command?) unless
/// both sides said the same.
fn side_warnings(baseline: &[String], candidate: &[String], warnings: &mut Vec<String>) {
    for (role, mine, theirs) in [("baseline", baseline, candidate), ("candidate", candidate, baseline)] {
        for w in mine {
            let w = if theirs.contains(w) { w.clone() } else { format!("{role}: {w}") };
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
    }
}

fn rss_warning(role: &str, runner: &TimedRunner, warnings: &mut Vec<String>) {
    if runner.rss_below_floor > 0 {
        warnings.push(format!(
            "peak RSS of {} {role} run(s) not recorded: they stayed below this tool's own resident set at spawn ({}), which Linux reports in a child's place; memory is compared only when every run of both sides was measured",
            runner.rss_below_floor,
            bench_core::units::bytes(runner.rss_floor_bytes)
        ));
    }
}

/// Refuses a plan of `runs` runs of about `per_run` seconds each that cannot finish within an
/// hour, unless confirmed (the check runs time the commands before any timed run).
fn admit(options: &CompareOptions, runs: usize, per_run: f64) -> Result<(), CommandError> {
    use bench_core::limits::{LimitError, UNCONFIRMED_SECONDS, long_duration};
    let least = runs as f64 * per_run;
    if options.confirmed || least <= UNCONFIRMED_SECONDS {
        return Ok(());
    }
    Err(CommandError::Input(
        LimitError::Time {
            what: "the comparison".into(),
            work: format!("{runs} timed runs"),
            estimate: long_duration(least),
            rate: format!("the check runs took {} per run", bench_core::units::duration_short(per_run)),
            limit: long_duration(UNCONFIRMED_SECONDS),
        }
        .to_string(),
    ))
}

/// Pairs a design takes at least.
fn least_pairs(options: &CompareOptions) -> usize {
    match options.design {
        Design::Fixed => options.runs,
        Design::Adaptive(p) => p.min_pairs,
    }
}

/// A decision on runs, or `Failed` with the reason when there are too few.
fn decide(
    result: Result<Evaluation, bench_optimizations::EvaluationError>,
    warnings: &mut Vec<String>,
) -> (Decision, Option<Evaluation>) {
    match result {
        Ok(e) => {
            let d = match e.verdict {
                Verdict::Accepted => Decision::Accepted,
                Verdict::Rejected => Decision::Rejected,
                Verdict::Regression => Decision::Regression,
                Verdict::Inconclusive => Decision::Inconclusive,
            };
            (d, Some(e))
        }
        Err(why) => {
            warnings.push(format!("no decision: {why}"));
            (Decision::Failed, None)
        }
    }
}

/// Compares `baseline` (A) with `candidate` (B): each runs once with its output captured and
/// the outputs are compared (a difference blocks B without timing it); then both run as child
/// processes interleaved in randomised ABBA pairs — until the confidence sequence decides or the
/// budget is spent, under the adaptive design — and the four criteria decide. `progress` gets
/// the plan once the check runs have timed both commands, then follows the pairs.
///
/// ```
/// use bench_command::{CommandSpec, CompareOptions, Shell, compare_commands};
/// use bench_threshold::OptimizationConfig;
/// let dir = tempfile::tempdir().unwrap();
/// let t = OptimizationConfig::create_default().fallback().clone();
/// let a = CommandSpec::parse("echo 42", Shell::None).unwrap();
/// let b = CommandSpec::parse("echo 43", Shell::None).unwrap();
/// let c = compare_commands(&a, &b, &CompareOptions::new("doc", t, dir.path()), &mut |_| {}).unwrap();
/// assert_eq!(c.decision, bench_optimizations::Decision::Blocked); // different output: never timed
/// assert_eq!(c.equivalence.first_difference.unwrap().line, 1);
/// ```
pub fn compare_commands(
    baseline: &CommandSpec,
    candidate: &CommandSpec,
    options: &CompareOptions,
    progress: &mut dyn FnMut(CompareProgress),
) -> Result<CommandComparison, CommandError> {
    let ca = check_run(baseline, "baseline", options)?;
    let cb = check_run(candidate, "candidate", options)?;
    let equivalence = compare_outputs(&ca.stdout, &cb.stdout, options.check)?;
    let mut warnings = Vec::new();
    if options.check == OutputCheck::None {
        warnings.push(
            "outputs were not compared (--check-output none): the candidate may compute something else"
                .into(),
        );
    }
    let shell = |s: &CommandSpec| s.shell.as_str().to_owned();
    if !equivalence.equivalent {
        let candidate =
            side_summary(&candidate.text, &shell(candidate), &cb, None, Vec::new(), options.metric);
        return Ok(CommandComparison::blocked(
            side_summary(&baseline.text, &shell(baseline), &ca, None, Vec::new(), options.metric),
            candidate,
            equivalence,
            Pairing::Interleaved,
            options.metric,
            warnings,
            ca.stdout.clone(),
        ));
    }
    let per_run = (ca.wall_seconds() + cb.wall_seconds()) / 2.0;
    admit(options, 2 * least_pairs(options), per_run)?;
    progress(CompareProgress::Planned(ComparePlan::paired(
        options.design,
        options.runs,
        options.warmup_runs,
        per_run,
    )));
    let overhead = harness_overhead(baseline.shell, options.overhead_runs)?;
    let sampling = Sampling { metric: options.metric, ..Sampling::new(options.design, &options.threshold) };
    let config = PairedConfig {
        pairs: sampling.max_pairs(options.runs),
        seed: options.seed,
        baseline: suite_config(options, "baseline", &baseline.text)?,
        candidate: suite_config(options, "candidate", &candidate.text)?,
    };
    let mut ra = TimedRunner::new(baseline, options.prepare.as_ref(), options.ignore_failure)?;
    let mut rb = TimedRunner::new(candidate, options.prepare.as_ref(), options.ignore_failure)?;
    // Every call in order, both sides: warm-ups alternate sides, then one call per schedule
    // position, so a run's `sequence` finds its exit code.
    let log = RefCell::new(Vec::new());
    let mut run = |side: Side| -> Result<RunRecord, String> {
        let runner = match side {
            Side::Baseline => &mut ra,
            Side::Candidate => &mut rb,
        };
        let r = runner.run();
        log.borrow_mut().push(runner.exit_codes.last().copied().flatten());
        r
    };
    let outcome = run_paired_measured_until(
        &mut run,
        &config,
        sampling.max_seconds(),
        &mut |b, c| sampling.decided(b, c),
        &mut |done, most| progress(CompareProgress::Done { done, most }),
    )?;
    rss_warning("baseline", &ra, &mut warnings);
    rss_warning("candidate", &rb, &mut warnings);
    let seq = |r: &RunRecord| r.sequence.unwrap_or(u32::MAX) as usize;
    let codes_a = exit_codes_of(&outcome.baseline.raw.runs, &log.borrow(), 2 * options.warmup_runs, seq);
    let codes_b = exit_codes_of(&outcome.candidate.raw.runs, &log.borrow(), 2 * options.warmup_runs, seq);
    side_warnings(
        outcome.baseline.result.as_ref().map_or(&[], |r| &r.warnings[..]),
        outcome.candidate.result.as_ref().map_or(&[], |r| &r.warnings[..]),
        &mut warnings,
    );
    let (decision, evaluation) = decide(sampling.evaluate(&outcome), &mut warnings);
    Ok(CommandComparison {
        baseline: side_summary(
            &baseline.text,
            &shell(baseline),
            &ca,
            Some((&outcome.baseline.raw, &outcome.baseline.raw_path)),
            codes_a,
            options.metric,
        ),
        candidate: side_summary(
            &candidate.text,
            &shell(candidate),
            &cb,
            Some((&outcome.candidate.raw, &outcome.candidate.raw_path)),
            codes_b,
            options.metric,
        ),
        equivalence,
        pairing: Pairing::Interleaved,
        metric: options.metric,
        overhead: Some(overhead),
        decision,
        evaluation,
        stopped_by: Some(outcome.stopped.as_str().to_owned()),
        seconds: outcome.seconds,
        warnings,
        complete: outcome.stopped != SuiteStop::Interrupted,
        baseline_stdout: ca.stdout.clone(),
    })
}

/// Measures `command` alone (its output checked once, then `options.runs` timed runs) and
/// saves its runs and output as `name` under `dir`. Returns the baseline and the suite (whose
/// status says whether an interrupt cut it short).
pub fn record_baseline(
    dir: &Path,
    name: &str,
    command: &CommandSpec,
    options: &CompareOptions,
    progress: &mut dyn FnMut(CompareProgress),
) -> Result<(SavedBaseline, bench_measure::SuiteOutcome), CommandError> {
    SavedBaseline::check_name(name)?;
    let (check, suite, _) = measure_command(command, options, progress)?;
    let now = bench_measure::sys::now_rfc3339();
    let saved =
        SavedBaseline::save(dir, name, &command.text, command.shell, &suite.raw, &check.stdout, &now)?;
    Ok((saved, suite))
}

/// Measures `command` alone, `options.runs` runs after the warm-ups (its check run first, so a
/// failing command is refused before timing): what a baseline is saved from. Returns the check
/// run (its output is the saved output) and the suite.
pub fn measure_command(
    command: &CommandSpec,
    options: &CompareOptions,
    progress: &mut dyn FnMut(CompareProgress),
) -> Result<(Captured, bench_measure::SuiteOutcome, Vec<Option<i32>>), CommandError> {
    let check = check_run(command, "baseline", options)?;
    admit(options, options.runs, check.wall_seconds())?;
    progress(CompareProgress::Planned(ComparePlan::alone(
        options.runs,
        options.warmup_runs,
        check.wall_seconds(),
    )));
    let mut runner = TimedRunner::new(command, options.prepare.as_ref(), options.ignore_failure)?;
    let mut run = || runner.run();
    let config = suite_config(options, "runs", &command.text)?;
    let out = run_measured_suite(&mut run, &config, &mut |done, most| {
        progress(CompareProgress::Done { done, most })
    })?;
    let codes = exit_codes_of(&out.raw.runs, &runner.exit_codes, options.warmup_runs, |r| r.index as usize);
    Ok((check, out, codes))
}

/// Differences between two environment fingerprints that matter for comparing timings.
pub fn fingerprint_differences(saved: &Environment, now: &Environment) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |name: &str, a: &str, b: &str| {
        if a != b {
            out.push(format!("{name}: {a:?} then, {b:?} now"));
        }
    };
    field("OS", &saved.os, &now.os);
    field("CPU", &saved.cpu, &now.cpu);
    field("cores", &saved.cores.to_string(), &now.cores.to_string());
    field(
        "clock source",
        saved.clocksource.as_deref().unwrap_or("unknown"),
        now.clocksource.as_deref().unwrap_or("unknown"),
    );
    out
}

/// Compares `candidate` with a saved baseline. The runs were not interleaved — they were taken
/// at another time, perhaps on another machine state — so the sides are independent samples
/// (Welch's t-test), the decision uses the fixed-sample rule, and the report says so; a
/// different environment fingerprint is warned about. The gate compares the candidate's output
/// with the one saved.
pub fn compare_with_saved(
    saved: &SavedBaseline,
    candidate: &CommandSpec,
    options: &CompareOptions,
    progress: &mut dyn FnMut(CompareProgress),
) -> Result<CommandComparison, CommandError> {
    let cb = check_run(candidate, "candidate", options)?;
    let equivalence = compare_outputs(&saved.stdout, &cb.stdout, options.check)?;
    let saved_check = Captured {
        stdout: saved.stdout.clone(),
        stderr: Vec::new(),
        status: success_status(),
        usage: crate::ChildUsage { wall_ns: 0, cpu_ns: 0, peak_rss_bytes: None },
        rss_floor_bytes: None,
    };
    let saved_codes = vec![Some(0); saved.raw.runs.len()];
    let baseline = |raw: Option<(&RawData, &PathBuf)>| {
        let mut s = side_summary(
            &saved.info.command,
            &saved.info.shell,
            &saved_check,
            raw,
            saved_codes.clone(),
            options.metric,
        );
        s.check_run = format!("saved as {:?} on {}", saved.info.name, saved.info.saved);
        s
    };
    let mut warnings = vec![format!(
        "not interleaved: the baseline's runs were saved on {} and are compared as an independent sample (Welch's t-test); interleave both commands in one `cargo xtask compare 'A' 'B'` for a paired verdict",
        saved.info.saved
    )];
    if !equivalence.equivalent {
        let candidate =
            side_summary(&candidate.text, candidate.shell.as_str(), &cb, None, Vec::new(), options.metric);
        return Ok(CommandComparison::blocked(
            baseline(Some((&saved.raw, &saved.raw_path))),
            candidate,
            equivalence,
            Pairing::NotInterleaved,
            options.metric,
            warnings,
            saved.stdout.clone(),
        ));
    }
    admit(options, options.runs, cb.wall_seconds())?;
    progress(CompareProgress::Planned(ComparePlan::alone(
        options.runs,
        options.warmup_runs,
        cb.wall_seconds(),
    )));
    let overhead = harness_overhead(candidate.shell, options.overhead_runs)?;
    let mut runner = TimedRunner::new(candidate, options.prepare.as_ref(), options.ignore_failure)?;
    let mut run = || runner.run();
    let config = suite_config(options, "candidate", &candidate.text)?;
    let started = std::time::Instant::now();
    let out = run_measured_suite(&mut run, &config, &mut |done, most| {
        progress(CompareProgress::Done { done, most })
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let codes = exit_codes_of(&out.raw.runs, &runner.exit_codes, options.warmup_runs, |r| r.index as usize);
    rss_warning("candidate", &runner, &mut warnings);
    let diffs = fingerprint_differences(&saved.raw.environment, &out.raw.environment);
    if !diffs.is_empty() {
        warnings.push(format!(
            "the machine differs from the one the baseline was saved on ({}): the timings may not be comparable",
            diffs.join("; ")
        ));
    }
    side_warnings(&[], out.result.as_ref().map_or(&[], |r| &r.warnings[..]), &mut warnings);
    let result = (|| -> Result<Evaluation, bench_optimizations::EvaluationError> {
        let b = Measurements::from_raw_metric(&saved.raw, &saved.raw_path, options.metric)?;
        let c = Measurements::from_raw_metric(&out.raw, &out.raw_path, options.metric)?;
        Ok(compare_measurements(&b, &c, &options.threshold)?)
    })();
    let (decision, evaluation) = decide(result, &mut warnings);
    let interrupted = out.raw.status == bench_core::SuiteStatus::Interrupted;
    Ok(CommandComparison {
        baseline: baseline(Some((&saved.raw, &saved.raw_path))),
        candidate: side_summary(
            &candidate.text,
            candidate.shell.as_str(),
            &cb,
            Some((&out.raw, &out.raw_path)),
            codes,
            options.metric,
        ),
        equivalence,
        pairing: Pairing::NotInterleaved,
        metric: options.metric,
        overhead: Some(overhead),
        decision,
        evaluation,
        stopped_by: Some(if interrupted { "interrupted" } else { "max_pairs" }.into()),
        seconds,
        warnings,
        complete: !interrupted,
        baseline_stdout: saved.stdout.clone(),
    })
}

#[cfg(unix)]
fn success_status() -> std::process::ExitStatus {
    use std::os::unix::process::ExitStatusExt as _;
    std::process::ExitStatus::from_raw(0)
}

#[cfg(not(unix))]
fn success_status() -> std::process::ExitStatus {
    use std::os::windows::process::ExitStatusExt as _;
    std::process::ExitStatus::from_raw(0)
}
