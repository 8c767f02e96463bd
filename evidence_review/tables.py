"""Deterministic table I/O: same frame in, same bytes out (CSV or Parquet)."""

from __future__ import annotations

from pathlib import Path

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


def read_csv_strict(path: str | Path, required: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a curated CSV as strings (no type guessing); fail naming the file if columns are missing."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read CSV: {exc}", file=path) from exc
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(f"missing column(s): {', '.join(missing)}", file=path, row=1, field=missing[0])
    return df


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
