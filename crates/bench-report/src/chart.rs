//! The SVG chart of run times (plotters, SVG backend: no fonts or native libraries needed).

use plotters::prelude::*;

use crate::ReportError;
use crate::performance::TimingPoint;

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
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| ReportError::Chart(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(190)
            .build_cartesian_2d((lo..hi).log_scale(), 0.0..n as f64)
            .map_err(|e| ReportError::Chart(e.to_string()))?;
        let labels: Vec<String> = points.iter().map(|p| p.label.clone()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("mean wall time per run (s, log scale), whiskers: 95% CI")
            .y_labels(n * 2 + 1)
            .y_label_formatter(&|y| {
                let i = (*y - 0.5).round();
                if (y - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                    labels[n - 1 - i as usize].clone()
                } else {
                    String::new()
                }
            })
            .x_label_formatter(&|x| format!("{x:.1e}"))
            .draw()
            .map_err(|e| ReportError::Chart(e.to_string()))?;
        for (k, p) in points.iter().enumerate() {
            let y = (n - 1 - k) as f64;
            let colour = if k == 0 { RGBColor(150, 150, 150) } else { RGBColor(60, 120, 200) };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(lo, y + 0.2), (f(p.mean_s), y + 0.8)],
                    colour.filled(),
                )))
                .map_err(|e| ReportError::Chart(e.to_string()))?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(f(p.ci_95[0]), y + 0.5), (f(p.ci_95[1]), y + 0.5)],
                    BLACK.stroke_width(2),
                )))
                .map_err(|e| ReportError::Chart(e.to_string()))?;
            for x in [f(p.ci_95[0]), f(p.ci_95[1])] {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x, y + 0.35), (x, y + 0.65)],
                        BLACK.stroke_width(2),
                    )))
                    .map_err(|e| ReportError::Chart(e.to_string()))?;
            }
        }
        root.present().map_err(|e| ReportError::Chart(e.to_string()))?;
    }
    Ok(svg)
}
