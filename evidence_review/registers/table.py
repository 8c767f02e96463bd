"""The registrations table: one flat row per registered trial, from API v2 study JSON.

Why one function per field: the live pull and the committed offline registrations go through the same
``registration_row``, so a trial reads the same whichever way it arrived. Links to reports come from
the NCT ids printed in PubMed records (``nct_ids_in_record``: DataBank accession numbers, title and
abstract) and from curated links; the registry's own result references are kept too.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

import pandas as pd

from evidence_review.registers.schema import REGISTRATION_COLUMNS

NCT_RE = re.compile(r"\bNCT\s?0*(\d{1,8})\b", re.IGNORECASE)
SEP = "; "
REPORT_REFERENCE_TYPES = {"RESULT", "DERIVED"}  # references the registry links as reports of this trial


def _get(d: Mapping[str, Any] | None, *path: str) -> Any:
    for key in path:
        if not isinstance(d, Mapping):
            return None
        d = d.get(key)  # type: ignore[assignment]
    return d


def _s(value: Any) -> str:
    return "" if value is None else str(value).strip()


def normalise_nct(text: str) -> str:
    """'nct 1349231' / 'NCT01349231' -> 'NCT01349231' ('' if not an NCT id)."""
    m = NCT_RE.fullmatch(text.strip()) or NCT_RE.search(text)
    return f"NCT{int(m.group(1)):08d}" if m else ""


def nct_ids_in_text(text: str) -> list[str]:
    """Every NCT id printed in a text, normalised, in order of first appearance."""
    return list(dict.fromkeys(f"NCT{int(m.group(1)):08d}" for m in NCT_RE.finditer(text or "")))


def nct_ids_in_record(record: Mapping[str, Any]) -> list[str]:
    """NCT ids a PubMed record carries: its registry accession numbers first, then title and abstract."""
    ids = [normalise_nct(str(x)) for x in (record.get("registry_ids") or []) if normalise_nct(str(x))]
    for col in ("nct_id", "title", "abstract"):
        value = record.get(col)
        if isinstance(value, str):
            ids += nct_ids_in_text(value)
    return list(dict.fromkeys(ids))


def result_references(study: Mapping[str, Any]) -> list[str]:
    """PMIDs the registry lists as result (or derived) reports of the trial, as 'PMID:…'."""
    refs = _get(study, "protocolSection", "referencesModule", "references") or []
    out = [f"PMID:{_s(r.get('pmid'))}" for r in refs
           if isinstance(r, Mapping) and _s(r.get("pmid")) and _s(r.get("type")).upper() in REPORT_REFERENCE_TYPES]
    return list(dict.fromkeys(out))


def _interventions(study: Mapping[str, Any]) -> str:
    items = _get(study, "protocolSection", "armsInterventionsModule", "interventions") or []
    names = []
    for it in items:
        if isinstance(it, Mapping) and _s(it.get("name")):
            kind = _s(it.get("type"))
            names.append(f"{_s(it['name'])} [{kind}]" if kind else _s(it["name"]))
    return SEP.join(dict.fromkeys(names))


def _results_posted(study: Mapping[str, Any]) -> str:
    value = study.get("hasResults")
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = _s(value).lower()
    return text if text in ("yes", "no", "unclear") else ""


def registration_row(study: Mapping[str, Any], *, linked: Iterable[str] = (), source: str = "") -> dict[str, Any]:
    """One registrations-table row from one API v2 study (missing fields stay empty, never guessed)."""
    p = study.get("protocolSection") or {}
    status = p.get("statusModule") or {}
    design = p.get("designModule") or {}
    nct = _s(_get(p, "identificationModule", "nctId")).upper()
    registry = _s(study.get("registry")) or "ClinicalTrials.gov"
    enrollment = _get(design, "enrollmentInfo", "count")
    links = list(dict.fromkeys([*linked, *result_references(study)]))
    return {
        "nct_id": nct if nct.startswith("NCT") else "",
        "title": _s(_get(p, "identificationModule", "briefTitle")),
        "conditions": SEP.join(_s(c) for c in (_get(p, "conditionsModule", "conditions") or []) if _s(c)),
        "interventions": _interventions(study),
        "phase": SEP.join(_s(x) for x in (design.get("phases") or []) if _s(x)),
        "study_type": _s(design.get("studyType")),
        "allocation": _s(_get(design, "designInfo", "allocation")),
        "masking": _s(_get(design, "designInfo", "maskingInfo", "masking")),
        "enrollment": int(enrollment) if isinstance(enrollment, (int, float)) and not isinstance(enrollment, bool) else None,
        "enrollment_type": _s(_get(design, "enrollmentInfo", "type")),
        "overall_status": _s(status.get("overallStatus")),
        "start_date": _s(_get(status, "startDateStruct", "date")),
        "primary_completion_date": _s(_get(status, "primaryCompletionDateStruct", "date")),
        "completion_date": _s(_get(status, "completionDateStruct", "date")),
        "results_posted": _results_posted(study),
        "last_update": _s(_get(status, "lastUpdatePostDateStruct", "date")),
        "linked_reports": SEP.join(links),
        "registry": registry,
        "registry_id": _s(study.get("registry_id")) or nct,
        "source": source or _s(study.get("source")),
    }


def registrations_frame(studies: Iterable[Mapping[str, Any]], links: Mapping[str, Iterable[str]] | None = None,
                        source: str = "") -> pd.DataFrame:
    """The registrations table (REGISTRATION_COLUMNS), sorted by registry id; ``links``: NCT id -> report ids."""
    links = links or {}
    rows = []
    for s in studies:
        key = _s(_get(s, "protocolSection", "identificationModule", "nctId")).upper() or _s(s.get("registry_id"))
        rows.append(registration_row(s, linked=links.get(key, ()), source=source))
    df = pd.DataFrame(rows, columns=list(REGISTRATION_COLUMNS))
    df["enrollment"] = df["enrollment"].astype("Int64")
    if len(df):
        df = df.sort_values(["registry", "registry_id"], kind="mergesort").reset_index(drop=True)
    return df


def links_from_records(records: Iterable[Mapping[str, Any]], *, id_column: str = "pmid",
                       prefix: str = "PMID:") -> dict[str, list[str]]:
    """NCT id -> report ids of the records that print it (e.g. {'NCT01349231': ['PMID:22784486']})."""
    out: dict[str, list[str]] = {}
    for rec in records:
        rid = _s(rec.get(id_column))
        if not rid:
            continue
        for nct in nct_ids_in_record(rec):
            out.setdefault(nct, [])
            if f"{prefix}{rid}" not in out[nct]:
                out[nct].append(f"{prefix}{rid}")
    return out


def registry_ids_in_xml(xml: bytes) -> dict[str, list[str]]:
    """PMID -> NCT ids of the ClinicalTrials.gov ``DataBankList`` accession numbers in PubMed XML.

    Read from the raw batches a PubMed pull keeps, so the records table needs no extra column. Entities
    are never resolved and no DTD is loaded.
    """
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    root = etree.fromstring(xml, parser)
    out: dict[str, list[str]] = {}
    for art in root.iter("PubmedArticle"):
        pmid = (art.findtext("MedlineCitation/PMID") or "").strip()
        ids = []
        for bank in art.iter("DataBank"):
            if "clinicaltrials" not in (bank.findtext("DataBankName") or "").lower():
                continue
            ids += [normalise_nct(a.text or "") for a in bank.iter("AccessionNumber")]
        ids = [i for i in dict.fromkeys(ids) if i]
        if pmid and ids:
            out[pmid] = ids
    return out


def store_registry_ids(store: Any) -> dict[str, list[str]]:
    """PMID -> NCT ids from every PubMed batch file the store holds (files that cannot be read are skipped)."""
    import gzip
    from pathlib import Path

    out: dict[str, list[str]] = {}
    for (file,) in store.conn.execute("SELECT file FROM batches WHERE file IS NOT NULL ORDER BY pull_id, batch_index"):
        path = Path(store.root) / file
        try:
            found = registry_ids_in_xml(gzip.decompress(path.read_bytes()))
        except Exception:  # noqa: BLE001 - a damaged batch only loses its links, the text links remain
            continue
        for pmid, ids in found.items():
            out[pmid] = list(dict.fromkeys(out.get(pmid, []) + ids))
    return out


def store_registrations(store: Any, *, pull_id: str | None = None, include_withdrawn: bool = False) -> pd.DataFrame:
    """The registrations table of an evidence store, linked to the store's PubMed records by the NCT ids
    they carry (DataBankList accession numbers in the raw XML, title, abstract)."""
    from evidence_review.registers import store as rstore

    studies = rstore.pull_studies(store, pull_id) if pull_id else rstore.current_studies(
        store, include_withdrawn=include_withdrawn)
    banks = store_registry_ids(store)
    records = [dict(r, registry_ids=banks.get(str(r.get("pmid")), []))
               for r in store.records_frame(include_withdrawn=False).to_dict("records")]
    return registrations_frame(studies, links_from_records(records), source=pull_id or "store")
