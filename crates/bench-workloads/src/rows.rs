//! The checks every bar passes whatever file it comes from (CSV or Parquet), and the columnar
//! bundle they build: prices positive, fixed-point with at most four decimals and below 1e9,
//! volumes non-negative, high ≥ low, each ticker's rows together with strictly increasing
//! dates.

use std::path::Path;

use crate::bundle::{AssetSeries, Bundle, Provenance, TICKS_PER_UNIT, to_ticks};
use crate::error::DataError;

/// Where a bar is in its file: a line of a text file, or a row of a columnar one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// 1-based line.
    Line(usize),
    /// 1-based data row.
    Row(usize),
}

/// One bar as read, before the checks that need its neighbours.
pub(crate) struct Bar<'a> {
    pub ticker: &'a str,
    pub date: i32,
    pub date_text: &'a str,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
    pub adj_close: f64,
}

/// Bytes a bar may take while a reader collects it: [`crate::bundle::BAR_BYTES`] three times
/// over, as a growing column briefly holds its old and its new buffer.
const READING_BAR_BYTES: u64 = 3 * crate::bundle::BAR_BYTES;

/// Builds a bundle bar by bar, within the memory budget: past it the read stops with the line
/// (or row) it reached, so memory is proportional to the bars kept, never to the file.
pub(crate) struct BundleBuilder<'p> {
    path: &'p Path,
    assets: Vec<AssetSeries>,
    bars: u64,
    max_bars: u64,
}

impl<'p> BundleBuilder<'p> {
    pub fn new(path: &'p Path) -> Self {
        let max_bars = bench_core::limits::memory_limit().bytes / READING_BAR_BYTES;
        Self { path, assets: Vec::new(), bars: 0, max_bars }
    }

    /// An error at `place`, in `column` when given.
    pub fn error(&self, place: Place, column: Option<&str>, message: String) -> DataError {
        match place {
            Place::Line(line) => DataError::at(self.path, line, column, message),
            Place::Row(row) => DataError::at_row(self.path, row, column, message),
        }
    }

    /// A price as stored (`shown` is how the file wrote it): > 0, below 1e9, and `exact` when
    /// it has at most four decimals (a text reader checks the digits, a binary one the ticks).
    pub fn price(
        &self,
        v: f64,
        shown: &str,
        exact: bool,
        place: Place,
        column: &str,
    ) -> Result<f64, DataError> {
        if !v.is_finite() {
            return Err(self.error(place, Some(column), format!("{shown:?} is not a finite number")));
        }
        if v <= 0.0 {
            return Err(self.error(
                place,
                Some(column),
                format!("{shown} is not a price; expected a number > 0"),
            ));
        }
        if !exact {
            return Err(self.error(
                place,
                Some(column),
                format!("{shown} has more than 4 decimal places; prices must be fixed-point with at most 4"),
            ));
        }
        if v >= 1e9 {
            return Err(self.error(
                place,
                Some(column),
                format!("{shown} is out of range; expected a price below 1e9"),
            ));
        }
        Ok(v)
    }

    /// Whether a binary price has at most four decimals: its ticks divided back give it exactly.
    pub fn has_four_decimals(v: f64) -> bool {
        v > 0.0 && v < 1e9 && to_ticks(v) as f64 / TICKS_PER_UNIT == v
    }

    /// A volume (≥ 0 and finite).
    pub fn volume(&self, v: f64, shown: &str, place: Place) -> Result<f64, DataError> {
        if !v.is_finite() {
            return Err(self.error(place, Some("Volume"), format!("{shown:?} is not a finite number")));
        }
        if v < 0.0 {
            return Err(self.error(
                place,
                Some("Volume"),
                format!("{shown} is negative; expected a volume ≥ 0"),
            ));
        }
        Ok(v)
    }

    /// Appends a bar after the checks that involve the bar as a whole or its ticker's previous
    /// bar.
    pub fn push(&mut self, bar: Bar<'_>, place: Place) -> Result<(), DataError> {
        if bar.ticker.is_empty() {
            return Err(self.error(place, Some("Ticker"), "missing value; expected a ticker symbol".into()));
        }
        if bar.adj_close.is_nan() || bar.adj_close <= 0.0 || bar.adj_close.is_infinite() {
            return Err(self.error(
                place,
                Some("Adj Close"),
                format!("{} is not a price; expected a number > 0", bar.adj_close),
            ));
        }
        if bar.high < bar.low {
            return Err(self.error(
                place,
                Some("High"),
                format!("high {} is below low {}; expected High ≥ Low", bar.high, bar.low),
            ));
        }
        if self.assets.last().is_none_or(|a| a.symbol != bar.ticker) {
            if self.assets.iter().any(|a| a.symbol == bar.ticker) {
                return Err(self.error(
                    place,
                    Some("Ticker"),
                    format!(
                        "rows of {} resume after other tickers; expected each ticker's rows together, dates ascending",
                        bar.ticker
                    ),
                ));
            }
            self.assets.push(AssetSeries {
                symbol: bar.ticker.to_owned(),
                dates: Vec::new(),
                open: Vec::new(),
                high: Vec::new(),
                low: Vec::new(),
                close: Vec::new(),
                volume: Vec::new(),
                adj_close: Vec::new(),
            });
        }
        let last = self.assets.last().and_then(|a| a.dates.last().copied());
        if let Some(prev) = last
            && bar.date <= prev
        {
            return Err(self.error(
                place,
                Some("Date"),
                format!(
                    "{} is not after the previous date {} of {}; expected strictly increasing dates (duplicate or unsorted)",
                    bar.date_text,
                    crate::dates::format_date(prev),
                    bar.ticker
                ),
            ));
        }
        self.bars += 1;
        if self.bars > self.max_bars {
            let budget = bench_core::limits::memory_limit();
            return Err(self.error(
                place,
                None,
                format!(
                    "the bars read so far ({}) would need more than {} of memory, past the limit of {} ({}); read a smaller file or raise the limit with --max-memory",
                    bench_core::units::count(self.bars),
                    bench_core::units::bytes(self.bars * READING_BAR_BYTES),
                    bench_core::units::bytes(budget.bytes),
                    budget.source
                ),
            ));
        }
        let a = self.assets.last_mut().expect("pushed above");
        a.dates.push(bar.date);
        a.open.push(bar.open);
        a.high.push(bar.high);
        a.low.push(bar.low);
        a.close.push(bar.close);
        a.volume.push(bar.volume);
        a.adj_close.push(bar.adj_close);
        Ok(())
    }

    /// The bundle, or an error when no bar was read.
    pub fn finish(self) -> Result<Bundle, DataError> {
        if self.assets.is_empty() {
            return Err(DataError::file(
                self.path,
                "no data rows after the header; expected at least one bar".into(),
            ));
        }
        Ok(Bundle { assets: self.assets, provenance: Provenance::Real })
    }
}

/// Checks a series' invariants — the same as every bar read from CSV or Parquet passes: prices
/// finite, > 0, below 1e9 and fixed-point with at most four decimals (Adj Close only > 0, as in
/// the readers), volumes ≥ 0, high ≥ low, dates strictly increasing. Used for binary bundles,
/// whose bars have no line numbers.
pub(crate) fn validate_series(a: &AssetSeries, path: &Path) -> Result<(), DataError> {
    let n = a.dates.len();
    if a.symbol.is_empty() {
        return Err(DataError::file(path, "an asset has an empty symbol; expected a ticker symbol".into()));
    }
    if n == 0 {
        return Err(DataError::file(
            path,
            format!("asset {} has no bars; expected at least one dated bar", a.symbol),
        ));
    }
    let bad =
        |bar: usize, what: String| DataError::file(path, format!("asset {} bar {bar}: {what}", a.symbol));
    for (i, w) in a.dates.windows(2).enumerate() {
        if w[1] <= w[0] {
            return Err(bad(i + 1, "dates not strictly increasing".into()));
        }
    }
    // Column-wise checks (fast path: one pass per column); the first bad bar is then located.
    for (name, col) in [
        ("open", &a.open),
        ("high", &a.high),
        ("low", &a.low),
        ("close", &a.close),
        ("adj_close", &a.adj_close),
    ] {
        if col.len() != n {
            return Err(DataError::file(
                path,
                format!("asset {}: {name} has {} values for {n} dates", a.symbol, col.len()),
            ));
        }
        // Adj Close is a derived figure (split and dividend adjusted): only > 0, as in the readers.
        let ok = |v: f64| {
            if name == "adj_close" {
                v > 0.0 && v < f64::INFINITY
            } else {
                BundleBuilder::has_four_decimals(v)
            }
        };
        if !col.iter().all(|&v| ok(v)) {
            let i = col.iter().position(|&v| !ok(v)).expect("a value failed");
            let expected = if name == "adj_close" {
                "a finite price > 0"
            } else {
                "a price > 0 and below 1e9, fixed-point with at most 4 decimal places"
            };
            return Err(bad(i, format!("{name} is {}; expected {expected}", col[i])));
        }
    }
    if a.volume.len() != n || !a.volume.iter().all(|&v| (0.0..f64::INFINITY).contains(&v)) {
        let i = a.volume.iter().position(|&v| !(0.0..f64::INFINITY).contains(&v)).unwrap_or(0);
        return Err(bad(
            i,
            format!("volume is {}; expected ≥ 0", a.volume.get(i).copied().unwrap_or(f64::NAN)),
        ));
    }
    if !a.high.iter().zip(&a.low).all(|(h, l)| h >= l) {
        let i = a.high.iter().zip(&a.low).position(|(h, l)| h < l).expect("a bar failed");
        return Err(bad(i, format!("high {} is below low {}", a.high[i], a.low[i])));
    }
    Ok(())
}
