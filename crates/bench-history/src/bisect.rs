//! Finding the first commit whose result moved past a threshold: each commit checked out in
//! its own git worktree (the user's checkout untouched), built, and judged by a paired,
//! interleaved verdict against the good commit — O(log n) verdicts, inconclusive ones said.

use std::path::{Path, PathBuf};
use std::time::Instant;

use bench_command::{CommandSpec, CompareOptions, CountOptions, Shell, compare_commands, compare_counts};
use bench_optimizations::Decision;
use serde::Serialize;

use crate::git::{Git, short};
use crate::{History, HistoryError, Outcome, VerdictRecord};

/// What [`bisect`] runs and how it decides.
#[derive(Debug, Clone)]
pub struct BisectOptions {
    /// A commit whose result is good.
    pub good: String,
    /// A later commit whose result moved.
    pub bad: String,
    /// The series the verdicts are recorded under (the command, or the name its results are
    /// recorded under, so that `detect` finds them).
    pub benchmark: String,
    /// The benchmarked command, run in each commit's worktree.
    pub command: String,
    /// How the command (and `build`) is started.
    pub shell: Shell,
    /// Run once in each worktree before it is measured (`cargo build --release`, say), untimed.
    pub build: Option<String>,
    /// Look for the first commit that got faster by the threshold (default: slower).
    pub faster: bool,
    /// How each verdict measures and decides (its threshold is the one bisected on).
    pub compare: CompareOptions,
    /// Decide on a count under Callgrind instead of time (its threshold is `compare`'s).
    pub count: Option<CountOptions>,
    /// Folder of the worktrees (one per commit, removed at the end).
    pub worktrees: PathBuf,
}

impl BisectOptions {
    /// Bisecting `good..bad` on `command` (words, run by `sh -c` in each worktree), decided as
    /// `compare` says, or on `metric`'s count under Callgrind when it is one; the worktrees go
    /// under `compare.output_dir`; verdicts are recorded under `benchmark` (default: the
    /// command); nothing is built.
    pub fn new(
        good: &str,
        bad: &str,
        command: &[String],
        benchmark: Option<String>,
        compare: CompareOptions,
        metric: bench_command::CompareMetric,
    ) -> Self {
        let command = command.join(" ");
        let count = metric.count().map(|m| CountOptions {
            check: compare.check,
            ..CountOptions::new(m, compare.threshold.clone())
        });
        Self {
            good: good.to_owned(),
            bad: bad.to_owned(),
            benchmark: benchmark.unwrap_or_else(|| command.clone()),
            command,
            shell: Shell::Sh,
            build: None,
            faster: false,
            worktrees: compare.output_dir.join("worktrees"),
            compare: CompareOptions { metric: metric.time().unwrap_or_default(), ..compare },
            count,
        }
    }
}

/// One verdict of a bisection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BisectStep {
    /// The commit judged against the good one.
    pub commit: String,
    /// Its subject line.
    pub subject: String,
    /// What the verdict found.
    pub outcome: Outcome,
    /// The commit's change against the good commit, percent (+ = slower).
    pub change_percent: f64,
    /// The change's confidence bounds, percent.
    pub bounds_percent: Option<[f64; 2]>,
    /// Pairs measured.
    pub pairs: usize,
    /// Why the verdict is inconclusive, when it is.
    pub note: Option<String>,
    /// Wall time of the step (build and verdict), seconds.
    pub seconds: f64,
}

/// The result of [`bisect`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bisection {
    /// The good commit.
    pub good: String,
    /// The bad commit.
    pub bad: String,
    /// Commits after the good one up to the bad one.
    pub commits: usize,
    /// The first commit that moved, when the verdicts name it.
    pub first_moved: Option<String>,
    /// The last commit shown not to have moved (the good one at least).
    pub last_unchanged: String,
    /// Commits between those two left undecided (inconclusive verdicts).
    pub undecided: Vec<String>,
    /// Every verdict, in the order taken.
    pub steps: Vec<BisectStep>,
    /// What was found, in a sentence.
    pub conclusion: String,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// Worktrees removed when the bisection ends, however it ends.
struct Worktrees<'a> {
    git: &'a Git,
    made: Vec<PathBuf>,
}

impl Drop for Worktrees<'_> {
    fn drop(&mut self) {
        for p in &self.made {
            let _ = self.git.remove_worktree(p);
        }
    }
}

impl Worktrees<'_> {
    /// A built worktree of `commit` under `root`.
    fn checkout(
        &mut self,
        root: &Path,
        commit: &str,
        options: &BisectOptions,
    ) -> Result<PathBuf, HistoryError> {
        let path = root.join(short(commit));
        if !self.made.contains(&path) {
            self.git.add_worktree(&path, commit)?;
            self.made.push(path.clone());
            if let Some(build) = &options.build {
                let spec =
                    CommandSpec::parse(build, Shell::Sh).map_err(|e| HistoryError::Input(e.to_string()))?;
                let out = std::process::Command::new("sh")
                    .arg("-c")
                    .arg(&spec.text)
                    .current_dir(&path)
                    .output()
                    .map_err(|e| HistoryError::Input(format!("cannot run the build {build:?}: {e}")))?;
                if !out.status.success() {
                    let err = String::from_utf8_lossy(&out.stderr);
                    let tail: Vec<&str> = err.lines().rev().take(8).collect();
                    return Err(HistoryError::Input(format!(
                        "the build {build:?} failed at commit {} ({}):\n{}",
                        short(commit),
                        out.status,
                        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                    )));
                }
            }
        }
        Ok(path)
    }
}

/// A verdict's outcome, the commit's change against the good one and its bounds, from a
/// comparison whose candidate is the good commit when looking for a slow-down and the commit
/// when looking for a speed-up: "accepted" means the commit moved past the threshold either way.
fn judged(
    decision: Decision,
    improvement_percent: f64,
    evaluation: Option<&bench_threshold::Evaluation>,
    faster: bool,
) -> (Outcome, f64, Option<[f64; 2]>, Option<String>) {
    let outcome = match decision {
        Decision::Accepted => Outcome::Moved,
        Decision::Rejected | Decision::Regression => Outcome::Unchanged,
        Decision::Inconclusive | Decision::Failed | Decision::Blocked => Outcome::Inconclusive,
    };
    let note = match decision {
        Decision::Blocked => {
            Some("the outputs differ from the good commit's (see --check-output)".to_owned())
        }
        Decision::Failed => Some("the runs failed".to_owned()),
        Decision::Inconclusive => Some("the budget ran out before the bounds left the threshold".to_owned()),
        _ => None,
    };
    // The improvement I of the candidate over the baseline, as a change of the commit's figure.
    let change = |i: f64| if faster { -i } else { 100.0 * (1.0 / (1.0 - i / 100.0) - 1.0) };
    let bounds = match evaluation {
        None => Some([change(improvement_percent); 2]),
        Some(e) => {
            let bound = |d: Option<bench_core::Decimal>| d.map(|d| change(bench_core::to_f64(d)));
            match (bound(e.bound.lower_percent), bound(e.bound.upper_percent)) {
                (Some(a), Some(b)) => Some([a.min(b), a.max(b)]),
                _ => None,
            }
        }
    };
    (outcome, change(improvement_percent), bounds, note)
}

/// Bisects `options.good..options.bad` in the repository at `repo`: first the bad commit is
/// judged (nothing is bisected when it has not moved past the threshold, or cannot be told),
/// then the middle of the commits left, until the first moved commit is named. An inconclusive
/// commit is set aside, as `git bisect skip`, and its neighbour judged instead; when only
/// inconclusive commits are left, the range that holds the first moved commit is returned.
/// Every verdict is recorded into `history` (when given) with the good commit as baseline.
pub fn bisect(
    repo: &Path,
    options: &BisectOptions,
    history: Option<&mut History>,
    progress: &mut dyn FnMut(&str),
) -> Result<Bisection, HistoryError> {
    let started = Instant::now();
    let git = Git::new(repo);
    let good = git.resolve(&options.good)?;
    let commits = git.commits_between(&options.good, &options.bad)?;
    if commits.is_empty() {
        return Err(HistoryError::Input(format!(
            "no commits after --good {} up to --bad {}",
            options.good, options.bad
        )));
    }
    std::fs::create_dir_all(&options.worktrees)
        .map_err(|e| HistoryError::Input(format!("cannot create {}: {e}", options.worktrees.display())))?;
    let mut trees = Worktrees { git: &git, made: Vec::new() };
    progress(&format!("building the good commit {}", short(&good)));
    let good_dir = trees.checkout(&options.worktrees, &good, options)?;
    let spec = |dir: &Path| {
        CommandSpec::parse(&options.command, options.shell)
            .map(|s| s.with_dir(dir))
            .map_err(|e| HistoryError::Input(e.to_string()))
    };
    let mut history = history;
    let mut steps: Vec<BisectStep> = Vec::new();
    let mut judge = |i: usize,
                     trees: &mut Worktrees<'_>,
                     steps: &mut Vec<BisectStep>|
     -> Result<Outcome, HistoryError> {
        let at = Instant::now();
        let commit = &commits[i];
        progress(&format!("commit {} of {}: building {}", i + 1, commits.len(), short(commit)));
        let dir = trees.checkout(&options.worktrees, commit, options)?;
        progress(&format!(
            "commit {} of {}: paired verdict of {} against {}",
            i + 1,
            commits.len(),
            short(commit),
            short(&good)
        ));
        let (a, b) =
            if options.faster { (spec(&good_dir)?, spec(&dir)?) } else { (spec(&dir)?, spec(&good_dir)?) };
        let compare = CompareOptions {
            name: format!("{}_{}", options.compare.name, short(commit)),
            ..options.compare.clone()
        };
        let fail =
            |e: bench_command::CommandError| HistoryError::Input(format!("commit {}: {e}", short(commit)));
        let ((outcome, change_percent, bounds_percent, note), pairs, metric) = match &options.count {
            Some(count) => {
                let c = compare_counts(&a, &b, count, &mut |_| {}).map_err(fail)?;
                let j = judged(c.decision, c.improvement_percent, c.evaluation.as_ref(), options.faster);
                (j, c.baseline.len().min(c.candidate.len()), count.metric.as_str())
            }
            None => {
                let c = compare_commands(&a, &b, &compare, &mut |_| {}).map_err(fail)?;
                let improvement =
                    c.evaluation.as_ref().map_or(0.0, |e| bench_core::to_f64(e.improvement_percent));
                let j = judged(c.decision, improvement, c.evaluation.as_ref(), options.faster);
                let metric = if c.metric == bench_core::TimeMetric::Cpu { "cpu-time" } else { "latency" };
                (j, c.baseline.times_s.len().min(c.candidate.times_s.len()), metric)
            }
        };
        if let Some(h) = history.as_deref_mut() {
            let now =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            h.record_verdict(&VerdictRecord {
                machine: bench_measure::sys::machine(),
                benchmark: options.benchmark.clone(),
                metric: metric.to_owned(),
                baseline_commit: good.clone(),
                candidate_commit: commit.clone(),
                outcome,
                change_percent,
                lower: bounds_percent.map(|b| b[0]),
                upper: bounds_percent.map(|b| b[1]),
                threshold_percent: bench_core::to_f64(options.compare.threshold.min_improvement_percent),
                recorded_at: now as i64,
            })?;
        }
        steps.push(BisectStep {
            commit: commit.clone(),
            subject: git.subject(commit).unwrap_or_default(),
            outcome,
            change_percent,
            bounds_percent,
            pairs,
            note,
            seconds: at.elapsed().as_secs_f64(),
        });
        Ok(outcome)
    };
    let last = commits.len() - 1;
    let first = judge(last, &mut trees, &mut steps)?;
    let direction = if options.faster { "faster" } else { "slower" };
    // The threshold is on the improvement of the faster side over the slower: a commit slower by
    // at least t / (1 − t) of the good commit's figure (5% → 5.26%) is one the good commit
    // improves on by t.
    let t = bench_core::to_f64(options.compare.threshold.min_improvement_percent);
    let threshold = if options.faster {
        format!("{t}%")
    } else {
        format!("{:.2}% (the good commit at least {t}% faster)", 100.0 * t / (100.0 - t))
    };
    let finish = |first_moved: Option<String>,
                  last_unchanged: String,
                  undecided: Vec<String>,
                  conclusion: String,
                  steps: Vec<BisectStep>| Bisection {
        good: good.clone(),
        bad: commits[last].clone(),
        commits: commits.len(),
        first_moved,
        last_unchanged,
        undecided,
        steps,
        conclusion,
        seconds: started.elapsed().as_secs_f64(),
    };
    if first != Outcome::Moved {
        let why =
            if first == Outcome::Unchanged { "has not moved" } else { "could not be shown to have moved" };
        let conclusion = format!(
            "the bad commit {} {why} {direction} than the good one by at least {threshold}: nothing to bisect",
            short(&commits[last])
        );
        return Ok(finish(None, good.clone(), Vec::new(), conclusion, steps));
    }
    // Invariant: every commit at or before `lo` is taken as unchanged (`None`: the good one),
    // `hi` moved; `skipped` holds the inconclusive ones in between.
    let (mut lo, mut hi): (Option<usize>, usize) = (None, last);
    let mut skipped: Vec<usize> = Vec::new();
    loop {
        let start = lo.map_or(0, |l| l + 1);
        let open: Vec<usize> = (start..hi).filter(|i| !skipped.contains(i)).collect();
        if open.is_empty() {
            break;
        }
        // The middle of the range, or the open commit nearest to it.
        let mid = (start + hi) / 2;
        let pick = *open.iter().min_by_key(|&&i| (i as i64 - mid as i64).abs()).expect("open is not empty");
        match judge(pick, &mut trees, &mut steps)? {
            Outcome::Moved => hi = pick,
            Outcome::Unchanged => lo = Some(pick),
            Outcome::Inconclusive => skipped.push(pick),
        }
    }
    let start = lo.map_or(0, |l| l + 1);
    let undecided: Vec<String> = (start..hi).map(|i| commits[i].clone()).collect();
    let last_unchanged = lo.map_or(good.clone(), |l| commits[l].clone());
    let conclusion = if undecided.is_empty() {
        format!(
            "first commit {direction} by at least {threshold}: {} (after {}), in {} verdicts",
            short(&commits[hi]),
            short(&last_unchanged),
            steps.len()
        )
    } else {
        format!(
            "the first commit {direction} by at least {threshold} is one of {} commits {}..{}: {} verdicts between them were inconclusive",
            undecided.len() + 1,
            short(&last_unchanged),
            short(&commits[hi]),
            undecided.len()
        )
    };
    let first_moved = undecided.is_empty().then(|| commits[hi].clone());
    Ok(finish(first_moved, last_unchanged, undecided, conclusion, steps))
}

/// A bisection as text: each verdict, then the conclusion.
pub fn bisect_text(b: &Bisection) -> String {
    let mut out = format!("bisect {}..{} ({} commits)\n", short(&b.good), short(&b.bad), b.commits);
    for s in &b.steps {
        let bounds = s.bounds_percent.map_or(String::new(), |[l, u]| format!(" [{l:+.1}% … {u:+.1}%]"));
        let note = s.note.as_deref().map_or(String::new(), |n| format!(" — {n}"));
        out.push_str(&format!(
            "  {}  {:<12} {:+.1}%{bounds}  {} pairs, {:.1} s  {}{note}\n",
            short(&s.commit),
            s.outcome.as_str(),
            s.change_percent,
            s.pairs,
            s.seconds,
            s.subject
        ));
    }
    out.push_str(&format!("{} ({:.1} s)\n", b.conclusion, b.seconds));
    out
}
