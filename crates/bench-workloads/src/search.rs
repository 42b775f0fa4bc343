//! Parameter search for the SMA crossover — BOHB, Hyperband, random search or the full grid —
//! on the engine, with its cost counted in bar evaluations (the unit of the throughput figures).
//!
//! **Objective**: the mean final equity over the selected assets of one (fast, slow) pair — what
//! grid search maximises per cell of its heatmap (`GridResult::heat_cells` with
//! `Objective::FinalEquity`). **Fidelity** `f`: each asset's history is cut into `N = 1/f_min`
//! equal segments (9 by default) and a trial at `f < 1` runs on `round(f · N)` of them spread
//! evenly over the history (1/9: the middle ninth; 1/3: the 2nd, 5th and 8th ninths), each a
//! backtest of its own with the SMAs warmed up on the bars before it, scored by the mean of their
//! final equities; at `f = 1` it is the full-history backtest itself. Spread segments, not the
//! most recent history: on the bundled data the most recent ninth or third ranks the pairs
//! almost independently of the full history (Spearman's ρ −0.04 and −0.20), the spread ones
//! as it does (0.78 and 0.89) — `docs/methodology.md` has the figures.

use bench_core::limits::WorkEstimate;
use bench_search::{Config, IntParam, Method, Plan, Problem, SearchResult, Space, Trial};
use serde::Serialize;

use crate::WorkloadError;
use crate::engine::Params;
use crate::grid::{GridSpec, Objective, ParamRange, param_grid};
use crate::ladder::Optimizations;
use crate::runner::{Engine, Task};

/// The default fidelity schedule: Hyperband from 1/9 of the history with η = 3.
pub const MIN_FIDELITY: f64 = 1.0 / 9.0;
/// Hyperband's η.
pub const ETA: f64 = 3.0;

/// A search's default budget: this fraction's denominator of the exhaustive grid's bar
/// evaluations (a tenth).
pub const DEFAULT_BUDGET_DIVISOR: u128 = 10;
/// The ladder's BOHB workload spends a hundredth of its grid's bar evaluations (so a baseline
/// run takes about as long as the grid search's), and at least this many full-history trials.
pub const LADDER_BUDGET_DIVISOR: u64 = 100;
/// See [`LADDER_BUDGET_DIVISOR`].
pub const LADDER_MIN_TRIALS: u64 = 30;

/// The default budget of a search over `pairs` (fast, slow) pairs on assets of `bars` bars in
/// all: a [`DEFAULT_BUDGET_DIVISOR`]th of the exhaustive grid's bar evaluations.
///
/// ```
/// assert_eq!(bench_workloads::default_search_budget(24_648, 1_000), 2_464_800);
/// ```
pub fn default_search_budget(pairs: u128, bars: u64) -> u64 {
    (pairs.saturating_mul(u128::from(bars)) / DEFAULT_BUDGET_DIVISOR).min(u128::from(u64::MAX)) as u64
}

/// A search to run.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSpec {
    /// Asset indices.
    pub assets: Vec<usize>,
    /// Fast windows.
    pub fast: ParamRange,
    /// Slow windows (only pairs with fast < slow are valid).
    pub slow: ParamRange,
    /// The method.
    pub method: Method,
    /// Fidelities, cost limit (bar evaluations) and seed.
    pub plan: Plan,
    /// The engine's exact rules or backtesting.py's.
    pub rules: crate::Rules,
    /// What is maximised: its mean over the assets (and over a low fidelity's segments).
    pub objective: Objective,
    /// A time budget beside the bar-evaluation one: no evaluation starts after it.
    pub max_seconds: Option<f64>,
}

/// The (fast, slow) space of two ranges, constrained to fast < slow.
pub fn sma_space(fast: &ParamRange, slow: &ParamRange) -> Space {
    let p = |name: &str, r: &ParamRange| {
        IntParam::new(name, i64::from(r.start), i64::from(r.end), i64::from(r.step)).expect("a valid range")
    };
    Space::constrained(vec![p("fast", fast), p("slow", slow)], |c| c[0] < c[1])
}

/// The space of exactly the pairs `params`: each window length's values on an evenly spaced
/// axis (the greatest common step of the values present), valid where the pair is listed.
fn listed_space(params: &[Params]) -> Result<Space, WorkloadError> {
    fn gcd(a: i64, b: i64) -> i64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let axis = |name: &str, values: Vec<u32>| -> Result<IntParam, WorkloadError> {
        let mut v: Vec<i64> = values.into_iter().map(i64::from).collect();
        v.sort_unstable();
        v.dedup();
        let (lo, hi) = (
            *v.first().ok_or_else(|| WorkloadError::InvalidParameter("no pair to search".into()))?,
            v[v.len() - 1],
        );
        let step = v.windows(2).map(|w| w[1] - w[0]).fold(0, gcd).max(1);
        IntParam::new(name, lo, hi, step).map_err(WorkloadError::InvalidParameter)
    };
    let listed: std::collections::HashSet<(i64, i64)> =
        params.iter().map(|p| (i64::from(p.fast), i64::from(p.slow))).collect();
    let fast = axis("fast", params.iter().map(|p| p.fast).collect())?;
    let slow = axis("slow", params.iter().map(|p| p.slow).collect())?;
    Ok(Space::constrained(vec![fast, slow], move |c| listed.contains(&(c[0], c[1]))))
}

/// What [`search_window`] searches and how.
#[derive(Debug, Clone, Copy)]
pub struct WindowSearchPlan<'a> {
    /// The method.
    pub method: &'a Method,
    /// Fidelities, bar-evaluation budget and seed.
    pub plan: &'a Plan,
    /// What is maximised.
    pub objective: Objective,
    /// The rules every backtest follows.
    pub rules: crate::Rules,
}

/// Searches the pairs `params` on `asset`'s bars `lo..hi` alone — a walk-forward's in-sample
/// window, its low fidelities on spread parts of it — and returns the best pair found at full
/// fidelity (scored as the in-sample grid scores it: SMAs from the window's first bar) and the
/// bar evaluations spent.
pub fn search_window(
    engine: &Engine,
    asset: usize,
    (lo, hi): (usize, usize),
    params: &[Params],
    how: WindowSearchPlan<'_>,
    opts: Optimizations,
) -> Result<(Option<Params>, u64), WorkloadError> {
    let space = listed_space(params)?;
    let assets = [asset];
    let mut problem = Backtests {
        engine,
        assets: &assets,
        opts,
        segments: segments_for(how.plan),
        layout: FidelityLayout::Spread,
        rules: how.rules,
        objective: how.objective,
        window: Some((lo, hi)),
    };
    let result = bench_search::search(&space, how.method, how.plan, &mut problem).map_err(|e| match e {
        bench_search::SearchError::Invalid(m) => WorkloadError::InvalidParameter(m),
        bench_search::SearchError::Problem(e) => e,
    })?;
    Ok((result.best.as_ref().map(|b| params_of(&b.config)), result.cost))
}

fn params_of(c: &Config) -> Params {
    Params { fast: c[0] as u32, slow: c[1] as u32 }
}

/// Which bars a low-fidelity trial runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FidelityLayout {
    /// `round(f · N)` of `N` equal segments spread evenly over the history — what the search uses.
    #[default]
    Spread,
    /// The most recent `⌈f · bars⌉` bars — the alternative the rank-agreement figures reject.
    Recent,
}

impl FidelityLayout {
    /// The `(lo, hi)` bar ranges of a `len`-bar history at fidelity `f`, cut into `segments` parts.
    pub fn segments(self, len: usize, f: f64, segments: usize) -> Vec<(usize, usize)> {
        if f >= 1.0 || segments <= 1 {
            return vec![(0, len)];
        }
        match self {
            Self::Spread => spread_segments(len, f, segments),
            Self::Recent => vec![(len - ((f * len as f64).ceil() as usize).min(len), len)],
        }
    }
}

/// The bar ranges a trial at fidelity `f` runs on, for an asset of `len` bars cut into
/// `segments` equal parts: the whole history at `f ≥ 1`, else `round(f · segments)` (at least
/// one) parts spread evenly, part `j` of `m` being `⌊(j + ½) · segments / m⌋`.
fn spread_segments(len: usize, f: f64, segments: usize) -> Vec<(usize, usize)> {
    let m = ((f * segments as f64).round() as usize).clamp(1, segments);
    (0..m)
        .map(|j| {
            let i = ((2 * j + 1) * segments) / (2 * m);
            (len * i / segments, len * (i + 1) / segments)
        })
        .collect()
}

/// The engine as a search objective.
struct Backtests<'e> {
    engine: &'e Engine,
    assets: &'e [usize],
    opts: Optimizations,
    /// Segments a history is cut into for the lower fidelities.
    segments: usize,
    /// Which of them a low fidelity runs on.
    layout: FidelityLayout,
    /// The rules every backtest follows.
    rules: crate::Rules,
    /// What each backtest scores.
    objective: Objective,
    /// The bars `[lo, hi)` every asset's history is cut to (a walk-forward's in-sample window),
    /// or the whole history.
    window: Option<(usize, usize)>,
}

/// An asset's first bar of history and its segments, absolute bar ranges.
type Segments = (usize, Vec<(usize, usize)>);

impl<'e> Backtests<'e> {
    /// What a search of `spec` evaluates: its assets, objective and rules, the whole history,
    /// its lower fidelities on spread segments.
    fn of(engine: &'e Engine, spec: &'e SearchSpec, opts: Optimizations) -> Self {
        Self {
            engine,
            assets: &spec.assets,
            opts,
            segments: segments_for(&spec.plan),
            layout: FidelityLayout::Spread,
            rules: spec.rules,
            objective: spec.objective,
            window: None,
        }
    }

    /// Asset `a`'s segments at fidelity `f`, as absolute bar ranges, and the first bar of its
    /// history (segments starting after it warm their SMAs up on the bars before them).
    fn segments(&self, a: usize, f: f64) -> Segments {
        let (base, end) = self.window.unwrap_or((0, self.engine.bundle().assets[a].len()));
        let segs = self.layout.segments(end - base, f, self.segments);
        (base, segs.into_iter().map(|(lo, hi)| (base + lo, base + hi)).collect())
    }
}

impl Problem for Backtests<'_> {
    type Error = WorkloadError;

    fn cost(&self, f: f64) -> u64 {
        self.assets.iter().flat_map(|&a| self.segments(a, f).1).map(|(lo, hi)| (hi - lo) as u64).sum()
    }

    fn evaluate(&mut self, configs: &[Config], f: f64) -> Result<Vec<f64>, WorkloadError> {
        let _span = tracing::info_span!("bench_workloads::search::evaluate").entered();
        // Every asset's segments, the same for every configuration.
        let plan: Vec<(usize, Segments)> = self.assets.iter().map(|&a| (a, self.segments(a, f))).collect();
        let per_config: usize = plan.iter().map(|(_, (_, s))| s.len()).sum();
        let rules = self.rules;
        let tasks: Vec<Task> = configs
            .iter()
            .flat_map(|c| {
                let params = params_of(c);
                plan.iter().flat_map(move |(a, (base, segs))| {
                    segs.iter().map(move |&(lo, hi)| Task {
                        asset: *a,
                        lo,
                        hi,
                        params,
                        lookback: lo > *base && lo >= params.slow as usize,
                        rules,
                    })
                })
            })
            .collect();
        let results = self.engine.run(&tasks, self.opts, false)?;
        // The mean over assets of each asset's mean objective over its segments.
        Ok(results
            .chunks(per_config.max(1))
            .map(|chunk| {
                let mut k = 0;
                let mut total = 0.0;
                for (_, (_, segs)) in &plan {
                    let m = segs.len();
                    total += chunk[k..k + m].iter().map(|x| self.objective.score(&x.metrics)).sum::<f64>()
                        / m as f64;
                    k += m;
                }
                total / plan.len().max(1) as f64
            })
            .collect())
    }
}

/// Segments the lower fidelities cut a history into: `1 / min_fidelity`, rounded.
fn segments_for(plan: &Plan) -> usize {
    (1.0 / plan.min_fidelity).round().max(1.0) as usize
}

/// What a search found, in the unit of the throughput figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchOutcome {
    /// `bohb`, `hyperband`, `random` or `grid`.
    pub method: String,
    /// What is maximised.
    pub objective: String,
    /// The rules every backtest followed.
    pub rules: crate::Rules,
    /// The best pair evaluated at full fidelity.
    pub best_params: Option<Params>,
    /// Where the other rules would give the best pair another backtest, per asset (full
    /// history; assets where they agree are left out).
    pub best_rule_differences: Vec<crate::PairDifferences>,
    /// Its objective.
    pub best_objective: Option<f64>,
    /// Bar evaluations spent.
    pub bar_evals: u64,
    /// Wall time of the search, seconds (its backtests, its model and the rest).
    pub wall_seconds: f64,
    /// Seconds of it spent in BOHB's model, which the bar evaluations do not count (0 for
    /// the other methods).
    pub model_seconds: f64,
    /// The time budget, if one was given.
    pub max_seconds: Option<f64>,
    /// The budget, in bar evaluations.
    pub budget: u64,
    /// Valid (fast, slow) pairs in the space.
    pub space_size: u64,
    /// Bar evaluations of the full grid over the space.
    pub grid_bar_evals: u64,
    /// Every evaluation, in order.
    pub trials: Vec<Trial>,
}

impl SearchOutcome {
    /// What `backtest --search` prints: the method, space and data, the best pair and what was
    /// spent against the budget and the full grid.
    pub fn to_text(&self, data: &str) -> String {
        let best = match (self.best_params, self.best_objective) {
            (Some(p), Some(v)) => format!("fast {} / slow {}: {v:.2}", p.fast, p.slow),
            _ => "none evaluated on the full history (raise --budget)".into(),
        };
        let mut text = format!(
            "{} search over {} (fast, slow) pairs on {data} data, objective: {}, {} rules\n  best: {best}\n  spent {} of {} bar evaluations ({:.1}% of the full grid's {}), {} trials\n  took {}{}{}\n",
            self.method,
            bench_core::units::count(self.space_size),
            self.objective,
            self.rules.name(),
            bench_core::units::count(self.bar_evals),
            if self.budget == u64::MAX { "unlimited".into() } else { bench_core::units::count(self.budget) },
            self.bar_evals as f64 / self.grid_bar_evals.max(1) as f64 * 100.0,
            bench_core::units::count(self.grid_bar_evals),
            bench_core::units::count(self.trials.len() as u64),
            bench_core::units::duration(self.wall_seconds),
            self.max_seconds.map_or(String::new(), |t| format!(
                " of a {} time budget",
                bench_core::units::duration_short(t)
            )),
            if self.model_seconds > 0.0 {
                format!(
                    ", of which the model {} ({:.0}%: not counted in bar evaluations)",
                    bench_core::units::duration(self.model_seconds),
                    self.model_seconds / self.wall_seconds.max(1e-12) * 100.0
                )
            } else {
                String::new()
            }
        );
        if !self.best_rule_differences.is_empty() {
            let other =
                if self.rules == crate::Rules::Exact { "backtesting.py's rules" } else { "the exact rules" };
            let on: Vec<&str> = self.best_rule_differences.iter().map(|d| d.symbol.as_str()).collect();
            text.push_str(&format!(
                "  {other} would give the best pair another backtest on {} (bars in the JSON's best_rule_differences)\n",
                on.join(", ")
            ));
        }
        text
    }

    /// The JSON document of `backtest --search --json`: every field but the trials (counted
    /// instead; `--export-csv` lists them), with the data, ladder step and seed.
    pub fn to_json(&self, data: &str, step: &str, seed: u64) -> serde_json::Value {
        let mut doc = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = doc.as_object_mut() {
            o.insert("trials".into(), self.trials.len().into());
            o.insert("data".into(), data.into());
            o.insert("step".into(), step.into());
            o.insert("seed".into(), seed.into());
        }
        doc
    }

    /// Every trial as CSV: order, fast, slow, fidelity, score, bar evaluations, bracket, rung,
    /// whether the model proposed it.
    pub fn trials_csv(&self) -> String {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        let _ = w.write_record([
            "order",
            "fast",
            "slow",
            "fidelity",
            "objective",
            "bar_evals",
            "bracket",
            "rung",
            "model_based",
        ]);
        for t in &self.trials {
            let (b, r) =
                t.bracket.map_or((String::new(), String::new()), |(b, r)| (b.to_string(), r.to_string()));
            let _ = w.write_record([
                t.order.to_string(),
                t.config[0].to_string(),
                t.config[1].to_string(),
                t.fidelity.to_string(),
                t.score.to_string(),
                t.cost.to_string(),
                b,
                r,
                t.model_based.to_string(),
            ]);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

/// Runs a search with the given ladder optimizations.
///
/// ```
/// use bench_workloads::*;
/// let bundle = load_csv(&bundled_csv_path()).unwrap();
/// let handle = TempEngine::new(bundle, 2).unwrap();
/// let spec = SearchSpec {
///     assets: handle.engine.bundle().select_assets(Some("GOOG")).unwrap(),
///     fast: "5:30:5".parse().unwrap(),
///     slow: "40:120:20".parse().unwrap(),
///     method: "bohb".parse().unwrap(),
///     plan: bench_search::Plan { min_fidelity: 1.0 / 9.0, eta: 3.0, cost_limit: 100_000, seed: 1 },
///     rules: Rules::Exact,
///     objective: Objective::SharpeRatio,
///     max_seconds: None,
/// };
/// let out = run_search(&handle.engine, &spec, LadderStep::PrefixSums.optimizations()).unwrap();
/// assert!(out.bar_evals <= 100_000 && out.best_params.is_some());
/// ```
pub fn run_search(
    engine: &Engine,
    spec: &SearchSpec,
    opts: Optimizations,
) -> Result<SearchOutcome, WorkloadError> {
    let _span = tracing::info_span!("bench_workloads::search::run_search").entered();
    if spec.assets.is_empty() {
        return Err(WorkloadError::InvalidParameter("no asset selected".into()));
    }
    if spec.objective == Objective::BacktestingPySharpe {
        return Err(WorkloadError::InvalidParameter(
            "a search ranks by final equity, Sharpe or Sortino ratio, drawdown, total return or Calmar ratio; backtesting.py's Sharpe ratio needs each backtest's equity curve and is a walk-forward's in-sample choice only".into(),
        ));
    }
    let space_size = crate::grid::grid_size(&spec.fast, &spec.slow)?;
    if space_size == 0 {
        return Err(WorkloadError::InvalidParameter("the ranges give no pair with fast < slow".into()));
    }
    let started = std::time::Instant::now();
    let space = sma_space(&spec.fast, &spec.slow);
    let mut objective = Backtests::of(engine, spec, opts);
    let full = objective.cost(1.0);
    // Trials are kept: at most every pair at every fidelity, or what the budget pays for at the
    // lowest fidelity (a repeat costs nothing but is recorded; the search stops when they stall).
    let levels = 1 + ((1.0 / spec.plan.min_fidelity).ln() / spec.plan.eta.ln()).ceil().max(0.0) as u128;
    let cheapest = u128::from(objective.cost(spec.plan.min_fidelity).max(1));
    let most = (space_size * levels).min(u128::from(spec.plan.cost_limit) / cheapest + 1);
    bench_core::limits::memory_limit().check(
        &format!("a search of up to {} trials", bench_core::limits::count_words(most as f64)),
        2 * most,
        (std::mem::size_of::<Trial>() + 64) as u128,
    )?;
    let deadline = spec.max_seconds.map(|s| started + std::time::Duration::from_secs_f64(s.max(0.0)));
    let result: SearchResult =
        bench_search::search_until(&space, &spec.method, &spec.plan, &mut objective, deadline).map_err(
            |e| match e {
                bench_search::SearchError::Invalid(m) => WorkloadError::InvalidParameter(m),
                bench_search::SearchError::Problem(e) => e,
            },
        )?;
    let best_params = result.best.as_ref().map(|b| params_of(&b.config));
    let bundle = engine.bundle();
    let best_rule_differences = best_params
        .into_iter()
        .flat_map(|p| spec.assets.iter().map(move |&a| (a, p)))
        .filter_map(|(a, p)| {
            let hi = bundle.assets[a].len();
            let task = Task { asset: a, lo: 0, hi, params: p, lookback: false, rules: spec.rules };
            let differences = crate::rule_differences(bundle, &task);
            (!differences.is_empty()).then(|| crate::PairDifferences {
                symbol: bundle.assets[a].symbol.clone(),
                fast: p.fast,
                slow: p.slow,
                differences,
            })
        })
        .collect();
    Ok(SearchOutcome {
        rules: spec.rules,
        best_rule_differences,
        method: result.method,
        objective: format!("mean {} over the assets (full history)", spec.objective.name()),
        best_params,
        best_objective: result.best.as_ref().map(|b| b.score),
        bar_evals: result.cost,
        wall_seconds: started.elapsed().as_secs_f64(),
        model_seconds: result.model_seconds,
        max_seconds: spec.max_seconds,
        budget: spec.plan.cost_limit,
        space_size: space_size as u64,
        grid_bar_evals: (space_size as u64).saturating_mul(full),
        trials: result.trials,
    })
}

impl SearchSpec {
    /// The time the search's budget takes, at the rate of a pilot: the same search (method,
    /// seed, space) with a twentieth of the budget — at most what 16 full backtests of the grid
    /// say takes 0.2 s, so a search too long to run is refused in seconds — so the rate counts
    /// what a search costs beyond its backtests (short low-fidelity windows, the model's
    /// proposals), which full backtests alone miss by a factor of up to 20 (measured on the
    /// bundled data). A pilot too small to spend anything keeps the grid's rate.
    pub fn estimate(&self, engine: &Engine, opts: Optimizations) -> Result<WorkEstimate, WorkloadError> {
        let budget = self.plan.cost_limit;
        let mut estimate = GridSpec {
            assets: self.assets.clone(),
            params: param_grid(&self.fast, &self.slow).into_iter().take(16).collect(),
            objective: self.objective,
            rules: self.rules,
        }
        .estimate(engine, opts)?;
        let most = (estimate.rate_per_second * 0.2) as u64;
        let timed = |cost_limit: u64| -> Result<(u64, f64), WorkloadError> {
            let pilot = SearchSpec { plan: bench_search::Plan { cost_limit, ..self.plan }, ..self.clone() };
            let t0 = std::time::Instant::now();
            let spent = run_search(engine, &pilot, opts)?.bar_evals;
            Ok((spent, t0.elapsed().as_secs_f64()))
        };
        // A search's fixed cost (the space, the summary's rule check of the best pair) is timed
        // on a budget of one bar evaluation, which spends nothing; the pilot's rate is what
        // it takes beyond that.
        let (_, fixed) = timed(1)?;
        let (spent, seconds) = timed((budget / 20).min(most).max(1))?;
        if spent > 0 {
            let per_bar = (seconds - fixed).max(0.0) / spent as f64;
            estimate.rate_per_second = budget as f64 / (fixed + per_bar * budget as f64).max(1e-9);
        }
        // A budget past every pair at every fidelity it uses is not spent: the search ends
        // first (a pair at fidelity f costs f of a full backtest; grid and random search run
        // full fidelity only).
        let bars: u64 = self.assets.iter().map(|&a| engine.bundle().assets[a].len() as u64).sum();
        let levels = match self.method {
            bench_search::Method::Grid | bench_search::Method::Random => 1,
            _ => 1 + ((1.0 / self.plan.min_fidelity).ln() / self.plan.eta.ln()).ceil().max(0.0) as i32,
        };
        let per_pair: f64 = (0..levels).map(|k| self.plan.eta.powi(-k)).sum();
        let spendable = crate::grid::grid_size(&self.fast, &self.slow)? as f64 * bars as f64 * per_pair;
        estimate.what = format!("the {} search", self.method.name());
        estimate.work = format!("{} bar evaluations", bench_core::limits::count_words(budget as f64));
        estimate.units = (budget as f64).min(spendable);
        if let Some(limit) = self.max_seconds {
            estimate.units = estimate.units.min(estimate.rate_per_second * limit);
            estimate.work = format!("{}, or {} if sooner", estimate.work, bench_core::units::duration(limit));
        }
        Ok(estimate)
    }
}

/// Every valid pair's score at each fidelity a search of `spec` evaluates — its assets,
/// objective, rules and fidelity schedule (its method, budget and seed do not matter) — and the
/// bar evaluations one pair costs at each: a table any optimiser can query, so that this
/// crate's searches and another library's see identical values (`bench_search::Table` is
/// itself a problem to search).
///
/// ```
/// use bench_workloads::*;
/// let handle = TempEngine::new(load_csv(&bundled_csv_path()).unwrap(), 2).unwrap();
/// let spec = SearchSpec {
///     assets: handle.engine.bundle().select_assets(Some("GOOG")).unwrap(),
///     fast: "5:30:5".parse().unwrap(),
///     slow: "40:120:20".parse().unwrap(),
///     method: "bohb".parse().unwrap(),
///     plan: bench_search::Plan { min_fidelity: 1.0 / 9.0, eta: 3.0, cost_limit: 100_000, seed: 1 },
///     rules: Rules::Exact,
///     objective: Objective::SharpeRatio,
///     max_seconds: None,
/// };
/// let opts = LadderStep::PrefixSums.optimizations();
/// let table = objective_table(&handle.engine, &spec, opts).unwrap();
/// assert_eq!((table.rows.len(), table.fidelities.len()), (30, 3)); // 6 × 5 pairs at 1/9, 1/3, 1
/// // A search on the table finds what the same search on the engine finds.
/// let mut on_table = table.clone();
/// let space = sma_space(&spec.fast, &spec.slow);
/// let found = bench_search::search(&space, &spec.method, &spec.plan, &mut on_table).unwrap();
/// assert_eq!(found.best.unwrap().score, run_search(&handle.engine, &spec, opts).unwrap().best_objective.unwrap());
/// ```
pub fn objective_table(
    engine: &Engine,
    spec: &SearchSpec,
    opts: Optimizations,
) -> Result<bench_search::Table, WorkloadError> {
    let _span = tracing::info_span!("bench_workloads::search::objective_table").entered();
    if spec.objective == Objective::BacktestingPySharpe {
        return Err(WorkloadError::InvalidParameter(
            "backtesting.py's Sharpe ratio is a walk-forward's in-sample choice only".into(),
        ));
    }
    let configs: Vec<Config> = sma_space(&spec.fast, &spec.slow).valid_configs().collect();
    let mut fidelities: Vec<f64> =
        bench_search::hyperband_brackets(1.0, spec.plan.min_fidelity, spec.plan.eta)
            .iter()
            .flat_map(|b| b.rungs.iter().map(|r| r.fidelity))
            .collect();
    fidelities.sort_by(f64::total_cmp);
    fidelities.dedup_by(|a, b| (*a - *b).abs() <= 1e-9 * b.abs());
    let mut objective = Backtests::of(engine, spec, opts);
    let costs = fidelities.iter().map(|&f| objective.cost(f)).collect();
    let mut scores = vec![Vec::with_capacity(fidelities.len()); configs.len()];
    for &f in &fidelities {
        for (row, s) in scores.iter_mut().zip(objective.evaluate(&configs, f)?) {
            row.push(s);
        }
    }
    bench_search::Table::new(
        vec!["fast".into(), "slow".into()],
        fidelities,
        costs,
        configs.into_iter().zip(scores).collect(),
    )
    .map_err(|e| WorkloadError::Internal(e.to_string()))
}

/// The rank agreement between each fidelity's scores (bars chosen by `layout`) and the
/// full-history scores over every pair of the space: Spearman's ρ of the two score lists (ties
/// ranked by average).
pub fn fidelity_rank_agreement(
    engine: &Engine,
    assets: &[usize],
    fast: &ParamRange,
    slow: &ParamRange,
    fidelities: &[f64],
    layout: FidelityLayout,
    opts: Optimizations,
) -> Result<Vec<(f64, f64)>, WorkloadError> {
    let space = sma_space(fast, slow);
    let configs: Vec<Config> = space.valid_configs().collect();
    let segments = (1.0 / fidelities.iter().copied().fold(1.0, f64::min)).round().max(1.0) as usize;
    let mut objective = Backtests {
        engine,
        assets,
        opts,
        segments,
        layout,
        rules: crate::Rules::Exact,
        objective: Objective::FinalEquity,
        window: None,
    };
    let full = objective.evaluate(&configs, 1.0)?;
    fidelities
        .iter()
        .map(|&f| Ok((f, bench_stats::spearman(&objective.evaluate(&configs, f)?, &full))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_spread_over_the_history() {
        assert_eq!(FidelityLayout::Spread.segments(900, 1.0, 9), [(0, 900)]);
        assert_eq!(FidelityLayout::Spread.segments(900, 1.0 / 9.0, 9), [(400, 500)]);
        assert_eq!(FidelityLayout::Spread.segments(900, 1.0 / 3.0, 9), [(100, 200), (400, 500), (700, 800)]);
        // The cost of a fidelity is that share of the bars.
        let bars: usize =
            FidelityLayout::Spread.segments(9000, 1.0 / 3.0, 9).iter().map(|(a, b)| b - a).sum();
        assert_eq!(bars, 3000);
        assert_eq!(FidelityLayout::Recent.segments(900, 1.0 / 3.0, 9), [(600, 900)]);
        assert_eq!(FidelityLayout::Recent.segments(900, 1.0, 9), [(0, 900)]);
    }
}
