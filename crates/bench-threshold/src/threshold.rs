//! Thresholds and the configuration presets.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ThresholdError;

/// Size class of a dataset, used to pick a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetSizeCategory {
    /// Fewer than 10,000 rows.
    Small,
    /// 10,000 to 99,999 rows.
    Medium,
    /// 100,000 rows or more (the production size is 252,000 bars: 1,000 days × 252).
    Production,
}

impl DatasetSizeCategory {
    /// All categories, smallest first.
    pub const ALL: [Self; 3] = [Self::Small, Self::Medium, Self::Production];

    /// The category of a dataset with `rows` rows.
    ///
    /// ```
    /// use bench_threshold::DatasetSizeCategory;
    /// assert_eq!(DatasetSizeCategory::from_rows(2_148), DatasetSizeCategory::Small);
    /// assert_eq!(DatasetSizeCategory::from_rows(252_000), DatasetSizeCategory::Production);
    /// ```
    pub fn from_rows(rows: u64) -> Self {
        match rows {
            0..10_000 => Self::Small,
            10_000..100_000 => Self::Medium,
            _ => Self::Production,
        }
    }

    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Small => "small",
            Self::Medium => "medium",
            Self::Production => "production",
        }
    }
}

/// How the improvement criterion is decided.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The default: accepted only when the one-sided lower bound of the improvement of mean
    /// time, at the threshold's confidence, reaches the minimum improvement; rejected when the
    /// upper bound falls short of it; otherwise inconclusive. At a true improvement exactly at
    /// the threshold, at most `α` of comparisons are accepted.
    #[default]
    Strict,
    /// The methodology's original rule, kept for comparison: the improvement's point estimate
    /// reaches the minimum and a one-sided test against *no* improvement has `p < α`. It accepts
    /// about half of the candidates whose true improvement is exactly the threshold.
    Classic,
}

impl Rule {
    /// `strict` or `classic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::Classic => "classic",
        }
    }
}

/// The acceptance criteria for one (workflow type, dataset-size category).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerformanceThreshold {
    /// Minimum mean improvement, in percent of the baseline mean.
    pub min_improvement_percent: Decimal,
    /// Workflow the threshold applies to (`*` for the fallback).
    pub workflow_type: String,
    /// Dataset-size category it applies to (`*` for the fallback).
    pub dataset_size_category: String,
    /// Confidence level; the significance level is `α = 1 − confidence`.
    pub statistical_confidence: Decimal,
    /// Minimum number of paired runs.
    pub min_sample_size: usize,
    /// Largest acceptable increase of peak memory, in percent.
    pub max_memory_increase_percent: Decimal,
    /// An increase of peak memory smaller than this many bytes never fails the decision (it is
    /// reported): a few kilobytes more on a small heap is a large percentage and no cost.
    #[serde(default = "default_memory_floor")]
    pub memory_floor_bytes: u64,
    /// How the improvement criterion is decided ([`Rule::Strict`] unless asked otherwise).
    #[serde(default)]
    pub rule: Rule,
    /// Why these values.
    pub rationale: String,
}

/// The absolute memory floor of every preset: 64 KiB.
pub const DEFAULT_MEMORY_FLOOR_BYTES: u64 = 64 * 1024;

fn default_memory_floor() -> u64 {
    DEFAULT_MEMORY_FLOOR_BYTES
}

/// Values that replace a preset's, e.g. from the command line; `None` keeps the preset's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThresholdOverrides {
    /// Minimum improvement, percent.
    pub min_improvement_percent: Option<Decimal>,
    /// Confidence level, e.g. 0.99.
    pub statistical_confidence: Option<Decimal>,
    /// Largest acceptable memory increase, percent.
    pub max_memory_increase_percent: Option<Decimal>,
    /// Absolute memory floor, bytes.
    pub memory_floor_bytes: Option<u64>,
    /// The decision rule.
    pub rule: Option<Rule>,
}

impl ThresholdOverrides {
    /// True when nothing is overridden.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl PerformanceThreshold {
    /// The significance level `α = 1 − confidence`.
    pub fn alpha(&self) -> Decimal {
        Decimal::ONE - self.statistical_confidence
    }

    /// What the threshold applies to, in words: `grid search on small datasets (< 10,000
    /// rows)`, or `any workflow (the fallback)`.
    ///
    /// ```
    /// let c = bench_threshold::OptimizationConfig::create_default();
    /// assert_eq!(c.get_threshold("grid_search", "small").applies_to(), "grid search on small datasets (< 10,000 rows)");
    /// assert_eq!(c.fallback().applies_to(), "any workflow and dataset size (the fallback)");
    /// ```
    pub fn applies_to(&self) -> String {
        if self.workflow_type == "*" {
            return "any workflow and dataset size (the fallback)".into();
        }
        let size = match self.dataset_size_category.as_str() {
            "small" => "small datasets (< 10,000 rows)",
            "medium" => "medium datasets (10,000–99,999 rows)",
            "production" => "production-size datasets (≥ 100,000 rows)",
            other => other,
        };
        format!("{} on {size}", self.workflow_type.replace('_', " "))
    }

    /// The threshold with `overrides` applied and validated; the rationale says which values
    /// were set and by whom.
    ///
    /// ```
    /// use bench_threshold::{OptimizationConfig, ThresholdOverrides};
    /// use rust_decimal::Decimal;
    /// let t = OptimizationConfig::create_default().fallback().clone();
    /// let o = ThresholdOverrides { min_improvement_percent: Some(Decimal::new(3, 0)), ..Default::default() };
    /// let t = t.with_overrides(&o, "the command line").unwrap();
    /// assert_eq!(t.min_improvement_percent, Decimal::new(3, 0));
    /// assert!(t.rationale.contains("set by the command line: minimum improvement 3%"));
    /// ```
    pub fn with_overrides(&self, overrides: &ThresholdOverrides, by: &str) -> Result<Self, ThresholdError> {
        self.overridden(overrides, by)
    }

    /// The threshold of `preset` (its fallback) with `overrides` set by `by`.
    ///
    /// ```
    /// use bench_threshold::{PerformanceThreshold, Preset, ThresholdOverrides};
    /// let t = PerformanceThreshold::of_preset(Preset::Strict, &ThresholdOverrides::default(), "flags").unwrap();
    /// assert_eq!(t.min_improvement_percent, rust_decimal::Decimal::TEN);
    /// ```
    pub fn of_preset(
        preset: Preset,
        overrides: &ThresholdOverrides,
        by: &str,
    ) -> Result<Self, ThresholdError> {
        OptimizationConfig::from_preset(preset).fallback().overridden(overrides, by)
    }

    fn overridden(&self, overrides: &ThresholdOverrides, by: &str) -> Result<Self, ThresholdError> {
        if overrides.is_empty() {
            return Ok(self.clone());
        }
        let mut said = Vec::new();
        if let Some(v) = overrides.min_improvement_percent {
            said.push(format!("minimum improvement {v}%"));
        }
        if let Some(v) = overrides.statistical_confidence {
            said.push(format!("confidence {v}"));
        }
        if let Some(v) = overrides.max_memory_increase_percent {
            said.push(format!("maximum memory increase {v}%"));
        }
        if let Some(v) = overrides.memory_floor_bytes {
            said.push(format!("memory floor {v} bytes"));
        }
        if let Some(v) = overrides.rule {
            said.push(format!("the {} rule", v.as_str()));
        }
        let mut t = create_threshold(
            overrides.min_improvement_percent.unwrap_or(self.min_improvement_percent),
            &self.workflow_type,
            &self.dataset_size_category,
            overrides.statistical_confidence.unwrap_or(self.statistical_confidence),
            self.min_sample_size,
            overrides.max_memory_increase_percent.unwrap_or(self.max_memory_increase_percent),
            &format!("{}; set by {by}: {}", self.rationale, said.join(", ")),
        )?;
        t.memory_floor_bytes = overrides.memory_floor_bytes.unwrap_or(self.memory_floor_bytes);
        t.rule = overrides.rule.unwrap_or(self.rule);
        Ok(t)
    }
}

/// Builds a validated threshold.
///
/// ```
/// use bench_threshold::create_threshold;
/// use rust_decimal::Decimal;
/// let t = create_threshold(Decimal::new(5, 0), "grid_search", "production", Decimal::new(95, 2), 10,
///                          Decimal::new(2, 0), "5% balances measurability with achievability").unwrap();
/// assert_eq!(t.alpha(), Decimal::new(5, 2));
/// assert!(create_threshold(Decimal::new(5, 0), "grid_search", "production", Decimal::ONE, 10,
///                          Decimal::new(2, 0), "").is_err());
/// ```
pub fn create_threshold(
    min_improvement_percent: Decimal,
    workflow_type: &str,
    dataset_size_category: &str,
    statistical_confidence: Decimal,
    min_sample_size: usize,
    max_memory_increase_percent: Decimal,
    rationale: &str,
) -> Result<PerformanceThreshold, ThresholdError> {
    let invalid = |field: &'static str, value: String, expected: &'static str| {
        ThresholdError::InvalidThreshold { field, value, expected }
    };
    if min_improvement_percent < Decimal::ZERO || min_improvement_percent >= Decimal::ONE_HUNDRED {
        return Err(invalid(
            "min_improvement_percent",
            min_improvement_percent.to_string(),
            "a percentage in [0, 100)",
        ));
    }
    if statistical_confidence <= Decimal::ZERO || statistical_confidence >= Decimal::ONE {
        return Err(invalid(
            "statistical_confidence",
            statistical_confidence.to_string(),
            "a level strictly between 0 and 1, e.g. 0.95",
        ));
    }
    if min_sample_size < 2 {
        return Err(invalid("min_sample_size", min_sample_size.to_string(), "at least 2 runs"));
    }
    if max_memory_increase_percent < Decimal::ZERO {
        return Err(invalid(
            "max_memory_increase_percent",
            max_memory_increase_percent.to_string(),
            "a percentage ≥ 0",
        ));
    }
    if workflow_type.is_empty() || dataset_size_category.is_empty() {
        return Err(invalid(
            "workflow_type",
            format!("{workflow_type:?}/{dataset_size_category:?}"),
            "non-empty names",
        ));
    }
    Ok(PerformanceThreshold {
        min_improvement_percent,
        workflow_type: workflow_type.to_owned(),
        dataset_size_category: dataset_size_category.to_owned(),
        statistical_confidence,
        min_sample_size,
        max_memory_increase_percent,
        memory_floor_bytes: DEFAULT_MEMORY_FLOOR_BYTES,
        rule: Rule::Strict,
        rationale: rationale.to_owned(),
    })
}

/// The configuration presets.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// 5% / 95% / 10 runs / 2% memory / goal 40% — production use.
    Default,
    /// 10% / 99% / 20 runs / 1% memory / goal 50% — high-stakes validation.
    Strict,
    /// 2% / 90% / 10 runs / 10% memory / goal 20% — experimentation.
    Lenient,
}

impl Preset {
    /// All presets.
    pub const ALL: [Self; 3] = [Self::Default, Self::Strict, Self::Lenient];

    /// The preset's name as typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Strict => "strict",
            Self::Lenient => "lenient",
        }
    }
}

impl std::str::FromStr for Preset {
    type Err = ThresholdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| ThresholdError::UnknownPreset { name: s.to_owned() })
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Workflow types the presets hold explicit thresholds for.
pub const KNOWN_WORKFLOWS: [&str; 3] = ["grid_search", "walk_forward", "single_backtest"];

/// Thresholds per (workflow type, dataset-size category) with a fallback, plus the cumulative
/// goal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptimizationConfig {
    /// The preset this configuration was built from.
    pub preset: Preset,
    /// Cumulative improvement at which a sequential evaluation may stop, in percent.
    pub goal_improvement_percent: Decimal,
    /// Whether the preset asks for verbose diagnostics (lenient does).
    pub debug_logging: bool,
    thresholds: BTreeMap<(String, String), PerformanceThreshold>,
    fallback: PerformanceThreshold,
}

struct PresetValues {
    improvement: Decimal,
    confidence: Decimal,
    runs: usize,
    memory: Decimal,
    goal: Decimal,
    why: &'static str,
}

impl OptimizationConfig {
    /// The configuration of a preset.
    ///
    /// ```
    /// use bench_threshold::{OptimizationConfig, Preset};
    /// use rust_decimal::Decimal;
    /// let c = OptimizationConfig::from_preset(Preset::Strict);
    /// let t = c.get_threshold("grid_search", "production");
    /// assert_eq!(t.min_improvement_percent, Decimal::new(10, 0));
    /// assert_eq!(t.min_sample_size, 20);
    /// assert_eq!(c.goal_improvement_percent, Decimal::new(50, 0));
    /// ```
    pub fn from_preset(preset: Preset) -> Self {
        let v = match preset {
            Preset::Default => PresetValues {
                improvement: Decimal::new(5, 0),
                confidence: Decimal::new(95, 2),
                runs: 10,
                memory: Decimal::new(2, 0),
                goal: Decimal::new(40, 0),
                why: "5% balances measurability with achievability; 95% confidence; 10 runs is the minimum for a t-based CI; memory may grow at most 2%",
            },
            Preset::Strict => PresetValues {
                improvement: Decimal::new(10, 0),
                confidence: Decimal::new(99, 2),
                runs: 20,
                memory: Decimal::new(1, 0),
                goal: Decimal::new(50, 0),
                why: "high-stakes validation: 10% improvement at 99% confidence over 20 runs, memory may grow at most 1%",
            },
            Preset::Lenient => PresetValues {
                improvement: Decimal::new(2, 0),
                confidence: Decimal::new(90, 2),
                runs: 10,
                memory: Decimal::new(10, 0),
                goal: Decimal::new(20, 0),
                why: "experimentation: 2% improvement at 90% confidence, memory may grow 10% to allow caching",
            },
        };
        let make = |wf: &str, cat: &str| {
            create_threshold(v.improvement, wf, cat, v.confidence, v.runs, v.memory, v.why)
                .expect("preset values are valid")
        };
        let mut thresholds = BTreeMap::new();
        for wf in KNOWN_WORKFLOWS {
            for cat in DatasetSizeCategory::ALL {
                thresholds.insert((wf.to_owned(), cat.as_str().to_owned()), make(wf, cat.as_str()));
            }
        }
        Self {
            preset,
            goal_improvement_percent: v.goal,
            debug_logging: preset == Preset::Lenient,
            thresholds,
            fallback: make("*", "*"),
        }
    }

    /// The default preset (5% / 95% / 10 runs / 2% memory / goal 40%).
    pub fn create_default() -> Self {
        Self::from_preset(Preset::Default)
    }

    /// The strict preset (10% / 99% / 20 runs / 1% memory / goal 50%).
    pub fn create_strict() -> Self {
        Self::from_preset(Preset::Strict)
    }

    /// The lenient preset (2% / 90% / 10 runs / 10% memory / goal 20%).
    pub fn create_lenient() -> Self {
        Self::from_preset(Preset::Lenient)
    }

    /// The threshold for a workflow and size category, or the fallback when none is set.
    pub fn get_threshold(&self, workflow_type: &str, dataset_size_category: &str) -> &PerformanceThreshold {
        self.thresholds
            .get(&(workflow_type.to_owned(), dataset_size_category.to_owned()))
            .unwrap_or(&self.fallback)
    }

    /// Adds or replaces the threshold for its (workflow type, size category).
    pub fn set_threshold(&mut self, threshold: PerformanceThreshold) {
        self.thresholds
            .insert((threshold.workflow_type.clone(), threshold.dataset_size_category.clone()), threshold);
    }

    /// The threshold used when no (workflow, category) entry matches.
    pub fn fallback(&self) -> &PerformanceThreshold {
        &self.fallback
    }
}
