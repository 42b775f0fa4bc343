//! Per-run peak RSS in a suite is the run's own peak: a run that touches 64 MiB shows it, and the
//! run after it, which touches nothing, does not inherit it (the high-water mark is reset per
//! run). Its own test binary, so no other test's allocations share the process.

use bench_measure::*;

const MIB: u64 = 1024 * 1024;

fn touch_64_mib() -> u64 {
    // Every page written, so it is resident; freed (unmapped) when the run ends.
    let v = vec![1u8; 64 * MIB as usize];
    std::hint::black_box(&v).iter().step_by(4096).map(|&b| u64::from(b)).sum()
}

#[test]
fn per_run_peak_rss_is_the_runs_own_peak_in_either_order() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = |name: &str| SuiteConfig {
        warmup_runs: 1,
        ..SuiteConfig::new(0, name, "unit", Default::default(), dir.path()).unwrap()
    };
    let config = PairedConfig { pairs: 12, seed: 3, baseline: cfg("big"), candidate: cfg("idle") };
    let out = run_paired_suite(touch_64_mib, || 0u64, &config, &mut |_, _| {}).unwrap();
    let (big, idle) = (&out.baseline.raw.runs, &out.candidate.raw.runs);
    assert_eq!((big.len(), idle.len()), (12, 12));
    // Both orders occur, so both the reset after a big run and the read after an idle one count.
    assert!(out.schedule.iter().any(|o| o[0] == Side::Baseline));
    assert!(out.schedule.iter().any(|o| o[0] == Side::Candidate));
    for (i, (b, c)) in big.iter().zip(idle).enumerate() {
        let (b, c) = (b.peak_rss_bytes.unwrap(), c.peak_rss_bytes.unwrap());
        assert!(b >= c + 56 * MIB, "pair {i}: big run peak {b} B, idle run peak {c} B");
    }
}
