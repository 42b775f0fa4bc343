//! A command with known cost for trying and testing `cargo xtask compare`: burns a given amount
//! of CPU in a fixed arithmetic loop, then prints a given result.
//!
//! ```text
//! bench-burn [--work MILLIONS] [--threads N] [--alloc MIB] [--print TEXT] [--stderr TEXT] [--exit CODE]
//! ```
//!
//! `--work 20` runs twenty million iterations (about 20–40 ms on a current core); the time is
//! proportional to it, so `--work 17` is a candidate doing 15% less work. It prints `--print`
//! (default `result 42`) on stdout whatever the work, `--stderr` on stderr, and exits with
//! `--exit` (default 0). `--alloc 64` also touches 64 MiB of heap, so its peak resident set
//! grows by that much. `--threads 2` splits the same work over two threads.

use std::io::Write as _;

fn main() {
    let mut work = 10.0f64;
    let mut print = "result 42".to_owned();
    let mut stderr = None;
    let mut exit = 0i32;
    let mut alloc_mib = 0usize;
    let mut threads = 1u64;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next().unwrap_or_else(|| {
                let _ = writeln!(std::io::stderr(), "bench-burn: {flag} needs a value");
                std::process::exit(2)
            })
        };
        let bad = |what: &str| -> ! {
            let _ = writeln!(std::io::stderr(), "bench-burn: {what}");
            std::process::exit(2)
        };
        match flag.as_str() {
            "--work" => work = value().parse().unwrap_or_else(|_| bad("--work expects a number of millions")),
            "--alloc" => {
                alloc_mib = value().parse().unwrap_or_else(|_| bad("--alloc expects a whole number of MiB"))
            }
            "--threads" => {
                threads = value()
                    .parse()
                    .ok()
                    .filter(|&t| t > 0)
                    .unwrap_or_else(|| bad("--threads expects a count ≥ 1"))
            }
            "--print" => print = value(),
            "--stderr" => stderr = Some(value()),
            "--exit" => exit = value().parse().unwrap_or_else(|_| bad("--exit expects an integer")),
            other => bad(&format!(
                "unknown argument {other:?}; usage: bench-burn [--work MILLIONS] [--threads N] [--alloc MIB] [--print TEXT] [--stderr TEXT] [--exit CODE]"
            )),
        }
    }
    // An xorshift loop the optimizer cannot shorten: each step depends on the last.
    let n = (work * 1e6) as u64;
    let burn = move |steps: u64| {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..steps {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        std::hint::black_box(x);
    };
    let share = n / threads;
    let others: Vec<_> = (1..threads).map(|_| std::thread::spawn(move || burn(share))).collect();
    burn(n - share * (threads - 1));
    others.into_iter().for_each(|t| t.join().expect("a burning thread"));
    // Touch every page so it is resident.
    let block = vec![1u8; alloc_mib << 20];
    std::hint::black_box(block.iter().step_by(4096).map(|&b| u64::from(b)).sum::<u64>());
    let _ = writeln!(std::io::stdout(), "{print}");
    if let Some(s) = stderr {
        let _ = writeln!(std::io::stderr(), "{s}");
    }
    std::process::exit(exit);
}
