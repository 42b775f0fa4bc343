//! Change points in a noisy series: the E-divisive method of Matteson and James ("A
//! Nonparametric Approach for Multiple Change Point Analysis of Multivariate Data", 2014) with
//! the split-and-merge procedure and Student's t-test of Hunter (Fleming et al., "Hunter: Using
//! Change Point Detection to Hunt for Performance Regressions", ICPE 2023), as Apache Otava runs
//! them, so that the same series gives the same change points (checked against `apache-otava`
//! 0.8.0 on committed series, `tests/golden/otava_*.json`).
//!
//! 1. **Split**: windows of `window` points, half a window apart (the next window starts at the
//!    last change point found, if later). In each window the point `τ` that maximises the energy
//!    statistic `Q̂(X, Y)` between `X = x[s..τ)` and `Y = x[τ..κ)` over every `κ` is a candidate;
//!    it is kept when the two-sided t-test between its neighbouring segments gives
//!    `p ≤ 10 × max_p` (weak change points), and the search goes on in every segment until a
//!    candidate is not kept.
//! 2. **Merge**: while some change point has `p ≥ max_p`, or the smallest relative change is at
//!    most `min_magnitude`, the weakest is removed and its neighbours' tests recomputed.
//!
//! `Q̂(X, Y) = 2/(m+n)·Σ|Xᵢ−Yⱼ| − 2m/((m+n)(n−1))·Σᵢ<ₖ|Xᵢ−Xₖ| − 2n/((m+n)(m−1))·Σⱼ<ₖ|Yⱼ−Yₖ|`
//! for `n = |X|`, `m = |Y|` (a term whose segment has one point is 0). The t-test is Student's
//! with pooled variance of the segments' population standard deviations (Otava's choice).

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// How [`change_points`] searches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectOptions {
    /// Points per window of the split step (Otava's default 50; at least 2).
    pub window: usize,
    /// The significance level a change point must reach (Otava's default 0.001).
    pub max_p: f64,
    /// The smallest relative change kept, as a fraction (0.05 = 5%; Otava's default 0).
    pub min_magnitude: f64,
}

impl Default for DetectOptions {
    fn default() -> Self {
        Self { window: 50, max_p: 0.001, min_magnitude: 0.0 }
    }
}

/// A change point: the first point of the new level, with the test between the segments on
/// either side of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangePoint {
    /// Index of the first point after the change.
    pub index: usize,
    /// Two-sided p-value of Student's t-test between the neighbouring segments.
    pub p_value: f64,
    /// Mean of the segment before.
    pub mean_before: f64,
    /// Mean of the segment after.
    pub mean_after: f64,
    /// Population standard deviation of the segment before.
    pub sd_before: f64,
    /// Population standard deviation of the segment after.
    pub sd_after: f64,
}

impl ChangePoint {
    /// `(after / before − 1) × 100`: the change in percent (0 when the mean before is 0).
    pub fn change_percent(&self) -> f64 {
        if self.mean_before == 0.0 { 0.0 } else { (self.mean_after / self.mean_before - 1.0) * 100.0 }
    }

    /// The larger of the relative changes forward and backward, as a fraction.
    pub fn magnitude(&self) -> f64 {
        let rel = |a: f64, b: f64| if a == 0.0 { 0.0 } else { b / a - 1.0 };
        rel(self.mean_before, self.mean_after).abs().max(rel(self.mean_after, self.mean_before).abs())
    }
}

/// The change points of `series` (in order of index).
///
/// ```
/// use bench_history::{DetectOptions, change_points};
/// // 40 points around 100, then 40 around 120: one change, at index 40.
/// let series: Vec<f64> = (0..80).map(|i| if i < 40 { 100.0 } else { 120.0 } + [0.5, -0.3, 0.2, -0.4][i % 4]).collect();
/// let found = change_points(&series, &DetectOptions::default());
/// assert_eq!(found.iter().map(|c| c.index).collect::<Vec<_>>(), [40]);
/// assert!((found[0].change_percent() - 20.0).abs() < 0.5);
/// ```
pub fn change_points(series: &[f64], options: &DetectOptions) -> Vec<ChangePoint> {
    merge(weak_change_points(series, options), series, options.max_p, options.min_magnitude)
}

/// The split step alone: the weak change points, found at the first-pass level (10 × `max_p`
/// below 0.05, 2 × below 0.5), each tested between its neighbours; [`change_points`] keeps those
/// that survive the merge.
pub fn weak_change_points(series: &[f64], options: &DetectOptions) -> Vec<ChangePoint> {
    if series.len() < 2 {
        return Vec::new();
    }
    let max_p = options.max_p;
    let first_pass = if max_p < 0.05 {
        max_p * 10.0
    } else if max_p < 0.5 {
        max_p * 2.0
    } else {
        max_p
    };
    split(series, options.window.max(2), first_pass)
}

/// The split step: weak change points, each tested between its neighbours over the whole series.
fn split(series: &[f64], window: usize, max_p: f64) -> Vec<ChangePoint> {
    let step = window / 2;
    let mut found: Vec<usize> = Vec::new();
    let mut start = 0;
    while start < series.len() {
        let end = (start + window).min(series.len());
        let local = detect_window(&series[start..end], max_p);
        let last = local.last().map_or(0, |&i| i + start);
        for i in local {
            if !found.contains(&(i + start)) {
                found.push(i + start);
            }
        }
        start = last.max(start + step.max(1));
    }
    found.sort_unstable();
    retest(&found, series)
}

/// E-divisive within one window: candidates kept while their t-test passes `max_p`; indices
/// local to the window, in order.
fn detect_window(x: &[f64], max_p: f64) -> Vec<usize> {
    let mut points: Vec<usize> = Vec::new();
    loop {
        let intervals = intervals(&points, x.len());
        let best = intervals.iter().filter(|&&(s, e)| e - s > 1).map(|&(s, e)| candidate(x, s, e)).fold(
            None,
            |best: Option<(usize, f64)>, c| match best {
                Some(b) if b.1 >= c.1 => Some(b),
                _ => Some(c),
            },
        );
        let Some((index, _)) = best else { break };
        let Some(&(s, e)) = intervals.iter().find(|&&(s, e)| s < index && index < e) else { break };
        let t = t_test(&x[s..index], &x[index..e]);
        if t.p_value <= max_p {
            points.push(index);
            points.sort_unstable();
        } else {
            break;
        }
    }
    points
}

/// The segments between sorted change points, as `(start, end)`.
fn intervals(points: &[usize], n: usize) -> Vec<(usize, usize)> {
    let mut edges = vec![0];
    edges.extend_from_slice(points);
    edges.push(n);
    edges.windows(2).map(|w| (w[0], w[1])).filter(|(s, e)| s != e).collect()
}

/// The candidate of `x[s..e)`: the `τ` (and its `Q̂`) of the largest `Q̂(x[s..τ), x[τ..κ))` over
/// `s < τ < κ ≤ e`, the first in (τ, κ) order on a tie — and, as in Otava's matrix of `Q̂`
/// values where the pairs κ ≤ τ hold 0, a 0 wins over negative values at the first such cell.
fn candidate(x: &[f64], s: usize, e: usize) -> (usize, f64) {
    let d = |i: usize, j: usize| (x[i] - x[j]).abs();
    let size = e - 1 - s;
    let mut best = (s + 1, f64::NEG_INFINITY);
    let mut within_x = 0.0;
    for row in 0..size {
        let tau = s + 1 + row;
        // Σ over pairs within x[s..τ): add the new point τ − 1 against the ones before it.
        within_x += (s..tau - 1).map(|i| d(i, tau - 1)).sum::<f64>();
        let n = (tau - s) as f64;
        let (mut cross, mut within_y) = (0.0, 0.0);
        for col in 0..size {
            let kappa = s + 2 + col;
            let q = if kappa <= tau {
                0.0
            } else {
                // Y grows by the point κ − 1.
                let new = kappa - 1;
                cross += (s..tau).map(|i| d(i, new)).sum::<f64>();
                within_y += (tau..new).map(|j| d(j, new)).sum::<f64>();
                let m = (kappa - tau) as f64;
                let a = 2.0 / (m + n) * cross;
                let b = if n > 1.0 { 2.0 * m / ((m + n) * (n - 1.0)) * within_x } else { 0.0 };
                let c = if m > 1.0 { 2.0 * n / ((m + n) * (m - 1.0)) * within_y } else { 0.0 };
                a - b - c
            };
            if q > best.1 {
                best = (tau, q);
            }
        }
    }
    best
}

/// Each of `points` (sorted) tested between its neighbouring segments of `series`.
fn retest(points: &[usize], series: &[f64]) -> Vec<ChangePoint> {
    let mut edges = vec![0];
    edges.extend_from_slice(points);
    edges.push(series.len());
    edges.windows(3).map(|w| t_test(&series[w[0]..w[1]], &series[w[1]..w[2]]).at(w[1])).collect()
}

/// The merge step. After a removal both neighbours of the removed point are tested again (their
/// segments changed); Otava 0.8.0 re-tests the right neighbour and the point after it instead,
/// leaving the left neighbour's test stale.
fn merge(mut points: Vec<ChangePoint>, series: &[f64], max_p: f64, min_magnitude: f64) -> Vec<ChangePoint> {
    while !points.is_empty() {
        // The weakest: the largest p-value (the first on a tie); when every p passes, the
        // smallest change, kept only if it is larger than the minimum.
        let mut weakest = 0;
        for (i, c) in points.iter().enumerate() {
            if c.p_value > points[weakest].p_value {
                weakest = i;
            }
        }
        if points[weakest].p_value < max_p {
            weakest = 0;
            for (i, c) in points.iter().enumerate() {
                if c.magnitude() < points[weakest].magnitude() {
                    weakest = i;
                }
            }
            if points[weakest].magnitude() > min_magnitude {
                return points;
            }
        }
        points.remove(weakest);
        let indices: Vec<usize> = points.iter().map(|c| c.index).collect();
        let fresh = retest(&indices, series);
        for j in [weakest.checked_sub(1), Some(weakest)].into_iter().flatten() {
            if j < points.len() {
                points[j] = fresh[j].clone();
            }
        }
    }
    points
}

/// Student's two-sample t-test (pooled variance) on the population standard deviations.
struct TTest {
    p_value: f64,
    means: (f64, f64),
    sds: (f64, f64),
}

impl TTest {
    fn at(self, index: usize) -> ChangePoint {
        ChangePoint {
            index,
            p_value: self.p_value,
            mean_before: self.means.0,
            mean_after: self.means.1,
            sd_before: self.sds.0,
            sd_after: self.sds.1,
        }
    }
}

fn t_test(left: &[f64], right: &[f64]) -> TTest {
    let stats = |v: &[f64]| {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd =
            if v.len() >= 2 { (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt() } else { 0.0 };
        (mean, sd, n)
    };
    let ((m1, s1, n1), (m2, s2, n2)) = (stats(left), stats(right));
    let p_value = if n1 + n2 > 2.0 {
        let df = n1 + n2 - 2.0;
        let pooled = ((n1 - 1.0) * s1 * s1 + (n2 - 1.0) * s2 * s2) / df;
        let t = (m1 - m2) / (pooled * (1.0 / n1 + 1.0 / n2)).sqrt();
        if t.is_nan() {
            f64::NAN
        } else if t.is_infinite() {
            0.0
        } else {
            StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |d| 2.0 * d.sf(t.abs()))
        }
    } else {
        1.0
    };
    TTest { p_value, means: (m1, m2), sds: (s1, s2) }
}
