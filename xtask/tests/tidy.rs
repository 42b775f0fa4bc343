//! Tidy: the workspace's shape, checked on every `cargo test`.
//!
//! - The dependency edges between the workspace's crates (normal dependencies, from `cargo
//!   metadata`) equal the allowlist in docs/architecture.md, edge for edge; a new edge fails
//!   with the edge named until the document says why it exists.
//! - No generic crate depends on a backtest crate (`bench-workloads`, `bench-ladder`,
//!   `bench-py`): the generic toolkit knows nothing of backtests.
//! - Every source file opens with a `//!` header saying what it holds.
//! - Every crate takes the workspace's lints (`missing_docs` among them; CI denies warnings).
//! - Inside each crate, the modules' imports (`crate::module::…`, and names the crate root
//!   re-exports, traced to the module that defines them) form no circle.

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

fn identifiers(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect()
}

/// The top-level modules of the crate in `dir` and, for each, the modules it imports: paths
/// `crate::m…`, `use crate::{…}` groups, and root re-exports (`pub use m::{A, B}`) traced back
/// to `m`. Comments and `#[cfg(test)]` blocks are left out.
fn module_graph(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let src = dir.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let module_of = |f: &Path| {
        let rel = f.strip_prefix(&src).unwrap();
        rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned()
    };
    let code = |f: &Path| {
        let text = std::fs::read_to_string(f).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap_or_default().to_owned();
        text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
    };
    let modules: BTreeSet<String> =
        files.iter().map(|f| module_of(f)).filter(|m| m != "lib" && m != "main").collect();
    // Names the root re-exports, and the module each comes from.
    let mut exported: BTreeMap<String, String> = BTreeMap::new();
    for root_file in ["lib.rs", "main.rs"] {
        let Ok(_) = std::fs::metadata(src.join(root_file)) else { continue };
        let text = code(&src.join(root_file));
        for stmt in text.split(';') {
            let Some(rest) = stmt.trim().strip_prefix("pub use ") else { continue };
            let words = identifiers(rest);
            if let Some((m, names)) = words.split_first()
                && modules.contains(*m)
            {
                for n in names {
                    exported.insert((*n).to_owned(), (*m).to_owned());
                }
            }
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let m = module_of(f);
        if !modules.contains(&m) {
            continue;
        }
        let text = code(f);
        let mut refs = BTreeSet::new();
        for (i, _) in text.match_indices("crate::") {
            let after = &text[i + "crate::".len()..];
            let names: Vec<&str> = if let Some(group) = after.strip_prefix('{') {
                identifiers(&group[..group.find('}').unwrap_or(group.len())])
            } else {
                identifiers(after).into_iter().take(1).collect()
            };
            for n in names {
                if modules.contains(n) {
                    refs.insert(n.to_owned());
                } else if let Some(home) = exported.get(n) {
                    refs.insert(home.clone());
                }
            }
        }
        refs.remove(&m);
        graph.entry(m).or_default().extend(refs);
    }
    graph
}

/// A circle in `graph`, as the modules along it, or `None`.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        v: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == v) {
            let mut circle = path[at..].to_vec();
            circle.push(v.to_owned());
            return Some(circle);
        }
        if done.contains(v) {
            return None;
        }
        path.push(v.to_owned());
        for w in graph.get(v).into_iter().flatten() {
            if let Some(c) = visit(w, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(v.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|v| visit(v, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_has_a_circle_of_module_imports() {
    // The detector finds a circle when there is one.
    let toy: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")]
        .into_iter()
        .map(|(x, y)| (x.to_owned(), BTreeSet::from([y.to_owned()])))
        .collect();
    assert_eq!(find_circle(&toy).map(|c| c.len()), Some(4), "a → b → c → a");
    let root = root();
    let mut dirs: Vec<PathBuf> = vec![root.join("xtask")];
    dirs.extend(
        std::fs::read_dir(root.join("crates"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("src").is_dir()),
    );
    let mut circles = Vec::new();
    for dir in &dirs {
        let graph = module_graph(dir);
        let single_file = std::fs::read_dir(dir.join("src")).unwrap().count() == 1;
        assert!(!graph.is_empty() || single_file, "{}: no modules read", dir.display());
        if let Some(c) = find_circle(&graph) {
            circles.push(format!("{}: {}", dir.strip_prefix(&root).unwrap().display(), c.join(" → ")));
        }
    }
    assert!(circles.is_empty(), "modules importing each other in a circle: {circles:?}");
}

#[test]
fn the_readme_shows_the_own_function_example_whole_and_within_40_lines() {
    let code = std::fs::read_to_string(root().join("examples/own-function/src/main.rs")).unwrap();
    let body = &code[code.find("use bench_core").expect("the example starts its imports with bench_core")..];
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("```rust\n{body}```")),
        "README.md's library section differs from examples/own-function/src/main.rs (from `use bench_core` on): copy the example into it"
    );
    let lines = code.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("//")).count();
    assert!(lines <= 40, "examples/own-function has {lines} lines of code; the goal is at most 40");
}

#[test]
fn the_command_line_stays_a_thin_layer_of_at_most_1500_lines() {
    let mut files = Vec::new();
    rust_files(&root().join("xtask/src"), &mut files);
    let lines: usize = files.iter().map(|f| std::fs::read_to_string(f).unwrap().lines().count()).sum();
    assert!(
        lines <= 1500,
        "xtask/src has {lines} lines (flag definitions included); the goal is at most 1500: move the work into a library crate"
    );
}
