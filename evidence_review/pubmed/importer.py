"""Import a reference file (PubMed MEDLINE/.nbib or RIS) into the evidence store as a source of its own.

Why: records found by other methods (a colleague's Zotero library, a PubMed export made by hand, a
hand search) belong beside the searched records, but counted apart (PRISMA's "other methods"). An
import is one complete pull of kind ``import`` whose query names the file; the file is copied
unchanged into ``imports/<pull_id>/`` and hashed, like a pull's raw batches.

Duplicates: a record of the file that the store already holds - same PMID, else same DOI (case and
resolver prefix ignored), else same normalised title and year - is not added again; it becomes a
member of the import pointing at the stored record. Duplicates inside the file count the same way.
A new record with a PMID is stored under it (a later pull that finds it updates it); one without is
stored under ``import:<hash>`` with an empty ``pmid`` field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from evidence_review.errors import InputError
from evidence_review.formats import medline, ris
from evidence_review.formats.entries import (
    normalise_doi,
    normalise_title,
    record_from_entry,
)
from evidence_review.pubmed.pull import store_lock
from evidence_review.pubmed.store import PullRow, Store

FORMATS: tuple[str, ...] = ("auto", "medline", "ris")


@dataclass(frozen=True)
class ImportResult:
    pull_id: str
    file: Path
    format: str
    records: int                   # records in the file
    added: list[str]               # store keys of the records added
    duplicates: dict[str, int] = field(default_factory=dict)   # matched by: pmid / doi / title_year -> count
    matched: list[str] = field(default_factory=list)           # store keys the duplicates matched

    @property
    def n_duplicates(self) -> int:
        return sum(self.duplicates.values())


def detect_format(path: Path) -> str:
    """``medline`` when the first tag line is ``PMID-``, ``ris`` when it is ``TY  -``."""
    head = path.read_text(encoding="utf-8-sig", errors="replace")[:4096]
    if medline.looks_like_medline(head):
        return "medline"
    first = next((ln for ln in head.splitlines() if ln.strip()), "")
    if first.startswith("TY  -"):
        return "ris"
    raise InputError("cannot tell the format (a MEDLINE file starts with 'PMID- ', a RIS file with 'TY  - '); "
                     "give --format", file=path, row=1)


def load_records(path: str | Path, fmt: str = "auto") -> tuple[str, list[dict]]:
    """(format, records-table rows) of a MEDLINE or RIS file."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    if fmt not in FORMATS:
        raise InputError(f"unknown format '{fmt}' (known: {', '.join(FORMATS)})", field="format")
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt == "medline":
        return fmt, medline.read_medline(path)
    return fmt, [record_from_entry(e) for e in ris.read_ris(path)]


def _keys(rec: dict) -> list[tuple[str, str]]:
    out = []
    if str(rec.get("pmid") or "").strip():
        out.append(("pmid", str(rec["pmid"]).strip()))
    if normalise_doi(rec.get("doi") or ""):
        out.append(("doi", normalise_doi(rec["doi"])))
    title = normalise_title(rec.get("title") or "")
    if title and rec.get("year"):
        out.append(("title_year", f"{title}|{rec['year']}"))
    return out


def import_key(rec: dict) -> str:
    """Store key of a new record: its PMID, else ``import:`` + a hash of its DOI or title and year."""
    if str(rec.get("pmid") or "").strip():
        return str(rec["pmid"]).strip()
    basis = normalise_doi(rec.get("doi") or "") or f"{normalise_title(rec.get('title') or '')}|{rec.get('year')}"
    return "import:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]


def split_duplicates(records: list[dict], existing: list[tuple[str, dict]]
                     ) -> tuple[list[tuple[str, dict]], list[tuple[str, str]]]:
    """(new (key, record) pairs, duplicates as (matched store key, matched by)); file order kept."""
    index: dict[tuple[str, str], str] = {}
    for key, rec in existing:
        for k in _keys(rec):
            index.setdefault(k, key)
    new: list[tuple[str, dict]] = []
    dups: list[tuple[str, str]] = []
    for rec in records:
        hit = next(((index[k], k[0]) for k in _keys(rec) if k in index), None)
        if hit:
            dups.append(hit)
            continue
        key = import_key(rec)
        new.append((key, rec))
        for k in _keys(rec):
            index.setdefault(k, key)
    return new, dups


def import_file(store_dir: str | Path, path: str | Path, fmt: str = "auto", label: str | None = None,
                now: str | None = None) -> ImportResult:
    """Import ``path`` into the store at ``store_dir`` (created if missing); see the module docstring."""
    path = Path(path)
    fmt, records = load_records(path, fmt)
    if not records:
        raise InputError("no records in the file", file=path)
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    started = now or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    root = Path(store_dir)
    with store_lock(root), Store(root) as store:
        new, dups = split_duplicates(records, store.record_keys())
        pull_id = store.unique_pull_id(f"{started.replace('-', '').replace(':', '')}-import-{sha[:8]}")
        rel = f"imports/{pull_id}"
        dest = root / rel
        dest.mkdir(parents=True, exist_ok=True)
        tmp = dest / (path.name + ".part")
        shutil.copyfile(path, tmp)
        tmp.replace(dest / path.name)
        by: dict[str, int] = {}
        for _, how in dups:
            by[how] = by.get(how, 0) + 1
        info = {"source": label or path.name, "file": path.name, "format": fmt, "sha256": sha,
                "records": len(records), "added": len(new), "duplicates": by}
        row = PullRow(pull_id, "import", f"import {label or path.name} ({fmt})", f"import:{sha}", "complete",
                      started, started, len(records), rel, None, info)
        matched = sorted({k for k, _ in dups})
        store.add_import(row, file=f"{rel}/{path.name}", sha256=sha, n_bytes=len(data), new=new, matched=matched)
    return ImportResult(pull_id, path, fmt, len(records), [k for k, _ in new], by, matched)
