//! Hyperband's schedule (Li et al., JMLR 2018, Algorithm 1): with maximum budget `R`, minimum
//! budget `r_min` and reduction factor `η`, `s_max = ⌊log_η(R / r_min)⌋`; bracket `s`
//! (`s_max` down to 0) starts `n = ⌈(s_max + 1) / (s + 1) · η^s⌉` configurations at budget
//! `r = R · η^(−s)`, and its rung `i` (0 ≤ i ≤ s) evaluates `n_i = ⌊n · η^(−i)⌋` of them at
//! `r_i = r · η^i`, keeping the best `n_{i+1}` for the next rung.

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
/// // R = 81, η = 3 (the paper's Table 1): s_max = 4; bracket 4 starts 81 configurations at 1.
/// let b = hyperband_brackets(81.0, 1.0, 3.0);
/// assert_eq!(b.len(), 5);
/// let counts: Vec<usize> = b[0].rungs.iter().map(|r| r.configs).collect();
/// assert_eq!(counts, [81, 27, 9, 3, 1]);
/// assert_eq!(b[4].rungs[0].configs, 5); // s = 0: ⌈5 / 1 · 1⌉ configurations at R
/// ```
pub fn hyperband_brackets(max: f64, min: f64, eta: f64) -> Vec<Bracket> {
    // A tiny tolerance so that R / r_min = η^k exactly (e.g. 1 / (1/9), η = 3) gives k, not k − 1.
    let s_max = ((max / min).ln() / eta.ln() + 1e-9).floor().max(0.0) as u32;
    (0..=s_max)
        .rev()
        .map(|s| {
            let n = (f64::from(s_max + 1) / f64::from(s + 1) * eta.powi(s as i32) - 1e-9).ceil() as usize;
            let r = max * eta.powi(-(s as i32));
            let rungs = (0..=s)
                .map(|i| Rung {
                    configs: ((n as f64) * eta.powi(-(i as i32)) + 1e-9).floor() as usize,
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

    /// The paper's Table 1 (R = 81, η = 3), every bracket and rung.
    #[test]
    fn the_papers_table_for_r_81_and_eta_3() {
        let expected: [&[(usize, f64)]; 5] = [
            &[(81, 1.0), (27, 3.0), (9, 9.0), (3, 27.0), (1, 81.0)],
            &[(34, 3.0), (11, 9.0), (3, 27.0), (1, 81.0)],
            &[(15, 9.0), (5, 27.0), (1, 81.0)],
            &[(8, 27.0), (2, 81.0)],
            &[(5, 81.0)],
        ];
        let b = hyperband_brackets(81.0, 1.0, 3.0);
        for (bracket, rows) in b.iter().zip(expected) {
            let got: Vec<(usize, f64)> = bracket.rungs.iter().map(|r| (r.configs, r.fidelity)).collect();
            assert_eq!(got.len(), rows.len());
            for ((n, r), (en, er)) in got.iter().zip(rows) {
                assert_eq!(n, en, "bracket {}", bracket.s);
                assert!((r - er).abs() < 1e-9, "bracket {}: {r} vs {er}", bracket.s);
            }
        }
    }

    /// The formula against an independent evaluation, for several (R, r_min, η).
    #[test]
    fn the_schedule_follows_the_formula() {
        for (max, min, eta) in
            [(1.0, 1.0 / 9.0, 3.0), (27.0, 1.0, 3.0), (16.0, 1.0, 2.0), (100.0, 1.0, 4.0), (1.0, 0.05, 3.0)]
        {
            let b = hyperband_brackets(max, min, eta);
            let mut s_max = 0u32;
            while eta.powi(s_max as i32 + 1) <= max / min * (1.0 + 1e-12) {
                s_max += 1;
            }
            assert_eq!(b.len() as u32, s_max + 1, "R {max} r {min} η {eta}");
            for br in &b {
                let s = br.s;
                let n = ((s_max + 1) as f64 / (s + 1) as f64 * eta.powi(s as i32)).ceil() as usize;
                assert_eq!(br.rungs.len() as u32, s + 1);
                for (i, rung) in br.rungs.iter().enumerate() {
                    let ni = (n as f64 / eta.powi(i as i32)).floor() as usize;
                    assert_eq!(rung.configs, ni, "R {max} η {eta} s {s} i {i}");
                    let ri = max / eta.powi(s as i32) * eta.powi(i as i32);
                    assert!((rung.fidelity - ri).abs() < 1e-9 * max);
                }
                assert!(
                    (br.rungs.last().unwrap().fidelity - max).abs() < 1e-9 * max,
                    "every bracket ends at R"
                );
            }
        }
    }
}
