//! Grid search: the Cartesian product of parameter ranges (with `fast < slow`) over one or many
//! assets, per-combination metrics and the best by a chosen objective.

use serde::{Deserialize, Serialize};

use bench_core::limits::WorkEstimate;

use crate::WorkloadError;
use crate::engine::{Metrics, Params, Rules};
use crate::ladder::Optimizations;
use crate::runner::{Engine, Task};

/// An inclusive range `start..=end` stepped by `step`: `A:B:STEP` on the command line, `A:B`
/// for step 1, or a single `A`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ParamRange {
    /// First value.
    pub start: u32,
    /// Last value (included when reached by the step).
    pub end: u32,
    /// Step (≥ 1).
    pub step: u32,
}

impl ParamRange {
    /// Validates a range.
    pub fn new(start: u32, end: u32, step: u32) -> Result<Self, WorkloadError> {
        if step == 0 || start == 0 || end < start {
            return Err(WorkloadError::InvalidParameter(format!(
                "range {start}:{end}:{step}: expected 1 ≤ start ≤ end and step ≥ 1"
            )));
        }
        Ok(Self { start, end, step })
    }

    /// The values of the range.
    pub fn values(&self) -> impl Iterator<Item = u32> + '_ {
        (self.start..=self.end).step_by(self.step as usize)
    }
}

impl std::fmt::Display for ParamRange {
    /// `A:B:STEP`, as the command line takes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.start, self.end, self.step)
    }
}

/// The (fast, slow) ranges each workflow uses when none are given — one home for the command
/// line, the ladder and library callers.
///
/// ```
/// use bench_workloads::DefaultRanges;
/// assert_eq!(DefaultRanges::GRID.0.to_string(), "5:50:5");
/// assert_eq!(DefaultRanges::SEARCH.1.to_string(), "5:300:1");
/// ```
pub struct DefaultRanges;

impl DefaultRanges {
    /// A grid search: fast 5–50 by 5, slow 20–200 by 20 (90 pairs with fast < slow).
    pub const GRID: (ParamRange, ParamRange) =
        (ParamRange { start: 5, end: 50, step: 5 }, ParamRange { start: 20, end: 200, step: 20 });
    /// A walk-forward's in-sample grid: fast 5–30 by 5, slow 40–120 by 20.
    pub const WALK_FORWARD: (ParamRange, ParamRange) =
        (ParamRange { start: 5, end: 30, step: 5 }, ParamRange { start: 40, end: 120, step: 20 });
    /// A parameter search: every fast 2–100 and slow 5–300 (24,648 pairs with fast < slow).
    pub const SEARCH: (ParamRange, ParamRange) =
        (ParamRange { start: 2, end: 100, step: 1 }, ParamRange { start: 5, end: 300, step: 1 });
    /// The ladder's BOHB workload: fast 5–100, slow 20–300 by 5.
    pub const LADDER_SEARCH: (ParamRange, ParamRange) =
        (ParamRange { start: 5, end: 100, step: 1 }, ParamRange { start: 20, end: 300, step: 5 });

    /// The (fast, slow) ranges as typed after `--fast-range` and `--slow-range` (`A:B:STEP`),
    /// `defaults` where one is not given; an error names the flag.
    ///
    /// ```
    /// use bench_workloads::DefaultRanges;
    /// let (fast, slow) = DefaultRanges::typed(DefaultRanges::GRID, Some("2:10"), None).unwrap();
    /// assert_eq!((fast.to_string(), slow.to_string()), ("2:10:1".to_owned(), "20:200:20".to_owned()));
    /// assert!(DefaultRanges::typed(DefaultRanges::GRID, None, Some("9:x")).unwrap_err().to_string().contains("--slow-range"));
    /// ```
    pub fn typed(
        defaults: (ParamRange, ParamRange),
        fast: Option<&str>,
        slow: Option<&str>,
    ) -> Result<(ParamRange, ParamRange), WorkloadError> {
        let range = |flag: &str, text: Option<&str>, default: ParamRange| {
            text.map_or(Ok(default), |t| {
                t.parse().map_err(|e| WorkloadError::InvalidParameter(format!("{flag}: {e}")))
            })
        };
        Ok((range("--fast-range", fast, defaults.0)?, range("--slow-range", slow, defaults.1)?))
    }

    /// The grid of [`DefaultRanges::typed`]'s ranges ([`checked_param_grid`]); a grid past the
    /// memory limit, or with no pair fast < slow, is refused quoting the ranges as typed.
    ///
    /// ```
    /// use bench_workloads::DefaultRanges;
    /// assert_eq!(DefaultRanges::grid(DefaultRanges::GRID, Some("5:10:5"), Some("20:40:20")).unwrap().len(), 4);
    /// assert!(DefaultRanges::grid(DefaultRanges::GRID, Some("50:60"), Some("5:9")).is_err());
    /// ```
    pub fn grid(
        defaults: (ParamRange, ParamRange),
        fast: Option<&str>,
        slow: Option<&str>,
    ) -> Result<Vec<Params>, WorkloadError> {
        let (f, s) = Self::typed(defaults, fast, slow)?;
        let (ft, st) = (
            fast.map_or_else(|| f.to_string(), str::to_owned),
            slow.map_or_else(|| s.to_string(), str::to_owned),
        );
        let params = checked_param_grid(&f, &s).map_err(|e| {
            WorkloadError::InvalidParameter(format!("--fast-range {ft} --slow-range {st}: {e}"))
        })?;
        if params.is_empty() {
            return Err(WorkloadError::InvalidParameter(format!(
                "--fast-range {ft} and --slow-range {st} give no pair with fast < slow"
            )));
        }
        Ok(params)
    }
}

impl std::str::FromStr for ParamRange {
    type Err = WorkloadError;
    /// Parses `A:B:STEP` (or `A:B`, step 1, or a single `A`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            WorkloadError::InvalidParameter(format!(
                "range {s:?}: expected A:B:STEP (or A:B for step 1, or a single A) with positive integers, e.g. 5:50:5"
            ))
        };
        let parts: Vec<&str> = s.split(':').collect();
        let num = |t: &str| t.trim().parse::<u32>().map_err(|_| bad());
        match parts.as_slice() {
            [a] => Self::new(num(a)?, num(a)?, 1),
            [a, b] => Self::new(num(a)?, num(b)?, 1),
            [a, b, c] => Self::new(num(a)?, num(b)?, num(c)?),
            _ => Err(bad()),
        }
    }
}

impl ParamRange {
    /// How many values the range holds.
    pub fn len(&self) -> u64 {
        u64::from((self.end - self.start) / self.step) + 1
    }

    /// Never empty (a range holds at least its start).
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Values a range may hold for [`grid_size`] to count its pairs (it walks the shorter range).
pub const MAX_RANGE_VALUES: u64 = 100_000_000;

/// How many `(fast, slow)` pairs with `fast < slow` two ranges give, counted without listing
/// them (walking the shorter range), so a grid too big to hold is refused before it is built.
///
/// ```
/// use bench_workloads::{grid_size, param_grid};
/// let (f, s) = ("5:50:5".parse().unwrap(), "20:200:20".parse().unwrap());
/// assert_eq!(grid_size(&f, &s).unwrap(), param_grid(&f, &s).len() as u128);
/// assert_eq!(grid_size(&"1:1000000".parse().unwrap(), &"2:1000000".parse().unwrap()).unwrap(), 499_999_500_000);
/// ```
pub fn grid_size(fast: &ParamRange, slow: &ParamRange) -> Result<u128, WorkloadError> {
    if fast.len().min(slow.len()) > MAX_RANGE_VALUES {
        return Err(WorkloadError::InvalidParameter(format!(
            "the fast range has {} values and the slow range {}; ranges of more than {} values are refused",
            bench_core::units::count(fast.len()),
            bench_core::units::count(slow.len()),
            bench_core::units::count(MAX_RANGE_VALUES)
        )));
    }
    let (nf, ns) = (u128::from(fast.len()), u128::from(slow.len()));
    Ok(if fast.len() <= slow.len() {
        // For each fast value, the slow values above it.
        fast.values()
            .map(|f| {
                if f < slow.start {
                    ns
                } else {
                    ns.saturating_sub(u128::from((f - slow.start) / slow.step) + 1)
                }
            })
            .sum()
    } else {
        // For each slow value, the fast values below it.
        slow.values()
            .map(
                |s| {
                    if s <= fast.start { 0 } else { nf.min(u128::from((s - 1 - fast.start) / fast.step) + 1) }
                },
            )
            .sum()
    })
}

/// [`param_grid`] after checking that the list fits the memory budget.
pub fn checked_param_grid(fast: &ParamRange, slow: &ParamRange) -> Result<Vec<Params>, WorkloadError> {
    let n = grid_size(fast, slow)?;
    bench_core::limits::memory_limit().check(
        &format!(
            "a grid of {} combinations (fast {}:{}:{}, slow {}:{}:{})",
            bench_core::limits::count_words(n as f64),
            fast.start,
            fast.end,
            fast.step,
            slow.start,
            slow.end,
            slow.step
        ),
        n,
        std::mem::size_of::<Params>() as u128,
    )?;
    Ok(param_grid(fast, slow))
}

/// Bytes one backtest of a sweep holds until the sweep ends: its task, its result and its row
/// of the report.
pub fn bytes_per_backtest() -> u128 {
    (std::mem::size_of::<Task>()
        + std::mem::size_of::<crate::engine::BacktestResult>()
        + std::mem::size_of::<ComboResult>()
        + 16) as u128
}

/// Bar evaluations per second of `engine` on this machine, measured on up to 16 of `params` over
/// `bars` of asset `asset` (a pilot of the sweep about to run; its set-up cost makes the rate,
/// and so the estimate, conservative).
pub(crate) fn measure_rate(
    engine: &Engine,
    asset: usize,
    params: &[Params],
    range: std::ops::Range<usize>,
    opts: Optimizations,
) -> Result<f64, WorkloadError> {
    // A call has a fixed cost (the pool, the indicator cache) that a few backtests do not
    // amortise: 16 backtests of the bundled data cost 16 µs each, 1,024 cost 4.4 µs, a whole
    // grid 4.1 µs. So the pilot grows fourfold from 16 backtests until a call takes 20 ms (or
    // 1,024 backtests, or the grid), each size run once untimed (caches, the pool's threads)
    // and then repeated for 50 ms. Under Valgrind the rate means nothing (the program runs a
    // hundred times slower) and a loop bounded by time does more work on a faster run, which
    // would move the program's instruction count with the machine's speed: there the pilot is
    // the smallest size, run once untimed and once timed.
    let fixed = bench_measure::callgrind::running_on_valgrind();
    let mut n = 16;
    loop {
        let tasks: Vec<Task> = params
            .iter()
            .take(n)
            .map(|&p| Task {
                asset,
                lo: range.start,
                hi: range.end,
                params: p,
                lookback: false,
                rules: Rules::Exact,
            })
            .collect();
        engine.run(&tasks, opts, false)?;
        let bars: u64 = tasks.iter().map(|t| t.bars() as u64).sum();
        let (t0, mut runs) = (std::time::Instant::now(), 0u64);
        while runs == 0 || (!fixed && t0.elapsed().as_secs_f64() < 0.05) {
            engine.run(&tasks, opts, false)?;
            runs += 1;
        }
        let seconds = t0.elapsed().as_secs_f64();
        if fixed || n >= params.len() || n >= 1024 || seconds / runs as f64 >= 0.02 {
            return Ok((runs * bars) as f64 / seconds.max(1e-9));
        }
        n *= 4;
    }
}

/// The rate of two passes over the same bar evaluations, one after the other.
pub(crate) fn in_turn(a: f64, b: f64) -> f64 {
    1.0 / (1.0 / a.max(1e-300) + 1.0 / b.max(1e-300))
}

/// All `(fast, slow)` pairs of two ranges with `fast < slow`, fast-major order.
pub fn param_grid(fast: &ParamRange, slow: &ParamRange) -> Vec<Params> {
    fast.values()
        .flat_map(|f| slow.values().filter(move |&s| f < s).map(move |s| Params { fast: f, slow: s }))
        .collect()
}

/// What "best" means.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Highest final equity (ties: first in grid order).
    #[default]
    FinalEquity,
    /// Highest Sharpe ratio.
    #[cfg_attr(feature = "clap", value(alias = "sharpe"))]
    SharpeRatio,
    /// Highest Sortino ratio: the mean return over its downside deviation (losses only).
    #[cfg_attr(feature = "clap", value(alias = "sortino"))]
    SortinoRatio,
    /// Smallest maximum drawdown.
    #[cfg_attr(feature = "clap", value(alias = "drawdown"))]
    MinDrawdown,
    /// Highest total return, percent (the final equity's ranking, read as a return).
    #[cfg_attr(feature = "clap", value(alias = "return"))]
    TotalReturn,
    /// Highest Calmar ratio: total return (%) over the maximum drawdown (%), the drawdown
    /// floored at 1% so that a flat or briefly lucky history does not score infinity.
    Calmar,
    /// Highest backtesting.py "Sharpe Ratio" ([`crate::engine::backtesting_py_sharpe`]): needs
    /// the equity curve, so a walk-forward's in-sample choice only (a grid refuses it).
    BacktestingPySharpe,
}

impl Objective {
    /// The objective's score (higher is better); NaN for
    /// [`BacktestingPySharpe`](Self::BacktestingPySharpe), which the metrics do not hold.
    pub fn score(self, m: &Metrics) -> f64 {
        match self {
            Self::FinalEquity => m.final_equity,
            Self::SharpeRatio => m.sharpe_ratio,
            Self::SortinoRatio => m.sortino_ratio,
            Self::MinDrawdown => -m.max_drawdown_percent,
            Self::TotalReturn => m.total_return_percent,
            Self::Calmar => m.total_return_percent / m.max_drawdown_percent.max(1.0),
            Self::BacktestingPySharpe => f64::NAN,
        }
    }

    /// What it maximises, for a person.
    pub fn name(self) -> &'static str {
        match self {
            Self::FinalEquity => "final equity",
            Self::SharpeRatio => "Sharpe ratio",
            Self::SortinoRatio => "Sortino ratio",
            Self::MinDrawdown => "smallest drawdown",
            Self::TotalReturn => "total return",
            Self::Calmar => "Calmar ratio",
            Self::BacktestingPySharpe => "backtesting.py's Sharpe ratio",
        }
    }

    /// Index of the highest of `scores` (the first on ties); NaN scores never win unless all are.
    pub fn best_score(scores: impl IntoIterator<Item = f64>) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for (i, s) in scores.into_iter().enumerate() {
            if best.is_none_or(|(_, b)| s > b || (b.is_nan() && !s.is_nan())) {
                best = Some((i, s));
            }
        }
        best.map(|(i, _)| i)
    }

    /// Index of the best entry (the first on ties), if any.
    pub fn best<'a>(self, metrics: impl IntoIterator<Item = &'a Metrics>) -> Option<usize> {
        Self::best_score(metrics.into_iter().map(|m| self.score(m)))
    }
}

impl std::str::FromStr for Objective {
    type Err = WorkloadError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "final_equity" | "final-equity" => Ok(Self::FinalEquity),
            "sharpe_ratio" | "sharpe" => Ok(Self::SharpeRatio),
            "sortino_ratio" | "sortino" => Ok(Self::SortinoRatio),
            "backtesting_py_sharpe" | "backtesting-py-sharpe" => Ok(Self::BacktestingPySharpe),
            "min_drawdown" | "drawdown" => Ok(Self::MinDrawdown),
            "total_return" | "total-return" | "return" => Ok(Self::TotalReturn),
            "calmar" => Ok(Self::Calmar),
            _ => Err(WorkloadError::InvalidParameter(format!(
                "unknown objective {s:?}; expected final_equity, sharpe_ratio, sortino_ratio, min_drawdown, total_return, calmar or backtesting_py_sharpe"
            ))),
        }
    }
}

/// A grid search to run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridSpec {
    /// Asset indices into the bundle.
    pub assets: Vec<usize>,
    /// Parameter combinations (per asset).
    pub params: Vec<Params>,
    /// What "best" means.
    pub objective: Objective,
    /// The engine's exact rules or backtesting.py's.
    pub rules: Rules,
}

impl GridSpec {
    /// The backtests: every asset × every combination, asset-major, over each asset's full series.
    pub fn tasks(&self, engine: &Engine) -> Vec<Task> {
        self.assets
            .iter()
            .flat_map(|&a| {
                let hi = engine.bundle().assets[a].len();
                self.params.iter().map(move |&p| Task {
                    asset: a,
                    lo: 0,
                    hi,
                    params: p,
                    lookback: false,
                    rules: self.rules,
                })
            })
            .collect()
    }
}

/// The metrics of one combination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComboResult {
    /// Asset symbol.
    pub symbol: String,
    /// Windows.
    pub params: Params,
    /// Bars evaluated.
    pub bars: usize,
    /// Metrics.
    pub metrics: Metrics,
}

/// The outcome of a grid search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridResult {
    /// One entry per backtest, in task order.
    pub combos: Vec<ComboResult>,
    /// Index into `combos` of the best by the objective.
    pub best: Option<usize>,
    /// Σ bars over all backtests (the "bar evaluations").
    pub bar_evaluations: u64,
}

impl GridResult {
    /// The best combination.
    pub fn best_combo(&self) -> Option<&ComboResult> {
        self.best.map(|i| &self.combos[i])
    }

    /// Every combination's metrics as CSV (one row per asset × combination, grid order).
    pub fn to_csv(&self) -> String {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        let _ = w.write_record([
            "symbol",
            "fast",
            "slow",
            "bars",
            "trades",
            "final_equity",
            "total_return_percent",
            "max_drawdown_percent",
            "sharpe_ratio",
            "sortino_ratio",
            "exposure_percent",
        ]);
        for c in &self.combos {
            let m = &c.metrics;
            let _ = w.write_record([
                c.symbol.clone(),
                c.params.fast.to_string(),
                c.params.slow.to_string(),
                c.bars.to_string(),
                m.trades.to_string(),
                m.final_equity.to_string(),
                m.total_return_percent.to_string(),
                m.max_drawdown_percent.to_string(),
                m.sharpe_ratio.to_string(),
                m.sortino_ratio.to_string(),
                m.exposure_percent.to_string(),
            ]);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// The objective per (fast, slow), averaged over the assets: the cells of a heatmap.
    pub fn heat_cells(&self, objective: Objective) -> Vec<(u32, u32, f64)> {
        let mut sums: std::collections::BTreeMap<(u32, u32), (f64, u32)> = std::collections::BTreeMap::new();
        for c in &self.combos {
            let e = sums.entry((c.params.fast, c.params.slow)).or_default();
            e.0 += objective.score(&c.metrics);
            e.1 += 1;
        }
        sums.into_iter().map(|((f, s), (sum, n))| (f, s, sum / f64::from(n))).collect()
    }
}

/// Combinations of a grid whose slow window needs more bars than an asset has: they make no
/// decision and score no trades.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShortSeries {
    /// The asset.
    pub symbol: String,
    /// Its bars.
    pub bars: usize,
    /// Combinations too long for it.
    pub combinations: usize,
    /// Their distinct slow windows.
    pub slow_windows: Vec<u32>,
}

impl GridSpec {
    /// Backtests and bar evaluations the grid will run.
    pub fn work(&self, bundle: &crate::Bundle) -> (u128, u128) {
        let bars: u128 = self.assets.iter().map(|&a| bundle.assets[a].len() as u128).sum();
        (self.assets.len() as u128 * self.params.len() as u128, bars * self.params.len() as u128)
    }

    /// Checks that the grid's tasks and results fit the memory budget.
    pub fn check_memory(&self, bundle: &crate::Bundle) -> Result<(), WorkloadError> {
        let (backtests, _) = self.work(bundle);
        bench_core::limits::memory_limit().check(
            &format!(
                "a grid of {} backtests ({} assets × {} combinations)",
                bench_core::limits::count_words(backtests as f64),
                self.assets.len(),
                self.params.len()
            ),
            backtests,
            bytes_per_backtest(),
        )?;
        Ok(())
    }

    /// The grid's work and its time at the rate a pilot of its backtests measures on this
    /// machine (a sweep adds its summary's rule check, `crate::rules`).
    pub fn estimate(&self, engine: &Engine, opts: Optimizations) -> Result<WorkEstimate, WorkloadError> {
        let (backtests, bar_evaluations) = self.work(engine.bundle());
        let asset = *self
            .assets
            .first()
            .ok_or_else(|| WorkloadError::InvalidParameter("no asset selected".into()))?;
        let len = engine.bundle().assets[asset].len();
        let rate = measure_rate(engine, asset, &self.params, 0..len, opts)?;
        Ok(WorkEstimate {
            what: "the grid search".into(),
            work: format!(
                "{} backtests, {} bar evaluations",
                bench_core::limits::count_words(backtests as f64),
                bench_core::limits::count_words(bar_evaluations as f64)
            ),
            units: bar_evaluations as f64,
            rate_per_second: rate,
            unit: "bar evaluations".into(),
        })
    }

    /// The assets whose series are too short for some of the grid's windows.
    pub fn short_series(&self, bundle: &crate::Bundle) -> Vec<ShortSeries> {
        self.assets
            .iter()
            .filter_map(|&a| {
                let asset = &bundle.assets[a];
                let too_long: Vec<&Params> =
                    self.params.iter().filter(|p| p.slow as usize >= asset.len()).collect();
                if too_long.is_empty() {
                    return None;
                }
                let mut slow_windows: Vec<u32> = too_long.iter().map(|p| p.slow).collect();
                slow_windows.dedup();
                slow_windows.sort_unstable();
                slow_windows.dedup();
                Some(ShortSeries {
                    symbol: asset.symbol.clone(),
                    bars: asset.len(),
                    combinations: too_long.len(),
                    slow_windows,
                })
            })
            .collect()
    }
}

/// Runs a grid search with the given optimizations.
///
/// ```
/// use bench_workloads::*;
/// let bundle = load_csv(&bundled_csv_path()).unwrap();
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("bundle.bin");
/// bundle.write_binary(&path).unwrap();
/// let engine = Engine::open(&path, 2).unwrap();
/// let spec = GridSpec {
///     assets: vec![bundle.asset_index("GOOG").unwrap()],
///     params: param_grid(&"10:20:10".parse().unwrap(), &"30:40:10".parse().unwrap()),
///     objective: Objective::FinalEquity,
///     rules: Rules::Exact,
/// };
/// let fast = run_grid(&engine, &spec, LadderStep::PrefixSums.optimizations()).unwrap();
/// let base = run_grid(&engine, &spec, LadderStep::Baseline.optimizations()).unwrap();
/// assert_eq!(fast, base);
/// assert_eq!(fast.combos[0].metrics.trades, 66); // GOOG 10/30, as backtesting.py
/// ```
pub fn run_grid(engine: &Engine, spec: &GridSpec, opts: Optimizations) -> Result<GridResult, WorkloadError> {
    let _span = tracing::info_span!("bench_workloads::grid::run_grid").entered();
    if spec.params.is_empty() {
        return Err(WorkloadError::InvalidParameter("the grid has no (fast < slow) combination".into()));
    }
    if spec.objective == Objective::BacktestingPySharpe {
        return Err(WorkloadError::InvalidParameter(
            "a grid or a search ranks by final equity, Sharpe ratio, drawdown, total return or Calmar ratio; backtesting.py's Sharpe ratio needs each backtest's equity curve and is a walk-forward's in-sample choice only".into(),
        ));
    }
    let tasks = spec.tasks(engine);
    let results = engine.run(&tasks, opts, false)?;
    let combos: Vec<ComboResult> = tasks
        .iter()
        .zip(results)
        .map(|(t, r)| ComboResult {
            symbol: engine.bundle().assets[t.asset].symbol.clone(),
            params: t.params,
            bars: t.bars(),
            metrics: r.metrics,
        })
        .collect();
    let best = spec.objective.best(combos.iter().map(|c| &c.metrics));
    let bar_evaluations = tasks.iter().map(|t| t.bars() as u64).sum();
    Ok(GridResult { combos, best, bar_evaluations })
}
