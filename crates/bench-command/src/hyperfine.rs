//! hyperfine's `--export-json` format, so hyperfine's own scripts (plots, statistics) read the
//! runs of a comparison.

use bench_core::Sample;
use serde_json::{Value, json};

use crate::{CommandComparison, SideSummary};

fn entry(side: &SideSummary) -> Option<Value> {
    let t = &side.times_s;
    if t.is_empty() {
        return None;
    }
    // hyperfine's figures (its `statistical` crate: sample standard deviation, the median as
    // the mean of the middle two) are bench-stats' own: one source for each statistic.
    let (mean, stddev) = match Sample::new(t.clone()) {
        Ok(s) => (bench_stats::mean(&s), Some(bench_stats::std_dev(&s))),
        Err(_) => (t[0], None),
    };
    let median = bench_stats::median(t)?;
    let min = t.iter().copied().fold(f64::INFINITY, f64::min);
    let max = t.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // hyperfine splits CPU time into user and system; the kernel's per-child figure is read
    // here as their sum, so `user` carries it all and `system` is 0.
    let cpu = side.cpu_s.iter().sum::<f64>() / side.cpu_s.len().max(1) as f64;
    let mut e = json!({
        "command": side.command,
        "mean": mean,
        "stddev": stddev,
        "median": median,
        "user": cpu,
        "system": 0.0,
        "min": min,
        "max": max,
        "times": t,
        "exit_codes": side.exit_codes,
    });
    if side.peak_rss_bytes.len() == t.len() {
        e["memory_usage_byte"] = json!(side.peak_rss_bytes);
    }
    Some(e)
}

/// The comparison's runs as a hyperfine export: `{"results": [baseline, candidate]}` with
/// hyperfine's fields (`command`, `mean`, `stddev`, `median`, `user`, `system`, `min`, `max`,
/// `times`, `exit_codes`, `memory_usage_byte`), in seconds. A side that was not timed (a
/// blocked candidate) is left out.
pub fn hyperfine_export(c: &CommandComparison) -> Value {
    let results: Vec<Value> = [entry(&c.baseline), entry(&c.candidate)].into_iter().flatten().collect();
    json!({ "results": results })
}
