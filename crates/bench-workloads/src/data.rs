//! Loading the data a workload runs on — the bundled CSV, a user's CSV (plain or gzip),
//! Parquet file or binary bundle — and an engine over data that exists only in memory.

use std::path::Path;
use std::sync::Arc;

use crate::binary::BUNDLE_MAGIC;
use crate::bundle::{Bundle, bundled_csv_path};
use crate::csv::load_csv;
use crate::error::{DataError, WorkloadError};
use crate::runner::Engine;

/// Reads market data from `path`, its format recognised by its first bytes: a binary bundle,
/// a Parquet file, or else the OHLCV CSV (plain or gzip). `None` reads the bundled real data.
///
/// ```
/// let b = bench_workloads::load_data(None).unwrap();
/// assert_eq!(b.symbols(), ["AAPL", "FB", "GOOG", "IBM", "MSFT"]);
/// ```
pub fn load_data(path: Option<&Path>) -> Result<Bundle, DataError> {
    let path = path.map_or_else(bundled_csv_path, Path::to_path_buf);
    let mut head = [0u8; 8];
    let n = std::fs::File::open(&path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .map_err(|e| DataError::io(&path, &e))?;
    let head = &head[..n];
    if head == BUNDLE_MAGIC.as_slice() {
        Bundle::read_binary(&path)
    } else if head.starts_with(crate::parquet::MAGIC) {
        crate::parquet::load_parquet(&path)
    } else {
        load_csv(&path)
    }
}

impl Bundle {
    /// Asset indices of comma-separated symbols (blanks ignored), or every asset when `None`.
    pub fn select_assets(&self, symbols: Option<&str>) -> Result<Vec<usize>, WorkloadError> {
        match symbols {
            None => Ok((0..self.assets.len()).collect()),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    self.asset_index(s).ok_or_else(|| WorkloadError::UnknownSymbol {
                        symbol: s.to_owned(),
                        available: self.symbols().join(", "),
                    })
                })
                .collect(),
        }
    }
}

/// An engine over a bundle held in memory, whose binary file (re-read per backtest by the
/// baseline step) lives in a temporary directory as long as this value.
#[derive(Debug)]
pub struct TempEngine {
    /// The engine.
    pub engine: Engine,
    _dir: tempfile::TempDir,
}

impl TempEngine {
    /// Writes `bundle` once as a binary file in a new temporary directory and opens an engine
    /// with `workers` threads on it.
    pub fn new(bundle: Bundle, workers: usize) -> Result<Self, WorkloadError> {
        let dir = tempfile::Builder::new().prefix("bench-bundle-").tempdir().map_err(|e| {
            DataError::file(&std::env::temp_dir(), format!("cannot create a temporary directory: {e}"))
        })?;
        let path = dir.path().join("bundle.bin");
        bundle.write_binary(&path)?;
        let engine = Engine::new(path, Arc::new(bundle), workers)?;
        Ok(Self { engine, _dir: dir })
    }

    /// The temporary directory holding the bundle file (room for a run's other scratch files).
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }
}
