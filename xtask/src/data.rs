//! Loading the data a command works on: the bundled CSV, a user's CSV or binary bundle, or
//! derived data; and a binary bundle file for the engine (written once per invocation).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use bench_workloads::{Bundle, Engine, bundled_csv_path, derive, load_csv};

/// Reads a CSV (plain or gzip) or a binary bundle file, detected from its first bytes.
pub fn load_bundle(path: Option<&Path>) -> anyhow::Result<Bundle> {
    let path = path.map_or_else(bundled_csv_path, Path::to_path_buf);
    let head = std::fs::File::open(&path).and_then(|mut f| {
        let mut b = [0u8; 8];
        let n = std::io::Read::read(&mut f, &mut b)?;
        Ok(b[..n].to_vec())
    });
    let bundle = if head.as_deref().is_ok_and(|h| h == b"BENCHBND") {
        Bundle::read_binary(&path)?
    } else {
        load_csv(&path)?
    };
    Ok(bundle)
}

/// Derived data from the real bundle.
pub fn derived(real: &Bundle, assets: usize, bars: usize, seed: u64) -> anyhow::Result<Bundle> {
    Ok(derive(real, assets, bars, seed)?)
}

/// An engine over `bundle`, whose binary file lives in a temporary directory that lives as long
/// as the returned guard.
pub struct EngineHandle {
    /// The engine.
    pub engine: Engine,
    _dir: tempfile::TempDir,
}

/// Writes `bundle` once as a binary file and opens an engine on it.
pub fn engine_for(bundle: Bundle, workers: usize) -> anyhow::Result<EngineHandle> {
    let dir = tempfile::Builder::new()
        .prefix("bench-bundle-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let path = dir.path().join("bundle.bin");
    bundle.write_binary(&path)?;
    let engine = Engine::new(path, Arc::new(bundle), workers)?;
    Ok(EngineHandle { engine, _dir: dir })
}

/// Asset indices of comma-separated symbols, or every asset when `None`.
pub fn select_assets(bundle: &Bundle, symbols: Option<&str>) -> anyhow::Result<Vec<usize>> {
    match symbols {
        None => Ok((0..bundle.assets.len()).collect()),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                bundle.asset_index(s).ok_or_else(|| {
                    crate::exit::input(format!(
                        "unknown symbol {s:?}; the data holds: {}",
                        bundle.symbols().join(", ")
                    ))
                })
            })
            .collect(),
    }
}
