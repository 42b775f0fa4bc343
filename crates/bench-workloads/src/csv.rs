//! Loading the OHLCV CSV (plain or gzip) into a [`Bundle`], streamed: the file is decompressed
//! and parsed as it is read (the `csv` crate), a line longer than [`MAX_LINE_BYTES`] is refused
//! as soon as it is seen, and memory holds only the bars kept. Errors name the file, the line
//! and the column, and say what was expected.

use std::cell::Cell;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use crate::bundle::Bundle;
use crate::dates::parse_date;
use crate::error::DataError;
use crate::rows::{Bar, BundleBuilder, Place};

/// Columns of the CSV, in order. `Adj Close` may be absent (then it repeats `Close`).
pub const COLUMNS: [&str; 8] = ["Ticker", "Date", "Open", "High", "Low", "Close", "Volume", "Adj Close"];

/// Longest accepted line, in bytes (a trailing `\r` not counted).
pub const MAX_LINE_BYTES: usize = 4096;

/// How far past the limit a refused line is scanned to state its length (a file without
/// newlines, such as `/dev/zero`, is refused after this many bytes).
const MEASURE_LIMIT: usize = 16 << 20;

/// Largest accepted ratio of decompressed to compressed bytes, checked once
/// [`RATIO_CHECKED_AFTER`] bytes have come out: real OHLCV CSV compresses about 3–10×; a stream
/// that inflates 100× is almost surely a bomb (a genuine one can be decompressed first).
pub const MAX_DECOMPRESSION_RATIO: u64 = 100;

/// Decompressed bytes before the ratio is checked.
const RATIO_CHECKED_AFTER: u64 = 16 << 20;

/// Reads a CSV file (gzip-compressed when it starts with the gzip magic bytes), streamed.
pub fn load_csv(path: &Path) -> Result<Bundle, DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, &e))?;
    let mut input = BufReader::new(file);
    let head = input.fill_buf().map_err(|e| DataError::io(path, &e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let consumed = Rc::new(Cell::new(0));
        let counted = Counted { inner: input, consumed: Rc::clone(&consumed) };
        let inflated = RatioLimit { inner: flate2::bufread::MultiGzDecoder::new(counted), consumed, out: 0 };
        read_csv(inflated, path, true)
    } else {
        read_csv(input, path, false)
    }
}

/// Parses CSV bytes; `path` is used in error messages only.
pub fn parse_csv(bytes: &[u8], path: &Path) -> Result<Bundle, DataError> {
    read_csv(bytes, path, false)
}

/// A buffered reader that counts the bytes taken from it (the compressed side of a gzip stream).
struct Counted<R> {
    inner: R,
    consumed: Rc<Cell<u64>>,
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.set(self.consumed.get() + n as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.consumed.set(self.consumed.get() + amt as u64);
        self.inner.consume(amt);
    }
}

/// A stream that inflated past [`MAX_DECOMPRESSION_RATIO`].
#[derive(Debug)]
struct Bomb {
    compressed: u64,
    out: u64,
}

impl std::fmt::Display for Bomb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the gzip stream inflates more than {MAX_DECOMPRESSION_RATIO}× ({} from {} so far): refused as a likely decompression bomb; decompress a genuine file first (gunzip) and read it as plain CSV",
            bench_core::units::bytes(self.out),
            bench_core::units::bytes(self.compressed)
        )
    }
}

impl std::error::Error for Bomb {}

/// Decompressed bytes, failed as soon as they outgrow the compressed ones past the ratio.
struct RatioLimit<R> {
    inner: R,
    consumed: Rc<Cell<u64>>,
    out: u64,
}

impl<R: Read> Read for RatioLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        let compressed = self.consumed.get().max(1);
        if self.out > RATIO_CHECKED_AFTER && self.out > MAX_DECOMPRESSION_RATIO.saturating_mul(compressed) {
            let bomb = Bomb { compressed, out: self.out };
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, bomb));
        }
        Ok(n)
    }
}

/// A line that is too long: where it starts and how long it is (or at least is).
#[derive(Debug)]
struct LineTooLong {
    line: usize,
    bytes: usize,
    complete: bool,
}

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {} is {} bytes long", self.line, self.bytes)
    }
}

impl std::error::Error for LineTooLong {}

/// Passes bytes through while counting lines, and fails the read as soon as a line exceeds
/// the limit, so no reader above it ever buffers a long line.
struct LineLimit<R> {
    inner: R,
    limit: usize,
    line: usize,
    len: usize,
    last: u8,
    pending: Option<LineTooLong>,
}

impl<R: Read> LineLimit<R> {
    fn new(inner: R, limit: usize) -> Self {
        Self { inner, limit, line: 1, len: 0, last: 0, pending: None }
    }

    /// Counts the rest of the refused line (up to [`MEASURE_LIMIT`] more bytes) to state its
    /// length, reading and discarding.
    fn measure(&mut self, rest: &[u8]) -> LineTooLong {
        let mut n = self.len;
        let done = |n: usize, complete: bool, line: usize| LineTooLong { line, bytes: n, complete };
        if let Some(i) = rest.iter().position(|&b| b == b'\n') {
            let cr = usize::from(i > 0 && rest[i - 1] == b'\r');
            return done(n + i - cr, true, self.line);
        }
        n += rest.len();
        let mut buf = [0u8; 8192];
        while n < self.len + MEASURE_LIMIT {
            match self.inner.read(&mut buf) {
                Ok(0) => return done(n, true, self.line),
                // The stream failed past this point (e.g. refused as a bomb): the line is at
                // least this long.
                Err(_) => return done(n, false, self.line),
                Ok(k) => match buf[..k].iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        return done(n + i - usize::from(i > 0 && buf[i - 1] == b'\r'), true, self.line);
                    }
                    None => n += k,
                },
            }
        }
        done(n, false, self.line)
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(e) = self.pending.take() {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e));
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            // The last line, without a line end.
            let effective = self.len - usize::from(self.last == b'\r');
            if effective > self.limit {
                self.len = 0;
                let e = LineTooLong { line: self.line, bytes: effective, complete: true };
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e));
            }
        }
        for i in 0..n {
            let b = buf[i];
            if b == b'\n' {
                let effective = self.len - usize::from(self.last == b'\r');
                if effective > self.limit {
                    self.pending = Some(LineTooLong { line: self.line, bytes: effective, complete: true });
                    return if i == 0 { self.read(buf) } else { Ok(i) };
                }
                self.line += 1;
                self.len = 0;
            } else {
                self.len += 1;
                // One byte over may still be the `\r` of a `\r\n`; two over is too long.
                if self.len > self.limit + 1 {
                    let rest = buf[i + 1..n].to_vec();
                    self.pending = Some(self.measure(&rest));
                    return if i == 0 { self.read(buf) } else { Ok(i) };
                }
            }
            self.last = b;
        }
        Ok(n)
    }
}

fn parse_number(text: &str, b: &BundleBuilder<'_>, place: Place, column: &str) -> Result<f64, DataError> {
    if text.is_empty() {
        return Err(b.error(place, Some(column), "missing value; expected a number".into()));
    }
    let v: f64 =
        text.parse().map_err(|_| b.error(place, Some(column), format!("{text:?} is not a number")))?;
    if !v.is_finite() {
        return Err(b.error(place, Some(column), format!("{text:?} is not a finite number")));
    }
    Ok(v)
}

fn parse_price(text: &str, b: &BundleBuilder<'_>, place: Place, column: &str) -> Result<f64, DataError> {
    let v = parse_number(text, b, place, column)?;
    if v > 0.0 && text.contains(['e', 'E']) && !text.contains('.') {
        return Err(b.error(place, Some(column), format!("{text}: write prices in plain decimal notation")));
    }
    let exact = match text.split_once('.') {
        Some((_, frac)) => {
            let frac = frac.trim_end_matches('0');
            frac.len() <= 4 && !frac.contains(['e', 'E'])
        }
        None => true,
    };
    b.price(v, text, exact || v <= 0.0, place, column)
}

fn read_csv(input: impl Read, path: &Path, compressed: bool) -> Result<Bundle, DataError> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .quoting(false)
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_reader(LineLimit::new(input, MAX_LINE_BYTES));
    let read_error = |e: ::csv::Error| -> DataError {
        let line = e.position().map_or(0, |p| p.line() as usize);
        match e.into_kind() {
            ::csv::ErrorKind::Io(io) if io.get_ref().is_some_and(|x| x.is::<Bomb>()) => {
                DataError::file(path, io.get_ref().map(ToString::to_string).unwrap_or_default())
            }
            ::csv::ErrorKind::Io(io) => match io.get_ref().and_then(|x| x.downcast_ref::<LineTooLong>()) {
                Some(long) if long.complete => DataError::at(
                    path,
                    long.line,
                    None,
                    format!(
                        "line is {} bytes long; expected a CSV row under {MAX_LINE_BYTES} bytes",
                        long.bytes
                    ),
                ),
                Some(long) => DataError::at(
                    path,
                    long.line,
                    None,
                    format!(
                        "line is more than {} bytes long (no line end found); expected a CSV row under {MAX_LINE_BYTES} bytes",
                        long.bytes
                    ),
                ),
                None if compressed => DataError::file(path, format!("not a valid gzip stream: {io}")),
                None => DataError::io(path, &io),
            },
            other => DataError::at(path, line, None, format!("not CSV: {other:?}")),
        }
    };
    let mut record = ::csv::ByteRecord::new();
    let builder = BundleBuilder::new(path);
    // The header: the first line that is not blank.
    let hline = loop {
        if !reader.read_byte_record(&mut record).map_err(read_error)? {
            return Err(DataError::file(
                path,
                "empty file; expected a header line `Ticker,Date,Open,High,Low,Close,Volume,Adj Close`"
                    .into(),
            ));
        }
        if !record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            break record.position().map_or(1, |p| p.line() as usize);
        }
    };
    let header: Vec<String> = record
        .iter()
        .map(|f| std::str::from_utf8(f).map(|s| s.trim().to_owned()))
        .collect::<Result<_, _>>()
        .map_err(|_| builder.error(Place::Line(hline), None, "header is not UTF-8 text".into()))?;
    let ncols = header.len();
    if !(ncols == 7 || ncols == 8) || header.iter().zip(COLUMNS).any(|(a, b)| a != b) {
        return Err(builder.error(
            Place::Line(hline),
            None,
            format!(
                "header is {:?}; expected `Ticker,Date,Open,High,Low,Close,Volume` optionally followed by `,Adj Close`",
                header.join(",")
            ),
        ));
    }
    let has_adj = ncols == 8;
    let mut builder = builder;
    while reader.read_byte_record(&mut record).map_err(read_error)? {
        let line = record.position().map_or(0, |p| p.line() as usize);
        let place = Place::Line(line);
        if record.len() == 1 && (record[0].is_empty() || &record[0] == b"\r") {
            continue;
        }
        let mut fields: Vec<&str> = Vec::with_capacity(ncols + 1);
        let mut offset = 0;
        for f in record.iter() {
            let text = std::str::from_utf8(f).map_err(|e| {
                builder.error(
                    place,
                    None,
                    format!(
                        "byte {} of the line is not valid UTF-8; expected UTF-8 text",
                        offset + e.valid_up_to() + 1
                    ),
                )
            })?;
            offset += f.len() + 1;
            fields.push(text.trim());
        }
        if fields.len() < ncols {
            return Err(builder.error(
                place,
                Some(COLUMNS[fields.len()]),
                format!("missing field: the row has {} fields, expected {ncols}", fields.len()),
            ));
        }
        if fields.len() > ncols {
            return Err(builder.error(
                place,
                None,
                format!("the row has {} fields, expected {ncols}", fields.len()),
            ));
        }
        if fields[0].is_empty() {
            return Err(builder.error(
                place,
                Some("Ticker"),
                "missing value; expected a ticker symbol".into(),
            ));
        }
        let date = parse_date(fields[1]).ok_or_else(|| {
            builder.error(place, Some("Date"), format!("{:?} is not a date; expected YYYY-MM-DD", fields[1]))
        })?;
        let open = parse_price(fields[2], &builder, place, "Open")?;
        let high = parse_price(fields[3], &builder, place, "High")?;
        let low = parse_price(fields[4], &builder, place, "Low")?;
        let close = parse_price(fields[5], &builder, place, "Close")?;
        let volume = parse_number(fields[6], &builder, place, "Volume")?;
        let volume = builder.volume(volume, fields[6], place)?;
        let adj_close = if has_adj { parse_number(fields[7], &builder, place, "Adj Close")? } else { close };
        if adj_close <= 0.0 {
            return Err(builder.error(
                place,
                Some("Adj Close"),
                format!("{} is not a price; expected a number > 0", fields[7]),
            ));
        }
        let bar =
            Bar { ticker: fields[0], date, date_text: fields[1], open, high, low, close, volume, adj_close };
        builder.push(bar, place)?;
    }
    builder.finish()
}
