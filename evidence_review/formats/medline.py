"""Reader for PubMed's MEDLINE text format (PubMed "Save -> Format: PubMed", ``.nbib``, ``.txt``).

Why Biopython's ``Bio.Medline``: it is the maintained parser of this tag format (continuation
lines, multi-line MeSH headings, which tags are lists); this module only maps its records onto the
records table (``pubmed.schema.RECORD_COLUMNS``) the same way the XML parser does:

    PMID -> pmid          TI -> title            AB -> abstract        JT (else TA) -> journal
    DP -> year, pub_date  AU (else FAU) -> authors   PT -> publication_types
    MH -> mesh_terms ("*" appended when the heading or a subheading is starred)
    OT -> keywords        LID/AID "[doi]" -> doi     PMC -> pmcid      LA -> language
    EDAT -> entrez_date   "Retracted Publication" in PT -> retracted

A record with neither PMID nor title is refused, naming the file and the line the record starts on.
"""

from __future__ import annotations

import re
from pathlib import Path

from Bio import Medline

from evidence_review.errors import InputError
from evidence_review.pubmed.schema import RECORD_COLUMNS

MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                          "nov", "dec"))}
TAG = re.compile(r"^[A-Z][A-Z0-9 ]{1,3}- ")


def _chunks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Records as (first line number, lines), split at blank lines."""
    out: list[tuple[int, list[str]]] = []
    cur: list[str] = []
    start = 0
    for n, line in enumerate(lines, start=1):
        if line.strip():
            if not cur:
                start = n
            cur.append(line if line.endswith("\n") else line + "\n")
        elif cur:
            out.append((start, cur))
            cur = []
    if cur:
        out.append((start, cur))
    return out


def pub_date(dp: str) -> tuple[int | None, str]:
    """MEDLINE DP ("2011 Jun 15", "2011 Jun-Jul", "2011 Spring") -> (year, ISO-like date)."""
    m = re.match(r"(\d{4})(?:\s+([A-Za-z]{3})[A-Za-z]*(?:\s+(\d{1,2}))?)?", dp.strip())
    if not m:
        return None, ""
    year = int(m.group(1))
    month = MONTHS.get((m.group(2) or "").lower())
    if month is None:
        return year, str(year)
    if m.group(3):
        return year, f"{year}-{month:02d}-{int(m.group(3)):02d}"
    return year, f"{year}-{month:02d}"


def _mesh(heading: str) -> str:
    parts = [p.strip() for p in heading.split("/")]
    major = any(p.startswith("*") for p in parts)
    return parts[0].lstrip("*") + ("*" if major else "")


def _doi(rec: dict) -> str:
    for value in [rec.get("LID", "")] + list(rec.get("AID", [])):
        m = re.search(r"(\S+)\s*\[doi\]", value or "")
        if m:
            return m.group(1)
    return ""


def _list(rec: dict, key: str) -> list[str]:
    val = rec.get(key, [])
    return [val] if isinstance(val, str) else [v.strip() for v in val if v.strip()]


def record_from_medline(rec: dict) -> dict:
    """One ``Bio.Medline`` record -> a records-table row (lists for multi-valued fields)."""
    year, date = pub_date(rec.get("DP", ""))
    pts = _list(rec, "PT")
    edat = re.match(r"(\d{4})/(\d{2})/(\d{2})", rec.get("EDAT", ""))
    out = {c: None for c in RECORD_COLUMNS}
    out.update(
        pmid=rec.get("PMID", "").strip(), version=1, title=" ".join(rec.get("TI", "").split()),
        abstract=" ".join(rec.get("AB", "").split()), journal=rec.get("JT", "") or rec.get("TA", ""),
        year=year, pub_date=date, authors=_list(rec, "AU") or _list(rec, "FAU"), publication_types=pts,
        mesh_terms=[_mesh(h) for h in _list(rec, "MH")], keywords=_list(rec, "OT"), doi=_doi(rec),
        pmcid=rec.get("PMC", "").strip(), language=(_list(rec, "LA") or [""])[0],
        retracted="Retracted Publication" in pts, entrez_date="-".join(edat.groups()) if edat else "",
    )
    return out


def read_medline(path: str | Path) -> list[dict]:
    """Read a MEDLINE/.nbib file into records-table rows, in file order."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc}", file=path) from exc
    out = []
    for start, chunk in _chunks(lines):
        if not TAG.match(chunk[0]):
            raise InputError(f"not a MEDLINE tag line: {chunk[0].strip()[:40]!r}", file=path, row=start)
        recs = list(Medline.parse(chunk))
        for rec in recs:
            row = record_from_medline(rec)
            if not row["pmid"] and not row["title"]:
                raise InputError("record has neither PMID nor TI", file=path, row=start, field="PMID")
            out.append(row)
    return out


def looks_like_medline(text: str) -> bool:
    """True when the text's first tag line is a MEDLINE ``PMID- `` line."""
    for line in text.lstrip("\ufeff").splitlines():
        if line.strip():
            return line.startswith("PMID-")
    return False
