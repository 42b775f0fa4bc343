//! The extended-operations scenarios: batch initialisation across bundle sizes and the parallel
//! coordinator across worker counts.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use bench_profile::{flame, sys};
use bench_workloads::{Bundle, Params, backtest_metrics, build_pool, combinations, derive};
use serde::Serialize;

/// Bars per derived asset in the batch-init scenario (one trading year).
pub const BARS_PER_ASSET: usize = 252;
/// Bundle sizes of the batch-init scenario.
pub const ASSET_COUNTS: [usize; 4] = [10, 50, 100, 500];
/// Worker counts of the parallel-coordinator scenario.
pub const WORKER_COUNTS: [usize; 5] = [1, 2, 4, 8, 16];
/// Measured repetitions per row (the median is reported).
const REPEATS: usize = 3;

/// One row of the batch-init table.
#[derive(Debug, Clone, Serialize)]
pub struct BatchInitRow {
    /// Derived assets in the bundle.
    pub assets: usize,
    /// Rows (bars) in the bundle.
    pub bundle_rows: usize,
    /// Backtests run.
    pub backtests: usize,
    /// Workers, each loading the bundle once.
    pub workers: usize,
    /// Median wall time, seconds.
    pub total_s: f64,
    /// Median process CPU time, seconds.
    pub cpu_s: f64,
    /// Mean time for a worker to load the bundle, milliseconds.
    pub load_ms_per_worker: f64,
    /// Peak live heap of the process during the scenario, bytes (includes what was live before).
    pub peak_heap_bytes: Option<u64>,
    /// Peak live heap above the live heap at the scenario's start, bytes: what the scenario
    /// itself needed at most.
    pub heap_growth_bytes: Option<u64>,
    /// Resident-set high-water mark, bytes.
    pub peak_rss_bytes: Option<u64>,
    /// Flame graph of the scenario.
    pub flame_graph: PathBuf,
}

/// One row of the parallel-coordinator table.
#[derive(Debug, Clone, Serialize)]
pub struct CoordinatorRow {
    /// Worker threads.
    pub workers: usize,
    /// Tasks (real backtests).
    pub tasks: usize,
    /// Median wall time including pool start-up, seconds.
    pub total_s: f64,
    /// Median process CPU time, seconds.
    pub cpu_s: f64,
    /// Σ per-task thread CPU time ÷ (workers × wall).
    pub utilisation: f64,
    /// 1 − utilisation.
    pub coordinator_overhead: f64,
    /// Tasks per second.
    pub throughput_per_s: f64,
    /// Flame graph of the scenario.
    pub flame_graph: PathBuf,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `f` repeatedly under the CPU profiler for at least `min_seconds` and draws its flame
/// graph.
fn flame_of(f: &dyn Fn(), svg: &Path, title: &str, frequency: i32, min_seconds: f64) -> anyhow::Result<()> {
    let (_, p) = bench_profile::cpu::profile_cpu(
        || {
            let t0 = Instant::now();
            while t0.elapsed().as_secs_f64() < min_seconds {
                f();
            }
        },
        frequency,
    )?;
    if p.samples > 0 {
        flame::generate_flame_graph(&p.folded, svg, title, 0.5)?;
    }
    Ok(())
}

/// The batch-initialisation scenario: for each bundle size, every worker loads the bundle file
/// once and runs its share of the backtests.
pub fn batch_init(
    real: &Bundle,
    workers: usize,
    backtests: usize,
    prof_dir: &Path,
    frequency: i32,
    min_seconds: f64,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Vec<BatchInitRow>> {
    let tmp = tempfile::Builder::new().prefix("bench-batch-init-").tempdir()?;
    let params = combinations(backtests.max(1));
    let mut rows = Vec::new();
    for &n in &ASSET_COUNTS {
        progress(&format!("batch-init: {n} derived assets"));
        let bundle = derive(real, n, BARS_PER_ASSET, 2026).context("cannot derive the scenario bundle")?;
        let path = tmp.path().join(format!("bundle_{n}.bin"));
        bundle.write_binary(&path)?;
        let tasks: Vec<(usize, Params)> = (0..backtests).map(|k| (k % n, params[k % params.len()])).collect();
        let scenario = |loads: &Mutex<Vec<f64>>| -> anyhow::Result<()> {
            let pool = build_pool(workers)?;
            let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
            pool.broadcast(|ctx| {
                let t = Instant::now();
                match Bundle::read_binary(&path) {
                    Ok(b) => {
                        loads
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(t.elapsed().as_secs_f64() * 1e3);
                        for (asset, p) in tasks.iter().skip(ctx.index()).step_by(ctx.num_threads()) {
                            if let Err(e) = backtest_metrics(&b, *asset, *p) {
                                errors
                                    .lock()
                                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                                    .push(e.to_string());
                            }
                        }
                    }
                    Err(e) => {
                        errors.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(e.to_string())
                    }
                }
            });
            match errors.into_inner().unwrap_or_default().first() {
                Some(e) => anyhow::bail!("batch-init scenario failed: {e}"),
                None => Ok(()),
            }
        };
        let mut walls = Vec::new();
        let mut cpus = Vec::new();
        let mut load_means = Vec::new();
        let mut heap = None;
        let mut growth = None;
        let mut rss = None;
        for _ in 0..REPEATS {
            let loads = Mutex::new(Vec::new());
            bench_profile::reset_heap_peak();
            let live_at_start = bench_profile::heap_snapshot().map(|h| h.current_bytes);
            sys::reset_peak_rss();
            let c0 = sys::process_cpu_ns();
            let t0 = Instant::now();
            scenario(&loads)?;
            walls.push(t0.elapsed().as_secs_f64());
            cpus.push(sys::process_cpu_ns().saturating_sub(c0) as f64 / 1e9);
            let l = loads.into_inner().unwrap_or_default();
            load_means.push(l.iter().sum::<f64>() / l.len().max(1) as f64);
            let snap = bench_profile::heap_snapshot();
            heap = snap.map(|h| h.peak_bytes).max(heap);
            growth = snap.zip(live_at_start).map(|(h, start)| h.peak_bytes.saturating_sub(start)).max(growth);
            rss = sys::peak_rss_bytes().max(rss);
        }
        let svg = prof_dir.join("flame_graphs").join(format!("batch_init_{n}_assets.svg"));
        flame_of(
            &|| {
                let _ = scenario(&Mutex::new(Vec::new()));
            },
            &svg,
            &format!("batch-init: {n} derived assets × {backtests} backtests"),
            frequency,
            min_seconds,
        )?;
        rows.push(BatchInitRow {
            assets: n,
            bundle_rows: bundle.rows(),
            backtests,
            workers,
            total_s: median(walls),
            cpu_s: median(cpus),
            load_ms_per_worker: median(load_means),
            peak_heap_bytes: heap,
            heap_growth_bytes: growth,
            peak_rss_bytes: rss,
            flame_graph: svg,
        });
    }
    Ok(rows)
}

/// The parallel-coordinator scenario: `tasks` real backtests on a fresh pool of each size.
pub fn parallel_coordinator(
    real: &Bundle,
    tasks: usize,
    prof_dir: &Path,
    frequency: i32,
    min_seconds: f64,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Vec<CoordinatorRow>> {
    use rayon::prelude::*;
    let params = combinations(tasks.div_ceil(real.assets.len()).max(1));
    let work: Vec<(usize, Params)> =
        (0..tasks).map(|k| (k % real.assets.len(), params[(k / real.assets.len()) % params.len()])).collect();
    let mut rows = Vec::new();
    for &w in &WORKER_COUNTS {
        progress(&format!("parallel-coordinator: {w} workers"));
        let scenario = |busy: &Mutex<u64>| -> anyhow::Result<()> {
            let pool = build_pool(w)?;
            pool.install(|| {
                work.par_iter().try_for_each(|(a, p)| {
                    let c0 = sys::thread_cpu_ns();
                    let r = backtest_metrics(real, *a, *p).map(|_| ());
                    *busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner) +=
                        sys::thread_cpu_ns().saturating_sub(c0);
                    r
                })
            })?;
            Ok(())
        };
        let (mut walls, mut cpus, mut utils) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..REPEATS {
            let busy = Mutex::new(0u64);
            let c0 = sys::process_cpu_ns();
            let t0 = Instant::now();
            scenario(&busy)?;
            let wall = t0.elapsed().as_secs_f64();
            walls.push(wall);
            cpus.push(sys::process_cpu_ns().saturating_sub(c0) as f64 / 1e9);
            utils.push(busy.into_inner().unwrap_or_default() as f64 / 1e9 / (w as f64 * wall));
        }
        let svg = prof_dir.join("flame_graphs").join(format!("parallel_coord_{w}_workers.svg"));
        flame_of(
            &|| {
                let _ = scenario(&Mutex::new(0));
            },
            &svg,
            &format!("parallel coordinator: {w} workers × {tasks} tasks"),
            frequency,
            min_seconds,
        )?;
        let total = median(walls);
        let util = median(utils).min(1.0);
        rows.push(CoordinatorRow {
            workers: w,
            tasks,
            total_s: total,
            cpu_s: median(cpus),
            utilisation: util,
            coordinator_overhead: 1.0 - util,
            throughput_per_s: tasks as f64 / total,
            flame_graph: svg,
        });
    }
    Ok(rows)
}

fn rel(from: &Path, to: &Path) -> String {
    to.strip_prefix(from).map_or_else(|_| to.display().to_string(), |p| p.display().to_string())
}

/// `EXTENDED_OPERATIONS_PROFILING_REPORT.md`.
pub fn extended_report(
    batch: &[BatchInitRow],
    coord: &[CoordinatorRow],
    prof_dir: &Path,
    generated: &str,
    command: &str,
) -> String {
    use std::fmt::Write;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut s = String::new();
    let _ = writeln!(s, "# Extended operations profiling report");
    let _ = writeln!(s);
    let _ = writeln!(s, "Generated {generated} by `{command}` on a machine with **{cores} cores**.");
    let _ = writeln!(s);
    if !batch.is_empty() {
        let _ = writeln!(s, "## Batch initialisation across bundle sizes");
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "Derived data (seeded block bootstrap of the real bars, seed 2026), {BARS_PER_ASSET} bars per asset. Each of the {} workers loads the binary bundle once, then runs its share of the backtests. Median of {REPEATS} runs. Heap peak above start is what the scenario itself needed (peak live heap minus the live heap when it began, largest over the runs); the process columns include whatever the process already held, such as the CPU profiler's symbol cache once the first flame graph has been drawn.",
            batch.first().map_or(0, |r| r.workers)
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "| Assets | Total time | CPU time | Bundle rows | Backtests | Load time per worker | Heap peak above start | Process heap peak | Process peak RSS | Flame graph |"
        );
        let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        for r in batch {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | [svg]({}) |",
                r.assets,
                duration(r.total_s),
                duration(r.cpu_s),
                r.bundle_rows,
                r.backtests,
                duration(r.load_ms_per_worker / 1e3),
                r.heap_growth_bytes.map_or("n/a".into(), mib),
                r.peak_heap_bytes.map_or("n/a".into(), mib),
                r.peak_rss_bytes.map_or("n/a".into(), mib),
                rel(prof_dir, &r.flame_graph)
            );
        }
        let _ = writeln!(s);
    }
    if !coord.is_empty() {
        let _ = writeln!(s, "## Parallel coordinator across worker counts");
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{} real backtests (bundled data) on a fresh rayon pool per run (start-up included). Utilisation = Σ per-task thread CPU time ÷ (workers × wall time); coordinator overhead = 1 − utilisation. Median of {REPEATS} runs.",
            coord.first().map_or(0, |r| r.tasks)
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "| Workers | Total time | CPU time | Utilisation | Coordinator overhead | Throughput | Flame graph |"
        );
        let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|---|");
        for r in coord {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.1}% | {:.1}% | {:.0} tasks/s | [svg]({}) |",
                r.workers,
                duration(r.total_s),
                duration(r.cpu_s),
                r.utilisation * 100.0,
                r.coordinator_overhead * 100.0,
                r.throughput_per_s,
                rel(prof_dir, &r.flame_graph)
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "This machine has {cores} cores: with more than {cores} workers, threads share cores, so utilisation cannot exceed {cores}/workers and nothing here measures scaling beyond {cores} workers. (The seed's overhead formula ((T·n − T)/T)·100 always equals (n − 1)·100 and measures nothing; it is not used.)"
        );
        let _ = writeln!(s);
    }
    s
}

fn mib(b: u64) -> String {
    format!("{:.2} MiB", b as f64 / 1048576.0)
}

/// A duration in the unit that keeps three significant digits (s, ms or µs).
fn duration(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.3} s")
    } else if seconds >= 1e-3 {
        format!("{:.3} ms", seconds * 1e3)
    } else {
        format!("{:.1} µs", seconds * 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_keep_their_digits() {
        assert_eq!(duration(2.5), "2.500 s");
        assert_eq!(duration(0.0038), "3.800 ms");
        assert_eq!(duration(0.000_412_3), "412.3 µs");
    }
}
