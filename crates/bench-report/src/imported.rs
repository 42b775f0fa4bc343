//! [`profile_folded`]: the bottleneck report, flame graph and Firefox Profiler file of another
//! profiler's stacks — a Python backtest recorded by py-spy, a `perf script` collapse — with
//! call counts, when given, from a separate exact count (cProfile's, for Python).

use std::path::{Path, PathBuf};

use bench_core::{BottleneckRules, Decimal, RunId};
use bench_profile::spans::{SpanProfile, SpanRow};
use bench_profile::{Artefact, ArtefactKind, ProfileOptions};

use crate::{PipelineOutput, ReportError, analyze_bottlenecks, describe_sampler, write_bottleneck_report};

/// What to read and how to name the results.
#[derive(Debug, Clone)]
pub struct FoldedRequest {
    /// The folded stacks (`frame;…;frame COUNT` per line; `.gz` is decompressed).
    pub stacks: PathBuf,
    /// Optional exact call counts, a JSON object `{"function": calls}` with the functions named
    /// as in the profile (py-spy frames become `file::function`).
    pub calls: Option<PathBuf>,
    /// File-name stem of every artefact.
    pub name: RunId,
    /// What the report calls the workload.
    pub title: String,
    /// Which functions are the code under study (name prefixes; empty: every function).
    pub application_prefixes: Vec<String>,
}

impl FoldedRequest {
    /// The request for the stacks at `stacks`, its artefacts named after the file (without
    /// `.gz`, `.folded`, `.txt`), after `run_id_` when one is given.
    ///
    /// ```
    /// use bench_report::FoldedRequest;
    /// let r = FoldedRequest::for_file("py/app.folded.gz".as_ref(), Some("nightly"), None, vec![]);
    /// assert_eq!((r.name.as_str(), r.title.as_str()), ("nightly_app", "py/app.folded.gz (folded stacks)"));
    /// ```
    pub fn for_file(
        stacks: &Path,
        run_id: Option<&str>,
        calls: Option<PathBuf>,
        application_prefixes: Vec<String>,
    ) -> Self {
        let stem = stacks.file_name().map_or("imported".into(), |n| n.to_string_lossy().into_owned());
        let stem = stem.trim_end_matches(".gz").trim_end_matches(".folded").trim_end_matches(".txt");
        let name = RunId::sanitized(&run_id.map_or(stem.to_owned(), |id| format!("{id}_{stem}")));
        let title = format!("{} (folded stacks)", stacks.display());
        Self { stacks: stacks.to_path_buf(), calls, name, title, application_prefixes }
    }
}

fn read_calls(path: &Path) -> Result<Vec<SpanRow>, ReportError> {
    let bad = |m: String| ReportError::Input(format!("{}: {m}", path.display()));
    let size = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?.len();
    let limit = bench_core::limits::json_file_limit();
    if size > limit {
        return Err(bad(format!("{size} bytes; call counts are at most {limit} bytes of JSON")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let obj = v.as_object().ok_or_else(|| bad("expected an object {\"function\": calls}".into()))?;
    obj.iter()
        .map(|(f, n)| {
            let n = n.as_u64().ok_or_else(|| bad(format!("{f:?}: calls must be a whole number, got {n}")))?;
            Ok(SpanRow {
                function: f.clone(),
                ncalls: n,
                primitive_calls: n,
                tottime_s: Decimal::ZERO,
                tottime_percall_s: Decimal::ZERO,
                cumtime_s: Decimal::ZERO,
                cumtime_percall_s: Decimal::ZERO,
                tottime_ns: 0,
                cumtime_ns: 0,
            })
        })
        .collect()
}

/// Reads `req.stacks` (and `req.calls`), writes the CPU files under `profiles_dir` and the
/// bottleneck report under `reports_dir`. Without call counts every function's category is
/// unknown ("calls not instrumented").
pub fn profile_folded(
    req: &FoldedRequest,
    profiles_dir: &Path,
    reports_dir: &Path,
) -> Result<PipelineOutput, ReportError> {
    let cpu = bench_profile::cpu::read_folded(&req.stacks)?;
    let rows = match &req.calls {
        Some(p) => read_calls(p)?,
        None => Vec::new(),
    };
    let spans = SpanProfile::from_rows(0, 0, rows);
    let options = ProfileOptions { title: req.title.clone(), ..ProfileOptions::default() };
    let mut artefacts = bench_profile::write_cpu_files(&cpu, profiles_dir, &req.name, &options)?;
    let prefixes = if req.application_prefixes.is_empty() {
        vec![String::new()]
    } else {
        req.application_prefixes.clone()
    };
    let rules = BottleneckRules { application_prefixes: prefixes, ..BottleneckRules::default() };
    let report = analyze_bottlenecks(&req.title, &spans, &cpu, None, &rules);
    let (md, json) = write_bottleneck_report(&report, req.name.as_str(), reports_dir)?;
    artefacts.push(Artefact::new(ArtefactKind::BottleneckReport, md));
    artefacts.push(Artefact::new(ArtefactKind::BottleneckReportJson, json));
    Ok(PipelineOutput {
        name: req.name.as_str().to_owned(),
        workflow: req.title.clone(),
        implementation: "imported".into(),
        top_5: report.summary.top_5_bottlenecks.clone(),
        lines_function: None,
        requested_sample_hz: None,
        effective_sample_hz: None,
        sampler: Some(describe_sampler(&cpu)),
        cpu_samples: Some(cpu.samples),
        repetitions_profiled: None,
        artefacts,
        bottlenecks: Some(report),
        warnings: Vec::new(),
    })
}
