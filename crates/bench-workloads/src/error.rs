//! Typed errors of the workload crate.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// A data file that cannot be used. The message names the file and, where it applies, the line
/// and column, and says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}{}{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default(), row.map(|r| format!(": row {r}")).unwrap_or_default(), column.as_ref().map(|c| format!(": column {c}")).unwrap_or_default())]
#[non_exhaustive]
pub struct DataError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, for text formats.
    pub line: Option<usize>,
    /// 1-based data row, for columnar formats (Parquet).
    pub row: Option<usize>,
    /// Column name, for text formats.
    pub column: Option<String>,
    /// What was wrong and what was expected.
    pub message: String,
}

impl DataError {
    /// An error about the file as a whole.
    pub fn file(path: &Path, message: String) -> Self {
        Self { path: path.to_path_buf(), line: None, row: None, column: None, message }
    }

    /// An error at a line (and optionally a column) of a text file.
    pub fn at(path: &Path, line: usize, column: Option<&str>, message: String) -> Self {
        Self {
            path: path.to_path_buf(),
            line: Some(line),
            row: None,
            column: column.map(str::to_owned),
            message,
        }
    }

    /// An error at a data row (and optionally a column) of a columnar file.
    pub fn at_row(path: &Path, row: usize, column: Option<&str>, message: String) -> Self {
        Self {
            path: path.to_path_buf(),
            line: None,
            row: Some(row),
            column: column.map(str::to_owned),
            message,
        }
    }

    /// An error about a column of a columnar file as a whole (missing, of the wrong type).
    pub fn column(path: &Path, column: &str, message: String) -> Self {
        Self { path: path.to_path_buf(), line: None, row: None, column: Some(column.to_owned()), message }
    }

    /// An I/O error, phrased for the user.
    pub fn io(path: &Path, e: &std::io::Error) -> Self {
        let message = if path.is_dir() {
            "is a directory; expected a file".into()
        } else {
            match e.kind() {
                std::io::ErrorKind::NotFound => "no such file; check the path".into(),
                std::io::ErrorKind::PermissionDenied => "permission denied; make the file readable".into(),
                _ => format!("cannot read: {e}"),
            }
        };
        Self::file(path, message)
    }
}

/// A workload that cannot run as asked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WorkloadError {
    /// The data could not be loaded.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A parameter is outside what the engine supports.
    #[error("{0}")]
    InvalidParameter(String),
    /// The asked-for asset is not in the bundle.
    #[error("unknown symbol {symbol:?}; the data holds: {available}")]
    UnknownSymbol {
        /// The symbol asked for.
        symbol: String,
        /// The symbols present.
        available: String,
    },
    /// A history request outside the series.
    #[error(
        "history request out of range: asset {asset}, end bar {end}, {bar_count} bars, series has {len} bars"
    )]
    OutOfRange {
        /// Asset index.
        asset: usize,
        /// Last bar requested.
        end: usize,
        /// Number of bars requested.
        bar_count: usize,
        /// Bars in the series.
        len: usize,
    },
    /// A series too short for the windows asked for.
    #[error(
        "{symbol} has {bars} bars; an SMA crossover with a {window}-bar slow window needs at least {} to make one decision",
        window + 1
    )]
    TooFewBars {
        /// The asset.
        symbol: String,
        /// Its bars.
        bars: usize,
        /// The slow window.
        window: u32,
    },
    /// A worker pool could not be built.
    #[error("cannot build a worker pool: {0}")]
    Pool(String),
    /// A distributed backend that is not installed or not reachable (the message names the
    /// command that sets it up, or the address that did not answer).
    #[error("{0}")]
    BackendUnavailable(String),
    /// A distributed backend that lost work or failed while running it.
    #[error("{0}")]
    Backend(String),
    /// A failure of this process, not of what was asked: a temporary file that cannot be
    /// written, a result that cannot be serialised.
    #[error("{0}")]
    Internal(String),
    /// The job would need more memory or time than allowed (checked before starting).
    #[error(transparent)]
    Limit(#[from] bench_core::limits::LimitError),
}

impl bench_core::ErrorClass for DataError {
    fn is_input_error(&self) -> bool {
        true
    }
}

impl bench_core::ErrorClass for WorkloadError {
    fn is_input_error(&self) -> bool {
        !matches!(self, Self::Pool(_) | Self::Backend(_) | Self::Internal(_))
    }
}
