//! Durable, atomic file writes and safe names for files under an output directory.

use std::io::Write;
use std::path::{Component, Path};

use thiserror::Error;

pub use crate::error::read_text;

/// Writes `bytes` to `path` so that a reader sees either the old file or the whole new one,
/// never a part: a temporary file in the same directory is written, fsynced and renamed over
/// `path`, then the directory is fsynced. Parent directories are created.
///
/// Two processes writing the same path at once each produce a complete file; the last rename
/// wins.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let file_name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "path has no file name"))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", file_name.to_string_lossy()))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    #[cfg(unix)]
    {
        // Temporary files are created 0600; results are ordinary files.
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(dir) {
        // Directory fsync makes the rename durable; not all filesystems support it.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Why a run id or output name was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RunIdError {
    /// Empty or longer than 100 characters.
    #[error("run id must be 1–100 characters long, got {len}")]
    Length {
        /// Length found.
        len: usize,
    },
    /// A character outside `[A-Za-z0-9._-]` (this includes `/`, `\` and NUL).
    #[error("run id {id:?} contains {ch:?}; use only letters, digits, '.', '_' and '-'")]
    Character {
        /// The id.
        id: String,
        /// The first refused character.
        ch: char,
    },
    /// `.` or `..`, which name directories rather than files.
    #[error("run id {id:?} names a directory; choose a name with a letter or digit")]
    DotName {
        /// The id.
        id: String,
    },
}

/// A run id that is safe to use as a file-name stem under an output directory: 1–100 characters
/// of `[A-Za-z0-9._-]`, not `.` or `..`, so it can never escape the directory.
///
/// ```
/// use bench_core::RunId;
/// assert!(RunId::new("grid_search-baseline.1").is_ok());
/// assert!(RunId::new("../etc/passwd").is_err());
/// assert!(RunId::new("..").is_err());
/// assert!(RunId::new("").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(String);

impl RunId {
    /// Validates `id`.
    pub fn new(id: &str) -> Result<Self, RunIdError> {
        let len = id.chars().count();
        if len == 0 || len > 100 {
            return Err(RunIdError::Length { len });
        }
        if let Some(ch) = id.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
            return Err(RunIdError::Character { id: id.to_owned(), ch });
        }
        if id == "." || id == ".." {
            return Err(RunIdError::DotName { id: id.to_owned() });
        }
        Ok(Self(id.to_owned()))
    }

    /// A run id made from any text: characters outside `[A-Za-z0-9._-]` become `_`, the result
    /// is cut to 100 characters, and empty or dot-only text becomes `run`.
    ///
    /// ```
    /// use bench_core::RunId;
    /// assert_eq!(RunId::sanitized("grid search/1 → fast").as_str(), "grid_search_1___fast");
    /// assert_eq!(RunId::sanitized("..").as_str(), "run");
    /// ```
    pub fn sanitized(text: &str) -> Self {
        let s: String = text
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
            .take(100)
            .collect();
        Self::new(&s).unwrap_or_else(|_| Self("run".into()))
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// True when `relative` stays inside the directory it is joined to: no absolute path, no `..`,
/// no root or prefix component and no NUL byte.
pub fn stays_inside(relative: &Path) -> bool {
    if relative.as_os_str().is_empty() || relative.to_string_lossy().contains('\0') {
        return false;
    }
    relative.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

impl crate::ErrorClass for RunIdError {
    fn is_input_error(&self) -> bool {
        true
    }
}
