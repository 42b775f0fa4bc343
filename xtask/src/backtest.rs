//! `cargo xtask backtest`: one backtest, a grid search, a walk-forward or a parameter search
//! from the command line.

use bench_report::terminal as progress;
use bench_workloads::{
    BacktestSummary, Bundle, DefaultRanges, ETA, GridSpec, MIN_FIDELITY, Objective, ParamRange, Params,
    SearchSpec, Sweep, SweepBackend, SweepEvent, WalkForwardSpec, WindowMode, default_search_budget, derive,
    load_data,
};

use crate::cli::BacktestArgs;
use crate::exit::{self, Failure, Outcome};
use bench_workloads::BacktestStep;

/// Runs the subcommand.
pub fn run(args: BacktestArgs) -> Outcome {
    // --export-csv and --derived require --grid or --search (clap's group "table").
    if args.backend.backend == bench_workloads::BackendKind::Ray && !(args.grid || args.walk_forward) {
        return Err(Failure::input(
            "--backend ray runs a grid search (--grid) or a walk-forward (--walk-forward); a single backtest or a search runs here",
        ));
    }
    if args.search.is_some() && !args.walk_forward {
        search(&args)
    } else if args.grid {
        grid(&args)
    } else if args.walk_forward {
        walk_forward(&args)
    } else {
        single(&args)
    }
}

fn single(args: &BacktestArgs) -> Outcome {
    let (Some(symbol), Some(fast), Some(slow)) = (&args.symbol, args.fast, args.slow) else {
        return Err(Failure::input(
            "give --symbol, --fast and --slow (or --grid, --search or --walk-forward)",
        ));
    };
    let params = Params::new(fast, slow)?;
    let bundle = load_data(args.data.as_deref())?;
    let asset = bundle.select_assets(Some(symbol))?[0];
    let result = bench_workloads::backtest_with(&bundle, asset, params, args.rules)?;
    let summary = BacktestSummary::new(&bundle, asset, params, args.rules, &result);
    exit::print(&summary, || summary.to_text())?;
    Ok(exit::SUCCESS)
}

/// The (fast, slow) ranges of the flags, with this mode's defaults.
fn ranges(
    args: &BacktestArgs,
    defaults: (ParamRange, ParamRange),
) -> Result<(ParamRange, ParamRange), Failure> {
    Ok(DefaultRanges::typed(defaults, args.fast_range.as_deref(), args.slow_range.as_deref())?)
}

/// The (fast, slow) grid of the flags, with this mode's defaults.
fn params(args: &BacktestArgs, defaults: (ParamRange, ParamRange)) -> Result<Vec<Params>, Failure> {
    Ok(DefaultRanges::grid(defaults, args.fast_range.as_deref(), args.slow_range.as_deref())?)
}

/// The sweep settings of the flags: step, workers, backend, `--yes`.
fn sweep(args: &BacktestArgs) -> Result<Sweep, Failure> {
    let backend = SweepBackend::of(args.backend.ray(args.workers)?, args.backend.ray_chunk);
    let workers = bench_workloads::resolve_workers(args.workers)?;
    Ok(Sweep {
        step: BacktestStep::implementation(args.step),
        workers,
        backend,
        confirmed: crate::flags().yes,
    })
}

/// A sweep's events on the terminal.
fn show(activity: &progress::Activity) -> impl Fn(SweepEvent<'_>) + Sync + '_ {
    move |event| match event {
        SweepEvent::Stage(what) => activity.stage(what),
        SweepEvent::Plan { what, .. } | SweepEvent::Warning(what) => activity.plan(what),
        SweepEvent::Backtests { done, total } => activity.count(done, total),
    }
}

fn grid(args: &BacktestArgs) -> Outcome {
    let params = params(args, DefaultRanges::GRID)?;
    if let Some(BacktestStep::Bars(_)) = args.step {
        return Err(Failure::input(
            "--step: a number of bars is a walk-forward step; for a grid give a ladder step name",
        ));
    }
    if args.repeat == 0 {
        return Err(Failure::input("--repeat must be at least 1"));
    }
    let sweep = sweep(args)?;
    let activity = progress::Activity::new("preparing data", "backtests", crate::flags().json);
    let (bundle, assets) = grid_data(args)?;
    let objective = args.objective.unwrap_or_default();
    let spec = GridSpec { assets, params, objective, rules: args.rules };
    let (result, summary) = sweep.grid(bundle, &spec, args.repeat, &show(&activity))?;
    activity.clear();
    crate::paths::record(&[], &[summary.bmf().to_string()])?;
    if let Some(path) = &args.export_csv {
        crate::paths::write(path, &result.to_csv())?;
    }
    if let Some(path) = &args.heatmap {
        let title = format!("grid search on {} data", summary.data);
        let scale = format!("{} (mean over assets)", objective.name());
        let cells = result.heat_cells(objective);
        let svg = bench_report::heatmap_svg(&cells, "fast window", "slow window", &scale, &title)?;
        crate::paths::write(path, &svg)?;
    }
    let written = crate::paths::wrote([&args.export_csv, &args.heatmap]);
    exit::print(&summary, || summary.to_text() + &written)?;
    Ok(exit::SUCCESS)
}

/// The bars of a grid or search (real, or derived with --derived) and the assets selected
/// (--symbols; every derived asset).
fn grid_data(args: &BacktestArgs) -> Result<(Bundle, Vec<usize>), Failure> {
    let real = load_data(args.data.as_deref())?;
    let bundle = if args.derived {
        derive(&real, args.assets, args.bars, args.seed)
            .map_err(|e| Failure::from(e).context(format!("--assets {} --bars {}", args.assets, args.bars)))?
    } else {
        real
    };
    let assets = if args.derived {
        bundle.select_assets(None)?
    } else {
        bundle.select_assets(args.symbols.as_deref())?
    };
    Ok((bundle, assets))
}

fn search(args: &BacktestArgs) -> Outcome {
    let method = args.search.clone().expect("--search given");
    if args.budget == Some(0) {
        return Err(Failure::input(
            "--budget 0: expected a positive number of bar evaluations (one full-history trial costs the selected assets' bars)",
        ));
    }
    let (fast, slow) = ranges(args, DefaultRanges::SEARCH)?;
    let sweep = sweep(args)?;
    let activity = progress::Activity::new("preparing data", "bar evaluations", crate::flags().json);
    let ((bundle, assets), step) = (grid_data(args)?, sweep.step);
    let full: u64 = assets.iter().map(|&a| bundle.assets[a].len() as u64).sum();
    let pairs = bench_workloads::grid_size(&fast, &slow)?;
    let max_seconds = args.budget_time.map(|t| t.as_secs_f64());
    let budget = args.budget.unwrap_or(max_seconds.map_or(default_search_budget(pairs, full), |_| u64::MAX));
    let plan =
        bench_search::Plan { min_fidelity: MIN_FIDELITY, eta: ETA, cost_limit: budget, seed: args.seed };
    let (rules, objective) = (args.rules, args.objective.unwrap_or_default());
    let spec = SearchSpec { assets, fast, slow, method, plan, rules, objective, max_seconds };
    let data = bundle.provenance.label();
    let out = sweep.search(bundle, &spec, &show(&activity))?;
    activity.clear();
    if let Some(path) = &args.export_csv {
        crate::paths::write(path, &out.trials_csv())?;
    }
    let written = crate::paths::wrote([&args.export_csv]);
    exit::print(&out.to_json(&data, step.name(), args.seed), || out.to_text(&data) + &written)?;
    Ok(exit::SUCCESS)
}

fn walk_forward(args: &BacktestArgs) -> Outcome {
    let params = params(args, DefaultRanges::WALK_FORWARD)?;
    let step_bars = if let Some(BacktestStep::Bars(n)) = args.step { n } else { args.out_of_sample };
    if args.in_sample == 0 || args.out_of_sample == 0 {
        return Err(Failure::input("--in-sample and --out-of-sample must be at least 1 bar"));
    }
    let sweep = sweep(args)?;
    let bundle: Bundle = load_data(args.data.as_deref())?;
    let spec = WalkForwardSpec {
        assets: bundle.select_assets(args.symbols.as_deref())?,
        params,
        in_sample: args.in_sample,
        out_of_sample: args.out_of_sample,
        step: step_bars,
        mode: if args.anchored { WindowMode::Anchored } else { WindowMode::Rolling },
        objective: args.objective.unwrap_or(Objective::SharpeRatio),
        rules: args.rules,
        search: bench_workloads::WindowSearch::new(args.search.as_ref(), args.budget, args.seed),
    };
    let activity = progress::Activity::new("preparing data", "backtests", crate::flags().json);
    let (result, summary) = sweep.walk_forward(bundle, &spec, &show(&activity))?;
    activity.clear();
    if let Some(path) = &args.equity_svg {
        let curves: Vec<(String, Vec<f64>)> =
            result.stitched.iter().map(|c| (c.symbol.clone(), c.equity.clone())).collect();
        let svg = bench_report::equity_svg(
            &curves,
            &format!("stitched out-of-sample equity ({} data)", summary.data),
        )?;
        crate::paths::write(path, &svg)?;
    }
    let written = crate::paths::wrote([&args.equity_svg]);
    exit::print(&summary, || summary.to_text() + &written)?;
    Ok(exit::SUCCESS)
}
