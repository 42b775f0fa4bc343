//! The real profilers on real code: known hot spots must be found, counts must be exact.

use std::path::Path;
use std::time::Duration;

use bench_core::RunId;
use bench_measure::CountingAlloc;
use bench_profile::*;

mod common;
use common::dominant_line;
use rayon::prelude::*;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// The CPU sampler is process-wide: it samples whichever thread of this test binary is on a CPU.
/// A test running beside another one would see the other test's functions in its profile (a
/// `cargo test --workspace` on a loaded 2-core machine once put another test's loop on top), so
/// every test here runs alone.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

#[inline(never)]
fn hot_function(n: u64) -> f64 {
    let mut x = 0.0f64;
    for i in 0..n {
        // Pure arithmetic (sqrt is an instruction): no call into glibc's libm, which is built
        // without frame pointers and would hide this frame from a frame-pointer unwinder.
        x = x * 0.999_999_9 + (i as f64).sqrt();
    }
    std::hint::black_box(x)
}

#[inline(never)]
fn cold_function(n: u64) -> f64 {
    let mut x = 0.0f64;
    for i in 0..n {
        x = x * 0.999_999 + (i ^ 0x5555) as f64;
    }
    std::hint::black_box(x)
}

#[test]
fn cpu_profile_finds_the_hot_function_in_a_long_multithreaded_run() {
    let _alone = alone();
    let dir = tempfile::tempdir().unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let work = || {
        pool.install(|| {
            (0..3000u64).into_par_iter().map(|_| hot_function(200_000) + cold_function(20_000)).sum::<f64>()
        })
    };
    let (sum, out) = profile_workflow(
        work,
        &ProfileKind::Cpu,
        dir.path(),
        &RunId::new("cpu_test").unwrap(),
        &ProfileOptions::default(),
    )
    .unwrap();
    assert!(sum.is_finite());
    let ProfileMetrics::Cpu(p) = out.metrics else { panic!("cpu metrics") };
    assert!(p.samples > 100, "only {} samples", p.samples);
    let hot =
        p.functions.iter().find(|f| f.function.ends_with("hot_function")).expect("hot_function sampled");
    let cold = p.functions.iter().find(|f| f.function.ends_with("cold_function"));
    let hot_pct = bench_core::to_f64(hot.total_percent);
    assert!(hot_pct > 60.0, "hot_function at {hot_pct}%");
    if let Some(c) = cold {
        assert!(c.total_samples < hot.total_samples);
    }
    // The interrupted function itself is recorded: the most self samples fall in the hot loop,
    // on its own instructions or on the `sqrt` inlined into it (inlined functions are frames of
    // their own here), whichever the samples happened to hit more often.
    let top_self = p.functions.iter().max_by_key(|f| f.self_samples).unwrap();
    let leaf_stacks: Vec<Vec<&str>> = p
        .stacks
        .stacks
        .iter()
        .map(|s| s.frames.iter().map(String::as_str).collect::<Vec<_>>())
        .filter(|frames| frames.last() == Some(&top_self.function.as_str()))
        .collect();
    assert!(!leaf_stacks.is_empty());
    assert!(
        top_self.function.ends_with("hot_function")
            || (top_self.function.ends_with("sqrt")
                && leaf_stacks.iter().all(|f| {
                    // The nearest frame that is not one of the inlined `sqrt` layers
                    // (`f64::sqrt` → `core::f64::math::sqrt`) is the hot function.
                    f.iter().rev().find(|x| !x.ends_with("sqrt")).is_some_and(|x| x.ends_with("hot_function"))
                })),
        "top self: {}",
        top_self.function
    );
    assert!(bench_core::to_f64(p.effective_hz) > 50.0, "effective rate {}", p.effective_hz);
    println!(
        "cpu profile: {} samples over {} CPU-s, requested {} Hz, effective {} Hz",
        p.samples, p.cpu_seconds, p.requested_hz, p.effective_hz
    );
    for f in &out.artefacts {
        assert!(f.path.exists(), "{} missing", f.path.display());
    }
    let folded = std::fs::read_to_string(dir.path().join("cpu_test_cpu.folded")).unwrap();
    assert!(folded.lines().any(|l| l.contains("hot_function")));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("cpu_test_cpu.json")).unwrap())
            .unwrap();
    assert_eq!(json["schema_version"], 1);
    let svg = std::fs::read_to_string(dir.path().join("flame_graphs/cpu_test.svg")).unwrap();
    assert!(svg.contains("rgb(220,38,38)"), "a ≥10% frame is red");
}

#[inline(never)]
fn libm_caller(n: u64) -> f64 {
    let mut x = 0.0f64;
    for i in 0..n {
        // `sin` is glibc's libm, built without frame pointers: a frameless leaf.
        x += (i as f64).sin();
    }
    std::hint::black_box(x)
}

#[test]
fn callers_of_frameless_library_leaves_are_recovered() {
    let _alone = alone();
    let dir = tempfile::tempdir().unwrap();
    let work = || (0..40).map(|_| libm_caller(1_000_000)).sum::<f64>();
    let (_, out) = profile_workflow(
        work,
        &ProfileKind::Cpu,
        dir.path(),
        &RunId::new("libm").unwrap(),
        &ProfileOptions::default(),
    )
    .unwrap();
    let ProfileMetrics::Cpu(p) = out.metrics else { panic!("cpu") };
    let caller =
        p.functions.iter().find(|f| f.function.ends_with("libm_caller")).expect("libm_caller sampled");
    let share = caller.total_samples as f64 / p.samples as f64;
    println!("libm_caller recovered in {:.0}% of {} samples", share * 100.0, p.samples);
    // Without recovery the caller of a frameless libm leaf is missing from every such sample
    // (15% measured before); glibc's sin sometimes keeps rbp as a general register, which no
    // frame-pointer walk can see through.
    assert!(share > 0.5, "libm_caller in {:.0}% of {} samples", share * 100.0, p.samples);
}

#[tracing::instrument(level = "info", skip_all)]
fn counted_leaf(i: u64) -> u64 {
    i * 2
}

#[tracing::instrument(level = "info", skip_all)]
fn recursive_span(depth: u32) -> u32 {
    if depth == 0 { 0 } else { 1 + recursive_span(depth - 1) }
}

#[test]
fn spans_count_calls_exactly_across_rayon_workers_and_recursion() {
    let _alone = alone();
    let dir = tempfile::tempdir().unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    let n = 12_345u64;
    let work = || {
        let s: u64 = pool.install(|| (0..n).into_par_iter().map(counted_leaf).sum());
        let r: u32 = (0..10).map(|_| recursive_span(4)).sum();
        (s, r)
    };
    let ((s, r), out) = profile_workflow(
        work,
        &ProfileKind::Spans,
        dir.path(),
        &RunId::new("spans_test").unwrap(),
        &ProfileOptions::default(),
    )
    .unwrap();
    assert_eq!(s, n * (n - 1));
    assert_eq!(r, 40);
    let ProfileMetrics::Spans(p) = out.metrics else { panic!("span metrics") };
    let leaf = p.row("counted_leaf").expect("leaf row");
    assert_eq!(leaf.ncalls, n);
    assert_eq!(leaf.primitive_calls, n);
    assert!(p.threads >= 2, "rayon workers report: {} threads", p.threads);
    // cProfile: 10 outer calls × depth 4 → 50 calls, 10 primitive; cumtime counts outermost only.
    let rec = p.row("recursive_span").expect("recursive row");
    assert_eq!(rec.ncalls, 50);
    assert_eq!(rec.primitive_calls, 10);
    assert!(rec.cumtime_ns >= rec.tottime_ns);
    let txt = std::fs::read_to_string(dir.path().join("spans_test_spans.txt")).unwrap();
    assert!(txt.contains("50/10") && txt.contains("recursive_span"), "{txt}");
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("spans_test_trace.json")).unwrap())
            .unwrap();
    assert!(trace["traceEvents"].as_array().unwrap().len() as u64 >= n);
    // Outside a session nothing is recorded.
    counted_leaf(1);
}

/// A loop of cheap statements: before the probes' own cost was excluded, the timing of the
/// three inner statements landed on the `for` line and made the loop header look like the hot
/// spot.
#[bench_line_probe::line_probe]
fn cheap_loop(n: u64) -> u64 {
    let mut a = 0u64;
    let mut b = 1u64;
    for i in 0..n {
        a = a.wrapping_add(i);
        b = b.wrapping_mul(3) ^ a;
        a ^= b >> 7;
    }
    a ^ b
}

#[test]
fn a_loop_header_does_not_carry_the_probes_cost() {
    let _alone = alone();
    let dir = tempfile::tempdir().unwrap();
    let options = ProfileOptions {
        source_root: Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
        ..Default::default()
    };
    let (_, out) = profile_workflow(
        || (0..20).map(|k| cheap_loop(20_000 + k)).fold(0, |x, y| x ^ y),
        &ProfileKind::Lines { function: "cheap_loop".into() },
        dir.path(),
        &RunId::new("loop_test").unwrap(),
        &options,
    )
    .unwrap();
    let ProfileMetrics::Lines(r) = out.metrics else { panic!("lines") };
    let header = r.rows.iter().find(|row| row.contents.trim_start().starts_with("for i in")).unwrap();
    let body: f64 = r
        .rows
        .iter()
        .filter(|row| row.contents.contains("a ^= b") || row.contents.contains("wrapping"))
        .filter_map(|row| row.percent)
        .sum();
    println!("loop header {:?}% of the function, body lines {body:.1}%", header.percent);
    assert!(
        header.percent.unwrap() < body,
        "the loop header ({:?}%) outweighs its body ({body:.1}%)",
        header.percent
    );
    // The lines add up to the total the header states, and the header says what that total is.
    let sum: u64 = r.rows.iter().filter_map(|row| row.time_ns).sum();
    assert_eq!(sum, r.total_ns);
    let text = r.to_text();
    assert!(
        text.contains("summed over every call on every thread")
            && text.contains("Wall time of the profiled run"),
        "{text}"
    );
}

#[test]
fn lines_report_ranks_the_dominant_line_first() {
    let _alone = alone();
    let dir = tempfile::tempdir().unwrap();
    let options = ProfileOptions {
        source_root: Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
        ..Default::default()
    };
    let work = || (0..50).map(|_| dominant_line(100_000)).sum::<f64>();
    let (_, out) = profile_workflow(
        work,
        &ProfileKind::Lines { function: "dominant_line".into() },
        dir.path(),
        &RunId::new("lines_test").unwrap(),
        &options,
    )
    .unwrap();
    let ProfileMetrics::Lines(r) = out.metrics else { panic!("lines") };
    let top = r.ranked()[0];
    assert!(top.contents.contains("let heavy"), "top line: {:?}", top.contents);
    assert_eq!(top.hits, Some(50));
    assert!(top.percent.unwrap() > 90.0);
    let txt = std::fs::read_to_string(dir.path().join("lines_test_lines.txt")).unwrap();
    assert!(
        txt.contains("Line #")
            && txt.contains("Hits")
            && txt.contains("% Time")
            && txt.contains("Line Contents")
    );
    let e = profile_workflow(
        || 1,
        &ProfileKind::Lines { function: "no_such_fn".into() },
        dir.path(),
        &RunId::new("x").unwrap(),
        &options,
    )
    .unwrap_err();
    assert!(e.to_string().contains("no line probes ran for function \"no_such_fn\""));
}

#[test]
fn an_allocation_of_k_bytes_shows_in_the_heap_figures() {
    let _alone = alone();
    let dir = tempfile::tempdir().unwrap();
    const K: usize = 64 << 20;
    let work = || {
        let v = vec![1u8; K];
        std::hint::black_box(&v);
        v.len()
    };
    let (len, out) = profile_workflow(
        work,
        &ProfileKind::Memory { deep: false },
        dir.path(),
        &RunId::new("mem_test").unwrap(),
        &ProfileOptions::default(),
    )
    .unwrap();
    assert_eq!(len, K);
    let ProfileMetrics::Memory(m) = out.metrics else { panic!("memory") };
    let peak = m.heap_peak_bytes.expect("counting allocator installed");
    assert!(peak >= K as u64 && peak < K as u64 + (1 << 20), "heap peak {peak}");
    assert!(m.peak_rss_bytes >= m.start_rss_bytes);
    assert!(!m.timeline.is_empty());
    assert!(dir.path().join("mem_test_memory.json").exists());
}

#[test]
fn the_rss_sampler_samples_every_tenth_of_a_second_profile_after_profile() {
    let _alone = alone();
    // The sampler thread is started once and parked between profiles: each of three profiles in
    // a row gets its own samples, one per interval, and none of another profile's.
    for round in 0..3 {
        let (_, m) =
            bench_profile::memory::profile_memory(|| std::thread::sleep(Duration::from_millis(450)), None)
                .unwrap();
        let t: Vec<f64> = m.timeline.iter().map(|s| s.t_ms).collect();
        // The start, 4 interior samples (100, 200, 300, 400 ms) and the end.
        assert!((5..=7).contains(&t.len()), "round {round}: {t:?}");
        assert!(t[0] < 5.0, "round {round}: the first sample is the start: {t:?}");
        assert!(t.windows(2).all(|w| w[0] <= w[1]), "round {round}: {t:?}");
        for (k, ms) in t[1..t.len() - 1].iter().enumerate() {
            let due = 100.0 * (k + 1) as f64;
            assert!((due..due + 60.0).contains(ms), "round {round}: sample {k} at {ms} ms: {t:?}");
        }
        assert!(*t.last().unwrap() >= 450.0, "round {round}: {t:?}");
    }
}

#[test]
fn dhat_deep_mode_writes_its_heap_file() {
    let _alone = alone();
    let dir = tempfile::tempdir().unwrap();
    let work = || (0..100).map(|i| vec![0u8; 1000 + i]).map(|v| v.len()).sum::<usize>();
    let (_, out) = profile_workflow(
        work,
        &ProfileKind::Memory { deep: true },
        dir.path(),
        &RunId::new("deep").unwrap(),
        &ProfileOptions::default(),
    )
    .unwrap();
    let ProfileMetrics::Memory(m) = out.metrics else { panic!("memory") };
    let d = m.dhat.expect("dhat totals");
    assert!(d.total_blocks >= 100 && d.total_bytes >= 100_000, "{d:?}");
    let heap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("deep_dhat-heap.json")).unwrap())
            .unwrap();
    assert!(heap.get("pps").is_some());
}

#[test]
fn flame_graph_colours_by_share_and_omits_small_frames() {
    let _alone = alone();
    let dir = tempfile::tempdir().unwrap();
    let folded = "main;big 900\nmain;medium 70\nmain;small 25\nmain;tiny 5\n";
    let svg = dir.path().join("f.svg");
    let summary = generate_flame_graph(&FoldedStacks::parse(folded), &svg, "test", 1.0).unwrap();
    // Coloured by own time: the root, which holds no sample of its own, is blue, not red.
    assert!(summary.functions.iter().any(|(f, share, band)| f == "main" && *share == 0.0 && *band == "blue"));
    let band = |name: &str| summary.functions.iter().find(|(f, _, _)| f == name).map(|(_, _, b)| *b);
    assert_eq!(
        [band("big"), band("medium"), band("small")],
        [Some("red"), Some("orange"), Some("yellow")],
        "{:?}",
        summary.functions
    );
    // Root frames under the limit merge into one `[other < 1%]` frame whose share is theirs
    // together: 3 + 2 of 1000 samples.
    let roots =
        generate_flame_graph(&FoldedStacks::parse("a 995\nb 3\nc 2\n"), &dir.path().join("o.svg"), "o", 1.0)
            .unwrap();
    let other = roots.functions.iter().find(|(f, _, _)| f == "[other < 1%]").expect("merged");
    assert!((other.1 - 0.5).abs() < 1e-12 && other.2 == "blue", "{other:?}");
    let text = std::fs::read_to_string(&svg).unwrap();
    // Each frame's own fill (read from the SVG, not from the code's colour helpers): 90% red,
    // 7% orange, 2.5% yellow; `tiny` (0.5%) is under the 1% limit and not drawn.
    let frames = svg_frames(&text);
    let fill = |name: &str| frames.iter().find(|(t, _, _)| t == name).map(|(_, f, _)| *f);
    assert_eq!(fill("big"), Some((220, 38, 38)), "{frames:?}");
    assert_eq!(fill("medium"), Some((245, 140, 30)), "{frames:?}");
    assert_eq!(fill("small"), Some((240, 210, 50)), "{frames:?}");
    assert_eq!(fill("tiny"), None, "{frames:?}");
    assert!(!text.contains(">tiny"), "a 0.5% frame is omitted at min_percent 1");
    assert_eq!(summary.total_samples, 1000);
    let diff = dir.path().join("d.svg");
    generate_differential_flame_graph(
        &FoldedStacks::parse(folded),
        &FoldedStacks::parse("main;big 300\nmain;medium 70\n"),
        &diff,
        "diff",
        0.0,
    )
    .unwrap();
    let diff_svg = std::fs::read_to_string(&diff).unwrap();
    assert!(diff_svg.contains("<svg"));
    // Frames only in the "before" profile (small, tiny: removed by the change) still show.
    assert!(diff_svg.contains(">small") || diff_svg.contains("small ("), "a removed frame is drawn");
}

/// The frames of an inferno SVG: (title's first word, fill (r, g, b), width in samples).
fn svg_frames(svg: &str) -> Vec<(String, (u32, u32, u32), u64)> {
    let mut out = Vec::new();
    for g in svg.split("<g>").skip(1) {
        let title = g.split("<title>").nth(1).and_then(|t| t.split(" (").next()).unwrap_or("").to_owned();
        let fill = g.split("fill=\"rgb(").nth(1).and_then(|f| f.split(')').next()).map(|f| {
            let v: Vec<u32> = f.split(',').map(|x| x.trim().parse().unwrap()).collect();
            (v[0], v[1], v[2])
        });
        let width = g.split("fg:w=\"").nth(1).and_then(|w| w.split('"').next()).and_then(|w| w.parse().ok());
        if let (Some(fill), Some(width)) = (fill, width) {
            out.push((title, fill, width));
        }
    }
    out
}

#[test]
fn the_differential_flame_graph_is_red_where_time_grew_and_blue_where_it_shrank() {
    let dir = tempfile::tempdir().unwrap();
    let diff = dir.path().join("d.svg");
    generate_differential_flame_graph(
        &FoldedStacks::parse("main;grows 100\nmain;shrinks 300\nmain;same 100\n"),
        &FoldedStacks::parse("main;grows 300\nmain;shrinks 100\nmain;same 100\n"),
        &diff,
        "diff",
        0.5,
    )
    .unwrap();
    let frames = svg_frames(&std::fs::read_to_string(&diff).unwrap());
    let find = |name: &str| {
        frames
            .iter()
            .find(|(t, _, _)| t == &format!("main;{name}") || t == name)
            .unwrap_or_else(|| panic!("no frame {name} in {frames:?}"))
    };
    let (_, grows, w_grows) = find("grows");
    let (_, shrinks, w_shrinks) = find("shrinks");
    let (_, same, w_same) = find("same");
    assert!(grows.0 > grows.2 + 50, "grew: red expected, got rgb{grows:?}");
    assert!(shrinks.2 > shrinks.0 + 50, "shrank: blue expected, got rgb{shrinks:?}");
    assert!(same.0.abs_diff(same.2) < 30, "unchanged: neither red nor blue, got rgb{same:?}");
    // Width is before + after: 400, 400 and 200 samples.
    assert_eq!(w_grows, w_shrinks);
    assert_eq!(*w_grows, 2 * w_same, "{frames:?}");

    // One sample 120 frames deep (0.1% of both profiles) does not make the graph 120 frames
    // tall with its content in the bottom rows; a long title widens the image instead of
    // being cut at both ends.
    let deep: String = (0..120).map(|i| format!(";d{i}")).collect();
    let title =
        "grid search: baseline with a long description of every optimization → fastest (differential)";
    generate_differential_flame_graph(
        &FoldedStacks::parse(&format!("main;grows 100\nmain;shrinks 300\nmain;same 100\nmain{deep} 1\n")),
        &FoldedStacks::parse("main;grows 300\nmain;shrinks 100\nmain;same 100\n"),
        &diff,
        title,
        0.5,
    )
    .unwrap();
    let svg = std::fs::read_to_string(&diff).unwrap();
    let attr = |name: &str| -> f64 {
        svg.split(&format!(" {name}=\"")).nth(1).and_then(|v| v.split('"').next()).unwrap().parse().unwrap()
    };
    assert!(!svg.contains(">d0") && !svg.contains("d119"), "the deep thin stack is cut");
    assert!(attr("height") < 200.0, "height {}", attr("height"));
    assert!(attr("width") >= title.chars().count() as f64 * 10.0, "width {} for the title", attr("width"));
    assert!(svg.contains(title), "the title is drawn whole");
}
