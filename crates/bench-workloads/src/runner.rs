//! [`Engine`]: runs a set of backtests on a rayon pool with a chosen set of [`Optimizations`].

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::WorkloadError;
use crate::bundle::Bundle;
use crate::engine::{BacktestResult, Params, Rules, simulate};
use crate::ladder::Optimizations;
use crate::portal::DataPortal;
use crate::signals::{
    prefix_exact, prefix_ticks, signals_backtesting_py, signals_from_history, signals_from_smas,
    signals_prefix, signals_vectorized, sma_exact,
};

/// Backtests per worker in one batch when workers are not persistent.
pub const BATCH_PER_WORKER: usize = 4;

/// Calls of fewer bar evaluations than this run on the calling thread, without a pool (about
/// 0.1–1 ms of backtests, the cost of starting a pool's threads).
pub const SMALL_CALL_BARS: usize = 200_000;

/// One backtest: an asset, a bar range `lo..hi` and the SMA windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Task {
    /// Index of the asset in the bundle.
    pub asset: usize,
    /// First bar of the range.
    pub lo: usize,
    /// One past the last bar.
    pub hi: usize,
    /// SMA windows.
    pub params: Params,
    /// When true, the SMAs use bars before `lo` (which must be at least `slow`), so the first
    /// decision is at `lo`; otherwise the range warms up first and decisions start at
    /// `lo + slow`, as in a backtest of the range alone.
    pub lookback: bool,
    /// The engine's exact rules or backtesting.py's.
    pub rules: Rules,
}

impl Task {
    /// First decision bar.
    pub fn decide_from(&self) -> usize {
        if self.lookback { self.lo } else { self.lo + self.params.slow as usize }
    }

    /// The first bar the SMAs are computed from: `lo`, or `lo − slow` with `lookback` (what
    /// backtesting.py would be given to reproduce this backtest).
    pub fn sma_from(&self) -> usize {
        if self.lookback { self.lo - self.params.slow as usize } else { self.lo }
    }

    /// Number of bars the backtest evaluates.
    pub fn bars(&self) -> usize {
        self.hi - self.lo
    }
}

/// A hash map whose hasher has fixed keys: the same work on every run, where std's default
/// seeds each process's hasher at random — which moved the instructions of the same ladder
/// step by up to 0.008% between runs under Callgrind, so that its counts could not decide
/// exactly. The keys are asset indices and window lengths: nothing an adversary chooses.
pub(crate) type FixedMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<std::hash::DefaultHasher>>;

/// Shared SMAs per (asset, window), computed once by rolling sum (one asset at a time during a
/// run, see [`Engine::run`]).
#[derive(Debug, Default)]
pub struct IndicatorCache {
    smas: FixedMap<(usize, u32), Vec<f64>>,
    prefix: FixedMap<usize, Vec<f64>>,
}

impl IndicatorCache {
    /// Computes every SMA the tasks need, in parallel on the current rayon pool.
    pub fn build(bundle: &Bundle, tasks: &[Task]) -> Self {
        Self::build_with(bundle, tasks, false)
    }

    /// With `prefix_only`, one prefix-sum array per asset is cached instead of one SMA per
    /// (asset, window) — what the prefix-sum kernel needs — unless the sums would not be exact,
    /// in which case the SMAs are cached as usual.
    pub fn build_with(bundle: &Bundle, tasks: &[Task], prefix_only: bool) -> Self {
        Self::build_on(bundle, tasks, prefix_only, true)
    }

    /// [`IndicatorCache::build_with`] in parallel on the current rayon pool, or on the calling
    /// thread (a call too small for a pool).
    fn build_on(bundle: &Bundle, tasks: &[Task], prefix_only: bool, parallel: bool) -> Self {
        let _span = tracing::info_span!("bench_workloads::runner::IndicatorCache::build").entered();
        let mut prefix = FixedMap::default();
        if prefix_only {
            let assets: BTreeSet<usize> = tasks.iter().map(|t| t.asset).collect();
            let max_slow = tasks.iter().map(|t| t.params.slow).max().unwrap_or(0);
            let one = |a: usize| {
                prefix_ticks(&bundle.assets[a].close).filter(|p| prefix_exact(p, max_slow)).map(|p| (a, p))
            };
            prefix = if parallel {
                assets.into_par_iter().filter_map(one).collect()
            } else {
                assets.into_iter().filter_map(one).collect()
            };
        }
        let needs: BTreeSet<(usize, u32)> = tasks
            .iter()
            .filter(|t| t.rules == Rules::Exact && !prefix.contains_key(&t.asset))
            .flat_map(|t| [(t.asset, t.params.fast), (t.asset, t.params.slow)])
            .collect();
        let portal = DataPortal::new(bundle);
        let one = |(a, w): (usize, u32)| {
            let close = portal
                .history_slice(
                    a,
                    bundle.assets[a].len().saturating_sub(1),
                    bundle.assets[a].len(),
                    crate::Field::Close,
                )
                .unwrap_or(&[]);
            ((a, w), sma_exact(close, w as usize))
        };
        let smas = if parallel {
            needs.into_par_iter().map(one).collect()
        } else {
            needs.into_iter().map(one).collect()
        };
        Self { smas, prefix }
    }

    /// The prefix sums of `asset`'s close in ticks, if cached.
    pub fn prefix(&self, asset: usize) -> Option<&[f64]> {
        self.prefix.get(&asset).map(Vec::as_slice)
    }

    /// The SMA of `asset` over `window`, if cached.
    pub fn get(&self, asset: usize, window: u32) -> Option<&[f64]> {
        self.smas.get(&(asset, window)).map(Vec::as_slice)
    }

    /// Number of cached series: SMAs per (asset, window) plus prefix sums per asset.
    pub fn len(&self) -> usize {
        self.smas.len() + self.prefix.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held by the cached series.
    pub fn bytes(&self) -> usize {
        self.smas.values().chain(self.prefix.values()).map(|v| v.len() * 8).sum()
    }
}

/// Runs backtests. Holds the bundle file (re-read per backtest when the bundle is not shared)
/// and the bundle loaded once (used when it is).
#[derive(Debug, Clone)]
pub struct Engine {
    bundle_path: PathBuf,
    bundle: Arc<Bundle>,
    workers: usize,
    completed: Arc<std::sync::atomic::AtomicU64>,
    bars: Arc<std::sync::atomic::AtomicU64>,
}

/// The worker count of a `--workers` flag: the machine's cores when it is absent; 0 is refused
/// as invalid input.
///
/// ```
/// assert_eq!(bench_workloads::resolve_workers(Some(3)).unwrap(), 3);
/// assert!(bench_workloads::resolve_workers(None).unwrap() >= 1);
/// assert!(bench_workloads::resolve_workers(Some(0)).is_err());
/// ```
pub fn resolve_workers(flag: Option<usize>) -> Result<usize, WorkloadError> {
    let workers = flag.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    if workers == 0 {
        return Err(WorkloadError::InvalidParameter("--workers must be at least 1".into()));
    }
    Ok(workers)
}

/// Builds a rayon pool of `workers` threads.
pub fn build_pool(workers: usize) -> Result<rayon::ThreadPool, WorkloadError> {
    let _span = tracing::info_span!("bench_workloads::runner::build_pool").entered();
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|i| format!("bench-worker-{i}"))
        .build()
        .map_err(|e| WorkloadError::Pool(e.to_string()))
}

impl Engine {
    /// An engine over the binary bundle at `bundle_path`, whose contents are `bundle`.
    pub fn new(bundle_path: PathBuf, bundle: Arc<Bundle>, workers: usize) -> Result<Self, WorkloadError> {
        if workers == 0 {
            return Err(WorkloadError::InvalidParameter("workers must be at least 1".into()));
        }
        Ok(Self { bundle_path, bundle, workers, completed: Arc::default(), bars: Arc::default() })
    }

    /// Backtests this engine has completed so far (for a progress bar polled from another
    /// thread while a sweep runs).
    pub fn completed(&self) -> u64 {
        self.completed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Bar evaluations of the backtests this engine has completed so far (a search's budget
    /// is counted in them).
    pub fn bars_evaluated(&self) -> u64 {
        self.bars.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Reads the binary bundle at `path` and builds an engine over it.
    pub fn open(path: &Path, workers: usize) -> Result<Self, WorkloadError> {
        let bundle = Arc::new(Bundle::read_binary(path)?);
        Self::new(path.to_path_buf(), bundle, workers)
    }

    /// The bundle loaded once.
    pub fn bundle(&self) -> &Arc<Bundle> {
        &self.bundle
    }

    /// The binary bundle file.
    pub fn bundle_path(&self) -> &Path {
        &self.bundle_path
    }

    /// Number of workers.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The same engine with another number of workers.
    pub fn with_workers(&self, workers: usize) -> Result<Self, WorkloadError> {
        Self::new(self.bundle_path.clone(), Arc::clone(&self.bundle), workers)
    }

    /// Runs `tasks` with `opts` and returns one result per task, in task order (so the output is
    /// identical at any worker count). With `record`, trades and equity curves are kept.
    pub fn run(
        &self,
        tasks: &[Task],
        opts: Optimizations,
        record: bool,
    ) -> Result<Vec<BacktestResult>, WorkloadError> {
        for t in tasks {
            let len = self.bundle.assets.get(t.asset).map_or(0, |a| a.len());
            if t.lo > t.hi || t.hi > len {
                return Err(WorkloadError::InvalidParameter(format!(
                    "task range {}..{} outside asset {} with {len} bars",
                    t.lo, t.hi, t.asset
                )));
            }
            if t.lookback && t.lo < t.params.slow as usize {
                return Err(WorkloadError::InvalidParameter(format!(
                    "task from bar {} of asset {} warms its SMAs up on the bars before it, but the {}-bar slow window needs {} of them",
                    t.lo, t.asset, t.params.slow, t.params.slow
                )));
            }
        }
        let assets: Vec<usize> = tasks.iter().map(|t| t.asset).collect::<BTreeSet<_>>().into_iter().collect();
        let params: Vec<Params> =
            tasks.iter().map(|t| t.params).collect::<BTreeSet<_>>().into_iter().collect();
        crate::signals::check_exact_bounds(&self.bundle, &assets, &params)?;

        // A call this small (a search's evaluation of one pair at a low fidelity) runs on the
        // calling thread: building a pool for it (one per call, or per batch) costs more than
        // its backtests — 70% of a BOHB search's CPU was pool start-up and its futex waits.
        // Results are the same backtests in the same order.
        if tasks.iter().map(Task::bars).sum::<usize>() < SMALL_CALL_BARS {
            let cache = opts
                .indicator_cache
                .then(|| IndicatorCache::build_on(&self.bundle, tasks, opts.prefix_sums, false));
            return tasks.iter().map(|t| self.run_one(t, opts, cache.as_ref(), record)).collect();
        }

        let run_batch = |pool: &rayon::ThreadPool, batch: &[Task], cache: Option<&IndicatorCache>| {
            pool.install(|| {
                batch.par_iter().map(|t| self.run_one(t, opts, cache, record)).collect::<Result<Vec<_>, _>>()
            })
        };
        // With the cache, tasks run asset by asset and each asset's SMAs are dropped once its
        // tasks are done, so the cache holds one asset's windows at a time.
        let groups: Vec<Vec<usize>> = if opts.indicator_cache {
            let mut order: Vec<usize> = Vec::new();
            let mut by_asset: FixedMap<usize, Vec<usize>> = FixedMap::default();
            for (i, t) in tasks.iter().enumerate() {
                by_asset.entry(t.asset).or_insert_with(|| {
                    order.push(t.asset);
                    Vec::new()
                });
                by_asset.get_mut(&t.asset).expect("inserted").push(i);
            }
            order.into_iter().map(|a| by_asset.remove(&a).unwrap_or_default()).collect()
        } else {
            vec![(0..tasks.len()).collect()]
        };
        let persistent = if opts.persistent_workers { Some(build_pool(self.workers)?) } else { None };
        let mut out: Vec<Option<BacktestResult>> = vec![None; tasks.len()];
        for group in groups {
            let group_tasks: Vec<Task> = group.iter().map(|&i| tasks[i]).collect();
            let cache = if opts.indicator_cache {
                Some(match &persistent {
                    Some(pool) => pool
                        .install(|| IndicatorCache::build_with(&self.bundle, &group_tasks, opts.prefix_sums)),
                    None => build_pool(self.workers)?
                        .install(|| IndicatorCache::build_with(&self.bundle, &group_tasks, opts.prefix_sums)),
                })
            } else {
                None
            };
            let results = match &persistent {
                Some(pool) => run_batch(pool, &group_tasks, cache.as_ref())?,
                None => {
                    let mut v = Vec::with_capacity(group_tasks.len());
                    for batch in group_tasks.chunks(BATCH_PER_WORKER * self.workers) {
                        let pool = build_pool(self.workers)?;
                        v.extend(run_batch(&pool, batch, cache.as_ref())?);
                    }
                    v
                }
            };
            for (i, r) in group.into_iter().zip(results) {
                out[i] = Some(r);
            }
        }
        Ok(out.into_iter().map(|r| r.expect("every task ran")).collect())
    }

    fn run_one(
        &self,
        t: &Task,
        opts: Optimizations,
        cache: Option<&IndicatorCache>,
        record: bool,
    ) -> Result<BacktestResult, WorkloadError> {
        let _span = tracing::info_span!("bench_workloads::runner::Engine::run_one").entered();
        let owned;
        let bundle: &Bundle = if opts.shared_bundle {
            &self.bundle
        } else {
            owned = Bundle::read_binary(&self.bundle_path)?;
            &owned
        };
        let series = &bundle.assets[t.asset];
        let from = t.decide_from();
        if t.rules == Rules::BacktestingPy {
            // backtesting.py's float rule has one way to compute; the optimizations (which
            // all decide crosses exactly) do not apply.
            let signals = signals_backtesting_py(&series.close, t.params, t.sma_from(), from, t.hi);
            let result = simulate(&series.open, &series.close, t.lo, t.hi, &signals, record, t.rules);
            self.count(t);
            return Ok(result);
        }
        // The prefix-sum kernel, when switched on and exact for this series and window.
        let prefix_signals = if opts.prefix_sums {
            match cache.and_then(|c| c.prefix(t.asset)) {
                Some(p) => Some(signals_prefix(p, t.params, from, t.hi)),
                None => prefix_ticks(&series.close)
                    .filter(|p| prefix_exact(p, t.params.slow))
                    .map(|p| signals_prefix(&p, t.params, from, t.hi)),
            }
        } else {
            None
        };
        let signals = match prefix_signals {
            Some(s) => s,
            None => match cache
                .and_then(|c| Some((c.get(t.asset, t.params.fast)?, c.get(t.asset, t.params.slow)?)))
            {
                Some((f, s)) => {
                    if opts.vectorized_signals {
                        signals_vectorized(f, s, from, t.hi)
                    } else {
                        signals_from_smas(f, s, from, t.hi)
                    }
                }
                None if opts.vectorized_signals || opts.indicator_cache => {
                    let f = sma_exact(&series.close, t.params.fast as usize);
                    let s = sma_exact(&series.close, t.params.slow as usize);
                    if opts.vectorized_signals {
                        signals_vectorized(&f, &s, from, t.hi)
                    } else {
                        signals_from_smas(&f, &s, from, t.hi)
                    }
                }
                None => signals_from_history(&DataPortal::new(bundle), t.asset, from, t.hi, t.params)?,
            },
        };
        let result = simulate(&series.open, &series.close, t.lo, t.hi, &signals, record, t.rules);
        self.count(t);
        Ok(result)
    }

    fn count(&self, t: &Task) {
        self.completed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.bars.fetch_add(t.bars() as u64, std::sync::atomic::Ordering::Relaxed);
    }
}
