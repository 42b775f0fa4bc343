//! hyperfine's `--export-json` format, so hyperfine's own scripts (plots, statistics) read the
//! runs of a comparison.

use serde_json::{Value, json};

use crate::{CommandComparison, SideSummary};

fn entry(side: &SideSummary) -> Option<Value> {
    let t = &side.times_s;
    if t.is_empty() {
        return None;
    }
    let n = t.len() as f64;
    let mean = t.iter().sum::<f64>() / n;
    let stddev =
        (t.len() > 1).then(|| (t.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)).sqrt());
    let mut sorted = t.clone();
    sorted.sort_by(f64::total_cmp);
    let median = if sorted.len() % 2 == 1 {
        sorted[sorted.len() / 2]
    } else {
        (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2]) / 2.0
    };
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
        "min": sorted[0],
        "max": sorted[sorted.len() - 1],
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
