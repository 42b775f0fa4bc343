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
    /// Why these values.
    pub rationale: String,
}

impl PerformanceThreshold {
    /// The significance level `α = 1 − confidence`.
    pub fn alpha(&self) -> Decimal {
        Decimal::ONE - self.statistical_confidence
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
        rationale: rationale.to_owned(),
    })
}

/// The configuration presets.
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
