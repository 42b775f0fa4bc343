//! The compact binary bundle file: a magic, a version, each asset's columns little-endian, and
//! a checksum; read back with the same checks every bar of a CSV or Parquet file passes.

use std::path::Path;

use crate::bundle::{AssetSeries, BAR_BYTES, Bundle, Provenance};
use crate::error::DataError;

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
            crate::rows::validate_series(&series, path)?;
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
