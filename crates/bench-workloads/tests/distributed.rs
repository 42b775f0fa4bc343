//! The distributed pieces of a grid search and a walk-forward: run in any order, they merge to
//! exactly the in-process results; outputs that are not the job's are refused.

use bench_workloads::*;

fn engine() -> (tempfile::TempDir, Engine) {
    let bundle = load_csv(&bundled_csv_path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.bin");
    bundle.write_binary(&path).unwrap();
    let engine = Engine::open(&path, 2).unwrap();
    (dir, engine)
}

fn outputs(engine: &Engine, job: &Job) -> Vec<PieceOutput> {
    // Run in reverse order, each piece alone, as another machine would.
    let mut v: Vec<(usize, PieceOutput)> =
        (0..job.pieces()).rev().map(|i| (i, run_piece(engine, job, i).unwrap())).collect();
    v.sort_by_key(|(i, _)| *i);
    v.into_iter().map(|(_, o)| o).collect()
}

fn grid(engine: &Engine, symbols: &str) -> GridSpec {
    GridSpec {
        assets: engine.bundle().select_assets(Some(symbols)).unwrap(),
        params: param_grid(&"5:25:5".parse().unwrap(), &"30:70:10".parse().unwrap()),
        objective: Objective::FinalEquity,
        rules: Rules::Exact,
    }
}

#[test]
fn grid_pieces_merge_to_the_grid_even_with_an_asset_listed_twice() {
    let (_dir, engine) = engine();
    for symbols in ["GOOG,MSFT,AAPL", "GOOG,GOOG"] {
        let spec = grid(&engine, symbols);
        let opts = LadderStep::VectorizedSignals.optimizations();
        let job = Job::grid(&spec, opts, 4);
        assert_eq!(job.pieces(), spec.chunk_count(4), "{symbols}");
        assert_eq!(job.grid_spec().as_ref(), Some(&spec), "{symbols}");
        let merged = merge_grid(engine.bundle(), &job, outputs(&engine, &job)).unwrap();
        assert_eq!(merged, run_grid(&engine, &spec, opts).unwrap(), "{symbols}");
    }
}

#[test]
fn outputs_swapped_between_assets_or_missing_are_refused() {
    let (_dir, engine) = engine();
    let spec = grid(&engine, "GOOG,MSFT");
    let job = Job::grid(&spec, LadderStep::PrefixSums.optimizations(), 100);
    assert_eq!(job.pieces(), 2, "one chunk per asset");
    let mut outs = outputs(&engine, &job);
    outs.swap(0, 1);
    let err = merge_grid(engine.bundle(), &job, outs.clone()).unwrap_err().to_string();
    assert!(err.contains("swapped"), "{err}");
    outs.pop();
    let err = merge_grid(engine.bundle(), &job, outs).unwrap_err().to_string();
    assert!(err.contains("1 of the grid's 2 chunks came back"), "{err}");
}

#[test]
fn walk_forward_windows_merge_to_the_walk_forward() {
    let (_dir, engine) = engine();
    let spec = WalkForwardSpec {
        assets: engine.bundle().select_assets(Some("GOOG,MSFT")).unwrap(),
        params: param_grid(&"5:30:5".parse().unwrap(), &"40:120:20".parse().unwrap()),
        in_sample: 504,
        out_of_sample: 126,
        step: 126,
        mode: WindowMode::Anchored,
        objective: Objective::SharpeRatio,
        rules: bench_workloads::Rules::Exact,
        search: None,
    };
    let opts = LadderStep::PrefixSums.optimizations();
    let job = Job::walk_forward(&spec, engine.bundle(), opts).unwrap();
    assert!(job.pieces() > 10);
    let mut outs = outputs(&engine, &job);
    let merged = merge_walk_forward(engine.bundle(), &job, outs.clone()).unwrap();
    assert_eq!(merged, run_walk_forward(&engine, &spec, opts).unwrap());
    outs.swap(0, 1);
    let err = merge_walk_forward(engine.bundle(), &job, outs).unwrap_err().to_string();
    assert!(err.contains("is not this window's"), "{err}");
}
