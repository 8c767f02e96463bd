"""Deterministic table I/O: same frame in, same bytes out (CSV or Parquet)."""

from __future__ import annotations

import csv
import difflib
import io
from pathlib import Path
from typing import Iterable

import pandas as pd

from evidence_review.atomic import atomic_path, atomic_write_text
from evidence_review.errors import InputError

MULTI_SEP = "; "  # how multi-valued fields are joined in CSV


def to_csv_text(df: pd.DataFrame) -> str:
    """CSV text with a fixed line ending and float format, so reruns are byte-identical."""
    return df.to_csv(index=False, lineterminator="\n", float_format="%.10g")


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` atomically as CSV or Parquet, chosen by the file suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        atomic_write_text(path, to_csv_text(df))
    elif suffix in (".parquet", ".pq"):
        with atomic_path(path) as tmp:
            df.to_parquet(tmp, index=False)
    else:
        raise InputError("output must end in .csv or .parquet", file=path)
    return path


def read_csv_strict(path: str | Path, required: list[str] | tuple[str, ...] = (),
                    known: Iterable[str] | None = None) -> pd.DataFrame:
    """Read a curated CSV as strings (no type guessing), refusing what pandas would silently bend.

    Fails naming the file, row and field for: a missing file or column, a duplicate column name (pandas
    would rename it ``x.1``), a row with more or fewer fields than the header (pandas would shift it into
    an index or pad it), and, when ``known`` is given, a column outside it (a typo would otherwise be
    ignored), with the closest known name as a suggestion.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    if path.is_dir():
        raise InputError("is a folder; give the path of a CSV file", file=path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8 CSV", file=path) from exc
    header = _check_shape(text, path)
    names = set(header)
    missing = [c for c in required if c not in names]
    if missing:
        raise InputError(f"missing column(s): {', '.join(missing)}", file=path, row=1, field=missing[0])
    if known is not None:
        allowed = set(known) | set(required)
        for name in header:
            if name not in allowed:
                hint = difflib.get_close_matches(name, sorted(allowed), n=1)
                tip = f"; did you mean '{hint[0]}'?" if hint else ""
                raise InputError(f"unknown column{tip}", file=path, row=1, field=name)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[], index_col=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read CSV: {exc}", file=path) from exc
    return df


def _check_shape(text: str, path: Path) -> list[str]:
    """The header, after checking it is non-empty and unique and every row has as many fields."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise InputError("empty file or empty header row", file=path, row=1)
        seen: dict[str, int] = {}
        for i, name in enumerate(header, start=1):
            if name in seen:
                raise InputError(f"duplicate column (columns {seen[name]} and {i})", file=path, row=1, field=name)
            seen[name] = i
        for row_no, row in enumerate(reader, start=2):
            if len(row) != len(header) and any(cell.strip() for cell in row):
                raise InputError(f"{len(row)} fields where the header has {len(header)}; check for a stray or "
                                 "missing comma or an unclosed quote", file=path, row=row_no)
    except csv.Error as exc:
        raise InputError(f"cannot read CSV: {exc}", file=path, row=reader.line_num) from exc
    return header


def require_values(rec: dict, names: tuple[str, ...], path: str | Path, row: int) -> None:
    """Curated CSV rows must fill these fields: name the first empty one (file, row, field)."""
    for name in names:
        if not str(rec.get(name, "")).strip():
            raise InputError("missing value", file=path, row=row, field=name)


def claim_once(seen: dict[str, int], key: str, path: str | Path, row: int, field: str, what: str) -> None:
    """Record that ``key`` was used in ``row``; a second use names both rows."""
    if key in seen:
        raise InputError(f"{key!r} already {what} in row {seen[key]}", file=path, row=row, field=field)
    seen[key] = row
