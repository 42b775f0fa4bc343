//! Fuzzing the raw-data and hyperfine parsers with proptest: valid documents mutated at random
//! (bit flips, byte changes, insertions, deletions, truncations, duplications) and arbitrary
//! bytes. The parsers must never panic; whatever they accept must satisfy the documented
//! invariants. `FUZZ_CASES=N` sets the number of inputs per target (CI runs a short bounded run;
//! set it to a few hundred thousand for a long local run).

use std::path::Path;

use bench_core::{Measurements, RawData, Sample};
use proptest::prelude::*;

mod support {
    pub mod mutate;
}
use support::mutate::{cases, mutate};

/// The JSON bytes mutations substitute in.
const JSON: &[u8] = b"-.e\"{}[],:N0";

fn seed(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data").join(name)).unwrap()
}

fn raw_seed() -> Vec<u8> {
    static S: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    S.get_or_init(|| seed("baseline.json")).clone()
}

fn hyperfine_seed() -> Vec<u8> {
    static S: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    S.get_or_init(|| seed("hyperfine_baseline.json")).clone()
}

fn check(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let path = Path::new("fuzz.json");
    if let Ok(raw) = RawData::parse(&text, path) {
        assert!(raw.runs.iter().all(|r| r.wall_ns > 0));
        // What was accepted is written back and read again unchanged.
        let again = RawData::parse(&serde_json::to_string(&raw).unwrap(), path).unwrap();
        assert_eq!(again, raw);
        match Sample::from_nanos(&raw.wall_ns()) {
            Ok(s) => assert_eq!(s.len(), raw.runs.len()),
            Err(_) => assert!(raw.runs.len() < 2, "{} runs refused as a sample", raw.runs.len()),
        }
    }
    match Measurements::parse(&text, path) {
        Ok(m) => {
            assert!(m.times.len() >= 2);
            assert!(m.times.values().iter().all(|t| t.is_finite() && *t > 0.0));
        }
        Err(e) => assert!(!e.to_string().is_empty() && e.path() == path),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn raw_data_parser_survives_mutations(muts in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..8)) {
        check(&mutate(&raw_seed(), &muts, 32, JSON));
    }

    #[test]
    fn hyperfine_parser_survives_mutations(muts in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..8)) {
        check(&mutate(&hyperfine_seed(), &muts, 32, JSON));
    }

    #[test]
    fn parsers_survive_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check(&bytes);
    }
}
