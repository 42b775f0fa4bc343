//! `cargo xtask backtest`: one backtest or one grid search from the command line.

use bench_workloads::{
    BacktestSummary, GridSpec, GridSummary, Objective, ParamRange, Params, SweepTiming, TempEngine, derive,
    load_data, param_grid, run_grid,
};

use crate::cli::BacktestArgs;
use crate::exit::{self, Failure, Outcome};
use crate::{cli, progress};

/// Runs the subcommand.
pub fn run(args: BacktestArgs) -> Outcome {
    if args.grid { grid(&args) } else { single(&args) }
}

fn single(args: &BacktestArgs) -> Outcome {
    let (Some(symbol), Some(fast), Some(slow)) = (&args.symbol, args.fast, args.slow) else {
        return Err(Failure::input("give --symbol, --fast and --slow (or --grid)"));
    };
    let params = Params::new(fast, slow)?;
    let bundle = load_data(args.data.as_deref())?;
    let asset = bundle.select_assets(Some(symbol))?[0];
    let result = bench_workloads::backtest(&bundle, asset, params)?;
    let summary = BacktestSummary::new(&bundle, asset, params, &result);
    if args.json {
        println!("{}", exit::json(&summary)?);
    } else {
        print!("{}", summary.to_text());
    }
    Ok(exit::SUCCESS)
}

fn grid(args: &BacktestArgs) -> Outcome {
    let range = |flag: &str, text: &str| -> Result<ParamRange, Failure> {
        text.parse().map_err(|e| Failure::input(format!("{flag}: {e}")))
    };
    let (fast, slow) = (range("--fast-range", &args.fast_range)?, range("--slow-range", &args.slow_range)?);
    let params = param_grid(&fast, &slow);
    if params.is_empty() {
        return Err(Failure::input(format!(
            "--fast-range {} and --slow-range {} give no pair with fast < slow",
            args.fast_range, args.slow_range
        )));
    }
    let workers = cli::resolve_workers(args.workers)?;
    if args.repeat == 0 {
        return Err(Failure::input("--repeat must be at least 1"));
    }
    let spin = progress::spinner("preparing data", args.json);
    let real = load_data(args.data.as_deref())?;
    let bundle = if args.derived { derive(&real, args.assets, args.bars, args.seed)? } else { real };
    let assets = if args.derived {
        bundle.select_assets(None)?
    } else {
        bundle.select_assets(args.symbols.as_deref())?
    };
    let handle = TempEngine::new(bundle, workers)?;
    let spec = GridSpec { assets: assets.clone(), params, objective: Objective::FinalEquity };
    spin.set_message(format!(
        "grid search, {} backtests, step {}",
        assets.len() * spec.params.len(),
        args.step
    ));
    let timing = bench_measure::time_repeated(args.repeat, || {
        run_grid(&handle.engine, &spec, args.step.optimizations())
    });
    spin.finish_and_clear();
    let result = timing.output?;
    let sweep = SweepTiming { repeats: args.repeat, median_s: timing.median_s, min_s: timing.min_s };
    let summary = GridSummary::new(
        handle.engine.bundle(),
        &assets,
        spec.params.len(),
        args.step,
        workers,
        &result,
        sweep,
    );
    if args.json {
        println!("{}", exit::json(&summary)?);
    } else {
        print!("{}", summary.to_text());
    }
    Ok(exit::SUCCESS)
}
