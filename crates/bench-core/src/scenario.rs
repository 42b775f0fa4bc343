//! Extended scenarios: the same operation measured at several sizes (bundle sizes, worker
//! counts…). A workload describes its cases; a generic runner times them, profiles them and
//! renders the table, so neither side knows the other.

/// A set of cases measured and reported together as one table.
pub struct ScenarioSet<'a> {
    /// Stable name, used as the JSON key and in file names (e.g. `batch_init`).
    pub name: String,
    /// Section title (e.g. `Batch initialisation across bundle sizes`).
    pub title: String,
    /// What is measured and how, in a paragraph.
    pub explanation: String,
    /// What a reader should keep in mind (e.g. core count limits), shown under the table.
    pub notes: Vec<String>,
    /// The cases, in table order.
    pub cases: Vec<ScenarioCase<'a>>,
}

impl std::fmt::Debug for ScenarioSet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScenarioSet").field("name", &self.name).field("cases", &self.cases.len()).finish()
    }
}

/// One case of a scenario: its fixed facts and how to run it once.
pub struct ScenarioCase<'a> {
    /// File-name stem of the case's flame graph (e.g. `batch_init_10_assets`).
    pub id: String,
    /// Flame-graph title.
    pub title: String,
    /// Facts shown as columns and JSON keys, in order (e.g. assets, bundle rows, backtests).
    pub facts: Vec<Fact>,
    /// Worker threads the case uses (for utilisation).
    pub workers: usize,
    /// One run of the case. It is given the runner's clock of the calling thread's CPU time
    /// (nanoseconds), for measuring the CPU time its tasks take on worker threads.
    pub run: Box<dyn Fn(ThreadClock) -> Result<ScenarioReading, String> + 'a>,
}

/// CPU time of the calling thread in nanoseconds, supplied by the scenario runner.
pub type ThreadClock = fn() -> u64;

impl std::fmt::Debug for ScenarioCase<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScenarioCase")
            .field("id", &self.id)
            .field("facts", &self.facts)
            .finish_non_exhaustive()
    }
}

/// A fixed fact of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    /// JSON key (e.g. `bundle_rows`).
    pub key: &'static str,
    /// Column header (e.g. `Bundle rows`).
    pub label: &'static str,
    /// The value.
    pub value: u64,
}

/// What one run of a case measured beyond its wall time, CPU time and memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioReading {
    /// Per-worker set-up times (e.g. loading the data), nanoseconds; empty when not measured.
    pub setup_ns: Vec<u64>,
    /// Σ CPU time the workers spent on tasks, nanoseconds, when measured (for utilisation).
    pub busy_ns: Option<u64>,
    /// Tasks completed (for throughput).
    pub tasks: u64,
}
