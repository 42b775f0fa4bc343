//! What the counting allocator costs when two threads allocate at once: 2 threads × N
//! allocate-and-free pairs of 32 bytes, with counting on and off, interleaved in ABBA rounds;
//! prints the median time per pair for each and the overhead.
//!
//! `cargo run --release -p bench-measure --example alloc_contention [-- N ROUNDS]`

#![allow(clippy::print_stdout)]

use std::time::Instant;

use bench_measure::{CountingAlloc, set_heap_counting};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn burst(n: usize) -> f64 {
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for i in 0..n {
                    std::hint::black_box(Box::new([i as u64; 4]));
                }
            });
        }
    });
    t.elapsed().as_secs_f64() / n as f64 * 1e9
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(15);
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        for counting in if r % 2 == 0 { [true, false] } else { [false, true] } {
            set_heap_counting(counting);
            let ns = burst(n);
            if counting { on.push(ns) } else { off.push(ns) }
        }
    }
    set_heap_counting(true);
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (a, b) = (median(&mut on), median(&mut off));
    println!(
        "2 threads × {n} allocate+free pairs, {rounds} rounds: counting on {a:.1} ns, off {b:.1} ns per pair → +{:.1} ns ({:+.1}%)",
        a - b,
        (a / b - 1.0) * 100.0
    );
}
