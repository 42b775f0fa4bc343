//! How a comparison samples and decides: a fixed number of pairs with the fixed-sample rule, or
//! the adaptive design — pairs added in ABBA blocks until an anytime-valid confidence sequence
//! decides or the budget is spent.

use bench_core::{Measurements, RunRecord, TimeMetric};
use bench_measure::PairedOutcome;
use bench_threshold::{
    AdaptivePlan, Evaluation, PerformanceThreshold, compare_measurements, evaluate_adaptive,
};

/// The sampling design of a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Design {
    /// A fixed number of pairs (the harness's), decided by the fixed-sample rule.
    Fixed,
    /// Pairs until the confidence sequence decides or the plan's budget is spent.
    Adaptive(AdaptivePlan),
}

/// The two sampling designs, as a command line names them.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DesignKind {
    /// Until the confidence sequence decides, within --max-pairs and --max-time.
    Adaptive,
    /// Exactly --runs pairs, decided by the fixed-sample rule.
    Fixed,
}

/// A sampling design as asked for (by flags or a settings file), before a threshold supplies
/// its defaults: [`DesignRequest::resolve`] checks it and returns the [`Design`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DesignRequest {
    /// Exactly `runs` pairs (default: the threshold's minimum sample size).
    Fixed {
        /// Pairs per comparison.
        runs: Option<usize>,
    },
    /// A first look of `first_look` pairs (default: the minimum sample size), then ABBA blocks
    /// until the anytime-valid sequence decides, `max_pairs` pairs are spent or `max_seconds`
    /// pass.
    Adaptive {
        /// Pairs of the first look.
        first_look: Option<usize>,
        /// Most pairs per comparison.
        max_pairs: usize,
        /// Most wall time per comparison, in seconds.
        max_seconds: f64,
    },
}

impl DesignRequest {
    /// The request of `kind`: `runs` is the fixed count or the adaptive first look; the
    /// adaptive budget is `max_pairs` and `max_seconds`.
    ///
    /// ```
    /// use bench_optimizations::{DesignKind, DesignRequest};
    /// assert_eq!(DesignRequest::new(DesignKind::Fixed, Some(30), 400, 60.0), DesignRequest::Fixed { runs: Some(30) });
    /// ```
    pub fn new(kind: DesignKind, runs: Option<usize>, max_pairs: usize, max_seconds: f64) -> Self {
        match kind {
            DesignKind::Fixed => Self::Fixed { runs },
            DesignKind::Adaptive => Self::Adaptive { first_look: runs, max_pairs, max_seconds },
        }
    }

    /// The design under `threshold` and its first look (or fixed count), checked: at least 2
    /// pairs, a budget no smaller than the first look, and a run count whose records fit in
    /// memory. The adaptive sequence is tuned for twice the pair budget
    /// (see [`AdaptivePlan::with_budget`]).
    ///
    /// ```
    /// use bench_optimizations::{Design, DesignRequest};
    /// let t = bench_threshold::OptimizationConfig::create_default().fallback().clone();
    /// assert_eq!(DesignRequest::Fixed { runs: Some(12) }.resolve(&t).unwrap(), (12, Design::Fixed));
    /// assert!(DesignRequest::Fixed { runs: Some(1) }.resolve(&t).is_err());
    /// let (first, design) = DesignRequest::Adaptive { first_look: None, max_pairs: 400, max_seconds: 60.0 }
    ///     .resolve(&t)
    ///     .unwrap();
    /// assert!(matches!(design, Design::Adaptive(p) if p.max_pairs == 400 && p.min_pairs == first));
    /// ```
    pub fn resolve(&self, threshold: &PerformanceThreshold) -> Result<(usize, Design), DesignError> {
        let first = match *self {
            DesignRequest::Fixed { runs } => runs,
            DesignRequest::Adaptive { first_look, .. } => first_look,
        };
        let pairs = first.unwrap_or(threshold.min_sample_size);
        if pairs < 2 {
            return Err(DesignError::TooFewPairs(pairs));
        }
        match *self {
            DesignRequest::Fixed { .. } => {
                bench_measure::check_run_count(&format!("--runs {pairs}"), 2 * pairs as u128)?;
                Ok((pairs, Design::Fixed))
            }
            DesignRequest::Adaptive { max_pairs, max_seconds, .. } => {
                if max_pairs < pairs {
                    return Err(DesignError::BudgetBelowFirstLook { max_pairs, first_look: pairs });
                }
                bench_measure::check_run_count(&format!("--max-pairs {max_pairs}"), 2 * max_pairs as u128)?;
                let plan =
                    AdaptivePlan { min_pairs: pairs, max_seconds, ..AdaptivePlan::default_for(threshold) }
                        .with_budget(max_pairs);
                Ok((pairs, Design::Adaptive(plan)))
            }
        }
    }
}

/// A [`DesignRequest`] that cannot be honoured (always the input's fault).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DesignError {
    /// Fewer than 2 pairs per comparison.
    #[error("--runs {0}: at least 2 pairs are needed for a paired t-test")]
    TooFewPairs(usize),
    /// An adaptive budget smaller than its first look.
    #[error("--max-pairs {max_pairs} is below the {first_look} pairs of the first look")]
    BudgetBelowFirstLook {
        /// The budget asked for.
        max_pairs: usize,
        /// The first look.
        first_look: usize,
    },
    /// More runs than their records could hold in memory.
    #[error(transparent)]
    TooManyRuns(#[from] bench_measure::MeasureError),
}

impl bench_core::ErrorClass for DesignError {
    fn is_input_error(&self) -> bool {
        match self {
            DesignError::TooManyRuns(e) => e.is_input_error(),
            _ => true,
        }
    }
}

/// How long comparisons are expected to take, planned before they start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpectedTime {
    /// Seconds of one run (a baseline run, timed once before planning).
    pub run_seconds: f64,
    /// Comparisons planned.
    pub comparisons: usize,
    /// Pairs a comparison usually takes: the fixed count, or a calibration's typical stop.
    pub typical_pairs: Option<f64>,
    /// Seconds all comparisons take at `typical_pairs` (when known).
    pub typical_seconds: Option<f64>,
    /// Seconds all comparisons take at the fewest pairs the design allows.
    pub least_seconds: f64,
    /// Seconds all comparisons take at most: the pair budget or the time budget, whichever ends first
    /// (the time budget is checked between ABBA blocks of two pairs).
    pub most_seconds: f64,
}

impl ExpectedTime {
    /// Refuses a plan whose least time passes [`bench_core::limits::UNCONFIRMED_SECONDS`] (an
    /// hour) unless `confirmed`: a plan that cannot finish sooner is stated and refused before
    /// it starts.
    pub fn admit(&self, what: &str, confirmed: bool) -> Result<(), bench_core::limits::LimitError> {
        use bench_core::limits::{LimitError, UNCONFIRMED_SECONDS, long_duration};
        if confirmed || self.least_seconds <= UNCONFIRMED_SECONDS {
            return Ok(());
        }
        let pairs = self.least_seconds / (2.0 * self.run_seconds.max(1e-12) * self.comparisons.max(1) as f64);
        Err(LimitError::Time {
            what: what.to_owned(),
            work: format!("{} comparisons of at least {pairs:.0} pairs", self.comparisons),
            estimate: long_duration(self.least_seconds),
            rate: format!("{} per run", bench_core::units::duration_short(self.run_seconds)),
            limit: long_duration(UNCONFIRMED_SECONDS),
        })
    }
}

impl std::fmt::Display for ExpectedTime {
    /// For a person, before the comparisons start: the bound for all of them first (an
    /// evaluation that reaches its goal runs fewer), then what one takes — `at most 52.4 s for
    /// up to 6 comparisons; each takes 218 ms if it decides at its first look, about 2.44 s at
    /// the ~112 pairs a comparison of no effect takes on this machine (its calibration), at most
    /// 8.73 s (a baseline run takes 10.9 ms)`. A comparison of a large effect decides at its
    /// first look; one near the threshold or of no effect takes longest.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use bench_core::units::{clock, duration_short};
        let (n, run) = (self.comparisons, duration_short(self.run_seconds));
        let each = |total: f64| clock(total / n.max(1) as f64);
        if self.most_seconds <= self.least_seconds {
            return write!(
                f,
                "{} for up to {n} comparisons (a baseline run takes {run})",
                clock(self.most_seconds)
            );
        }
        write!(
            f,
            "at most {} for up to {n} comparisons; each takes {} if it decides at its first look, ",
            clock(self.most_seconds),
            each(self.least_seconds)
        )?;
        match (self.typical_pairs, self.typical_seconds) {
            (Some(p), Some(s)) => write!(
                f,
                "about {} at the ~{p:.0} pairs a comparison of no effect takes on this machine (its calibration), at most {} (a baseline run takes {run})",
                each(s),
                each(self.most_seconds)
            ),
            _ => write!(
                f,
                "at most {} (a baseline run takes {run}; `cargo xtask calibrate` learns where comparisons of no effect stop)",
                each(self.most_seconds)
            ),
        }
    }
}

impl Design {
    /// Plans the time of `comparisons` comparisons whose runs take about `run_seconds` each (a
    /// pair is two runs; warm-ups, profiling and equivalence checks are extra). `fixed_pairs` is
    /// the fixed design's count; `typical_pairs` where an adaptive comparison usually stops (from a
    /// calibration), if known.
    ///
    /// ```
    /// use bench_optimizations::Design;
    /// let t = Design::Fixed.expected_time(0.5, 4, 10, None);
    /// assert_eq!(t.typical_seconds, Some(40.0)); // 4 comparisons × 10 pairs × 2 runs × 0.5 s
    /// ```
    pub fn expected_time(
        &self,
        run_seconds: f64,
        comparisons: usize,
        fixed_pairs: usize,
        typical_pairs: Option<f64>,
    ) -> ExpectedTime {
        let per_pair = 2.0 * run_seconds.max(0.0);
        let n = comparisons as f64;
        match self {
            Design::Fixed => {
                let s = n * fixed_pairs as f64 * per_pair;
                ExpectedTime {
                    run_seconds,
                    comparisons,
                    typical_pairs: Some(fixed_pairs as f64),
                    typical_seconds: Some(s),
                    least_seconds: s,
                    most_seconds: s,
                }
            }
            Design::Adaptive(p) => {
                let capped = |pairs: f64| (pairs * per_pair).min(p.max_seconds + 2.0 * per_pair);
                ExpectedTime {
                    run_seconds,
                    comparisons,
                    typical_pairs,
                    typical_seconds: typical_pairs.map(|t| n * capped(t)),
                    least_seconds: n * capped(p.min_pairs as f64),
                    most_seconds: n * capped(p.max_pairs as f64),
                }
            }
        }
    }
}

/// A design with the threshold it decides against.
#[derive(Debug, Clone, Copy)]
pub struct Sampling<'a> {
    /// The design.
    pub design: Design,
    /// The criteria.
    pub threshold: &'a PerformanceThreshold,
    /// The time decided on (wall unless asked otherwise).
    pub metric: TimeMetric,
}

fn seconds(runs: &[RunRecord], metric: TimeMetric) -> impl Iterator<Item = f64> + '_ {
    runs.iter().map(move |r| metric.nanos(r) as f64 / 1e9)
}

impl<'a> Sampling<'a> {
    /// A design deciding on wall time.
    pub fn new(design: Design, threshold: &'a PerformanceThreshold) -> Self {
        Self { design, threshold, metric: TimeMetric::Wall }
    }

    /// The most pairs to run: the plan's budget, or `fixed_pairs`.
    pub fn max_pairs(&self, fixed_pairs: usize) -> usize {
        match self.design {
            Design::Fixed => fixed_pairs,
            Design::Adaptive(p) => p.max_pairs,
        }
    }

    /// The time budget, if any.
    pub fn max_seconds(&self) -> Option<f64> {
        match self.design {
            Design::Fixed => None,
            Design::Adaptive(p) => Some(p.max_seconds),
        }
    }

    /// Whether the pairs so far decide (always false for the fixed design).
    pub fn decided(&self, baseline: &[RunRecord], candidate: &[RunRecord]) -> bool {
        let Design::Adaptive(plan) = self.design else { return false };
        let b: Vec<f64> = seconds(baseline, self.metric).collect();
        let c: Vec<f64> = seconds(candidate, self.metric).collect();
        matches!(bench_threshold::adaptive_status(&b, &c, self.threshold, &plan), Ok((_, Some(_))))
    }

    /// The decision on a paired suite's outcome.
    pub fn evaluate(&self, outcome: &PairedOutcome) -> Result<Evaluation, EvaluationError> {
        let b =
            Measurements::from_raw_metric(&outcome.baseline.raw, &outcome.baseline.raw_path, self.metric)?;
        let c =
            Measurements::from_raw_metric(&outcome.candidate.raw, &outcome.candidate.raw_path, self.metric)?;
        Ok(match self.design {
            Design::Fixed => compare_measurements(&b, &c, self.threshold)?,
            Design::Adaptive(plan) => {
                let memory = Measurements::common_memory_peak(&b, &c).map(|(metric, x, y)| {
                    bench_threshold::MemoryComparison { metric, baseline_bytes: x, candidate_bytes: y }
                });
                evaluate_adaptive(
                    &b.times,
                    &c.times,
                    memory,
                    self.threshold,
                    &plan,
                    outcome.seconds,
                    outcome.stopped.as_str(),
                )?
            }
        })
    }
}

/// Why a paired outcome could not be decided.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvaluationError {
    /// The measured runs do not make a sample (too few, or zero times).
    #[error(transparent)]
    Measurements(#[from] bench_core::InputError),
    /// The threshold could not be applied to them.
    #[error(transparent)]
    Threshold(#[from] bench_threshold::ThresholdError),
    /// The runs could not be measured (a workload or I/O failure, a limit, an interrupt before
    /// the first pair).
    #[error(transparent)]
    Measure(#[from] bench_measure::MeasureError),
}

impl bench_core::ErrorClass for EvaluationError {
    fn is_input_error(&self) -> bool {
        match self {
            EvaluationError::Measurements(e) => e.is_input_error(),
            EvaluationError::Threshold(e) => e.is_input_error(),
            EvaluationError::Measure(e) => e.is_input_error(),
        }
    }
}
