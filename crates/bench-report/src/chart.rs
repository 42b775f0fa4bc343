//! The SVG chart of run times (plotters, SVG backend: no fonts or native libraries needed).

use plotters::prelude::*;

use crate::ReportError;

/// Mean and 95% CI of one measured configuration, for the chart and BMF.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TimingPoint {
    /// Label, e.g. `baseline` or `+ indicator-cache`.
    pub label: String,
    /// Mean wall time, seconds.
    pub mean_s: bench_core::Decimal,
    /// 95% CI, seconds.
    pub ci_95: [bench_core::Decimal; 2],
}

/// Horizontal bars of the mean run time per configuration with 95% CI whiskers, on a log axis
/// (optimizations often differ by orders of magnitude). Returns the SVG text.
pub fn run_time_chart(points: &[TimingPoint], title: &str) -> Result<String, ReportError> {
    if points.is_empty() {
        return Err(ReportError::Empty("no measured configuration to chart".into()));
    }
    let f = |d: bench_core::Decimal| bench_core::to_f64(d).max(1e-9);
    let lo = points.iter().map(|p| f(p.ci_95[0]).min(f(p.mean_s))).fold(f64::INFINITY, f64::min) / 2.0;
    let hi = points.iter().map(|p| f(p.ci_95[1]).max(f(p.mean_s))).fold(0.0, f64::max) * 2.0;
    let n = points.len();
    let height = 140 + 60 * n as u32;
    // Room for the longest label (about 6.5 px a character at the label size).
    let label_w = points.iter().map(|p| p.label.chars().count()).max().unwrap_or(0) as u32 * 13 / 2 + 20;
    svg_chart((900 + label_w.saturating_sub(190), height), |root| {
        let mut chart = builder(root, title, 20, 45, label_w.max(190))
            .build_cartesian_2d((lo..hi).log_scale(), 0.0..n as f64)
            .map_err(chart_error)?;
        let labels: Vec<String> = points.iter().map(|p| p.label.clone()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("mean wall time per run (log scale), whiskers: 95% CI; each step from its own comparison")
            .y_labels(n * 2 + 1)
            .y_label_formatter(&|y| {
                let i = (*y - 0.5).round();
                if (y - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                    labels[n - 1 - i as usize].clone()
                } else {
                    String::new()
                }
            })
            .x_label_formatter(&|x| bench_core::units::duration_short(*x))
            .draw()
            .map_err(chart_error)?;
        for (k, p) in points.iter().enumerate() {
            let y = (n - 1 - k) as f64;
            let colour = if k == 0 { RGBColor(150, 150, 150) } else { RGBColor(60, 120, 200) };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(lo, y + 0.2), (f(p.mean_s), y + 0.8)],
                    colour.filled(),
                )))
                .map_err(chart_error)?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(f(p.ci_95[0]), y + 0.5), (f(p.ci_95[1]), y + 0.5)],
                    BLACK.stroke_width(2),
                )))
                .map_err(chart_error)?;
            for x in [f(p.ci_95[0]), f(p.ci_95[1])] {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x, y + 0.35), (x, y + 0.65)],
                        BLACK.stroke_width(2),
                    )))
                    .map_err(chart_error)?;
            }
        }
        Ok(())
    })
}

/// A heatmap of a two-parameter grid: `cells` are (x, y, value) — e.g. (fast, slow, mean final
/// equity) — drawn as coloured squares from blue (lowest) to red (highest), with the best cell
/// outlined and the colour scale's ends stated in the caption. Returns the SVG text.
pub fn heatmap_svg(
    cells: &[(u32, u32, f64)],
    x_label: &str,
    y_label: &str,
    value_label: &str,
    title: &str,
) -> Result<String, ReportError> {
    let finite: Vec<&(u32, u32, f64)> = cells.iter().filter(|c| c.2.is_finite()).collect();
    if finite.is_empty() {
        return Err(ReportError::Empty("no grid cell to draw".into()));
    }
    let xs: Vec<u32> = {
        let mut v: Vec<u32> = cells.iter().map(|c| c.0).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let ys: Vec<u32> = {
        let mut v: Vec<u32> = cells.iter().map(|c| c.1).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let lo = finite.iter().map(|c| c.2).fold(f64::INFINITY, f64::min);
    let hi = finite.iter().map(|c| c.2).fold(f64::NEG_INFINITY, f64::max);
    let best = finite.iter().max_by(|a, b| a.2.total_cmp(&b.2)).map(|c| (c.0, c.1));
    let colour = |v: f64| {
        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
        RGBColor(
            (40.0 + 200.0 * t) as u8,
            (90.0 + 60.0 * (1.0 - (2.0 * t - 1.0).abs())) as u8,
            (220.0 - 190.0 * t) as u8,
        )
    };
    // The caption is the colour scale: the chart is at least as wide as it (about 7.5 px a
    // character at the caption's size), never clipped.
    let caption = format!("{title} — {value_label}: blue {lo:.2} … red {hi:.2}");
    let caption_w = (caption.chars().count() as f64 * 7.5) as u32 + 40;
    let (w, h) = (120 + 36 * xs.len() as u32, 140 + 28 * ys.len() as u32);
    svg_chart((w.max(500).max(caption_w), h.max(300)), |root| {
        let mut chart = builder(root, &caption, 16, 40, 50)
            .build_cartesian_2d(0.0..xs.len() as f64, 0.0..ys.len() as f64)
            .map_err(chart_error)?;
        let (xl, yl) = (xs.clone(), ys.clone());
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_labels(xs.len() * 2 + 1)
            .y_labels(ys.len() * 2 + 1)
            .x_label_formatter(&|x| label_at(&xl, *x))
            .y_label_formatter(&|y| label_at(&yl, *y))
            .draw()
            .map_err(chart_error)?;
        for c in &finite {
            let (i, j) =
                (xs.binary_search(&c.0).unwrap_or(0) as f64, ys.binary_search(&c.1).unwrap_or(0) as f64);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(i, j), (i + 1.0, j + 1.0)],
                    colour(c.2).filled(),
                )))
                .map_err(chart_error)?;
            if best == Some((c.0, c.1)) {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(i + 0.05, j + 0.05), (i + 0.95, j + 0.95)],
                        BLACK.stroke_width(3),
                    )))
                    .map_err(chart_error)?;
            }
        }
        Ok(())
    })
}

/// The value whose cell is centred at `pos` (cells span [k, k+1)), or nothing between cells.
fn label_at(values: &[u32], pos: f64) -> String {
    let k = (pos - 0.5).round();
    if (pos - 0.5 - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < values.len() {
        values[k as usize].to_string()
    } else {
        String::new()
    }
}

/// Equity curves as lines, one per named series (e.g. each asset's stitched out-of-sample
/// equity), x = bars from each curve's start. Returns the SVG text.
pub fn equity_svg(curves: &[(String, Vec<f64>)], title: &str) -> Result<String, ReportError> {
    let values = curves.iter().flat_map(|c| c.1.iter().copied()).filter(|v| v.is_finite());
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    let len = curves.iter().map(|c| c.1.len()).max().unwrap_or(0);
    if !lo.is_finite() || len < 2 {
        return Err(ReportError::Empty("no equity curve to draw".into()));
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    svg_chart((900, 480), |root| {
        let mut chart = builder(root, title, 18, 40, 70)
            .build_cartesian_2d(0..len, (lo - pad)..(hi + pad))
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .x_desc("bars from the first out-of-sample bar")
            .y_desc("equity")
            .draw()
            .map_err(chart_error)?;
        for (k, (name, values)) in curves.iter().enumerate() {
            let colour = Palette99::pick(k).to_rgba();
            chart
                .draw_series(LineSeries::new(values.iter().copied().enumerate(), colour.stroke_width(2)))
                .map_err(chart_error)?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2)));
        }
        legend(&mut chart, SeriesLabelPosition::MiddleRight)?;
        Ok(())
    })
}

/// The path of an adaptive comparison: the running estimate of the improvement pair by pair,
/// its anytime-valid confidence band, and the threshold line. Returns the SVG text.
pub fn adaptive_path_svg(
    path: &[bench_threshold::AdaptivePoint],
    threshold_percent: f64,
    title: &str,
) -> Result<String, ReportError> {
    if path.is_empty() {
        return Err(ReportError::Empty("no pairs to draw".into()));
    }
    let finite = |x: Option<f64>| x.filter(|v| v.is_finite());
    let values = path
        .iter()
        .flat_map(|p| [Some(p.estimate_percent), finite(p.lower_percent), finite(p.upper_percent)])
        .flatten()
        .chain([threshold_percent, 0.0]);
    let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    let pad = ((hi - lo) * 0.08).max(0.5);
    lo -= pad;
    hi += pad;
    let (first, last) = (path[0].pairs, path[path.len() - 1].pairs.max(path[0].pairs + 1));
    svg_chart((900, 420), |root| {
        let mut chart =
            builder(root, title, 18, 40, 60).build_cartesian_2d(first..last, lo..hi).map_err(chart_error)?;
        chart.configure_mesh().x_desc("pairs").y_desc("improvement (%)").draw().map_err(chart_error)?;
        let band: Vec<(usize, f64)> = path
            .iter()
            .map(|p| (p.pairs, finite(p.upper_percent).unwrap_or(hi)))
            .chain(path.iter().rev().map(|p| (p.pairs, finite(p.lower_percent).unwrap_or(lo))))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, RGBColor(60, 120, 200).mix(0.25).filled())))
            .map_err(chart_error)?
            .label("anytime-valid confidence sequence")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 18, y + 5)], RGBColor(60, 120, 200).mix(0.25).filled())
            });
        chart
            .draw_series(LineSeries::new(
                path.iter().map(|p| (p.pairs, p.estimate_percent)),
                BLUE.stroke_width(2),
            ))
            .map_err(chart_error)?
            .label("estimate: improvement of mean time")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLUE.stroke_width(2)));
        chart
            .draw_series(LineSeries::new(
                [(first, threshold_percent), (last, threshold_percent)],
                RED.stroke_width(2),
            ))
            .map_err(chart_error)?
            .label("threshold")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], RED.stroke_width(2)));
        chart
            .draw_series(LineSeries::new([(first, 0.0), (last, 0.0)], BLACK.stroke_width(1)))
            .map_err(chart_error)?;
        // The decision happens at the right end: the legend goes where the first, wide
        // pairs are.
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    })
}

/// Every run of each side as a dot on a time axis, one row per side (in run order from left to
/// right within the row's height, so drift shows as a slope), the median as a bar: both
/// distributions at a glance. `sides` are (name, times in seconds). Returns the SVG text.
pub fn runs_svg(sides: &[(&str, &[f64])], x_desc: &str, title: &str) -> Result<String, ReportError> {
    let all = sides.iter().flat_map(|s| s.1.iter().copied()).filter(|v| v.is_finite() && *v > 0.0);
    let (lo, hi) = all.fold((f64::INFINITY, 0f64), |(l, h), v| (l.min(v), h.max(v)));
    if !lo.is_finite() {
        return Err(ReportError::Empty("no runs to draw".into()));
    }
    let pad = ((hi - lo) * 0.08).max(hi * 0.005);
    let rows = sides.len();
    svg_chart((900, 120 + 90 * rows as u32), |root| {
        let mut chart = builder(root, title, 18, 40, 110)
            .build_cartesian_2d((lo - pad).max(0.0)..(hi + pad), 0.0..rows as f64)
            .map_err(chart_error)?;
        let names: Vec<String> = sides.iter().map(|s| s.0.to_owned()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(x_desc)
            .y_labels(rows * 2 + 1)
            .y_label_formatter(&|y| {
                let i = (*y - 0.5).round();
                let centred = (y - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len();
                if centred { names[names.len() - 1 - i as usize].clone() } else { String::new() }
            })
            .x_label_formatter(&|x| bench_core::units::duration_short(*x))
            .draw()
            .map_err(chart_error)?;
        for (k, (_, times)) in sides.iter().enumerate() {
            let row = (rows - 1 - k) as f64;
            let colour = Palette99::pick(k).to_rgba();
            let n = times.len().max(2) as f64;
            let dots = times.iter().enumerate().map(|(i, &t)| {
                Circle::new((t, row + 0.15 + 0.7 * i as f64 / (n - 1.0)), 3, colour.mix(0.7).filled())
            });
            chart.draw_series(dots).map_err(chart_error)?;
            if let Some(median) = bench_stats::median(times) {
                let bar =
                    PathElement::new(vec![(median, row + 0.05), (median, row + 0.95)], BLACK.stroke_width(3));
                chart.draw_series(std::iter::once(bar)).map_err(chart_error)?;
            }
        }
        Ok(())
    })
}

/// One recorded series commit by commit: the values as a line with dots, each segment's mean
/// between change points as a flat line, and each change point as a vertical line (green when a
/// paired verdict confirms it, red when one contradicts it, orange without one). `unit` is the
/// series' unit (`ns` is drawn as a duration). Returns the SVG text.
pub fn history_svg(found: &bench_history::SeriesChanges, title: &str) -> Result<String, ReportError> {
    let values: Vec<f64> = found.series.points.iter().map(|p| p.value).collect();
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    if !lo.is_finite() {
        return Err(ReportError::Empty("no recorded point to draw".into()));
    }
    let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.01).max(1e-9);
    let n = values.len();
    let unit = found.series.unit.clone();
    svg_chart((900, 360), |root| {
        let mut chart = builder(root, title, 16, 40, 90)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5).max(0.5), (lo - pad)..(hi + pad))
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .x_desc("commits, oldest first")
            .x_label_formatter(&|x| format!("{}", x.round() as i64 + 1))
            .y_label_formatter(&|y| match unit.as_str() {
                "ns" => bench_core::units::duration_short(*y / 1e9),
                _ => format!("{:.4e}", y),
            })
            .draw()
            .map_err(chart_error)?;
        let line =
            LineSeries::new(values.iter().enumerate().map(|(i, &v)| (i as f64, v)), BLUE.stroke_width(1));
        chart.draw_series(line).map_err(chart_error)?;
        let dots = values.iter().enumerate().map(|(i, &v)| Circle::new((i as f64, v), 3, BLUE.filled()));
        chart.draw_series(dots).map_err(chart_error)?;
        let bounds: Vec<usize> =
            std::iter::once(0).chain(found.changes.iter().map(|c| c.index)).chain([n]).collect();
        for w in bounds.windows(2) {
            let mean = values[w[0]..w[1]].iter().sum::<f64>() / (w[1] - w[0]).max(1) as f64;
            let flat = PathElement::new(
                vec![(w[0] as f64 - 0.4, mean), (w[1] as f64 - 0.6, mean)],
                BLACK.stroke_width(2),
            );
            chart.draw_series(std::iter::once(flat)).map_err(chart_error)?;
        }
        for c in &found.changes {
            let colour = match c.confirmed {
                Some(true) => RGBColor(30, 140, 60),
                Some(false) => RGBColor(200, 40, 30),
                None => RGBColor(230, 140, 0),
            };
            let x = c.index as f64 - 0.5;
            let mark = PathElement::new(vec![(x, lo - pad), (x, hi + pad)], colour.stroke_width(3));
            chart.draw_series(std::iter::once(mark)).map_err(chart_error)?;
        }
        Ok(())
    })
}

/// The canvas every chart is drawn on: a white SVG of `size` pixels, handed to `draw`, then
/// presented; returns the SVG text (one set-up for every chart).
fn svg_chart(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Result<(), ReportError>,
) -> Result<String, ReportError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        draw(&root)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// The house chart layout: `caption` in `caption_px` sans-serif, a 15-px margin, label areas of
/// `x_area` and `y_area` pixels.
fn builder<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    caption: &str,
    caption_px: u32,
    x_area: u32,
    y_area: u32,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut b = ChartBuilder::on(root);
    b.caption(caption, ("sans-serif", caption_px))
        .margin(15)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area);
    b
}

/// The series legend, in the house style (white, translucent, framed).
fn legend<'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> Result<(), ReportError> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(chart_error)
}

/// A plotters failure as a report error (one conversion for every chart).
fn chart_error(e: impl std::fmt::Display) -> ReportError {
    ReportError::Chart(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The heatmap's caption is its only colour scale: a long one widens the chart instead of
    /// being cut at both ends (seen rendered to PNG: "…rch on real data … red 794…" at 500 px).
    #[test]
    fn a_heatmap_is_as_wide_as_its_caption() {
        let cells = [(5, 20, 5136.6817), (10, 20, 79464.8372), (5, 40, 12000.0)];
        let title = "grid search on real data";
        let svg = heatmap_svg(&cells, "fast window", "slow window", "final equity (mean over assets)", title)
            .unwrap();
        let width: f64 =
            svg.split("width=\"").nth(1).and_then(|w| w.split('"').next()).unwrap().parse().unwrap();
        let caption =
            "grid search on real data — final equity (mean over assets): blue 5136.68 … red 79464.84";
        assert!(svg.contains(caption), "{svg}");
        // DejaVu Sans at the caption's 12.9 px averages under 7.5 px a character.
        assert!(
            width >= caption.chars().count() as f64 * 7.5,
            "{width} px for {} characters",
            caption.chars().count()
        );
    }

    /// The legend of a comparison's path sits over its first, widest pairs, not over the last
    /// ones where the decision is made (seen rendered to PNG: it covered pairs 120–160 of 160).
    #[test]
    fn a_path_chart_keeps_its_legend_off_the_decision() {
        let path: Vec<bench_threshold::AdaptivePoint> = (2..=80)
            .step_by(2)
            .map(|p| bench_threshold::AdaptivePoint {
                pairs: p,
                estimate_percent: 2.0,
                lower_percent: Some(2.0 - 40.0 / p as f64),
                upper_percent: Some(2.0 + 40.0 / p as f64),
            })
            .collect();
        let svg = adaptive_path_svg(&path, 5.0, "80 pairs").unwrap();
        let width: f64 =
            svg.split("width=\"").nth(1).and_then(|w| w.split('"').next()).unwrap().parse().unwrap();
        let legend_x: f64 = svg
            .split("<text")
            .find(|t| {
                t.contains(">threshold<")
                    || t.trim_end().ends_with("threshold\n</text>")
                    || t.contains("threshold\n")
            })
            .and_then(|t| t.split("x=\"").nth(1))
            .and_then(|x| x.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(legend_x < width / 3.0, "legend at x = {legend_x} of {width}");
    }
}
