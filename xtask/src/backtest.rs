//! `cargo xtask backtest`: one backtest or one grid search from the command line.

use std::time::Instant;

use bench_core::{Decimal, round_display, to_decimal};
use bench_workloads::{GridSpec, Objective, ParamRange, Params, param_grid, run_grid};
use serde::Serialize;

use crate::cli::BacktestArgs;
use crate::{cli, data, exit, progress};

/// Runs the subcommand.
pub fn run(args: BacktestArgs) -> anyhow::Result<i32> {
    if args.grid { grid(&args) } else { single(&args) }
}

#[derive(Serialize)]
struct SingleDoc {
    schema_version: u32,
    symbol: String,
    fast: u32,
    slow: u32,
    bars: usize,
    data: String,
    trades: u32,
    final_equity: f64,
    total_return_percent: f64,
    max_drawdown_percent: f64,
    sharpe_ratio: f64,
    exposure_percent: f64,
}

fn single(args: &BacktestArgs) -> anyhow::Result<i32> {
    let (symbol, fast, slow) = match (&args.symbol, args.fast, args.slow) {
        (Some(s), Some(f), Some(l)) => (s.clone(), f, l),
        _ => return Err(exit::input("give --symbol, --fast and --slow (or --grid)")),
    };
    let params = Params::new(fast, slow)?;
    let bundle = data::load_bundle(args.data.as_deref())?;
    let asset = data::select_assets(&bundle, Some(&symbol))?[0];
    let r = bench_workloads::backtest(&bundle, asset, params)?;
    let m = r.metrics;
    let doc = SingleDoc {
        schema_version: 1,
        symbol,
        fast,
        slow,
        bars: bundle.assets[asset].len(),
        data: bundle.provenance.label(),
        trades: m.trades,
        final_equity: m.final_equity,
        total_return_percent: m.total_return_percent,
        max_drawdown_percent: m.max_drawdown_percent,
        sharpe_ratio: m.sharpe_ratio,
        exposure_percent: m.exposure_percent,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!("SMA crossover {} {}/{} on {} bars ({} data)", doc.symbol, fast, slow, doc.bars, doc.data);
        println!("  trades           {}", m.trades);
        println!("  final equity     {:.3}", m.final_equity);
        println!("  total return     {:.2}%", m.total_return_percent);
        println!("  max drawdown     {:.2}%", m.max_drawdown_percent);
        println!("  Sharpe ratio     {:.4}", m.sharpe_ratio);
        println!("  exposure         {:.2}%", m.exposure_percent);
    }
    Ok(exit::SUCCESS)
}

#[derive(Serialize)]
struct Best {
    symbol: String,
    fast: u32,
    slow: u32,
    trades: u32,
    final_equity: f64,
    sharpe_ratio: f64,
}

#[derive(Serialize)]
struct GridDoc {
    schema_version: u32,
    data: String,
    step: String,
    workers: usize,
    assets: usize,
    combinations: usize,
    backtests: usize,
    bars: u64,
    bar_evaluations: u64,
    /// Timed sweeps (`--repeat`).
    repeats: usize,
    /// Median wall time of one sweep.
    seconds: Decimal,
    /// Fastest sweep.
    seconds_min: Decimal,
    /// `bar_evaluations / seconds`.
    bar_evals_per_s: Decimal,
    best: Option<Best>,
}

fn grid(args: &BacktestArgs) -> anyhow::Result<i32> {
    let fast: ParamRange = args.fast_range.parse().map_err(|e| exit::input(format!("--fast-range: {e}")))?;
    let slow: ParamRange = args.slow_range.parse().map_err(|e| exit::input(format!("--slow-range: {e}")))?;
    let params = param_grid(&fast, &slow);
    if params.is_empty() {
        return Err(exit::input(format!(
            "--fast-range {} and --slow-range {} give no pair with fast < slow",
            args.fast_range, args.slow_range
        )));
    }
    let workers = cli::resolve_workers(args.workers)?;
    if args.repeat == 0 {
        return Err(exit::input("--repeat must be at least 1"));
    }
    let spin = progress::spinner("preparing data", args.json);
    let real = data::load_bundle(args.data.as_deref())?;
    let bundle = if args.derived { data::derived(&real, args.assets, args.bars, args.seed)? } else { real };
    let assets = if args.derived {
        (0..bundle.assets.len()).collect()
    } else {
        data::select_assets(&bundle, args.symbols.as_deref())?
    };
    let label = bundle.provenance.label();
    let bars: u64 = assets.iter().map(|&a| bundle.assets[a].len() as u64).sum();
    let handle = data::engine_for(bundle, workers)?;
    let spec = GridSpec { assets: assets.clone(), params: params.clone(), objective: Objective::FinalEquity };
    spin.set_message(format!("grid search, {} backtests, step {}", assets.len() * params.len(), args.step));
    let mut times = Vec::with_capacity(args.repeat);
    let mut result = None;
    for _ in 0..args.repeat {
        let t = Instant::now();
        let r = run_grid(&handle.engine, &spec, args.step.optimizations())?;
        times.push(t.elapsed().as_secs_f64());
        result = Some(r);
    }
    spin.finish_and_clear();
    let result = result.expect("at least one repeat");
    times.sort_by(f64::total_cmp);
    let n = times.len();
    let seconds = if n % 2 == 1 { times[n / 2] } else { (times[n / 2 - 1] + times[n / 2]) / 2.0 };
    let seconds_min = times[0];
    let best = result.best_combo().map(|c| Best {
        symbol: c.symbol.clone(),
        fast: c.params.fast,
        slow: c.params.slow,
        trades: c.metrics.trades,
        final_equity: c.metrics.final_equity,
        sharpe_ratio: c.metrics.sharpe_ratio,
    });
    let doc = GridDoc {
        schema_version: 1,
        data: label,
        step: args.step.name().into(),
        workers,
        assets: assets.len(),
        combinations: params.len(),
        backtests: result.combos.len(),
        bars,
        bar_evaluations: result.bar_evaluations,
        repeats: args.repeat,
        seconds: to_decimal(seconds)?,
        seconds_min: to_decimal(seconds_min)?,
        bar_evals_per_s: to_decimal((result.bar_evaluations as f64 / seconds).round())?,
        best,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!("Grid search on {} data, step {}, {} workers", doc.data, doc.step, workers);
        println!(
            "  assets {}, combinations {} per asset, backtests {}, bars {}",
            doc.assets, doc.combinations, doc.backtests, doc.bars
        );
        println!("  bar evaluations  {}", doc.bar_evaluations);
        if args.repeat > 1 {
            println!(
                "  seconds          {} (median of {}; fastest {})",
                round_display(doc.seconds, 6),
                args.repeat,
                round_display(doc.seconds_min, 6)
            );
        } else {
            println!("  seconds          {}", round_display(doc.seconds, 6));
        }
        println!("  bar evals / s    {:.3e}", result.bar_evaluations as f64 / seconds);
        if let Some(b) = &doc.best {
            println!(
                "  best (final equity): {} fast {} slow {} → {:.2} ({} trades, Sharpe {:.3})",
                b.symbol, b.fast, b.slow, b.final_equity, b.trades, b.sharpe_ratio
            );
        }
    }
    Ok(exit::SUCCESS)
}
