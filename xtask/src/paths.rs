//! Where results go: `profiling-results/` and `benchmark-results/` under the workspace root
//! (or `--output-dir`). Only xtask names these folders.

use std::path::{Path, PathBuf};

/// The workspace root (the parent of this crate's directory at build time), or the current
/// directory when that no longer exists.
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    if root.join("Cargo.toml").exists() { root } else { PathBuf::from(".") }
}

/// `profiling-results/` under `root`.
pub fn profiling_dir(root: &Path) -> PathBuf {
    root.join("profiling-results")
}

/// `benchmark-results/` under `root`.
pub fn benchmark_dir(root: &Path) -> PathBuf {
    root.join("benchmark-results")
}

/// `benchmark-results/baselines/` under `root`: saved baselines of `compare`, one folder each.
pub fn baselines_dir(root: &Path) -> PathBuf {
    benchmark_dir(root).join("baselines")
}

/// `path` relative to the current directory when it is below it, for short messages.
pub fn display(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    match cwd.as_deref().and_then(|c| path.strip_prefix(c).ok()) {
        Some(rel) => rel.display().to_string(),
        None => path.display().to_string(),
    }
}

/// The command line as typed, for "reproduce with" lines.
pub fn command_line() -> String {
    let args: Vec<String> =
        std::env::args().skip(1).map(|a| if a.contains(' ') { format!("'{a}'") } else { a }).collect();
    format!("cargo xtask {}", args.join(" "))
}

/// The Python of the Ray backend: `BENCH_RAY_PYTHON`, or the venv `bash python/setup.sh` makes
/// (`python/.venv/bin/python` under the workspace root).
pub fn ray_python() -> PathBuf {
    std::env::var_os("BENCH_RAY_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("python").join(".venv").join("bin").join("python"))
}

/// Writes `text` to `path` atomically; an input error names the file.
pub fn write(path: &Path, text: &str) -> Result<(), crate::exit::Failure> {
    bench_core::write_atomic(path, text.as_bytes())
        .map_err(|e| crate::exit::Failure::input(format!("cannot write {}: {e}", path.display())))
}

/// [`write()`], when a path was given.
pub fn export(path: &Option<PathBuf>, text: &str) -> Result<(), crate::exit::Failure> {
    path.as_deref().map_or(Ok(()), |p| write(p, text))
}

/// "wrote FILE" lines for the files of `paths` that were given.
pub fn wrote<'a>(paths: impl IntoIterator<Item = &'a Option<PathBuf>>) -> String {
    paths.into_iter().flatten().map(|p| format!("wrote {}\n", display(p))).collect()
}

/// The history file: `--history FILE`, or benchmark-results/history.sqlite under the workspace.
pub fn history_file() -> PathBuf {
    crate::flags().history.clone().unwrap_or_else(|| benchmark_dir(&workspace_root()).join("history.sqlite"))
}

/// With `--record`: keeps the result files `files` and BMF documents `documents` in the history
/// under the commit checked out in the current folder.
pub fn record(files: &[PathBuf], documents: &[String]) -> Result<(), crate::exit::Failure> {
    if crate::flags().record {
        let file = history_file();
        let n = bench_history::record_results(&file, ".".as_ref(), files, documents)?;
        eprintln!("recorded {n} results into {}", display(&file));
    }
    Ok(())
}
