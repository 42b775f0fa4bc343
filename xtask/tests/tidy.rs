//! Tidy: the workspace's shape, checked on every `cargo test`.
//!
//! - The dependency edges between the workspace's crates (normal dependencies, from `cargo
//!   metadata`) equal the allowlist in docs/architecture.md, edge for edge; a new edge fails
//!   with the edge named until the document says why it exists.
//! - No generic crate depends on a backtest crate (`bench-workloads`, `bench-ladder`,
//!   `bench-py`): the generic toolkit knows nothing of backtests.
//! - Every source file opens with a `//!` header saying what it holds.
//! - Every crate takes the workspace's lints (`missing_docs` among them; CI denies warnings).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The allowlist: the fenced block after the `<!-- tidy: crate edges -->` marker, one
/// `crate: dep, dep` line per crate.
fn allowlist() -> BTreeMap<String, BTreeSet<String>> {
    let path = root().join("docs/architecture.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let after = text
        .split("<!-- tidy: crate edges -->")
        .nth(1)
        .unwrap_or_else(|| panic!("{}: no `<!-- tidy: crate edges -->` marker", path.display()));
    let block = after.split("```").nth(1).expect("a fenced block after the marker");
    block
        .lines()
        .skip(1) // the fence's info string
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (name, deps) =
                l.split_once(':').unwrap_or_else(|| panic!("allowlist line {l:?}: expected `crate: deps`"));
            let deps = deps.split(',').map(str::trim).filter(|d| !d.is_empty()).map(str::to_owned).collect();
            (name.trim().to_owned(), deps)
        })
        .collect()
}

/// The workspace's crates and their normal dependencies on each other, from `cargo metadata`.
fn actual() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = m["packages"].as_array().unwrap();
    let names: BTreeSet<String> = packages.iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .filter(|d| names.contains(d))
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

#[test]
fn crate_edges_equal_the_allowlist_in_architecture_md() {
    let (want, have) = (allowlist(), actual());
    let mut problems = Vec::new();
    for (name, deps) in &have {
        let Some(allowed) = want.get(name) else {
            problems.push(format!("crate {name} is not in docs/architecture.md's allowlist"));
            continue;
        };
        for d in deps.difference(allowed) {
            problems.push(format!("edge {name} → {d} is not in docs/architecture.md's allowlist"));
        }
        for d in allowed.difference(deps) {
            problems.push(format!("edge {name} → {d} is in the allowlist but not in the manifests"));
        }
    }
    for name in want.keys().filter(|n| !have.contains_key(*n)) {
        problems.push(format!("the allowlist names {name}, which is not a workspace crate"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn generic_crates_know_nothing_of_backtests() {
    let backtest = |n: &str| ["bench-workloads", "bench-ladder", "bench-py"].contains(&n);
    let generic = |n: &str| n.starts_with("bench-") && !backtest(n);
    let edges: Vec<String> = actual()
        .iter()
        .filter(|(n, _)| generic(n))
        .flat_map(|(n, deps)| deps.iter().filter(|d| backtest(d)).map(move |d| format!("{n} → {d}")))
        .collect();
    assert!(edges.is_empty(), "generic crates depend on backtest crates: {edges:?}");
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_source_file_has_a_header_and_every_crate_the_workspace_lints() {
    let root = root();
    let mut dirs: Vec<PathBuf> = vec![root.join("xtask")];
    for group in ["crates", "examples"] {
        dirs.extend(
            std::fs::read_dir(root.join(group))
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.join("Cargo.toml").is_file()),
        );
    }
    let mut missing = Vec::new();
    let mut unlinted = Vec::new();
    for dir in &dirs {
        let mut files = Vec::new();
        rust_files(&dir.join("src"), &mut files);
        assert!(!files.is_empty(), "{}: no source files", dir.display());
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            if !text.trim_start().starts_with("//!") {
                missing.push(f.strip_prefix(&root).unwrap().display().to_string());
            }
        }
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        if !manifest.contains("[lints]\nworkspace = true") {
            unlinted.push(dir.strip_prefix(&root).unwrap().display().to_string());
        }
    }
    assert!(missing.is_empty(), "source files without a `//!` header: {missing:?}");
    assert!(unlinted.is_empty(), "crates without `[lints] workspace = true`: {unlinted:?}");
    let workspace = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(workspace.contains("missing_docs = \"warn\""), "the workspace lints must warn on missing docs");
}
