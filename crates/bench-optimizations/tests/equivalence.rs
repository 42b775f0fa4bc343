//! The gate's comparison modes and its typed errors.

use bench_optimizations::*;

fn one(v: Value) -> Vec<(String, Value)> {
    vec![("case".to_string(), v)]
}

fn check(a: Value, b: Value, mode: ComparisonMode) -> Result<EquivalenceReport, EquivalenceError> {
    let cases = one(a);
    let other = b;
    test_functional_equivalence(|v: &Value| v.clone(), |_: &Value| other.clone(), &cases, 1e-10, mode)
}

#[test]
fn scalars_within_tolerance_pass_and_outside_fail_with_both_values() {
    assert!(check(Value::Scalar(1.0), Value::Scalar(1.0 + 1e-12), ComparisonMode::Scalar).is_ok());
    assert!(
        check(Value::Scalar(1e6), Value::Scalar(1e6 * (1.0 + 5e-11)), ComparisonMode::Scalar).is_ok(),
        "relative for large values"
    );
    let e = check(Value::Scalar(2.0), Value::Scalar(2.5), ComparisonMode::Scalar).unwrap_err();
    match &e {
        EquivalenceError::Mismatch { case, location, baseline, candidate, difference, .. } => {
            assert_eq!(
                (case.as_str(), location.as_str(), *baseline, *candidate, *difference),
                ("case", "value", 2.0, 2.5, 0.5)
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn arrays_compare_element_wise_with_nan_equal_to_nan() {
    let a = Value::Array(vec![1.0, f64::NAN, 3.0]);
    assert!(check(a.clone(), Value::Array(vec![1.0, f64::NAN, 3.0]), ComparisonMode::Array).is_ok());
    let e = check(a.clone(), Value::Array(vec![1.0, 2.0, 3.0]), ComparisonMode::Array).unwrap_err();
    assert!(e.to_string().starts_with("case \"case\": [1]: baseline NaN vs candidate 2"), "{e}");
    let e = check(a, Value::Array(vec![1.0]), ComparisonMode::Array).unwrap_err();
    assert_eq!(e.to_string(), "case \"case\": array: baseline has 3 elements, candidate 1");
}

#[test]
fn records_name_the_field_and_index() {
    let rec = |eq: f64| {
        Value::Record(vec![
            ("trades".into(), Value::Scalar(66.0)),
            ("equity_curve".into(), Value::Array(vec![10_000.0, eq])),
        ])
    };
    assert!(check(rec(10_100.0), rec(10_100.0), ComparisonMode::Record).is_ok());
    let e = check(rec(10_100.0), rec(10_101.0), ComparisonMode::Record).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("case \"case\": equity_curve[1]: baseline 10100 vs candidate 10101 (difference 1e0"),
        "{e}"
    );
    let mixed = Value::Record(vec![
        ("trades".into(), Value::Array(vec![66.0])),
        ("equity_curve".into(), Value::Array(vec![1.0, 2.0])),
    ]);
    let e = check(rec(1.0), mixed, ComparisonMode::Record).unwrap_err();
    assert_eq!(e.to_string(), "case \"case\": trades: baseline is a scalar, candidate a array");
    let other = Value::Record(vec![("trades".into(), Value::Scalar(66.0))]);
    let e = check(rec(1.0), other, ComparisonMode::Record).unwrap_err();
    assert!(matches!(e, EquivalenceError::Shape { .. }), "{e}");
}

#[test]
fn wrong_mode_and_panics_are_errors() {
    let e = check(Value::Scalar(1.0), Value::Scalar(1.0), ComparisonMode::Array).unwrap_err();
    assert!(matches!(e, EquivalenceError::WrongMode { expected: "array", got: "scalar", .. }));
    let cases = one(Value::Scalar(1.0));
    let e = test_functional_equivalence(
        |v: &Value| v.clone(),
        |_: &Value| -> Value { panic!("boom") },
        &cases,
        1e-10,
        ComparisonMode::Scalar,
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "case \"case\": the candidate failed: boom");
}

#[test]
fn the_report_counts_what_was_compared() {
    let cases =
        vec![("a".to_string(), Value::Array(vec![1.0; 5])), ("b".to_string(), Value::Array(vec![2.0; 7]))];
    let r = test_functional_equivalence(
        |v: &Value| v.clone(),
        |v: &Value| v.clone(),
        &cases,
        1e-10,
        ComparisonMode::Array,
    )
    .unwrap();
    assert_eq!((r.cases, r.values_compared), (2, 12));
    assert_eq!(r.max_scaled_difference, 0.0);
}
