"""Match the records of a search to the curated studies, so curated decisions keep applying.

Curated decisions (design overrides, screening decisions, extraction rows) are keyed by ``study_id``, the
ids of the offline snapshot. A pulled PubMed record takes the study id of the curated record it matches,
trying in order: PMID, DOI, PMCID, registry id (an NCT id the abstract prints, against curated *papers*
with that id - never a registration, which is a different record), then normalised title + year. The first
key that finds a curated study not already taken wins; every match is reported with the key used. A record
that matches nothing gets a stable id of its own, ``pmid<PMID>``, the same in every later pull.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

MATCH_COLUMNS = ("pmid", "study_id", "matched_on", "curated_study_id", "note")
KEY_ORDER = ("pmid", "doi", "pmcid", "registry", "title_year")
DERIVED_ID = re.compile(r"^pmid\d+$")


def norm_doi(doi: str) -> str:
    return re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", str(doi or "").strip(), flags=re.I).lower()


def norm_title(title: str) -> str:
    text = unicodedata.normalize("NFKD", str(title or "")).encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def own_id(pmid: str) -> str:
    """The stable id of a record no curated study matches."""
    return f"pmid{pmid}"


def is_derived_id(study_id: str) -> bool:
    """True for ids :func:`own_id` makes (records known only from a search, not from curation)."""
    return bool(DERIVED_ID.match(str(study_id)))


def _keys(rec: dict, registrations: bool) -> dict[str, str]:
    """Identifier values per key kind for one record ('' when absent)."""
    year = rec.get("year")
    title = norm_title(rec.get("title", ""))
    return {
        "pmid": str(rec.get("pmid") or ""),
        "doi": norm_doi(rec.get("doi", "")),
        "pmcid": str(rec.get("pmcid") or "").upper(),
        "registry": "" if registrations else str(rec.get("nct_id") or rec.get("other_registry_id") or ""),
        "title_year": f"{title}|{int(year)}" if title and year is not None and not pd.isna(year) else "",
    }


def curated_index(curated: pd.DataFrame) -> dict[str, dict[str, list[str]]]:
    """key kind -> value -> curated study ids (registrations take part only through PMID/DOI/PMCID/title)."""
    index: dict[str, dict[str, list[str]]] = {k: {} for k in KEY_ORDER}
    for rec in curated.to_dict("records"):
        registration = rec.get("key_source") in ("nct", "registry")
        for kind, value in _keys(rec, registration).items():
            if value:
                index[kind].setdefault(value, []).append(rec["study_id"])
    return index


def match_records(records: pd.DataFrame, curated: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(records with ``study_id`` set, match table with one row per record: MATCH_COLUMNS).

    A curated study is given to one record only; a second record that matches it keeps its own id and the
    note names the record that took it (so a duplicate in the database is visible, not silently merged)."""
    index = curated_index(curated)
    taken: dict[str, str] = {}
    ids, rows = [], []
    for rec in records.to_dict("records"):
        pmid = str(rec.get("pmid") or "")
        found, how, note = None, "none", ""
        for kind, value in _keys(rec, False).items():
            if not value or value not in index[kind]:
                continue
            candidates = index[kind][value]
            free = [c for c in candidates if c not in taken]
            if len(set(candidates)) > 1 and kind in ("registry", "title_year"):
                note = f"{kind} {value.split('|')[0][:40]} is shared by {', '.join(sorted(set(candidates)))}"
                continue  # ambiguous weak key: leave it to a stronger key or to the reviewer
            if free:
                found, how = free[0], kind
                break
            note = f"{kind} matches {candidates[0]}, already matched by PMID {taken[candidates[0]]}"
        sid = found or own_id(pmid)
        if found:
            taken[found] = pmid
        ids.append(sid)
        rows.append({"pmid": pmid, "study_id": sid, "matched_on": how, "curated_study_id": found or "",
                     "note": note})
    out = records.copy()
    out["study_id"] = ids
    return out, pd.DataFrame(rows, columns=list(MATCH_COLUMNS))
