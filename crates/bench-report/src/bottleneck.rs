//! Bottleneck analysis: a span profile (exact call counts, times) joined with a CPU profile
//! (where the CPU time goes, with sampling errors) and a memory profile.
//!
//! The analysis knows nothing of any workload: which functions are the application's, what
//! one unit of work is, which functions carry line probes and which remedies fit which
//! functions all come from the caller's [`BottleneckRules`].
//!
//! Definitions (function = an application function: its name starts with one of the rules'
//! application prefixes, e.g. `my_crate::`):
//! - `percent_cumtime`: share of CPU samples whose stack contains the function;
//! - `percent_tottime`: share of CPU samples whose innermost *application* frame is the
//!   function — its own code plus the library code (std, allocator, libc) it calls directly;
//! - `ncalls`, `cumtime_s`, `tottime_s`: from the span of the same name (exact); for a function
//!   without a span, `ncalls` is null and the times are estimated from its CPU share;
//! - `category`: FIXED (< 10 calls) or VARIABLE (≥ 10 calls); a function without a span takes
//!   the category of its most frequent instrumented caller (`category_source` says which).

use std::collections::HashMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use bench_core::units::{self, fmt2};
use bench_core::{BottleneckRules, Decimal, to_decimal};
use bench_profile::cpu::CpuProfile;
use bench_profile::memory::MemoryProfile;
use bench_profile::sampling_error_percent;
use bench_profile::spans::SpanProfile;
use serde::Serialize;

use crate::{ReportError, pretty, write};

/// FIXED (< 10 calls) or VARIABLE (≥ 10) — from evidence only: UNKNOWN when neither the
/// function nor a caller has a call count, IMPORT when it only ran while a module was imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Category {
    /// One-time costs: initialisation, setup.
    Fixed,
    /// Repeated costs: loops, per-item work.
    Variable,
    /// No call count for it or for a caller: nothing says how often it ran.
    Unknown,
    /// Start-up: it ran only inside an import (a module's top-level code, Python's importlib).
    Import,
}

impl Category {
    /// `FIXED`, `VARIABLE`, `UNKNOWN` or `IMPORT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fixed => "FIXED",
            Self::Variable => "VARIABLE",
            Self::Unknown => "UNKNOWN",
            Self::Import => "IMPORT",
        }
    }
}

/// Whether a frame is Python's import machinery (py-spy names it `<frozen importlib._bootstrap>`):
/// every sample under it is start-up time spent loading modules.
pub fn is_import_frame(frame: &str) -> bool {
    frame.starts_with("<frozen importlib.")
}

/// One function of the analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bottleneck {
    /// Function (span) name.
    pub function: String,
    /// Inclusive CPU share, percent.
    pub percent_cumtime: Decimal,
    /// Standard error of `percent_cumtime` from sampling, percentage points.
    pub percent_cumtime_error: Decimal,
    /// Own CPU share (innermost application frame), percent.
    pub percent_tottime: Decimal,
    /// Standard error of `percent_tottime`.
    pub percent_tottime_error: Decimal,
    /// Exact calls (from spans), when instrumented.
    pub ncalls: Option<u64>,
    /// Inclusive time, seconds (span time summed over threads, or estimated from the CPU share);
    /// `None` when there is neither (an imported profile without times).
    pub cumtime_s: Option<Decimal>,
    /// Own time, seconds; `None` as `cumtime_s`.
    pub tottime_s: Option<Decimal>,
    /// FIXED or VARIABLE.
    pub category: Category,
    /// `span` (exact call count) or `inherited from <caller>`.
    pub category_source: String,
    /// Whether the times are measured (span) or estimated from CPU shares.
    pub times_source: &'static str,
}

/// A memory-efficiency finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryIssue {
    /// `allocation_heavy`, `rss_growth` or `heap_growth`.
    pub kind: &'static str,
    /// The function concerned, if any.
    pub function: Option<String>,
    /// What was measured.
    pub detail: String,
}

/// A rule-based recommendation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The function it is about.
    pub function: String,
    /// The remedy: `reuse buffers` and `deep-dive` from the analysis itself, the others from
    /// the rules (e.g. `cache`, `batch initialisation`).
    pub remedy: String,
    /// Why.
    pub reason: String,
}

/// Totals of the FIXED and VARIABLE categories.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryTotals {
    /// Functions.
    pub functions: usize,
    /// Sum of their own CPU shares, percent.
    pub percent_tottime: Decimal,
}

/// The summary block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The five largest by own CPU share.
    pub top_5_bottlenecks: Vec<Bottleneck>,
    /// How many functions take ≥ 0.5% (inclusive) of the runtime (= entries listed).
    pub bottlenecks_gt_05_percent: usize,
    /// FIXED totals.
    pub fixed: CategoryTotals,
    /// VARIABLE totals.
    pub variable: CategoryTotals,
    /// UNKNOWN totals (no call count).
    pub unknown: CategoryTotals,
    /// Samples under an import (Python's importlib: start-up, loading modules), percent.
    pub percent_import: Decimal,
    /// CPU samples the analysis rests on.
    pub cpu_samples: u64,
    /// Samples whose stack holds no application function (runtime, thread pool idle…), percent.
    pub percent_outside_application: Decimal,
    /// Wall time of the span session (one traced run of the workload, not the CPU profile's
    /// repetitions), seconds; `None` when there was none (an imported profile).
    pub wall_seconds: Option<Decimal>,
}

/// The bottleneck report (its JSON keys are the documented file contract).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BottleneckReport {
    /// Workflow analysed.
    pub workflow: String,
    /// Every application function with ≥ 0.5% inclusive CPU share, by own share.
    pub bottlenecks: Vec<Bottleneck>,
    /// Summary.
    pub summary: Summary,
    /// Memory findings.
    pub memory_efficiency_issues: Vec<MemoryIssue>,
    /// Remedies.
    pub recommendations: Vec<Recommendation>,
}

/// `a::f::{{closure}}::{{closure}}` → `a::f`.
fn strip_closures(f: &str) -> &str {
    let mut f = f;
    while let Some(rest) = f.strip_suffix("::{{closure}}") {
        f = rest;
    }
    f
}

fn d(x: f64) -> Decimal {
    to_decimal((x * 1e4).round() / 1e4).unwrap_or(Decimal::ZERO)
}

fn is_allocator(f: &str) -> bool {
    [
        "malloc",
        "free",
        "realloc",
        "calloc",
        "__rust_alloc",
        "__rust_dealloc",
        "__rust_realloc",
        "alloc::alloc::",
        "_int_malloc",
        "_int_free",
        "cfree",
        "__libc_malloc",
        "__libc_free",
        "CountingAlloc",
    ]
    .iter()
    .any(|p| f.contains(p))
}

/// Joins the profiles into a bottleneck report under the caller's `rules`.
pub fn analyze_bottlenecks(
    workflow: &str,
    spans: &SpanProfile,
    cpu: &CpuProfile,
    memory: Option<&MemoryProfile>,
    rules: &BottleneckRules,
) -> BottleneckReport {
    let is_app = |f: &str| rules.is_application(f);
    let total = cpu.stacks.total();
    let n = total.max(1) as f64;
    let mut span_rows: HashMap<&str, &bench_profile::spans::SpanRow> =
        spans.rows.iter().map(|r| (r.function.as_str(), r)).collect();
    // A span named by the function alone (as `#[tracing::instrument]` names them) stands for the
    // sampled function with that last path segment, when exactly one has it.
    let mut sampled: Vec<&str> = cpu
        .stacks
        .stacks
        .iter()
        .flat_map(|st| st.frames.iter().map(|f| strip_closures(f)))
        .filter(|f| is_app(f) && !span_rows.contains_key(f))
        .collect();
    sampled.sort_unstable();
    sampled.dedup();
    for r in spans.rows.iter().filter(|r| !r.function.contains("::")) {
        let mut matches = sampled.iter().filter(|f| f.rsplit("::").next() == Some(r.function.as_str()));
        if let (Some(f), None) = (matches.next(), matches.next()) {
            span_rows.insert(f, r);
        }
    }

    let mut inclusive: HashMap<&str, u64> = HashMap::new();
    let mut own: HashMap<&str, u64> = HashMap::new();
    let mut alloc_by: HashMap<&str, u64> = HashMap::new();
    let mut callers: HashMap<&str, HashMap<&str, u64>> = HashMap::new();
    let mut outside = 0u64;
    let mut importing = 0u64;
    // Samples of each function taken outside any import.
    let mut after_imports: HashMap<&str, u64> = HashMap::new();
    for bench_profile::Stack { frames, count } in &cpu.stacks.stacks {
        // Frames after the first import frame ran while a module was being loaded.
        let import_at = frames.iter().position(|f| is_import_frame(f));
        if import_at.is_some() {
            importing += count;
        } else {
            let mut seen: Vec<&str> = Vec::new();
            for f in frames.iter().map(|f| strip_closures(f)).filter(|f| is_app(f)) {
                if !seen.contains(&f) {
                    seen.push(f);
                    *after_imports.entry(f).or_default() += count;
                }
            }
        }
        // A closure's samples belong to the function that defines it.
        let apps: Vec<&str> = frames.iter().map(|f| strip_closures(f)).filter(|f| is_app(f)).collect();
        let Some(&innermost) = apps.last() else {
            outside += count;
            continue;
        };
        *own.entry(innermost).or_default() += count;
        let mut seen: Vec<&str> = Vec::new();
        for &f in &apps {
            if !seen.contains(&f) {
                seen.push(f);
                *inclusive.entry(f).or_default() += count;
            }
        }
        if frames.last().is_some_and(|leaf| is_allocator(leaf)) {
            *alloc_by.entry(innermost).or_default() += count;
        }
        // The nearest instrumented caller of every uninstrumented application frame.
        for (i, &f) in apps.iter().enumerate() {
            if !span_rows.contains_key(f)
                && let Some(&caller) = apps[..i].iter().rev().find(|a| span_rows.contains_key(*a))
            {
                *callers.entry(f).or_default().entry(caller).or_default() += count;
            }
        }
    }
    let cpu_seconds = bench_core::to_f64(cpu.cpu_seconds);
    let err = |k: u64| sampling_error_percent(k, total);
    let category_of = |calls: u64| if calls < 10 { Category::Fixed } else { Category::Variable };
    let mut names: Vec<&str> = inclusive.keys().copied().collect();
    for r in &spans.rows {
        if is_app(&r.function) && !names.contains(&r.function.as_str()) {
            names.push(&r.function);
        }
    }
    let mut rows: Vec<Bottleneck> = names
        .into_iter()
        .map(|f| {
            let inc = inclusive.get(f).copied().unwrap_or(0);
            let ow = own.get(f).copied().unwrap_or(0);
            let (ncalls, cum_s, tot_s, category, category_source, times_source) = match span_rows.get(f) {
                Some(r) => (
                    Some(r.ncalls),
                    Some(r.cumtime_ns as f64 / 1e9),
                    Some(r.tottime_ns as f64 / 1e9),
                    category_of(r.ncalls),
                    "span".to_owned(),
                    "span",
                ),
                None => {
                    let caller =
                        callers.get(f).and_then(|m| m.iter().max_by_key(|(_, c)| **c).map(|(k, _)| *k));
                    let (cat, src) = match caller.and_then(|c| span_rows.get(c).map(|r| (c, r))) {
                        Some((c, r)) => (category_of(r.ncalls), format!("inherited from {c}")),
                        None if inc > 0 && !after_imports.contains_key(f) => {
                            (Category::Import, "every sample is inside an import".to_owned())
                        }
                        None => (Category::Unknown, "no call count for it or a caller".to_owned()),
                    };
                    // Without a time base (an imported profile) there are no seconds to estimate.
                    let times = (cpu_seconds > 0.0).then_some(());
                    (
                        None,
                        times.map(|()| inc as f64 / n * cpu_seconds),
                        times.map(|()| ow as f64 / n * cpu_seconds),
                        cat,
                        src,
                        if cpu_seconds > 0.0 { "estimated from CPU share" } else { "not measured" },
                    )
                }
            };
            Bottleneck {
                function: f.to_owned(),
                percent_cumtime: d(inc as f64 * 100.0 / n),
                percent_cumtime_error: d(err(inc)),
                percent_tottime: d(ow as f64 * 100.0 / n),
                percent_tottime_error: d(err(ow)),
                ncalls,
                cumtime_s: cum_s.map(d),
                tottime_s: tot_s.map(d),
                category,
                category_source,
                times_source,
            }
        })
        .filter(|b| b.percent_cumtime >= Decimal::new(5, 1))
        .collect();
    rows.sort_by(|a, b| {
        b.percent_tottime
            .cmp(&a.percent_tottime)
            .then(b.percent_cumtime.cmp(&a.percent_cumtime))
            .then(a.function.cmp(&b.function))
    });

    let totals = |c: Category| CategoryTotals {
        functions: rows.iter().filter(|b| b.category == c).count(),
        percent_tottime: rows.iter().filter(|b| b.category == c).map(|b| b.percent_tottime).sum(),
    };
    let summary = Summary {
        // Start-up has its own line (percent_import), not a place among the bottlenecks.
        top_5_bottlenecks: rows
            .iter()
            .filter(|b| b.percent_tottime > Decimal::ZERO && b.category != Category::Import)
            .take(5)
            .cloned()
            .collect(),
        bottlenecks_gt_05_percent: rows.len(),
        fixed: totals(Category::Fixed),
        variable: totals(Category::Variable),
        unknown: totals(Category::Unknown),
        percent_import: d(importing as f64 * 100.0 / n),
        cpu_samples: cpu.samples,
        percent_outside_application: d(outside as f64 * 100.0 / n),
        wall_seconds: (spans.wall_ns > 0).then(|| d(spans.wall_ns as f64 / 1e9)),
    };

    let (memory_efficiency_issues, mut recommendations) =
        findings(&rows, spans, memory, rules, &alloc_by, total);
    if summary.percent_import >= Decimal::from(10) {
        let modules: Vec<&str> = rows
            .iter()
            .filter(|b| b.category == Category::Import)
            .take(3)
            .map(|b| b.function.as_str())
            .collect();
        recommendations.push(Recommendation {
            function: "(imports)".into(),
            remedy: "start-up".into(),
            reason: format!(
                "{}% of the samples load modules (Python's importlib{}): a once-per-process cost, not the workload's; import lazily where a module is needed, or profile a longer run",
                fmt2(summary.percent_import),
                if modules.is_empty() { String::new() } else { format!(": {}", modules.join(", ")) }
            ),
        });
    }
    BottleneckReport {
        workflow: workflow.to_owned(),
        bottlenecks: rows,
        summary,
        memory_efficiency_issues,
        recommendations,
    }
}

/// Memory findings and recommendations: allocation-heavy functions and RSS or heap growth from
/// the profiles, the rules' remedies, and a line-level deep-dive for every function with ≥ 10%
/// of the runtime as its own.
fn findings(
    rows: &[Bottleneck],
    spans: &SpanProfile,
    memory: Option<&MemoryProfile>,
    rules: &BottleneckRules,
    alloc_by: &HashMap<&str, u64>,
    total: u64,
) -> (Vec<MemoryIssue>, Vec<Recommendation>) {
    let n = total.max(1) as f64;
    let mut issues = Vec::new();
    let mut recommendations = Vec::new();
    let mut allocs: Vec<(&str, u64)> = alloc_by.iter().map(|(f, k)| (*f, *k)).collect();
    allocs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (f, k) in allocs.iter().filter(|(_, k)| *k as f64 / n >= 0.02) {
        let pct = *k as f64 * 100.0 / n;
        issues.push(MemoryIssue {
            kind: "allocation_heavy",
            function: Some((*f).to_owned()),
            detail: format!(
                "{pct:.1}% ± {:.1} of the CPU time is spent in the allocator called from this function",
                sampling_error_percent(*k, total)
            ),
        });
        recommendations.push(Recommendation {
            function: (*f).to_owned(),
            remedy: "reuse buffers".into(),
            reason: format!("{pct:.1}% of the runtime allocates or frees inside it; reuse a buffer or borrow instead of copying"),
        });
    }
    if let Some(m) = memory {
        if let (Some(a), Some(unit)) = (m.allocations, &rules.unit_of_work) {
            let units_done = spans
                .rows
                .iter()
                .find(|r| r.function.ends_with(unit.span_suffix.as_str()))
                .map_or(0, |r| r.ncalls);
            if units_done > 0 && a / units_done > 100 {
                issues.push(MemoryIssue {
                    kind: "allocation_heavy",
                    function: None,
                    detail: format!("{a} allocations in the run, {} per {}", a / units_done, unit.noun),
                });
            }
        }
        let growth = m.end_rss_bytes as i64 - m.start_rss_bytes as i64;
        if m.start_rss_bytes > 0 && growth as f64 > 0.10 * m.start_rss_bytes as f64 {
            issues.push(MemoryIssue {
                kind: "rss_growth",
                function: None,
                detail: format!(
                    "RSS grew from {} to {} (peak {}) during the run",
                    units::bytes(m.start_rss_bytes),
                    units::bytes(m.end_rss_bytes),
                    units::bytes(m.peak_rss_bytes)
                ),
            });
        }
        if let Some(g) = m.heap_growth_bytes.filter(|g| *g > 1 << 20) {
            issues.push(MemoryIssue {
                kind: "heap_growth",
                function: None,
                detail: format!(
                    "{} of heap allocated during the run was still live at its end",
                    units::bytes(g.unsigned_abs())
                ),
            });
        }
    }
    for b in rows {
        let pct = bench_core::to_f64(b.percent_cumtime);
        for rule in rules.recommendations.iter().filter(|r| r.matches_name(&b.function)) {
            if rule.holds(pct, b.ncalls, b.category == Category::Variable) {
                recommendations.push(Recommendation {
                    function: b.function.clone(),
                    remedy: rule.remedy.clone(),
                    reason: rule.reason_for(pct, b.ncalls),
                });
            }
        }
        if b.category == Category::Import {
            continue; // start-up, reported once below
        }
        if bench_core::to_f64(b.percent_tottime) >= 10.0 {
            let short = b.function.rsplit("::").next().unwrap_or(&b.function);
            let how = if b.function.contains(".py::") {
                "a Python function: time its lines with line_profiler (decorate it with @profile, run kernprof -lv), or read its sampled lines in the profile's _cpu_lines.json".to_owned()
            } else if rules.is_probed(&b.function) {
                format!("run the lines profiler on it (--function {short})")
            } else if rules.probed_functions.is_empty() {
                "add #[line_probe] to it to get its line timings".to_owned()
            } else {
                format!(
                    "it has no line probes: add #[line_probe] to it for line timings (functions with probes: {})",
                    rules
                        .probed_functions
                        .iter()
                        .map(|f| f.rsplit("::").next().unwrap_or(f))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            recommendations.push(Recommendation {
                function: b.function.clone(),
                remedy: "deep-dive".into(),
                reason: format!("critical: {}% of the runtime is its own; {how}", fmt2(b.percent_tottime)),
            });
        }
    }
    // A rule on call counts alone also covers instrumented functions under the 0.5% listing
    // limit: a pool built per batch is cheap each time and still worth removing.
    for rule in rules.recommendations.iter().filter(|r| r.calls_only()) {
        if recommendations.iter().any(|x| x.remedy == rule.remedy) {
            continue;
        }
        if let Some(r) = spans
            .rows
            .iter()
            .find(|r| rule.matches_name(&r.function) && rule.holds(0.0, Some(r.ncalls), r.ncalls >= 10))
        {
            recommendations.push(Recommendation {
                function: r.function.clone(),
                remedy: rule.remedy.clone(),
                reason: rule.reason_for(0.0, Some(r.ncalls)),
            });
        }
    }
    (issues, recommendations)
}

/// The top bottlenecks as numbered lines — `1. f: 12.34% ± 0.50 own, 45.00% ± 0.90 inclusive
/// (450 calls) — VARIABLE` — with the function in backticks when `code` (Markdown). The one
/// rendering of this list, for reports and terminals alike.
pub fn top_bottleneck_lines(top: &[Bottleneck], code: bool) -> Vec<String> {
    top.iter()
        .enumerate()
        .map(|(i, b)| {
            let calls = b.ncalls.map_or("calls not instrumented".into(), |c| format!("{c} calls"));
            let f = if code { format!("`{}`", b.function) } else { b.function.clone() };
            format!(
                "{}. {f}: {}% ± {} own, {}% ± {} inclusive ({calls}) — {}",
                i + 1,
                fmt2(b.percent_tottime),
                fmt2(b.percent_tottime_error),
                fmt2(b.percent_cumtime),
                fmt2(b.percent_cumtime_error),
                b.category.as_str()
            )
        })
        .collect()
}

/// The Markdown bottleneck report.
pub fn bottleneck_markdown(r: &BottleneckReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Bottleneck analysis: {}", r.workflow);
    let _ = writeln!(s);
    let _ = writeln!(s, "## Executive summary");
    let _ = writeln!(s);
    // The CPU samples come from many repetitions; the span session is one traced run.
    let span_run = match r.summary.wall_seconds {
        Some(w) => format!("the traced run took {w} s"),
        None => "no traced run, so no call counts or seconds of its own".to_owned(),
    };
    let _ = writeln!(
        s,
        "{} application functions take ≥ 0.5% of the runtime ({} CPU samples; {span_run}; {}% of the samples were outside the application).",
        r.summary.bottlenecks_gt_05_percent,
        r.summary.cpu_samples,
        fmt2(r.summary.percent_outside_application)
    );
    if r.summary.percent_import > Decimal::ZERO {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "Imports (start-up): {}% of the samples were taken while modules were loading (Python's importlib); functions that ran only then are IMPORT and left out of the top 5.",
            fmt2(r.summary.percent_import)
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "TOP 5 BOTTLENECKS (own CPU time):");
    let _ = writeln!(s);
    for line in top_bottleneck_lines(&r.summary.top_5_bottlenecks, true) {
        let _ = writeln!(s, "{line}");
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "## All functions ≥ 0.5% of runtime");
    let _ = writeln!(s);
    let _ = writeln!(s, "| function | % own | % inclusive | ncalls | tottime (s) | cumtime (s) | category |");
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for b in &r.bottlenecks {
        let _ = writeln!(
            s,
            "| `{}` | {} ± {} | {} ± {} | {} | {} | {} | {}{} |",
            b.function,
            fmt2(b.percent_tottime),
            fmt2(b.percent_tottime_error),
            fmt2(b.percent_cumtime),
            fmt2(b.percent_cumtime_error),
            b.ncalls.map_or("—".into(), |c| c.to_string()),
            b.tottime_s.map_or("—".into(), |t| bench_core::round_display(t, 4).to_string()),
            b.cumtime_s.map_or("—".into(), |t| bench_core::round_display(t, 4).to_string()),
            b.category.as_str(),
            if b.category_source == "span" { String::new() } else { format!(" ({})", b.category_source) }
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "## Fixed vs variable costs");
    let _ = writeln!(s);
    let _ = writeln!(s, "| category | functions | % own runtime |");
    let _ = writeln!(s, "|---|---|---|");
    let _ = writeln!(
        s,
        "| FIXED (< 10 calls) | {} | {} |",
        r.summary.fixed.functions,
        fmt2(r.summary.fixed.percent_tottime)
    );
    let _ = writeln!(
        s,
        "| VARIABLE (≥ 10 calls) | {} | {} |",
        r.summary.variable.functions,
        fmt2(r.summary.variable.percent_tottime)
    );
    if r.summary.unknown.functions > 0 {
        let _ = writeln!(
            s,
            "| UNKNOWN (no call count: give --calls) | {} | {} |",
            r.summary.unknown.functions,
            fmt2(r.summary.unknown.percent_tottime)
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "## Memory efficiency issues");
    let _ = writeln!(s);
    if r.memory_efficiency_issues.is_empty() {
        let _ = writeln!(s, "None found.");
    }
    for m in &r.memory_efficiency_issues {
        let _ = writeln!(
            s,
            "- {}{}: {}",
            m.kind,
            m.function.as_ref().map(|f| format!(" in `{f}`")).unwrap_or_default(),
            m.detail
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "## Recommendations");
    let _ = writeln!(s);
    if r.recommendations.is_empty() {
        let _ = writeln!(s, "None.");
    }
    for x in &r.recommendations {
        let _ = writeln!(s, "- **{}** `{}`: {}", x.remedy, x.function, x.reason);
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Shares come from CPU sampling (± one standard error); call counts and seconds from tracing spans (exact, summed over threads). See docs/methodology.md."
    );
    s
}

/// Writes `<name>_bottlenecks.md` and `<name>_bottlenecks.json` into `dir`.
pub fn write_bottleneck_report(
    r: &BottleneckReport,
    name: &str,
    dir: &Path,
) -> Result<(PathBuf, PathBuf), ReportError> {
    let name = bench_core::RunId::new(name)?;
    let md = dir.join(format!("{name}_bottlenecks.md"));
    write(&md, &bottleneck_markdown(r))?;
    let json = dir.join(format!("{name}_bottlenecks.json"));
    let mut v = serde_json::to_value(r).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("schema_version".into(), 1.into());
    }
    write(&json, &pretty(&v))?;
    Ok((md, json))
}
