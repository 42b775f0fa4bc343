//! BOHB's model (Falkner, Klein & Hutter, ICML 2018, §3; HpBandSter's defaults but for the number
//! of candidates and the skip of evaluated cells, [`BohbSettings`]): per budget, the
//! evaluated configurations (in the unit cube) split into the best `top_n_percent` ("good") and
//! the rest ("bad"), each modelled by a product Gaussian KDE with the normal-reference bandwidth
//! `1.06 · σ · n^(−1/(4 + d))` (σ with ddof 0, floored at `min_bandwidth`). A new configuration
//! is, with probability `random_fraction` or while no model exists, drawn uniformly; otherwise
//! `num_samples` candidates are drawn around random "good" points (each coordinate from a normal
//! of `bandwidth_factor` × its bandwidth, truncated to [0, 1]) and the one minimising
//! `g(x) / l(x)` is taken — evaluated at the centre of the configuration a candidate falls on (an
//! integer configuration owns a cell of the unit cube), so each configuration is scored once per
//! model; with `skip_evaluated`, candidates already evaluated or proposed at the bracket's first
//! fidelity or above are passed over. Models are fitted on each budget with more than `min_points_in_model`
//! observations, and proposals come from the largest budget that has one; once a model exists
//! for a budget, observations at smaller budgets are no longer recorded. Unlike HpBandSter, a
//! model is refitted once its budget's observations grew by `REFIT_GROWTH` (not after every
//! result), and its densities are tabled on the space's cells (`GridKde`): both measured in
//! `docs/methodology.md`.

use std::collections::BTreeMap;

use bench_core::SplitMix64;
use statrs::distribution::{ContinuousCDF, Normal};

use crate::{Config, Space};

/// BOHB's settings: HpBandSter's defaults ([`BohbSettings::hpbandster`]) but for two things.
/// 24 candidates per proposal (Optuna's TPE draws as many), not 64: the best of 64 under `g/l`
/// is greedier, and costs the model 2.7 times the draws. And candidates already evaluated at the
/// bracket's first fidelity are skipped ([`BohbSettings::skip_evaluated`]): the best candidate is
/// often a good point's own cell, which the cache answers at no cost and no information, so a
/// bracket filled with repeats. Over 20 seeds, in 36 cases (budgets 1/5, 1/10, 1/20 of the
/// grid × four objectives on the bundled data's full and stepped spaces and on a derived series,
/// table in `docs/methodology.md`, example `bohb_settings`), the defaults found a better median
/// pair than HpBandSter's settings in 28, an equal one in 5 and a worse one in 3.
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
    /// Skip candidates already evaluated, or proposed, at the bracket's first fidelity or
    /// above: the cache would answer them at no cost and the bracket would lose a slot. The
    /// model's best candidate is often a good point's own cell, so without this a bracket fills
    /// with repeats (HpBandSter does not skip them; on by default).
    pub skip_evaluated: bool,
}

impl Default for BohbSettings {
    fn default() -> Self {
        Self { num_samples: 24, skip_evaluated: true, ..Self::hpbandster() }
    }
}

impl BohbSettings {
    /// HpBandSter 0.7.4's defaults (`hpbandster.optimizers.BOHB`), 64 candidates per proposal:
    /// what the comparison with HpBandSter itself runs.
    pub fn hpbandster() -> Self {
        Self {
            top_n_percent: 15,
            min_points_in_model: None,
            num_samples: 64,
            random_fraction: 1.0 / 3.0,
            bandwidth_factor: 3.0,
            min_bandwidth: 1e-3,
            skip_evaluated: false,
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
        // Points that compare equal are the same point, so their order does not matter.
        order.sort_unstable_by(|&a, &b| {
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
/// model: the point of each observation (to find the `k`-th one, as `Kde::observation` does by a
/// scan) and per dimension the
/// cumulative distribution of the cell a draw lands in. A point sits at its cell's centre, so a
/// draw `m + b·z` from the widened normal (`b` = factor × bandwidth) lands `δ` cells away with a
/// probability that does not depend on the cell: `P(offset ≤ δ) = Φ((δ + ½) / (k·b))` on a
/// dimension of `k` cells. Truncating the normal to [0, 1] keeps the offsets that stay in the
/// space, so a draw is one uniform number inverted on that table's slice — the same cell the
/// continuous truncated normal gives, with no inverse CDF per candidate (which was a quarter of
/// the model's time).
#[derive(Debug, Clone)]
struct Draws {
    /// The point of each observation, in the fitted order.
    of_observation: Vec<u32>,
    /// Per dimension of `k` cells: `Φ((δ + ½) / (k·b))` for `δ = −k … k − 1` (index `δ + k`).
    offsets: Vec<Vec<f64>>,
    /// Per dimension, a guide into `offsets`: entry `i` is the first index whose value exceeds
    /// `i / len`, where the search for a value in `[i / len, (i + 1) / len)` starts — about one
    /// step instead of a bisection (which was most of a candidate's cost).
    guides: Vec<Vec<u32>>,
    sizes: Vec<usize>,
}

impl Draws {
    fn new(good: &Kde, sizes: &[usize], factor: f64, min_bw: f64) -> Self {
        let unit = Normal::standard();
        let offsets: Vec<Vec<f64>> = sizes
            .iter()
            .zip(&good.bw)
            .map(|(&k, &b)| {
                let cells = factor * b.max(min_bw) * k as f64;
                (0..2 * k).map(|t| unit.cdf((t as f64 - k as f64 + 0.5) / cells)).collect()
            })
            .collect();
        let guides = offsets
            .iter()
            .map(|table: &Vec<f64>| {
                let len = table.len();
                (0..len).map(|i| table.partition_point(|&f| f <= i as f64 / len as f64) as u32).collect()
            })
            .collect();
        let of_observation = good
            .weights
            .iter()
            .enumerate()
            .flat_map(|(i, &w)| std::iter::repeat_n(i as u32, w as usize))
            .collect();
        Self { of_observation, offsets, guides, sizes: sizes.to_vec() }
    }

    /// The cell along dimension `j` that the uniform number `u ∈ [0, 1)` draws for a point in
    /// cell `c`: the inverse of the truncated offset distribution (offsets `−c … k − 1 − c`).
    fn cell(&self, j: usize, c: usize, u: f64) -> usize {
        let (k, table) = (self.sizes[j], &self.offsets[j]);
        let (first, last) = (k - c, 2 * k - 1 - c);
        let (lo, hi) = (table[first - 1], table[last]);
        let v = lo + (hi - lo) * u;
        // The first index in first..=last whose value exceeds v (last if none does).
        let guide = self.guides[j][((v * table.len() as f64) as usize).min(table.len() - 1)] as usize;
        let mut t = guide.clamp(first, last);
        while t < last && table[t] <= v {
            t += 1;
        }
        t + c - k
    }
}

/// `g(x) / l(x)` of the cells scored under the current model: a table over every cell of a
/// space of up to 2²² cells, each entry stamped with the model it was scored under (so a refit
/// starts afresh without rewriting the table), a map beyond.
#[derive(Debug, Clone)]
enum Ratios {
    Table { model: u32, cells: Vec<(u32, f64)> },
    Map(std::collections::HashMap<u128, f64>),
}

impl Ratios {
    fn new(sizes: &[usize]) -> Self {
        let cells: u128 = sizes.iter().map(|&k| k as u128).product();
        if cells <= 1 << 22 {
            Self::Table { model: 1, cells: vec![(0, f64::NAN); cells as usize] }
        } else {
            Self::Map(Default::default())
        }
    }

    /// Forgets every ratio: the model was refitted.
    fn renew(&mut self) {
        match self {
            Self::Table { model, cells } => {
                *model = model.wrapping_add(1);
                if *model == 0 {
                    // After 2³² refits the stamps wrap: clear them once.
                    cells.iter_mut().for_each(|c| c.0 = 0);
                    *model = 1;
                }
            }
            Self::Map(m) => m.clear(),
        }
    }

    /// The ratio of the cell `at` (of a space with `sizes` cells per dimension), computed by
    /// `ratio` the first time under the current model.
    fn get(&mut self, at: &[usize], sizes: &[usize], ratio: impl FnOnce() -> f64) -> f64 {
        match self {
            Self::Table { model, cells } => {
                let flat = at.iter().zip(sizes).fold(0usize, |f, (&a, &k)| f * k + a);
                let entry = &mut cells[flat];
                if entry.0 != *model {
                    *entry = (*model, ratio());
                }
                entry.1
            }
            Self::Map(m) => {
                let flat = at.iter().zip(sizes).fold(0u128, |f, (&a, &k)| f * k as u128 + a as u128);
                *m.entry(flat).or_insert_with(ratio)
            }
        }
    }
}

/// The highest fidelity each cell was evaluated or proposed at (0 for none): a table over a
/// space of up to 2²² cells, a map beyond.
#[derive(Debug, Clone)]
enum Evaluated {
    Table(Vec<f64>),
    Map(std::collections::HashMap<u128, f64>),
}

impl Evaluated {
    fn new(sizes: &[usize]) -> Self {
        let cells: u128 = sizes.iter().map(|&k| k as u128).product();
        if cells <= 1 << 22 { Self::Table(vec![0.0; cells as usize]) } else { Self::Map(Default::default()) }
    }

    fn flat(at: &[usize], sizes: &[usize]) -> u128 {
        at.iter().zip(sizes).fold(0u128, |f, (&a, &k)| f * k as u128 + a as u128)
    }

    /// The highest fidelity cell `at` was evaluated or proposed at.
    fn get(&self, at: &[usize], sizes: &[usize]) -> f64 {
        let flat = Self::flat(at, sizes);
        match self {
            Self::Table(t) => t[flat as usize],
            Self::Map(m) => m.get(&flat).copied().unwrap_or(0.0),
        }
    }

    /// Records that cell `at` was evaluated or proposed at `fidelity`.
    fn raise(&mut self, at: &[usize], sizes: &[usize], fidelity: f64) {
        let flat = Self::flat(at, sizes);
        let entry = match self {
            Self::Table(t) => &mut t[flat as usize],
            Self::Map(m) => m.entry(flat).or_insert(0.0),
        };
        *entry = entry.max(fidelity);
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
    /// g/l of the cells scored under the current model (renewed when it is refitted).
    ratios: Option<Ratios>,
    /// The current model tabled on the space's cells, and its draws (built at its first
    /// proposal).
    on_grid: Option<std::sync::Arc<(GridKde, GridKde, Draws)>>,
    /// The highest fidelity each cell was evaluated or proposed at (with `skip_evaluated`).
    evaluated: Option<Evaluated>,
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
            ratios: None,
            on_grid: None,
            evaluated: None,
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
        if self.settings.skip_evaluated {
            let sizes: Vec<usize> = space.params.iter().map(|p| p.len() as usize).collect();
            let at: Vec<usize> =
                config.iter().zip(&space.params).map(|(v, p)| ((v - p.low) / p.step) as usize).collect();
            self.evaluated.get_or_insert_with(|| Evaluated::new(&sizes)).raise(&at, &sizes, fidelity);
        }
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
            if let Some(r) = self.ratios.as_mut() {
                r.renew();
            }
            self.on_grid = None;
            let (n_good, n_bad) = self.split(n);
            let mut order: Vec<usize> = (0..n).collect();
            // Best first (HpBandSter sorts losses ascending; scores here are higher-is-better).
            order.sort_unstable_by(|&a, &b| points[b].1.total_cmp(&points[a].1).then(a.cmp(&b)));
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
    pub(crate) fn propose(&mut self, space: &Space, rng: &mut SplitMix64, fidelity: f64) -> (Config, bool) {
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
        let sizes: Vec<usize> = space.params.iter().map(|p| p.len() as usize).collect();
        let on_grid = std::sync::Arc::clone(self.on_grid.get_or_insert_with(|| {
            std::sync::Arc::new((
                GridKde::new(&pair.good, &sizes),
                GridKde::new(&pair.bad, &sizes),
                Draws::new(&pair.good, &sizes, factor, min_bw),
            ))
        }));
        let (good, bad, draws) = &*on_grid;
        let ratios = self.ratios.get_or_insert_with(|| Ratios::new(&sizes));
        let d = pair.good.d;
        // One buffer each for a candidate's cells and values, and the best candidate's cells.
        let (mut at, mut values, mut best_at) = (vec![0usize; d], vec![0i64; d], vec![0usize; d]);
        let mut best: Option<f64> = None;
        for _ in 0..num_samples {
            let i = draws.of_observation[rng.below(draws.of_observation.len())] as usize;
            for (j, ((a, v), p)) in at.iter_mut().zip(&mut values).zip(&space.params).enumerate() {
                *a = draws.cell(j, good.cells[i * d + j], rng.unit());
                *v = p.low + *a as i64 * p.step;
            }
            if !space.valid(&values)
                || self.evaluated.as_ref().is_some_and(|e| e.get(&at, &sizes) >= fidelity)
            {
                continue;
            }
            // The ratio is taken where the configuration sits (its cell's centre), so a
            // configuration drawn again under the same model is not scored again.
            let ratio = ratios.get(&at, &sizes, || bad.pdf(&at).max(1e-32) / good.pdf(&at).max(1e-32));
            if ratio.is_finite() && best.is_none_or(|b| ratio < b) {
                best = Some(ratio);
                best_at.copy_from_slice(&at);
            }
        }
        match best {
            Some(_) => {
                if let Some(e) = self.evaluated.as_mut() {
                    e.raise(&best_at, &sizes, fidelity);
                }
                (best_at.iter().zip(&space.params).map(|(&a, p)| p.low + a as i64 * p.step).collect(), true)
            }
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
        // The draws' table finds the same point as the scan, for every k.
        let draws = Draws::new(&k, &[10, 10], 3.0, 1e-3);
        for i in 0..5 {
            let p = draws.of_observation[i as usize] as usize;
            assert_eq!(&k.points[p * 2..p * 2 + 2], k.observation(i), "k = {i}");
        }
    }

    /// A draw's cell is the cell of the continuous truncated normal's draw from the same
    /// uniform number (by inversion): the table is that distribution on the cells, not an
    /// approximation of it.
    #[test]
    fn a_drawn_cell_is_the_truncated_normals_cell() {
        let unit = Normal::standard();
        for (k, bw) in [(7usize, 0.05), (296, 0.01), (296, 0.3), (99, 1e-3), (5, 2.0)] {
            let centre = |c: usize| (c as f64 + 0.5) / k as f64;
            let data: Vec<Vec<f64>> = vec![vec![centre(0)], vec![centre(k / 2)], vec![centre(k - 1)]];
            let refs: Vec<&[f64]> = data.iter().map(Vec::as_slice).collect();
            let mut kde = Kde::fit(&refs, 1e-3);
            kde.bw = vec![bw];
            let draws = Draws::new(&kde, &[k], 3.0, 1e-3);
            let b = 3.0 * bw.max(1e-3);
            let (mut checked, mut rng) = (0, SplitMix64::new(k as u64));
            for c in [0, k / 2, k - 1] {
                let m = centre(c);
                let (lo, hi) = (unit.cdf((0.0 - m) / b), unit.cdf((1.0 - m) / b));
                for _ in 0..2000 {
                    let u = rng.unit();
                    let x = (m + b * unit.inverse_cdf((lo + (hi - lo) * u).clamp(1e-300, 1.0 - 1e-16)))
                        .clamp(0.0, 1.0);
                    // A draw within rounding of a cell boundary may fall either side.
                    let boundary = ((x * k as f64) - (x * k as f64).round()).abs() < 1e-6;
                    if !boundary {
                        assert_eq!(draws.cell(0, c, u), cell(x, k), "k {k}, bw {bw}, cell {c}, u {u}");
                        checked += 1;
                    }
                }
            }
            assert!(checked > 5900, "{checked}");
        }
    }

    #[test]
    fn proposals_concentrate_where_the_good_points_are() {
        let space = Space::new(vec![IntParam::new("x", 0, 99, 1).unwrap()]);
        let settings =
            BohbSettings { random_fraction: 0.0, skip_evaluated: false, ..BohbSettings::default() };
        let mut m = Model::new(settings, 1);
        for v in 0..100 {
            // The best scores are near 80.
            m.observe(&space, &vec![v], 1.0, -((v - 80) as f64).abs());
        }
        let mut rng = SplitMix64::new(3);
        let near = (0..200).filter(|_| (m.propose(&space, &mut rng, 1.0).0[0] - 80).abs() <= 10).count();
        assert!(near > 150, "{near} of 200 proposals within 10 of the optimum");
    }

    /// With `skip_evaluated`, the model never proposes a configuration already evaluated or
    /// proposed at the bracket's first fidelity or above; one seen only at a lower fidelity may
    /// come back for a higher one. Without it, the best cell comes back again and again.
    #[test]
    fn evaluated_configurations_are_not_proposed_again_at_their_fidelity() {
        let space = Space::new(vec![IntParam::new("x", 0, 199, 1).unwrap()]);
        let (low, high) = (1.0 / 9.0, 1.0 / 3.0);
        for skip in [true, false] {
            let settings =
                BohbSettings { random_fraction: 0.0, skip_evaluated: skip, ..BohbSettings::default() };
            let mut m = Model::new(settings, 1);
            // Every fourth configuration evaluated at the low fidelity, the best near 80.
            for v in (0..200).step_by(4) {
                m.observe(&space, &vec![v], low, -((v - 80) as f64).abs());
            }
            let mut rng = SplitMix64::new(5);
            let at_low: Vec<i64> = (0..40).map(|_| m.propose(&space, &mut rng, low).0[0]).collect();
            let at_high: Vec<i64> = (0..40).map(|_| m.propose(&space, &mut rng, high).0[0]).collect();
            let distinct = |v: &[i64]| v.iter().collect::<std::collections::BTreeSet<_>>().len();
            if skip {
                assert!(at_low.iter().all(|v| v % 4 != 0), "re-proposed at its fidelity: {at_low:?}");
                assert_eq!(distinct(&at_low), 40, "{at_low:?}");
                assert_eq!(distinct(&at_high), 40, "{at_high:?}");
                assert!(at_high.iter().any(|v| v % 4 == 0), "seen at 1/9 may return at 1/3: {at_high:?}");
            } else {
                assert!(distinct(&at_low) < 30, "{at_low:?}");
            }
        }
    }
}
