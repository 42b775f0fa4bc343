//! Timed and paired suites on real work: failed runs are kept, ABBA order is balanced and
//! recorded, and a slower workload is measured slower.

use bench_measure::*;

/// Work proportional to `n`.
fn hot_function(n: u64) -> f64 {
    std::hint::black_box((0..n).map(|i| (i as f64).sqrt()).sum())
}

#[test]
fn a_suite_with_a_panicking_run_keeps_its_completed_runs() {
    let dir = tempfile::tempdir().unwrap();
    let config = SuiteConfig {
        warmup_runs: 0,
        ..SuiteConfig::new(6, "panicky", "unit", Default::default(), dir.path()).unwrap()
    };
    let mut i = 0;
    let out = run_benchmark_suite(
        || {
            i += 1;
            if i == 3 {
                panic!("run three exploded");
            }
            hot_function(10_000)
        },
        &config,
    )
    .unwrap();
    assert_eq!(out.raw.runs.len(), 5);
    assert_eq!(out.raw.failed_runs.len(), 1);
    assert_eq!(out.raw.failed_runs[0].index, 2);
    assert_eq!(out.raw.failed_runs[0].message, "run three exploded");
    let back = bench_core::RawData::read(&out.raw_path).unwrap();
    assert_eq!(back, out.raw);
    let r = out.result.unwrap();
    assert_eq!(r.num_runs, 5);
    assert_eq!(r.failed_runs, 1);
    assert!(r.warnings.iter().any(|w| w.contains("1 run(s) failed")));
}

#[test]
fn abba_order_is_balanced_and_recorded() {
    for pairs in [1usize, 2, 7, 10, 41] {
        for seed in 0..20 {
            let s = abba_schedule(pairs, seed);
            assert_eq!(s.len(), pairs);
            let baseline_first = s.iter().filter(|o| o[0] == Side::Baseline).count();
            let diff = (2 * baseline_first) as i64 - pairs as i64;
            assert!(diff.abs() <= 1, "pairs {pairs} seed {seed}: {baseline_first} baseline-first");
        }
    }
    assert_ne!(abba_schedule(20, 1), abba_schedule(20, 2), "orientation is randomised");
    let dir = tempfile::tempdir().unwrap();
    let cfg = |name: &str| SuiteConfig {
        warmup_runs: 1,
        ..SuiteConfig::new(0, name, "unit", Default::default(), dir.path()).unwrap()
    };
    let config = PairedConfig { pairs: 10, seed: 7, baseline: cfg("a"), candidate: cfg("b") };
    let out =
        run_paired_suite(|| hot_function(20_000), || hot_function(10_000), &config, &mut |_, _| {}).unwrap();
    assert_eq!(out.baseline.raw.runs.len(), 10);
    assert_eq!(out.candidate.raw.runs.len(), 10);
    let mut seqs: Vec<u32> =
        out.baseline.raw.runs.iter().chain(&out.candidate.raw.runs).map(|r| r.sequence.unwrap()).collect();
    seqs.sort();
    assert_eq!(seqs, (0..20).collect::<Vec<_>>());
    for (i, (b, c)) in out.baseline.raw.runs.iter().zip(&out.candidate.raw.runs).enumerate() {
        assert_eq!(b.pair, Some(i as u32));
        assert_eq!(c.pair, Some(i as u32));
        let baseline_first = out.schedule[i][0] == Side::Baseline;
        assert_eq!(b.sequence < c.sequence, baseline_first);
    }
    assert_eq!(out.baseline.raw.pairing.as_ref().unwrap().partner_run_id, out.candidate.raw.run_id);
    // The slower baseline is measured slower.
    let (rb, rc) = (out.baseline.result.unwrap(), out.candidate.result.unwrap());
    assert!(rb.execution_time_mean > rc.execution_time_mean);
}

#[test]
fn an_adaptive_suite_stops_when_its_rule_decides_or_its_time_runs_out() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = |name: &str| SuiteConfig {
        warmup_runs: 0,
        ..SuiteConfig::new(0, name, "unit", Default::default(), dir.path()).unwrap()
    };
    let config = PairedConfig { pairs: 100, seed: 5, baseline: cfg("a"), candidate: cfg("b") };
    let mut looks = Vec::new();
    let out = run_paired_suite_until(
        || hot_function(2_000),
        || hot_function(1_000),
        &config,
        None,
        &mut |b, c| {
            assert_eq!(b.len(), c.len());
            looks.push(b.len());
            b.len() >= 12
        },
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(out.stopped, SuiteStop::Decided);
    assert_eq!(out.baseline.raw.runs.len(), 12);
    assert_eq!(out.schedule.len(), 12);
    assert_eq!(looks, [2, 4, 6, 8, 10, 12], "a look after every ABBA block");
    let out = run_paired_suite_until(
        || std::thread::sleep(std::time::Duration::from_millis(5)),
        || std::thread::sleep(std::time::Duration::from_millis(5)),
        &config,
        Some(0.1),
        &mut |_, _| false,
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(out.stopped, SuiteStop::MaxTime);
    assert!(out.baseline.raw.runs.len() < 100 && out.seconds >= 0.1);
}
