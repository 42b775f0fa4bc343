//! What the golden tests share: a trade as the fixtures write it.

/// A trade as backtesting.py's fixtures list it: entry bar, exit bar, size, entry and exit price.
pub type TradeRow = (u32, u32, i64, f64, f64);

/// `trades` as the fixtures list them.
pub fn trade_rows(trades: &[bench_workloads::Trade]) -> Vec<TradeRow> {
    trades.iter().map(|t| (t.entry_bar, t.exit_bar, t.size, t.entry_price, t.exit_price)).collect()
}
