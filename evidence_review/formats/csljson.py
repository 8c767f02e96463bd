"""CSL-JSON writer and reader: the citation-style language data that Zotero, Pandoc and citeproc read.

Each entry is an ``article-journal`` item: id, title, author (``family``/``given`` or ``literal`` for
a collective name), issued (``date-parts``), container-title, DOI, PMID, PMCID, abstract, keyword
(comma-separated), language. The screening decision goes in ``note`` ("Screening decision: ...").
Output is deterministic: keys sorted, two-space indent, UTF-8.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from evidence_review.errors import InputError
from evidence_review.formats.entries import (Entry, decision_note, join_author, parse_decision_note,
                                             split_author)


def item(e: Entry) -> dict:
    """One CSL-JSON item."""
    d: dict = {"id": e.id, "type": "article-journal"}
    if e.title:
        d["title"] = e.title
    if e.authors:
        d["author"] = []
        for a in e.authors:
            family, given = split_author(a)
            d["author"].append({"family": family, "given": given} if given else {"literal": family})
    parts = [int(p) for p in e.pub_date.split("-") if p.isdigit()] if e.pub_date else []
    if not parts and e.year:
        parts = [e.year]
    if parts:
        d["issued"] = {"date-parts": [parts]}
    for key, val in (("container-title", e.journal), ("DOI", e.doi), ("PMID", e.pmid), ("PMCID", e.pmcid),
                     ("abstract", e.abstract), ("language", e.language)):
        if val:
            d[key] = val
    kws = list(e.keywords) + list(e.mesh_terms)
    if kws:
        d["keyword"] = ", ".join(k.replace(",", ";") for k in kws)
    if e.decision:
        d["note"] = decision_note(e)
    return d


def write_csljson(entries: Iterable[Entry]) -> str:
    return json.dumps([item(e) for e in entries], indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def entry_from_item(d: dict, index: int, source: str | Path | None = None) -> Entry:
    """One CSL-JSON item -> :class:`Entry`; a non-object item names its position."""
    if not isinstance(d, dict):
        raise InputError("item is not a JSON object", file=source, row=index + 1)
    authors = []
    for a in d.get("author", []) or []:
        authors.append(a["literal"] if "literal" in a else join_author(a.get("family", ""), a.get("given", "")))
    parts = ((d.get("issued") or {}).get("date-parts") or [[]])[0]
    parts = [int(p) for p in parts if str(p).isdigit()]
    pub_date = "-".join([str(parts[0])] + [f"{p:02d}" for p in parts[1:3]]) if parts else ""
    decision = stage = reason = ""
    parsed = parse_decision_note(str(d.get("note", "")))
    if parsed:
        decision, stage, reason = parsed
    return Entry(
        id=str(d.get("id", f"csl:{index + 1}")), title=str(d.get("title", "")), authors=tuple(authors),
        year=parts[0] if parts else None, pub_date=pub_date, journal=str(d.get("container-title", "")),
        abstract=str(d.get("abstract", "")), doi=str(d.get("DOI", "")), pmid=str(d.get("PMID", "")),
        pmcid=str(d.get("PMCID", "")), language=str(d.get("language", "")),
        keywords=tuple(k.strip() for k in str(d.get("keyword", "")).split(",") if k.strip()),
        decision=decision, stage=stage, reason=reason,
    )


def read_csljson(path: str | Path) -> list[Entry]:
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg}", file=path, row=exc.lineno) from exc
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise InputError("CSL-JSON must be a list of items", file=path)
    return [entry_from_item(d, i, path) for i, d in enumerate(data)]
