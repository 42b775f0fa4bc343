//! Multi-fidelity parameter search: Hyperband's brackets of successive halving (Li, Jamieson,
//! DeSalvo, Rostamizadeh & Talwalkar, JMLR 18(185), 2018), BOHB's model-based sampling on top of
//! them (Falkner, Klein & Hutter, ICML 2018), random search and the full grid, over integer
//! parameters, with every evaluation's cost counted against a budget.
//!
//! The search is generic: a [`Problem`] evaluates a batch of configurations at a *fidelity*
//! (a fraction of the full budget, e.g. of the history a backtest sees) and says what one
//! evaluation costs (e.g. bar evaluations). Higher scores are better. Everything is seeded and
//! deterministic: the same seed gives the same trials in the same order.
//!
//! BOHB is implemented here rather than taken from a crate: the Rust `optimizer` crate's BOHB
//! sampler is a univariate TPE over budget-filtered history driving an asynchronous pruner, not
//! the published algorithm (synchronous brackets; per-budget multivariate KDEs on the largest
//! budget with enough points, 15% good, bandwidth factor 3, a third of the samples random, 64
//! candidates maximising l(x)/g(x)), and the reference implementation (HpBandSter) is no longer
//! maintained. The settings are HpBandSter's defaults but for 24 candidates instead of 64 and
//! candidates already evaluated at a bracket's first fidelity skipped ([`BohbSettings`] says
//! why; [`BohbSettings::hpbandster`] has all of HpBandSter's).
//!
//! ```
//! use bench_search::*;
//! // Maximise −(x − 37)² − (y − 11)², a cheap problem whose cost is its fidelity × 100.
//! struct Quadratic;
//! impl Problem for Quadratic {
//!     type Error = std::convert::Infallible;
//!     fn cost(&self, fidelity: f64) -> u64 { (fidelity * 100.0).round() as u64 }
//!     fn evaluate(&mut self, configs: &[Config], _fidelity: f64) -> Result<Vec<f64>, Self::Error> {
//!         Ok(configs.iter().map(|c| -((c[0] - 37) as f64).powi(2) - ((c[1] - 11) as f64).powi(2)).collect())
//!     }
//! }
//! let space = Space::new(vec![IntParam::new("x", 0, 100, 1).unwrap(), IntParam::new("y", 0, 100, 1).unwrap()]);
//! let plan = Plan { min_fidelity: 1.0 / 9.0, eta: 3.0, cost_limit: 20_000, seed: 7 };
//! let r = search(&space, &Method::Bohb(BohbSettings::default()), &plan, &mut Quadratic).unwrap();
//! assert!(r.cost <= 20_000);
//! let best = r.best.unwrap();
//! assert!(best.score > -50.0, "{:?}", best); // near (37, 11) after 200 full-fidelity equivalents
//! let again = search(&space, &Method::Bohb(BohbSettings::default()), &plan, &mut Quadratic).unwrap();
//! assert_eq!(r.trials, again.trials); // seeded: the same trials in the same order
//! ```

mod hyperband;
mod kde;
mod space;
mod table;

pub use hyperband::{Bracket, Rung, hyperband_brackets};
pub use kde::BohbSettings;
pub use space::{Config, IntParam, Space};
pub use table::{Table, TableError};

use std::collections::HashMap;

use bench_core::SplitMix64;
use serde::Serialize;

/// What the search evaluates.
pub trait Problem {
    /// Why an evaluation failed.
    type Error;
    /// The cost of evaluating one configuration at `fidelity` (0 < fidelity ≤ 1).
    fn cost(&self, fidelity: f64) -> u64;
    /// Scores of `configs` at `fidelity`, in order (higher is better; a NaN counts as worst).
    fn evaluate(&mut self, configs: &[Config], fidelity: f64) -> Result<Vec<f64>, Self::Error>;
}

/// A search method.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// Every valid configuration at full fidelity, in grid order (until the cost limit).
    Grid,
    /// Uniformly random valid configurations at full fidelity.
    Random,
    /// Hyperband: brackets of successive halving on uniformly random configurations.
    Hyperband,
    /// BOHB: Hyperband's brackets with configurations proposed by per-fidelity KDE models.
    Bohb(BohbSettings),
}

impl Method {
    /// `grid`, `random`, `hyperband` or `bohb`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Grid => "grid",
            Self::Random => "random",
            Self::Hyperband => "hyperband",
            Self::Bohb(_) => "bohb",
        }
    }
}

impl std::str::FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "grid" => Ok(Self::Grid),
            "random" => Ok(Self::Random),
            "hyperband" => Ok(Self::Hyperband),
            "bohb" => Ok(Self::Bohb(BohbSettings::default())),
            _ => Err(format!("unknown search method {s:?}; expected bohb, hyperband, random or grid")),
        }
    }
}

/// The fidelity schedule, the cost limit and the seed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Plan {
    /// Lowest fidelity a bracket starts at (Hyperband's r_min / R), e.g. 1/9.
    pub min_fidelity: f64,
    /// Hyperband's η: a rung keeps 1/η of its configurations at η times the fidelity.
    pub eta: f64,
    /// Most cost the search may spend.
    pub cost_limit: u64,
    /// Seed of every random choice.
    pub seed: u64,
}

/// One evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trial {
    /// Position in evaluation order.
    pub order: usize,
    /// The configuration.
    pub config: Config,
    /// The fidelity it was evaluated at.
    pub fidelity: f64,
    /// Its score.
    pub score: f64,
    /// What it cost (0 when the same configuration was already evaluated at this fidelity).
    pub cost: u64,
    /// Hyperband bracket `s` and rung `i`, for the bracket methods.
    pub bracket: Option<(u32, u32)>,
    /// Whether BOHB's model proposed it (false: drawn at random).
    pub model_based: bool,
}

/// The best configuration found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Best {
    /// The configuration.
    pub config: Config,
    /// Its score at full fidelity.
    pub score: f64,
}

/// What a search did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResult {
    /// `grid`, `random`, `hyperband` or `bohb`.
    pub method: String,
    /// Every evaluation, in order.
    pub trials: Vec<Trial>,
    /// The best configuration evaluated at full fidelity (the incumbent), if any was.
    pub best: Option<Best>,
    /// Cost spent.
    pub cost: u64,
    /// Seconds spent in BOHB's model (fitting, proposing, recording), which the cost does not
    /// count; 0 for the other methods.
    pub model_seconds: f64,
}

/// Why a search could not run.
#[derive(Debug, thiserror::Error)]
pub enum SearchError<E> {
    /// The plan or the space is not usable.
    #[error("{0}")]
    Invalid(String),
    /// The problem's evaluation failed.
    #[error("the problem's evaluation failed")]
    Problem(E),
}

/// The running state shared by the methods: the cache of evaluations, the trials, the spend.
struct Run<'p, P: Problem> {
    problem: &'p mut P,
    limit: u64,
    /// No evaluation starts after it.
    deadline: Option<std::time::Instant>,
    cost: u64,
    trials: Vec<Trial>,
    seen: HashMap<(Config, u64), f64>,
    /// Evaluations actually made (not answered from `seen`).
    fresh: usize,
}

impl<P: Problem> Run<'_, P> {
    /// Evaluates as many of `configs` at `fidelity` as the remaining budget pays for (a repeat
    /// of an evaluation already made is free: the problem is deterministic), records them and
    /// returns their scores; `None` when not even the first fits, or the deadline has passed.
    fn evaluate(
        &mut self,
        configs: &[(Config, bool)],
        fidelity: f64,
        bracket: Option<(u32, u32)>,
    ) -> Result<Option<Vec<f64>>, SearchError<P::Error>> {
        if self.deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Ok(None);
        }
        let key = |c: &Config| (c.clone(), fidelity.to_bits());
        let each = self.problem.cost(fidelity);
        let mut fresh: Vec<Config> = Vec::new();
        let mut spend = 0u64;
        let mut taken = 0;
        for (c, _) in configs {
            if !self.seen.contains_key(&key(c)) && !fresh.contains(c) {
                if self.cost + spend + each > self.limit {
                    break;
                }
                spend += each;
                fresh.push(c.clone());
            }
            taken += 1;
        }
        if taken == 0 {
            return Ok(None);
        }
        let scores = if fresh.is_empty() {
            Vec::new()
        } else {
            self.problem.evaluate(&fresh, fidelity).map_err(SearchError::Problem)?
        };
        self.fresh += fresh.len();
        for (c, s) in fresh.iter().zip(&scores) {
            self.seen.insert(key(c), if s.is_nan() { f64::NEG_INFINITY } else { *s });
        }
        let mut out = Vec::with_capacity(taken);
        let mut charged: Vec<&Config> = Vec::new();
        for (c, model_based) in &configs[..taken] {
            let score = self.seen[&key(c)];
            let first = fresh.contains(c) && !charged.contains(&c);
            if first {
                charged.push(c);
            }
            self.trials.push(Trial {
                order: self.trials.len(),
                config: c.clone(),
                fidelity,
                score,
                cost: if first { each } else { 0 },
                bracket,
                model_based: *model_based,
            });
            out.push(score);
        }
        self.cost += spend;
        Ok(Some(out))
    }
}

/// Runs `method` over `space` under `plan` with `problem`.
pub fn search<P: Problem>(
    space: &Space,
    method: &Method,
    plan: &Plan,
    problem: &mut P,
) -> Result<SearchResult, SearchError<P::Error>> {
    search_until(space, method, plan, problem, None)
}

/// [`search`] that also stops at `deadline`: no evaluation starts after it (one running then
/// finishes), so a search given a time budget ends at most one evaluation past it. What it
/// found by then depends on the machine's speed: a seeded search with a deadline replays only
/// while the deadline does not bind.
pub fn search_until<P: Problem>(
    space: &Space,
    method: &Method,
    plan: &Plan,
    problem: &mut P,
    deadline: Option<std::time::Instant>,
) -> Result<SearchResult, SearchError<P::Error>> {
    let valid = plan.min_fidelity > 0.0 && plan.min_fidelity <= 1.0 && plan.eta > 1.0;
    if !valid {
        return Err(SearchError::Invalid(format!(
            "min fidelity {} and η {}: expected 0 < min fidelity ≤ 1 and η > 1",
            plan.min_fidelity, plan.eta
        )));
    }
    if space.count_valid(1) == 0 {
        return Err(SearchError::Invalid("the search space has no valid configuration".into()));
    }
    let mut rng = SplitMix64::new(plan.seed);
    let mut model_seconds = 0.0;
    let mut run = Run {
        problem,
        limit: plan.cost_limit,
        deadline,
        cost: 0,
        trials: Vec::new(),
        seen: HashMap::new(),
        fresh: 0,
    };
    match method {
        Method::Grid => {
            let all: Vec<(Config, bool)> = space.valid_configs().map(|c| (c, false)).collect();
            for chunk in all.chunks(256) {
                if run.evaluate(chunk, 1.0, None)?.is_none_or(|s| s.len() < chunk.len()) {
                    break;
                }
            }
        }
        Method::Random => {
            // A repeat is answered from the cache at no cost, so a small space could be drawn
            // forever: stop once 64 batches in a row found nothing new (the space is exhausted).
            let mut stale = 0;
            while stale < 64 {
                let before = run.fresh;
                let batch: Vec<(Config, bool)> = (0..16).map(|_| (space.sample(&mut rng), false)).collect();
                if run.evaluate(&batch, 1.0, None)?.is_none_or(|s| s.len() < batch.len()) {
                    break;
                }
                stale = if run.fresh == before { stale + 1 } else { 0 };
            }
        }
        Method::Hyperband | Method::Bohb(_) => {
            let brackets = hyperband_brackets(1.0, plan.min_fidelity, plan.eta);
            let mut model = match method {
                Method::Bohb(settings) => Some(kde::Model::new(settings.clone(), space.params.len())),
                _ => None,
            };
            // A pass over every bracket that evaluates nothing new means every configuration it
            // drew was already evaluated at each of its fidelities: the search has exhausted
            // what it can learn within the space and stops.
            let mut stale = 0;
            'outer: while stale < 8 {
                let before = run.fresh;
                for b in &brackets {
                    let n0 = b.rungs[0].configs;
                    let t0 = std::time::Instant::now();
                    let mut configs: Vec<(Config, bool)> = (0..n0)
                        .map(|_| match model.as_mut() {
                            Some(m) => m.propose(space, &mut rng, b.rungs[0].fidelity),
                            None => (space.sample(&mut rng), false),
                        })
                        .collect();
                    if model.is_some() {
                        model_seconds += t0.elapsed().as_secs_f64();
                    }
                    for (i, rung) in b.rungs.iter().enumerate() {
                        let Some(scores) = run.evaluate(&configs, rung.fidelity, Some((b.s, i as u32)))?
                        else {
                            break 'outer;
                        };
                        if let Some(m) = model.as_mut() {
                            let t0 = std::time::Instant::now();
                            for ((c, _), s) in configs.iter().zip(&scores) {
                                m.observe(space, c, rung.fidelity, *s);
                            }
                            model_seconds += t0.elapsed().as_secs_f64();
                        }
                        if scores.len() < configs.len() {
                            break 'outer;
                        }
                        // Successive halving: keep the best ⌊n_i / η⌋ (the schedule's next count).
                        let Some(next) = b.rungs.get(i + 1) else { break };
                        let mut order: Vec<usize> = (0..configs.len()).collect();
                        order.sort_by(|&x, &y| scores[y].total_cmp(&scores[x]).then(x.cmp(&y)));
                        configs = order.into_iter().take(next.configs).map(|k| configs[k].clone()).collect();
                    }
                }
                stale = if run.fresh == before { stale + 1 } else { 0 };
            }
        }
    }
    let best = run
        .trials
        .iter()
        .filter(|t| t.fidelity >= 1.0 && t.score.is_finite())
        .fold(None::<&Trial>, |b, t| if b.is_none_or(|b| t.score > b.score) { Some(t) } else { b })
        .map(|t| Best { config: t.config.clone(), score: t.score });
    Ok(SearchResult { method: method.name().into(), trials: run.trials, best, cost: run.cost, model_seconds })
}
