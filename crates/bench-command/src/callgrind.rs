//! Counting a command's instructions under Valgrind's Callgrind: a metric that does not depend on
//! the machine's noise (another process on the core, the clock's frequency, the cache's other
//! tenants), only on what the program executes.
//!
//! [`run_under_callgrind`] runs a [`CommandSpec`] as `valgrind --tool=callgrind --cache-sim=yes`,
//! with Valgrind's own messages in a log file (the command's standard error stays its own) and,
//! when asked, every child process followed; the counts of every process are summed from the
//! `summary:` line of each Callgrind output file (`totals:` where the summary is 0).
//! [`CountMetric`] names what is decided on: instructions executed (Callgrind's `Ir`), or
//! estimated cycles — KCachegrind's cycle
//! estimation without its branch and global-bus terms (Callgrind here simulates no branch
//! predictor), `Ir + 10 × (I1mr + D1mr + D1mw) + 100 × (ILmr + DLmr + DLmw)`: an L1 miss costs ten
//! cycles and a last-level miss a hundred, on top of one per instruction.
//!
//! The counts are exactly repeatable only for a deterministic program: a Python interpreter
//! randomises its string hashes per process, which moved the instructions of the same command by
//! 1.6% between two runs here; with `PYTHONHASHSEED=0` they were equal to the instruction.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::{Captured, CommandError, CommandSpec, run_captured, tail};

/// A count Callgrind gives, to decide on instead of a time.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CountMetric {
    /// Instructions executed (Callgrind's `Ir`).
    Instructions,
    /// `Ir + 10 × L1 misses + 100 × last-level misses`, from Callgrind's cache simulation.
    EstimatedCycles,
}

impl CountMetric {
    /// `instructions` or `estimated-cycles`, as on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instructions => "instructions",
            Self::EstimatedCycles => "estimated-cycles",
        }
    }

    /// The unit a report prints after a figure.
    pub fn unit(self) -> &'static str {
        match self {
            Self::Instructions => "instructions",
            Self::EstimatedCycles => "estimated cycles",
        }
    }
}

/// What a command comparison decides on: a time of each run, or a count under Callgrind.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CompareMetric {
    /// Elapsed wall-clock time: what a user waits for.
    #[default]
    Wall,
    /// CPU time (user + system of the child and what it waited for).
    Cpu,
    /// Instructions executed, counted under Callgrind: the machine's noise does not move it.
    Instructions,
    /// Instructions plus 10 per L1 miss and 100 per last-level miss, under Callgrind.
    EstimatedCycles,
}

impl CompareMetric {
    /// The time metric, when it is one.
    pub fn time(self) -> Option<bench_core::TimeMetric> {
        match self {
            Self::Wall => Some(bench_core::TimeMetric::Wall),
            Self::Cpu => Some(bench_core::TimeMetric::Cpu),
            Self::Instructions | Self::EstimatedCycles => None,
        }
    }

    /// The count metric, when it is one.
    ///
    /// ```
    /// use bench_command::{CompareMetric, CountMetric};
    /// assert_eq!(CompareMetric::Instructions.count(), Some(CountMetric::Instructions));
    /// assert_eq!(CompareMetric::Wall.count(), None);
    /// ```
    pub fn count(self) -> Option<CountMetric> {
        match self {
            Self::Instructions => Some(CountMetric::Instructions),
            Self::EstimatedCycles => Some(CountMetric::EstimatedCycles),
            Self::Wall | Self::Cpu => None,
        }
    }
}

/// Callgrind's event counts of one run, summed over the processes it followed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallgrindCounts {
    /// Every event by Callgrind's name (`Ir`, `Dr`, `Dw`, `I1mr`, `D1mr`, `D1mw`, `ILmr`, `DLmr`,
    /// `DLmw` with the cache simulation).
    pub events: BTreeMap<String, u64>,
    /// Processes whose counts were summed.
    pub processes: usize,
    /// Threads whose counts were summed (Callgrind writes one file per thread).
    pub threads: usize,
}

impl CallgrindCounts {
    /// The counts of one Callgrind output file: its `events:` line names the columns of its
    /// `summary:` line, or of its `totals:` line where the summary is missing or 0 (a program
    /// that switched its instrumentation on late).
    ///
    /// ```
    /// use bench_command::{CallgrindCounts, CountMetric};
    /// let text = "events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\nsummary: 1000 300 200 10 20 5 2 3 1\n";
    /// let c = CallgrindCounts::parse(text).unwrap();
    /// assert_eq!(c.get(CountMetric::Instructions), Some(1000));
    /// // 1000 + 10 × (10 + 20 + 5) + 100 × (2 + 3 + 1)
    /// assert_eq!(c.get(CountMetric::EstimatedCycles), Some(1950));
    /// let late = "events: Ir\nsummary: 0\ntotals: 4200\n";
    /// assert_eq!(CallgrindCounts::parse(late).unwrap().get(CountMetric::Instructions), Some(4200));
    /// assert!(CallgrindCounts::parse("events: Ir\n").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, String> {
        let field = |key: &str| text.lines().find_map(|l| l.strip_prefix(key)).map(str::split_whitespace);
        let names: Vec<&str> = field("events:").ok_or("no `events:` line")?.collect();
        let numbers = |key: &str| -> Result<Option<Vec<u64>>, String> {
            field(key)
                .map(|values| {
                    values
                        .map(|v| {
                            v.parse::<u64>().map_err(|e| format!("a count {v:?} is not a whole number: {e}"))
                        })
                        .collect()
                })
                .transpose()
        };
        // `summary:` is what `callgrind_annotate` reports as the program's totals; it is 0 in a
        // file whose program switched its instrumentation on late (`--instr-atstart=no`), where
        // `totals:` (the sum of the file's cost lines, a few instructions short of a summary
        // otherwise) holds the count.
        let values = match (numbers("summary:")?, numbers("totals:")?) {
            (Some(s), _) if s.iter().any(|&v| v > 0) => s,
            (_, Some(t)) => t,
            (Some(s), None) => s,
            (None, None) => return Err("no `summary:` or `totals:` line".into()),
        };
        if values.len() > names.len() {
            return Err(format!("{} counts for {} events", values.len(), names.len()));
        }
        // Callgrind leaves out trailing zero counts.
        let events =
            names.iter().enumerate().map(|(i, n)| ((*n).to_owned(), values.get(i).copied().unwrap_or(0)));
        Ok(Self { events: events.collect(), processes: 1, threads: 1 })
    }

    /// Adds another thread's counts (of another process, or of the same one: the caller
    /// sets `processes`).
    pub fn add(&mut self, other: &Self) {
        for (name, v) in &other.events {
            *self.events.entry(name.clone()).or_default() += v;
        }
        self.threads += other.threads;
    }

    /// The figure of `metric`, or `None` when an event it needs was not recorded (estimated
    /// cycles need the cache simulation).
    pub fn get(&self, metric: CountMetric) -> Option<u64> {
        let e = |name: &str| self.events.get(name).copied();
        match metric {
            CountMetric::Instructions => e("Ir"),
            CountMetric::EstimatedCycles => {
                let l1 = e("I1mr")? + e("D1mr")? + e("D1mw")?;
                let ll = e("ILmr")? + e("DLmr")? + e("DLmw")?;
                Some(e("Ir")? + 10 * l1 + 100 * ll)
            }
        }
    }
}

/// How [`run_under_callgrind`] runs a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallgrindOptions {
    /// The Valgrind program (default `valgrind`, looked up on `PATH`).
    pub valgrind: std::path::PathBuf,
    /// Follow child processes (`--trace-children=yes`) and sum their counts: for a command that
    /// is a script starting the real work, or a shell line.
    pub trace_children: bool,
    /// Run before the command, not counted.
    pub prepare: Option<CommandSpec>,
    /// More options for Valgrind, e.g. `--instr-atstart=no` for a program that marks its
    /// measured region itself (`bench_measure::callgrind`).
    pub valgrind_args: Vec<String>,
}

impl Default for CallgrindOptions {
    fn default() -> Self {
        Self { valgrind: "valgrind".into(), trace_children: false, prepare: None, valgrind_args: Vec::new() }
    }
}

/// One run under Callgrind.
#[derive(Debug)]
pub struct CallgrindRun {
    /// The counts, summed over the processes followed.
    pub counts: CallgrindCounts,
    /// The command's outputs and exit status, and the run's wall time under Valgrind.
    pub captured: Captured,
}

/// The version of the Valgrind program `valgrind` (`valgrind-3.19.0`), or an input error naming
/// the package to install.
pub fn valgrind_version(valgrind: &Path) -> Result<String, CommandError> {
    let missing = |why: String| {
        CommandError::Input(format!(
            "valgrind cannot be run ({why}): the instruction and estimated-cycle metrics run the command under Valgrind's Callgrind; install the distribution's `valgrind` package (e.g. `apt-get install valgrind`)"
        ))
    };
    let out = std::process::Command::new(valgrind)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| missing(e.to_string()))?;
    if !out.status.success() {
        return Err(missing(format!("`valgrind --version` exited with {}", out.status)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Runs `spec` once under Callgrind and returns its counts. A command that exits non-zero is an
/// input error with the tail of its standard error; Valgrind missing is one naming the package.
///
/// ```no_run
/// use bench_command::{CallgrindOptions, CommandSpec, CountMetric, Shell, run_under_callgrind};
/// let spec = CommandSpec::parse("python3 -c 'print(sum(range(1000)))'", Shell::None).unwrap();
/// let run = run_under_callgrind(&spec, &CallgrindOptions::default()).unwrap();
/// println!("{:?} instructions", run.counts.get(CountMetric::Instructions));
/// ```
pub fn run_under_callgrind(
    spec: &CommandSpec,
    options: &CallgrindOptions,
) -> Result<CallgrindRun, CommandError> {
    valgrind_version(&options.valgrind)?;
    let dir = tempfile::tempdir().map_err(|e| CommandError::io("cannot create a scratch directory", e))?;
    let at = |name: &str| dir.path().join(name).display().to_string();
    let mut argv = vec![
        options.valgrind.display().to_string(),
        "--tool=callgrind".to_owned(),
        "--cache-sim=yes".to_owned(),
        "--separate-threads=yes".to_owned(),
        format!("--callgrind-out-file={}", at("callgrind.out.%p")),
        format!("--log-file={}", at("valgrind.log.%p")),
    ];
    if options.trace_children {
        argv.push("--trace-children=yes".to_owned());
    }
    argv.extend(options.valgrind_args.iter().cloned());
    argv.extend(spec.argv().iter().cloned());
    let wrapped = spec.with_argv(argv);
    let captured = run_captured(&wrapped, options.prepare.as_ref())?;
    if !captured.status.success() {
        return Err(CommandError::Input(format!(
            "{:?} failed under Callgrind ({}){}",
            spec.text,
            crate::describe_status(captured.status),
            match tail(&captured.stderr) {
                t if t.is_empty() => String::new(),
                t => format!(": {t}"),
            }
        )));
    }
    let counts = read_counts(dir.path())?;
    Ok(CallgrindRun { counts, captured })
}

/// The counts of every Callgrind output file in `dir` (`callgrind.out.PID-THREAD`, and an empty
/// `callgrind.out.PID` per process), summed.
fn read_counts(dir: &Path) -> Result<CallgrindCounts, CommandError> {
    let mut total: Option<CallgrindCounts> = None;
    let mut pids = std::collections::BTreeSet::new();
    let entries = std::fs::read_dir(dir).map_err(|e| CommandError::io(dir.display(), e))?;
    for entry in entries {
        let path = entry.map_err(|e| CommandError::io(dir.display(), e))?.path();
        let Some(name) =
            path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_prefix("callgrind.out."))
        else {
            continue;
        };
        pids.insert(name.split('-').next().unwrap_or(name).to_owned());
        let text = std::fs::read_to_string(&path).map_err(|e| CommandError::io(path.display(), e))?;
        if text.is_empty() {
            continue;
        }
        let counts = CallgrindCounts::parse(&text).map_err(|e| CommandError::io(path.display(), e))?;
        match total.as_mut() {
            Some(t) => t.add(&counts),
            None => total = Some(counts),
        }
    }
    let mut total = total.ok_or_else(|| CommandError::io(dir.display(), "Callgrind wrote no output file"))?;
    total.processes = pids.len();
    Ok(total)
}
