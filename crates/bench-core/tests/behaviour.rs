//! Behaviour of the core types and formats, error paths included.

use std::path::Path;

use bench_core::probe::{LineCounter, LineTable, Probe};
use bench_core::*;

#[test]
fn samples_state_their_invariants_once() {
    assert_eq!(Sample::new(vec![1.0]).unwrap_err(), SampleError::TooFew { n: 1 });
    assert_eq!(Sample::new(vec![]).unwrap_err().to_string(), "a sample needs at least 2 values, got 0");
    assert!(matches!(Sample::new(vec![1.0, f64::NAN]).unwrap_err(), SampleError::NonFinite { index: 1, .. }));
    assert!(matches!(
        Sample::new(vec![f64::INFINITY, 1.0]).unwrap_err(),
        SampleError::NonFinite { index: 0, .. }
    ));
    assert_eq!(
        Sample::timings(vec![1.0, -2.0]).unwrap_err().to_string(),
        "timing [1] is -2, expected a duration > 0"
    );
    let s = Sample::new(vec![-1.0, 2.0]).unwrap();
    assert!(!s.is_empty());
    assert_eq!(s.scaled(2.0).unwrap().values(), &[-2.0, 4.0]);
    assert_eq!(Sample::from_nanos(&[1_000_000_000, 2_000_000_000]).unwrap().values(), &[1.0, 2.0]);
}

#[test]
fn decimals_keep_the_shortest_digits_and_refuse_what_they_cannot_hold() {
    assert_eq!(to_decimal(0.0).unwrap(), Decimal::ZERO);
    assert_eq!(to_decimal(123.456).unwrap().to_string(), "123.456");
    assert_eq!(to_decimal(-0.000_123).unwrap().to_string(), "-0.000123");
    assert!(matches!(to_decimal(f64::NAN), Err(DecimalError::NonFinite { .. })));
    assert!(matches!(to_decimal(f64::NEG_INFINITY), Err(DecimalError::NonFinite { .. })));
    assert!(matches!(to_decimal(1e30), Err(DecimalError::OutOfRange { .. })));
    // Beyond Decimal's 28 places: rounded to the finest scale.
    assert_eq!(
        to_decimal(1.234_567_890_123_456_7e-20).unwrap().to_string(),
        "0.0000000000000000000123456789"
    );
    assert_eq!(to_decimal(-5.5e-27).unwrap().to_string(), "-0.0000000000000000000000000055");
    assert_eq!(to_decimal(4e-29).unwrap(), Decimal::ZERO);
    assert_eq!(to_decimal(-1.2345e-25).unwrap().to_string(), "-0.0000000000000000000000001235");
    assert_eq!(to_decimal(1e-40).unwrap(), Decimal::ZERO);
    assert_eq!(to_f64(Decimal::new(25, 1)), 2.5);
    assert_eq!(round_display(Decimal::new(125, 3), 2).to_string(), "0.13");
}

#[test]
fn every_input_error_names_its_file() {
    let p = Path::new("f.json");
    let errors = [
        InputError::Io { path: p.into(), message: "m".into() },
        InputError::NotUtf8 { path: p.into(), offset: 3 },
        InputError::Json { path: p.into(), line: 1, column: 2, message: "m".into() },
        InputError::Field { path: p.into(), field: "x".into(), message: "m".into() },
        InputError::Invalid { path: p.into(), field: "x".into(), expected: "e".into(), found: "f".into() },
        InputError::FutureSchema { path: p.into(), found: 9, supported: 1 },
        InputError::UnknownFormat { path: p.into(), message: "m".into() },
    ];
    for e in errors {
        assert_eq!(e.path(), p);
        assert!(e.to_string().starts_with("f.json"), "{e}");
    }
}

#[test]
fn reading_text_reports_what_went_wrong() {
    let dir = tempfile::tempdir().unwrap();
    assert!(read_text(dir.path()).unwrap_err().to_string().ends_with("is a directory; expected a file"));
    assert!(
        read_text(&dir.path().join("nope"))
            .unwrap_err()
            .to_string()
            .ends_with("no such file; check the path")
    );
    assert!(read_text(Path::new("/proc/self/mem")).unwrap_err().to_string().contains("cannot read"));
    let bad = dir.path().join("bad");
    std::fs::write(&bad, [b'{', 0xff, b'}']).unwrap();
    assert_eq!(read_text(&bad).unwrap_err(), InputError::NotUtf8 { path: bad.clone(), offset: 1 });
    for (v, kind) in [
        (serde_json::json!(null), "null"),
        (serde_json::json!(true), "a boolean"),
        (serde_json::json!(1), "a number"),
        (serde_json::json!("s"), "a string"),
        (serde_json::json!([]), "an array"),
        (serde_json::json!({}), "an object"),
    ] {
        assert_eq!(json_kind(&v), kind);
    }
    let e = parse_json("{\"a\": ", Path::new("x")).unwrap_err();
    assert!(matches!(e, InputError::Json { line: 1, .. }));
    let e = from_value::<Workload>(serde_json::json!({"dataset_size": "big"}), Path::new("x")).unwrap_err();
    assert!(e.to_string().starts_with("x: field `dataset_size`"), "{e}");
    let e = from_value::<Workload>(serde_json::json!(3), Path::new("x")).unwrap_err();
    assert!(e.to_string().contains("field `(document)`"), "{e}");
}

#[test]
fn run_ids_and_paths_cannot_escape_their_folder() {
    assert!(matches!(RunId::new(&"a".repeat(101)), Err(RunIdError::Length { len: 101 })));
    assert!(matches!(RunId::new(""), Err(RunIdError::Length { len: 0 })));
    assert!(matches!(RunId::new("a\0b"), Err(RunIdError::Character { ch: '\0', .. })));
    assert!(matches!(RunId::new("."), Err(RunIdError::DotName { .. })));
    let id = RunId::new("ok_1.2-3").unwrap();
    assert_eq!(id.to_string(), "ok_1.2-3");
    assert!(stays_inside(Path::new("a/b.json")));
    assert!(stays_inside(Path::new("./a")));
    for bad in ["../x", "/etc/passwd", "a/../../b", "", "a\0b"] {
        assert!(!stays_inside(Path::new(bad)), "{bad}");
    }
}

#[test]
fn atomic_writes_create_parents_replace_whole_files_and_leave_no_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("deep/er/file.txt");
    write_atomic(&p, b"first").unwrap();
    write_atomic(&p, b"second, longer").unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"second, longer");
    let names: Vec<_> =
        std::fs::read_dir(p.parent().unwrap()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(names.len(), 1, "{names:?}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o644);
    // A bare file name is written in the current directory.
    let cwd = std::env::current_dir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let r = write_atomic(Path::new("bare.txt"), b"x");
    std::env::set_current_dir(cwd).unwrap();
    r.unwrap();
    assert!(dir.path().join("bare.txt").exists());
    assert!(write_atomic(Path::new("/"), b"x").is_err());
}

fn raw() -> RawData {
    RawData {
        schema_version: RAW_SCHEMA_VERSION,
        run_id: "r".into(),
        configuration_name: "c".into(),
        workflow_type: "grid_search".into(),
        workload: Workload { dataset_size: 5, parameter_combinations: 1, backtest_count: 1 },
        warmup_runs: 0,
        runs: (0..3)
            .map(|i| RunRecord {
                index: i,
                wall_ns: 10 + u64::from(i),
                cpu_ns: 9,
                peak_rss_bytes: Some(100),
                heap_peak_bytes: Some(50 + u64::from(i)),
                heap_start_bytes: None,
                pair: Some(i),
                sequence: Some(2 * i),
            })
            .collect(),
        failed_runs: vec![FailedRun { index: 3, message: "boom".into() }],
        unpaired_runs: vec![],
        status: SuiteStatus::Interrupted,
        pairing: Some(Partner {
            role: "baseline".into(),
            partner_run_id: "s".into(),
            scheme: "abba".into(),
            seed: 1,
        }),
        environment: Environment::default(),
    }
}

#[test]
fn raw_data_round_trips_and_is_validated() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.json");
    let r = raw();
    r.write(&p).unwrap();
    assert_eq!(RawData::read(&p).unwrap(), r);
    assert_eq!(RawData::path_in(dir.path(), &RunId::new("r").unwrap()), dir.path().join("raw_data/r.json"));
    let mut zero = raw();
    zero.runs[1].wall_ns = 0;
    assert_eq!(
        zero.validate(&p).unwrap_err().to_string(),
        format!("{}: field `runs[1].wall_ns`: expected a duration > 0, found 0", p.display())
    );
    let text = serde_json::to_string(&raw()).unwrap().replace("\"schema_version\":1", "\"schema_version\":7");
    assert!(matches!(RawData::parse(&text, &p).unwrap_err(), InputError::FutureSchema { found: 7, .. }));
    let text = serde_json::to_string(&raw()).unwrap().replace("\"schema_version\":1", "\"schema_version\":0");
    assert!(RawData::parse(&text, &p).unwrap_err().to_string().contains("expected schema_version 1"));
    assert!(
        RawData::parse("[]", &p).unwrap_err().to_string().contains("a JSON object holding schema_version")
    );
    assert!(RawData::write(&r, Path::new("/proc/forbidden/x.json")).is_err());
}

#[test]
fn measurements_come_from_raw_data_or_hyperfine() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.json");
    raw().write(&p).unwrap();
    let m = Measurements::read(&p).unwrap();
    assert_eq!(m.format, InputFormat::RawData);
    assert_eq!(m.format.to_string(), "raw data");
    assert_eq!(m.heap_peak_bytes, Some(vec![50, 51, 52]));
    assert_eq!(m.workflow_type.as_deref(), Some("grid_search"));
    let h = dir.path().join("h.json");
    std::fs::write(
        &h,
        r#"{"results":[{"command":"a","times":[0.1,0.2,0.3],"memory_usage_byte":[1000,2000,3000]}]}"#,
    )
    .unwrap();
    let hm = Measurements::read(&h).unwrap();
    assert_eq!(hm.format.to_string(), "hyperfine JSON");
    assert_eq!(hm.peak_rss_bytes, Some(vec![1000, 2000, 3000]));
    // Heap peaks win where both sides have them; RSS otherwise; nothing when a side lacks both.
    assert_eq!(Measurements::common_memory_peak(&m, &m), Some((MemoryMetric::HeapPeak, 52, 52)));
    assert_eq!(Measurements::common_memory_peak(&m, &hm), Some((MemoryMetric::PeakRss, 100, 3000)));
    let mut none = hm.clone();
    none.peak_rss_bytes = None;
    assert_eq!(Measurements::common_memory_peak(&m, &none), None);
    assert_eq!(MemoryMetric::HeapPeak.to_string(), "heap peak");
    assert_eq!(MemoryMetric::PeakRss.to_string(), "peak RSS");
    let mut one = raw();
    one.runs.truncate(1);
    let e = Measurements::from_raw(&one, &p).unwrap_err();
    assert!(e.to_string().contains("field `runs`: expected at least 2 completed runs"), "{e}");
    let e = Measurements::parse(r#"{"results":[{"command":"a","times":[0.1,"x"]}]}"#, &h).unwrap_err();
    assert!(e.to_string().contains("results[0].times[1]"), "{e}");
    let e =
        Measurements::parse(r#"{"results":[{"command":"a","times":[0.1,0.2],"memory_usage_byte":[1]}]}"#, &h)
            .unwrap_err();
    assert!(e.to_string().contains("one figure per run (2)"), "{e}");
    let e = Measurements::parse(r#"{"results":[{"command":"a","times":[0.1]}]}"#, &h).unwrap_err();
    assert!(e.to_string().contains("field `results[0].times`"), "{e}");
    let e = Measurements::parse(r#"{"results":[]}"#, &h).unwrap_err();
    assert!(
        e.to_string()
            .contains("field `results`: expected at least one benchmark result, found an empty array"),
        "{e}"
    );
    let e = Measurements::parse("7", &h).unwrap_err();
    assert!(e.to_string().contains("found a number without"), "{e}");
}

#[test]
fn probe_tables_can_be_built_at_run_time_too() {
    let counters: &'static [LineCounter] = Box::leak(Box::new([LineCounter::new()]));
    let t: &'static LineTable = Box::leak(Box::new(LineTable::new("rt::f", "f.rs", (3, 9), &[4], counters)));
    assert_eq!((t.function, t.file, t.span, t.lines), ("rt::f", "f.rs", (3, 9), &[4u32][..]));
    assert_eq!(t.counters[0].read(), (0, 0));
}

static COUNTERS: [LineCounter; 2] = [LineCounter::new(), LineCounter::new()];
static TABLE: LineTable = LineTable::new("tests::probed", "tests/behaviour.rs", (1, 2), &[10, 11], &COUNTERS);

#[test]
fn probes_count_hits_and_exclusive_time() {
    TABLE.register();
    TABLE.register();
    TABLE.reset();
    {
        let _outer = Probe::enter(&COUNTERS[0]);
        for _ in 0..3 {
            let _inner = Probe::enter(&COUNTERS[1]);
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
    let (outer_hits, outer_ns) = COUNTERS[0].read();
    let (inner_hits, inner_ns) = COUNTERS[1].read();
    assert_eq!((outer_hits, inner_hits), (1, 3));
    assert!(inner_ns >= 6_000_000, "{inner_ns}");
    assert!(outer_ns < inner_ns, "the outer statement's time excludes its inner statements");
    assert!(probe::tables().iter().any(|t| t.function == "tests::probed"));
    probe::set_enabled(true);
    assert!(probe::enabled());
    probe::set_enabled(false);
    probe::reset_all();
    assert_eq!(COUNTERS[1].read(), (0, 0));
}
