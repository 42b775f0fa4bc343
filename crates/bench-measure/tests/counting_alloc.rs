//! The counting allocator's figures under concurrent allocation: live bytes and the peak exact,
//! the allocation count (spread over shards) exact up to the few allocations the test harness
//! and thread start-up make themselves.

use bench_measure::{CountingAlloc, heap_snapshot, reset_heap_peak};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn concurrent_allocations_are_all_counted_and_the_peak_is_exact() {
    const THREADS: usize = 4;
    const EACH: usize = 100_000;
    const HELD: usize = 1 << 20;
    // One allocation first, so the allocator reports itself installed.
    drop(std::hint::black_box(Box::new(0u64)));
    let before = heap_snapshot().expect("the counting allocator is installed");
    reset_heap_peak();
    let barrier = std::sync::Barrier::new(THREADS);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                // Each thread holds 1 MiB at the moment they all meet, then makes EACH small
                // allocations that it frees at once.
                let held = vec![1u8; HELD];
                barrier.wait();
                for i in 0..EACH {
                    std::hint::black_box(Box::new(i));
                }
                barrier.wait();
                drop(held);
            });
        }
    });
    let after = heap_snapshot().unwrap();
    let counted = after.allocations - before.allocations;
    let made = (THREADS * (EACH + 1)) as u64;
    assert!(counted >= made, "{counted} counted, at least {made} made");
    assert!(counted < made + 500, "{counted} counted for {made} made: more than the harness could add");
    // All four 1-MiB blocks were live at once, so the peak is at least the start plus 4 MiB; it
    // cannot exceed that by more than thread stacks' bookkeeping and the boxes in flight.
    let floor = before.current_bytes + (THREADS * HELD) as u64;
    assert!(after.peak_bytes >= floor, "peak {} < {floor}", after.peak_bytes);
    assert!(after.peak_bytes < floor + (256 << 10), "peak {} ≫ {floor}", after.peak_bytes);
    assert!(after.current_bytes < before.current_bytes + (64 << 10), "{after:?} vs {before:?}");
}
