//! Performance history: every measured result kept across commits in one SQLite file, keyed by
//! git commit (and whether the tree was dirty), machine, benchmark, metric and unit — the series
//! a change-point search and a dashboard read.
//!
//! - [`History::open`] creates the file or opens it, migrating an older schema forward inside a
//!   transaction and refusing one newer than this build knows ([`SCHEMA_VERSION`], kept in
//!   SQLite's `user_version`);
//! - [`History::record`] adds [`Record`]s in one transaction: all of them or none;
//! - [`History::series`] reads them back as [`Series`], one per (machine, benchmark, metric):
//!   machines are never mixed, so a change of machine is never read as a change of speed;
//! - [`bmf_records`] turns a Bencher Metric Format document (what `evaluate`, `compare` and
//!   `evaluate --metric` export) into records;
//! - [`change_points`]: where a series changed level (E-divisive with Hunter's split and merge,
//!   as Apache Otava).
//!
//! ```
//! use bench_history::{History, Record, Source};
//! let dir = tempfile::tempdir().unwrap();
//! let mut h = History::open(&dir.path().join("history.sqlite")).unwrap();
//! let source = Source { commit: "a1b2c3d".into(), dirty: false, machine: "ci-2core".into(), recorded_at: 1_700_000_000 };
//! let r = Record::new(&source, "grid_search/baseline", "latency", "ns", 1.25e7);
//! assert_eq!(h.record(&[r]).unwrap(), 1);
//! let s = h.series(Some("grid_search/baseline"), None).unwrap();
//! assert_eq!((s.len(), s[0].points[0].value), (1, 1.25e7));
//! ```

mod bisect;
mod changepoint;
mod detect;
pub mod git;
mod import;

pub use bisect::{BisectOptions, BisectStep, Bisection, bisect, bisect_text};
pub use changepoint::{ChangePoint, DetectOptions, change_points, weak_change_points};
pub use detect::{Change, SeriesChanges, detect, detect_text, show_text, sparkline};
pub use import::import_file;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// The schema this build writes. Version 1: `runs` (one row per measured result); version 2
/// adds `verdicts` (one row per paired verdict between two commits).
pub const SCHEMA_VERSION: i64 = 2;

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// SQLite refused an operation on the file.
    #[error("{}: {message}", path.display())]
    Sqlite {
        /// The history file.
        path: PathBuf,
        /// What SQLite said.
        message: String,
    },
    /// The file was written by a newer build.
    #[error(
        "{}: schema version {found} is newer than this build's {supported}: update the tool, or record into another file",
        path.display()
    )]
    Newer {
        /// The history file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// This build's.
        supported: i64,
    },
    /// A record or an imported document is not valid; the message names the field.
    #[error("{0}")]
    Input(String),
}

impl bench_core::ErrorClass for HistoryError {
    fn is_input_error(&self) -> bool {
        !matches!(self, Self::Sqlite { .. })
    }
}

/// Where a record comes from: the commit measured, the machine, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// The git commit measured (hash), or a label where there is no git.
    pub commit: String,
    /// The working tree had uncommitted changes.
    pub dirty: bool,
    /// The machine's fingerprint: its series are kept apart from other machines'.
    pub machine: String,
    /// Seconds since the Unix epoch.
    pub recorded_at: i64,
}

impl Source {
    /// The commit checked out in the git repository at `dir`, whether it is dirty, this
    /// machine's fingerprint (`bench_measure::sys::machine`) and the time now.
    pub fn current(dir: &Path) -> Result<Self, HistoryError> {
        let (commit, dirty) = git::Git::new(dir).state()?;
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Ok(Self { commit, dirty, machine: bench_measure::sys::machine(), recorded_at: now as i64 })
    }
}

/// One measured result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// Commit, machine, time.
    pub source: Source,
    /// What was measured (`grid_search_bundled/prefix-sums`).
    pub benchmark: String,
    /// Which figure (`latency`, `instructions`, …).
    pub metric: String,
    /// Its unit (`ns`, `instructions`, …).
    pub unit: String,
    /// The figure.
    pub value: f64,
    /// A lower bound (a confidence interval's, or the least run), when there is one.
    pub lower: Option<f64>,
    /// An upper bound, when there is one.
    pub upper: Option<f64>,
}

impl Record {
    /// A record without bounds.
    pub fn new(source: &Source, benchmark: &str, metric: &str, unit: &str, value: f64) -> Self {
        Self {
            source: source.clone(),
            benchmark: benchmark.to_owned(),
            metric: metric.to_owned(),
            unit: unit.to_owned(),
            value,
            lower: None,
            upper: None,
        }
    }

    /// Refuses an empty key or a value that is not a finite number, naming the field.
    fn check(&self) -> Result<(), HistoryError> {
        let fields = [
            ("commit", &self.source.commit),
            ("machine", &self.source.machine),
            ("benchmark", &self.benchmark),
            ("metric", &self.metric),
            ("unit", &self.unit),
        ];
        if let Some((name, _)) = fields.iter().find(|(_, v)| v.trim().is_empty()) {
            return Err(HistoryError::Input(format!("a record of {:?} has an empty {name}", self.benchmark)));
        }
        for (name, v) in [("value", Some(self.value)), ("lower", self.lower), ("upper", self.upper)] {
            if let Some(v) = v.filter(|v| !v.is_finite()) {
                return Err(HistoryError::Input(format!(
                    "{} {}: {name} {v:?} is not a finite number",
                    self.benchmark, self.metric
                )));
            }
        }
        Ok(())
    }
}

/// What a paired verdict between two commits found, on the threshold it was asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The candidate moved past the threshold (slower, or faster, by at least the threshold).
    Moved,
    /// The candidate did not move past the threshold.
    Unchanged,
    /// The budget ran out before the bounds left the threshold.
    Inconclusive,
}

impl Outcome {
    /// `moved`, `unchanged` or `inconclusive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Moved => "moved",
            Self::Unchanged => "unchanged",
            Self::Inconclusive => "inconclusive",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "moved" => Self::Moved,
            "unchanged" => Self::Unchanged,
            _ => Self::Inconclusive,
        }
    }
}

/// A paired, interleaved verdict between two commits of one benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictRecord {
    /// The machine it ran on.
    pub machine: String,
    /// The benchmark (the command, or a name).
    pub benchmark: String,
    /// The metric decided on (`latency`, …).
    pub metric: String,
    /// The commit compared against.
    pub baseline_commit: String,
    /// The commit judged.
    pub candidate_commit: String,
    /// What was found.
    pub outcome: Outcome,
    /// The candidate's change of the metric against the baseline, percent (+ = larger, i.e.
    /// slower for a time).
    pub change_percent: f64,
    /// The change's lower confidence bound, percent.
    pub lower: Option<f64>,
    /// Its upper confidence bound, percent.
    pub upper: Option<f64>,
    /// The threshold asked about, percent.
    pub threshold_percent: f64,
    /// Seconds since the Unix epoch.
    pub recorded_at: i64,
}

/// One point of a [`Series`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// The commit measured.
    pub commit: String,
    /// The tree was dirty.
    pub dirty: bool,
    /// Seconds since the Unix epoch.
    pub recorded_at: i64,
    /// The figure.
    pub value: f64,
    /// Its lower bound, if any.
    pub lower: Option<f64>,
    /// Its upper bound, if any.
    pub upper: Option<f64>,
}

/// The results of one benchmark and metric on one machine, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// The machine's fingerprint.
    pub machine: String,
    /// The benchmark.
    pub benchmark: String,
    /// The metric.
    pub metric: String,
    /// The unit.
    pub unit: String,
    /// Oldest first (by time recorded, then by insertion).
    pub points: Vec<Point>,
}

/// A history file.
#[derive(Debug)]
pub struct History {
    conn: Connection,
    path: PathBuf,
}

/// The migrations, in order: the one at index `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: [&str; 2] = [
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        commit_id TEXT NOT NULL,
        dirty INTEGER NOT NULL,
        machine TEXT NOT NULL,
        benchmark TEXT NOT NULL,
        metric TEXT NOT NULL,
        unit TEXT NOT NULL,
        value REAL NOT NULL,
        lower REAL,
        upper REAL,
        recorded_at INTEGER NOT NULL
    );
    CREATE INDEX runs_series ON runs (machine, benchmark, metric, recorded_at);",
    "CREATE TABLE verdicts (
        id INTEGER PRIMARY KEY,
        machine TEXT NOT NULL,
        benchmark TEXT NOT NULL,
        metric TEXT NOT NULL,
        baseline_commit TEXT NOT NULL,
        candidate_commit TEXT NOT NULL,
        outcome TEXT NOT NULL,
        change_percent REAL NOT NULL,
        lower REAL,
        upper REAL,
        threshold_percent REAL NOT NULL,
        recorded_at INTEGER NOT NULL
    );
    CREATE INDEX verdicts_series ON verdicts (machine, benchmark, metric);",
];

impl History {
    /// Opens `path`, creating it (and its folder) if needed and migrating its schema to
    /// [`SCHEMA_VERSION`]; a file from a newer build is refused and left as it is.
    pub fn open(path: &Path) -> Result<Self, HistoryError> {
        let sql =
            |e: rusqlite::Error| HistoryError::Sqlite { path: path.to_path_buf(), message: e.to_string() };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| HistoryError::Sqlite {
                path: path.to_path_buf(),
                message: format!("cannot create its folder: {e}"),
            })?;
        }
        let mut conn = Connection::open(path).map_err(sql)?;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(sql)?;
        if found > SCHEMA_VERSION {
            return Err(HistoryError::Newer { path: path.to_path_buf(), found, supported: SCHEMA_VERSION });
        }
        if found < SCHEMA_VERSION {
            let tx = conn.transaction().map_err(sql)?;
            for step in &MIGRATIONS[usize::try_from(found).unwrap_or(0)..] {
                tx.execute_batch(step).map_err(sql)?;
            }
            tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(sql)?;
            tx.commit().map_err(sql)?;
        }
        Ok(Self { conn, path: path.to_path_buf() })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self, e: rusqlite::Error) -> HistoryError {
        HistoryError::Sqlite { path: self.path.clone(), message: e.to_string() }
    }

    /// Adds `records` in one transaction (all or none: a bad record is refused before anything
    /// is written); returns how many were added.
    pub fn record(&mut self, records: &[Record]) -> Result<usize, HistoryError> {
        records.iter().try_for_each(Record::check)?;
        let path = self.path.clone();
        let sql = |e: rusqlite::Error| HistoryError::Sqlite { path: path.clone(), message: e.to_string() };
        let tx = self.conn.transaction().map_err(sql)?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO runs (commit_id, dirty, machine, benchmark, metric, unit, value, lower, upper, recorded_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(sql)?;
            for r in records {
                insert
                    .execute(params![
                        r.source.commit,
                        r.source.dirty,
                        r.source.machine,
                        r.benchmark,
                        r.metric,
                        r.unit,
                        r.value,
                        r.lower,
                        r.upper,
                        r.source.recorded_at
                    ])
                    .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)?;
        Ok(records.len())
    }

    /// Every series, or those of `benchmark` and `metric`, one per machine, sorted by machine,
    /// benchmark and metric; points oldest first.
    pub fn series(&self, benchmark: Option<&str>, metric: Option<&str>) -> Result<Vec<Series>, HistoryError> {
        let mut q = self
            .conn
            .prepare(
                "SELECT machine, benchmark, metric, unit, commit_id, dirty, recorded_at, value, lower, upper
                 FROM runs
                 WHERE (?1 IS NULL OR benchmark = ?1) AND (?2 IS NULL OR metric = ?2)
                 ORDER BY machine, benchmark, metric, recorded_at, id",
            )
            .map_err(|e| self.sql(e))?;
        let rows = q
            .query_map(params![benchmark, metric], |r| {
                Ok((
                    (r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?),
                    r.get::<_, String>(3)?,
                    Point {
                        commit: r.get(4)?,
                        dirty: r.get(5)?,
                        recorded_at: r.get(6)?,
                        value: r.get(7)?,
                        lower: r.get(8)?,
                        upper: r.get(9)?,
                    },
                ))
            })
            .map_err(|e| self.sql(e))?;
        let mut out: Vec<Series> = Vec::new();
        for row in rows {
            let ((machine, benchmark, metric), unit, point) = row.map_err(|e| self.sql(e))?;
            match out.last_mut() {
                Some(s) if s.machine == machine && s.benchmark == benchmark && s.metric == metric => {
                    s.points.push(point)
                }
                _ => out.push(Series { machine, benchmark, metric, unit, points: vec![point] }),
            }
        }
        Ok(out)
    }

    /// Adds a paired verdict.
    pub fn record_verdict(&mut self, v: &VerdictRecord) -> Result<(), HistoryError> {
        if ![v.change_percent, v.threshold_percent]
            .iter()
            .chain(v.lower.iter())
            .chain(v.upper.iter())
            .all(|x| x.is_finite())
        {
            return Err(HistoryError::Input(format!(
                "a verdict of {:?}: a figure is not a finite number",
                v.benchmark
            )));
        }
        self.conn
            .execute(
                "INSERT INTO verdicts (machine, benchmark, metric, baseline_commit, candidate_commit, outcome,
                 change_percent, lower, upper, threshold_percent, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    v.machine,
                    v.benchmark,
                    v.metric,
                    v.baseline_commit,
                    v.candidate_commit,
                    v.outcome.as_str(),
                    v.change_percent,
                    v.lower,
                    v.upper,
                    v.threshold_percent,
                    v.recorded_at
                ],
            )
            .map(|_| ())
            .map_err(|e| self.sql(e))
    }

    /// The verdicts recorded on `machine` for `benchmark` and `metric`, oldest first.
    pub fn verdicts(
        &self,
        machine: &str,
        benchmark: &str,
        metric: &str,
    ) -> Result<Vec<VerdictRecord>, HistoryError> {
        let mut q = self
            .conn
            .prepare(
                "SELECT machine, benchmark, metric, baseline_commit, candidate_commit, outcome, change_percent,
                 lower, upper, threshold_percent, recorded_at FROM verdicts
                 WHERE machine = ?1 AND benchmark = ?2 AND metric = ?3 ORDER BY recorded_at, id",
            )
            .map_err(|e| self.sql(e))?;
        let rows = q
            .query_map(params![machine, benchmark, metric], |r| {
                Ok(VerdictRecord {
                    machine: r.get(0)?,
                    benchmark: r.get(1)?,
                    metric: r.get(2)?,
                    baseline_commit: r.get(3)?,
                    candidate_commit: r.get(4)?,
                    outcome: Outcome::parse(&r.get::<_, String>(5)?),
                    change_percent: r.get(6)?,
                    lower: r.get(7)?,
                    upper: r.get(8)?,
                    threshold_percent: r.get(9)?,
                    recorded_at: r.get(10)?,
                })
            })
            .map_err(|e| self.sql(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.sql(e))
    }

    /// How many results the file holds.
    pub fn len(&self) -> Result<u64, HistoryError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM runs", [], |r| r.get::<_, i64>(0))
            .optional()
            .map(|n| n.unwrap_or(0).max(0) as u64)
            .map_err(|e| self.sql(e))
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> Result<bool, HistoryError> {
        self.len().map(|n| n == 0)
    }
}

/// Records into the history file `file` every result of the files `paths` (see
/// [`import_file`]) and of the BMF documents `documents`, under the commit checked out in the
/// git repository at `dir` (a raw-data file keeps its own), in one transaction: nothing is
/// added when one of them is refused. Returns how many results were added.
pub fn record_results(
    file: &Path,
    dir: &Path,
    paths: &[PathBuf],
    documents: &[String],
) -> Result<usize, HistoryError> {
    let source = Source::current(dir).map_err(|e| {
        HistoryError::Input(format!("{e} (a result is recorded under the git commit checked out)"))
    })?;
    let mut records = Vec::new();
    for p in paths {
        records.extend(import_file(p, &source)?);
    }
    for d in documents {
        records.extend(bmf_records(d, &source)?);
    }
    History::open(file)?.record(&records)
}

/// The units of the Bencher Metric Format's measures this toolkit writes.
fn bmf_unit(measure: &str) -> &str {
    match measure {
        "latency" | "cpu-time" => "ns",
        "instructions" => "instructions",
        "estimated-cycles" => "estimated cycles",
        other => other,
    }
}

/// The records of a Bencher Metric Format document (`{"benchmark": {"measure": {"value": v,
/// "lower_value": l, "upper_value": u}}}`), each from `source`. An entry that is not of that
/// shape is refused with its benchmark and measure named, and nothing is returned.
///
/// ```
/// use bench_history::{Source, bmf_records};
/// let source = Source { commit: "abc".into(), dirty: true, machine: "m".into(), recorded_at: 0 };
/// let doc = r#"{"compare/baseline": {"latency": {"value": 5.0e6, "lower_value": 4.9e6, "upper_value": 5.1e6}}}"#;
/// let r = bmf_records(doc, &source).unwrap();
/// assert_eq!((r[0].unit.as_str(), r[0].lower), ("ns", Some(4.9e6)));
/// assert!(bmf_records(r#"{"b": {"latency": {"lower_value": 1}}}"#, &source).unwrap_err().to_string().contains("b latency: no numeric \"value\""));
/// ```
pub fn bmf_records(json: &str, source: &Source) -> Result<Vec<Record>, HistoryError> {
    let doc: serde_json::Value = serde_json::from_str(json).map_err(|e| {
        HistoryError::Input(format!("not a JSON document ({e}): expected Bencher Metric Format"))
    })?;
    let benchmarks = doc.as_object().ok_or_else(|| {
        HistoryError::Input("expected Bencher Metric Format: an object of benchmarks".into())
    })?;
    let mut out = Vec::new();
    for (benchmark, measures) in benchmarks {
        let measures = measures
            .as_object()
            .ok_or_else(|| HistoryError::Input(format!("{benchmark}: expected an object of measures")))?;
        for (measure, m) in measures {
            let number = |key: &str| m.get(key).and_then(serde_json::Value::as_f64);
            let value = number("value")
                .ok_or_else(|| HistoryError::Input(format!("{benchmark} {measure}: no numeric \"value\"")))?;
            let record = Record {
                lower: number("lower_value"),
                upper: number("upper_value"),
                ..Record::new(source, benchmark, measure, bmf_unit(measure), value)
            };
            record.check()?;
            out.push(record);
        }
    }
    Ok(out)
}
