//! The search space: integer parameters with a step, and a constraint every configuration must
//! meet (for an SMA crossover: fast < slow).

use bench_core::SplitMix64;

/// A configuration: one value per parameter, in the space's order.
pub type Config = Vec<i64>;

/// An integer parameter `low, low + step, …, ≤ high`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntParam {
    /// Its name.
    pub name: String,
    /// Lowest value.
    pub low: i64,
    /// Highest value (included when the step reaches it).
    pub high: i64,
    /// Step ≥ 1.
    pub step: i64,
}

impl IntParam {
    /// A parameter, or why not (`low ≤ high`, `step ≥ 1`).
    pub fn new(name: &str, low: i64, high: i64, step: i64) -> Result<Self, String> {
        if low > high || step < 1 {
            return Err(format!("parameter {name}: {low}:{high}:{step}: expected low ≤ high and step ≥ 1"));
        }
        Ok(Self { name: name.to_owned(), low, high, step })
    }

    /// How many values it takes.
    pub fn len(&self) -> u64 {
        ((self.high - self.low) / self.step) as u64 + 1
    }

    /// Never empty.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The value at `u ∈ [0, 1)` of its unit interval (each value owns an equal share).
    pub fn from_unit(&self, u: f64) -> i64 {
        let n = self.len();
        let k = ((u.clamp(0.0, 1.0) * n as f64) as u64).min(n - 1);
        self.low + k as i64 * self.step
    }

    /// The centre of `v`'s share of the unit interval.
    pub fn to_unit(&self, v: i64) -> f64 {
        let k = (v - self.low) / self.step;
        (k as f64 + 0.5) / self.len() as f64
    }
}

/// Which configurations of a space are valid.
pub type Constraint = dyn Fn(&[i64]) -> bool + Send + Sync;

/// Parameters and a constraint.
pub struct Space {
    /// The parameters.
    pub params: Vec<IntParam>,
    constraint: Box<Constraint>,
}

impl std::fmt::Debug for Space {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Space").field("params", &self.params).finish_non_exhaustive()
    }
}

impl Space {
    /// A space where every combination is valid.
    pub fn new(params: Vec<IntParam>) -> Self {
        Self { params, constraint: Box::new(|_| true) }
    }

    /// A space whose valid configurations are those meeting `constraint`.
    pub fn constrained(
        params: Vec<IntParam>,
        constraint: impl Fn(&[i64]) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self { params, constraint: Box::new(constraint) }
    }

    /// Whether `c` meets the constraint.
    pub fn valid(&self, c: &[i64]) -> bool {
        (self.constraint)(c)
    }

    /// Every valid configuration, in grid order (the last parameter fastest).
    pub fn valid_configs(&self) -> impl Iterator<Item = Config> + '_ {
        let total: u128 = self.params.iter().map(|p| u128::from(p.len())).product();
        (0..total).filter_map(move |mut k| {
            let mut c = vec![0; self.params.len()];
            for (i, p) in self.params.iter().enumerate().rev() {
                let n = u128::from(p.len());
                c[i] = p.low + (k % n) as i64 * p.step;
                k /= n;
            }
            self.valid(&c).then_some(c)
        })
    }

    /// Whether at least `n` valid configurations exist (stops counting at `n`).
    pub fn count_valid(&self, n: usize) -> usize {
        self.valid_configs().take(n).count()
    }

    /// A configuration from the unit cube, or `None` when it breaks the constraint.
    pub fn from_unit(&self, u: &[f64]) -> Option<Config> {
        let c: Config = self.params.iter().zip(u).map(|(p, &x)| p.from_unit(x)).collect();
        self.valid(&c).then_some(c)
    }

    /// `c` in the unit cube (each value at the centre of its share).
    pub fn to_unit(&self, c: &[i64]) -> Vec<f64> {
        self.params.iter().zip(c).map(|(p, &v)| p.to_unit(v)).collect()
    }

    /// A uniformly random valid configuration: rejection sampling, or after 10,000 rejections a
    /// uniform pick among the valid ones listed (the space must hold one).
    pub fn sample(&self, rng: &mut SplitMix64) -> Config {
        for _ in 0..10_000 {
            let c: Config =
                self.params.iter().map(|p| p.low + rng.below(p.len() as usize) as i64 * p.step).collect();
            if self.valid(&c) {
                return c;
            }
        }
        let n = self.valid_configs().count();
        self.valid_configs().nth(rng.below(n.max(1))).expect("the space holds a valid configuration")
    }
}
