//! The history store on real SQLite files: what is recorded survives reopening, machines are
//! kept apart, a bad record writes nothing, a newer schema is refused untouched, BMF imports.

use bench_history::{History, HistoryError, Record, SCHEMA_VERSION, Source, bmf_records};

fn source(commit: &str, machine: &str, at: i64) -> Source {
    Source { commit: commit.into(), dirty: false, machine: machine.into(), recorded_at: at }
}

#[test]
fn records_survive_reopening_and_machines_are_kept_apart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/history.sqlite");
    {
        let mut h = History::open(&path).unwrap();
        assert!(h.is_empty().unwrap());
        // Recorded out of time order, on two machines, two metrics.
        let records = vec![
            Record::new(&source("c2", "laptop", 20), "grid", "latency", "ns", 11.0),
            Record::new(&source("c1", "laptop", 10), "grid", "latency", "ns", 10.0),
            Record::new(&source("c1", "ci", 10), "grid", "latency", "ns", 30.0),
            Record {
                lower: Some(99.0),
                upper: Some(101.0),
                ..Record::new(&source("c1", "ci", 10), "grid", "instructions", "instructions", 100.0)
            },
        ];
        assert_eq!(h.record(&records).unwrap(), 4);
    }
    let h = History::open(&path).unwrap();
    assert_eq!(h.len().unwrap(), 4);
    let all = h.series(None, None).unwrap();
    let keys: Vec<(&str, &str)> = all.iter().map(|s| (s.machine.as_str(), s.metric.as_str())).collect();
    assert_eq!(keys, [("ci", "instructions"), ("ci", "latency"), ("laptop", "latency")]);
    let laptop = &h.series(Some("grid"), Some("latency")).unwrap()[1];
    assert_eq!(
        laptop.points.iter().map(|p| (p.commit.as_str(), p.value)).collect::<Vec<_>>(),
        [("c1", 10.0), ("c2", 11.0)]
    );
    let counted = &h.series(None, Some("instructions")).unwrap()[0];
    assert_eq!(
        (counted.unit.as_str(), counted.points[0].lower, counted.points[0].upper),
        ("instructions", Some(99.0), Some(101.0))
    );
    assert!(h.series(Some("nothing"), None).unwrap().is_empty());
}

#[test]
fn a_bad_record_writes_nothing_and_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = History::open(&dir.path().join("h.sqlite")).unwrap();
    let good = Record::new(&source("c1", "m", 1), "grid", "latency", "ns", 1.0);
    let nan = Record::new(&source("c1", "m", 1), "grid", "latency", "ns", f64::NAN);
    let e = h.record(&[good.clone(), nan]).unwrap_err();
    assert!(matches!(e, HistoryError::Input(_)) && e.to_string().contains("value NaN"), "{e}");
    let empty = Record::new(&source("", "m", 1), "grid", "latency", "ns", 1.0);
    assert!(h.record(&[good, empty]).unwrap_err().to_string().contains("empty commit"));
    assert_eq!(h.len().unwrap(), 0);
}

#[test]
fn a_newer_schema_is_refused_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    let mut h = History::open(&path).unwrap();
    h.record(&[Record::new(&source("c1", "m", 1), "grid", "latency", "ns", 1.0)]).unwrap();
    drop(h);
    let newer = SCHEMA_VERSION + 1;
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", newer).unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let e = History::open(&path).unwrap_err();
    assert!(matches!(e, HistoryError::Newer { found, .. } if found == newer), "{e}");
    assert!(e.to_string().contains("newer than this build's"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_file_that_is_not_sqlite_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "these are not the droids you are looking for, nor a database header").unwrap();
    let e = History::open(&path).unwrap_err();
    assert!(matches!(e, HistoryError::Sqlite { .. }) && e.to_string().contains("notes.txt"), "{e}");
}

#[test]
fn a_bmf_export_imports_with_its_units() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = History::open(&dir.path().join("h.sqlite")).unwrap();
    // The shapes this toolkit's exports write: time in ns, counts with the least and most.
    let doc = r#"{
      "grid_search_bundled/baseline": {"latency": {"value": 12500000, "lower_value": 12000000, "upper_value": 13000000}},
      "grid_search_bundled/prefix-sums": {"instructions": {"value": 2221085.0, "lower_value": 2221085, "upper_value": 2221085},
                                          "estimated-cycles": {"value": 3079065.0}}
    }"#;
    let records = bmf_records(doc, &source("abc", "m", 5)).unwrap();
    assert_eq!(h.record(&records).unwrap(), 3);
    let units: Vec<(String, String)> =
        h.series(None, None).unwrap().into_iter().map(|s| (s.metric, s.unit)).collect();
    assert_eq!(
        units,
        [
            ("latency".to_owned(), "ns".to_owned()),
            ("estimated-cycles".to_owned(), "estimated cycles".to_owned()),
            ("instructions".to_owned(), "instructions".to_owned())
        ]
    );
    for bad in ["[1, 2]", r#"{"b": 3}"#, r#"{"b": {"latency": {"value": "fast"}}}"#, "not json"] {
        assert!(matches!(bmf_records(bad, &source("abc", "m", 5)), Err(HistoryError::Input(_))), "{bad}");
    }
}

#[test]
fn a_version_1_file_is_migrated_with_its_results_and_takes_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.sqlite");
    {
        // A file as the first schema wrote it, with one result.
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, commit_id TEXT NOT NULL, dirty INTEGER NOT NULL,
             machine TEXT NOT NULL, benchmark TEXT NOT NULL, metric TEXT NOT NULL, unit TEXT NOT NULL,
             value REAL NOT NULL, lower REAL, upper REAL, recorded_at INTEGER NOT NULL);
             CREATE INDEX runs_series ON runs (machine, benchmark, metric, recorded_at);
             INSERT INTO runs (commit_id, dirty, machine, benchmark, metric, unit, value, recorded_at)
             VALUES ('c1', 0, 'm', 'b', 'latency', 'ns', 5.0, 1);
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let mut h = History::open(&path).unwrap();
    assert_eq!(h.len().unwrap(), 1, "the result survives the migration");
    let v = bench_history::VerdictRecord {
        machine: "m".into(),
        benchmark: "b".into(),
        metric: "latency".into(),
        baseline_commit: "c1".into(),
        candidate_commit: "c2".into(),
        outcome: bench_history::Outcome::Moved,
        change_percent: 12.5,
        lower: Some(8.0),
        upper: Some(17.0),
        threshold_percent: 5.0,
        recorded_at: 2,
    };
    h.record_verdict(&v).unwrap();
    assert!(
        h.record_verdict(&bench_history::VerdictRecord { change_percent: f64::NAN, ..v.clone() }).is_err()
    );
    drop(h);
    let h = History::open(&path).unwrap();
    assert_eq!(h.verdicts("m", "b", "latency").unwrap(), [v]);
    assert!(h.verdicts("other machine", "b", "latency").unwrap().is_empty());
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn hyperfine_and_raw_files_import_with_their_sources() {
    let dir = tempfile::tempdir().unwrap();
    let fallback = source("here", "this machine", 7);
    let hf = dir.path().join("hf.json");
    std::fs::write(
        &hf,
        r#"{"results": [{"command": "sleep 0.01", "mean": 0.0105, "stddev": 0.0002, "median": 0.0104,
            "min": 0.0101, "max": 0.0112, "times": [0.0101, 0.0112]}]}"#,
    )
    .unwrap();
    let r = bench_history::import_file(&hf, &fallback).unwrap();
    assert_eq!(
        (r[0].benchmark.as_str(), r[0].metric.as_str(), r[0].unit.as_str()),
        ("sleep 0.01", "latency", "ns")
    );
    assert!((r[0].value - 1.05e7).abs() < 1.0 && r[0].lower == Some(0.0101 * 1e9));
    assert_eq!(r[0].source, fallback);
    // This toolkit's raw data carries its own commit, machine and time.
    let raw = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/baseline_for_cache.json");
    let r = bench_history::import_file(raw.as_ref(), &fallback).unwrap();
    assert_eq!(r.iter().map(|r| r.metric.as_str()).collect::<Vec<_>>(), ["latency", "cpu-time"]);
    assert_eq!(r[0].benchmark, "grid_search/baseline + batch-init");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(raw).unwrap()).unwrap();
    let env = &doc["environment"];
    assert_eq!(r[0].source.commit, env["git_commit"].as_str().unwrap_or("here"));
    assert_eq!(r[0].source.machine, format!("{} ×{}", env["cpu"].as_str().unwrap(), env["cores"]));
    assert!(r[0].source.recorded_at > 1_600_000_000, "the file's own start time");
    let walls: Vec<f64> =
        doc["runs"].as_array().unwrap().iter().map(|r| r["wall_ns"].as_f64().unwrap()).collect();
    assert!((r[0].value - walls.iter().sum::<f64>() / walls.len() as f64).abs() < 1e-6 * r[0].value);
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"results": [{"command": "x", "mean": "fast"}]}"#).unwrap();
    let e = bench_history::import_file(&bad, &fallback).unwrap_err().to_string();
    assert!(e.contains("bad.json") && e.contains("results[0]") && e.contains("\"mean\""), "{e}");
}
