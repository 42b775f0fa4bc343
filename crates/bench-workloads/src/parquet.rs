//! Loading OHLCV bars from Parquet, the format most data vendors and zipline-style bundles
//! store them in: the columns of the CSV (`Ticker`, `Date`, `Open`, `High`, `Low`, `Close`,
//! `Volume`, optionally `Adj Close`, in any order, extra columns ignored), each ticker's rows
//! together with ascending dates, and the same checks as the CSV reader.
//!
//! Accepted column types: `Ticker` text; `Date` a DATE, a TIMESTAMP (milli-, micro- or
//! nanoseconds, taken at its UTC day) or `YYYY-MM-DD` text; prices DOUBLE, FLOAT or integer;
//! `Volume` any number. A column of another type, a missing column or a damaged file is
//! refused with the column or the file named.

use std::path::Path;

use parquet::basic::{LogicalType, TimeUnit, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use crate::bundle::Bundle;
use crate::csv::COLUMNS;
use crate::dates::parse_date;
use crate::error::DataError;
use crate::rows::{Bar, BundleBuilder, Place};

/// The first four bytes of a Parquet file.
pub const MAGIC: &[u8] = b"PAR1";

/// How a file stores its dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateKind {
    Days,
    Millis,
    Micros,
    Nanos,
    Text,
}

/// Reads a Parquet file of OHLCV bars.
pub fn load_parquet(path: &Path) -> Result<Bundle, DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, &e))?;
    let reader = SerializedFileReader::new(file)
        .map_err(|e| DataError::file(path, format!("not a readable Parquet file: {e}")))?;
    // The decoders of the parquet crate panic on a few malformed inputs ("not yet
    // implemented" type combinations); a damaged file must be refused, never abort.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_rows(&reader, path))) {
        Ok(r) => r,
        Err(_) => {
            Err(DataError::file(path, "a damaged or unsupported Parquet file (its decoder failed)".into()))
        }
    }
}

fn read_rows(reader: &SerializedFileReader<std::fs::File>, path: &Path) -> Result<Bundle, DataError> {
    // What the file says it holds is checked before a page is read: the rows (kept as bars)
    // and each row group's decompressed size (one group is decoded at a time).
    let budget = bench_core::limits::memory_limit();
    let meta = reader.metadata();
    let limit = |e: bench_core::limits::LimitError| DataError::file(path, e.to_string());
    let rows = u128::try_from(meta.file_metadata().num_rows()).unwrap_or(0);
    budget
        .check(
            &format!("{} rows", bench_core::units::count(rows as u64)),
            rows,
            3 * u128::from(crate::bundle::BAR_BYTES),
        )
        .map_err(limit)?;
    for (i, g) in meta.row_groups().iter().enumerate() {
        let size = u128::try_from(g.total_byte_size()).unwrap_or(u128::MAX);
        budget.check_bytes(&format!("row group {i} (decompressed)"), size).map_err(limit)?;
    }
    let schema = reader.metadata().file_metadata().schema_descr().root_schema().clone();
    let fields = schema.get_fields();
    let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
    let index = |column: &str| -> Result<usize, DataError> {
        names.iter().position(|n| *n == column).ok_or_else(|| {
            DataError::column(
                path,
                column,
                format!(
                    "missing; the file has columns {}; expected {} (Adj Close optional)",
                    names.join(", "),
                    COLUMNS.join(", ")
                ),
            )
        })
    };
    let kind = |i: usize| -> (Physical, Option<LogicalType>) {
        let t = &fields[i];
        if t.is_primitive() {
            (t.get_physical_type(), t.get_basic_info().logical_type_ref().cloned())
        } else {
            (Physical::FIXED_LEN_BYTE_ARRAY, None)
        }
    };
    let wrong = |column: &str, i: usize, expected: &str| {
        let (p, l) = kind(i);
        let found = match (fields[i].is_group(), l) {
            (true, _) => "a nested group".to_owned(),
            (false, Some(l)) => format!("{p} ({l:?})"),
            (false, None) => format!("{p}"),
        };
        DataError::column(path, column, format!("is {found}; expected {expected}"))
    };
    let is_text = |i: usize| {
        let (p, l) = kind(i);
        p == Physical::BYTE_ARRAY && matches!(l, None | Some(LogicalType::String))
    };
    let is_number = |i: usize| {
        let (p, l) = kind(i);
        matches!(p, Physical::DOUBLE | Physical::FLOAT | Physical::INT32 | Physical::INT64)
            && matches!(l, None | Some(LogicalType::Integer { .. }))
    };
    let ticker = index("Ticker")?;
    if !is_text(ticker) {
        return Err(wrong("Ticker", ticker, "text (a UTF-8 BYTE_ARRAY)"));
    }
    let date = index("Date")?;
    let date_kind = match kind(date) {
        (Physical::INT32, Some(LogicalType::Date)) => DateKind::Days,
        (Physical::INT64, Some(LogicalType::Timestamp(t))) => match t.unit {
            TimeUnit::MILLIS => DateKind::Millis,
            TimeUnit::MICROS => DateKind::Micros,
            TimeUnit::NANOS => DateKind::Nanos,
        },
        _ if is_text(date) => DateKind::Text,
        _ => return Err(wrong("Date", date, "a DATE, a TIMESTAMP or YYYY-MM-DD text")),
    };
    let mut numeric = Vec::new();
    for column in ["Open", "High", "Low", "Close", "Volume"] {
        let i = index(column)?;
        if !is_number(i) {
            return Err(wrong(column, i, "a number (DOUBLE, FLOAT, INT32 or INT64)"));
        }
        numeric.push(i);
    }
    let adj = names.iter().position(|n| *n == "Adj Close");
    if let Some(i) = adj
        && !is_number(i)
    {
        return Err(wrong("Adj Close", i, "a number (DOUBLE, FLOAT, INT32 or INT64)"));
    }
    let mut builder = BundleBuilder::new(path);
    let mut row_number = 0usize;
    for g in 0..reader.num_row_groups() {
        let group = reader
            .get_row_group(g)
            .map_err(|e| DataError::file(path, format!("row group {g} cannot be read: {e}")))?;
        let rows = group
            .get_row_iter(None)
            .map_err(|e| DataError::file(path, format!("row group {g} cannot be read: {e}")))?;
        for row in rows {
            row_number += 1;
            let place = Place::Row(row_number);
            let row = row.map_err(|e| builder.error(place, None, format!("cannot be decoded: {e}")))?;
            let cells: Vec<&Field> = row.get_column_iter().map(|(_, f)| f).collect();
            let ticker_text = match cells[ticker] {
                Field::Str(s) => s.as_str(),
                Field::Null => "",
                other => return Err(builder.error(place, Some("Ticker"), format!("{other} is not text"))),
            };
            let (days, date_text) = match (date_kind, cells[date]) {
                (DateKind::Days, Field::Date(d)) => (*d, crate::dates::format_date(*d)),
                (DateKind::Millis, Field::TimestampMillis(t)) => day_of(*t, 86_400_000),
                (DateKind::Micros, Field::TimestampMicros(t)) => day_of(*t, 86_400_000_000),
                (DateKind::Nanos, Field::Long(t)) => day_of(*t, 86_400_000_000_000),
                (DateKind::Text, Field::Str(s)) => match parse_date(s) {
                    Some(d) => (d, s.clone()),
                    None => {
                        return Err(builder.error(
                            place,
                            Some("Date"),
                            format!("{s:?} is not a date; expected YYYY-MM-DD"),
                        ));
                    }
                },
                (_, Field::Null) => {
                    return Err(builder.error(place, Some("Date"), "missing value; expected a date".into()));
                }
                (_, other) => {
                    return Err(builder.error(place, Some("Date"), format!("{other} is not a date")));
                }
            };
            let number = |column: &str, f: &Field| -> Result<f64, DataError> {
                match f {
                    Field::Double(x) => Ok(*x),
                    Field::Float(x) => Ok(f64::from(*x)),
                    Field::Int(x) => Ok(f64::from(*x)),
                    Field::Long(x) => Ok(*x as f64),
                    Field::Null => {
                        Err(builder.error(place, Some(column), "missing value; expected a number".into()))
                    }
                    other => Err(builder.error(place, Some(column), format!("{other} is not a number"))),
                }
            };
            let price = |column: &str, i: usize| -> Result<f64, DataError> {
                let v = number(column, cells[i])?;
                builder.price(
                    v,
                    &v.to_string(),
                    BundleBuilder::has_four_decimals(v) || v <= 0.0,
                    place,
                    column,
                )
            };
            let open = price("Open", numeric[0])?;
            let high = price("High", numeric[1])?;
            let low = price("Low", numeric[2])?;
            let close = price("Close", numeric[3])?;
            let v = number("Volume", cells[numeric[4]])?;
            let volume = builder.volume(v, &v.to_string(), place)?;
            let adj_close = match adj {
                Some(i) => number("Adj Close", cells[i])?,
                None => close,
            };
            let bar = Bar {
                ticker: ticker_text,
                date: days,
                date_text: &date_text,
                open,
                high,
                low,
                close,
                volume,
                adj_close,
            };
            builder.push(bar, place)?;
        }
    }
    builder.finish()
}

/// The UTC day (days since 1970-01-01) of a timestamp with `per_day` units per day, and its
/// `YYYY-MM-DD`.
fn day_of(t: i64, per_day: i64) -> (i32, String) {
    let d = i32::try_from(t.div_euclid(per_day)).unwrap_or(i32::MAX);
    (d, crate::dates::format_date(d))
}
