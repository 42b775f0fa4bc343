//! The reports of a whole profiling run: the extended-operations report of its scenarios and
//! the consolidated report that links every artefact, plus its terminal summary and JSON.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use bench_profile::{Artefact, ArtefactKind};

use crate::bottleneck::top_bottleneck_lines;
use crate::extended::{ScenarioTable, extended_heading, extended_section};
use crate::pipeline::PipelineOutput;
use crate::{ReportError, write};

/// File name of the extended-operations report.
pub const EXTENDED_REPORT: &str = "EXTENDED_OPERATIONS_PROFILING_REPORT.md";
/// File name of the extended-operations report's sections as data (so a later run of one
/// scenario keeps the others' sections).
pub const EXTENDED_REPORT_JSON: &str = "EXTENDED_OPERATIONS_PROFILING_REPORT.json";
/// File name of the consolidated report.
pub const CONSOLIDATED_REPORT: &str = "CONSOLIDATED_PROFILING_REPORT.md";

/// Everything a profiling run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRun {
    /// One pipeline per profiled workflow.
    pub workflows: Vec<PipelineOutput>,
    /// The measured scenario sets.
    pub scenarios: Vec<ScenarioTable>,
    /// The run's own reports (extended, consolidated).
    pub reports: Vec<Artefact>,
    /// The extended report's text, when scenarios ran.
    pub extended_text: Option<String>,
}

/// Writes the extended report (when there are scenarios) and the consolidated report under
/// `profiles_dir`. `generated` and `command` are stated in both.
pub fn write_profile_reports(
    workflows: Vec<PipelineOutput>,
    scenarios: Vec<ScenarioTable>,
    profiles_dir: &Path,
    generated: &str,
    command: &str,
) -> Result<ProfileRun, ReportError> {
    let mut reports = Vec::new();
    let mut extended_text = None;
    if !scenarios.is_empty() {
        let json_path = profiles_dir.join(EXTENDED_REPORT_JSON);
        // Sections of scenarios this run did not measure are kept from the previous report.
        let mut sections: Vec<serde_json::Value> = std::fs::read_to_string(&json_path)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v.get("sections").and_then(|s| s.as_array()).cloned())
            .unwrap_or_default()
            .into_iter()
            .filter(|s| {
                let name = s.get("name").and_then(|n| n.as_str()).unwrap_or_default();
                !name.is_empty()
                    && s.get("markdown").is_some_and(|m| m.is_string())
                    && !scenarios.iter().any(|t| t.name == name)
            })
            .collect();
        let mut this_run = String::new();
        for t in &scenarios {
            let markdown = extended_section(t, profiles_dir, generated, command);
            this_run.push_str(&markdown);
            sections.push(serde_json::json!({
                "name": t.name, "generated": generated, "command": command, "markdown": markdown, "rows": t.rows,
            }));
        }
        sections.sort_by_key(|s| s["name"].as_str().unwrap_or_default().to_owned());
        let mut text = extended_heading();
        for s in &sections {
            text.push_str(s["markdown"].as_str().unwrap_or_default());
        }
        let path = profiles_dir.join(EXTENDED_REPORT);
        write(&path, &text)?;
        write(&json_path, &crate::pretty(&serde_json::json!({"schema_version": 1, "sections": sections})))?;
        reports.push(Artefact::new(ArtefactKind::ExtendedReport, path));
        reports.push(Artefact::new(ArtefactKind::ExtendedReportJson, json_path));
        extended_text = Some(this_run);
    }
    let scenario_files: Vec<Artefact> =
        reports.iter().cloned().chain(scenarios.iter().flat_map(ScenarioTable::artefacts)).collect();
    let path = profiles_dir.join(CONSOLIDATED_REPORT);
    write(&path, &consolidated_markdown(&workflows, &scenario_files, profiles_dir, generated, command))?;
    reports.push(Artefact::new(ArtefactKind::ConsolidatedReport, path));
    Ok(ProfileRun { workflows, scenarios, reports, extended_text })
}

impl ProfileRun {
    /// Each profiled workflow's traced run (one run of the workload with its spans recorded) in
    /// the Bencher Metric Format: `latency` in nanoseconds, named `profile/<name>` so it is never
    /// read as an untraced timing (what `--record` keeps).
    pub fn bmf(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for w in &self.workflows {
            if let Some(s) = w.bottlenecks.as_ref().and_then(|b| b.summary.wall_seconds) {
                let ns = (bench_core::to_f64(s) * 1e9).round();
                map.insert(format!("profile/{}", w.name), serde_json::json!({ "latency": { "value": ns } }));
            }
        }
        serde_json::Value::Object(map)
    }

    /// Every file written, in order: the workflows' artefacts, the scenarios', the reports.
    pub fn files(&self) -> Vec<PathBuf> {
        self.workflows
            .iter()
            .flat_map(|w| w.artefacts.iter().map(|a| a.path.clone()))
            .chain(self.scenarios.iter().flat_map(|t| t.artefacts().into_iter().map(|a| a.path)))
            .chain(self.reports.iter().map(|a| a.path.clone()))
            .collect()
    }

    /// The `--json` document.
    pub fn to_json(&self) -> serde_json::Value {
        let mut doc = serde_json::Map::new();
        doc.insert("schema_version".into(), 1.into());
        doc.insert("kind".into(), "profile".into());
        doc.insert("workflows".into(), serde_json::to_value(&self.workflows).unwrap_or_default());
        for t in &self.scenarios {
            doc.insert(t.name.clone(), serde_json::to_value(&t.rows).unwrap_or_default());
        }
        doc.insert("files".into(), serde_json::to_value(self.files()).unwrap_or_default());
        serde_json::Value::Object(doc)
    }

    /// The terminal summary: per workflow the sampling rate and the top bottlenecks, then the
    /// extended report's tables.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for p in &self.workflows {
            let _ = writeln!(s, "{} — {}", p.workflow, p.implementation);
            if let (Some(hz), Some(req)) = (p.effective_sample_hz, p.requested_sample_hz) {
                let _ = writeln!(
                    s,
                    "  CPU sampling: {} samples, effective {} Hz (requested {req} Hz), {}",
                    p.cpu_samples.unwrap_or(0),
                    bench_core::round_display(hz, 1),
                    p.sampler.as_deref().unwrap_or("sampler not recorded")
                );
            }
            if !p.top_5.is_empty() {
                let _ = writeln!(s, "  TOP 5 BOTTLENECKS (own CPU time):");
                for line in top_bottleneck_lines(&p.top_5, false) {
                    let _ = writeln!(s, "  {line}");
                }
            }
            for w in &p.warnings {
                let _ = writeln!(s, "  warning: {w}");
            }
            let _ = writeln!(s);
        }
        if let Some(t) = &self.extended_text {
            s.push_str(t);
        }
        s
    }
}

fn consolidated_markdown(
    workflows: &[PipelineOutput],
    scenario_files: &[Artefact],
    profiles_dir: &Path,
    generated: &str,
    command: &str,
) -> String {
    let root = profiles_dir.parent().unwrap_or(profiles_dir);
    let rel = |p: &Path| -> String {
        match p.strip_prefix(profiles_dir) {
            Ok(r) => r.display().to_string(),
            Err(_) => p
                .strip_prefix(root)
                .map_or_else(|_| p.display().to_string(), |r| format!("../{}", r.display())),
        }
    };
    let name = |p: &Path| p.file_name().map(|x| x.to_string_lossy().into_owned()).unwrap_or_default();
    let mut s = String::new();
    let _ = writeln!(s, "# Consolidated profiling report");
    let _ = writeln!(s);
    let _ = writeln!(s, "Generated {generated} by `{command}`. Every artefact of this run:");
    let _ = writeln!(s);
    for p in workflows {
        let _ = writeln!(s, "## {} — {}", p.workflow, p.implementation);
        let _ = writeln!(s);
        if let (Some(hz), Some(n)) = (p.effective_sample_hz, p.repetitions_profiled) {
            let _ = writeln!(
                s,
                "CPU profile: {n} repetition(s) of the workload, {} samples, effective sampling rate {} Hz ({}).",
                p.cpu_samples.unwrap_or(0),
                bench_core::round_display(hz, 1),
                p.sampler.as_deref().unwrap_or("sampler not recorded")
            );
            let _ = writeln!(s);
        }
        if !p.top_5.is_empty() {
            let _ = writeln!(s, "Top bottlenecks (own CPU time):");
            let _ = writeln!(s);
            for line in top_bottleneck_lines(&p.top_5, true) {
                let _ = writeln!(s, "{line}");
            }
            let _ = writeln!(s);
        }
        for a in &p.artefacts {
            let _ = writeln!(s, "- [{}]({}) — {}", name(&a.path), rel(&a.path), a.kind.describe());
        }
        let _ = writeln!(s);
    }
    if !scenario_files.is_empty() {
        let _ = writeln!(s, "## Extended scenarios");
        let _ = writeln!(s);
        for a in scenario_files {
            let _ = writeln!(s, "- [{}]({}) — {}", name(&a.path), rel(&a.path), a.kind.describe());
        }
        let _ = writeln!(s);
    }
    s
}
