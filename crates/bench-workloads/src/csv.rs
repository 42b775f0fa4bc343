//! Loading the OHLCV CSV (plain or gzip) into a [`Bundle`], with errors that name the file, the
//! line and the column.

use std::io::Read;
use std::path::Path;

use crate::bundle::{AssetSeries, Bundle, Provenance};
use crate::error::DataError;

/// Columns of the CSV, in order. `Adj Close` may be absent (then it repeats `Close`).
pub const COLUMNS: [&str; 8] = ["Ticker", "Date", "Open", "High", "Low", "Close", "Volume", "Adj Close"];

/// Longest accepted line, in bytes.
pub const MAX_LINE_BYTES: usize = 4096;

/// Days since 1970-01-01 of a `YYYY-MM-DD` date, or `None` when it is not a valid date.
pub fn parse_date(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i32> {
        s.get(r).filter(|t| t.bytes().all(|c| c.is_ascii_digit())).and_then(|t| t.parse().ok())
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month[(m - 1) as usize] {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// `YYYY-MM-DD` of a day count since 1970-01-01.
pub fn format_date(days: i32) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i32::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Reads a CSV file (gzip-compressed when it starts with the gzip magic bytes).
pub fn load_csv(path: &Path) -> Result<Bundle, DataError> {
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, &e))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 4);
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| DataError::file(path, format!("not a valid gzip stream: {e}")))?;
        out
    } else {
        raw
    };
    parse_csv(&bytes, path)
}

fn parse_number(text: &str, path: &Path, line: usize, column: &str) -> Result<f64, DataError> {
    if text.is_empty() {
        return Err(DataError::at(path, line, Some(column), "missing value; expected a number".into()));
    }
    let v: f64 = text
        .parse()
        .map_err(|_| DataError::at(path, line, Some(column), format!("{text:?} is not a number")))?;
    if !v.is_finite() {
        return Err(DataError::at(path, line, Some(column), format!("{text:?} is not a finite number")));
    }
    Ok(v)
}

fn parse_price(text: &str, path: &Path, line: usize, column: &str) -> Result<f64, DataError> {
    let v = parse_number(text, path, line, column)?;
    if v <= 0.0 {
        return Err(DataError::at(
            path,
            line,
            Some(column),
            format!("{text} is not a price; expected a number > 0"),
        ));
    }
    if let Some((_, frac)) = text.split_once('.') {
        let frac = frac.trim_end_matches('0');
        if frac.len() > 4 || frac.contains(['e', 'E']) {
            return Err(DataError::at(
                path,
                line,
                Some(column),
                format!("{text} has more than 4 decimal places; prices must be fixed-point with at most 4"),
            ));
        }
    } else if text.contains(['e', 'E']) {
        return Err(DataError::at(
            path,
            line,
            Some(column),
            format!("{text}: write prices in plain decimal notation"),
        ));
    }
    if v >= 1e9 {
        return Err(DataError::at(
            path,
            line,
            Some(column),
            format!("{text} is out of range; expected a price below 1e9"),
        ));
    }
    Ok(v)
}

/// Parses CSV bytes; `path` is used in error messages only.
pub fn parse_csv(bytes: &[u8], path: &Path) -> Result<Bundle, DataError> {
    let mut lines =
        bytes.split(|&b| b == b'\n').enumerate().map(|(i, l)| (i + 1, l.strip_suffix(b"\r").unwrap_or(l)));
    let (hline, hbytes) = lines.find(|(_, l)| !l.iter().all(u8::is_ascii_whitespace)).ok_or_else(|| {
        DataError::file(
            path,
            "empty file; expected a header line `Ticker,Date,Open,High,Low,Close,Volume,Adj Close`".into(),
        )
    })?;
    let htext = std::str::from_utf8(hbytes)
        .map_err(|_| DataError::at(path, hline, None, "header is not UTF-8 text".into()))?;
    let hcols: Vec<&str> = htext.split(',').map(str::trim).collect();
    let has_adj = hcols.len() == 8;
    if !(hcols.len() == 7 || hcols.len() == 8) || hcols.iter().zip(COLUMNS).any(|(a, b)| *a != b) {
        return Err(DataError::at(
            path,
            hline,
            None,
            format!(
                "header is {htext:?}; expected `Ticker,Date,Open,High,Low,Close,Volume` optionally followed by `,Adj Close`"
            ),
        ));
    }
    let ncols = hcols.len();
    let mut assets: Vec<AssetSeries> = Vec::new();
    for (line, raw) in lines {
        if raw.is_empty() {
            continue;
        }
        if raw.len() > MAX_LINE_BYTES {
            return Err(DataError::at(
                path,
                line,
                None,
                format!("line is {} bytes long; expected a CSV row under {MAX_LINE_BYTES} bytes", raw.len()),
            ));
        }
        let text = std::str::from_utf8(raw).map_err(|e| {
            DataError::at(
                path,
                line,
                None,
                format!("byte {} of the line is not valid UTF-8; expected UTF-8 text", e.valid_up_to() + 1),
            )
        })?;
        let fields: Vec<&str> = text.split(',').map(str::trim).collect();
        if fields.len() < ncols {
            return Err(DataError::at(
                path,
                line,
                Some(COLUMNS[fields.len()]),
                format!("missing field: the row has {} fields, expected {ncols}", fields.len()),
            ));
        }
        if fields.len() > ncols {
            return Err(DataError::at(
                path,
                line,
                None,
                format!("the row has {} fields, expected {ncols}", fields.len()),
            ));
        }
        let ticker = fields[0];
        if ticker.is_empty() {
            return Err(DataError::at(
                path,
                line,
                Some("Ticker"),
                "missing value; expected a ticker symbol".into(),
            ));
        }
        let date = parse_date(fields[1]).ok_or_else(|| {
            DataError::at(
                path,
                line,
                Some("Date"),
                format!("{:?} is not a date; expected YYYY-MM-DD", fields[1]),
            )
        })?;
        let open = parse_price(fields[2], path, line, "Open")?;
        let high = parse_price(fields[3], path, line, "High")?;
        let low = parse_price(fields[4], path, line, "Low")?;
        let close = parse_price(fields[5], path, line, "Close")?;
        let volume = parse_number(fields[6], path, line, "Volume")?;
        if volume < 0.0 {
            return Err(DataError::at(
                path,
                line,
                Some("Volume"),
                format!("{} is negative; expected a volume ≥ 0", fields[6]),
            ));
        }
        let adj = if has_adj { parse_number(fields[7], path, line, "Adj Close")? } else { close };
        if adj <= 0.0 {
            return Err(DataError::at(
                path,
                line,
                Some("Adj Close"),
                format!("{} is not a price; expected a number > 0", fields[7]),
            ));
        }
        if high < low {
            return Err(DataError::at(
                path,
                line,
                Some("High"),
                format!("high {high} is below low {low}; expected High ≥ Low"),
            ));
        }
        let new_block = assets.last().is_none_or(|a| a.symbol != ticker);
        if new_block {
            if assets.iter().any(|a| a.symbol == ticker) {
                return Err(DataError::at(
                    path,
                    line,
                    Some("Ticker"),
                    format!(
                        "rows of {ticker} resume after other tickers; expected each ticker's rows together, dates ascending"
                    ),
                ));
            }
            assets.push(AssetSeries {
                symbol: ticker.to_owned(),
                dates: Vec::new(),
                open: Vec::new(),
                high: Vec::new(),
                low: Vec::new(),
                close: Vec::new(),
                volume: Vec::new(),
                adj_close: Vec::new(),
            });
        }
        let a = assets.last_mut().expect("pushed above");
        if let Some(&prev) = a.dates.last()
            && date <= prev
        {
            return Err(DataError::at(
                path,
                line,
                Some("Date"),
                format!(
                    "{} is not after the previous date {} of {ticker}; expected strictly increasing dates (duplicate or unsorted)",
                    fields[1],
                    format_date(prev)
                ),
            ));
        }
        a.dates.push(date);
        a.open.push(open);
        a.high.push(high);
        a.low.push(low);
        a.close.push(close);
        a.volume.push(volume);
        a.adj_close.push(adj);
    }
    if assets.is_empty() {
        return Err(DataError::file(path, "no data rows after the header; expected at least one bar".into()));
    }
    Ok(Bundle { assets, provenance: Provenance::Real })
}

/// Checks a series' invariants (used for binary bundles, whose rows have no line numbers).
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
        if !col.iter().all(|&v| v > 0.0 && v < f64::INFINITY) {
            let i = col.iter().position(|&v| !(v > 0.0 && v < f64::INFINITY)).expect("a value failed");
            return Err(bad(i, format!("{name} is {}; expected a finite price > 0", col[i])));
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
