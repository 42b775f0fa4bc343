//! The columnar [`Bundle`] and its compact binary file.

use std::path::{Path, PathBuf};

use crate::error::DataError;

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

/// The first eight bytes of a binary bundle file.
pub const BUNDLE_MAGIC: &[u8; 8] = b"BENCHBND";
const MAGIC: &[u8; 8] = BUNDLE_MAGIC;
const VERSION: u32 = 2;

/// Checksum of a binary bundle's body (every byte but the last 8, which store it, little-endian):
/// 8 bytes at a time, multiply–xorshift mixing. Not cryptographic; it detects truncation and
/// corruption at memory speed. Public for tools that write or repair bundle files (and for the
/// fuzzer, which reseals mutated files to reach the structural checks behind it).
///
/// ```
/// use bench_workloads::bundle_checksum;
/// let file = bench_workloads::load_csv(&bench_workloads::bundled_csv_path()).unwrap().to_binary();
/// let (body, tail) = file.split_at(file.len() - 8);
/// assert_eq!(bundle_checksum(body).to_le_bytes(), tail);
/// ```
pub fn bundle_checksum(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = 0x243F_6A88_85A3_08D3 ^ bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        h = (h ^ u64::from_le_bytes(w.try_into().expect("8 bytes"))).wrapping_mul(K);
        h ^= h >> 29;
    }
    for &b in words.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(K);
        h ^= h >> 29;
    }
    h
}

impl Bundle {
    /// Serialises the bundle into the binary format: magic `BENCHBND`, version, provenance,
    /// then per asset its symbol and columns as little-endian arrays, and the [`bundle_checksum`] of everything before it.
    pub fn to_binary(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.rows() * BAR_BYTES as usize);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(self.assets.len() as u32).to_le_bytes());
        match self.provenance {
            Provenance::Real => {
                out.push(0);
                out.extend_from_slice(&0u64.to_le_bytes());
            }
            Provenance::Derived { seed } => {
                out.push(1);
                out.extend_from_slice(&seed.to_le_bytes());
            }
        }
        for a in &self.assets {
            out.extend_from_slice(&(a.symbol.len() as u16).to_le_bytes());
            out.extend_from_slice(a.symbol.as_bytes());
            out.extend_from_slice(&(a.len() as u64).to_le_bytes());
            for d in &a.dates {
                out.extend_from_slice(&d.to_le_bytes());
            }
            for col in [&a.open, &a.high, &a.low, &a.close, &a.volume, &a.adj_close] {
                for v in col.iter() {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        let sum = bundle_checksum(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Writes the binary bundle file atomically.
    pub fn write_binary(&self, path: &Path) -> Result<(), DataError> {
        bench_core::write_atomic(path, &self.to_binary())
            .map_err(|e| DataError::file(path, format!("cannot write bundle: {e}")))
    }

    /// Reads and validates a binary bundle file.
    pub fn read_binary(path: &Path) -> Result<Self, DataError> {
        let _span = tracing::info_span!("bench_workloads::bundle::Bundle::read_binary").entered();
        // The file is read whole and parsed into a copy: twice its size, checked first.
        let size = std::fs::metadata(path).map_err(|e| DataError::io(path, &e))?.len();
        bench_core::limits::memory_limit()
            .check_bytes(&format!("a {} bundle file", bench_core::units::bytes(size)), 2 * u128::from(size))
            .map_err(|e| DataError::file(path, e.to_string()))?;
        let bytes = std::fs::read(path).map_err(|e| DataError::io(path, &e))?;
        Self::from_binary(&bytes, path)
    }

    /// Parses a binary bundle; `path` is used in error messages only.
    pub fn from_binary(bytes: &[u8], path: &Path) -> Result<Self, DataError> {
        let mut r = Reader { bytes, pos: 0, path };
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(DataError::file(
                path,
                "not a bundle file: expected the magic bytes BENCHBND at offset 0".into(),
            ));
        }
        if bytes.len() < 8 + 4 + 4 + 1 + 8 + 8 {
            return Err(DataError::file(path, format!("truncated bundle file: {} bytes", bytes.len())));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(DataError::file(
                path,
                format!(
                    "bundle version {version} is not supported by this build (expected {VERSION}); regenerate it with this build"
                ),
            ));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        let stored = u64::from_le_bytes(tail.try_into().expect("8 bytes"));
        if bundle_checksum(body) != stored {
            return Err(DataError::file(
                path,
                "bundle checksum mismatch: the file is truncated or corrupted; regenerate it from the CSV"
                    .into(),
            ));
        }
        r.bytes = body;
        r.pos = MAGIC.len();
        r.u32("version")?;
        let n_assets = r.u32("asset count")? as usize;
        let provenance = match r.u8("provenance")? {
            0 => {
                r.u64("seed")?;
                Provenance::Real
            }
            1 => Provenance::Derived { seed: r.u64("seed")? },
            other => {
                return Err(DataError::file(
                    path,
                    format!("unknown provenance tag {other} at offset {}", r.pos - 1),
                ));
            }
        };
        let mut assets = Vec::with_capacity(n_assets.min(100_000));
        for i in 0..n_assets {
            let len = r.u16("symbol length")? as usize;
            let sym = r.take(len, "symbol")?;
            let symbol = String::from_utf8(sym.to_vec())
                .map_err(|_| DataError::file(path, format!("asset {i}: symbol is not UTF-8")))?;
            let n = r.u64("bar count")? as usize;
            if n.checked_mul(BAR_BYTES as usize).is_none_or(|b| b > r.bytes.len() - r.pos) {
                return Err(DataError::file(
                    path,
                    format!("asset {symbol}: {n} bars do not fit in the file"),
                ));
            }
            let dates: Vec<i32> = r
                .take(n * 4, "dates")?
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes(c.try_into().expect("4")))
                .collect();
            let mut col = |name: &'static str| -> Result<Vec<f64>, DataError> {
                Ok(r.take(n * 8, name)?
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8")))
                    .collect())
            };
            let open = col("open")?;
            let high = col("high")?;
            let low = col("low")?;
            let close = col("close")?;
            let volume = col("volume")?;
            let adj_close = col("adj_close")?;
            let series = AssetSeries { symbol, dates, open, high, low, close, volume, adj_close };
            crate::csv::validate_series(&series, path)?;
            if assets.iter().any(|a: &AssetSeries| a.symbol == series.symbol) {
                return Err(DataError::file(
                    path,
                    format!("asset {i}: symbol {} appears twice; expected each asset once", series.symbol),
                ));
            }
            assets.push(series);
        }
        if r.pos != r.bytes.len() {
            return Err(DataError::file(
                path,
                format!("{} unexpected bytes after the last asset", r.bytes.len() - r.pos),
            ));
        }
        Ok(Self { assets, provenance })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], DataError> {
        if self.bytes.len() - self.pos < n {
            return Err(DataError::file(
                self.path,
                format!("truncated bundle file: {what} at offset {} needs {n} bytes", self.pos),
            ));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self, what: &str) -> Result<u8, DataError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, DataError> {
        Ok(u16::from_le_bytes(self.take(2, what)?.try_into().expect("2")))
    }
    fn u32(&mut self, what: &str) -> Result<u32, DataError> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().expect("4")))
    }
    fn u64(&mut self, what: &str) -> Result<u64, DataError> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().expect("8")))
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
