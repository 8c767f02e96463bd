"""The register stream of the review: registrations linked to reports, ongoing, awaiting classification,
and trials that never reported (pipeline stage ``registers``, after ``records``).

Why a stream of its own: PRISMA 2020 counts records from registers apart from database records, and a
registration is not a report - a trial still recruiting is *ongoing*, a finished trial with posted
results but no paper is *awaiting classification*, and a trial finished more than two years ago with
neither results nor a paper is evidence of non-publication, which the GRADE publication-bias domain
needs. Registrations come from the run's store when it holds a complete registry pull (its latest one,
dated by its completion), else from the offline file ``evidence/registers/registrations.json``
(compiled from the evidence facts) - both through the same ``registers.table.registration_row``.

Classification of each registration (first rule that applies):

    ongoing                  status RECRUITING / NOT_YET_RECRUITING / ACTIVE_NOT_RECRUITING /
                             ENROLLING_BY_INVITATION / PENDING / SUSPENDED (reports so far are listed)
    reported                 a report in the review prints its NCT id or a curated link names it
    withdrawn_before_enrolment   status WITHDRAWN (no participants)
    non_publication          ended (COMPLETED / TERMINATED) more than ``NON_PUBLICATION_YEARS`` before the
                             registrations' date, results not posted, no report
    awaiting_classification  anything else: results posted but no report, results status unclear,
                             ended recently, or no end date known - the reason says which
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from evidence_review.registers.offline import Vocabulary, load_offline
from evidence_review.registers.schema import REGISTRATION_COLUMNS
from evidence_review.registers.table import SEP, nct_ids_in_record, registrations_frame

NON_PUBLICATION_YEARS = 2
ONGOING = {"RECRUITING", "NOT_YET_RECRUITING", "ACTIVE_NOT_RECRUITING", "ENROLLING_BY_INVITATION", "PENDING",
           "SUSPENDED"}
ENDED = {"COMPLETED", "TERMINATED"}
CLASSES = ("reported", "ongoing", "awaiting_classification", "non_publication", "withdrawn_before_enrolment")
TABLE_COLUMNS = (*REGISTRATION_COLUMNS, "stream_class", "stream_reason")
NON_PUBLICATION_COLUMNS = ("registry_id", "nct_id", "title", "overall_status", "completion_date", "years_since_end",
                           "enrollment", "enrollment_type", "results_posted", "reason")


def _parse_partial(text: str) -> dt.date | None:
    """'2015-06' -> 2015-06-01 (the registry's own reading of a month-precision date)."""
    parts = [int(p) for p in str(text or "").split("-") if p.isdigit()]
    if not parts:
        return None
    while len(parts) < 3:
        parts.append(1)
    try:
        return dt.date(*parts[:3])
    except ValueError:
        return None


def _years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def classify(row: dict[str, Any], as_of: dt.date) -> tuple[str, str]:
    """(class, reason) for one registrations row (see the module docstring)."""
    status = str(row.get("overall_status") or "").upper()
    linked = str(row.get("linked_reports") or "")
    posted = str(row.get("results_posted") or "")
    if status in ONGOING:
        extra = f"; reports so far: {linked}" if linked else ""
        return "ongoing", f"registry status {status}{extra}"
    if linked:
        return "reported", f"reported in {linked}"
    if status == "WITHDRAWN":
        return "withdrawn_before_enrolment", "registry status WITHDRAWN (stopped before enrolling)"
    end_text = row.get("completion_date") or row.get("primary_completion_date") or ""
    end = _parse_partial(end_text)
    if status in ENDED and end is not None and posted == "no":
        years = (as_of - end).days / 365.25
        if end < _years_before(as_of, NON_PUBLICATION_YEARS):
            return "non_publication", (f"{status.lower()} {end_text} ({years:.1f} years before {as_of}), "
                                       "no results posted, no report found")
    if posted == "yes":
        return "awaiting_classification", f"{status.lower() or 'status unknown'}; results posted on the registry but no report found"
    if status in ENDED and end is None:
        return "awaiting_classification", f"{status.lower()}; end date unknown, no report found"
    if status in ENDED and posted != "no":
        return "awaiting_classification", f"{status.lower()} {end_text}; results status {posted or 'unknown'}, no report found"
    if status in ENDED:
        return "awaiting_classification", f"{status.lower()} {end_text}; within {NON_PUBLICATION_YEARS} years, no report yet"
    return "awaiting_classification", f"registry status {status or 'unknown'}"


def report_links(records: pd.DataFrame, banks: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    """Registry id -> review report ids: reports carrying the NCT id (curated ``nct_id``, title, abstract,
    ``banks`` = PMID -> DataBankList NCT ids of a store's raw XML), and curated study links of the
    registration's own record (its ``study_group`` when that is another study)."""
    out: dict[str, list[str]] = {}
    if records is None or records.empty:
        return out
    banks = banks or {}
    is_reg = records["key_source"].isin(["nct", "registry"])
    for rec in records[~is_reg].to_dict("records"):
        rec = dict(rec, registry_ids=banks.get(str(rec.get("pmid") or ""), []))
        for nct in nct_ids_in_record(rec):
            if str(rec["study_id"]) not in out.get(nct, []):
                out.setdefault(nct, []).append(str(rec["study_id"]))
    for rec in records[is_reg].to_dict("records"):
        rid = str(rec.get("nct_id") or "") or str(rec.get("other_registry_id") or "")
        group = str(rec.get("study_group") or "")
        if rid and group and group != rec["study_id"] and group not in out.get(rid, []):
            out.setdefault(rid, []).append(group)
    return {k: sorted(v) for k, v in out.items()}


def build_register_stream(studies: list[dict], records: pd.DataFrame, as_of: dt.date, source: str,
                          banks: dict[str, list[str]] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """(registrations with their class, non-publication table, register-stream counts)."""
    links = report_links(records, banks)
    keyed = {}
    for s in studies:
        nct = str(((s.get("protocolSection") or {}).get("identificationModule") or {}).get("nctId") or "")
        keyed[nct or str(s.get("registry_id") or "")] = links.get(nct or str(s.get("registry_id") or ""), [])
    reg = registrations_frame(studies, keyed)
    reg["source"] = reg["source"].where(reg["source"] != "", source)
    classes = [classify(r, as_of) for r in reg.to_dict("records")]
    reg["stream_class"] = [c for c, _ in classes]
    reg["stream_reason"] = [r for _, r in classes]
    reg = reg[list(TABLE_COLUMNS)]
    nonpub = []
    for r in reg[reg["stream_class"] == "non_publication"].to_dict("records"):
        end = _parse_partial(r["completion_date"] or r["primary_completion_date"])
        nonpub.append({"registry_id": r["registry_id"], "nct_id": r["nct_id"], "title": r["title"],
                       "overall_status": r["overall_status"], "completion_date": r["completion_date"] or r["primary_completion_date"],
                       "years_since_end": round((as_of - end).days / 365.25, 1) if end else None,
                       "enrollment": r["enrollment"], "enrollment_type": r["enrollment_type"],
                       "results_posted": r["results_posted"], "reason": r["stream_reason"]})
    nonpub_df = pd.DataFrame(nonpub, columns=list(NON_PUBLICATION_COLUMNS))
    nonpub_df["enrollment"] = nonpub_df["enrollment"].astype("Int64")
    counts = reg["stream_class"].value_counts()
    stream = {
        "as_of": as_of.isoformat(), "source": source,
        "identified": len(reg),
        "identified_by_registry": {k: int(v) for k, v in sorted(reg["registry"].value_counts().items())},
        **{c: int(counts.get(c, 0)) for c in CLASSES},
        "ongoing_ids": sorted(reg.loc[reg["stream_class"] == "ongoing", "registry_id"]),
        "awaiting_ids": sorted(reg.loc[reg["stream_class"] == "awaiting_classification", "registry_id"]),
        "non_publication_ids": sorted(reg.loc[reg["stream_class"] == "non_publication", "registry_id"]),
        "non_publication_years": NON_PUBLICATION_YEARS,
    }
    assert sum(stream[c] for c in CLASSES) == stream["identified"]
    return reg.reset_index(drop=True), nonpub_df, stream


def publication_bias_note(stream: dict[str, Any]) -> str:
    """One sentence the GRADE publication-bias domain and the summary can cite."""
    n = stream["identified"]
    return (f"Register search: {n} registered trials; {stream['reported']} reported, {stream['ongoing']} ongoing, "
            f"{stream['awaiting_classification']} awaiting classification (no report found"
            f"{': ' + ', '.join(stream['awaiting_ids']) if stream['awaiting_ids'] else ''}), "
            f"{stream['non_publication']} ended over {stream['non_publication_years']} years ago with neither results "
            f"nor a report{': ' + ', '.join(stream['non_publication_ids']) if stream['non_publication_ids'] else ''} "
            "(reports/tables/non_publication.csv).")


def register_figure(stream: dict[str, Any]):
    """The register stream of the PRISMA 2020 flow (identification via registers) as a Figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    fig, ax = plt.subplots(figsize=(10, 4.6))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 4.6)
    ax.axis("off")

    def box(x: float, y: float, w: float, h: float, text: str, face: str = "#ffffff") -> None:
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", linewidth=1.0,
                                    edgecolor="#333333", facecolor=face))
        ax.text(x + 0.12, y + h / 2, text, ha="left", va="center", fontsize=8.5, family="DejaVu Sans")

    def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=dict(arrowstyle="-|>", color="#333333", lw=1.0))

    ax.text(0.3, 4.4, "PRISMA 2020 flow: identification via registers", fontsize=11, weight="bold", va="center")
    ident = [f"Records identified from registers (n = {stream['identified']})"]
    ident += [f"  {k} (n = {v})" for k, v in stream["identified_by_registry"].items()]
    box(0.3, 2.7, 4.6, 1.3, "\n".join(ident), "#e8f0fb")
    rows = [("Reported: counted through their reports", stream["reported"], "#e6f4e6"),
            ("Ongoing studies", stream["ongoing"], "#fff7e0"),
            ("Studies awaiting classification", stream["awaiting_classification"], "#f4f4f4"),
            (f"Ended > {stream['non_publication_years']} years ago, no results, no report", stream["non_publication"],
             "#fde0dd"),
            ("Withdrawn before enrolment", stream["withdrawn_before_enrolment"], "#ffffff")]
    for i, (label, n, face) in enumerate(rows):
        y = 3.55 - i * 0.8
        box(5.6, y, 4.2, 0.6, f"{label}\n(n = {n})", face)
        arrow(4.9, 3.35, 5.6, y + 0.3)
    return fig


def store_registrations_source(store_dir: Any) -> tuple[list[dict], dt.date, str, dict[str, list[str]]] | None:
    """(studies, as-of date, source, PMID -> DataBank NCT ids) of a store's latest complete registry pull,
    or None when the run has no store or the store no registry pull (the offline file is used then)."""
    if store_dir is None:
        return None
    from evidence_review.pubmed.store import Store
    from evidence_review.registers import store as rstore
    from evidence_review.registers.schema import REGISTRY_PULL_KINDS
    from evidence_review.registers.table import store_registry_ids

    with Store(store_dir, create=False) as st:
        latest = st.latest_complete(REGISTRY_PULL_KINDS)
        if latest is None:
            return None
        studies = rstore.pull_studies(st, latest.pull_id)
        banks = store_registry_ids(st)
    when = dt.date.fromisoformat((latest.completed_utc or latest.started_utc)[:10])
    return studies, when, f"registry pull {latest.pull_id}", banks


def report_stage(ctx: Any) -> None:
    """Pipeline stage 'registers': registrations.csv, non_publication.csv, prisma_registers.json + figure."""
    import matplotlib.pyplot as plt

    from evidence_review.atomic import atomic_write_text
    from evidence_review.figures import save_figure
    from evidence_review.tables import write_table

    live = store_registrations_source(getattr(ctx, "store", None))
    if live is not None:
        studies, as_of, source, banks = live
    else:
        path = ctx.topic.files.registrations
        studies, compiled = load_offline(path)
        as_of, source, banks = dt.date.fromisoformat(compiled), _shown(path, ctx.root), {}
    records = ctx.tables.get("records")
    reg, nonpub, stream = build_register_stream(studies, records if records is not None else pd.DataFrame(),
                                                as_of, source, banks)
    ctx.tables_dir.mkdir(parents=True, exist_ok=True)
    ctx.written.append(write_table(reg, ctx.tables_dir / "registrations.csv"))
    ctx.written.append(write_table(nonpub, ctx.tables_dir / "non_publication.csv"))
    out = ctx.reports / "prisma_registers.json"
    atomic_write_text(out, json.dumps(stream, indent=2, sort_keys=True) + "\n")
    ctx.written.append(out)
    fig = register_figure(stream)
    ctx.written += save_figure(fig, ctx.figures_dir / "prisma_registers")
    plt.close(fig)
    ctx.tables["registrations"] = reg
    ctx.tables["non_publication"] = nonpub
    ctx.facts["register_stream"] = stream
    ctx.facts["publication_bias_registers"] = publication_bias_note(stream)


def ongoing_view(reg: pd.DataFrame) -> pd.DataFrame:
    """The ongoing trials as the summary lists them."""
    cols = ["registry_id", "title", "overall_status", "phase", "enrollment", "start_date", "completion_date",
            "linked_reports"]
    if reg is None or reg.empty:
        return pd.DataFrame(columns=cols)
    return reg.loc[reg["stream_class"] == "ongoing", cols].reset_index(drop=True)


__all__ = ["SEP", "build_register_stream", "classify", "ongoing_view", "publication_bias_note", "report_stage"]


def _shown(path: Path, root: Path) -> str:
    """A file as the report names it: relative to the project root where it lies inside it."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(path)


def registrations_vocabulary(topic: Any) -> Vocabulary:
    """The topic's words for reading compiled registrations (``[vocabulary.registrations]``)."""
    v = topic.vocab("registrations")
    return Vocabulary(drugs=tuple(v.get("drugs", topic.inclusion.intervention_terms)),
                      condition_pattern=v.get("condition_pattern", r"(?!x)x"), condition_name=v.get("condition_name", ""))
