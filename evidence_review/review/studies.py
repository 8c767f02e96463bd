"""Reports and studies: which records describe the same people, so nobody is counted twice.

A *report* is one record (a paper, letter, meeting abstract, preprint or registry entry); a *study* is the
group of people it describes. Most studies have one report, but some reports only re-describe part of a
study already in the set: an adverse-event letter about two participants of an open-label trial, a case
report of one patient from inside a crossover trial, an imaging sub-study of that trial, or the trial's
registry entry. PRISMA 2020 counts reports and studies separately, and every participant total must count
each study once.

The links are curated in ``evidence/study_links.csv`` (report_id, parent_study, relation, reason, source);
registry entries that print the same NCT id as a paper are linked by the snapshot (``linked_study_id``).
Every record gets a ``study_group`` (its parent study's id, or its own) and a ``report_type`` (what kind of
publication it is - a publication type, never a design).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from evidence_review.errors import InputError
from evidence_review.review.design import as_list
from evidence_review.tables import claim_once, read_csv_strict, require_values

LINK_COLUMNS = ("report_id", "parent_study", "relation", "reason", "source")
# How a report relates to the study it belongs to; every relation means "same participants, count once".
RELATIONS: dict[str, str] = {
    "secondary_report": "a later report on some participants or outcomes of the parent study",
    "case_from_trial": "a single participant of the parent trial described on their own",
    "substudy": "a sub-study (e.g. imaging) run on the parent study's participants",
    "registration": "the registry entry of the parent study",
}
REPORT_TYPES = ("journal article", "letter", "conference abstract", "preprint", "registry entry")


def load_links(path: str | Path, records: pd.DataFrame | None = None) -> pd.DataFrame:
    """Validated links (one row per report). Errors name the file, row (header = row 1) and field.

    A report may not be its own parent, a parent may not itself be linked to another study (no chains),
    and when ``records`` is given both ids must be records of the snapshot."""
    path = Path(path)
    df = read_csv_strict(path, required=LINK_COLUMNS)
    known = set(records["study_id"].astype(str)) if records is not None else None
    out, seen = [], {}
    for i, rec in enumerate(df.to_dict(orient="records")):
        row = i + 2
        require_values(rec, LINK_COLUMNS, path, row)
        rid, parent, relation = rec["report_id"].strip(), rec["parent_study"].strip(), rec["relation"].strip()
        if relation not in RELATIONS:
            raise InputError(f"unknown relation {relation!r} (known: {', '.join(RELATIONS)})", file=path, row=row,
                             field="relation")
        if rid == parent:
            raise InputError("a report cannot be its own parent study", file=path, row=row, field="parent_study")
        for col, value in (("report_id", rid), ("parent_study", parent)):
            if known is not None and value not in known:
                raise InputError(f"unknown study_id {value!r}", file=path, row=row, field=col)
        claim_once(seen, rid, path, row, "report_id", "linked")
        out.append({"report_id": rid, "parent_study": parent, "relation": relation,
                    "reason": rec["reason"].strip(), "source": rec["source"].strip(), "row": row})
    links = pd.DataFrame(out, columns=[*LINK_COLUMNS, "row"])
    chained = links[links["parent_study"].isin(set(links["report_id"]))]
    if len(chained):
        first = chained.iloc[0]
        raise InputError(f"parent study {first['parent_study']!r} is itself linked to another study; link to the "
                         "top-level study", file=path, row=int(first["row"]), field="parent_study")
    return links.drop(columns="row")


def report_type(rec: Mapping[str, Any], design: str) -> str:
    """What kind of publication a record is (independent of the study design it reports)."""
    if design == "trial_registration":
        return "registry entry"
    marks = {t.strip().lower() for t in as_list(rec.get("publication_types")) + as_list(rec.get("source_labels"))}
    if "congress" in marks:
        return "conference abstract"
    if "preprint" in marks or "preprint" in str(rec.get("journal") or "").lower():
        return "preprint"
    if marks & {"letter", "comment", "editorial"}:
        return "letter"
    return "journal article"


def study_groups(records: pd.DataFrame, links: pd.DataFrame | None, links_path: str | Path = "") -> pd.DataFrame:
    """study_id, study_group, study_relation, study_link_reason, study_link_source for every record.

    Curated links win; a registration the snapshot linked to a paper by its printed NCT id is grouped with
    that paper. A curated link that contradicts the snapshot's NCT link is an error (two different parents)."""
    by_report = links.set_index("report_id") if links is not None and len(links) else None
    rows = []
    for rec in records.to_dict(orient="records"):
        sid = str(rec["study_id"])
        snap = [s for s in str(rec.get("linked_study_id") or "").split("; ") if s]
        group, relation, reason, source = sid, "", "", ""
        if by_report is not None and sid in by_report.index:
            link = by_report.loc[sid]
            if snap and link["parent_study"] not in snap:
                raise InputError(f"{sid} is linked to {link['parent_study']!r} but its registry id links it to "
                                 f"{'; '.join(snap)}", file=links_path, field="parent_study")
            group, relation, reason, source = link["parent_study"], link["relation"], link["reason"], link["source"]
        elif len(snap) == 1:
            group, relation = snap[0], "registration"
            reason, source = "registry entry whose NCT id the paper prints", f"NCT id {rec.get('nct_id') or ''}".strip()
        rows.append({"study_id": sid, "study_group": group, "study_relation": relation,
                     "study_link_reason": reason, "study_link_source": source})
    return pd.DataFrame(rows, columns=["study_id", "study_group", "study_relation", "study_link_reason",
                                       "study_link_source"])


def add_study_columns(table: pd.DataFrame, links: pd.DataFrame | None, links_path: str | Path = "") -> pd.DataFrame:
    """The records table plus study_group, study_relation, link reason/source, report_type and study_design.

    ``study_design`` is the design of the record's study (its parent's label): design belongs to the study,
    so an adverse-event letter from an open-label trial is a report of an open-label trial."""
    groups = study_groups(table, links, links_path)
    out = table.merge(groups, on="study_id", how="left", validate="one_to_one")
    out["report_type"] = [report_type(rec, str(rec.get("design") or "")) for rec in out.to_dict(orient="records")]
    design_of = dict(zip(out["study_id"].astype(str), out["design"].astype(str)))
    out["study_design"] = [design_of.get(g, d) for g, d in zip(out["study_group"], out["design"].astype(str))]
    return out


def count_once(rows: pd.DataFrame, ids: Iterable[str] | None = None, n_col: str = "n") -> dict[str, Any]:
    """Reports, studies and participants of ``rows`` (restricted to ``ids`` if given), each study once.

    ``rows`` has study_id, study_group and ``n_col``. A study's participants are the largest n among its
    reports in the set (the parent trial's n covers a letter about two of its patients); studies whose
    size no report gives are counted in ``unknown_n``."""
    sub = rows if ids is None else rows[rows["study_id"].astype(str).isin(set(map(str, ids)))]
    if sub.empty:
        return {"reports": 0, "studies": 0, "participants": 0, "unknown_n": 0}
    group = sub["study_group"] if "study_group" in sub.columns else sub["study_id"]
    n = pd.to_numeric(sub[n_col], errors="coerce")
    per_study = n.groupby(group.astype(str).values).max()
    return {"reports": int(len(sub)), "studies": int(per_study.size),
            "participants": int(per_study.fillna(0).sum()), "unknown_n": int(per_study.isna().sum())}
