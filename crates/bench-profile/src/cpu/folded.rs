//! Profiles from other profilers' folded stacks: py-spy's `record --format raw`, `perf script`
//! through inferno's or flamegraph.pl's collapse, our own `<id>_cpu.folded` — one line per
//! distinct stack, `frame;frame;…;frame COUNT`, outermost frame first.
//!
//! A frame written `function (file:line)` (py-spy's form) is the function `file::function` on
//! line `line` of `file` — named like a path, so application prefixes (`backtesting/`) select
//! it — and a function's samples add up over its lines while the sampled line table keeps them
//! apart. When every stack starts with such a frame there is no thread or
//! process frame, and the file's name becomes the root.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

use bench_core::Decimal;

use super::{CpuProfile, Located, SamplerKind, TimedSample, Timeline, function_table};
use crate::ProfileError;
use crate::stacks::FoldedStacks;

/// Largest folded-stacks input read, after decompression: 256 MiB.
pub const MAX_FOLDED_BYTES: u64 = 256 << 20;

/// Reads a folded-stacks file (gzip-compressed when it ends in `.gz`) into a profile: function
/// table, stacks, sampled lines and a weighted timeline without times.
pub fn read_folded(path: &Path) -> Result<CpuProfile, ProfileError> {
    let file =
        std::fs::File::open(path).map_err(|e| ProfileError::Input(format!("{}: {e}", path.display())))?;
    let mut text = String::new();
    let gz = path.extension().is_some_and(|e| e == "gz");
    let reader: Box<dyn Read> =
        if gz { Box::new(flate2::read::MultiGzDecoder::new(file)) } else { Box::new(file) };
    let read = reader.take(MAX_FOLDED_BYTES + 1).read_to_string(&mut text);
    read.map_err(|e| ProfileError::Input(format!("{}: {e}", path.display())))?;
    if text.len() as u64 > MAX_FOLDED_BYTES {
        return Err(ProfileError::Input(format!(
            "{}: more than {} MiB of folded stacks{}; expected a profile's folded stacks",
            path.display(),
            MAX_FOLDED_BYTES >> 20,
            if gz { " after decompression" } else { "" }
        )));
    }
    let stem = path.file_name().map_or("profile".into(), |n| n.to_string_lossy().into_owned());
    let stem = stem.trim_end_matches(".gz").trim_end_matches(".folded").trim_end_matches(".txt").to_owned();
    profile_from_folded(&text, &stem).map_err(|e| match e {
        ProfileError::Input(m) => ProfileError::Input(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// `function (file:line)` → the function `file::function` at that line.
fn locate(frame: &str) -> Located {
    if let Some(inner) = frame.strip_suffix(')')
        && let Some((function, loc)) = inner.rsplit_once(" (")
        && let Some((file, line)) = loc.rsplit_once(':')
        && let Ok(line) = line.parse::<u32>()
    {
        return Located {
            function: format!("{file}::{function}").into(),
            file: Some(file.into()),
            line: Some(line),
        };
    }
    Located { function: frame.into(), file: None, line: None }
}

/// Parses folded stacks (`frame;…;frame COUNT` per line); `root` names the process when the
/// stacks start at a function rather than at a thread or process frame.
pub fn profile_from_folded(text: &str, root: &str) -> Result<CpuProfile, ProfileError> {
    let mut parsed: Vec<(Vec<&str>, u64)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |what: &str| {
            ProfileError::Input(format!(
                "line {}: {what}; expected `frame;frame;…;frame COUNT`, got {:?}",
                i + 1,
                line.chars().take(80).collect::<String>()
            ))
        };
        let (stack, count) = line.rsplit_once(' ').ok_or_else(|| bad("no sample count"))?;
        let count: u64 = count.parse().map_err(|_| bad("the sample count is not a whole number"))?;
        // An empty stack is a sample the profiler took outside any frame it knows (py-spy writes
        // them for an idle interpreter): it counts, under the root alone.
        let frames: Vec<&str> = stack.split(';').filter(|f| !f.is_empty()).collect();
        parsed.push((frames, count));
    }
    if parsed.is_empty() {
        return Err(ProfileError::Input("no stacks: the file is empty or only comments".into()));
    }
    // py-spy's stacks start at the module's code, not at a thread: give them a root.
    let rootless = parsed.iter().filter_map(|(f, _)| f.first()).all(|f| locate(f).line.is_some());
    let mut stacks: HashMap<Vec<String>, u64> = HashMap::new();
    let mut timeline = Timeline { interval_ns: 0, ..Timeline::default() };
    let mut threads: BTreeMap<String, u64> = BTreeMap::new();
    let mut ids: HashMap<Vec<Located>, usize> = HashMap::new();
    for (frames, count) in parsed {
        // An idle sample has no frame, not even a thread's: it counts under the root.
        let (thread, rest) = match frames.split_first() {
            Some((first, rest)) if !rootless => ((*first).to_owned(), rest),
            _ => (root.to_owned(), &frames[..]),
        };
        let located: Vec<Located> = rest.iter().map(|f| locate(f)).collect();
        let mut names = vec![thread.clone()];
        names.extend(located.iter().map(|l| l.function.to_string()));
        *stacks.entry(names).or_default() += count;
        let next = threads.len() as u64;
        let tid = *threads.entry(thread).or_insert(next);
        let next = ids.len();
        let id = *ids.entry(located.clone()).or_insert_with(|| {
            timeline.stacks.push(located);
            next
        });
        timeline.samples.push(TimedSample { tid, time_ns: 0, stack: id, weight: count });
    }
    timeline.threads = threads.into_iter().map(|(name, tid)| (tid, name)).collect();
    timeline.threads.sort();
    let (samples, functions) = function_table(&stacks);
    Ok(CpuProfile {
        sampler: SamplerKind::Folded,
        fallback_reason: None,
        lost_samples: 0,
        requested_hz: 0,
        samples,
        wall_seconds: Decimal::ZERO,
        cpu_seconds: Decimal::ZERO,
        effective_hz: Decimal::ZERO,
        functions,
        stacks: FoldedStacks::from_counts(stacks),
        timeline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn py_spy_frames_keep_their_lines_and_get_a_root() {
        let text =
            "main (app.py:3);work (app.py:10) 7\nmain (app.py:3);work (app.py:11) 3\nmain (app.py:4) 2\n";
        let p = profile_from_folded(&format!("{text} 4\n"), "app").unwrap();
        assert_eq!(p.samples, 16, "an empty stack counts");
        let work = p.functions.iter().find(|f| f.function == "app.py::work").unwrap();
        assert_eq!((work.self_samples, work.total_samples), (10, 10));
        let main = p.functions.iter().find(|f| f.function == "app.py::main").unwrap();
        assert_eq!((main.self_samples, main.total_samples), (2, 12));
        let lines = p.sampled_lines("work");
        assert_eq!((lines[0].line, lines[0].samples, lines[1].line), (10, 7, 11));
        assert!(p.stacks.to_text().contains("app;app.py::main;app.py::work 10"), "{}", p.stacks.to_text());
    }

    #[test]
    fn a_thread_root_is_kept_and_bad_lines_are_named() {
        let p = profile_from_folded("worker-1;a::b;a::c 5\nworker-2;a::b 1\n", "x").unwrap();
        assert_eq!(p.timeline.threads.len(), 2);
        assert_eq!(p.functions[0].function, "a::b");
        let e = profile_from_folded("a;b 3\na;b three\n", "x").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("not a whole number"), "{e}");
        assert!(profile_from_folded("\n# only a comment\n", "x").is_err());
    }
}
