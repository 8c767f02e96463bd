"""One records-frame shape for every source: the offline snapshot, a store pull, an exported store CSV.

Why: the review stages (design, screening, PRISMA, report) read one table. A live pull carries the
PubMed fields (``schema.RECORD_COLUMNS``); the snapshot adds the study id and the identifiers a pull does
not carry (``snapshot.EXTRA_COLUMNS``). :func:`conform` gives any records frame the snapshot's columns,
types and empty defaults, so a store export loads as records instead of failing on 11 missing columns.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from evidence_review.errors import InputError
from evidence_review.pubmed.schema import MULTI_VALUED, RECORD_COLUMNS
from evidence_review.tables import MULTI_SEP, read_csv_strict

# must match snapshot.EXTRA_COLUMNS (checked by a test); kept here so snapshot and store share one place
EXTRA_COLUMNS: tuple[str, ...] = (
    "study_id", "key_source", "first_author", "nct_id", "other_registry_id", "source_labels",
    "registry_status", "results_posted", "linked_study_id", "sources", "source_url",
)
FRAME_COLUMNS: tuple[str, ...] = RECORD_COLUMNS + EXTRA_COLUMNS
LIST_COLUMNS: frozenset[str] = MULTI_VALUED | {"source_labels", "sources"}
_NCT = re.compile(r"\bNCT\d{8}\b")


def _as_list(v: Any) -> list[str]:
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v if str(x)]
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return []
    text = str(v)
    return [x for x in text.split(MULTI_SEP) if x] if text else []


def _str(v: Any) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA:
        return ""
    return str(v)


def first_author(authors: list[str]) -> str:
    return authors[0] if authors else ""


def conform(df: pd.DataFrame, *, source: str = "", path: str | Path | None = None, infer: bool = True) -> pd.DataFrame:
    """``df`` with every FRAME_COLUMNS column (in order), lists for multi-valued fields, typed year/version/
    retracted, and (``infer``) the extras a PubMed record implies filled in: key_source 'pmid', first_author from the
    author list, an NCT id the abstract prints, the PubMed page as source_url, ``source`` in sources."""
    missing = [c for c in RECORD_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"missing column(s): {', '.join(missing)}", file=path, row=1, field=missing[0])
    out = df.copy()
    for col in LIST_COLUMNS:
        out[col] = out[col].map(_as_list) if col in out.columns else [[] for _ in range(len(out))]
    for col in FRAME_COLUMNS:
        if col not in out.columns:
            out[col] = ""
        elif col not in LIST_COLUMNS and col not in ("year", "version", "retracted"):
            out[col] = out[col].map(_str)
    for col in ("year", "version"):
        try:
            out[col] = pd.to_numeric(out[col].map(lambda v: None if _str(v) == "" else v)).astype("Int64")
        except (ValueError, TypeError) as exc:
            raise InputError(f"non-integer value: {exc}", file=path, field=col) from exc
    out["retracted"] = out["retracted"].map(
        lambda v: None if _str(v) == "" else (v if isinstance(v, bool) else {"true": True, "false": False}.get(
            _str(v).lower()))).astype("boolean")
    if not infer:
        return out[list(FRAME_COLUMNS) + [c for c in out.columns if c not in FRAME_COLUMNS]].reset_index(drop=True)
    pubmed = out["pmid"].ne("")
    out.loc[pubmed & out["key_source"].eq(""), "key_source"] = "pmid"
    out["first_author"] = [fa or first_author(a) for fa, a in zip(out["first_author"], out["authors"])]
    out["nct_id"] = [n or ((_NCT.findall(ab) or [""])[0]) for n, ab in zip(out["nct_id"], out["abstract"])]
    out["source_url"] = [u or (f"https://pubmed.ncbi.nlm.nih.gov/{p}/" if p else "")
                         for u, p in zip(out["source_url"], out["pmid"])]
    if source:
        out["sources"] = [s or [source] for s in out["sources"]]
    return out[list(FRAME_COLUMNS) + [c for c in out.columns if c not in FRAME_COLUMNS]].reset_index(drop=True)


def read_records_csv(path: str | Path, *, require_extras: bool = False) -> pd.DataFrame:
    """A records CSV (the snapshot's, or ``export --table records``) as a conformed frame."""
    df = read_csv_strict(path, required=FRAME_COLUMNS if require_extras else RECORD_COLUMNS)
    return conform(df, path=path, infer=not require_extras)


def from_store(store_dir: str | Path, pull_id: str | None = None) -> tuple[pd.DataFrame, Any, dict[str, Any]]:
    """(conformed records of a pull, its PullRow, store facts) - the latest complete pull by default.

    Store facts: the PMIDs every earlier pull of the store held and which are withdrawn now."""
    from evidence_review.pubmed.store import Store

    with Store(store_dir, create=False) as store:
        pull = store.get_pull(pull_id) if pull_id else store.latest_complete()
        if pull is None:
            raise InputError("the store has no complete pull (run `pull` first)", file=store_dir)
        if pull.kind not in ("pull", "refresh"):
            raise InputError(f"pull {pull.pull_id} is a {pull.kind}, not a PubMed pull or refresh (see `status`)",
                             file=store_dir, field="--pull")
        if pull.status != "complete":
            raise InputError(f"pull {pull.pull_id} is {pull.status}; finish it (re-run the same command)",
                             file=store_dir, field="--pull")
        df = store.pull_records(pull.pull_id)
        chain = [pull]
        while chain[-1].parent_pull_id:
            chain.append(store.get_pull(chain[-1].parent_pull_id))
    facts = {"pull_chain": [p.pull_id for p in chain]}
    return conform(df, source=f"pubmed pull {pull.pull_id}"), pull, facts
