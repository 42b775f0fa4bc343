//! What the backtest engine tells the generic bottleneck analysis about itself: its functions,
//! its unit of work, its probed functions, and which ladder remedy fits which hot spot.

use bench_core::{BottleneckRules, RecommendationRule, UnitOfWork};
use bench_workloads::PROBED_FUNCTIONS;

/// The rules for profiling the backtest workloads: application code is `bench_workloads::`, a
/// unit of work is one backtest (`run_one`), and each remedy matches the ladder step that
/// removes the cost it names.
///
/// ```
/// let rules = bench_ladder::bottleneck_rules();
/// assert!(rules.is_application("bench_workloads::signals::signals_from_history"));
/// assert!(rules.recommendations.iter().any(|r| r.remedy == "cache"));
/// ```
pub fn bottleneck_rules() -> BottleneckRules {
    BottleneckRules {
        application_prefixes: vec!["bench_workloads::".into()],
        unit_of_work: Some(UnitOfWork { span_suffix: "run_one".into(), noun: "backtest".into() }),
        probed_functions: PROBED_FUNCTIONS.iter().map(|f| (*f).to_owned()).collect(),
        recommendations: vec![
            RecommendationRule {
                remedy: "cache".into(),
                name_contains: vec!["history".into(), "sma".into()],
                min_inclusive_percent: Some(10.0),
                repeated_only: true,
                reason: "{percent}% of the runtime recomputes indicators from fresh history windows; compute each (asset, window) once and share it".into(),
                ..RecommendationRule::default()
            },
            RecommendationRule {
                remedy: "batch initialisation".into(),
                name_contains: vec!["read_binary".into(), "load".into()],
                min_inclusive_percent: Some(1.0),
                min_calls: Some(10),
                either: true,
                reason: "called {calls} times ({percent}% of the runtime); load the data once and share it across backtests and workers".into(),
                ..RecommendationRule::default()
            },
            RecommendationRule {
                remedy: "persistent workers".into(),
                name_contains: vec!["build_pool".into()],
                min_calls: Some(2),
                reason: "a worker pool is built {calls} times per run; keep one pool for the whole sweep".into(),
                ..RecommendationRule::default()
            },
        ],
    }
}
