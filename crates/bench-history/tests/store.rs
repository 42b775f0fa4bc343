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
