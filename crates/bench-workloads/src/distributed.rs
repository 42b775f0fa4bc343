//! The pieces a distributed backend ships: a grid search cut into chunks (one asset, a run of
//! consecutive combinations) and a walk-forward cut into windows, each a pure, deterministic
//! function of the bundle and its own description, and the merges that put the pieces back
//! together into exactly what the in-process run returns.
//!
//! A [`Job`] is what a coordinator (the Ray driver in `python/`) receives: the optimizations
//! to run with and the pieces. The coordinator runs each piece with [`run_piece`] wherever it likes, in any
//! order, as many times as it likes, and returns the outputs by piece index; [`merge_grid`] and
//! [`merge_walk_forward`] check that every piece came back once and merge them.

use serde::{Deserialize, Serialize};

use crate::WorkloadError;
use crate::engine::Params;
use crate::grid::{GridResult, GridSpec, Objective, run_grid};
use crate::ladder::Optimizations;
use crate::runner::Engine;
use crate::walkforward::{
    WalkForwardResult, WalkForwardSpec, WindowOutput, WindowTask, assemble_walk_forward, run_windows,
};

/// The version of the [`Job`] / [`PieceOutput`] JSON. A coordinator's workers must speak the
/// same one (the Ray driver reports its extension's at start-up, and a mismatch is refused
/// before any work is sent).
pub const JOB_FORMAT: u32 = 1;

/// A run of consecutive combinations of a grid on one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridChunk {
    /// Position in the grid's chunk order (asset-major, then combination order).
    pub index: usize,
    /// Asset index into the bundle.
    pub asset: usize,
    /// The combinations, in grid order.
    pub params: Vec<Params>,
}

impl GridSpec {
    /// How many pieces [`GridSpec::chunks`] cuts the grid into.
    pub fn chunk_count(&self, per_chunk: usize) -> usize {
        self.assets.len() * self.params.len().div_ceil(per_chunk.max(1))
    }

    /// The grid cut into chunks of at most `per_chunk` combinations, asset-major; the chunks'
    /// results concatenated in index order are the grid's results in its own order.
    pub fn chunks(&self, per_chunk: usize) -> Vec<GridChunk> {
        let per_chunk = per_chunk.max(1);
        let mut out = Vec::new();
        for &asset in &self.assets {
            for params in self.params.chunks(per_chunk) {
                out.push(GridChunk { index: out.len(), asset, params: params.to_vec() });
            }
        }
        out
    }
}

/// The work a coordinator distributes. Externally tagged in JSON (`{"grid": {…}}`): serde's
/// internally tagged enums buffer numbers, which the workspace's arbitrary-precision JSON
/// numbers do not survive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Job {
    /// A grid search in chunks.
    Grid {
        /// The optimizations every piece runs with (a ladder step's, or any stack of them).
        opts: Optimizations,
        /// What "best" means.
        objective: Objective,
        /// The engine's exact rules or backtesting.py's.
        #[serde(default)]
        rules: crate::Rules,
        /// The chunks.
        chunks: Vec<GridChunk>,
    },
    /// A walk-forward in windows.
    WalkForward {
        /// The optimizations every piece runs with.
        opts: Optimizations,
        /// The run (its params are every window's in-sample grid).
        spec: WalkForwardSpec,
        /// The windows.
        windows: Vec<WindowTask>,
    },
}

impl Job {
    /// A grid search cut into chunks of at most `per_chunk` combinations.
    pub fn grid(spec: &GridSpec, opts: Optimizations, per_chunk: usize) -> Self {
        Self::Grid { opts, objective: spec.objective, rules: spec.rules, chunks: spec.chunks(per_chunk) }
    }

    /// A walk-forward cut into its windows (checked as [`WalkForwardSpec::plan`] checks them).
    pub fn walk_forward(
        spec: &WalkForwardSpec,
        bundle: &crate::Bundle,
        opts: Optimizations,
    ) -> Result<Self, WorkloadError> {
        Ok(Self::WalkForward { opts, spec: spec.clone(), windows: spec.plan(bundle)? })
    }

    /// The job cut into one-piece jobs (each keeps its piece's `index`), in piece order.
    pub fn split(&self) -> Vec<Self> {
        match self {
            Self::Grid { opts, objective, rules, chunks } => chunks
                .iter()
                .map(|c| Self::Grid {
                    opts: *opts,
                    objective: *objective,
                    rules: *rules,
                    chunks: vec![c.clone()],
                })
                .collect(),
            Self::WalkForward { opts, spec, windows } => windows
                .iter()
                .map(|w| Self::WalkForward { opts: *opts, spec: spec.clone(), windows: vec![*w] })
                .collect(),
        }
    }

    /// The grid search a grid job was cut from (assets in chunk order, the first asset's
    /// combinations), or `None` for a walk-forward or a job without chunks.
    pub fn grid_spec(&self) -> Option<GridSpec> {
        let Self::Grid { objective, rules, chunks, .. } = self else { return None };
        // Every asset's run of chunks starts again at the grid's first combination (an asset
        // listed twice gives two runs).
        let start = *chunks.first()?.params.first()?;
        let mut assets: Vec<usize> = Vec::new();
        let mut params = Vec::new();
        for c in chunks {
            if c.params.first() == Some(&start) {
                assets.push(c.asset);
            }
            if assets.len() == 1 {
                params.extend(c.params.iter().copied());
            }
        }
        Some(GridSpec { assets, params, objective: *objective, rules: *rules })
    }

    /// Number of pieces.
    pub fn pieces(&self) -> usize {
        match self {
            Self::Grid { chunks, .. } => chunks.len(),
            Self::WalkForward { windows, .. } => windows.len(),
        }
    }
}

/// What one piece produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PieceOutput {
    /// A grid chunk's combinations, in chunk order (`best` is the chunk's own best).
    Grid(GridResult),
    /// A walk-forward window.
    WalkForward(WindowOutput),
}

/// Runs piece `index` of `job` on `engine` (whose bundle must be the job's).
///
/// ```
/// use bench_workloads::*;
/// let bundle = load_csv(&bundled_csv_path()).unwrap();
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("bundle.bin");
/// bundle.write_binary(&path).unwrap();
/// let engine = Engine::open(&path, 1).unwrap();
/// let spec = GridSpec {
///     assets: vec![bundle.asset_index("GOOG").unwrap(), bundle.asset_index("MSFT").unwrap()],
///     params: param_grid(&"5:20:5".parse().unwrap(), &"30:60:10".parse().unwrap()),
///     objective: Objective::FinalEquity,
///     rules: Rules::Exact,
/// };
/// let job = Job::grid(&spec, LadderStep::PrefixSums.optimizations(), 5);
/// // Pieces may run anywhere and in any order; the merge puts them back in order.
/// let mut outputs: Vec<(usize, PieceOutput)> =
///     (0..job.pieces()).rev().map(|i| (i, run_piece(&engine, &job, i).unwrap())).collect();
/// outputs.sort_by_key(|(i, _)| *i);
/// let merged = merge_grid(&bundle, &job, outputs.into_iter().map(|(_, o)| o).collect()).unwrap();
/// assert_eq!(merged, run_grid(&engine, &spec, LadderStep::PrefixSums.optimizations()).unwrap());
/// ```
pub fn run_piece(engine: &Engine, job: &Job, index: usize) -> Result<PieceOutput, WorkloadError> {
    let missing =
        || WorkloadError::InvalidParameter(format!("the job has no piece {index} (it has {})", job.pieces()));
    match job {
        Job::Grid { opts, objective, rules, chunks } => {
            let chunk = chunks.get(index).ok_or_else(missing)?;
            let spec = GridSpec {
                assets: vec![chunk.asset],
                params: chunk.params.clone(),
                objective: *objective,
                rules: *rules,
            };
            if chunk.asset >= engine.bundle().assets.len() {
                return Err(WorkloadError::InvalidParameter(format!(
                    "chunk {index}: no asset {} in a bundle of {}",
                    chunk.asset,
                    engine.bundle().assets.len()
                )));
            }
            Ok(PieceOutput::Grid(run_grid(engine, &spec, *opts)?))
        }
        Job::WalkForward { opts, spec, windows } => {
            let w = windows.get(index).ok_or_else(missing)?;
            let mut out = run_windows(engine, spec, std::slice::from_ref(w), *opts)?;
            Ok(PieceOutput::WalkForward(out.pop().expect("one window in, one out")))
        }
    }
}

/// Merges the outputs of every chunk of a grid job (in chunk order) into the grid's result,
/// equal to [`run_grid`] of the whole grid on `bundle`.
pub fn merge_grid(
    bundle: &crate::Bundle,
    job: &Job,
    outputs: Vec<PieceOutput>,
) -> Result<GridResult, WorkloadError> {
    let Job::Grid { objective, chunks, .. } = job else {
        return Err(WorkloadError::InvalidParameter("merge_grid: the job is not a grid search".into()));
    };
    if outputs.len() != chunks.len() {
        return Err(WorkloadError::InvalidParameter(format!(
            "{} of the grid's {} chunks came back",
            outputs.len(),
            chunks.len()
        )));
    }
    let mut combos = Vec::new();
    let mut bar_evaluations = 0;
    for (chunk, out) in chunks.iter().zip(outputs) {
        let PieceOutput::Grid(part) = out else {
            return Err(WorkloadError::InvalidParameter(format!(
                "chunk {}: a walk-forward window came back",
                chunk.index
            )));
        };
        // Every asset's chunks hold the same combinations: the symbol tells them apart.
        let symbol = bundle.assets.get(chunk.asset).map(|a| a.symbol.as_str());
        if let Some(c) = part.combos.iter().find(|c| Some(c.symbol.as_str()) != symbol) {
            return Err(WorkloadError::InvalidParameter(format!(
                "chunk {}: results for {} where asset {} is {}: outputs of different assets were swapped",
                chunk.index,
                c.symbol,
                chunk.asset,
                symbol.unwrap_or("missing from the bundle")
            )));
        }
        let same = part.combos.len() == chunk.params.len()
            && part.combos.iter().zip(&chunk.params).all(|(c, p)| c.params == *p);
        if !same {
            return Err(WorkloadError::InvalidParameter(format!(
                "chunk {}: the results are not its {} combinations",
                chunk.index,
                chunk.params.len()
            )));
        }
        bar_evaluations += part.bar_evaluations;
        combos.extend(part.combos);
    }
    let best = objective.best(combos.iter().map(|c| &c.metrics));
    Ok(GridResult { combos, best, bar_evaluations })
}

/// Merges the outputs of every window of a walk-forward job (in window order) into the run's
/// result, equal to [`run_walk_forward`](crate::run_walk_forward) of the whole run.
pub fn merge_walk_forward(
    bundle: &crate::Bundle,
    job: &Job,
    outputs: Vec<PieceOutput>,
) -> Result<WalkForwardResult, WorkloadError> {
    let Job::WalkForward { windows, .. } = job else {
        return Err(WorkloadError::InvalidParameter(
            "merge_walk_forward: the job is not a walk-forward".into(),
        ));
    };
    if outputs.len() != windows.len() {
        return Err(WorkloadError::InvalidParameter(format!(
            "{} of the walk-forward's {} windows came back",
            outputs.len(),
            windows.len()
        )));
    }
    let mut windows_out = Vec::with_capacity(outputs.len());
    for (w, out) in windows.iter().zip(outputs) {
        match out {
            PieceOutput::WalkForward(o) if o.task == *w => windows_out.push(o),
            _ => {
                return Err(WorkloadError::InvalidParameter(format!(
                    "window {}: the output is not this window's",
                    w.index
                )));
            }
        }
    }
    assemble_walk_forward(bundle, &windows_out)
}
