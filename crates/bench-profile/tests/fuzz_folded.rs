//! Other profilers' output is input: folded stacks from py-spy, perf or a hand edit are fuzzed
//! like the project's own parsers. Whatever the text, reading it returns a profile or an input
//! error naming the line — never a panic — and every sample it accepts is counted once.

use bench_profile::cpu::profile_from_folded;
use proptest::prelude::*;

/// A folded line: frames of every shape py-spy and perf write (with and without `(file:line)`,
/// empty, odd characters), then a count or something that is not one.
fn line() -> impl Strategy<Value = String> {
    let frame = prop_oneof![
        "[a-zA-Z_<>]{1,8}",
        "[a-z]{1,6} \\([a-z/]{1,8}\\.py:[0-9]{1,4}\\)",
        "[a-z]{1,6} \\([a-z]{1,4}\\.py:\\)",
        Just(String::new()),
        "[ -~]{0,6}",
    ];
    let count = prop_oneof![(0u64..1000).prop_map(|c| c.to_string()), "[ -~]{0,4}"];
    (proptest::collection::vec(frame, 0..5), count).prop_map(|(f, c)| format!("{} {c}", f.join(";")))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_folded_text_gives_a_profile_or_a_line_error(lines in proptest::collection::vec(line(), 1..8)) {
        let text = lines.join("\n");
        match profile_from_folded(&text, "app") {
            Ok(p) => {
                // Every line was a whole-number count: the profile counts them all.
                let total: u64 = text
                    .lines()
                    .filter(|l| !l.trim_end().is_empty() && !l.starts_with('#'))
                    .map(|l| l.trim_end().rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
                    .sum();
                prop_assert_eq!(p.samples, total);
            }
            Err(e) => prop_assert!(e.to_string().contains("line ") || e.to_string().contains("no stacks"), "{e}"),
        }
    }
}

/// The two lines of the report: a thread-rooted stack and an idle sample with no frame.
#[test]
fn an_idle_sample_beside_thread_rooted_stacks_counts_under_the_root() {
    let p = profile_from_folded("MainThread;main (app.py:3) 5\n 3\n", "app").unwrap();
    assert_eq!(p.samples, 8);
}
