//! Flame graphs with inferno, each function coloured by its own share of the runtime (the
//! samples in which it is the innermost frame), and differential flame graphs of two profiles
//! that show frames present in either.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use inferno::flamegraph::color::{Color, PaletteMap};

use crate::ProfileError;
use crate::stacks::{FoldedStacks, Stack};

/// Colour of functions taking ≥ 10% of the runtime (critical).
pub const RED: Color = Color { r: 220, g: 38, b: 38 };
/// Colour of functions taking ≥ 5% (major).
pub const ORANGE: Color = Color { r: 245, g: 140, b: 30 };
/// Colour of functions taking ≥ 1% (notable).
pub const YELLOW: Color = Color { r: 240, g: 210, b: 50 };
/// Colour of functions taking < 1% (minor).
pub const BLUE: Color = Color { r: 90, g: 140, b: 220 };

/// The colour band of a share of runtime, in percent.
pub fn colour_for(percent: f64) -> Color {
    if percent >= 10.0 {
        RED
    } else if percent >= 5.0 {
        ORANGE
    } else if percent >= 1.0 {
        YELLOW
    } else {
        BLUE
    }
}

/// Removes frames whose own path holds less than `min_percent` of the samples: a stack is cut
/// just above the first such frame (its samples stay with the parent, so widths and the total
/// are unchanged); root frames under the limit are merged into one `[other < X%]` frame.
pub fn filter_min_percent(stacks: &FoldedStacks, min_percent: f64) -> Vec<(String, u64)> {
    let cut = cutter(stacks, min_percent);
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for Stack { frames, count: n } in &stacks.stacks {
        *out.entry(cut(frames)).or_default() += n;
    }
    out.into_iter().collect()
}

/// The cut of [`filter_min_percent`] with the path shares of `stacks`: a stack's frames to the
/// last one whose path holds `min_percent` of the samples, joined by `;`, or the `[other]` frame.
fn cutter(stacks: &FoldedStacks, min_percent: f64) -> impl Fn(&[String]) -> String {
    let limit = min_percent / 100.0 * stacks.total() as f64;
    let mut prefix: HashMap<String, u64> = HashMap::new();
    for Stack { frames, count: n } in &stacks.stacks {
        let mut p = String::new();
        for f in frames {
            if !p.is_empty() {
                p.push(';');
            }
            p.push_str(f);
            *prefix.entry(p.clone()).or_default() += n;
        }
    }
    let other = format!("[other < {min_percent}%]");
    move |frames: &[String]| {
        let mut kept = String::new();
        for f in frames {
            let candidate = if kept.is_empty() { f.clone() } else { format!("{kept};{f}") };
            if (prefix.get(&candidate).copied().unwrap_or(0) as f64) < limit {
                break;
            }
            kept = candidate;
        }
        if kept.is_empty() { other.clone() } else { kept }
    }
}

/// What [`generate_flame_graph`] drew.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FlameSummary {
    /// Total samples.
    pub total_samples: u64,
    /// Functions drawn, with their share (%) and colour band.
    pub functions: Vec<(String, f64, &'static str)>,
}

/// Writes an SVG flame graph of `stacks` to `svg` (atomically). Each function is coloured by
/// its own share of the samples (where it is the innermost frame) — red ≥ 10%, orange ≥ 5%,
/// yellow ≥ 1%, blue < 1% — so the frames that burn the time stand out rather than every caller
/// above them; frames under `min_percent` of the samples are omitted. Collapse runtime frames
/// first ([`FoldedStacks::collapse_runtime`]) for a readable graph.
pub fn generate_flame_graph(
    stacks: &FoldedStacks,
    svg: &Path,
    title: &str,
    min_percent: f64,
) -> Result<FlameSummary, ProfileError> {
    let total = stacks.total();
    if total == 0 {
        return Err(ProfileError::Empty(format!("no samples to draw in {}", svg.display())));
    }
    let shares = stacks.self_percent();
    let lines = filter_min_percent(stacks, min_percent);
    let mut palette = PaletteMap::default();
    let mut functions: Vec<(String, f64, &'static str)> = Vec::new();
    let other = format!("[other < {min_percent}%]");
    for (line, _) in &lines {
        for f in line.split(';') {
            if palette.get(f).is_none() {
                let share = if f == other {
                    lines.iter().filter(|(l, _)| l == &other).map(|(_, n)| *n).sum::<u64>() as f64 * 100.0
                        / total as f64
                } else {
                    shares.get(f).copied().unwrap_or(0.0)
                };
                let c = colour_for(share);
                palette.insert(f, c);
                let band = match c {
                    RED => "red",
                    ORANGE => "orange",
                    YELLOW => "yellow",
                    _ => "blue",
                };
                functions.push((f.to_owned(), share, band));
            }
        }
    }
    functions.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut opts = inferno::flamegraph::Options::default();
    opts.title = title.to_owned();
    opts.subtitle = Some(format!(
        "{total} samples · colour = own time: red ≥10% · orange ≥5% · yellow ≥1% · blue <1% · frames <{min_percent}% omitted"
    ));
    opts.count_name = "samples".into();
    opts.min_width = 0.0;
    opts.palette_map = Some(&mut palette);
    let folded_lines: Vec<String> = lines.iter().map(|(l, n)| format!("{l} {n}")).collect();
    let mut out = Vec::new();
    inferno::flamegraph::from_lines(&mut opts, folded_lines.iter().map(String::as_str), &mut out)
        .map_err(|e| ProfileError::Flame(e.to_string()))?;
    bench_core::write_atomic(svg, &out).map_err(|e| ProfileError::io(svg, &e))?;
    Ok(FlameSummary { total_samples: total, functions })
}

/// Writes a differential flame graph of `before` → `after` stacks to `svg`: both profiles are
/// normalised to the same total, each frame is as wide as its samples before and after
/// together — so a function an optimization removed still shows — and coloured by the change
/// (inferno's palette: red = more time after, blue = less). Frames under `min_percent` of both
/// profiles together are cut as in [`filter_min_percent`], so the graph is as tall as what
/// can be seen, not as the deepest one-sample stack; the image is as wide as its title.
pub fn generate_differential_flame_graph(
    before: &FoldedStacks,
    after: &FoldedStacks,
    svg: &Path,
    title: &str,
    min_percent: f64,
) -> Result<(), ProfileError> {
    let (tb, ta) = (before.total(), after.total());
    if tb == 0 || ta == 0 {
        return Err(ProfileError::Empty(format!("no samples to compare in {}", svg.display())));
    }
    let scale = ta as f64 / tb as f64;
    let scaled: Vec<(Vec<String>, u64)> = before
        .stacks
        .iter()
        .map(|st| (st.frames.clone(), (st.count as f64 * scale).round() as u64))
        .collect();
    let together = FoldedStacks::from_counts(
        scaled.iter().cloned().chain(after.stacks.iter().map(|st| (st.frames.clone(), st.count))),
    );
    let cut = cutter(&together, min_percent);
    let mut both: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (frames, n) in &scaled {
        both.entry(cut(frames)).or_default().0 += n;
    }
    for st in &after.stacks {
        both.entry(cut(&st.frames)).or_default().1 += st.count;
    }
    // inferno draws a two-count line `stack a b` with width b and colour b − a: width = before
    // + after and colour = after − before give `2·before` and `before + after`.
    let lines: Vec<String> = both.iter().map(|(k, (b, a))| format!("{k} {} {}", 2 * b, b + a)).collect();
    let mut opts = inferno::flamegraph::Options::default();
    opts.title = title.to_owned();
    opts.subtitle = Some(format!(
        "normalised to the same total; width: before + after (removed frames still show); red: more time after, blue: less; frames <{min_percent}% omitted"
    ));
    opts.count_name = "samples".into();
    opts.min_width = 0.0;
    // The title (17-px font, 10–11 px a character) centred: a long one widens the image.
    opts.image_width = Some((title.chars().count() * 11 + 100).max(1200));
    let mut out = Vec::new();
    inferno::flamegraph::from_lines(&mut opts, lines.iter().map(String::as_str), &mut out)
        .map_err(|e| ProfileError::Flame(e.to_string()))?;
    bench_core::write_atomic(svg, &out).map_err(|e| ProfileError::io(svg, &e))
}
