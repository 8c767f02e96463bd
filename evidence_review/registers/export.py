"""Export the registrations table of an evidence store (CSV or Parquet, written atomically)."""

from __future__ import annotations

from pathlib import Path

from evidence_review.errors import InputError
from evidence_review.pubmed.store import Store
from evidence_review.registers.table import store_registrations


def export_registrations(store_dir: str | Path, out: str | Path, fmt: str, *, pull_id: str | None = None,
                         include_withdrawn: bool = False) -> int:
    """Write the registrations table (current studies, or as registry pull ``pull_id`` held them)."""
    from evidence_review.tables import write_table

    out = Path(out)
    suffix = {"csv": (".csv",), "parquet": (".parquet", ".pq")}[fmt]
    if out.suffix.lower() not in suffix:
        raise InputError(f"--out must end in {suffix[0]} for --format {fmt}", file=out)
    with Store(store_dir, create=False) as store:
        if pull_id and store.get_pull(pull_id).kind not in ("registry_pull", "registry_refresh"):
            raise InputError(f"{pull_id} is not a registry pull", field="pull")
        df = store_registrations(store, pull_id=pull_id, include_withdrawn=include_withdrawn)
    write_table(df, out)
    return len(df)
