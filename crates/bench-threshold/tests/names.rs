//! Names and categories used in reports and on the command line.

use bench_core::units::{fmt2, p_value};
use bench_threshold::*;
use rust_decimal::Decimal;

#[test]
fn size_categories_follow_the_row_count() {
    for (rows, cat) in [
        (0, "small"),
        (9_999, "small"),
        (10_000, "medium"),
        (99_999, "medium"),
        (100_000, "production"),
        (252_000, "production"),
    ] {
        assert_eq!(DatasetSizeCategory::from_rows(rows).as_str(), cat);
    }
    assert_eq!(DatasetSizeCategory::ALL.len(), 3);
}

#[test]
fn criteria_and_presets_have_names() {
    let names: Vec<&str> =
        [Criterion::Improvement, Criterion::Significance, Criterion::Memory, Criterion::SampleSize]
            .iter()
            .map(|c| c.as_str())
            .collect();
    assert_eq!(names, ["improvement", "significance", "memory", "sample_size"]);
    assert_eq!(Preset::Strict.to_string(), "strict");
    assert_eq!(serde_json::to_value(Criterion::SampleSize).unwrap(), "sample_size");
    assert_eq!(fmt2(Decimal::new(12345, 3)), "12.35");
    assert_eq!(p_value(0.0), "0");
    assert_eq!(p_value(0.01234), "0.0123");
    assert_eq!(p_value(1.5e-7), "1.50e-7");
}

#[test]
fn thresholds_need_names() {
    let e = create_threshold(Decimal::from(5), "", "small", Decimal::new(95, 2), 10, Decimal::from(2), "")
        .unwrap_err();
    assert!(matches!(e, ThresholdError::InvalidThreshold { field: "workflow_type", .. }));
    assert!(e.to_string().contains("expected non-empty names"));
    let e = ThresholdError::NonFinite { what: "x", value: f64::NAN };
    assert_eq!(e.to_string(), "x is NaN, not a finite number");
}
