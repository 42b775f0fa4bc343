//! What a workload tells the generic bottleneck analysis about itself: which functions are its
//! own, what one unit of its work is, which functions carry line probes, and which remedies fit
//! which functions. The analysis knows nothing of any workload; these rules are its only input
//! besides the profiles.

use serde::{Deserialize, Serialize};

/// The rules of a bottleneck analysis.
///
/// ```
/// use bench_core::{BottleneckRules, RecommendationRule};
/// let rules = BottleneckRules {
///     application_prefixes: vec!["my_crate::".into()],
///     recommendations: vec![RecommendationRule {
///         remedy: "cache".into(),
///         name_contains: vec!["history".into()],
///         min_inclusive_percent: Some(10.0),
///         repeated_only: true,
///         reason: "{percent}% of the runtime rebuilds the same windows; compute each once".into(),
///         ..RecommendationRule::default()
///     }],
///     ..BottleneckRules::default()
/// };
/// assert!(rules.is_application("my_crate::history"));
/// assert!(rules.recommendations[0].matches_name("my_crate::portal::history"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BottleneckRules {
    /// Name prefixes of the code under study (e.g. `my_crate::`); other frames (std, the
    /// allocator, a thread pool) are charged to the innermost application frame that called them.
    pub application_prefixes: Vec<String>,
    /// The span that marks one unit of work (e.g. one backtest), for "allocations per unit".
    pub unit_of_work: Option<UnitOfWork>,
    /// Functions that carry line probes, in order of preference for a line-level deep-dive.
    pub probed_functions: Vec<String>,
    /// Remedies, each applied to every listed function it matches.
    pub recommendations: Vec<RecommendationRule>,
}

impl BottleneckRules {
    /// Rules for code whose function names start with `prefix` (e.g. `my_crate::`), with no
    /// unit of work, probes or remedies of its own.
    pub fn for_application(prefix: &str) -> Self {
        Self { application_prefixes: vec![prefix.to_owned()], ..Self::default() }
    }

    /// Whether `function` belongs to the code under study.
    pub fn is_application(&self, function: &str) -> bool {
        self.application_prefixes.iter().any(|p| function.starts_with(p.as_str()))
    }

    /// Whether `function` carries line probes.
    pub fn is_probed(&self, function: &str) -> bool {
        self.probed_functions.iter().any(|p| p == function)
    }
}

/// One unit of a workload's work, identified by a span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitOfWork {
    /// The span's name ends with this (e.g. `run_one`).
    pub span_suffix: String,
    /// What one unit is called in prose (e.g. `backtest`).
    pub noun: String,
}

/// A remedy for functions whose name and measured figures match.
///
/// A function matches when its last path segment contains one of `name_contains` and its
/// figures meet the conditions given: with `either`, one of the given conditions suffices;
/// without, every given condition must hold. A rule with only `min_calls` also applies to
/// instrumented functions under the 0.5% listing limit (a pool built per batch is cheap each
/// time and still worth removing).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecommendationRule {
    /// The remedy, e.g. `cache`, `batch initialisation`.
    pub remedy: String,
    /// Substrings of the function's last path segment.
    pub name_contains: Vec<String>,
    /// Minimum inclusive share of the runtime, percent.
    pub min_inclusive_percent: Option<f64>,
    /// Minimum exact call count (from spans).
    pub min_calls: Option<u64>,
    /// One of the given conditions suffices (instead of all).
    pub either: bool,
    /// Only repeated (VARIABLE, ≥ 10 calls) functions.
    pub repeated_only: bool,
    /// Why, with `{percent}` (inclusive share) and `{calls}` filled in.
    pub reason: String,
}

impl RecommendationRule {
    /// Whether the rule names `function`.
    pub fn matches_name(&self, function: &str) -> bool {
        let short = function.rsplit("::").next().unwrap_or(function);
        self.name_contains.iter().any(|n| short.contains(n.as_str()))
    }

    /// Whether figures of a matching function meet the conditions.
    pub fn holds(&self, inclusive_percent: f64, calls: Option<u64>, repeated: bool) -> bool {
        if self.repeated_only && !repeated {
            return false;
        }
        let conditions: Vec<bool> = [
            self.min_inclusive_percent.map(|m| inclusive_percent >= m),
            self.min_calls.map(|m| calls.unwrap_or(0) >= m),
        ]
        .into_iter()
        .flatten()
        .collect();
        if self.either { conditions.iter().any(|&c| c) } else { conditions.iter().all(|&c| c) }
    }

    /// Whether the rule can apply to functions under the listing limit (only a call count).
    pub fn calls_only(&self) -> bool {
        self.min_calls.is_some() && self.min_inclusive_percent.is_none()
    }

    /// The reason with its figures.
    pub fn reason_for(&self, inclusive_percent: f64, calls: Option<u64>) -> String {
        self.reason
            .replace("{percent}", &format!("{inclusive_percent:.1}"))
            .replace("{calls}", &calls.unwrap_or(0).to_string())
    }
}
