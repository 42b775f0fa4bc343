//! The performance report of a sequential evaluation: Markdown, JSON, an SVG chart of run
//! times and a Bencher Metric Format export — one exporter per format.

use std::fmt::Write;

use bench_core::units::{self, fmt2};
use bench_core::{Decimal, Environment, Workload, round_display};
use bench_optimizations::{AaCalibration, Decision, SequenceReport, StepRecord};
use bench_threshold::Evaluation;
use serde::Serialize;

use crate::chart::TimingPoint;

/// Context a report states besides the evaluation itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportMeta {
    /// File-name stem, e.g. `grid_search_bundled`.
    pub name: String,
    /// Title, e.g. `grid search on real data`.
    pub title: String,
    /// The exact command that reproduces the run.
    pub command: String,
    /// RFC 3339 time the report was generated.
    pub generated: String,
    /// One line on the workload.
    pub workload_description: String,
    /// Workload characteristics.
    pub workload: Workload,
    /// Preset used.
    pub preset: String,
    /// Where and how it ran (from the raw data).
    pub environment: Option<Environment>,
}

/// The run times the chart shows: the baseline, then each accepted step as measured in its own
/// comparison (its candidate side), labelled with its improvement in that comparison — bars
/// from different comparisons carry each comparison's own conditions, so a step's gain is read
/// from its label, not from the bar above it.
pub fn timing_points(report: &SequenceReport) -> Vec<TimingPoint> {
    let mut out = Vec::new();
    if let Some(first) = report.steps.iter().find_map(|s| s.evaluation.as_ref()) {
        out.push(TimingPoint {
            label: "baseline".into(),
            mean_s: first.baseline_mean_s,
            ci_95: first.baseline_ci_95,
        });
    }
    for s in report.steps.iter().filter(|s| s.decision == Decision::Accepted) {
        if let Some(e) = &s.evaluation {
            out.push(TimingPoint {
                label: format!("+ {} ({}% faster in its comparison)", s.name, fmt2(e.improvement_percent)),
                mean_s: e.optimized_mean_s,
                ci_95: e.optimized_ci_95,
            });
        }
    }
    out
}

fn secs(d: Decimal) -> String {
    units::duration_decimal(d)
}

fn ci(c: &[Decimal; 2]) -> String {
    format!("[{}, {}]", secs(c[0]), secs(c[1]))
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The Markdown report. `chart_file` is linked when given (relative to the report).
pub fn performance_markdown(report: &SequenceReport, meta: &ReportMeta, chart_file: Option<&str>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Performance report: {}", meta.title);
    let _ = writeln!(s);
    if !report.complete {
        let _ = writeln!(
            s,
            "> **INCOMPLETE**: the evaluation was interrupted; the figures below cover what completed."
        );
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "Generated {} · preset `{}` · {}",
        meta.generated, meta.preset, meta.workload_description
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "## Summary");
    let _ = writeln!(s);
    let _ = writeln!(s, "| figure | value |");
    let _ = writeln!(s, "|---|---|");
    let _ = writeln!(
        s,
        "| product of the accepted steps' estimates (not a bound) | {}% |",
        fmt2(report.cumulative_improvement_percent)
    );
    match &report.direct_check {
        Some(d) => {
            let _ = writeln!(
                s,
                "| direct check, baseline → final stack | {}%, one-sided {}% bounds {} (speedup {}×) |",
                fmt2(d.evaluation.improvement_percent),
                fmt2(d.evaluation.bound.confidence * Decimal::ONE_HUNDRED),
                d.evaluation.bound.interval_text(),
                round_display(d.evaluation.speedup_ratio, 2),
            );
        }
        None => {
            let _ = writeln!(
                s,
                "| direct check, baseline → final stack | not run (nothing accepted, interrupted, or not asked for) |"
            );
        }
    }
    let _ = writeln!(s, "| goal | {}% — {} |", fmt2(report.goal_improvement_percent), goal_text(report));
    let _ = writeln!(s, "| stop reason | {} |", report.stop_reason.describe());
    let accepted = if report.accepted.is_empty() { "none".to_owned() } else { report.accepted.join(", ") };
    let _ = writeln!(s, "| accepted | {accepted} |");
    if !report.not_evaluated.is_empty() {
        let _ = writeln!(s, "| not evaluated | {} |", report.not_evaluated.join(", "));
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "## Optimizations");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| # | optimization | equivalence | improvement | one-sided bounds | speedup | baseline 95% CI | candidate 95% CI | memory | decision |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|");
    for st in &report.steps {
        let eq = if st.equivalence.passed { "pass" } else { "FAIL" };
        match &st.evaluation {
            Some(e) => {
                let mem =
                    e.memory_increase_percent.map_or("not measured".into(), |m| format!("{}%", fmt2(m)));
                let _ = writeln!(
                    s,
                    "| {} | {} | {eq} | {}% | {} | {}× | {} | {} | {mem} | {} |",
                    st.position,
                    st.name,
                    fmt2(e.improvement_percent),
                    e.bound.interval_text(),
                    round_display(e.speedup_ratio, 2),
                    ci(&e.baseline_ci_95),
                    ci(&e.optimized_ci_95),
                    st.decision.label()
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "| {} | {} | {eq} | — | — | — | — | — | — | {} |",
                    st.position,
                    st.name,
                    st.decision.label()
                );
            }
        }
    }
    let _ = writeln!(s);
    for st in &report.steps {
        step_section(&mut s, st);
    }
    if let Some(chart) = chart_file {
        let _ = writeln!(s, "## Run times");
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "Mean wall time with 95% CI of the baseline and of each accepted step, as measured in its own paired comparison."
        );
        let _ = writeln!(s);
        let _ = writeln!(s, "![run times of the baseline and each accepted step]({chart})");
        let _ = writeln!(s);
    }
    let t = &report.threshold;
    let _ = writeln!(s, "## Threshold");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "`{}/{}`: {}, memory increase ≤ {}%, ≥ {} pairs. {}",
        t.workflow_type,
        t.dataset_size_category,
        match t.rule {
            bench_threshold::Rule::Strict => format!(
                "the one-sided {}% lower bound of the improvement of mean time ≥ {}% (strict rule)",
                (t.statistical_confidence * Decimal::ONE_HUNDRED).normalize(),
                fmt2(t.min_improvement_percent)
            ),
            bench_threshold::Rule::Classic => format!(
                "improvement ≥ {}% and one-tailed t-test p < {} (classic rule)",
                fmt2(t.min_improvement_percent),
                t.alpha()
            ),
        },
        fmt2(t.max_memory_increase_percent),
        t.min_sample_size,
        t.rationale
    );
    let _ = writeln!(s);
    if let Some(env) = &meta.environment {
        let _ = writeln!(s, "## Environment");
        let _ = writeln!(s);
        let _ = writeln!(s, "| | |");
        let _ = writeln!(s, "|---|---|");
        let _ = writeln!(s, "| CPU | {} ({} cores) |", env.cpu, env.cores);
        let _ = writeln!(s, "| OS | {} |", env.os);
        let _ = writeln!(s, "| compiler | {} |", env.rustc);
        let _ = writeln!(s, "| build | {} |", env.build_profile);
        let _ = writeln!(
            s,
            "| commit | {}{} |",
            env.git_commit.as_deref().unwrap_or("unknown"),
            if env.git_dirty == Some(true) { " (dirty tree)" } else { "" }
        );
        let _ = writeln!(s, "| clock source | {} |", env.clocksource.as_deref().unwrap_or("unknown"));
        if let Some(c) = env.timer_cost_ns {
            let _ = writeln!(s, "| timer cost | {c} ns |");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## Reproduce");
    let _ = writeln!(s);
    let _ = writeln!(s, "```");
    let _ = writeln!(s, "{}", meta.command);
    let _ = writeln!(s, "```");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Each comparison's raw timings are in the raw-data files named above; `cargo xtask evaluate --baseline A --candidate B` recomputes any verdict from them."
    );
    s
}

fn step_section(s: &mut String, st: &StepRecord) {
    let _ = writeln!(s, "### {}. {} — {}", st.position, st.name, st.decision.label());
    let _ = writeln!(s);
    let mut description = st.description.clone();
    if let Some(first) = description.get(..1) {
        description.replace_range(..1, &first.to_uppercase());
    }
    let _ = writeln!(s, "{description}. Compared against: {}.", st.compared_against);
    let _ = writeln!(s);
    match (&st.equivalence.report, &st.equivalence.error) {
        (Some(r), _) => {
            let _ = writeln!(
                s,
                "- Equivalence: passed — {} values over {} cases, largest difference {:.1e} (tolerance {:.0e}, {:?} mode).",
                r.values_compared, r.cases, r.max_scaled_difference, r.tolerance, r.mode
            );
        }
        (None, Some(e)) => {
            let _ = writeln!(s, "- Equivalence: FAILED — {e}");
        }
        _ => {}
    }
    if let Some(e) = &st.evaluation {
        evaluation_lines(s, e);
        if let Some(q) = &e.adaptive {
            let end = |x: Option<Decimal>, inf: &str| x.map_or(inf.to_owned(), |v| format!("{}%", fmt2(v)));
            let _ = writeln!(
                s,
                "- Adaptive sampling: {} after {} pairs in {} (stopped: {}); confidence sequence of the improvement of mean time at the stop [{}, {}], estimate {}% (biased away from the threshold by stopping early; the interval holds).",
                outcome_text(q.outcome),
                q.pairs_used,
                units::duration_decimal(q.seconds),
                q.stopped_by,
                end(q.interval_at_stop_percent[0], "−∞"),
                end(q.interval_at_stop_percent[1], "+∞"),
                fmt2(q.estimate_percent)
            );
            if !q.path.is_empty() {
                let _ = writeln!(
                    s,
                    "\n  ![running estimate and confidence sequence]({})",
                    path_chart_name(&st.name)
                );
            }
        }
    }
    let _ =
        writeln!(s, "- Cumulative improvement after this step: {}%", fmt2(st.cumulative_improvement_percent));
    if let (Some(b), Some(c)) = (&st.baseline_raw, &st.candidate_raw) {
        let _ = writeln!(s, "- Raw data: `raw_data/{}`, `raw_data/{}`", file_name(b), file_name(c));
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "> {}", st.rationale);
    let _ = writeln!(s);
}

/// How an adaptive comparison ended, in words.
pub fn outcome_text(o: bench_threshold::AdaptiveOutcome) -> &'static str {
    match o {
        bench_threshold::AdaptiveOutcome::Accepted => "decided: the lower bound reached the threshold",
        bench_threshold::AdaptiveOutcome::Rejected => "decided: the upper bound fell below the threshold",
        bench_threshold::AdaptiveOutcome::Inconclusive => {
            "inconclusive: the sequence still contained the threshold"
        }
    }
}

/// File name of a step's adaptive-path chart (beside the report; `<report name>_` is prefixed
/// when written).
pub(crate) fn path_chart_name(step: &str) -> String {
    format!("path_{}.svg", bench_core::RunId::sanitized(step))
}

fn evaluation_lines(s: &mut String, e: &Evaluation) {
    let _ = writeln!(
        s,
        "- Mean {} → {} ({}% improvement, {}× speedup); paired difference CV {}% of the baseline mean.",
        secs(e.baseline_mean_s),
        secs(e.optimized_mean_s),
        fmt2(e.improvement_percent),
        round_display(e.speedup_ratio, 3),
        fmt2(e.difference_cv_percent)
    );
    let _ = writeln!(s, "- Estimand: the {}.", e.bound.statement());
    let _ = writeln!(
        s,
        "- Decided by the {} rule; the classic rule (point estimate and p against no improvement) says {}. Paired t-test (one-tailed, fixed sample): t = {}, df = {}, p = {}{}.",
        e.rule.as_str(),
        e.classic_verdict.label(),
        e.t_statistic.map_or("undefined (zero variance)".into(), |t| round_display(t, 3).to_string()),
        e.degrees_of_freedom,
        units::p_value(e.p_value),
        if e.zero_variance { " (zero-variance rule)" } else { "" }
    );
    let _ =
        writeln!(s, "- 95% CI: baseline {}, candidate {}.", ci(&e.baseline_ci_95), ci(&e.optimized_ci_95));
    match (&e.memory, e.memory_increase_percent) {
        (Some(m), Some(p)) => {
            let _ = writeln!(
                s,
                "- Memory ({}): {} → {} ({}%).",
                m.metric,
                units::bytes(m.baseline_bytes),
                units::bytes(m.candidate_bytes),
                fmt2(p)
            );
        }
        _ => {
            let _ = writeln!(s, "- Memory: not measured.");
        }
    }
    if e.verdict == bench_threshold::Verdict::Inconclusive {
        let _ = writeln!(
            s,
            "- Inconclusive: minimum detectable effect with {} pairs {}%{}; about {} pairs would decide at this noise.",
            e.baseline_sample_size,
            fmt2(e.minimum_detectable_effect_percent),
            if e.underpowered { " (UNDERPOWERED)" } else { "" },
            e.bound.pairs_to_decide.map_or("an unknown number of".into(), |p| p.to_string())
        );
    }
    let _ = writeln!(
        s,
        "- Outliers kept: baseline {} mild / {} severe, candidate {} mild / {} severe.",
        e.baseline_outliers.mild,
        e.baseline_outliers.severe,
        e.optimized_outliers.mild,
        e.optimized_outliers.severe
    );
}

/// The JSON report document.
pub fn performance_json(report: &SequenceReport, meta: &ReportMeta) -> serde_json::Value {
    serde_json::json!({
        "schema_version": 1,
        "kind": "sequential_evaluation",
        "name": meta.name,
        "title": meta.title,
        "generated": meta.generated,
        "command": meta.command,
        "preset": meta.preset,
        "workload": {
            "description": meta.workload_description,
            "dataset_size": meta.workload.dataset_size,
            "parameter_combinations": meta.workload.parameter_combinations,
            "backtest_count": meta.workload.backtest_count,
        },
        "cumulative_improvement_percent": report.cumulative_improvement_percent,
        "direct_improvement_percent": report.direct_improvement_percent,
        "goal_improvement_percent": report.goal_improvement_percent,
        "goal_achieved": report.goal_achieved,
        "stop_reason": report.stop_reason,
        "complete": report.complete,
        "accepted": report.accepted,
        "not_evaluated": report.not_evaluated,
        "optimizations": report.steps,
        "direct_check": report.direct_check,
        "threshold": report.threshold,
        "timings": timing_points(report),
        "environment": meta.environment,
    })
}

/// The Bencher Metric Format export: one benchmark per measured configuration, `latency` in
/// nanoseconds with the 95% CI as lower and upper values.
pub fn bmf_json(report: &SequenceReport, meta: &ReportMeta) -> serde_json::Value {
    let ns = |d: Decimal| (d * Decimal::from(1_000_000_000u64)).round_dp(0);
    let mut map = serde_json::Map::new();
    let mut put = |label: &str, mean: Decimal, ci: &[Decimal; 2]| {
        map.insert(
            format!("{}/{}", meta.name, label),
            serde_json::json!({ "latency": { "value": ns(mean), "lower_value": ns(ci[0]), "upper_value": ns(ci[1]) } }),
        );
    };
    if let Some(first) = report.steps.iter().find_map(|s| s.evaluation.as_ref()) {
        put("baseline", first.baseline_mean_s, &first.baseline_ci_95);
    }
    for st in &report.steps {
        if let Some(e) = &st.evaluation {
            put(&st.name, e.optimized_mean_s, &e.optimized_ci_95);
        }
    }
    serde_json::Value::Object(map)
}

/// The summary table of a sequential evaluation, for a terminal: one row per optimization,
/// the first sentence of the rationale under every one not accepted, then the cumulative
/// figures.
pub fn sequence_summary(r: &SequenceReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>2}  {:<20} {:<11} {:>11} {:>20} {:>9} {:>11} {:>6} {:>9}  decision",
        "#",
        "optimization",
        "equivalence",
        "improvement",
        "one-sided bounds",
        "speedup",
        "memory",
        "pairs",
        "time"
    );
    for st in &r.steps {
        let eq = if st.equivalence.passed { "pass" } else { "FAIL" };
        let decision = st.decision.label();
        match &st.evaluation {
            Some(e) => {
                let mem = e.memory_increase_percent.map_or("n/a".into(), units::percent);
                let (pairs, time) = match &e.adaptive {
                    Some(q) => (q.pairs_used.to_string(), units::duration_decimal(q.seconds)),
                    None => (e.baseline_sample_size.to_string(), "—".into()),
                };
                let _ = writeln!(
                    s,
                    "{:>2}  {:<20} {:<11} {:>11} {:>20} {:>8}× {:>11} {:>6} {:>9}  {decision}",
                    st.position,
                    st.name,
                    eq,
                    units::percent(e.improvement_percent),
                    e.bound.interval_text(),
                    round_display(e.speedup_ratio, 2),
                    mem,
                    pairs,
                    time
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "{:>2}  {:<20} {:<11} {:>11} {:>20} {:>9} {:>11} {:>6} {:>9}  {decision}",
                    st.position, st.name, eq, "—", "—", "—", "—", "—", "—"
                );
            }
        }
        if st.decision != Decision::Accepted {
            let _ = writeln!(s, "      {}", first_sentence(&st.rationale));
        }
    }
    let direct = r.direct_check.as_ref().map_or("not run".into(), |d| {
        format!(
            "{}, bounds {} ({} pairs)",
            units::percent(d.evaluation.improvement_percent),
            d.evaluation.bound.interval_text(),
            d.evaluation.baseline_sample_size
        )
    });
    let _ = writeln!(
        s,
        "\ndirect check baseline → final: {direct}; goal {} {}; product of the accepted steps' estimates {} (not a bound); stopped: {}",
        units::percent(r.goal_improvement_percent),
        goal_text(r),
        units::percent(r.cumulative_improvement_percent),
        r.stop_reason.as_str()
    );
    if !r.not_evaluated.is_empty() {
        let _ = writeln!(s, "not evaluated (stopped first): {}", r.not_evaluated.join(", "));
    }
    if !r.complete {
        let _ = writeln!(
            s,
            "INCOMPLETE: interrupted; these figures cover what completed, and the report is written beside the last complete one"
        );
    }
    s
}

/// Whether the goal was shown, in words.
fn goal_text(r: &SequenceReport) -> &'static str {
    match (&r.direct_check, r.goal_achieved) {
        (_, true) => "achieved (the direct check's lower bound reaches it)",
        (Some(_), false) => "not shown (the direct check's lower bound is below it)",
        (None, false) => "not shown (no direct check)",
    }
}

fn first_sentence(s: &str) -> String {
    let cut = s.find(". ").map_or(s.len(), |i| i + 1);
    s[..cut].to_owned()
}

/// The JSON document of an A/A calibration of `workload`.
pub fn aa_json(c: &AaCalibration, workload: &str) -> serde_json::Value {
    serde_json::json!({
        "schema_version": 1,
        "kind": "aa_calibration",
        "workload": workload,
        "implementation": c.implementation,
        "pairs_per_comparison": c.pairs_per_comparison,
        "repetitions": c.repetitions,
        "wrongly_accepted": c.wrongly_accepted,
        "significant_at_alpha": c.significant_at_alpha,
        "alpha": c.alpha,
        "threshold": c.threshold,
        "rows": c.rows,
    })
}

/// The terminal summary of an A/A calibration of `workload`.
pub fn aa_text(c: &AaCalibration, workload: &str) -> String {
    format!(
        "A/A calibration of {} ({workload}), {} pairs per comparison:\n  wrongly accepted {} of {}; significant at α = {}: {} of {}\n",
        c.implementation,
        c.pairs_per_comparison,
        c.wrongly_accepted,
        c.repetitions,
        c.alpha,
        c.significant_at_alpha,
        c.repetitions
    )
}

/// `target` as a link from a page in `from`: relative when both are under one folder.
fn link(target: &std::path::Path, from: &std::path::Path) -> String {
    let (t, f) =
        (std::path::absolute(target).unwrap_or_default(), std::path::absolute(from).unwrap_or_default());
    match (t.parent().and_then(|p| p.parent()), f.parent()) {
        (Some(a), Some(b)) if a == b => {
            let rel = t.strip_prefix(a).unwrap_or(&t);
            format!("../{}", rel.display())
        }
        _ => format!("file://{}", t.display()),
    }
}

/// The report as one self-contained HTML page: the outcome and cumulative figures, then per
/// optimization its decision and rationale, its figures (carrying the JSON's values in
/// `data-value`), both sides' runs (read from the raw data) and the confidence sequence pair by
/// pair; the `flame_graphs` of the workflow linked (from a page written in `dir`).
pub fn performance_html(
    report: &SequenceReport,
    meta: &ReportMeta,
    flame_graphs: &[std::path::PathBuf],
    dir: &std::path::Path,
) -> String {
    use crate::html::{escape, page, table};
    let number = |d: &Decimal| {
        serde_json::to_value(d)
            .map_or_else(|_| String::new(), |v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
    };
    let mut b = format!("<h1>Performance report: {}</h1>\n", escape(&meta.title));
    let _ = writeln!(
        b,
        "<p class=\"meta\">{} · generated {} · preset {} · reproduce with <code>{}</code></p>",
        escape(&meta.workload_description),
        escape(&meta.generated),
        escape(&meta.preset),
        escape(&meta.command)
    );
    if !report.complete {
        b.push_str("<p class=\"verdict inconclusive\">INCOMPLETE: interrupted; this report covers what completed.</p>\n");
    }
    let goal = if report.goal_achieved { "accepted" } else { "inconclusive" };
    let _ = writeln!(
        b,
        "<p id=\"outcome\" class=\"verdict {goal}\">cumulative improvement <span id=\"cumulative\" data-value=\"{}\">{}</span> of a {} goal ({}); accepted: {}</p>",
        number(&report.cumulative_improvement_percent),
        units::percent(report.cumulative_improvement_percent),
        units::percent(report.goal_improvement_percent),
        if report.goal_achieved { "reached" } else { "not reached" },
        escape(&if report.accepted.is_empty() { "none".to_owned() } else { report.accepted.join(", ") })
    );
    let rows: Vec<Vec<String>> = report
        .steps
        .iter()
        .map(|st| {
            let class = crate::html::decision_class(st.decision);
            let imp = st.evaluation.as_ref().map_or("–".into(), |e| units::percent(e.improvement_percent));
            vec![
                st.position.to_string(),
                format!("<a href=\"#step-{}\">{}</a>", st.position, escape(&st.name)),
                format!(
                    "<span class=\"verdict {class}\" data-decision=\"{class}\">{}</span>",
                    escape(st.decision.label())
                ),
                imp,
                units::percent(st.cumulative_improvement_percent),
            ]
        })
        .collect();
    let head = ["#", "optimization", "decision", "improvement", "cumulative"];
    let _ = writeln!(b, "<h2>Optimizations</h2>\n{}", table(&head, &rows, &[0, 3, 4]));
    if !flame_graphs.is_empty() {
        let items: String = flame_graphs
            .iter()
            .map(|f| {
                format!(
                    "<li><a href=\"{}\">{}</a></li>",
                    escape(&link(f, &dir.join("x"))),
                    escape(&f.file_name().unwrap_or_default().to_string_lossy())
                )
            })
            .collect();
        let _ = writeln!(b, "<h2>Flame graphs of this workflow</h2>\n<ul id=\"flame-graphs\">{items}</ul>");
    }
    let threshold = bench_core::to_f64(report.threshold.min_improvement_percent);
    for st in &report.steps {
        let class = crate::html::decision_class(st.decision);
        let _ = writeln!(b, "<section class=\"step\" id=\"step-{}\">", st.position);
        let _ = writeln!(
            b,
            "<h2>{}. {} <small>against {}</small></h2>",
            st.position,
            escape(&st.name),
            escape(&st.compared_against)
        );
        let _ = writeln!(
            b,
            "<p class=\"verdict {class}\">{}</p>\n<p class=\"rationale\">{}</p>",
            escape(st.decision.label()),
            escape(&st.rationale)
        );
        let Some(e) = &st.evaluation else {
            b.push_str("</section>\n");
            continue;
        };
        let pct = |d: Option<Decimal>| {
            d.map_or("<span data-value=\"\">unbounded</span>".into(), |v| {
                format!("<span data-value=\"{}\">{}</span>", number(&v), units::percent(v))
            })
        };
        let rows = vec![
            vec!["improvement of mean time".into(), pct(Some(e.improvement_percent))],
            vec!["lower bound".into(), pct(e.bound.lower_percent)],
            vec!["upper bound".into(), pct(e.bound.upper_percent)],
            vec!["baseline mean".into(), units::duration_decimal(e.baseline_mean_s)],
            vec!["candidate mean".into(), units::duration_decimal(e.optimized_mean_s)],
            vec!["memory".into(), e.memory_increase_percent.map_or("not measured".into(), units::percent)],
        ];
        let _ = writeln!(b, "{}", table(&["figure", "value"], &rows, &[1]));
        let runs = |p: &Option<std::path::PathBuf>| -> Vec<f64> {
            p.as_deref()
                .and_then(|p| bench_core::RawData::read(p).ok())
                .map(|r| r.runs.iter().map(|x| x.wall_ns as f64 / 1e9).collect())
                .unwrap_or_default()
        };
        let (a, c) = (runs(&st.baseline_raw), runs(&st.candidate_raw));
        if !a.is_empty() && !c.is_empty() {
            let sides = [(st.compared_against.as_str(), a.as_slice()), (st.name.as_str(), c.as_slice())];
            if let Ok(svg) = crate::chart::runs_svg(&sides, "wall time", "every run of both sides") {
                let _ = writeln!(b, "<figure>{svg}</figure>");
            }
        }
        if let Some(q) = e.adaptive.as_ref().filter(|q| !q.path.is_empty()) {
            let title = format!("{} pairs, {}", q.pairs_used, outcome_text(q.outcome));
            if let Ok(svg) = crate::chart::adaptive_path_svg(&q.path, threshold, &title) {
                let _ = writeln!(b, "<figure>{svg}</figure>");
            }
        }
        b.push_str("</section>\n");
    }
    page(&format!("Performance report: {}", meta.title), &b, "")
}
