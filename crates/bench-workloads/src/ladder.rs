//! The optimization ladder: selectable implementations of the same sweep.
//!
//! Each rung adds one optimization to the ones below it; every combination of them produces
//! results equal to the baseline's (tested). [`Optimizations`] is the set of switches, so a
//! sequential evaluation can stack an accepted optimization and skip a rejected one.

use serde::{Deserialize, Serialize};

/// The switches of the ladder; `Optimizations::default()` is the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Optimizations {
    /// Load the bundle once and share it (`Arc`) instead of re-reading it from disk per backtest.
    pub shared_bundle: bool,
    /// Compute each distinct (asset, window) SMA once by rolling sum and share it; history as
    /// borrowed slices. Without it each backtest copies history windows bar by bar.
    pub indicator_cache: bool,
    /// One worker pool for the whole sweep instead of a new pool per batch of backtests.
    pub persistent_workers: bool,
    /// Find crosses with 64-bar vectorised comparisons and visit only those bars.
    pub vectorized_signals: bool,
    /// Decide crosses exactly from one prefix-sum array per asset (no per-window SMA arrays, no
    /// division), with an AVX2 kernel where the CPU has it.
    pub prefix_sums: bool,
}

/// A named rung of the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LadderStep {
    /// Re-read bundle per backtest, fresh history copy per bar, SMAs recomputed per bar, a pool
    /// per batch.
    Baseline,
    /// + bundle loaded once and shared.
    BatchInit,
    /// + shared SMA cache (rolling sums), borrowed history.
    IndicatorCache,
    /// + one long-lived worker pool.
    PersistentWorkers,
    /// + vectorised cross detection touching only the bars where something happens.
    VectorizedSignals,
    /// + exact crosses from one prefix-sum array per asset in an AVX2 kernel.
    PrefixSums,
}

impl LadderStep {
    /// All rungs, lowest first.
    pub const ALL: [Self; 6] = [
        Self::Baseline,
        Self::BatchInit,
        Self::IndicatorCache,
        Self::PersistentWorkers,
        Self::VectorizedSignals,
        Self::PrefixSums,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::BatchInit => "batch-init",
            Self::IndicatorCache => "indicator-cache",
            Self::PersistentWorkers => "persistent-workers",
            Self::VectorizedSignals => "vectorized-signals",
            Self::PrefixSums => "prefix-sums",
        }
    }

    /// One sentence on what the rung changes.
    pub fn description(self) -> &'static str {
        match self {
            Self::Baseline => {
                "each backtest re-reads the bundle from disk; history() copies a window every bar; SMAs recomputed over the window every bar; a new worker pool per batch"
            }
            Self::BatchInit => "the bundle is loaded once and shared (Arc) by every backtest and worker",
            Self::IndicatorCache => {
                "each distinct (asset, window) SMA is computed once by rolling sum and shared; history is borrowed"
            }
            Self::PersistentWorkers => {
                "one long-lived worker pool for the whole sweep instead of a pool per batch"
            }
            Self::VectorizedSignals => {
                "crosses found by 64-bar vectorised comparisons; only bars with a cross are visited"
            }
            Self::PrefixSums => {
                "crosses decided exactly from one prefix-sum array per asset by an AVX2 kernel: no SMA array per window, no division"
            }
        }
    }

    /// The switches of this rung and every rung below it.
    pub fn optimizations(self) -> Optimizations {
        let mut o = Optimizations::default();
        for step in Self::ALL.into_iter().filter(|s| *s <= self) {
            step.apply(&mut o);
        }
        o
    }

    /// Turns on this rung's own switch in `o`.
    pub fn apply(self, o: &mut Optimizations) {
        match self {
            Self::Baseline => {}
            Self::BatchInit => o.shared_bundle = true,
            Self::IndicatorCache => o.indicator_cache = true,
            Self::PersistentWorkers => o.persistent_workers = true,
            Self::VectorizedSignals => o.vectorized_signals = true,
            Self::PrefixSums => o.prefix_sums = true,
        }
    }

    /// `opts` with this rung's switch turned on.
    pub fn on_top_of(self, opts: Optimizations) -> Optimizations {
        let mut o = opts;
        self.apply(&mut o);
        o
    }
}

impl std::str::FromStr for LadderStep {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|x| x.name() == s).ok_or_else(|| {
            format!(
                "unknown ladder step {s:?}; expected one of: {}",
                Self::ALL.map(LadderStep::name).join(", ")
            )
        })
    }
}

impl std::fmt::Display for LadderStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Optimizations {
    /// The ladder steps these switches contain, e.g. `baseline + batch-init + indicator-cache`.
    ///
    /// ```
    /// use bench_workloads::LadderStep;
    /// assert_eq!(LadderStep::IndicatorCache.optimizations().describe(),
    ///            "baseline + batch-init + indicator-cache");
    /// ```
    pub fn describe(&self) -> String {
        let mut parts = vec!["baseline"];
        for step in LadderStep::ALL.into_iter().skip(1) {
            if step.on_top_of(*self) == *self {
                parts.push(step.name());
            }
        }
        parts.join(" + ")
    }

    /// f64 values one instruction of the hot loop handles: 4 where the prefix-sum step's AVX2
    /// kernels run (the CPU has AVX2 and FMA), 1 otherwise.
    ///
    /// ```
    /// use bench_workloads::LadderStep;
    /// assert_eq!(LadderStep::VectorizedSignals.optimizations().simd_lanes(), 1);
    /// assert!([1, 4].contains(&LadderStep::PrefixSums.optimizations().simd_lanes()));
    /// ```
    pub fn simd_lanes(&self) -> usize {
        if self.prefix_sums && crate::cpu_features::avx2_fma() { 4 } else { 1 }
    }
}

impl LadderStep {
    /// The rungs above the baseline, in priority order: the optimizations a sequential
    /// evaluation tries.
    pub fn optimizations_to_evaluate() -> impl Iterator<Item = Self> {
        Self::ALL.into_iter().skip(1)
    }

    /// The fastest rung.
    pub fn fastest() -> Self {
        Self::PrefixSums
    }
}

/// What `backtest --step` names: an implementation (a ladder step), or bars between
/// walk-forward windows.
///
/// ```
/// use bench_workloads::{BacktestStep, LadderStep};
/// assert_eq!("63".parse(), Ok(BacktestStep::Bars(63)));
/// assert_eq!("prefix-sums".parse(), Ok(BacktestStep::Ladder(LadderStep::PrefixSums)));
/// assert!("0".parse::<BacktestStep>().is_err() && "fastest".parse::<BacktestStep>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BacktestStep {
    /// A ladder step.
    Ladder(LadderStep),
    /// Bars between walk-forward windows.
    Bars(usize),
}

impl BacktestStep {
    /// The implementation `step` names, the fastest when it names none (a number of bars, or
    /// nothing).
    ///
    /// ```
    /// use bench_workloads::{BacktestStep, LadderStep};
    /// assert_eq!(BacktestStep::implementation(Some(BacktestStep::Bars(20))), LadderStep::fastest());
    /// assert_eq!(BacktestStep::implementation(Some(BacktestStep::Ladder(LadderStep::Baseline))), LadderStep::Baseline);
    /// ```
    pub fn implementation(step: Option<Self>) -> LadderStep {
        match step {
            Some(Self::Ladder(s)) => s,
            _ => LadderStep::fastest(),
        }
    }
}

impl std::str::FromStr for BacktestStep {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.parse::<usize>() {
            Ok(0) => Err("a walk-forward step must be at least 1 bar".into()),
            Ok(n) => Ok(Self::Bars(n)),
            Err(_) => s.parse().map(Self::Ladder),
        }
    }
}
