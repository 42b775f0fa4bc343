//! BOHB's model (Falkner, Klein & Hutter, ICML 2018, §3; HpBandSter's defaults): per budget, the
//! evaluated configurations (in the unit cube) split into the best `top_n_percent` ("good") and
//! the rest ("bad"), each modelled by a product Gaussian KDE with the normal-reference bandwidth
//! `1.06 · σ · n^(−1/(4 + d))` (σ with ddof 0, floored at `min_bandwidth`). A new configuration
//! is, with probability `random_fraction` or while no model exists, drawn uniformly; otherwise
//! `num_samples` candidates are drawn around random "good" points (each coordinate from a normal
//! of `bandwidth_factor` × its bandwidth, truncated to [0, 1]) and the one minimising
//! `g(x) / l(x)` is taken — evaluated at the centre of the configuration a candidate falls on (an
//! integer configuration owns a cell of the unit cube), so each configuration is scored once per
//! model. Models are fitted on each budget with more than `min_points_in_model`
//! observations, and proposals come from the largest budget that has one; once a model exists
//! for a budget, observations at smaller budgets are no longer recorded. Unlike HpBandSter, a
//! model is refitted once its budget's observations grew by `REFIT_GROWTH` (not after every
//! result), and its densities are tabled on the space's cells (`GridKde`): both measured in
//! `docs/methodology.md`.

use std::collections::BTreeMap;

use bench_core::SplitMix64;
use statrs::distribution::{ContinuousCDF, Normal};

use crate::{Config, Space};

/// BOHB's settings (HpBandSter's defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct BohbSettings {
    /// Share of the observations, in percent, that model the good configurations.
    pub top_n_percent: usize,
    /// Fewest observations a budget needs before its model is fitted (default: parameters + 1).
    pub min_points_in_model: Option<usize>,
    /// Candidates drawn per proposal.
    pub num_samples: usize,
    /// Share of proposals drawn uniformly at random.
    pub random_fraction: f64,
    /// Widening of the good density's bandwidth when drawing candidates.
    pub bandwidth_factor: f64,
    /// Smallest bandwidth.
    pub min_bandwidth: f64,
}

impl Default for BohbSettings {
    fn default() -> Self {
        Self {
            top_n_percent: 15,
            min_points_in_model: None,
            num_samples: 64,
            random_fraction: 1.0 / 3.0,
            bandwidth_factor: 3.0,
            min_bandwidth: 1e-3,
        }
    }
}

/// A product Gaussian KDE on the unit cube. Repeated observations of one configuration are held
/// once with a weight (the density, its bandwidth and draws from it are exactly those of the
/// list with the repeats), so the model's cost grows with distinct configurations, not trials.
#[derive(Debug, Clone)]
struct Kde {
    /// Distinct points, `d` coordinates each, back to back.
    points: Vec<f64>,
    /// How many observations each point stands for.
    weights: Vec<u32>,
    /// Total weight (the number of observations).
    n: u64,
    d: usize,
    bw: Vec<f64>,
}

impl Kde {
    fn fit(data: &[&[f64]], min_bandwidth: f64) -> Self {
        let d = data[0].len();
        let mut order: Vec<usize> = (0..data.len()).collect();
        order.sort_by(|&a, &b| {
            data[a]
                .iter()
                .zip(data[b])
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let (mut points, mut weights) = (Vec::new(), Vec::new());
        for &i in &order {
            let same = !weights.is_empty() && points[points.len() - d..] == *data[i];
            if same {
                *weights.last_mut().expect("a point") += 1;
            } else {
                points.extend_from_slice(data[i]);
                weights.push(1u32);
            }
        }
        let n = data.len() as f64;
        let bw = (0..d)
            .map(|j| {
                let mean = data.iter().map(|x| x[j]).sum::<f64>() / n;
                let var = data.iter().map(|x| (x[j] - mean).powi(2)).sum::<f64>() / n;
                (1.06 * var.sqrt() * n.powf(-1.0 / (4.0 + d as f64))).max(min_bandwidth)
            })
            .collect();
        Self { points, weights, n: data.len() as u64, d, bw }
    }

    /// The density at `x` (what [`GridKde::pdf`] tables at the cells' centres).
    #[cfg(test)]
    fn pdf(&self, x: &[f64]) -> f64 {
        let inv: Vec<f64> = self.bw.iter().map(|b| 1.0 / b).collect();
        // Π_d φ(z_d) / b_d = exp(−½ Σ z_d²) / ((2π)^(d/2) Π b_d)
        let norm: f64 = inv.iter().product::<f64>() / (2.0 * std::f64::consts::PI).powf(self.d as f64 / 2.0);
        let mut sum = 0.0;
        for (p, &w) in self.points.chunks_exact(self.d).zip(&self.weights) {
            let q: f64 = p.iter().zip(x).zip(&inv).map(|((m, v), i)| ((v - m) * i).powi(2)).sum();
            sum += f64::from(w) * (-0.5 * q).exp();
        }
        sum * norm / self.n as f64
    }

    /// The `k`-th observation (0 ≤ k < n) in the fitted order, as HpBandSter draws a random
    /// index into its data.
    #[cfg(test)]
    fn observation(&self, mut k: u64) -> &[f64] {
        for (i, &w) in self.weights.iter().enumerate() {
            if k < u64::from(w) {
                return &self.points[i * self.d..(i + 1) * self.d];
            }
            k -= u64::from(w);
        }
        &self.points[self.points.len() - self.d..]
    }
}

/// A [`Kde`] evaluated only at the centres of an integer space's cells — where BOHB scores
/// its candidates, and where its observations lie. The distance between two centres along a
/// dimension of `k` values is a whole number of cells, so each kernel factor is one of `k`
/// values, tabled once per fit: the density is then a sum of products of table entries, with
/// no `exp` per point per candidate (which was half of a BOHB search's CPU). It equals
/// `Kde::pdf` at the centres to rounding (a product of exponentials against the exponential
/// of a sum).
#[derive(Debug, Clone)]
struct GridKde {
    /// Per dimension, `exp(−½ (δ / (k · b))²)` for a distance of `δ` cells.
    kernel: Vec<Vec<f64>>,
    /// The points' cell indices, `d` per point, back to back.
    cells: Vec<usize>,
    weights: Vec<f64>,
    /// `1 / ((2π)^(d/2) Π b · n)`.
    scale: f64,
    d: usize,
}

impl GridKde {
    /// `kde` on a space whose dimension `j` has `sizes[j]` values.
    fn new(kde: &Kde, sizes: &[usize]) -> Self {
        let d = kde.d;
        let kernel = (0..d)
            .map(|j| {
                let k = sizes[j] as f64;
                (0..sizes[j]).map(|delta| (-0.5 * (delta as f64 / (k * kde.bw[j])).powi(2)).exp()).collect()
            })
            .collect();
        let cells =
            kde.points.chunks_exact(d).flat_map(|p| p.iter().zip(sizes).map(|(&u, &k)| cell(u, k))).collect();
        let norm: f64 = kde.bw.iter().map(|b| 1.0 / b).product::<f64>()
            / (2.0 * std::f64::consts::PI).powf(d as f64 / 2.0);
        Self {
            kernel,
            cells,
            weights: kde.weights.iter().map(|&w| f64::from(w)).collect(),
            scale: norm / kde.n as f64,
            d,
        }
    }

    /// The density at the centre of the cell with indices `at`.
    fn pdf(&self, at: &[usize]) -> f64 {
        let mut sum = 0.0;
        for (p, &w) in self.cells.chunks_exact(self.d).zip(&self.weights) {
            let mut product = w;
            for ((&i, &j), table) in at.iter().zip(p).zip(&self.kernel) {
                product *= table[i.abs_diff(j)];
            }
            sum += product;
        }
        sum * self.scale
    }
}

/// What drawing candidates around the good density's observations needs, computed once per
/// model: the cumulative weights (to find the `k`-th observation by bisection, as
/// `Kde::observation` does by a scan), the widened bandwidths, and each point's truncation
/// bounds — the standard normal CDF at 0 and 1 in its units — so a candidate costs one inverse
/// CDF per dimension instead of three normal functions.
#[derive(Debug, Clone)]
struct Draws {
    cumulative: Vec<u64>,
    bw: Vec<f64>,
    /// `(Φ((0 − m)/b), Φ((1 − m)/b))` per point and dimension, back to back.
    bounds: Vec<(f64, f64)>,
}

impl Draws {
    fn new(good: &Kde, factor: f64, min_bw: f64) -> Self {
        let unit = Normal::standard();
        let bw: Vec<f64> = good.bw.iter().map(|&b| factor * b.max(min_bw)).collect();
        let cumulative = good
            .weights
            .iter()
            .scan(0u64, |sum, &w| {
                *sum += u64::from(w);
                Some(*sum)
            })
            .collect();
        let bounds = good
            .points
            .chunks_exact(good.d)
            .flat_map(|p| {
                p.iter().zip(&bw).map(|(&m, &b)| (unit.cdf((0.0 - m) / b), unit.cdf((1.0 - m) / b)))
            })
            .collect::<Vec<_>>();
        Self { cumulative, bw, bounds }
    }

    /// The point the `k`-th observation (0 ≤ k < n, in the fitted order) stands at.
    fn point(&self, k: u64) -> usize {
        self.cumulative.partition_point(|&c| c <= k).min(self.cumulative.len() - 1)
    }
}

/// The index of the cell of `k` whose share of the unit interval holds `u`.
fn cell(u: f64, k: usize) -> usize {
    ((u.clamp(0.0, 1.0) * k as f64) as usize).min(k - 1)
}

/// The good and bad densities of one budget.
#[derive(Debug, Clone)]
struct Pair {
    good: Kde,
    bad: Kde,
}

/// Observations and models per budget. A budget's model is fitted when a proposal needs it (the
/// same model HpBandSter refits after every result, since it depends only on the observations).
#[derive(Debug, Clone)]
pub(crate) struct Model {
    settings: BohbSettings,
    min_points: usize,
    dims: usize,
    observed: BTreeMap<u64, Vec<(Vec<f64>, f64)>>,
    /// The model of a budget, with the observation count it was fitted on.
    fitted: BTreeMap<u64, (usize, std::sync::Arc<Pair>)>,
    /// g/l of configurations under the current model (cleared when it is refitted).
    ratios: std::collections::HashMap<Config, f64>,
    /// The current model tabled on the space's cells, and its draws (built at its first
    /// proposal).
    on_grid: Option<std::sync::Arc<(GridKde, GridKde, Draws)>>,
}

/// Growth of a budget's observations, as a share of those of its current model, that refits it.
pub(crate) const REFIT_GROWTH: f64 = 0.05;

fn budget_key(fidelity: f64) -> u64 {
    fidelity.to_bits()
}

impl Model {
    pub(crate) fn new(settings: BohbSettings, dims: usize) -> Self {
        let min_points = settings.min_points_in_model.unwrap_or(dims + 1).max(dims + 1);
        Self {
            settings,
            min_points,
            dims,
            observed: BTreeMap::new(),
            fitted: BTreeMap::new(),
            ratios: std::collections::HashMap::new(),
            on_grid: None,
        }
    }

    fn split(&self, n: usize) -> (usize, usize) {
        let n_good = self.min_points.max(self.settings.top_n_percent * n / 100);
        let n_bad = self.min_points.max((100 - self.settings.top_n_percent) * n / 100);
        (n_good, n_bad)
    }

    /// Whether `n` observations make a model: enough points, and more than `d` on each side.
    fn fittable(&self, n: usize) -> bool {
        let (n_good, n_bad) = self.split(n);
        n >= self.min_points && n_good.min(n) > self.dims && n_bad.min(n.saturating_sub(n_good)) > self.dims
    }

    /// Records `score` of `config` at `fidelity`.
    pub(crate) fn observe(&mut self, space: &Space, config: &Config, fidelity: f64, score: f64) {
        let key = budget_key(fidelity);
        // Positive floats order like their bit patterns. Once a larger budget has a model,
        // smaller budgets are no longer recorded.
        let bigger_model = self.observed.range(key + 1..).any(|(_, v)| self.fittable(v.len()));
        if bigger_model {
            return;
        }
        let points = self.observed.entry(key).or_default();
        points.push((space.to_unit(config), if score.is_nan() { f64::NEG_INFINITY } else { score }));
    }

    /// The model of the largest budget that has one, fitted on all its observations.
    fn model(&mut self) -> Option<std::sync::Arc<Pair>> {
        let (&key, points) = self.observed.iter().rev().find(|(_, v)| self.fittable(v.len()))?;
        let n = points.len();
        // Refitted once the budget's observations grew by REFIT_GROWTH since the last fit (every
        // new one while there are fewer than 1/REFIT_GROWTH): HpBandSter refits after every
        // result, which made the model 70% of a search's CPU once backtests were cheap.
        let stale =
            self.fitted.get(&key).is_none_or(|(m, _)| n >= m + ((*m as f64 * REFIT_GROWTH) as usize).max(1));
        if stale {
            self.ratios.clear();
            self.on_grid = None;
            let (n_good, n_bad) = self.split(n);
            let mut order: Vec<usize> = (0..n).collect();
            // Best first (HpBandSter sorts losses ascending; scores here are higher-is-better).
            order.sort_by(|&a, &b| points[b].1.total_cmp(&points[a].1).then(a.cmp(&b)));
            let good: Vec<&[f64]> = order.iter().take(n_good).map(|&i| points[i].0.as_slice()).collect();
            let bad: Vec<&[f64]> =
                order.iter().skip(n_good).take(n_bad).map(|&i| points[i].0.as_slice()).collect();
            let min_bw = self.settings.min_bandwidth;
            let pair = Pair { good: Kde::fit(&good, min_bw), bad: Kde::fit(&bad, min_bw) };
            self.fitted.insert(key, (n, std::sync::Arc::new(pair)));
        }
        self.fitted.get(&key).map(|(_, p)| std::sync::Arc::clone(p))
    }

    /// A configuration to evaluate next, and whether the model proposed it.
    pub(crate) fn propose(&mut self, space: &Space, rng: &mut SplitMix64) -> (Config, bool) {
        let (num_samples, random_fraction, factor, min_bw) = (
            self.settings.num_samples,
            self.settings.random_fraction,
            self.settings.bandwidth_factor,
            self.settings.min_bandwidth,
        );
        let Some(pair) = self.model() else { return (space.sample(rng), false) };
        if rng.unit() < random_fraction {
            return (space.sample(rng), false);
        }
        let mut ratios = std::mem::take(&mut self.ratios);
        let sizes: Vec<usize> = space.params.iter().map(|p| p.len() as usize).collect();
        let on_grid = std::sync::Arc::clone(self.on_grid.get_or_insert_with(|| {
            std::sync::Arc::new((
                GridKde::new(&pair.good, &sizes),
                GridKde::new(&pair.bad, &sizes),
                Draws::new(&pair.good, factor, min_bw),
            ))
        }));
        let draws = &on_grid.2;
        let d = pair.good.d;
        let unit = Normal::standard();
        let mut best: Option<(f64, Config)> = None;
        for _ in 0..num_samples {
            let i = draws.point(rng.below(pair.good.n as usize) as u64);
            let datum = &pair.good.points[i * d..(i + 1) * d];
            let x: Vec<f64> = datum
                .iter()
                .zip(&draws.bw)
                .zip(&draws.bounds[i * d..(i + 1) * d])
                .map(|((&m, &bw), &(lo, hi))| {
                    // Truncated normal on [0, 1] by inversion: a uniform draw between the CDF's
                    // values at the bounds.
                    let u = lo + (hi - lo) * rng.unit();
                    (m + bw * unit.inverse_cdf(u.clamp(1e-300, 1.0 - 1e-16))).clamp(0.0, 1.0)
                })
                .collect();
            let Some(c) = space.from_unit(&x) else { continue };
            // The ratio is taken where the configuration sits (the centre of its values' shares),
            // so a configuration drawn again under the same model is not scored again.
            let ratio = *ratios.entry(c.clone()).or_insert_with(|| {
                let (good, bad, _) = &*on_grid;
                let at: Vec<usize> =
                    space.to_unit(&c).iter().zip(&sizes).map(|(&u, &k)| cell(u, k)).collect();
                bad.pdf(&at).max(1e-32) / good.pdf(&at).max(1e-32)
            });
            if ratio.is_finite() && best.as_ref().is_none_or(|(b, _)| ratio < *b) {
                best = Some((ratio, c));
            }
        }
        self.ratios = ratios;
        match best {
            Some((_, c)) => (c, true),
            None => (space.sample(rng), false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IntParam;
    use statrs::distribution::Continuous;

    #[test]
    fn the_bandwidth_is_the_normal_reference_rule() {
        let data: Vec<&[f64]> = vec![&[0.1], &[0.2], &[0.3], &[0.4]];
        let k = Kde::fit(&data, 1e-3);
        // σ (ddof 0) of 0.1…0.4 is √0.0125; n^(−1/5) for n = 4, d = 1.
        let expected = 1.06 * 0.0125f64.sqrt() * 4f64.powf(-0.2);
        assert!((k.bw[0] - expected).abs() < 1e-12);
        // The density integrates to about 1 over the real line (a fine Riemann sum).
        let total: f64 = (-2000..3000).map(|i| k.pdf(&[f64::from(i) / 1000.0]) / 1000.0).sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
    }

    /// The tabled density is the exponential one at every cell centre of a 2-D space.
    #[test]
    fn the_grid_density_is_the_density_at_cell_centres() {
        let sizes = [7usize, 11];
        let centre = |i: usize, k: usize| (i as f64 + 0.5) / k as f64;
        let data: Vec<Vec<f64>> = [(0, 3), (2, 9), (2, 9), (6, 0), (4, 5)]
            .iter()
            .map(|&(i, j)| vec![centre(i, 7), centre(j, 11)])
            .collect();
        let refs: Vec<&[f64]> = data.iter().map(Vec::as_slice).collect();
        for min_bw in [1e-3, 0.05, 0.5] {
            let k = Kde::fit(&refs, min_bw);
            let g = GridKde::new(&k, &sizes);
            for i in 0..7 {
                for j in 0..11 {
                    let (exact, tabled) = (k.pdf(&[centre(i, 7), centre(j, 11)]), g.pdf(&[i, j]));
                    assert!(
                        (exact - tabled).abs() <= 1e-12 * exact.max(1e-300),
                        "({i}, {j}): {exact} vs {tabled}"
                    );
                }
            }
        }
        assert_eq!((cell(0.0, 7), cell(1.0, 7), cell(centre(3, 7), 7)), (0, 6, 3));
    }

    #[test]
    fn repeated_observations_weigh_as_the_list_with_the_repeats() {
        let data: Vec<&[f64]> = vec![&[0.2, 0.5], &[0.7, 0.1], &[0.2, 0.5], &[0.9, 0.9], &[0.2, 0.5]];
        let k = Kde::fit(&data, 1e-3);
        assert_eq!((k.weights.len(), k.n), (3, 5));
        // The density of the plain list: (1/n) Σ_i Π_d φ((x − x_i)/b)/b.
        let x = [0.3, 0.4];
        let unit = Normal::standard();
        let plain: f64 = data
            .iter()
            .map(|p| {
                p.iter().zip(&x).zip(&k.bw).map(|((m, v), b)| unit.pdf((v - m) / b) / b).product::<f64>()
            })
            .sum::<f64>()
            / 5.0;
        assert!((k.pdf(&x) - plain).abs() < 1e-12 * plain, "{} vs {plain}", k.pdf(&x));
        let drawn: Vec<&[f64]> = (0..5).map(|i| k.observation(i)).collect();
        assert_eq!(drawn.iter().filter(|p| **p == [0.2, 0.5]).count(), 3);
        // The draws' bisection finds the same point as the scan, for every k.
        let draws = Draws::new(&k, 3.0, 1e-3);
        for i in 0..5 {
            let p = draws.point(i);
            assert_eq!(&k.points[p * 2..p * 2 + 2], k.observation(i), "k = {i}");
        }
    }

    #[test]
    fn proposals_concentrate_where_the_good_points_are() {
        let space = Space::new(vec![IntParam::new("x", 0, 99, 1).unwrap()]);
        let mut m = Model::new(BohbSettings { random_fraction: 0.0, ..BohbSettings::default() }, 1);
        for v in 0..100 {
            // The best scores are near 80.
            m.observe(&space, &vec![v], 1.0, -((v - 80) as f64).abs());
        }
        let mut rng = SplitMix64::new(3);
        let near = (0..200).filter(|_| (m.propose(&space, &mut rng).0[0] - 80).abs() <= 10).count();
        assert!(near > 150, "{near} of 200 proposals within 10 of the optimum");
    }
}
