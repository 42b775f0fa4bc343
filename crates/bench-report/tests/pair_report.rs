//! The one-call report of a single comparison made in a program: a real interleaved
//! comparison of two functions of known relative cost, written and read back.

use bench_optimizations::{PairOptions, evaluate_pair};
use bench_report::write_pair_report;
use bench_threshold::OptimizationConfig;

fn work(n: u64) -> f64 {
    (0..n).map(|i| (i as f64).sqrt()).sum()
}

#[test]
fn a_single_comparison_is_written_as_markdown_json_and_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let threshold = OptimizationConfig::create_default().fallback().clone();
    // The candidate does half the work: a large, quickly decided improvement.
    let pair = evaluate_pair(
        || work(400_000),
        || work(200_000),
        &PairOptions::with_threshold("half the work", threshold, dir.path()),
    )
    .unwrap();
    let r = write_pair_report(&pair, "half the work", dir.path()).unwrap();
    let verdict = pair.evaluation.verdict.label();
    let md = std::fs::read_to_string(&r.markdown).unwrap();
    assert!(md.starts_with(&format!("# half the work: {verdict}\n")), "{md}");
    for side in [&pair.outcome.baseline, &pair.outcome.candidate] {
        assert!(r.text.contains(&side.raw_path.display().to_string()) && side.raw_path.exists());
    }
    assert_eq!(r.to_string(), r.text);
    assert!(r.markdown.file_name().unwrap().to_string_lossy() == "half_the_work_report.md");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&r.json).unwrap()).unwrap();
    assert_eq!(json["kind"], "pair_evaluation");
    assert_eq!(json["verdict"], serde_json::to_value(pair.evaluation.verdict).unwrap());
    assert_eq!(json["baseline_raw"], pair.outcome.baseline.raw_path.display().to_string());
    // Adaptive by default: the path of its looks is drawn and linked.
    let q = pair.evaluation.adaptive.as_ref().expect("the default design is adaptive");
    assert!(q.path.len() >= 2, "{} looks", q.path.len());
    let svg = r.path_svg.as_ref().expect("a path chart");
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(svg.starts_with("<svg"));
    // The legend names the estimand the bounds are about (it once said "median").
    assert!(svg.contains("estimate: improvement of mean time") && !svg.contains("median"), "{svg}");
    assert!(md.contains("half_the_work_path.svg"), "{md}");
}

#[test]
fn a_comparison_that_cannot_write_its_raw_data_keeps_its_class() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let threshold = OptimizationConfig::create_default().fallback().clone();
    let err = evaluate_pair(
        || work(1_000),
        || work(1_000),
        &PairOptions::with_threshold("blocked", threshold, &blocker),
    )
    .unwrap_err();
    // The measurement's own error, not a string: its class (and so the exit code) survives.
    assert!(matches!(err, bench_optimizations::EvaluationError::Measure(_)), "{err:?}");
    assert!(err.to_string().contains("a-file"), "{err}");
}
