//! Hyperband's schedule as HpBandSter computes it (the reference implementation of BOHB, whose
//! schedule this crate's BOHB shares): with maximum budget `R`, minimum budget `r_min` and
//! reduction factor `η`, `s_max = ⌊log_η(R / r_min)⌋`; bracket `s` (`s_max` down to 0) starts
//! `n = ⌊(s_max + 1) / (s + 1)⌋ · η^s` configurations at budget `r = R · η^(−s)`, and its rung `i`
//! (0 ≤ i ≤ s) evaluates `n_i = max(⌊n · η^(−i)⌋, 1)` of them at `r_i = r · η^i`, keeping the
//! best `n_{i+1}` for the next rung. (Li et al., JMLR 2018, Algorithm 1, start
//! `⌈(s_max + 1) / (s + 1) · η^s⌉`: the middle brackets there run more configurations — for
//! `R / r_min = 9`, `η = 3`, bracket 1 starts 5, HpBandSter's 3. Tested against HpBandSter's own
//! schedules: `tests/reference/hpbandster_schedule.py` and its JSON.)

use serde::Serialize;

/// One rung of a bracket.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rung {
    /// Configurations evaluated at this rung (`n_i`).
    pub configs: usize,
    /// Their budget (`r_i`), as a fraction of the maximum when `R` = 1.
    pub fidelity: f64,
}

/// One bracket of successive halving.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bracket {
    /// Hyperband's `s`: the bracket with `s + 1` rungs.
    pub s: u32,
    /// Its rungs, lowest budget first.
    pub rungs: Vec<Rung>,
}

/// Hyperband's brackets for maximum budget `max`, minimum budget `min` and reduction factor
/// `eta`, most exploratory (`s = s_max`) first.
///
/// ```
/// use bench_search::hyperband_brackets;
/// // R = 81, η = 3: s_max = 4; bracket 4 starts 81 configurations at 1 (HpBandSter's schedule).
/// let b = hyperband_brackets(81.0, 1.0, 3.0);
/// assert_eq!(b.len(), 5);
/// let counts: Vec<usize> = b[0].rungs.iter().map(|r| r.configs).collect();
/// assert_eq!(counts, [81, 27, 9, 3, 1]);
/// assert_eq!(b[1].rungs[0].configs, 27); // ⌊5 / 4⌋ · 27 (the paper's ⌈5 / 4 · 27⌉ is 34)
/// assert_eq!(b[4].rungs[0].configs, 5); // s = 0: 5 configurations at R
/// ```
pub fn hyperband_brackets(max: f64, min: f64, eta: f64) -> Vec<Bracket> {
    // A tiny tolerance so that R / r_min = η^k exactly (e.g. 1 / (1/9), η = 3) gives k, not k − 1.
    let s_max = ((max / min).ln() / eta.ln() + 1e-9).floor().max(0.0) as u32;
    (0..=s_max)
        .rev()
        .map(|s| {
            let n = ((s_max + 1) / (s + 1)) as f64 * eta.powi(s as i32);
            let r = max * eta.powi(-(s as i32));
            let rungs = (0..=s)
                .map(|i| Rung {
                    configs: ((n * eta.powi(-(i as i32)) + 1e-9).floor() as usize).max(1),
                    fidelity: r * eta.powi(i as i32),
                })
                .collect();
            Bracket { s, rungs }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every bracket's counts and budgets as HpBandSter 0.7.4's `HyperBand.get_next_iteration`
    /// gives them (`tests/reference/hpbandster_schedule.py` wrote the fixture), for six
    /// (r_min, R, η).
    #[test]
    fn the_schedule_is_hpbandsters() {
        let fixture = include_str!("../tests/reference/hpbandster_schedule.json");
        // The fixture's few fields, read without a JSON dependency: each case's header numbers,
        // then per bracket its configs and budgets lists.
        let numbers = |s: &str| -> Vec<f64> {
            s.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-'))
                .filter(|t| !t.is_empty() && t.chars().any(|c| c.is_ascii_digit()))
                .map(|t| t.parse().unwrap())
                .collect()
        };
        let mut cases = 0;
        for case in fixture.split("\"min_budget\":").skip(1) {
            let (head, rest) = case.split_once("\"brackets\":").unwrap();
            let h = numbers(head);
            let (min, max, eta) = (h[0], h[1], h[2]);
            let ours = hyperband_brackets(max, min, eta);
            let theirs: Vec<(Vec<f64>, Vec<f64>)> = rest
                .split("\"configs\":")
                .skip(1)
                .map(|b| {
                    let (configs, budgets) = b.split_once("\"budgets\":").unwrap();
                    (numbers(configs), numbers(budgets.split(']').next().unwrap()))
                })
                .collect();
            assert_eq!(ours.len(), theirs.len(), "r_min {min} R {max} η {eta}");
            for (b, (configs, budgets)) in ours.iter().zip(&theirs) {
                let got: Vec<f64> = b.rungs.iter().map(|r| r.configs as f64).collect();
                assert_eq!(&got, configs, "r_min {min} η {eta} bracket {}", b.s);
                for (r, want) in b.rungs.iter().zip(budgets) {
                    assert!(
                        (r.fidelity - want).abs() < 1e-12 * max,
                        "r_min {min} η {eta}: {} vs {want}",
                        r.fidelity
                    );
                }
            }
            cases += 1;
        }
        assert_eq!(cases, 6);
    }
}
