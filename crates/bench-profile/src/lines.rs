//! Line-level timings of one function, printed like line_profiler, from the statement probes
//! of `#[bench_line_probe::line_probe]`.
//!
//! Method: every statement of the annotated function (at every nesting level) is timed by a
//! guard that adds one hit and its wall time minus the time of the statements nested inside
//! it. A simple statement's time therefore includes the functions it calls (as in
//! line_profiler); a compound statement's line (`for`, `while`, `if`, a block) counts entries
//! into the statement and the time not spent in its inner lines (loop control and header
//! expressions). Each guard costs two clock reads (tens of nanoseconds), which inflates very
//! cheap lines; the ranking of expensive lines is what the report is for.

use std::path::{Path, PathBuf};

use bench_core::probe::{self, LineTable};
use serde::Serialize;

use crate::ProfileError;

/// One source line of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineRow {
    /// 1-based line number in the file.
    pub line: u32,
    /// Executions of the statement(s) starting on this line; `None` for lines without one.
    pub hits: Option<u64>,
    /// Exclusive nanoseconds.
    pub time_ns: Option<u64>,
    /// Share of the function's probed time, percent.
    pub percent: Option<f64>,
    /// The source text.
    pub contents: String,
}

/// A line_profiler-style report of one function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineReport {
    /// Fully qualified function name.
    pub function: String,
    /// Source file (relative to the workspace root).
    pub file: String,
    /// Line of the `fn`.
    pub first_line: u32,
    /// Sum of all lines' times, nanoseconds: time in the function's statements summed over its
    /// calls on every thread (so it can exceed the wall time of a parallel run), the probes' own
    /// cost excluded.
    pub total_ns: u64,
    /// Wall time of the profiled run, nanoseconds.
    pub wall_ns: u64,
    /// Every line of the function.
    pub rows: Vec<LineRow>,
}

impl LineReport {
    /// Probed lines by time, descending.
    pub fn ranked(&self) -> Vec<&LineRow> {
        let mut v: Vec<&LineRow> = self.rows.iter().filter(|r| r.time_ns.is_some()).collect();
        v.sort_by_key(|r| std::cmp::Reverse(r.time_ns));
        v
    }

    /// The report as line_profiler prints it.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "Timer unit: 1e-09 s");
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "Total time: {} (statement time summed over every call on every thread; probe costs excluded)",
            bench_core::units::duration_ns(self.total_ns)
        );
        let _ =
            writeln!(s, "Wall time of the profiled run: {}", bench_core::units::duration_ns(self.wall_ns));
        let _ = writeln!(s, "File: {}", self.file);
        let _ = writeln!(s, "Function: {} at line {}", self.function, self.first_line);
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:>6} {:>12} {:>16} {:>12} {:>8}  Line Contents",
            "Line #", "Hits", "Time", "Per Hit", "% Time"
        );
        let _ = writeln!(s, "{}", "=".repeat(78));
        for r in &self.rows {
            match (r.hits, r.time_ns, r.percent) {
                (Some(h), Some(t), Some(p)) => {
                    let _ = writeln!(
                        s,
                        "{:>6} {:>12} {:>16.1} {:>12.1} {:>8.1}  {}",
                        r.line,
                        h,
                        t as f64,
                        t as f64 / h.max(1) as f64,
                        p,
                        r.contents
                    );
                }
                _ => {
                    let _ = writeln!(
                        s,
                        "{:>6} {:>12} {:>16} {:>12} {:>8}  {}",
                        r.line, "", "", "", "", r.contents
                    );
                }
            }
        }
        s
    }
}

/// The probed functions that have run, by name.
pub fn probed_functions() -> Vec<String> {
    probe::tables().iter().map(|t| t.function.to_owned()).collect()
}

fn find_table(name: &str) -> Option<&'static LineTable> {
    let tables = probe::tables();
    tables
        .iter()
        .find(|t| t.function == name)
        .or_else(|| tables.iter().find(|t| t.function.ends_with(&format!("::{name}"))))
        .copied()
}

/// Runs `f` with probes enabled and reports the lines of `function` (its full path or its last
/// segments, e.g. `signals_from_history`). Source lines are read from `file!()` paths under
/// `source_root`.
pub fn profile_lines<T>(
    f: impl FnOnce() -> T,
    function: &str,
    source_root: &Path,
) -> Result<(T, LineReport), ProfileError> {
    probe::calibrate();
    probe::reset_all();
    probe::set_enabled(true);
    let t0 = std::time::Instant::now();
    let out = f();
    let wall_ns = t0.elapsed().as_nanos() as u64;
    probe::set_enabled(false);
    let table = find_table(function).ok_or_else(|| {
        let known = probed_functions();
        ProfileError::UnknownFunction {
            name: function.to_owned(),
            known: if known.is_empty() { "none ran".into() } else { known.join(", ") },
        }
    })?;
    Ok((out, report(table, source_root, wall_ns)))
}

fn report(table: &LineTable, source_root: &Path, wall_ns: u64) -> LineReport {
    let path: PathBuf = source_root.join(table.file);
    let source = std::fs::read_to_string(&path).unwrap_or_default();
    let src_lines: Vec<&str> = source.lines().collect();
    let mut per_line: std::collections::BTreeMap<u32, (u64, u64)> = std::collections::BTreeMap::new();
    for (line, c) in table.lines.iter().zip(table.counters) {
        let (h, t) = c.read();
        let e = per_line.entry(*line).or_default();
        // Several statements on one line: hits of the first, times summed.
        if e.0 == 0 {
            e.0 = h;
        }
        e.1 += t;
    }
    let total_ns: u64 = per_line.values().map(|v| v.1).sum();
    let (first, last) = table.span;
    let rows = (first..=last.max(first))
        .map(|l| {
            let contents = src_lines
                .get(l as usize - 1)
                .map_or_else(|| "<source not found>".to_owned(), |s| (*s).to_owned());
            match per_line.get(&l) {
                Some(&(h, t)) => LineRow {
                    line: l,
                    hits: Some(h),
                    time_ns: Some(t),
                    percent: Some(if total_ns > 0 { t as f64 * 100.0 / total_ns as f64 } else { 0.0 }),
                    contents,
                },
                None => LineRow { line: l, hits: None, time_ns: None, percent: None, contents },
            }
        })
        .collect();
    LineReport {
        function: table.function.to_owned(),
        file: table.file.to_owned(),
        first_line: first,
        total_ns,
        wall_ns,
        rows,
    }
}
