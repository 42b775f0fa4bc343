//! The ladder decided on a count instead of a time: each step's workload runs in a child
//! process under Callgrind, and only the measured region is counted.
//!
//! The child is a program that calls [`serve_count_request`] first thing in `main` (`cargo
//! xtask` does; so does the `ladder_metrics` example) and is started again by this process with
//! the request in its environment. It prepares the workload, runs the stack once uncounted
//! (the pools are built, the caches warm, lazy statics set), then runs it again between
//! [`bench_measure::callgrind::start_instrumentation`] and `stop_instrumentation` under
//! `--instr-atstart=no`: the region is counted on every thread, nothing before or after it. It
//! prints the run's results, which the output check compares between the two sides.
//!
//! [`count_ladder`] walks the ladder as the time-based evaluation does (each step on top of
//! what was accepted so far) with [`bench_command::compare_counts`]'s decision: exact when the
//! counts repeat, the threshold's criteria otherwise. [`rung_metrics`] puts every rung under
//! all four metrics side by side.

use std::path::Path;

use bench_command::{CallgrindOptions, CommandSpec, CountComparison, CountMetric, CountOptions};
use bench_workloads::{LadderStep, Optimizations, PreparedWorkload, WorkloadSpec};
use serde::{Deserialize, Serialize};

use crate::LadderError;

/// The environment variable that carries a count request to the child.
pub const COUNT_REQUEST_VAR: &str = "BENCH_LADDER_COUNT_REQUEST";

/// What the child counts: one stack of the ladder on one workload.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CountRequest {
    spec: WorkloadSpec,
    stack: Optimizations,
}

/// When this process was started with a count request ([`COUNT_REQUEST_VAR`]), serves it and
/// exits (0 when counted, 2 when the request or the workload failed, with the reason on
/// standard error); otherwise returns at once. Call it first thing in `main`.
pub fn serve_count_request() {
    let Ok(json) = std::env::var(COUNT_REQUEST_VAR) else { return };
    let code = match serve(&json) {
        Ok(results) => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{results}");
            0
        }
        Err(e) => {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "error: the counted ladder run failed: {e}");
            2
        }
    };
    std::process::exit(code)
}

/// Prepares and runs the request, the second run counted; returns the results, one number a
/// line (so that the numeric output check names the field that differs).
fn serve(json: &str) -> Result<String, String> {
    let request: CountRequest =
        serde_json::from_str(json).map_err(|e| format!("{COUNT_REQUEST_VAR} is not a count request: {e}"))?;
    let real = bench_workloads::load_data(None).map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a scratch folder: {e}"))?;
    let workload = PreparedWorkload::prepare(&request.spec, &real, &dir.path().join("workload.bin"))
        .map_err(|e| e.to_string())?;
    let run = |w: &PreparedWorkload| w.run(request.stack).map_err(|e| e.to_string());
    drop(std::hint::black_box(run(&workload)?));
    bench_measure::callgrind::start_instrumentation();
    let out = std::hint::black_box(run(&workload));
    bench_measure::callgrind::stop_instrumentation();
    serde_json::to_string_pretty(&out?.to_value()).map_err(|e| e.to_string())
}

/// The command that counts `stack` on `spec`: `exe` (a program calling
/// [`serve_count_request`]) with the request in its environment.
pub fn count_command(
    exe: &Path,
    spec: &WorkloadSpec,
    stack: Optimizations,
) -> Result<CommandSpec, LadderError> {
    let request = serde_json::to_string(&CountRequest { spec: spec.clone(), stack })
        .map_err(|e| LadderError::Options(format!("cannot write the count request: {e}")))?;
    let argv = vec![exe.display().to_string()];
    Ok(CommandSpec::from_argv(&format!("{} ({})", exe.display(), stack.describe()), argv)?
        .with_env(COUNT_REQUEST_VAR, &request))
}

/// How the child runs under Callgrind: its own measured region only (`--instr-atstart=no`),
/// no child processes.
pub fn region_callgrind_options() -> CallgrindOptions {
    CallgrindOptions { valgrind_args: vec!["--instr-atstart=no".into()], ..CallgrindOptions::default() }
}

/// One step of [`count_ladder`].
#[derive(Debug, Clone, Serialize)]
pub struct CountStep {
    /// The step tried.
    pub step: LadderStep,
    /// The stack it was tried on (accepted so far).
    pub baseline: String,
    /// The stack with the step.
    pub candidate: String,
    /// The comparison and its decision.
    pub comparison: CountComparison,
}

/// Tries every step of the ladder in order on top of the stack accepted so far, each pair of
/// stacks compared by `options.metric` in `exe`'s counted children; `progress` hears the step
/// and the runs done. `options.callgrind` should be [`region_callgrind_options`]. A warning is
/// added where the two stacks' vector widths differ (a step that runs AVX2 kernels executes
/// fewer, wider instructions, which the count under-weights).
pub fn count_ladder(
    exe: &Path,
    spec: &WorkloadSpec,
    options: &CountOptions,
    progress: &mut dyn FnMut(LadderStep, usize),
) -> Result<Vec<CountStep>, LadderError> {
    let mut accepted = Optimizations::default();
    let mut steps = Vec::new();
    for step in LadderStep::optimizations_to_evaluate() {
        let candidate = step.on_top_of(accepted);
        let (b, c) = (count_command(exe, spec, accepted)?, count_command(exe, spec, candidate)?);
        let mut comparison = bench_command::compare_counts(&b, &c, options, &mut |n| progress(step, n))?;
        if let Some(w) = width_warning(accepted, candidate, options.metric) {
            comparison.warnings.push(w);
        }
        if !comparison.deterministic && spec.workers > 1 {
            comparison.warnings.push(format!(
                "the pool's {} threads spin while they look for work, for as long as the threads' scheduling leaves them, which moves the count from run to run; --workers 1 counts the same work repeatably",
                spec.workers
            ));
        }
        let taken = comparison.decision == bench_optimizations::Decision::Accepted;
        steps.push(CountStep {
            step,
            baseline: accepted.describe(),
            candidate: candidate.describe(),
            comparison,
        });
        if taken {
            accepted = candidate;
        }
    }
    Ok(steps)
}

/// The warning for two stacks whose hot loops run vectors of different widths, if they do.
fn width_warning(baseline: Optimizations, candidate: Optimizations, metric: CountMetric) -> Option<String> {
    let (b, c) = (baseline.simd_lanes(), candidate.simd_lanes());
    (b != c).then(|| {
        format!(
            "the baseline's hot loop handles {b} value(s) per instruction and the candidate's {c}: {} count a vector instruction once however many values it handles, so they can move much more than the time does (judge this step on time as well)",
            metric.unit()
        )
    })
}

/// One rung of [`rung_metrics`]: its stack under the four metrics.
#[derive(Debug, Clone, Serialize)]
pub struct RungMetrics {
    /// The rung (its stack: this rung and every rung below).
    pub rung: LadderStep,
    /// Median wall time of the native runs, nanoseconds.
    pub wall_ns: f64,
    /// Median process CPU time (every thread) of the native runs, nanoseconds.
    pub cpu_ns: f64,
    /// Instructions counted in the measured region.
    pub instructions: u64,
    /// Estimated cycles of the same run.
    pub estimated_cycles: u64,
    /// Threads Callgrind saw.
    pub threads: usize,
    /// f64 lanes per vector instruction of its hot loop.
    pub simd_lanes: usize,
}

/// Every rung's stack (baseline, baseline + batch-init, …) on `spec` under wall time and CPU
/// time (the median of `rounds` native runs in this process, the rungs interleaved round by
/// round) and under instructions and estimated cycles (one counted run each in `exe`'s child);
/// `progress` hears what is being done.
pub fn rung_metrics(
    exe: &Path,
    spec: &WorkloadSpec,
    rounds: usize,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<RungMetrics>, LadderError> {
    let real = bench_workloads::load_data(None)?;
    let dir = tempfile::tempdir().map_err(LadderError::Scratch)?;
    let workload = PreparedWorkload::prepare(spec, &real, &dir.path().join("workload.bin"))?;
    let stacks: Vec<Optimizations> = LadderStep::ALL.iter().map(|s| s.optimizations()).collect();
    let mut times: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); stacks.len()];
    for round in 0..rounds.max(1) {
        progress(&format!("native round {} of {}", round + 1, rounds.max(1)));
        for (i, &stack) in stacks.iter().enumerate() {
            let (t0, c0) = (std::time::Instant::now(), bench_measure::sys::process_cpu_ns());
            drop(std::hint::black_box(workload.run(stack)?));
            times[i].0.push(t0.elapsed().as_nanos() as f64);
            times[i].1.push((bench_measure::sys::process_cpu_ns() - c0) as f64);
        }
    }
    let median = |v: &[f64]| bench_stats::median(v).unwrap_or(f64::NAN);
    let mut rows = Vec::new();
    for (i, (&rung, &stack)) in LadderStep::ALL.iter().zip(&stacks).enumerate() {
        progress(&format!("{rung} under Callgrind"));
        let counted = bench_command::run_under_callgrind(
            &count_command(exe, spec, stack)?,
            &region_callgrind_options(),
        )?;
        let get = |m: CountMetric| {
            counted
                .counts
                .get(m)
                .ok_or_else(|| LadderError::Options(format!("Callgrind recorded no {} for {rung}", m.unit())))
        };
        rows.push(RungMetrics {
            rung,
            wall_ns: median(&times[i].0),
            cpu_ns: median(&times[i].1),
            instructions: get(CountMetric::Instructions)?,
            estimated_cycles: get(CountMetric::EstimatedCycles)?,
            threads: counted.counts.threads,
            simd_lanes: stack.simd_lanes(),
        });
    }
    Ok(rows)
}

/// [`count_ladder`]'s steps for a person: one line per step, then its rationale and warnings.
pub fn count_ladder_text(steps: &[CountStep]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let Some(first) = steps.first() else { return s };
    let unit = first.comparison.unit;
    let _ = writeln!(
        s,
        "Ladder decided on {unit} under Callgrind (measured region only; threshold {}%; memory not judged):",
        first.comparison.min_improvement_percent
    );
    let mean = |v: &[u64]| v.iter().sum::<u64>() / v.len().max(1) as u64;
    for st in steps {
        let c = &st.comparison;
        let _ = writeln!(
            s,
            "  {:<19} {:>14} → {:>14} {unit}  {:>+8.3}%  {}",
            st.step.name(),
            bench_core::units::count(mean(&c.baseline)),
            bench_core::units::count(mean(&c.candidate)),
            0.0 - c.improvement_percent + 0.0,
            c.decision.label()
        );
        let _ = writeln!(s, "      on {}: {}", st.baseline, c.rationale);
        for w in &c.warnings {
            let _ = writeln!(s, "      warning: {w}");
        }
    }
    let seconds: f64 = steps.iter().map(|st| st.comparison.seconds).sum();
    let _ = writeln!(s, "  {} under Callgrind", bench_core::units::duration(seconds));
    s
}

/// [`rung_metrics`]'s rows as a Markdown table: each metric's figure and its change from the
/// rung below, and where a metric ranks a step's change differently from wall time.
pub fn rung_metrics_markdown(rows: &[RungMetrics]) -> String {
    use std::fmt::Write;
    let mut s = String::from(
        "| rung | wall | Δ wall | CPU | Δ CPU | instructions | Δ instr. | est. cycles | Δ est. cycles | threads | lanes |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let change = |now: f64, before: Option<f64>| {
        before.map_or("".to_owned(), |b| format!("{:+.1}%", (now / b - 1.0) * 100.0))
    };
    for (i, r) in rows.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| &rows[j]);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.rung,
            bench_core::units::duration(r.wall_ns / 1e9),
            change(r.wall_ns, prev.map(|p| p.wall_ns)),
            bench_core::units::duration(r.cpu_ns / 1e9),
            change(r.cpu_ns, prev.map(|p| p.cpu_ns)),
            bench_core::units::count(r.instructions),
            change(r.instructions as f64, prev.map(|p| p.instructions as f64)),
            bench_core::units::count(r.estimated_cycles),
            change(r.estimated_cycles as f64, prev.map(|p| p.estimated_cycles as f64)),
            r.threads,
            r.simd_lanes
        );
    }
    s
}

/// [`count_ladder`]'s counts in the Bencher Metric Format: `<name>/baseline` and one benchmark
/// per step tried (its candidate stack), the metric (`instructions` or `estimated-cycles`) with
/// the mean of the runs as the value and the least and most as the bounds.
pub fn count_ladder_bmf(steps: &[CountStep], name: &str) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    let mut put = |label: &str, counts: &[u64], metric: CountMetric| {
        map.insert(format!("{name}/{label}"), bench_report::count_bmf_entry(counts, metric));
    };
    if let Some(first) = steps.first() {
        put("baseline", &first.comparison.baseline, first.comparison.metric);
    }
    for st in steps {
        put(st.step.name(), &st.comparison.candidate, st.comparison.metric);
    }
    serde_json::Value::Object(map)
}

impl crate::LadderRun {
    /// [`count_ladder`] on this run's workload, with its threshold and equivalence tolerance;
    /// the children are this program (`std::env::current_exe`), which must call
    /// [`serve_count_request`]. Writes `<name>_counts_bmf.json` ([`count_ladder_bmf`]) to the
    /// benchmark folder and returns the steps and that file's path.
    pub fn count(
        &self,
        metric: CountMetric,
        progress: &mut dyn FnMut(LadderStep, usize),
    ) -> Result<(Vec<CountStep>, std::path::PathBuf), LadderError> {
        if self.main.runs_on_ray() {
            return Err(LadderError::Options(
                "--metric counts the work of this machine's processes under Callgrind; --backend ray runs it in Ray's workers: count with --backend rayon".into(),
            ));
        }
        let options = CountOptions {
            callgrind: region_callgrind_options(),
            check: bench_command::OutputCheck::Numeric(self.harness.tolerance),
            ..CountOptions::new(metric, self.threshold.clone())
        };
        let exe = std::env::current_exe().map_err(LadderError::Scratch)?;
        let steps = count_ladder(&exe, &self.main.spec, &options, progress)?;
        let path = self.benchmark_dir.join(format!("{}_counts_bmf.json", self.name));
        let text = serde_json::to_string_pretty(&count_ladder_bmf(&steps, &self.name))
            .map_err(|e| LadderError::Options(format!("cannot write the counts as JSON: {e}")))?;
        std::fs::create_dir_all(&self.benchmark_dir)
            .and_then(|()| bench_core::write_atomic(&path, text.as_bytes()))
            .map_err(|e| {
                Box::new(bench_report::ReportError::Io { path: path.clone(), message: e.to_string() })
            })?;
        Ok((steps, path))
    }
}
