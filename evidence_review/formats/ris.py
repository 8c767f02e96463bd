"""RIS (Research Information Systems) writer and reader: the format Zotero, EndNote and Mendeley exchange.

Why our own small writer rather than a library: RIS is a line format (``TAG  - value``) and the
fields we write are few; a round-trip test (write -> read -> same ids, titles, years, DOIs,
decisions) keeps writer and reader honest. The reader accepts what reference managers export:
a byte-order mark, CRLF line ends, blank lines, ``ER  -`` without a trailing space, repeated tags,
and wrapped lines (a line without a tag continues the previous value).

Mapping (records field -> tag): id ID, title TI, authors AU ("Last, Initials"), year PY,
pub_date DA ("YYYY/MM/DD/"), journal T2, abstract AB, DOI DO, PMID AN, PMCID C2, language LA,
keywords and MeSH terms KW, publication types M3, PubMed URL UR. The screening decision goes in
``N1`` ("Screening decision: excluded (title_abstract): <reason>") and in ``KW``
("screening: excluded"), so it shows in the notes and as a tag in Zotero.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from evidence_review.errors import InputError
from evidence_review.formats.entries import (Entry, decision_note, join_author, parse_decision_note,
                                             split_author)

TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
SCREENING_KW = "screening: "


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _author(name: str) -> str:
    family, given = split_author(name)
    return f"{family}, {given}" if given else family


def _date(pub_date: str) -> str:
    parts = (pub_date or "").split("-")
    if not parts or not parts[0]:
        return ""
    parts += [""] * (3 - len(parts))
    return "/".join(parts[:3]) + "/"


def entry_lines(e: Entry) -> list[str]:
    """The RIS lines of one entry (``TY`` first, ``ER`` last)."""
    tags: list[tuple[str, str]] = [("TY", "JOUR"), ("ID", e.id)]
    if e.title:
        tags.append(("TI", e.title))
    tags += [("AU", _author(a)) for a in e.authors]
    if e.year:
        tags.append(("PY", str(e.year)))
    if _date(e.pub_date):
        tags.append(("DA", _date(e.pub_date)))
    for tag, val in (("T2", e.journal), ("AB", e.abstract), ("DO", e.doi), ("AN", e.pmid), ("C2", e.pmcid),
                     ("LA", e.language)):
        if val:
            tags.append((tag, val))
    tags += [("M3", t) for t in e.publication_types]
    tags += [("KW", k) for k in (*e.keywords, *e.mesh_terms)]
    if e.decision:
        tags.append(("KW", SCREENING_KW + e.decision))
        tags.append(("N1", decision_note(e)))
    if e.pmid:
        tags.append(("UR", f"https://pubmed.ncbi.nlm.nih.gov/{e.pmid}/"))
    lines = [f"{t}  - {_one_line(v)}" for t, v in tags]
    return lines + ["ER  - "]


def write_ris(entries: Iterable[Entry]) -> str:
    """RIS text for ``entries`` (records separated by a blank line, LF line ends, UTF-8 without BOM)."""
    return "\n\n".join("\n".join(entry_lines(e)) for e in entries) + "\n"


def parse_ris(text: str, source: str | Path | None = None) -> list[dict[str, list[str]]]:
    """Split RIS text into records of ``tag -> [values]``; errors name the file and line."""
    text = text.lstrip("\ufeff")
    records: list[dict[str, list[str]]] = []
    current: dict[str, list[str]] | None = None
    last_tag = ""
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip():
            continue
        m = TAG_LINE.match(line)
        if m is None and line[:2] == "ER" and line[2:].strip() in ("", "-"):
            m = TAG_LINE.match("ER  - ")
        if m is None:
            if current is None or not last_tag:
                raise InputError(f"not a RIS line: {line[:40]!r}", file=source, row=n)
            current[last_tag][-1] = (current[last_tag][-1] + " " + line.strip()).strip()
            continue
        tag, value = m.group(1), (m.group(2) or "").strip()
        if tag == "TY":
            if current is not None:
                raise InputError("TY before the previous record's ER", file=source, row=n, field="TY")
            current = {"TY": [value]}
            last_tag = "TY"
            continue
        if current is None:
            raise InputError(f"tag {tag} outside a record (no TY before it)", file=source, row=n, field=tag)
        if tag == "ER":
            records.append(current)
            current, last_tag = None, ""
            continue
        current.setdefault(tag, []).append(value)
        last_tag = tag
    if current is not None:
        raise InputError("last record has no ER line", file=source, field="ER")
    return records


def _first(rec: dict[str, list[str]], *tags: str) -> str:
    for t in tags:
        for v in rec.get(t, []):
            if v:
                return v
    return ""


def _year(rec: dict[str, list[str]]) -> int | None:
    m = re.match(r"(\d{4})", _first(rec, "PY", "Y1", "DA"))
    return int(m.group(1)) if m else None


def _pub_date(rec: dict[str, list[str]]) -> str:
    raw = _first(rec, "DA", "PY", "Y1")
    parts = [p for p in raw.split("/") if p.strip()]
    if not parts or not re.fullmatch(r"\d{4}", parts[0].strip()):
        return ""
    out = [parts[0].strip()] + [p.strip().zfill(2) for p in parts[1:3] if p.strip().isdigit()]
    return "-".join(out)


def entry_from_ris(rec: dict[str, list[str]], index: int) -> Entry:
    """One parsed RIS record -> :class:`Entry` (``index`` makes an id when the record has none)."""
    authors = tuple(join_author(*(a.split(",", 1) + [""])[:2]) for a in rec.get("AU", []) + rec.get("A1", []) if a)
    decision = stage = reason = ""
    for note in rec.get("N1", []):
        parsed = parse_decision_note(note)
        if parsed:
            decision, stage, reason = parsed
    kws = [k for k in rec.get("KW", []) if not k.startswith(SCREENING_KW)]
    if not decision:
        for k in rec.get("KW", []):
            if k.startswith(SCREENING_KW) and k[len(SCREENING_KW):] in ("included", "excluded"):
                decision = k[len(SCREENING_KW):]
    pmid = _first(rec, "AN")
    pmid = pmid if pmid.isdigit() else ""
    known = {"TY", "ID", "TI", "T1", "AU", "A1", "PY", "Y1", "DA", "T2", "JO", "JF", "AB", "N2", "DO", "AN", "C2",
             "LA", "M3", "KW", "N1", "UR"}
    return Entry(
        id=_first(rec, "ID") or (f"PMID:{pmid}" if pmid else f"ris:{index + 1}"),
        title=_first(rec, "TI", "T1"), authors=authors, year=_year(rec), pub_date=_pub_date(rec),
        journal=_first(rec, "T2", "JO", "JF"), abstract=_first(rec, "AB", "N2"), doi=_first(rec, "DO"), pmid=pmid,
        pmcid=_first(rec, "C2") if _first(rec, "C2").upper().startswith("PMC") else "",
        language=_first(rec, "LA"), keywords=tuple(kws), publication_types=tuple(rec.get("M3", [])),
        decision=decision, stage=stage, reason=reason,
        extra={k: v for k, v in rec.items() if k not in known},
    )


def read_ris(path: str | Path) -> list[Entry]:
    """Read a RIS file into entries (MeSH terms, written as KW, come back as keywords)."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc}", file=path) from exc
    return [entry_from_ris(r, i) for i, r in enumerate(parse_ris(text, path))]
