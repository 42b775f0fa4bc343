//! A problem answered from a table: every valid configuration's score at each fidelity,
//! computed once. Searches run against it see exactly the values the evaluations would give,
//! at no cost but a lookup — so the searches of this crate and another library's, reading the
//! same table (as JSON), can be compared on identical values, over many seeds, in seconds.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{Config, Problem};

/// Every valid configuration's score at each fidelity, and what one evaluation costs at each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// The parameters' names, in configuration order.
    pub params: Vec<String>,
    /// The fidelities, ascending.
    pub fidelities: Vec<f64>,
    /// The cost of one evaluation at each fidelity.
    pub costs: Vec<u64>,
    /// One row per configuration: its values, then its score at each fidelity.
    pub rows: Vec<Vec<f64>>,
    /// The row of each configuration (not serialised: rebuilt by [`Table::index`]).
    #[serde(skip)]
    index: HashMap<Config, usize>,
}

/// Why a table is not usable, or a lookup failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    /// The table's own shape is wrong.
    #[error("table: {0}")]
    Shape(String),
    /// A configuration or fidelity the table does not hold.
    #[error("table: no score for {0}")]
    Missing(String),
}

impl Table {
    /// A table of `rows` (each a configuration and its scores at `fidelities`), checked.
    pub fn new(
        params: Vec<String>,
        fidelities: Vec<f64>,
        costs: Vec<u64>,
        rows: Vec<(Config, Vec<f64>)>,
    ) -> Result<Self, TableError> {
        let rows = rows.into_iter().map(|(c, s)| c.iter().map(|&v| v as f64).chain(s).collect()).collect();
        Self { params, fidelities, costs, rows, index: HashMap::new() }.index()
    }

    /// Checks the shape and builds the lookup (after deserialising).
    pub fn index(mut self) -> Result<Self, TableError> {
        let (d, f) = (self.params.len(), self.fidelities.len());
        if f == 0 || self.costs.len() != f {
            return Err(TableError::Shape(format!("{f} fidelities and {} costs", self.costs.len())));
        }
        if self.fidelities.windows(2).any(|w| w[0] >= w[1]) {
            return Err(TableError::Shape(format!("fidelities {:?} are not ascending", self.fidelities)));
        }
        self.index = HashMap::with_capacity(self.rows.len());
        for (i, row) in self.rows.iter().enumerate() {
            if row.len() != d + f {
                return Err(TableError::Shape(format!(
                    "row {i} has {} values; expected {d} parameters and {f} scores",
                    row.len()
                )));
            }
            let config: Config = row[..d].iter().map(|&v| v as i64).collect();
            if self.index.insert(config.clone(), i).is_some() {
                return Err(TableError::Shape(format!("configuration {config:?} is listed twice")));
            }
        }
        Ok(self)
    }

    /// The column of `fidelity`: the nearest fidelity within a relative 1e-9 (a bracket's
    /// fidelities are products of powers of η and may differ from another's in the last bit).
    fn column(&self, fidelity: f64) -> Option<usize> {
        self.fidelities.iter().position(|&f| (f - fidelity).abs() <= 1e-9 * f.max(fidelity))
    }

    /// The score of `config` at `fidelity`.
    pub fn score(&self, config: &[i64], fidelity: f64) -> Result<f64, TableError> {
        let row = self.index.get(config).ok_or_else(|| TableError::Missing(format!("{config:?}")))?;
        let col = self.column(fidelity).ok_or_else(|| TableError::Missing(format!("fidelity {fidelity}")))?;
        Ok(self.rows[*row][self.params.len() + col])
    }

    /// Every configuration's score at full fidelity (the last column), in row order.
    pub fn full_scores(&self) -> Vec<f64> {
        self.rows.iter().map(|r| r[r.len() - 1]).collect()
    }
}

impl Problem for Table {
    type Error = TableError;

    fn cost(&self, fidelity: f64) -> u64 {
        self.column(fidelity).map_or(0, |c| self.costs[c])
    }

    fn evaluate(&mut self, configs: &[Config], fidelity: f64) -> Result<Vec<f64>, TableError> {
        configs.iter().map(|c| self.score(c, fidelity)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_answers_what_it_holds_and_names_what_it_does_not() {
        let t = Table::new(
            vec!["x".into()],
            vec![0.5, 1.0],
            vec![5, 10],
            vec![(vec![1], vec![0.1, 0.2]), (vec![2], vec![0.3, 0.4])],
        )
        .unwrap();
        assert_eq!(t.score(&[2], 1.0).unwrap(), 0.4);
        assert_eq!(t.score(&[1], 0.5 + 1e-12).unwrap(), 0.1);
        assert_eq!(t.cost(0.5), 5);
        assert_eq!(t.score(&[3], 1.0).unwrap_err().to_string(), "table: no score for [3]");
        assert!(t.score(&[1], 0.7).is_err());
        // Through JSON and back, the lookup is rebuilt.
        let back: Table = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert!(back.score(&[1], 0.5).is_err(), "the lookup is not serialised");
        assert_eq!(back.index().unwrap().score(&[1], 0.5).unwrap(), 0.1);
        let bad = Table::new(vec!["x".into()], vec![1.0], vec![1], vec![(vec![1], vec![0.1, 0.2])]);
        assert!(bad.unwrap_err().to_string().contains("row 0 has 3 values"));
    }
}
