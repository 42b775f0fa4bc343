//! The SMA-crossover strategy's order execution and metrics, with backtesting.py's semantics.
//!
//! Semantics (those of backtesting.py 0.6.6's `SmaCross` example with `finalize_trades=True`,
//! so results can be cross-checked against that independent implementation):
//! - 10,000 starting cash, no commission; SMAs of the close;
//! - the first decision bar is `slow` bars after the start of the range — or the start itself
//!   when the SMAs are warmed up on the bars before it (a walk-forward's out-of-sample run);
//! - at decision bar `i` a cross up is `fast[i-1] < slow[i-1] && fast[i] > slow[i]` (strict), a
//!   cross down the mirror; comparisons are exact (see [`crate::signals`]);
//! - on a cross the open position is closed and a new long (up) or short (down) is opened; every
//!   order fills at the next bar's open; size = ⌊equity·(1 − ε) / fill price⌋ whole shares,
//!   computed with Python's float floor division so the sizes agree bit for bit;
//! - an open position is closed at the last bar's open; under [`Rules::Exact`] an order placed on
//!   the last bar is not filled, under [`Rules::BacktestingPy`] it is, as backtesting.py's final
//!   broker pass does: at the last bar's open, the new trade left open (not counted, not in the
//!   exposure) and valued at the last close in the final equity;
//! - equity at bar `i` is `cash + (close[i]·size − size·entry)`, the last bar's equity the final
//!   cash (plus the open trade's value under backtesting.py's rules);
//! - under backtesting.py's rules a run whose close-marked equity reaches 0 stops there (its
//!   out-of-money stop: the position closed at that close, every later bar valued at 0); the
//!   exact rules let the equity go below 0.
//!
//! Metrics: trades (closed trades), final equity, total return %, max drawdown % (of the
//! close-marked equity curve), Sharpe (mean/sd of per-bar returns, ddof = 1, × √252) and exposure
//! % (bars covered by any trade, entry and exit bars inclusive, over all bars).

use serde::{Deserialize, Serialize};

use crate::WorkloadError;

mod simd;

/// Starting cash of every backtest.
pub const STARTING_CASH: f64 = 10_000.0;
/// Fraction of equity an order uses (backtesting.py's `1 − sys.float_info.epsilon`).
const FULL_EQUITY: f64 = 1.0 - f64::EPSILON;

/// Which rules a backtest follows where the engine's own contract and backtesting.py 0.6.6 part.
///
/// They part in two places only: at an exact tie of the two SMAs (the exact rule sees no cross;
/// backtesting.py compares pandas' rounded rolling means, whose last bit decides) and on a cross
/// at the last bar of a range (backtesting.py fills that order at the last bar's open and keeps
/// the new trade open in the final equity; the exact rule ignores it).
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rules {
    /// The engine's contract: SMAs compared exactly (a tie is not a cross), no order filled after
    /// the last bar's decision.
    #[default]
    Exact,
    /// backtesting.py 0.6.6 with `finalize_trades=True`, bit for bit: SMAs are pandas' rolling
    /// means of the range given to it, and an order placed on the last bar is filled.
    #[cfg_attr(feature = "clap", value(alias = "pandas"))]
    BacktestingPy,
}

impl Rules {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::BacktestingPy => "backtesting-py",
        }
    }
}

impl std::str::FromStr for Rules {
    type Err = WorkloadError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "exact" => Ok(Self::Exact),
            "backtesting-py" | "pandas" => Ok(Self::BacktestingPy),
            other => Err(WorkloadError::InvalidParameter(format!(
                "rules {other:?}: expected exact or backtesting-py"
            ))),
        }
    }
}

/// Fast and slow SMA windows, `1 ≤ fast < slow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Params {
    /// Fast window in bars.
    pub fast: u32,
    /// Slow window in bars.
    pub slow: u32,
}

impl Params {
    /// Validates `1 ≤ fast < slow`.
    pub fn new(fast: u32, slow: u32) -> Result<Self, WorkloadError> {
        if fast == 0 || fast >= slow {
            return Err(WorkloadError::InvalidParameter(format!(
                "fast {fast} / slow {slow}: expected 1 ≤ fast < slow"
            )));
        }
        Ok(Self { fast, slow })
    }
}

/// Direction of a moving-average cross.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cross {
    /// Fast crossed above slow: go long.
    Up,
    /// Fast crossed below slow: go short.
    Down,
}

/// A cross detected at a decision bar (the order fills at the next bar's open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    /// Absolute bar index of the decision.
    pub bar: u32,
    /// Direction.
    pub cross: Cross,
}

/// A closed trade. Bars are relative to the start of the backtest's range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trade {
    /// Bar of the entry fill.
    pub entry_bar: u32,
    /// Bar of the exit fill.
    pub exit_bar: u32,
    /// Shares, negative for a short.
    pub size: i64,
    /// Entry fill price.
    pub entry_price: f64,
    /// Exit fill price.
    pub exit_price: f64,
}

/// The metrics of one backtest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Number of closed trades.
    pub trades: u32,
    /// Equity after the final close.
    pub final_equity: f64,
    /// `(final − initial) / initial × 100`.
    pub total_return_percent: f64,
    /// Largest peak-to-trough fall of the equity curve, in percent (≥ 0).
    pub max_drawdown_percent: f64,
    /// Mean / sd (ddof = 1) of per-bar returns × √252; 0 when the sd is 0.
    pub sharpe_ratio: f64,
    /// Mean of per-bar returns / their downside deviation × √252, the downside deviation being
    /// `√(Σ min(r, 0)² / n)` over all `n` returns (target 0); 0 when no return is negative.
    pub sortino_ratio: f64,
    /// Bars covered by a trade (entry and exit inclusive) over all bars, in percent.
    pub exposure_percent: f64,
}

impl Metrics {
    /// The metric values in a fixed order, with their names (for equivalence checks).
    pub fn fields(&self) -> [(&'static str, f64); 7] {
        [
            ("trades", f64::from(self.trades)),
            ("final_equity", self.final_equity),
            ("total_return_percent", self.total_return_percent),
            ("max_drawdown_percent", self.max_drawdown_percent),
            ("sharpe_ratio", self.sharpe_ratio),
            ("sortino_ratio", self.sortino_ratio),
            ("exposure_percent", self.exposure_percent),
        ]
    }
}

/// Trades and the full equity curve, kept when a backtest is run with recording on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record {
    /// Closed trades in order.
    pub trades: Vec<Trade>,
    /// Equity at every bar of the range.
    pub equity: Vec<f64>,
}

/// Result of one backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestResult {
    /// The metrics.
    pub metrics: Metrics,
    /// Trades and equity curve, when recorded.
    pub record: Option<Record>,
}

/// CPython's float floor division `vx // wx` (`float_divmod`), so share counts match
/// backtesting.py exactly even where `floor(vx / wx)` would round differently.
pub fn python_floor_div(vx: f64, wx: f64) -> f64 {
    let m = vx % wx;
    let mut div = (vx - m) / wx;
    if m != 0.0 && ((wx < 0.0) != (m < 0.0)) {
        div -= 1.0;
    }
    if div != 0.0 {
        let mut floordiv = div.floor();
        if div - floordiv > 0.5 {
            floordiv += 1.0;
        }
        floordiv
    } else {
        0.0_f64.copysign(vx / wx)
    }
}

/// `⌊a / b⌋` for positive finite `a`, `b` with a quotient below 2^52, exactly: the quotient
/// is rounded, then corrected with the exact remainder from a fused multiply-add. Equal to
/// [`python_floor_div`] in that domain (property-tested) and several times cheaper (no `fmod`).
#[inline]
pub fn floor_div(a: f64, b: f64) -> f64 {
    let q = (a / b).floor();
    if q >= 4_503_599_627_370_496.0 || !(a > 0.0 && b > 0.0) {
        return python_floor_div(a, b);
    }
    let r = (-q).mul_add(b, a); // a − q·b, exact
    if r < 0.0 {
        q - 1.0
    } else if r >= b {
        q + 1.0
    } else {
        q
    }
}

#[derive(Clone, Copy)]
struct Position {
    size: f64,
    entry_price: f64,
    entry_bar: usize,
    /// `size · entry_price`, the constant term of the equity formula.
    cost: f64,
}

/// Cash, the open position and the trade statistics.
struct Broker {
    cash: f64,
    position: Option<Position>,
    trades: u32,
    covered: u64,
    covered_until: Option<usize>,
    record: Option<Vec<Trade>>,
}

impl Broker {
    fn new(record: bool) -> Self {
        Self {
            cash: STARTING_CASH,
            position: None,
            trades: 0,
            covered: 0,
            covered_until: None,
            record: record.then(Vec::new),
        }
    }

    fn close(&mut self, bar: usize, price: f64) {
        if let Some(p) = self.position.take() {
            self.cash += p.size * (price - p.entry_price);
            self.trades += 1;
            let start = self.covered_until.map_or(p.entry_bar, |c| p.entry_bar.max(c + 1));
            if bar >= start {
                self.covered += (bar - start + 1) as u64;
            }
            self.covered_until = Some(bar);
            if let Some(r) = &mut self.record {
                r.push(Trade {
                    entry_bar: p.entry_bar as u32,
                    exit_bar: bar as u32,
                    size: p.size as i64,
                    entry_price: p.entry_price,
                    exit_price: price,
                });
            }
        }
    }

    /// Closes the open position and opens a new one in the direction of `cross`, at `price`.
    fn fill(&mut self, bar: usize, price: f64, cross: Cross) {
        self.close(bar, price);
        let shares = floor_div(self.cash * FULL_EQUITY, price);
        if shares >= 1.0 {
            let size = if cross == Cross::Up { shares } else { -shares };
            self.position = Some(Position { size, entry_price: price, entry_bar: bar, cost: size * price });
        }
    }
}

/// Streaming drawdown and return statistics of an equity curve.
struct CurveStats {
    prev: f64,
    peak: f64,
    worst_ratio: f64,
    sum: f64,
    sum_sq: f64,
    /// Σ min(r, 0)², for the Sortino ratio.
    down_sq: f64,
    count: u64,
}

impl CurveStats {
    fn new(first: f64) -> Self {
        Self { prev: first, peak: first, worst_ratio: 1.0, sum: 0.0, sum_sq: 0.0, down_sq: 0.0, count: 0 }
    }

    #[inline(always)]
    fn push(&mut self, e: f64) {
        let r = e / self.prev - 1.0;
        self.sum += r;
        self.sum_sq += r * r;
        let down = r.min(0.0);
        self.down_sq += down * down;
        self.count += 1;
        self.prev = e;
        if e > self.peak {
            self.peak = e;
        } else if e < self.peak * self.worst_ratio {
            // Divide only at a new trough (rare): a multiply decides whether one is needed.
            self.worst_ratio = self.worst_ratio.min(e / self.peak);
        }
    }

    /// `len` bars of unchanged equity: zero returns, no new peak or trough.
    #[inline]
    fn push_flat(&mut self, len: usize) {
        if len > 0 {
            self.push(self.prev);
            self.count += len as u64 - 1;
        }
    }

    fn sharpe(&self) -> f64 {
        if self.count < 2 {
            return 0.0;
        }
        let n = self.count as f64;
        let mean = self.sum / n;
        let var = (self.sum_sq - self.sum * mean) / (n - 1.0);
        if var > 0.0 { mean / var.sqrt() * 252f64.sqrt() } else { 0.0 }
    }

    fn sortino(&self) -> f64 {
        if self.count == 0 || self.down_sq <= 0.0 {
            return 0.0;
        }
        let n = self.count as f64;
        self.sum / n / (self.down_sq / n).sqrt() * 252f64.sqrt()
    }
}

/// backtesting.py 0.6.6's "Sharpe Ratio" of an equity curve of daily bars without weekends (as
/// the bundled stocks), computed as its `compute_stats` does with no risk-free rate:
/// with `r` the `n − 1` simple returns of the curve and `g = exp(Σ ln(1 + r) / (n − 1)) − 1` (0
/// when some `1 + r ≤ 0`), annualised return `A = (1 + g)^252 − 1`, volatility
/// `V = √((var(r) + (1 + g)²)^252 − (1 + g)^504)` (var with ddof = 1), Sharpe `= 100·A ÷ 100·V`.
/// `None` where backtesting.py gets NaN: fewer than two returns, or `V` zero or not a number (a
/// curve with no trade). backtesting.py takes 365 days for data with weekends, and 52, 12 or 1
/// for weekly, monthly or yearly bars; this function assumes daily trading days (252).
///
/// ```
/// use bench_workloads::engine::backtesting_py_sharpe;
/// assert_eq!(backtesting_py_sharpe(&[10_000.0; 30]), None); // flat: no volatility
/// let curve: Vec<f64> = (0..30).map(|i| 10_000.0 + f64::from(i % 7) * 25.0 + f64::from(i)).collect();
/// assert!(backtesting_py_sharpe(&curve).unwrap() > 0.0);
/// ```
pub fn backtesting_py_sharpe(equity: &[f64]) -> Option<f64> {
    if equity.len() < 3 {
        return None;
    }
    let returns: Vec<f64> = equity.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
    let n = returns.len() as f64;
    let g = if returns.iter().any(|r| r + 1.0 <= 0.0) {
        0.0
    } else {
        (returns.iter().map(|r| (r + 1.0).ln()).sum::<f64>() / n).exp() - 1.0
    };
    let mean = returns.iter().sum::<f64>() / n;
    let var = returns.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / (n - 1.0);
    let days = 252.0;
    let annual = (1.0 + g).powf(days) - 1.0;
    let vol = ((var + (1.0 + g).powi(2)).powf(days) - (1.0 + g).powf(2.0 * days)).sqrt();
    let ratio = (annual * 100.0) / (vol * 100.0);
    (vol * 100.0 != 0.0 && ratio.is_finite()).then_some(ratio)
}

/// Runs the strategy's orders over bars `lo..hi` of one asset, given the crosses detected at
/// decision bars (absolute indices, ascending, each ≥ `lo + slow`), and computes the metrics.
/// `rules` decides what an order placed on the last bar does (see [`Rules`]).
///
/// Between fills the position is constant, so the equity of a stretch of bars is computed in
/// one tight loop; bars without a position contribute zero returns in O(1).
#[bench_line_probe::line_probe]
pub fn simulate(
    open: &[f64],
    close: &[f64],
    lo: usize,
    hi: usize,
    signals: &[Signal],
    record: bool,
    rules: Rules,
) -> BacktestResult {
    let _span = tracing::info_span!("bench_workloads::engine::simulate").entered();
    let n = hi - lo;
    let mut broker = Broker::new(record);
    let mut stats = CurveStats::new(STARTING_CASH);
    let mut equity = if record { Vec::with_capacity(n) } else { Vec::new() };
    if n == 0 {
        return finish(broker, stats, 0, equity, record);
    }
    if record {
        equity.push(STARTING_CASH);
    }
    // Bar `lo` has no fill (the earliest fill is the bar after the first decision: lo + slow + 1,
    // or lo + 1 with warmed-up SMAs), so its equity is the cash.
    let mut bar = lo + 1; // next bar whose equity is still to be computed
    let last = hi - 1;
    let mut last_bar_order = None;
    // backtesting.py stops a run whose equity reaches zero; the exact rules let it go on.
    let ruin_stops = rules == Rules::BacktestingPy;
    for s in signals {
        let fill_bar = s.bar as usize + 1;
        if fill_bar > last {
            last_bar_order = Some(s.cross); // placed on the last bar: see `rules`
            break;
        }
        if ruin_stops && let Some(j) = first_ruin(&broker, close, bar, fill_bar) {
            return ruin(broker, stats, close, (lo, bar, j, hi), equity, record);
        }
        // Bars before the fill keep the current position.
        run_stretch(&broker, close, bar, fill_bar, &mut stats, &mut equity, record);
        broker.fill(fill_bar - lo, open[fill_bar], s.cross);
        bar = fill_bar;
    }
    // Bars up to (excluding) the last bar, then the final close at the last bar's open.
    if bar <= last {
        // The last bar is first marked at its close with the position still open.
        if ruin_stops && let Some(j) = first_ruin(&broker, close, bar, last + 1) {
            return ruin(broker, stats, close, (lo, bar, j, hi), equity, record);
        }
        run_stretch(&broker, close, bar, last, &mut stats, &mut equity, record);
        broker.close(last - lo, open[last]);
        let mut e = broker.cash;
        if let (Rules::BacktestingPy, Some(cross)) = (rules, last_bar_order) {
            // backtesting.py's final broker pass fills it at the last open and keeps it open.
            broker.fill(last - lo, open[last], cross);
            if let Some(p) = broker.position.take() {
                e = broker.cash + (close[last] * p.size - p.cost);
            }
        }
        if ruin_stops && e <= 0.0 {
            e = 0.0; // the final pass's own out-of-money stop
        }
        stats.push(e);
        if record {
            equity.push(e);
        }
    }
    finish(broker, stats, n, equity, record)
}

/// The first bar of `from..to` at which the open position, marked at the close, leaves the
/// equity at or below zero.
fn first_ruin(broker: &Broker, close: &[f64], from: usize, to: usize) -> Option<usize> {
    match broker.position {
        // A loss taken at a fill can leave the cash itself at or below zero.
        None => (broker.cash <= 0.0 && from < to).then_some(from),
        Some(p) => (from..to).find(|&j| broker.cash + (close[j] * p.size - p.cost) <= 0.0),
    }
}

/// backtesting.py's out-of-money stop at bar `j` of a run over `lo..hi` whose bars before
/// `from` are done: the bars up to `j` as usual, then the position closed at bar `j`'s close,
/// the cash set to 0 and every bar from `j` on valued at 0 (zero returns after the fall to 0).
fn ruin(
    mut broker: Broker,
    mut stats: CurveStats,
    close: &[f64],
    (lo, from, j, hi): (usize, usize, usize, usize),
    mut equity: Vec<f64>,
    record: bool,
) -> BacktestResult {
    run_stretch(&broker, close, from, j, &mut stats, &mut equity, record);
    broker.close(j - lo, close[j]);
    broker.cash = 0.0;
    stats.push(0.0);
    stats.count += (hi - j - 1) as u64;
    if record {
        equity.resize(hi - lo, 0.0);
    }
    finish(broker, stats, hi - lo, equity, record)
}

#[inline]
fn run_stretch(
    broker: &Broker,
    close: &[f64],
    from: usize,
    to: usize,
    stats: &mut CurveStats,
    equity: &mut Vec<f64>,
    record: bool,
) {
    if from >= to {
        return;
    }
    match broker.position {
        None => {
            stats.push_flat(to - from);
            if record {
                equity.extend(std::iter::repeat_n(broker.cash, to - from));
            }
        }
        Some(p) if !record && crate::cpu_features::avx2_fma() => {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `cpu::avx2_fma()` checked AVX2 and FMA support.
            unsafe {
                simd::stretch(&close[from..to], broker.cash, p.size, p.cost, stats)
            };
        }
        Some(p) => {
            let cash = broker.cash;
            for &c in &close[from..to] {
                let e = cash + (c * p.size - p.cost);
                stats.push(e);
                if record {
                    equity.push(e);
                }
            }
        }
    }
}

fn finish(broker: Broker, stats: CurveStats, n: usize, equity: Vec<f64>, record: bool) -> BacktestResult {
    // The last equity value pushed: the final cash, plus a trade left open by backtesting.py's
    // final pass.
    let final_equity = if n > 1 { stats.prev } else { broker.cash };
    let metrics = Metrics {
        trades: broker.trades,
        final_equity,
        total_return_percent: (final_equity - STARTING_CASH) / STARTING_CASH * 100.0,
        max_drawdown_percent: (1.0 - stats.worst_ratio) * 100.0,
        sharpe_ratio: stats.sharpe(),
        sortino_ratio: stats.sortino(),
        exposure_percent: if n == 0 { 0.0 } else { broker.covered as f64 / n as f64 * 100.0 },
    };
    BacktestResult {
        metrics,
        record: record.then(|| Record { trades: broker.record.unwrap_or_default(), equity }),
    }
}
