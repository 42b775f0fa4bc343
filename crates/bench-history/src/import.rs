//! Reading this toolkit's result files, hyperfine's exports and Bencher Metric Format documents
//! as history records.

use std::path::Path;

use crate::{HistoryError, Record, Source, bmf_records};

/// The records of one file, its format recognised by its keys:
///
/// - this toolkit's raw data (`profiling-results/raw_data/*.json`): one `latency` and one
///   `cpu-time` record (mean, least and most run, ns) named `<workflow>/<configuration>`, with
///   the commit, dirty flag, machine and time the file itself records (`source` fills in what
///   it lacks);
/// - `hyperfine --export-json`: one `latency` record per command (mean, min, max; ns);
/// - Bencher Metric Format (`--export-bmf`, the ladder's BMF files): every benchmark and measure.
///
/// Errors name the file and what was expected; nothing is returned from a file with one bad
/// entry.
pub fn import_file(path: &Path, source: &Source) -> Result<Vec<Record>, HistoryError> {
    let named = |m: String| HistoryError::Input(format!("{}: {m}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| named(format!("cannot read it: {e}")))?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| named(format!("not a JSON document ({e})")))?;
    if doc.get("runs").is_some() && doc.get("environment").is_some() {
        let raw = bench_core::RawData::parse(&text, path).map_err(|e| HistoryError::Input(e.to_string()))?;
        return Ok(raw_records(&raw, source));
    }
    if let Some(results) = doc.get("results").and_then(serde_json::Value::as_array) {
        return results
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let number = |k: &str| {
                    r.get(k).and_then(serde_json::Value::as_f64).ok_or_else(|| {
                        named(format!("results[{i}]: no numeric {k:?} (expected hyperfine --export-json)"))
                    })
                };
                let command = r.get("command").and_then(serde_json::Value::as_str).unwrap_or("command");
                let mean = number("mean")? * 1e9;
                Ok(Record {
                    lower: Some(number("min")? * 1e9),
                    upper: Some(number("max")? * 1e9),
                    ..Record::new(source, command, "latency", "ns", mean)
                })
            })
            .collect();
    }
    bmf_records(&text, source).map_err(|e| named(e.to_string()))
}

/// A raw-data file's mean, least and most wall and CPU time.
fn raw_records(raw: &bench_core::RawData, fallback: &Source) -> Vec<Record> {
    let env = &raw.environment;
    let source = Source {
        commit: env.git_commit.clone().unwrap_or_else(|| fallback.commit.clone()),
        dirty: env.git_dirty.unwrap_or(fallback.dirty),
        machine: bench_measure::sys::machine_of(&env.cpu, env.cores),
        recorded_at: humantime::parse_rfc3339_weak(&env.started)
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(fallback.recorded_at, |d| d.as_secs() as i64),
    };
    let benchmark = format!("{}/{}", raw.workflow_type, raw.configuration_name);
    let mut out = Vec::new();
    for (metric, ns) in [
        ("latency", raw.runs.iter().map(|r| r.wall_ns as f64).collect::<Vec<_>>()),
        ("cpu-time", raw.runs.iter().map(|r| r.cpu_ns as f64).collect()),
    ] {
        if ns.is_empty() {
            continue;
        }
        let mean = ns.iter().sum::<f64>() / ns.len() as f64;
        let (lo, hi) = ns.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| (l.min(x), h.max(x)));
        out.push(Record {
            lower: Some(lo),
            upper: Some(hi),
            ..Record::new(&source, &benchmark, metric, "ns", mean)
        });
    }
    out
}
