//! The adaptive (sequential) decision: pairs arrive in ABBA blocks of two; after every block an
//! anytime-valid confidence sequence of the improvement of mean time is updated, and the
//! comparison stops as soon as its lower bound reaches the threshold (accepted) or its upper
//! bound falls below it (rejected), or when the budget is spent — then the result is
//! **inconclusive**, never accepted.
//!
//! The sequence is the one-sided normal mixture (`bench_stats::MixtureBoundary`) inverted over
//! the ratio of means (`bench_stats::PairedSums`), on ABBA blocks (two consecutive pairs summed),
//! widened by the blocks' lag-1 autocorrelation — the same construction as
//! [`crate::confidence_sequence_bound`], kept incrementally here so a look costs O(1). Because it is
//! valid at every sample size at once, stopping on the data costs no error rate: a candidate
//! whose true improvement is exactly the threshold is accepted at most `α` of the time.
//!
//! It is tuned ([`AdaptivePlan::tuned_for_pairs`]) for twice the budget: tightest late, where
//! near-threshold comparisons are decided, and conservative early, which also protects against a
//! candidate whose rare stalls have not shown up yet.

use bench_core::{Sample, SplitMix64, to_decimal};
use bench_stats::{MixtureBoundary, PairedSums};
use serde::Serialize;

use crate::plan::{AdaptiveOutcome, AdaptivePlan, AdaptivePoint, AdaptiveReport};
use crate::{Evaluation, ImprovementBound, PerformanceThreshold, ThresholdError, Verdict};

/// The sequence kept as pairs arrive: O(1) per pair and per look.
#[derive(Debug, Clone)]
pub struct AdaptiveState {
    blocks: PairedSums,
    half: Option<(f64, f64)>,
    pairs: usize,
    boundary: MixtureBoundary,
    table: Vec<f64>,
    threshold_ratio: f64,
    min_pairs: usize,
}

impl AdaptiveState {
    /// An empty sequence for `threshold` under `plan`.
    ///
    /// ```
    /// use bench_threshold::{AdaptivePlan, OptimizationConfig, AdaptiveOutcome, AdaptiveState};
    /// let t = OptimizationConfig::create_default().fallback().clone();
    /// let mut s = AdaptiveState::new(&t, &AdaptivePlan::default_for(&t)).unwrap();
    /// for i in 0..200 {
    ///     let b = 1.0 + 0.02 * f64::from(i % 7);
    ///     s.push(b, 0.7 * b);
    /// }
    /// assert_eq!(s.status().1, Some(AdaptiveOutcome::Accepted));
    /// ```
    pub fn new(threshold: &PerformanceThreshold, plan: &AdaptivePlan) -> Result<Self, ThresholdError> {
        Ok(Self {
            blocks: PairedSums::default(),
            half: None,
            pairs: 0,
            boundary: plan.boundary(threshold)?,
            table: Vec::new(),
            threshold_ratio: 1.0 - bench_core::to_f64(threshold.min_improvement_percent) / 100.0,
            min_pairs: plan.min_pairs,
        })
    }

    /// Adds one pair (baseline time, candidate time); every second pair closes an ABBA block.
    pub fn push(&mut self, baseline: f64, candidate: f64) {
        self.pairs += 1;
        match self.half.take() {
            Some((b, c)) => self.blocks.push(b + baseline, c + candidate),
            None => self.half = Some((baseline, candidate)),
        }
    }

    /// Pairs so far.
    pub fn pairs(&self) -> usize {
        self.pairs
    }

    /// The boundary's critical value at `n` blocks, computed once (NaN marks "not yet").
    fn critical(&mut self, n: usize) -> f64 {
        if self.table.len() <= n {
            self.table.resize(n + 1, f64::NAN);
        }
        if self.table[n].is_nan() {
            self.table[n] = self.boundary.critical(n);
        }
        self.table[n]
    }

    /// Computes the critical values up to `blocks` now, so clones of this state (one per
    /// simulated comparison) share them instead of each computing its own.
    pub fn precompute(&mut self, blocks: usize) {
        for n in 0..=blocks {
            self.critical(n);
        }
    }

    /// Where the sequence stands on the closed blocks, and whether it has decided: `None` while
    /// it contains the threshold, before the plan's minimum pairs, or while the blocks are
    /// dependent. The point is `None` before two blocks are in.
    pub fn status(&mut self) -> (Option<AdaptivePoint>, Option<AdaptiveOutcome>) {
        let n = self.blocks.n();
        if n < 2 {
            return (None, None);
        }
        let (_, inflation, dependent) = crate::bound::dependence(&self.blocks);
        let q = self.critical(n);
        let r = self.blocks.ratio_bounds(q * q * inflation);
        let pct = |x: f64| (1.0 - x) * 100.0;
        let point = AdaptivePoint {
            pairs: 2 * n,
            estimate_percent: pct(r.estimate),
            lower_percent: r.upper.map(pct),
            upper_percent: r.lower.map(|l| pct(l.max(0.0))),
        };
        if dependent || 2 * n < self.min_pairs {
            return (Some(point), None);
        }
        let outcome = if r.upper.is_some_and(|u| u <= self.threshold_ratio) {
            Some(AdaptiveOutcome::Accepted)
        } else if r.lower.is_some_and(|l| l > self.threshold_ratio) {
            Some(AdaptiveOutcome::Rejected)
        } else {
            None
        };
        (Some(point), outcome)
    }
}

/// Where the sequence stands after the paired runs so far (`baseline[i]` with `candidate[i]`,
/// in the order they ran), and whether it has decided.
pub fn adaptive_status(
    baseline: &[f64],
    candidate: &[f64],
    threshold: &PerformanceThreshold,
    plan: &AdaptivePlan,
) -> Result<(Option<AdaptivePoint>, Option<AdaptiveOutcome>), ThresholdError> {
    let mut s = AdaptiveState::new(threshold, plan)?;
    for (&b, &c) in baseline.iter().zip(candidate) {
        s.push(b, c);
    }
    Ok(s.status())
}

/// The decision of an adaptive comparison: the evaluation of all pairs with the improvement
/// decided by the anytime-valid sequence at the stop ([`crate::confidence_sequence_bound`]); `seconds`
/// and `stopped_by` say how sampling ended. An interrupted comparison is never accepted: the
/// sequence stays valid, but the user cut it short of the plan, so an accept is reported as
/// inconclusive.
pub fn evaluate_adaptive(
    baseline: &Sample,
    candidate: &Sample,
    memory: Option<crate::MemoryComparison>,
    threshold: &PerformanceThreshold,
    plan: &AdaptivePlan,
    seconds: f64,
    stopped_by: &str,
) -> Result<Evaluation, ThresholdError> {
    if baseline.len() != candidate.len() {
        return Err(ThresholdError::MismatchedPairs { baseline: baseline.len(), candidate: candidate.len() });
    }
    let min = bench_core::to_f64(threshold.min_improvement_percent);
    let bound: ImprovementBound = crate::confidence_sequence_bound(
        baseline.values(),
        candidate.values(),
        &plan.boundary(threshold)?,
        min,
    )?;
    let mut e = crate::decision::assemble(
        baseline,
        candidate,
        memory,
        threshold,
        crate::Pairing::Interleaved,
        bound,
    )?;
    let mut state = AdaptiveState::new(threshold, plan)?;
    let mut path = Vec::new();
    for (i, (&b, &c)) in baseline.values().iter().zip(candidate.values()).enumerate() {
        state.push(b, c);
        if i % 2 == 1
            && let (Some(p), _) = state.status()
        {
            path.push(p);
        }
    }
    let min_d = threshold.min_improvement_percent;
    let enough = baseline.len() >= plan.min_pairs;
    let outcome = if e.bound.reaches(min_d) && enough {
        AdaptiveOutcome::Accepted
    } else if e.bound.short_of(min_d) {
        AdaptiveOutcome::Rejected
    } else {
        AdaptiveOutcome::Inconclusive
    };
    let interrupted = stopped_by == "interrupted";
    if interrupted && e.verdict == Verdict::Accepted {
        e.verdict = Verdict::Inconclusive;
        e.passes_threshold = false;
        e.decision_rationale = format!(
            "INCONCLUSIVE: interrupted after {} pairs; an interrupted comparison is never accepted, though its bound had reached the threshold. {}",
            baseline.len(),
            e.decision_rationale
        );
    }
    e.decision_rationale = format!(
        "{} Stopped after {} pairs ({stopped_by}, {seconds:.1} s); the bound is an anytime-valid confidence sequence, valid at this stop whatever the stopping rule, and the estimate is biased away from the threshold by stopping early.",
        e.decision_rationale,
        baseline.len()
    );
    let d =
        |x: f64, what: &'static str| to_decimal(x).map_err(|_| ThresholdError::NonFinite { what, value: x });
    e.adaptive = Some(AdaptiveReport {
        outcome: if interrupted && outcome == AdaptiveOutcome::Accepted {
            AdaptiveOutcome::Inconclusive
        } else {
            outcome
        },
        pairs_used: baseline.len(),
        seconds: d(seconds, "seconds")?,
        stopped_by: stopped_by.to_owned(),
        interval_at_stop_percent: [e.bound.lower_percent, e.bound.upper_percent],
        estimate_percent: e.bound.estimate_percent,
        plan: *plan,
        path,
    });
    Ok(e)
}

/// What [`simulate_adaptive`] counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SimulationTally {
    /// Comparisons simulated.
    pub comparisons: usize,
    /// Accepted.
    pub accepted: usize,
    /// Rejected (the upper bound below the threshold).
    pub rejected: usize,
    /// Inconclusive at the budget.
    pub inconclusive: usize,
    /// Stopped with a lower bound above zero (the sequence excluded no improvement).
    pub significant: usize,
    /// Pairs used, summed.
    pub pairs: usize,
}

impl SimulationTally {
    /// The share of comparisons that were accepted.
    pub fn accepted_rate(&self) -> f64 {
        self.accepted as f64 / self.comparisons.max(1) as f64
    }

    /// The share that were significant.
    pub fn significant_rate(&self) -> f64 {
        self.significant as f64 / self.comparisons.max(1) as f64
    }

    /// The share that ended inconclusive.
    pub fn inconclusive_rate(&self) -> f64 {
        self.inconclusive as f64 / self.comparisons.max(1) as f64
    }

    /// Mean pairs per comparison.
    pub fn mean_pairs(&self) -> f64 {
        self.pairs as f64 / self.comparisons.max(1) as f64
    }
}

/// Simulates `n` adaptive comparisons, each drawing pairs `(baseline, candidate)` from `draw`
/// (called once per comparison with a fresh seeded generator, then once per pair), looking after
/// every ABBA block exactly as a real comparison does (the same [`AdaptiveState`]), within the
/// plan's pair budget.
///
/// ```
/// use bench_threshold::{AdaptivePlan, OptimizationConfig, simulate_adaptive};
/// let t = OptimizationConfig::create_default().fallback().clone();
/// let plan = AdaptivePlan::default_for(&t).with_budget(200);
/// // A candidate exactly 5% faster on average, 10% noise per run: at most α accepted.
/// let tally = simulate_adaptive(500, &t, &plan, 7, |rng| {
///     let noise = |rng: &mut bench_core::SplitMix64| 1.0 + 0.1 * (2.0 * rng.unit() - 1.0) * 3f64.sqrt();
///     (noise(rng), 0.95 * noise(rng))
/// }).unwrap();
/// assert!(tally.accepted_rate() <= 0.05);
/// ```
pub fn simulate_adaptive(
    n: usize,
    threshold: &PerformanceThreshold,
    plan: &AdaptivePlan,
    seed: u64,
    mut draw: impl FnMut(&mut SplitMix64) -> (f64, f64),
) -> Result<SimulationTally, ThresholdError> {
    let mut fresh = AdaptiveState::new(threshold, plan)?;
    fresh.precompute(plan.max_pairs.div_ceil(2) + 1);
    let mut rng = SplitMix64::new(seed);
    let mut tally = SimulationTally::default();
    for _ in 0..n {
        let mut s = fresh.clone();
        let mut outcome = None;
        let mut last = None;
        while s.pairs() < plan.max_pairs {
            for _ in 0..2 {
                let (b, c) = draw(&mut rng);
                s.push(b, c);
            }
            let (point, o) = s.status();
            last = point;
            if o.is_some() {
                outcome = o;
                break;
            }
        }
        tally.comparisons += 1;
        tally.pairs += s.pairs();
        tally.significant += usize::from(last.and_then(|p| p.lower_percent).is_some_and(|l| l > 0.0));
        match outcome {
            Some(AdaptiveOutcome::Accepted) => tally.accepted += 1,
            Some(AdaptiveOutcome::Rejected) => tally.rejected += 1,
            _ => tally.inconclusive += 1,
        }
    }
    Ok(tally)
}

/// A resampler of recorded A/A pairs for [`simulate_adaptive`]: it replays blocks of
/// `block_len` consecutive pairs from random places in the recording (keeping the serial
/// dependence of the noise's level), swaps the two sides of each ABBA block of two pairs at random
/// (so the A/A has no difference, locally as on average), and scales the candidate side by
/// `1 − improvement/100`: a candidate whose true improvement of mean time is `improvement`
/// percent, with this machine's noise.
///
/// Blocks start at even places, so a replayed ABBA block is a recorded one. The swap is per ABBA
/// block, not per replayed block: in a short recording a block of 20 pairs is half of it, and the
/// chance excess of one side's stalls (8 of 9 on one side in 40 recorded pairs, measured) would
/// be replayed as a true difference of ±2.5% per block; a candidate at the threshold was then
/// "accepted" 21% of the time at α = 5%. Swapped per ABBA block, the same recording gives 0.7%.
#[derive(Debug, Clone)]
pub struct RecordedNoise {
    pairs: Vec<(f64, f64)>,
    block_len: usize,
    factor: f64,
    at: usize,
    left: usize,
    swap: bool,
}

impl RecordedNoise {
    /// A resampler of `pairs` (baseline, candidate) for a candidate `improvement` percent faster.
    ///
    /// ```
    /// use bench_threshold::RecordedNoise;
    /// let pairs: Vec<(f64, f64)> = (0..50).map(|i| (1.0 + 0.01 * f64::from(i % 5), 1.0)).collect();
    /// let mut noise = RecordedNoise::new(pairs, 10, 5.0);
    /// let mut rng = bench_core::SplitMix64::new(1);
    /// let (_, c) = noise.draw(&mut rng);
    /// assert!(c < 1.0);
    /// ```
    pub fn new(pairs: Vec<(f64, f64)>, block_len: usize, improvement: f64) -> Self {
        Self {
            pairs,
            block_len: block_len.max(1),
            factor: 1.0 - improvement / 100.0,
            at: 0,
            left: 0,
            swap: false,
        }
    }

    /// The next pair.
    pub fn draw(&mut self, rng: &mut SplitMix64) -> (f64, f64) {
        if self.pairs.is_empty() {
            return (1.0, self.factor);
        }
        if self.left == 0 {
            let len = self.block_len.min(self.pairs.len());
            self.at = 2 * rng.below((self.pairs.len() - len + 1).div_ceil(2));
            self.left = len;
        }
        if self.left % 2 == self.block_len.min(self.pairs.len()) % 2 {
            self.swap = rng.coin();
        }
        let (a, b) = self.pairs[self.at];
        self.at += 1;
        self.left -= 1;
        let (b0, c0) = if self.swap { (b, a) } else { (a, b) };
        (b0, c0 * self.factor)
    }
}
