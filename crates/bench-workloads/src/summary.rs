//! What a backtest or a grid search reports: one document for `--json` and one text for a
//! person, built from the results.

use std::fmt::Write;

use bench_core::{Decimal, to_decimal, units};
use serde::Serialize;

use crate::{BacktestResult, Bundle, GridResult, LadderStep, Metrics, Params};

/// One backtest's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestSummary {
    /// Format version.
    pub schema_version: u32,
    /// The asset.
    pub symbol: String,
    /// Fast window.
    pub fast: u32,
    /// Slow window.
    pub slow: u32,
    /// Bars of the asset.
    pub bars: usize,
    /// `real` or `derived (seed N)`.
    pub data: String,
    /// The backtest's metrics.
    #[serde(flatten)]
    pub metrics: Metrics,
}

impl BacktestSummary {
    /// The summary of `result`, a backtest of `params` on asset `asset` of `bundle`.
    pub fn new(bundle: &Bundle, asset: usize, params: Params, result: &BacktestResult) -> Self {
        Self {
            schema_version: 1,
            symbol: bundle.assets[asset].symbol.clone(),
            fast: params.fast,
            slow: params.slow,
            bars: bundle.assets[asset].len(),
            data: bundle.provenance.label(),
            metrics: result.metrics,
        }
    }

    /// For a person.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "SMA crossover {} {}/{} on {} bars ({} data)",
            self.symbol,
            self.fast,
            self.slow,
            units::count(self.bars as u64),
            self.data
        );
        let m = &self.metrics;
        let _ = writeln!(s, "  trades           {}", m.trades);
        let _ = writeln!(s, "  final equity     {:.3}", m.final_equity);
        let _ = writeln!(s, "  total return     {:.2}%", m.total_return_percent);
        let _ = writeln!(s, "  max drawdown     {:.2}%", m.max_drawdown_percent);
        let _ = writeln!(s, "  Sharpe ratio     {:.4}", m.sharpe_ratio);
        let _ = writeln!(s, "  exposure         {:.2}%", m.exposure_percent);
        s
    }
}

/// The best combination of a grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BestCombination {
    /// The asset.
    pub symbol: String,
    /// Fast window.
    pub fast: u32,
    /// Slow window.
    pub slow: u32,
    /// Completed trades.
    pub trades: u32,
    /// Equity at the end (the objective).
    pub final_equity: f64,
    /// Its Sharpe ratio.
    pub sharpe_ratio: f64,
}

/// How long a grid search took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepTiming {
    /// Timed sweeps.
    pub repeats: usize,
    /// Median wall time of one sweep, seconds.
    pub median_s: f64,
    /// Fastest sweep, seconds.
    pub min_s: f64,
}

/// A grid search's result and speed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridSummary {
    /// Format version.
    pub schema_version: u32,
    /// `real` or `derived (seed N)`.
    pub data: String,
    /// Ladder step that ran.
    pub step: String,
    /// Worker threads.
    pub workers: usize,
    /// Assets searched.
    pub assets: usize,
    /// Parameter combinations per asset.
    pub combinations: usize,
    /// Backtests per sweep.
    pub backtests: usize,
    /// Bars of the assets searched.
    pub bars: u64,
    /// Bars evaluated per sweep.
    pub bar_evaluations: u64,
    /// Timed sweeps.
    pub repeats: usize,
    /// Median wall time of one sweep, seconds.
    pub seconds: Decimal,
    /// Fastest sweep, seconds.
    pub seconds_min: Decimal,
    /// `bar_evaluations / seconds`.
    pub bar_evals_per_s: Decimal,
    /// The best combination by final equity.
    pub best: Option<BestCombination>,
}

impl GridSummary {
    /// The summary of `result`, a grid over `assets` of `bundle` with `combinations` per asset.
    pub fn new(
        bundle: &Bundle,
        assets: &[usize],
        combinations: usize,
        step: LadderStep,
        workers: usize,
        result: &GridResult,
        timing: SweepTiming,
    ) -> Self {
        let d = |x: f64| to_decimal(x).unwrap_or(Decimal::ZERO);
        Self {
            schema_version: 1,
            data: bundle.provenance.label(),
            step: step.name().into(),
            workers,
            assets: assets.len(),
            combinations,
            backtests: result.combos.len(),
            bars: assets.iter().map(|&a| bundle.assets[a].len() as u64).sum(),
            bar_evaluations: result.bar_evaluations,
            repeats: timing.repeats,
            seconds: d(timing.median_s),
            seconds_min: d(timing.min_s),
            bar_evals_per_s: d((result.bar_evaluations as f64 / timing.median_s.max(1e-12)).round()),
            best: result.best_combo().map(|c| BestCombination {
                symbol: c.symbol.clone(),
                fast: c.params.fast,
                slow: c.params.slow,
                trades: c.metrics.trades,
                final_equity: c.metrics.final_equity,
                sharpe_ratio: c.metrics.sharpe_ratio,
            }),
        }
    }

    /// For a person.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ =
            writeln!(s, "Grid search on {} data, step {}, {} workers", self.data, self.step, self.workers);
        let _ = writeln!(
            s,
            "  assets {}, combinations {} per asset, backtests {}, bars {}",
            self.assets,
            self.combinations,
            units::count(self.backtests as u64),
            units::count(self.bars)
        );
        let _ = writeln!(s, "  bar evaluations  {}", units::count(self.bar_evaluations));
        let secs = units::duration_decimal(self.seconds);
        if self.repeats > 1 {
            let _ = writeln!(
                s,
                "  time per sweep   {secs} (median of {}; fastest {})",
                self.repeats,
                units::duration_decimal(self.seconds_min)
            );
        } else {
            let _ = writeln!(s, "  time per sweep   {secs}");
        }
        let _ = writeln!(
            s,
            "  throughput       {} bar evaluations/s",
            units::rate(bench_core::to_f64(self.bar_evals_per_s))
        );
        if let Some(b) = &self.best {
            let _ = writeln!(
                s,
                "  best (final equity): {} fast {} slow {} → {:.2} ({} trades, Sharpe {:.3})",
                b.symbol, b.fast, b.slow, b.final_equity, b.trades, b.sharpe_ratio
            );
        }
        s
    }
}
