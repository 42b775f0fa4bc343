//! Fuzzing the CSV loader, the binary bundle reader and the small parsers (ranges, dates, ladder
//! steps, objectives) with proptest: valid inputs mutated at random and arbitrary bytes. They
//! must never panic, and whatever they accept must satisfy the bundle's invariants.
//! `FUZZ_CASES=N` sets the number of inputs per target.

use std::path::Path;

use bench_workloads::*;
use proptest::prelude::*;

#[path = "../../bench-core/tests/support/mutate.rs"]
mod mutate;
use mutate::{cases, mutate};

/// The CSV bytes mutations substitute in.
const CSV: &[u8] = b",\n-.e09N\r";

fn csv_seed() -> Vec<u8> {
    static SEED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    SEED.get_or_init(build_csv_seed).clone()
}

fn bundle_seed() -> Vec<u8> {
    static SEED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    SEED.get_or_init(|| parse_csv(&csv_seed(), Path::new("seed.csv")).unwrap().to_binary()).clone()
}

fn build_csv_seed() -> Vec<u8> {
    // The first 40 rows of each of two real tickers.
    let b = load_csv(&bundled_csv_path()).unwrap();
    let mut s = String::from("Ticker,Date,Open,High,Low,Close,Volume,Adj Close\n");
    for a in b.assets.iter().take(2) {
        for i in 0..40 {
            s.push_str(&format!(
                "{},{},{},{},{},{},{},{}\n",
                a.symbol,
                format_date(a.dates[i]),
                a.open[i],
                a.high[i],
                a.low[i],
                a.close[i],
                a.volume[i],
                a.adj_close[i]
            ));
        }
    }
    s.into_bytes()
}

fn check_bundle(b: &Bundle) {
    for (i, a) in b.assets.iter().enumerate() {
        assert!(!a.symbol.is_empty());
        assert!(b.assets[..i].iter().all(|o| o.symbol != a.symbol), "duplicate symbol {}", a.symbol);
        let n = a.len();
        assert!(n > 0, "asset {} has no bars", a.symbol);
        assert!(a.dates.windows(2).all(|w| w[0] < w[1]));
        for col in [&a.open, &a.high, &a.low, &a.close, &a.adj_close] {
            assert_eq!(col.len(), n);
            assert!(col.iter().all(|v| v.is_finite() && *v > 0.0));
        }
        assert!(a.high.iter().zip(&a.low).all(|(h, l)| h >= l));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn csv_loader_survives_mutations(muts in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..8)) {
        let bytes = mutate(&csv_seed(), &muts, 64, CSV);
        match parse_csv(&bytes, Path::new("fuzz.csv")) {
            Ok(b) => {
                check_bundle(&b);
                // An accepted bundle survives the binary round trip and backtests.
                let back = Bundle::from_binary(&b.to_binary(), Path::new("fuzz.bin")).unwrap();
                prop_assert_eq!(&back, &b);
                // A valid bundle backtests, or refuses an asset too short for the windows.
                match backtest_metrics(&b, 0, Params::new(2, 5).unwrap()) {
                    Ok(m) => {
                        // Equity can go below zero: a short held through a price that triples
                        // loses more than the capital.
                        prop_assert!(m.final_equity.is_finite() && m.sharpe_ratio.is_finite(), "{:?}", m);
                        prop_assert!((0.0..=100.0).contains(&m.exposure_percent), "{:?}", m);
                        prop_assert!(m.max_drawdown_percent >= 0.0, "{:?}", m);
                        prop_assert!((m.trades as usize) <= b.assets[0].len(), "{:?}", m);
                    }
                    Err(e) => prop_assert!(
                        b.assets[0].len() < 6 && e.to_string().contains("bars"),
                        "{} bars: {}", b.assets[0].len(), e
                    ),
                }
            }
            Err(e) => prop_assert!(e.to_string().starts_with("fuzz.csv")),
        }
    }

    #[test]
    fn binary_bundle_reader_survives_mutations(muts in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..6)) {
        let bytes = mutate(&bundle_seed(), &muts, 64, CSV);
        match Bundle::from_binary(&bytes, Path::new("fuzz.bin")) {
            Ok(b) => check_bundle(&b),
            Err(e) => prop_assert!(e.to_string().starts_with("fuzz.bin")),
        }
    }

    /// Mutations of the body with the checksum recomputed, so they get past the checksum and
    /// reach the structural checks (counts, lengths, dates, prices) behind it.
    #[test]
    fn binary_bundle_reader_survives_resealed_mutations(muts in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..6)) {
        let seed = bundle_seed();
        let mut bytes = mutate(&seed[..seed.len() - 8], &muts, 64, CSV);
        bytes.extend_from_slice(&bundle_checksum(&bytes).to_le_bytes());
        match Bundle::from_binary(&bytes, Path::new("fuzz.bin")) {
            Ok(b) => {
                check_bundle(&b);
                prop_assert_eq!(Bundle::from_binary(&b.to_binary(), Path::new("again.bin")).unwrap(), b);
            }
            Err(e) => prop_assert!(e.to_string().starts_with("fuzz.bin")),
        }
    }

    #[test]
    fn readers_survive_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600), prefix in any::<bool>()) {
        let bytes = if prefix { [b"BENCHBND\x02\x00\x00\x00".as_slice(), &bytes].concat() } else { bytes };
        if let Ok(b) = parse_csv(&bytes, Path::new("f.csv")) { check_bundle(&b); }
        if let Ok(b) = Bundle::from_binary(&bytes, Path::new("f.bin")) { check_bundle(&b); }
    }

    #[test]
    fn small_parsers_survive_arbitrary_text(s in "\\PC{0,24}") {
        if let Ok(r) = s.parse::<ParamRange>() {
            prop_assert!(r.start >= 1 && r.start <= r.end && r.step >= 1);
        }
        let _ = s.parse::<LadderStep>();
        let _ = s.parse::<Objective>();
        if let Some(d) = parse_date(&s) {
            prop_assert_eq!(format_date(d), s.clone());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 10, failure_persistence: None, ..ProptestConfig::default() })]

    /// Parquet written by pyarrow, mutated: refused with the file named or loaded to a valid
    /// bundle, never a panic or an abort (fewer cases: each one is a 60-kB file).
    #[test]
    fn parquet_reader_survives_mutations(muts in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..6)) {
        static SEED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let seed = SEED.get_or_init(|| {
            std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parquet/stocks_zstd_string_dates.parquet")).unwrap()
        });
        let bytes = mutate(seed, &muts, 64, b"PAR1\x00\x15\x19\x1c");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fuzz.parquet");
        std::fs::write(&path, &bytes).unwrap();
        match load_parquet(&path) {
            Ok(b) => check_bundle(&b),
            Err(e) => prop_assert!(e.to_string().starts_with(&path.display().to_string())),
        }
    }
}
