//! Code the profiler tests share.

/// A function with line probes whose time is nearly all on one line (`let heavy`): the known
/// hot line the line profilers must rank first.
#[bench_line_probe::line_probe]
pub fn dominant_line(n: usize) -> f64 {
    let mut v = Vec::with_capacity(8);
    v.push(1.0);
    let heavy: f64 = (0..n).map(|i| (i as f64).sqrt().cos()).sum();
    let light = v.len() as f64;
    heavy + light
}
