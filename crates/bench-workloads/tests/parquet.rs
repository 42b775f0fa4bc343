//! Parquet written by an independent tool (pyarrow, see `tests/parquet/README.md`) loads to
//! exactly the bundle the CSV loads to; bad Parquet is refused with the column or file named.

use std::path::{Path, PathBuf};

use bench_workloads::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parquet").join(name)
}

#[test]
fn the_whole_data_set_loads_to_the_csv_bundle() {
    let csv = load_csv(&bundled_csv_path()).unwrap();
    let pq = load_parquet(&fixture("stocks.parquet")).unwrap();
    assert_eq!(pq, csv);
    // load_data recognises the format by its magic bytes.
    assert_eq!(load_data(Some(&fixture("stocks.parquet"))).unwrap(), csv);
}

#[test]
fn string_dates_float_volumes_zstd_and_plain_pages_load_too() {
    let csv = load_csv(&bundled_csv_path()).unwrap();
    let pq = load_parquet(&fixture("stocks_zstd_string_dates.parquet")).unwrap();
    assert_eq!(pq.symbols(), ["FB", "GOOG"]);
    for a in &pq.assets {
        let want = &csv.assets[csv.asset_index(&a.symbol).unwrap()];
        assert_eq!(a, want, "{}", a.symbol);
    }
}

#[test]
fn bad_parquet_names_the_column_or_the_file() {
    let cases = [
        ("bad_wrong_type.parquet", "column Close: is BYTE_ARRAY (String); expected a number"),
        (
            "bad_missing_column.parquet",
            "column Volume: missing; the file has columns Ticker, Date, Open, High, Low, Close, Adj Close",
        ),
        ("bad_truncated.parquet", "not a readable Parquet file"),
    ];
    for (name, want) in cases {
        let e = load_data(Some(&fixture(name))).unwrap_err().to_string();
        assert!(e.starts_with(&fixture(name).display().to_string()), "{e}");
        assert!(e.contains(want), "{name}: {e:?} should contain {want:?}");
        println!("{e}");
    }
}
