//! Limits that keep well-formed but too-big input from exhausting the machine: a memory budget
//! every count that sizes an allocation is checked against before allocating, the largest file
//! a whole-file reader accepts, and a time budget long jobs are admitted against.
//!
//! The memory budget is process-wide: [`set_memory_limit`] (a `--max-memory` flag) or, by
//! default, 80% of the memory this machine has available when first asked (`MemAvailable` in
//! `/proc/meminfo`; 4 GiB where that cannot be read).
//!
//! ```
//! use bench_core::limits::{MemoryBudget, LimitError};
//! let budget = MemoryBudget::new(1 << 30, "--max-memory 1GiB");
//! assert!(budget.check("--bars 1000", 1000, 52).is_ok());
//! let e: LimitError = budget.check("--bars 1000000000000", 1_000_000_000_000, 52).unwrap_err();
//! assert!(e.to_string().contains("--bars 1000000000000") && e.to_string().contains("1.00 GiB"));
//! ```

use std::sync::OnceLock;

use crate::units;

/// Where a budget comes from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryBudget {
    /// Bytes allowed.
    pub bytes: u64,
    /// What set it, e.g. `--max-memory 2GiB` or `80% of the 20.1 GiB available on this machine`.
    pub source: String,
}

/// Why a job was refused before it started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// It would need more memory than the budget.
    #[error(
        "{what}: would need {needed} of memory, past the limit of {limit} ({set_by}); use smaller values, or raise the limit with --max-memory"
    )]
    Memory {
        /// The flag, file or count at fault, as the user wrote it.
        what: String,
        /// The bytes it implies, formatted.
        needed: String,
        /// The budget, formatted.
        limit: String,
        /// What set the budget.
        set_by: String,
    },
    /// It would run longer than the time budget without being confirmed.
    #[error(
        "{what}: {work} would take about {estimate} here (measured: {rate}), past the {limit} a job may take unconfirmed; narrow it, or pass --yes to run it anyway"
    )]
    Time {
        /// The job, with its flags.
        what: String,
        /// Its work, e.g. `5.0×10¹¹ backtests of 12154 bars`.
        work: String,
        /// The estimated time, formatted.
        estimate: String,
        /// The measured rate it was estimated from, formatted.
        rate: String,
        /// The limit, formatted.
        limit: String,
    },
    /// A file is larger than its reader accepts.
    #[error("{path}: {size} is past the {limit} this reader accepts ({why})")]
    FileSize {
        /// The file.
        path: String,
        /// Its size (or at least), formatted.
        size: String,
        /// The limit, formatted.
        limit: String,
        /// Why the limit is what it is.
        why: String,
    },
}

impl crate::ErrorClass for LimitError {
    fn is_input_error(&self) -> bool {
        true
    }
}

impl MemoryBudget {
    /// A budget of `bytes` set by `source`.
    pub fn new(bytes: u64, source: &str) -> Self {
        Self { bytes, source: source.to_owned() }
    }

    /// 80% of the memory available on this machine now (`MemAvailable`), or 4 GiB where it
    /// cannot be read.
    pub fn of_machine() -> Self {
        match available_memory() {
            Some(b) => {
                Self::new(b / 5 * 4, &format!("80% of the {} available on this machine", units::bytes(b)))
            }
            None => Self::new(4 << 30, "4 GiB: this machine's available memory could not be read"),
        }
    }

    /// Checks `count` items of `bytes_each` bytes (computed without overflow) against the
    /// budget; `what` names the flag or input, as the user wrote it. Returns the bytes.
    pub fn check(&self, what: &str, count: u128, bytes_each: u128) -> Result<u128, LimitError> {
        self.check_bytes(what, count.saturating_mul(bytes_each))
    }

    /// Checks `bytes` against the budget.
    pub fn check_bytes(&self, what: &str, bytes: u128) -> Result<u128, LimitError> {
        if bytes > u128::from(self.bytes) {
            return Err(LimitError::Memory {
                what: what.to_owned(),
                needed: big_bytes(bytes),
                limit: units::bytes(self.bytes),
                set_by: self.source.clone(),
            });
        }
        Ok(bytes)
    }
}

/// A byte count that may exceed `u64`, in binary units.
fn big_bytes(b: u128) -> String {
    match u64::try_from(b) {
        Ok(x) => units::bytes(x),
        Err(_) => format!("{:.3e} bytes", b as f64),
    }
}

/// `MemAvailable` of `/proc/meminfo`, in bytes (Linux).
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

static MEMORY_LIMIT: OnceLock<MemoryBudget> = OnceLock::new();

/// Sets the process-wide memory budget (call before the first [`memory_limit`]; later calls
/// are ignored and return false).
pub fn set_memory_limit(budget: MemoryBudget) -> bool {
    MEMORY_LIMIT.set(budget).is_ok()
}

/// Sets the budget a command-line flag gave (`flag` names it in messages: `--max-memory 2.0
/// GiB`); nothing when it was not given.
pub fn set_memory_limit_from(bytes: Option<u64>, flag: &str) {
    if let Some(bytes) = bytes {
        set_memory_limit(MemoryBudget::new(bytes, &format!("{flag} {}", crate::units::bytes(bytes))));
    }
}

/// The process-wide memory budget: what [`set_memory_limit`] set, or [`MemoryBudget::of_machine`].
pub fn memory_limit() -> &'static MemoryBudget {
    MEMORY_LIMIT.get_or_init(MemoryBudget::of_machine)
}

/// The largest JSON input read whole (raw data, hyperfine exports, reports): 64 MiB, or an
/// eighth of the memory budget if that is smaller (a parsed document takes several times its
/// text). A raw-data file of 100,000 runs is about 20 MiB.
pub fn json_file_limit() -> u64 {
    (64u64 << 20).min(memory_limit().bytes / 8)
}

/// How long a job may run without `--yes`: one hour.
pub const UNCONFIRMED_SECONDS: f64 = 3600.0;

/// A job's size and its estimated time at a measured rate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WorkEstimate {
    /// What it is, with its flags (for messages).
    pub what: String,
    /// Its work in words, e.g. `4,500 backtests of 12,154 bars`.
    pub work: String,
    /// Units of work (e.g. bar evaluations).
    pub units: f64,
    /// Units per second, measured on this machine.
    pub rate_per_second: f64,
    /// The unit's name, e.g. `bar evaluations`.
    pub unit: String,
}

impl WorkEstimate {
    /// Estimated seconds.
    pub fn seconds(&self) -> f64 {
        if self.rate_per_second > 0.0 { self.units / self.rate_per_second } else { f64::INFINITY }
    }

    /// Refuses a job estimated past [`UNCONFIRMED_SECONDS`] unless `confirmed`.
    pub fn admit(&self, confirmed: bool) -> Result<(), LimitError> {
        if confirmed || self.seconds() <= UNCONFIRMED_SECONDS {
            return Ok(());
        }
        Err(LimitError::Time {
            what: self.what.clone(),
            work: self.work.clone(),
            estimate: long_duration(self.seconds()),
            rate: format!("{} {}/s", units::rate(self.rate_per_second), self.unit),
            limit: long_duration(UNCONFIRMED_SECONDS),
        })
    }

    /// "about 3 min 20 s for 4,500 backtests of 12,154 bars", for a person.
    pub fn describe(&self) -> String {
        format!("{}: about {}", self.work, long_duration(self.seconds()))
    }
}

/// A duration from seconds to years, for a person planning their time.
pub fn long_duration(seconds: f64) -> String {
    const DAY: f64 = 86_400.0;
    match seconds {
        s if !s.is_finite() => "forever".into(),
        s if s < 2.0 * DAY => units::clock(s),
        s if s < 60.0 * DAY => format!("{:.1} days", s / DAY),
        s if s < 730.0 * DAY => format!("{:.1} months", s / (30.44 * DAY)),
        s => format!("{:.3e} years", s / (365.25 * DAY)),
    }
}

/// A count in words that stays readable when huge: `4,500`, `5.0×10¹¹`.
pub fn count_words(n: f64) -> String {
    if n < 1e9 {
        units::count(n as u64)
    } else {
        let e = n.log10().floor() as i32;
        let digits: String = e.to_string().chars().map(superscript).collect();
        format!("{:.1}×10{digits}", n / 10f64.powi(e))
    }
}

fn superscript(c: char) -> char {
    match c {
        '0' => '⁰',
        '1' => '¹',
        '2' => '²',
        '3' => '³',
        '4' => '⁴',
        '5' => '⁵',
        '6' => '⁶',
        '7' => '⁷',
        '8' => '⁸',
        '9' => '⁹',
        '-' => '⁻',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_counts_neither_overflow_nor_pass() {
        let b = MemoryBudget::new(1 << 30, "test");
        assert!(b.check("x", u128::MAX, 2).is_err());
        assert_eq!(count_words(5.0e11), "5.0×10¹¹");
        assert_eq!(count_words(4500.0), "4,500");
        assert_eq!(long_duration(3.0e7), "11.4 months");
    }

    #[test]
    fn a_job_past_an_hour_needs_confirmation() {
        let w = WorkEstimate {
            what: "grid".into(),
            work: "w".into(),
            units: 1e12,
            rate_per_second: 1e8,
            unit: "bars".into(),
        };
        let e = w.admit(false).unwrap_err().to_string();
        assert!(e.contains("--yes") && e.contains("2 h 47 min"), "{e}");
        assert!(w.admit(true).is_ok());
    }
}
