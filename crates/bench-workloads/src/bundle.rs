//! The columnar [`Bundle`] and its compact binary file.

use std::path::{Path, PathBuf};

/// Prices are fixed-point decimals with at most four decimal places; one tick is 1e-4.
pub const TICKS_PER_UNIT: f64 = 10_000.0;

/// Bytes one bar takes in memory and in a binary bundle: a date (4) and six 8-byte columns.
pub const BAR_BYTES: u64 = 52;

/// A price converted to integer ticks (exact for positive prices with ≤ 4 decimal places:
/// `price × 10⁴` is then within a few ulps of an integer, so adding ½ and truncating rounds it;
/// `f64::round` would be a library call on baseline x86-64).
#[inline]
pub fn to_ticks(price: f64) -> i64 {
    (price * TICKS_PER_UNIT + 0.5) as i64
}

/// One OHLCV field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Opening price.
    Open,
    /// Highest price.
    High,
    /// Lowest price.
    Low,
    /// Closing price.
    Close,
    /// Traded volume.
    Volume,
}

/// Where a bundle's prices come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// Real market data (the vendored CSV).
    Real,
    /// Derived by the seeded block bootstrap of real bars (see [`crate::derive()`]).
    Derived {
        /// Seed of the generator.
        seed: u64,
    },
}

impl Provenance {
    /// `real` or `derived (seed N)`, for reports.
    pub fn label(&self) -> String {
        match self {
            Self::Real => "real".into(),
            Self::Derived { seed } => format!("derived (seed {seed})"),
        }
    }
}

/// The bars of one asset as contiguous columns.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetSeries {
    /// Ticker symbol.
    pub symbol: String,
    /// Dates as days since 1970-01-01, strictly increasing.
    pub dates: Vec<i32>,
    /// Opening prices (> 0).
    pub open: Vec<f64>,
    /// Highest prices (≥ low).
    pub high: Vec<f64>,
    /// Lowest prices (> 0).
    pub low: Vec<f64>,
    /// Closing prices (> 0).
    pub close: Vec<f64>,
    /// Volumes (≥ 0).
    pub volume: Vec<f64>,
    /// Split- and dividend-adjusted closes (> 0); derived series repeat `close`.
    pub adj_close: Vec<f64>,
}

impl AssetSeries {
    /// Number of bars.
    pub fn len(&self) -> usize {
        self.close.len()
    }

    /// True when the series has no bars.
    pub fn is_empty(&self) -> bool {
        self.close.is_empty()
    }

    /// The column of `field`.
    pub fn column(&self, field: Field) -> &[f64] {
        match field {
            Field::Open => &self.open,
            Field::High => &self.high,
            Field::Low => &self.low,
            Field::Close => &self.close,
            Field::Volume => &self.volume,
        }
    }

    /// Largest price of the series in ticks (used to check that exact SMA comparisons fit).
    pub fn max_price_ticks(&self) -> i64 {
        self.high.iter().map(|&p| to_ticks(p)).max().unwrap_or(0)
    }
}

/// A set of assets, each with its own bars.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    /// The assets in file order.
    pub assets: Vec<AssetSeries>,
    /// Real or derived.
    pub provenance: Provenance,
}

impl Bundle {
    /// Total number of bars over all assets (the "bundle rows").
    pub fn rows(&self) -> usize {
        self.assets.iter().map(AssetSeries::len).sum()
    }

    /// Index of the asset with `symbol`.
    pub fn asset_index(&self, symbol: &str) -> Option<usize> {
        self.assets.iter().position(|a| a.symbol == symbol)
    }

    /// Symbols in order.
    pub fn symbols(&self) -> Vec<&str> {
        self.assets.iter().map(|a| a.symbol.as_str()).collect()
    }
}

/// The bundled real data, relative to the workspace root.
pub const BUNDLED_CSV: &str = "data/stocks.csv.gz";

/// Path of the bundled CSV: `$BENCH_DATA` if set, else `data/stocks.csv.gz` under the workspace
/// root (found from this crate's manifest directory at build time).
pub fn bundled_csv_path() -> PathBuf {
    if let Some(p) = std::env::var_os("BENCH_DATA") {
        return PathBuf::from(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap_or(Path::new("."));
    root.join(BUNDLED_CSV)
}
