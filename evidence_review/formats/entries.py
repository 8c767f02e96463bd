"""One bibliographic entry, the common ground of the reference-manager formats.

Why a small dataclass rather than the records table itself: RIS, BibTeX and CSL-JSON each carry a
subset of the records fields plus the screening decision, and importing goes the other way (an
entry becomes a records row). :class:`Entry` is that shared subset; :func:`entries_from_records`
and :func:`record_from_entry` convert between it and ``pubmed.schema.RECORD_COLUMNS`` rows.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Iterable

import pandas as pd

from evidence_review.pubmed.schema import MULTI_VALUED, RECORD_COLUMNS
from evidence_review.tables import MULTI_SEP

DECISIONS: tuple[str, ...] = ("included", "excluded", "")


@dataclass(frozen=True)
class Entry:
    """A reference with its screening decision (``decision`` "" when the source has none)."""

    id: str
    title: str = ""
    authors: tuple[str, ...] = ()          # "Last Initials" as in the records table, or a collective name
    year: int | None = None
    pub_date: str = ""                     # "YYYY", "YYYY-MM" or "YYYY-MM-DD"
    journal: str = ""
    abstract: str = ""
    doi: str = ""
    pmid: str = ""
    pmcid: str = ""
    language: str = ""
    keywords: tuple[str, ...] = ()
    mesh_terms: tuple[str, ...] = ()
    publication_types: tuple[str, ...] = ()
    decision: str = ""                     # "included" / "excluded" / ""
    stage: str = ""                        # screening stage (title_abstract, full_text)
    reason: str = ""                       # exclusion category and reason, or the reviewer's note
    extra: dict = field(default_factory=dict, compare=False)   # tags a reader did not map (kept, not written)


def _list(value: object) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value if str(v).strip())
    text = "" if value is None or (isinstance(value, float) and value != value) else str(value)
    return tuple(v.strip() for v in text.split(MULTI_SEP.strip()) if v.strip())


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return " ".join(str(value).split())


def _year(value: object) -> int | None:
    m = re.match(r"\s*(\d{4})", _text(value))
    return int(m.group(1)) if m else None


def _decision(row: dict) -> tuple[str, str, str]:
    inc = _text(row.get("included")).lower()
    if inc in ("true", "1", "yes", "included"):
        decision = "included"
    elif inc in ("false", "0", "no", "excluded"):
        decision = "excluded"
    else:
        return "", "", ""
    parts = [_text(row.get("exclusion_category")), _text(row.get("exclusion_reason"))]
    reason = " - ".join(p for p in parts if p)
    note = _text(row.get("screening_note"))
    if note:
        reason = f"{reason}; note: {note}" if reason else f"note: {note}"
    return decision, _text(row.get("screening_stage")), reason


def entry_id(row: dict) -> str:
    """The entry's id: the review's ``study_id`` when there is one, else ``PMID:<pmid>``, else the DOI."""
    for key, prefix in (("study_id", ""), ("pmid", "PMID:"), ("doi", "DOI:")):
        val = _text(row.get(key))
        if val:
            return prefix + val
    return "untitled:" + normalise_title(_text(row.get("title")))[:40].replace(" ", "_")


def entries_from_records(frame: pd.DataFrame) -> list[Entry]:
    """Records rows (store frame or a report's ``tables/records.csv``) -> entries, in row order."""
    out = []
    for row in frame.to_dict(orient="records"):
        authors = _list(row.get("authors"))
        if not authors and _text(row.get("first_author")):
            authors = (_text(row.get("first_author")),)
        decision, stage, reason = _decision(row)
        out.append(Entry(
            id=entry_id(row), title=_text(row.get("title")), authors=authors, year=_year(row.get("year")),
            pub_date=_text(row.get("pub_date")), journal=_text(row.get("journal")),
            abstract=_text(row.get("abstract")), doi=_text(row.get("doi")), pmid=_text(row.get("pmid")),
            pmcid=_text(row.get("pmcid")), language=_text(row.get("language")),
            keywords=_list(row.get("keywords")), mesh_terms=_list(row.get("mesh_terms")),
            publication_types=_list(row.get("publication_types")), decision=decision, stage=stage, reason=reason,
        ))
    return out


def select(entries: Iterable[Entry], which: str) -> list[Entry]:
    """``which`` = all, included or excluded."""
    if which == "all":
        return list(entries)
    return [e for e in entries if e.decision == which]


def record_from_entry(e: Entry) -> dict:
    """An entry as a records-table row (``RECORD_COLUMNS``; lists for multi-valued fields)."""
    rec: dict = {c: None for c in RECORD_COLUMNS}
    rec.update(pmid=e.pmid, version=1 if e.pmid else None, title=e.title, abstract=e.abstract, journal=e.journal,
               year=e.year, pub_date=e.pub_date or (str(e.year) if e.year else ""), authors=list(e.authors),
               publication_types=list(e.publication_types), mesh_terms=list(e.mesh_terms),
               keywords=list(e.keywords), doi=e.doi, pmcid=e.pmcid, language=e.language,
               retracted="Retracted Publication" in e.publication_types, entrez_date="")
    for col in MULTI_VALUED:
        rec[col] = list(rec[col] or [])
    return rec


def normalise_title(title: str) -> str:
    """Lower case, accents and punctuation dropped, spaces collapsed: for duplicate matching."""
    text = unicodedata.normalize("NFKD", title or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def normalise_doi(doi: str) -> str:
    """DOI without resolver prefix, lower case (DOIs are case-insensitive)."""
    d = (doi or "").strip().lower()
    d = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", d)
    return d


def split_author(name: str) -> tuple[str, str]:
    """"Last Initials" -> (family, given); a name without trailing initials is (name, "") - a collective."""
    parts = name.rsplit(" ", 1)
    if len(parts) == 2 and re.fullmatch(r"[A-Z][A-Za-z]{0,3}", parts[1]) and parts[1].isupper():
        return parts[0], parts[1]
    return name, ""


def join_author(family: str, given: str) -> str:
    """(family, given) -> "Last Initials" (initials from a given name: "Ana Maria" -> "AM")."""
    given = given.strip()
    if not given:
        return family.strip()
    if not (given.replace(".", "").replace(" ", "").isupper() and len(given.replace(".", "").replace(" ", "")) <= 4):
        given = "".join(p[0] for p in re.split(r"[\s.\-]+", given) if p)
    return f"{family.strip()} {given.replace('.', '').replace(' ', '')}"


def with_decision(e: Entry, decision: str, stage: str, reason: str) -> Entry:
    return replace(e, decision=decision, stage=stage, reason=reason)


DECISION_PREFIX = "Screening decision: "


def decision_note(e: Entry) -> str:
    """The decision as one line: 'Screening decision: excluded (title_abstract): <reason>'."""
    if not e.decision:
        return ""
    stage = f" ({e.stage})" if e.stage else ""
    return f"{DECISION_PREFIX}{e.decision}{stage}" + (f": {e.reason}" if e.reason else "")


def parse_decision_note(note: str) -> tuple[str, str, str] | None:
    """Inverse of :func:`decision_note`; None when ``note`` is not one."""
    if not note.startswith(DECISION_PREFIX):
        return None
    m = re.match(r"(included|excluded)(?: \(([^)]*)\))?(?:: (.*))?$", note[len(DECISION_PREFIX):], re.S)
    if not m:
        return None
    return m.group(1), m.group(2) or "", (m.group(3) or "").strip()
