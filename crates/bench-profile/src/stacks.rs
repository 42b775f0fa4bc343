//! Call stacks with sample counts — what a CPU profile is, passed between profilers, the flame
//! graph and the bottleneck analysis as data; the folded text (`root;…;leaf count`) is only its
//! file format.

use std::collections::{BTreeMap, HashMap};

/// One call stack, root first, and how many samples it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    /// Frames from the root (a thread) to the leaf (the sampled function).
    pub frames: Vec<String>,
    /// Samples with exactly this stack.
    pub count: u64,
}

/// Sampled call stacks, each distinct stack once.
///
/// ```
/// use bench_profile::FoldedStacks;
/// let s = FoldedStacks::parse("main;work 3\nmain;idle 1\n");
/// assert_eq!(s.total(), 4);
/// assert_eq!(s.inclusive_percent()["work"], 75.0);
/// assert_eq!(FoldedStacks::parse(&s.to_text()), s);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoldedStacks {
    /// The stacks, sorted by frames.
    pub stacks: Vec<Stack>,
}

impl FoldedStacks {
    /// Builds the set from stacks that may repeat (their counts are added).
    pub fn from_counts(counts: impl IntoIterator<Item = (Vec<String>, u64)>) -> Self {
        let mut merged: BTreeMap<Vec<String>, u64> = BTreeMap::new();
        for (frames, n) in counts {
            *merged.entry(frames).or_default() += n;
        }
        Self { stacks: merged.into_iter().map(|(frames, count)| Stack { frames, count }).collect() }
    }

    /// Parses folded text (`frame;frame;frame count` per line); lines without a count are
    /// skipped.
    pub fn parse(text: &str) -> Self {
        Self::from_counts(text.lines().filter_map(|l| {
            let (stack, count) = l.trim_end().rsplit_once(' ')?;
            Some((stack.split(';').map(str::to_owned).collect(), count.parse().ok()?))
        }))
    }

    /// The folded text, one line per stack, sorted.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for st in &self.stacks {
            s.push_str(&st.frames.join(";"));
            s.push(' ');
            s.push_str(&st.count.to_string());
            s.push('\n');
        }
        s
    }

    /// Total samples.
    pub fn total(&self) -> u64 {
        self.stacks.iter().map(|s| s.count).sum()
    }

    /// Share of all samples (percent) whose stack contains each function, counted once per
    /// stack.
    pub fn inclusive_percent(&self) -> HashMap<String, f64> {
        let total = self.total().max(1) as f64;
        let mut inclusive: HashMap<&str, u64> = HashMap::new();
        for st in &self.stacks {
            let mut seen: Vec<&str> = Vec::with_capacity(st.frames.len());
            for f in &st.frames {
                if !seen.contains(&f.as_str()) {
                    seen.push(f);
                    *inclusive.entry(f).or_default() += st.count;
                }
            }
        }
        inclusive.into_iter().map(|(k, v)| (k.to_owned(), v as f64 * 100.0 / total)).collect()
    }

    /// Share of all samples (percent) whose innermost frame is each function: its own time.
    pub fn self_percent(&self) -> HashMap<String, f64> {
        let total = self.total().max(1) as f64;
        let mut own: HashMap<&str, u64> = HashMap::new();
        for st in &self.stacks {
            if let Some(leaf) = st.frames.last() {
                *own.entry(leaf).or_default() += st.count;
            }
        }
        own.into_iter().map(|(k, v)| (k.to_owned(), v as f64 * 100.0 / total)).collect()
    }

    /// The same stacks without the runtime frames between the thread (the root) and the
    /// sampled function (the leaf): the standard library, the allocator shims and the thread
    /// pool (std, core, alloc, rayon, crossbeam, libc start-up), which otherwise bury the
    /// application's functions under dozens of levels. The root and the leaf are always kept.
    ///
    /// ```
    /// let s = bench_profile::FoldedStacks::parse("worker;std::thread::run;rayon::join;app::work;core::iter::sum 5\n");
    /// assert_eq!(s.collapse_runtime().to_text(), "worker;app::work;core::iter::sum 5\n");
    /// ```
    pub fn collapse_runtime(&self) -> Self {
        Self::from_counts(self.stacks.iter().map(|st| {
            let last = st.frames.len().saturating_sub(1);
            let frames = st
                .frames
                .iter()
                .enumerate()
                .filter(|(i, f)| *i == 0 || *i == last || !is_runtime_frame(f))
                .map(|(_, f)| f.clone())
                .collect();
            (frames, st.count)
        }))
    }

    /// The same stacks with every frame renamed by `f` (frames mapped to `None` are dropped),
    /// merging stacks that become equal.
    pub fn map_frames(&self, mut f: impl FnMut(&str) -> Option<String>) -> Self {
        Self::from_counts(
            self.stacks.iter().map(|st| (st.frames.iter().filter_map(|x| f(x)).collect(), st.count)),
        )
    }
}

/// Whether a frame belongs to the language or thread-pool runtime rather than to the code
/// under study: std, core, alloc, rayon, crossbeam, and the libc thread and process start-up.
pub fn is_runtime_frame(f: &str) -> bool {
    const PREFIXES: [&str; 12] = [
        "std::",
        "core::",
        "alloc::",
        "rayon::",
        "rayon_core::",
        "crossbeam",
        "<std::",
        "<core::",
        "<alloc::",
        "<rayon",
        "<crossbeam",
        "__rust",
    ];
    const NAMES: [&str; 8] = [
        "main",
        "_start",
        "__libc_start_main",
        "__libc_start_call_main",
        "start_thread",
        "clone",
        "clone3",
        "__clone3",
    ];
    PREFIXES.iter().any(|p| f.starts_with(p)) || NAMES.contains(&f)
}

/// Standard error of a sampled share, in percentage points: `100·√(p(1−p)/N)` for `k` of `n`
/// samples (`p = k/n`). Every share a profile reports carries it.
///
/// ```
/// let e = bench_profile::sampling_error_percent(100, 1000);
/// assert!((e - 0.9487).abs() < 1e-4);
/// ```
pub fn sampling_error_percent(k: u64, n: u64) -> f64 {
    let n = n.max(1) as f64;
    let p = k as f64 / n;
    100.0 * (p * (1.0 - p) / n).sqrt()
}
