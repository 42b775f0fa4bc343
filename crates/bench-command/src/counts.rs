//! Deciding on a count instead of a time: two commands compared by their instructions or
//! estimated cycles under Callgrind ([`compare_counts`]).
//!
//! The outputs are checked first, from the first run of each under Callgrind (a candidate that
//! prints something else is blocked). Then each command runs `runs` times, alternating. Where
//! every run of each side counted exactly the same, the metric is **deterministic** here: the
//! improvement is exact, and it is accepted when it reaches the threshold's minimum improvement
//! and rejected otherwise, after a few runs instead of hundreds. Where the counts moved (hash
//! seeds, address-space randomisation, an allocator, threads), the sides run up to `max_runs`
//! times each and the threshold's criteria decide on the counts as they decide on times
//! ([`bench_threshold::evaluate_threshold`], paired, since the runs alternate).

use bench_core::Sample;
use bench_optimizations::Decision;
use bench_threshold::{Evaluation, PerformanceThreshold, Verdict};
use serde::Serialize;

use crate::{
    CallgrindOptions, CommandError, CommandSpec, CountMetric, OutputCheck, OutputComparison, compare_outputs,
    run_under_callgrind,
};

/// How [`compare_counts`] runs and decides.
#[derive(Debug, Clone, PartialEq)]
pub struct CountOptions {
    /// The count decided on.
    pub metric: CountMetric,
    /// The decision's criteria.
    pub threshold: PerformanceThreshold,
    /// Runs of each side that show whether the counts are deterministic (at least 2).
    pub runs: usize,
    /// Runs of each side when they are not.
    pub max_runs: usize,
    /// How the outputs are compared.
    pub check: OutputCheck,
    /// How each run is started under Callgrind.
    pub callgrind: CallgrindOptions,
}

impl CountOptions {
    /// Three runs a side, twenty when the counts move, the exact output check, child processes
    /// followed (a launcher script or a shell line would otherwise be counted instead of the
    /// work it starts).
    pub fn new(metric: CountMetric, threshold: PerformanceThreshold) -> Self {
        let callgrind = CallgrindOptions { trace_children: true, ..CallgrindOptions::default() };
        Self { metric, threshold, runs: 3, max_runs: 20, check: OutputCheck::Exact, callgrind }
    }
}

/// What [`compare_counts`] found.
#[derive(Debug, Clone, Serialize)]
pub struct CountComparison {
    /// The count decided on.
    pub metric: CountMetric,
    /// Its unit, as the reports print it.
    pub unit: &'static str,
    /// The output check.
    pub equivalence: OutputComparison,
    /// The baseline's count per run, in run order.
    pub baseline: Vec<u64>,
    /// The candidate's.
    pub candidate: Vec<u64>,
    /// Every run of each side counted the same.
    pub deterministic: bool,
    /// `(max − min) / min` of each side's counts, percent: (baseline, candidate).
    pub spread_percent: (f64, f64),
    /// `(1 − mean candidate / mean baseline) × 100`.
    pub improvement_percent: f64,
    /// The threshold's minimum improvement, percent.
    pub min_improvement_percent: f64,
    /// The criteria's evaluation, when the counts were not deterministic.
    pub evaluation: Option<Evaluation>,
    /// Accepted; rejected; a regression (deterministic: at least the threshold more; otherwise as
    /// the criteria say); or blocked by the output check.
    pub decision: Decision,
    /// Why, in a sentence.
    pub rationale: String,
    /// Wall time of all the runs under Callgrind, seconds.
    pub seconds: f64,
    /// Threads each side's first run counted: (baseline, candidate).
    pub threads: (usize, usize),
    /// Where the count may mislead on this comparison.
    pub warnings: Vec<String>,
}

/// Compares `baseline` and `candidate` by `options.metric` under Callgrind; `progress` hears
/// the runs done so far.
///
/// ```no_run
/// use bench_command::{CommandSpec, CountMetric, CountOptions, Shell, compare_counts};
/// use bench_threshold::OptimizationConfig;
/// let t = OptimizationConfig::create_default().fallback().clone();
/// let a = CommandSpec::parse("python3 slow.py", Shell::None).unwrap();
/// let b = CommandSpec::parse("python3 fast.py", Shell::None).unwrap();
/// let c = compare_counts(&a, &b, &CountOptions::new(CountMetric::Instructions, t), &mut |_| {}).unwrap();
/// println!("{}", c.rationale);
/// ```
pub fn compare_counts(
    baseline: &CommandSpec,
    candidate: &CommandSpec,
    options: &CountOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<CountComparison, CommandError> {
    if options.runs < 2 || options.max_runs < options.runs {
        return Err(CommandError::Input(format!(
            "a count comparison needs at least 2 runs a side and at most as many as its maximum ({} and {})",
            options.runs, options.max_runs
        )));
    }
    let started = std::time::Instant::now();
    let counted = |spec: &CommandSpec| -> Result<(u64, Vec<u8>, usize), CommandError> {
        let run = run_under_callgrind(spec, &options.callgrind)?;
        let n = run.counts.get(options.metric).ok_or_else(|| {
            CommandError::Input(format!(
                "Callgrind recorded no {} for {:?}",
                options.metric.unit(),
                spec.text
            ))
        })?;
        Ok((n, run.captured.stdout, run.counts.threads))
    };
    let count = |spec: &CommandSpec| counted(spec).map(|(n, _, _)| n);
    let (b0, b_out, b_threads) = counted(baseline)?;
    let (c0, c_out, c_threads) = counted(candidate)?;
    progress(1);
    let equivalence = compare_outputs(&b_out, &c_out, options.check)?;
    let (mut b, mut c) = (vec![b0], vec![c0]);
    let min_improvement = bench_core::to_f64(options.threshold.min_improvement_percent);
    if equivalence.equivalent {
        let mut run_pair = |b: &mut Vec<u64>, c: &mut Vec<u64>| -> Result<(), CommandError> {
            // Alternating which side runs first, as ABBA does for times.
            if b.len() % 2 == 1 {
                c.push(count(candidate)?);
                b.push(count(baseline)?);
            } else {
                b.push(count(baseline)?);
                c.push(count(candidate)?);
            }
            progress(b.len());
            Ok(())
        };
        while b.len() < options.runs {
            run_pair(&mut b, &mut c)?;
        }
        if !(same(&b) && same(&c)) {
            while b.len() < options.max_runs {
                run_pair(&mut b, &mut c)?;
            }
        }
    }
    let mean = |v: &[u64]| v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
    let spread = |v: &[u64]| {
        let (lo, hi) = (*v.iter().min().unwrap_or(&0), *v.iter().max().unwrap_or(&0));
        if lo == 0 { 0.0 } else { (hi - lo) as f64 / lo as f64 * 100.0 }
    };
    let improvement = (1.0 - mean(&c) / mean(&b)) * 100.0;
    let deterministic = same(&b) && same(&c);
    let unit = options.metric.unit();
    let (decision, evaluation, rationale) = if !equivalence.equivalent {
        (Decision::Blocked, None, "the outputs differ: not compared".to_owned())
    } else if deterministic {
        let accepted = improvement >= min_improvement;
        let why = format!(
            "deterministic: {} runs a side counted exactly the same, so the improvement of {improvement:.3}% in {unit} is exact, {} the {min_improvement}% threshold",
            b.len(),
            if accepted { "reaching" } else { "short of" }
        );
        let decision = if accepted {
            Decision::Accepted
        } else if improvement <= -min_improvement {
            Decision::Regression
        } else {
            Decision::Rejected
        };
        (decision, None, why)
    } else {
        let sample = |v: &[u64]| {
            Sample::new(v.iter().map(|&x| x as f64).collect())
                .map_err(|e| CommandError::Input(format!("counts: {e}")))
        };
        let e = bench_threshold::evaluate_threshold(&sample(&b)?, &sample(&c)?, None, &options.threshold)
            .map_err(|e| CommandError::Input(format!("counts: {e}")))?;
        let decision = match e.verdict {
            Verdict::Accepted => Decision::Accepted,
            Verdict::Regression => Decision::Regression,
            _ => Decision::Rejected,
        };
        let why = format!(
            "not deterministic (the counts moved {:.3}% and {:.3}% between runs): the threshold's criteria decided on {} runs a side, as for times",
            spread(&b),
            spread(&c),
            b.len()
        );
        (decision, Some(e), why)
    };
    let mut warnings = Vec::new();
    if b_threads != c_threads {
        warnings.push(format!(
            "the baseline ran {b_threads} thread(s) and the candidate {c_threads}: {unit} add up every thread's work, so they show neither the time saved by running in parallel nor the time lost waiting"
        ));
    }
    if !deterministic && [baseline, candidate].iter().any(|s| s.text.contains("python")) {
        warnings.push(
            "a Python process randomises its string hashes on every run, which moves its counts: PYTHONHASHSEED=0 makes them repeatable".into(),
        );
    }
    Ok(CountComparison {
        metric: options.metric,
        unit,
        equivalence,
        spread_percent: (spread(&b), spread(&c)),
        baseline: b,
        candidate: c,
        deterministic,
        improvement_percent: improvement,
        min_improvement_percent: min_improvement,
        evaluation,
        decision,
        rationale,
        seconds: started.elapsed().as_secs_f64(),
        threads: (b_threads, c_threads),
        warnings,
    })
}

fn same(v: &[u64]) -> bool {
    v.windows(2).all(|w| w[0] == w[1])
}
