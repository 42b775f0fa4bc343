//! Extended scenarios: each case of a [`ScenarioSet`] timed as a benchmark suite (wall time,
//! CPU time, heap and RSS per run; medians reported), profiled for a flame graph, and rendered
//! as one table of the extended-operations report.

use std::cell::RefCell;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use bench_core::{Fact, RunId, ScenarioReading, ScenarioSet, Workload, units};
use bench_measure::{SuiteConfig, run_benchmark_suite};
use bench_profile::{Artefact, ArtefactKind, generate_flame_graph};
use serde::Serialize;

use crate::ReportError;

/// How scenario cases are measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScenarioOptions {
    /// Timed runs per case (the median is reported).
    pub runs: usize,
    /// Untimed warm-up runs per case.
    pub warmup_runs: usize,
    /// Requested CPU sampling frequency of the flame graphs, samples per CPU-second.
    pub cpu_frequency_hz: i32,
    /// Which CPU sampler to use.
    pub cpu_sampler: bench_profile::cpu::SamplerChoice,
    /// Minimum wall time profiled per flame graph, seconds.
    pub min_flame_seconds: f64,
}

impl Default for ScenarioOptions {
    fn default() -> Self {
        Self {
            runs: 3,
            warmup_runs: 1,
            cpu_frequency_hz: bench_profile::cpu::DEFAULT_FREQUENCY_HZ,
            cpu_sampler: bench_profile::cpu::SamplerChoice::Auto,
            min_flame_seconds: 0.5,
        }
    }
}

/// One measured case.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioRow {
    /// The case's facts (assets, workers…).
    pub facts: Vec<Fact>,
    /// Median wall time, seconds.
    pub total_s: f64,
    /// Median process CPU time, seconds.
    pub cpu_s: f64,
    /// Median over runs of the mean per-worker set-up time, milliseconds.
    pub setup_ms_per_worker: Option<f64>,
    /// Median over runs of Σ task CPU time ÷ (workers × wall), at most 1.
    pub utilisation: Option<f64>,
    /// Tasks per second at the median wall time.
    pub throughput_per_s: f64,
    /// Largest live heap during a run, bytes (includes what was live before it).
    pub peak_heap_bytes: Option<u64>,
    /// Largest live heap above the live heap at a run's start: what the case itself needed.
    pub heap_growth_bytes: Option<u64>,
    /// Largest resident-set peak of a run, bytes.
    pub peak_rss_bytes: Option<u64>,
    /// The case's flame graph, when samples were taken.
    pub flame_graph: Option<PathBuf>,
    /// The raw data of its runs.
    pub raw_data: PathBuf,
}

impl Serialize for ScenarioRow {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serde_json::Map::new();
        for f in &self.facts {
            m.insert(f.key.into(), f.value.into());
        }
        let mut put = |k: &str, v: serde_json::Value| {
            m.insert(k.into(), v);
        };
        put("total_s", self.total_s.into());
        put("cpu_s", self.cpu_s.into());
        if let Some(x) = self.setup_ms_per_worker {
            put("load_ms_per_worker", x.into());
        }
        if let Some(u) = self.utilisation {
            put("utilisation", u.into());
            put("coordinator_overhead", (1.0 - u).into());
        }
        put("throughput_per_s", self.throughput_per_s.into());
        put("peak_heap_bytes", self.peak_heap_bytes.into());
        put("heap_growth_bytes", self.heap_growth_bytes.into());
        put("peak_rss_bytes", self.peak_rss_bytes.into());
        put("flame_graph", serde_json::to_value(&self.flame_graph).unwrap_or_default());
        put("raw_data", serde_json::to_value(&self.raw_data).unwrap_or_default());
        serde_json::Value::Object(m).serialize(serializer)
    }
}

/// A measured scenario set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioTable {
    /// Stable name (JSON key).
    pub name: String,
    /// Section title.
    pub title: String,
    /// What was measured and how.
    pub explanation: String,
    /// Notes under the table.
    pub notes: Vec<String>,
    /// Rows, in case order.
    pub rows: Vec<ScenarioRow>,
    /// The same coordinator measured on Ray (the parallel-coordinator scenario with `--with-ray`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ray: Option<RayCoordinator>,
}

/// Ray as a parallel coordinator, per worker count, as the Ray driver measures it
/// (`python -m bench_ray coordinator`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RayCoordinator {
    /// Ray's version.
    pub ray_version: String,
    /// The machine's cores.
    pub cores: usize,
    /// Timed runs per reading (medians are reported).
    pub runs: usize,
    /// One row per worker count.
    pub rows: Vec<RayRow>,
    /// The break-even search: tasks of growing size on `break_even_workers` workers.
    pub task_sizes: Vec<RayRow>,
    /// Workers of the break-even search.
    pub break_even_workers: usize,
    /// Mean task time at which Ray's overhead share first fell below 5%, ms (`None`: not reached).
    pub break_even_task_ms: Option<f64>,
    /// The largest task tried, ms.
    pub largest_task_ms: Option<f64>,
}

/// One Ray reading (the median run by wall time).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RayRow {
    /// Worker processes (CPUs of the local Ray instance).
    #[serde(default)]
    pub workers: usize,
    /// Backtests per task (break-even rows).
    #[serde(default)]
    pub backtests_per_task: usize,
    /// Tasks.
    pub tasks: usize,
    /// Seconds to start the local Ray instance.
    #[serde(default)]
    pub start_s: f64,
    /// Seconds of the untimed warm-up run (worker processes started, bundle loaded).
    #[serde(default)]
    pub warm_up_s: f64,
    /// Wall time of the run, seconds.
    pub wall_s: f64,
    /// Σ per-task CPU time ÷ (workers × wall time).
    pub utilisation: f64,
    /// (workers × wall time − Σ task wall time) ÷ tasks, ms.
    pub per_task_overhead_ms: f64,
    /// 1 − Σ task wall time ÷ (workers × wall time).
    pub overhead_share: f64,
    /// Tasks per second.
    pub throughput_per_s: f64,
    /// Mean wall time of a task's own work, ms.
    pub mean_task_ms: f64,
}

/// The Ray section under the rayon coordinator table: rayon and Ray side by side per worker
/// count, then the break-even task size.
pub fn ray_section(t: &ScenarioTable, ray: &RayCoordinator) -> String {
    let mut s = String::new();
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    let ms = |x: f64| units::duration(x / 1e3);
    let _ = writeln!(s, "### rayon and Ray side by side");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Ray {} on a local instance with one CPU per worker; the same kind of tasks (one real backtest each on the bundled data), but a Ray task runs a one-combination grid chunk at the vectorized-signals step through the bench_py extension (what `--backend ray` runs), which builds a one-thread pool and reads and writes JSON per call: its mean task time is the rayon task's plus those fixed costs. Ray's worker processes start and load the bundle in an untimed warm-up (its time is shown); the rayon column includes its pool start-up. Per-task overhead = (workers × wall time − Σ task time) ÷ tasks, for rayon with its tasks' CPU time. Medians of {} runs.",
        ray.ray_version, ray.runs
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| Workers | Tasks | rayon mean task | Ray mean task | rayon wall | Ray wall | rayon utilisation | Ray utilisation | rayon per-task overhead | Ray per-task overhead | rayon throughput | Ray throughput | Ray start-up + warm-up |"
    );
    let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &ray.rows {
        let rayon =
            t.rows.iter().find(|x| x.facts.iter().any(|f| f.key == "workers" && f.value == r.workers as u64));
        let (rm, rw, ru, ro, rt) = match rayon {
            Some(x) => {
                let tasks = x.facts.iter().find(|f| f.key == "tasks").map_or(0, |f| f.value).max(1) as f64;
                let u = x.utilisation.unwrap_or(0.0);
                let over = (1.0 - u) * r.workers as f64 * x.total_s / tasks;
                let mean = u * r.workers as f64 * x.total_s / tasks;
                (
                    if x.utilisation.is_some() { units::duration(mean) } else { "n/a".into() },
                    units::duration(x.total_s),
                    x.utilisation.map_or("n/a".into(), pct),
                    if x.utilisation.is_some() { units::duration(over) } else { "n/a".into() },
                    format!("{} tasks/s", units::rate(x.throughput_per_s)),
                )
            }
            None => ("—".into(), "—".into(), "—".into(), "—".into(), "—".into()),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {rm} | {} | {rw} | {} | {ru} | {} | {ro} | {} | {rt} | {} tasks/s | {} + {} |",
            r.workers,
            r.tasks,
            ms(r.mean_task_ms),
            units::duration(r.wall_s),
            pct(r.utilisation),
            ms(r.per_task_overhead_ms),
            units::rate(r.throughput_per_s),
            units::duration(r.start_s),
            units::duration(r.warm_up_s),
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Task size against Ray's overhead ({} workers, {} tasks each of k backtests of GOOG at the batch-init step):",
        ray.break_even_workers,
        ray.task_sizes.first().map_or(0, |r| r.tasks)
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| Backtests per task | Mean task time | Wall time | Per-task overhead | Overhead share |"
    );
    let _ = writeln!(s, "|---:|---:|---:|---:|---:|");
    for r in &ray.task_sizes {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            r.backtests_per_task,
            ms(r.mean_task_ms),
            units::duration(r.wall_s),
            ms(r.per_task_overhead_ms),
            pct(r.overhead_share)
        );
    }
    let _ = writeln!(s);
    let _ = match ray.break_even_task_ms {
        Some(x) => writeln!(
            s,
            "Ray's overhead falls below 5% of the work at tasks of about {} here: give Ray tasks of at least that much work (`--ray-chunk`).",
            ms(x)
        ),
        None => writeln!(
            s,
            "Ray's overhead stayed at or above 5% up to the largest task tried ({}).",
            ray.largest_task_ms.map_or("n/a".into(), ms)
        ),
    };
    let _ = writeln!(s);
    s
}

impl ScenarioTable {
    /// Every file the table's measurement wrote.
    pub fn artefacts(&self) -> Vec<Artefact> {
        self.rows
            .iter()
            .flat_map(|r| {
                let flame = r.flame_graph.clone().map(|p| Artefact::new(ArtefactKind::FlameGraph, p));
                flame.into_iter().chain([Artefact::new(ArtefactKind::RawData, r.raw_data.clone())])
            })
            .collect()
    }
}

/// Measures every case of `set`: a benchmark suite of `options.runs` timed runs (raw data
/// under `profiles_dir/raw_data/`), then a CPU profile of repeated runs drawn as
/// `profiles_dir/flame_graphs/<case id>.svg`.
pub fn run_scenarios(
    set: &ScenarioSet<'_>,
    options: &ScenarioOptions,
    profiles_dir: &Path,
    progress: &dyn Fn(&str),
) -> Result<ScenarioTable, ReportError> {
    let mut rows = Vec::with_capacity(set.cases.len());
    for case in &set.cases {
        progress(&format!("{}: {}", set.name, case.title));
        let readings: RefCell<Vec<Result<ScenarioReading, String>>> = RefCell::new(Vec::new());
        let config = SuiteConfig {
            warmup_runs: options.warmup_runs,
            run_id: RunId::sanitized(&case.id),
            ..SuiteConfig::new(options.runs, &case.id, &set.name, Workload::default(), profiles_dir)?
        };
        let clock: bench_core::ThreadClock = bench_measure::sys::thread_cpu_ns;
        let out = run_benchmark_suite(|| readings.borrow_mut().push((case.run)(clock)), &config)?;
        let readings = readings.into_inner();
        // Warm-up readings come first; the timed runs are the last ones.
        let timed: Vec<ScenarioReading> = readings
            .into_iter()
            .skip(options.warmup_runs)
            .collect::<Result<_, _>>()
            .map_err(|e| ReportError::Scenario(format!("{} ({}): {e}", set.name, case.title)))?;
        if let Some(f) = out.raw.failed_runs.first() {
            return Err(ReportError::Scenario(format!("{} ({}): {}", set.name, case.title, f.message)));
        }
        let runs = &out.raw.runs;
        let walls: Vec<f64> = runs.iter().map(|r| r.wall_ns as f64 / 1e9).collect();
        let total_s = bench_stats::median(&walls).unwrap_or(0.0);
        let cpu_s = bench_stats::median(&runs.iter().map(|r| r.cpu_ns as f64 / 1e9).collect::<Vec<_>>())
            .unwrap_or(0.0);
        let setup: Vec<f64> = timed
            .iter()
            .filter(|r| !r.setup_ns.is_empty())
            .map(|r| r.setup_ns.iter().sum::<u64>() as f64 / r.setup_ns.len() as f64 / 1e6)
            .collect();
        let utilisation: Vec<f64> = timed
            .iter()
            .zip(&walls)
            .filter_map(|(r, w)| r.busy_ns.map(|b| b as f64 / 1e9 / (case.workers.max(1) as f64 * w)))
            .collect();
        let tasks = timed.first().map_or(0, |r| r.tasks);
        let svg = profiles_dir.join("flame_graphs").join(format!("{}.svg", RunId::sanitized(&case.id)));
        let (_, profile) = bench_profile::cpu::profile_cpu_with(
            || bench_measure::repeat_for(options.min_flame_seconds, || (case.run)(clock)),
            options.cpu_frequency_hz,
            options.cpu_sampler,
        )?;
        let flame_graph = if profile.samples > 0 {
            generate_flame_graph(&profile.stacks.collapse_runtime(), &svg, &case.title, 0.5)?;
            Some(svg)
        } else {
            None
        };
        rows.push(ScenarioRow {
            facts: case.facts.clone(),
            total_s,
            cpu_s,
            setup_ms_per_worker: bench_stats::median(&setup),
            utilisation: bench_stats::median(&utilisation).map(|u| u.min(1.0)),
            throughput_per_s: if total_s > 0.0 { tasks as f64 / total_s } else { 0.0 },
            peak_heap_bytes: runs.iter().filter_map(|r| r.heap_peak_bytes).max(),
            heap_growth_bytes: runs
                .iter()
                .filter_map(|r| Some(r.heap_peak_bytes?.saturating_sub(r.heap_start_bytes?)))
                .max(),
            peak_rss_bytes: runs.iter().filter_map(|r| r.peak_rss_bytes).max(),
            flame_graph,
            raw_data: out.raw_path,
        });
    }
    Ok(ScenarioTable {
        name: set.name.clone(),
        title: set.title.clone(),
        explanation: set.explanation.clone(),
        notes: set.notes.clone(),
        rows,
        ray: None,
    })
}

fn rel(from: &Path, to: &Path) -> String {
    to.strip_prefix(from).map_or_else(|_| to.display().to_string(), |p| p.display().to_string())
}

/// The extended-operations report's heading.
pub fn extended_heading() -> String {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    format!(
        "# Extended operations profiling report\n\nMeasured on a machine with **{cores} cores**. Each section says when and by which command it was measured; sections of scenarios not run again are kept from earlier runs.\n\n"
    )
}

/// One table's section of the extended-operations report, with links relative to
/// `profiles_dir` (where the report is written).
pub fn extended_section(t: &ScenarioTable, profiles_dir: &Path, generated: &str, command: &str) -> String {
    let mut s = String::new();
    let opt = |x: Option<u64>| x.map_or("n/a".into(), units::bytes);
    let _ = writeln!(s, "## {}", t.title);
    let _ = writeln!(s);
    let _ = writeln!(s, "Measured {generated} by `{command}`. {}", t.explanation);
    let _ = writeln!(s);
    let Some(first) = t.rows.first() else { return s };
    let has_setup = t.rows.iter().any(|r| r.setup_ms_per_worker.is_some());
    let has_util = t.rows.iter().any(|r| r.utilisation.is_some());
    let mut head: Vec<&str> = first.facts.iter().map(|f| f.label).collect();
    head.extend(["Total time", "CPU time"]);
    if has_setup {
        head.push("Load time per worker");
    }
    if has_util {
        head.extend(["Utilisation", "Coordinator overhead"]);
    }
    head.extend(["Throughput", "Heap peak above start", "Process heap peak", "Peak RSS", "Flame graph"]);
    let _ = writeln!(s, "| {} |", head.join(" | "));
    let align: Vec<&str> = head.iter().map(|h| if *h == "Flame graph" { "---" } else { "---:" }).collect();
    let _ = writeln!(s, "|{}|", align.join("|"));
    for r in &t.rows {
        let mut cells: Vec<String> = r.facts.iter().map(|f| units::count(f.value)).collect();
        cells.push(units::duration(r.total_s));
        cells.push(units::duration(r.cpu_s));
        if has_setup {
            cells.push(r.setup_ms_per_worker.map_or("n/a".into(), |ms| units::duration(ms / 1e3)));
        }
        if has_util {
            let pct = |x: f64| format!("{:.1}%", x * 100.0);
            cells.push(r.utilisation.map_or("n/a".into(), pct));
            cells.push(r.utilisation.map_or("n/a".into(), |u| pct(1.0 - u)));
        }
        cells.push(format!("{} tasks/s", units::rate(r.throughput_per_s)));
        cells.push(opt(r.heap_growth_bytes));
        cells.push(opt(r.peak_heap_bytes));
        cells.push(opt(r.peak_rss_bytes));
        cells.push(r.flame_graph.as_ref().map_or("—".into(), |p| format!("[svg]({})", rel(profiles_dir, p))));
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
    let _ = writeln!(s);
    for n in &t.notes {
        let _ = writeln!(s, "{n}");
        let _ = writeln!(s);
    }
    if let Some(ray) = &t.ray {
        s.push_str(&ray_section(t, ray));
    }
    s
}
