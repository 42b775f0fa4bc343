#!/usr/bin/env python3
"""Write the Parquet test fixtures of bench-workloads with pyarrow, an
implementation independent of this repository.

HOW TO RUN (from the repository root):

    python3 -m venv /tmp/pq-venv
    /tmp/pq-venv/bin/pip install -r crates/bench-workloads/tests/parquet/requirements.txt
    /tmp/pq-venv/bin/python crates/bench-workloads/tests/parquet/make_fixtures.py

It reads ``data/stocks.csv.gz`` with ``pyarrow.csv`` (no pandas, no code of
this repository), keeps the file's row order, and (over)writes in this folder:

* ``stocks.parquet`` -- all 12,154 rows.  Schema: Ticker utf8, Date date32,
  Open/High/Low/Close float64, Volume int64, Adj Close float64 (the CSV's
  column order).  Snappy, row groups of ``ROW_GROUP_SIZE`` rows.
* ``stocks_zstd_string_dates.parquet`` -- GOOG and FB rows only; Date as utf8
  ``YYYY-MM-DD``, Volume as float64; zstd.
* ``bad_wrong_type.parquet`` -- FB rows; ``Close`` stored as utf8, the CSV's
  own text of each price (e.g. ``"38.23"``, ``"38.0"``).
* ``bad_missing_column.parquet`` -- FB rows without ``Volume``.
* ``bad_truncated.parquet`` -- a valid file of the FB rows (same schema and
  options as ``stocks.parquet``) cut to its first half: no footer.
* ``README.md`` -- what each file is, how to regenerate them, the pyarrow
  version and every file's sha256.

Output is deterministic for a given pyarrow version: no timestamps are
written (the footer's ``created_by`` names the pyarrow/parquet-cpp version),
and every writer option that shapes the bytes is given explicitly.

Before writing the README the script reads every file back and checks it:
``stocks.parquet`` is compared value by value with the CSV parsed by the
standard library alone (``gzip`` + ``csv``; prices as ``float(text)``, Date as
the ISO text), and each bad file is checked to be bad in the intended way.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import sys
from pathlib import Path
from typing import Any, Final, Literal, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

HERE: Final[Path] = Path(__file__).resolve().parent
REPO_ROOT: Final[Path] = HERE.parents[3]
CSV_PATH: Final[Path] = REPO_ROOT / "data" / "stocks.csv.gz"

EXPECTED_ROWS: Final[int] = 12_154
ROW_GROUP_SIZE: Final[int] = 4096
PRICE_COLUMNS: Final[tuple[str, ...]] = ("Open", "High", "Low", "Close", "Adj Close")

#: The CSV's columns, in file order, with the types of ``stocks.parquet``.
#: Fields are nullable (as pyarrow.csv makes them; no value is null), so they
#: are written as OPTIONAL Parquet columns.
_COLUMNS: Final[list[tuple[str, pa.DataType]]] = [
    ("Ticker", pa.string()),
    ("Date", pa.date32()),
    ("Open", pa.float64()),
    ("High", pa.float64()),
    ("Low", pa.float64()),
    ("Close", pa.float64()),
    ("Volume", pa.int64()),
    ("Adj Close", pa.float64()),
]
SCHEMA: Final[pa.Schema] = pa.schema(_COLUMNS)

Codec = Literal["snappy", "zstd"]

FILES: Final[dict[str, str]] = {
    "stocks.parquet": (
        f"All {EXPECTED_ROWS:,} rows of `data/stocks.csv.gz` in file order. "
        "Ticker utf8, Date date32, Open/High/Low/Close/Adj Close float64, Volume int64. "
        f"Snappy, row groups of {ROW_GROUP_SIZE} rows."
    ),
    "stocks_zstd_string_dates.parquet": (
        "GOOG then FB rows only (file order). Date as utf8 `YYYY-MM-DD`, Volume as float64, "
        "other columns as in `stocks.parquet`. Zstd, one row group, dictionary encoding off "
        "(PLAIN pages), unlike every other file."
    ),
    "bad_wrong_type.parquet": (
        "Bad: FB rows with `Close` stored as utf8 (the CSV's text of each price, e.g. "
        '`"38.23"`); other columns as in `stocks.parquet`. Snappy, one row group.'
    ),
    "bad_missing_column.parquet": (
        "Bad: FB rows without the `Volume` column; other columns as in `stocks.parquet`. "
        "Snappy, one row group."
    ),
    "bad_truncated.parquet": (
        "Bad: a valid file of the FB rows (schema and options of `stocks.parquet`) cut at "
        "half its length, so the footer (and the trailing `PAR1` magic) is missing."
    ),
}


def read_csv(string_columns: Sequence[str] = ()) -> pa.Table:
    """Read the bundled CSV with pyarrow.csv, row order kept.

    Every column's type is given explicitly (``SCHEMA``), except the columns
    named in ``string_columns``, which are kept as the CSV's raw text.  No
    value may be null.
    """
    types: dict[str, pa.DataType] = {f.name: f.type for f in SCHEMA}
    for name in string_columns:
        types[name] = pa.string()
    table = pacsv.read_csv(
        CSV_PATH,  # decompressed by pyarrow: the name ends in .gz
        read_options=pacsv.ReadOptions(use_threads=False),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            include_columns=SCHEMA.names,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    if table.num_rows != EXPECTED_ROWS:
        raise SystemExit(f"{CSV_PATH}: {table.num_rows} rows, expected {EXPECTED_ROWS}")
    for name in table.column_names:
        if table.column(name).null_count:
            raise SystemExit(f"{CSV_PATH}: nulls in column {name!r}")
    expected = pa.schema([pa.field(n, types[n]) for n in SCHEMA.names])
    if not table.schema.equals(expected):
        raise SystemExit(f"unexpected schema:\n{table.schema}\nexpected:\n{expected}")
    return table.combine_chunks()


def rows_of(table: pa.Table, tickers: Sequence[str]) -> pa.Table:
    """The rows whose Ticker is in ``tickers``, in their original order."""
    return table.filter(pc.is_in(table.column("Ticker"), value_set=pa.array(list(tickers))))


def write(
    table: pa.Table,
    where: str | Path | io.BytesIO,
    compression: Codec = "snappy",
    row_group_size: int | None = None,
    use_dictionary: bool = True,
) -> None:
    """Write ``table`` with every option that shapes the bytes spelled out.

    ``row_group_size`` None means one row group for the whole table.
    """
    pq.write_table(
        table,
        where,
        row_group_size=row_group_size if row_group_size is not None else max(table.num_rows, 1),
        compression=compression,
        version="2.6",
        data_page_version="1.0",
        use_dictionary=use_dictionary,
        write_statistics=True,
    )


def values(table: pa.Table, name: str) -> list[Any]:
    """Column ``name`` as Python objects (no column here holds a null)."""
    return table.column(name).to_pylist()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify_stocks(path: Path) -> None:
    """Check ``stocks.parquet`` against the CSV parsed by the standard library."""
    table = pq.read_table(path)
    if table.num_rows != EXPECTED_ROWS:
        raise SystemExit(f"{path.name}: {table.num_rows} rows")
    if not table.schema.remove_metadata().equals(SCHEMA):
        raise SystemExit(f"{path.name}: schema\n{table.schema}")
    cols = {name: values(table, name) for name in table.column_names}
    with gzip.open(CSV_PATH, "rt", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        if header != SCHEMA.names:
            raise SystemExit(f"CSV header {header}")
        n = 0
        for i, rec in enumerate(reader):
            row = dict(zip(header, rec, strict=True))
            if cols["Ticker"][i] != row["Ticker"]:
                raise SystemExit(f"row {i}: Ticker {cols['Ticker'][i]!r} != {row['Ticker']!r}")
            if cols["Date"][i].isoformat() != row["Date"]:
                raise SystemExit(f"row {i}: Date {cols['Date'][i]} != {row['Date']}")
            for name in PRICE_COLUMNS:
                got, want = cols[name][i], float(row[name])
                # Exact equality of the bits (and of the type) is intended.
                if type(got) is not float or got.hex() != want.hex():
                    raise SystemExit(f"row {i}: {name} {got!r} != {want!r}")
            if cols["Volume"][i] != int(row["Volume"]):
                raise SystemExit(f"row {i}: Volume {cols['Volume'][i]} != {row['Volume']}")
            n += 1
    if n != EXPECTED_ROWS:
        raise SystemExit(f"CSV has {n} rows")
    meta = pq.ParquetFile(path).metadata
    if meta.num_row_groups != -(-EXPECTED_ROWS // ROW_GROUP_SIZE):
        raise SystemExit(f"{path.name}: {meta.num_row_groups} row groups")


def verify_others(full: pa.Table) -> None:
    """Check that the other files hold what they should (or fail as they should)."""
    fb = rows_of(full, ["FB"])
    goog_fb = rows_of(full, ["GOOG", "FB"])

    t = pq.read_table(HERE / "stocks_zstd_string_dates.parquet")
    if values(t, "Date") != [d.isoformat() for d in values(goog_fb, "Date")]:
        raise SystemExit("zstd file: Date text")
    if t.column("Volume").type != pa.float64() or values(t, "Volume") != [
        float(v) for v in values(goog_fb, "Volume")
    ]:
        raise SystemExit("zstd file: Volume")
    for name in ("Ticker", *PRICE_COLUMNS):
        if not t.column(name).equals(goog_fb.column(name)):
            raise SystemExit(f"zstd file: {name}")

    t = pq.read_table(HERE / "bad_wrong_type.parquet")
    if t.schema.field("Close").type != pa.string():
        raise SystemExit("bad_wrong_type: Close is not utf8")
    if [float(s) for s in values(t, "Close")] != values(fb, "Close"):
        raise SystemExit("bad_wrong_type: Close values")

    t = pq.read_table(HERE / "bad_missing_column.parquet")
    if "Volume" in t.column_names or t.num_rows != fb.num_rows:
        raise SystemExit("bad_missing_column")

    try:
        pq.read_table(HERE / "bad_truncated.parquet")
    except pa.ArrowInvalid:
        pass
    else:
        raise SystemExit("bad_truncated.parquet reads")


def describe(path: Path) -> str:
    """Codec(s), row groups and rows of one readable Parquet file."""
    meta = pq.ParquetFile(path).metadata
    codecs = sorted(
        {
            meta.row_group(g).column(c).compression
            for g in range(meta.num_row_groups)
            for c in range(meta.num_columns)
        }
    )
    return f"{'/'.join(codecs)}, {meta.num_row_groups} row group(s), {meta.num_rows} rows"


def write_readme(names: Sequence[str]) -> None:
    lines = [
        "# Parquet fixtures (written by pyarrow)",
        "",
        "Generated by `make_fixtures.py` from `data/stocks.csv.gz` with pyarrow "
        f"{pa.__version__} (Python {sys.version.split()[0]}), independently of this repository's "
        "code. Do not edit by hand. Regenerate from the repository root with:",
        "",
        "```sh",
        "python3 -m venv /tmp/pq-venv",
        "/tmp/pq-venv/bin/pip install -r crates/bench-workloads/tests/parquet/requirements.txt",
        "/tmp/pq-venv/bin/python crates/bench-workloads/tests/parquet/make_fixtures.py",
        "```",
        "",
        "The output is byte-for-byte deterministic for a given pyarrow version; the sha256 "
        "values below change only with the pyarrow version (its `created_by` string and "
        "encoder) or the source data. The script also checks `stocks.parquet` value by value "
        "against the CSV parsed with Python's standard library (prices as `float(text)`, bit "
        "for bit; Date as ISO text), and that each bad file is bad in the intended way.",
        "",
        "Writer options (all files): Parquet format version 2.6, data page version 1.0, "
        "statistics on, and dictionary encoding on (pyarrow's default: a PLAIN dictionary "
        "page then RLE_DICTIONARY data pages per column chunk) except in "
        "`stocks_zstd_string_dates.parquet`, whose data pages are PLAIN, so that a reader "
        "is tested on both encodings.",
        "",
        "Types as written by pyarrow: utf8 is Parquet BYTE_ARRAY with the STRING logical "
        "type, date32 is INT32 with the DATE logical type (days since 1970-01-01), float64 "
        "is DOUBLE, int64 is INT64. Every column is OPTIONAL (pyarrow writes nullable "
        "fields) but holds no null. The footer also holds the Arrow schema under the "
        "`ARROW:schema` key.",
        "",
        "| file | bytes | content | codec, row groups |",
        "|---|---:|---|---|",
    ]
    for name in names:
        path = HERE / name
        shape = (
            "(unreadable)" if name == "bad_truncated.parquet" else describe(path)
        )
        lines.append(f"| `{name}` | {path.stat().st_size:,} | {FILES[name]} | {shape} |")
    lines += ["", "sha256:", "", "```"]
    lines += [f"{sha256(HERE / name)}  {name}" for name in names]
    lines += [
        "```",
        "",
        f"Source: `data/stocks.csv.gz`, sha256 `{sha256(CSV_PATH)}`.",
        "",
    ]
    (HERE / "README.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    full = read_csv()
    close_text = read_csv(string_columns=["Close"])

    write(full, HERE / "stocks.parquet", row_group_size=ROW_GROUP_SIZE)

    goog_fb = rows_of(full, ["GOOG", "FB"])
    goog_fb = goog_fb.set_column(
        goog_fb.schema.get_field_index("Date"), "Date", goog_fb.column("Date").cast(pa.string())
    )
    goog_fb = goog_fb.set_column(
        goog_fb.schema.get_field_index("Volume"),
        "Volume",
        goog_fb.column("Volume").cast(pa.float64()),
    )
    write(
        goog_fb,
        HERE / "stocks_zstd_string_dates.parquet",
        compression="zstd",
        use_dictionary=False,
    )

    write(rows_of(close_text, ["FB"]), HERE / "bad_wrong_type.parquet")

    write(rows_of(full, ["FB"]).drop_columns(["Volume"]), HERE / "bad_missing_column.parquet")

    buf = io.BytesIO()
    write(rows_of(full, ["FB"]), buf)
    whole = buf.getvalue()
    (HERE / "bad_truncated.parquet").write_bytes(whole[: len(whole) // 2])

    verify_stocks(HERE / "stocks.parquet")
    verify_others(full)
    write_readme(list(FILES))
    for name in FILES:
        print(f"{sha256(HERE / name)}  {(HERE / name).stat().st_size:>8}  {name}")


if __name__ == "__main__":
    main()
