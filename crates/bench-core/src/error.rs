//! Typed input errors that name the file, the field or line, and what was expected.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use thiserror::Error;

/// A file that could not be read, parsed or validated. Every variant names the file.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file could not be opened, read or written.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said, and what to do about it.
        message: String,
    },
    /// The bytes are not UTF-8 text.
    #[error("{}: byte {offset} is not valid UTF-8; expected a UTF-8 JSON document", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The text is not well-formed JSON.
    #[error("{}:{line}:{column}: malformed JSON: {message}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// A field is missing, unknown or of the wrong type.
    #[error("{}: field `{field}`: {message}", path.display())]
    Field {
        /// The file.
        path: PathBuf,
        /// Path of the field inside the document, e.g. `runs[3].wall_ns`.
        field: String,
        /// What was wrong and what was expected.
        message: String,
    },
    /// A field parsed but holds a value outside its allowed range.
    #[error("{}: field `{field}`: expected {expected}, found {found}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Path of the field inside the document.
        field: String,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// The file was written by a newer version of the tool.
    #[error(
        "{}: schema_version {found} is newer than this build supports ({supported}); upgrade the tool to read it",
        path.display()
    )]
    FutureSchema {
        /// The file.
        path: PathBuf,
        /// The version found.
        found: u64,
        /// The newest version this build reads.
        supported: u32,
    },
    /// The file is larger than its reader accepts.
    #[error("{}: {size} is past the {limit} this reader accepts ({why})", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size (or a lower bound), formatted.
        size: String,
        /// The limit, formatted.
        limit: String,
        /// Why the limit is what it is.
        why: String,
    },
    /// The document is JSON but of no format this tool reads.
    #[error("{}: {message}", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// What was found and which formats are accepted.
        message: String,
    },
}

impl InputError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. }
            | Self::NotUtf8 { path, .. }
            | Self::Json { path, .. }
            | Self::Field { path, .. }
            | Self::Invalid { path, .. }
            | Self::FutureSchema { path, .. }
            | Self::TooLarge { path, .. }
            | Self::UnknownFormat { path, .. } => path,
        }
    }
}

/// Reads `path` as UTF-8 text, with errors that say what went wrong (a directory, a missing or
/// unreadable file, invalid UTF-8).
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let io = |message: String| InputError::Io { path: path.to_path_buf(), message };
    if path.is_dir() {
        return Err(io("is a directory; expected a file".into()));
    }
    let io_error = |e: std::io::Error| {
        io(match e.kind() {
            std::io::ErrorKind::NotFound => "no such file; check the path".into(),
            std::io::ErrorKind::PermissionDenied => "permission denied; make the file readable".into(),
            _ => format!("cannot read: {e}"),
        })
    };
    // Bounded: a regular file's size is checked before reading, anything else (a device, a
    // pipe) is read up to the limit and refused past it, so /dev/zero costs at most the limit.
    let limit = crate::limits::json_file_limit();
    let too_large = |size: String| InputError::TooLarge {
        path: path.to_path_buf(),
        size,
        limit: crate::units::bytes(limit),
        why: "JSON documents are read whole; 64 MiB, or an eighth of the memory limit if smaller".into(),
    };
    let file = std::fs::File::open(path).map_err(io_error)?;
    if let Ok(m) = file.metadata()
        && m.is_file()
        && m.len() > limit
    {
        return Err(too_large(crate::units::bytes(m.len())));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, limit + 1), &mut bytes).map_err(io_error)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(format!("more than {}", crate::units::bytes(limit))));
    }
    String::from_utf8(bytes)
        .map_err(|e| InputError::NotUtf8 { path: path.to_path_buf(), offset: e.utf8_error().valid_up_to() })
}

/// Parses JSON text into a value, mapping syntax errors to [`InputError::Json`].
pub fn parse_json(text: &str, path: &Path) -> Result<serde_json::Value, InputError> {
    if text.trim().is_empty() {
        return Err(InputError::Json {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: "the file is empty; expected a JSON object".into(),
        });
    }
    serde_json::from_str(text).map_err(|e| InputError::Json {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })
}

/// Deserializes a typed document from a JSON value, naming the offending field on error.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value, path: &Path) -> Result<T, InputError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        InputError::Field {
            path: path.to_path_buf(),
            field: if field == "." { "(document)".into() } else { field },
            message: strip_position(&e.inner().to_string()),
        }
    })
}

/// The JSON kind of a value, for "expected X, found Y" messages.
pub fn json_kind(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
    .to_owned()
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

impl crate::ErrorClass for InputError {
    fn is_input_error(&self) -> bool {
        true
    }
}
