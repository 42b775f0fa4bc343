//! [`DataPortal`]: windows of history, as a backtester's `DataPortal.get_history`.

use crate::WorkloadError;
use crate::bundle::{Bundle, Field};

/// Read access to a bundle's bars by (asset, end bar, count, field).
#[derive(Debug, Clone, Copy)]
pub struct DataPortal<'a> {
    bundle: &'a Bundle,
}

impl<'a> DataPortal<'a> {
    /// A portal over `bundle`.
    pub fn new(bundle: &'a Bundle) -> Self {
        Self { bundle }
    }

    /// The bundle behind the portal.
    pub fn bundle(&self) -> &'a Bundle {
        self.bundle
    }

    /// The `bar_count` values of `field` ending at bar `end` (inclusive), as a borrowed slice.
    ///
    /// ```
    /// # let bundle = bench_workloads::load_csv(&bench_workloads::bundled_csv_path()).unwrap();
    /// use bench_workloads::{DataPortal, Field};
    /// let portal = DataPortal::new(&bundle);
    /// let goog = bundle.asset_index("GOOG").unwrap();
    /// let w = portal.history_slice(goog, 29, 30, Field::Close).unwrap();
    /// assert_eq!(w.len(), 30);
    /// assert_eq!(w[29], bundle.assets[goog].close[29]);
    /// ```
    pub fn history_slice(
        &self,
        asset: usize,
        end: usize,
        bar_count: usize,
        field: Field,
    ) -> Result<&'a [f64], WorkloadError> {
        let series = self.bundle.assets.get(asset).ok_or(WorkloadError::OutOfRange {
            asset,
            end,
            bar_count,
            len: 0,
        })?;
        let len = series.len();
        if end >= len || bar_count > end + 1 || bar_count == 0 {
            return Err(WorkloadError::OutOfRange { asset, end, bar_count, len });
        }
        Ok(&series.column(field)[end + 1 - bar_count..=end])
    }

    /// The same window as [`history_slice`](Self::history_slice), as a freshly allocated copy
    /// (the shape of a per-bar `get_history` bottleneck, kept for the baseline).
    pub fn history(
        &self,
        asset: usize,
        end: usize,
        bar_count: usize,
        field: Field,
    ) -> Result<Vec<f64>, WorkloadError> {
        let _span = tracing::trace_span!("bench_workloads::portal::DataPortal::history").entered();
        Ok(self.history_slice(asset, end, bar_count, field)?.to_vec())
    }
}
