"""Screening against the topic's criteria, reviewer decisions, PRISMA 2020 counts and flow diagram.

Rules run in the order a reviewer applies them and each returns the *first* reason that fails, with the
stage at which a reviewer would see it:

title/abstract (visible from the record alone)
  1. not human - preclinical/animal work (design label, or animal words with no patients);
  2. not a primary study - systematic/narrative reviews, meta-analyses and guidelines: they feed the
     context and their reference lists, never the included-studies set (counting them would count the
     same patients twice);
  3. letter or comment without patient data (letters that report patients are labelled by their design);
  4. population - no OCD or obsessive-compulsive symptoms in title, abstract, MeSH or keywords;
  5. intervention - no ketamine/esketamine.
full text (needs the report or registry entry)
  6. trial registrations: the registry entry is not a results report; when a paper in the snapshot carries
     the same NCT id it is "registration of an included report" (PRISMA counts the study via the paper);
     otherwise the register stream (``review.registers``) classifies it. Registrations are counted in
     PRISMA's register stream, not in the database counts here;
  7. a design the rules cannot place ("other") is excluded until a reviewer decides;
  8. no clinical outcome - only checked when an abstract exists (snapshot abstracts are empty, so the
     reviewer's decisions file carries this judgement there, e.g. an imaging-only substudy).
Everything else is included. Decisions in ``evidence/screening_decisions.csv`` win and are counted.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from evidence_review.review import design as design_mod
from evidence_review.review import queue
from evidence_review.review import studies as studies_mod
from evidence_review.errors import InputError
from evidence_review.tables import claim_once, read_csv_strict, require_values
from evidence_review.review.topic import Topic

STAGES = ("title_abstract", "full_text")
DECISION_COLUMNS = ("study_id", "pmid", "decision", "stage", "category", "reviewer", "reason")


@dataclass(frozen=True)
class ScreenResult:
    included: bool
    stage: str        # "" when included, else title_abstract / full_text
    category: str     # short exclusion category for PRISMA reason counts ("" when included)
    reason: str       # one line a reader can check


def _matches(text: str, terms: tuple[str, ...]) -> str | None:
    for term in terms:
        if re.search(r"(?<![a-z0-9])" + re.escape(term.lower()), text):
            return term
    return None


def _text(rec: Mapping[str, Any]) -> str:
    parts = [str(rec.get("title") or ""), str(rec.get("abstract") or "")]
    for col in ("mesh_terms", "keywords"):
        parts += design_mod.as_list(rec.get(col))
    return " ".join(parts).lower().replace("–", "-")


def screen_record(rec: Mapping[str, Any], design: str, topic: Topic) -> ScreenResult:
    """Include/exclude one record given its (final) design label and the topic criteria."""
    inc = topic.inclusion
    text = _text(rec)
    TA, FT = STAGES
    if design == "preclinical":
        return ScreenResult(False, TA, "not human (preclinical)", "not human: preclinical/animal study")
    animal = _matches(text, inc.nonhuman_terms)
    if animal and not re.search(r"\b(patients?|participants|humans?|adults?|adolescents?|children)\b", text):
        return ScreenResult(False, TA, "not human (preclinical)", f"not human: mentions '{animal}' and no patients")
    if design in design_mod.REVIEW_LIKE:
        return ScreenResult(False, TA, "review or guideline, not a primary study",
                            f"{design.replace('_', ' ')}: not a primary study (used for context only)")
    if design == "letter_comment":
        return ScreenResult(False, TA, "letter/comment without patient data", "letter or comment without original patient data")
    if not _matches(text, inc.condition_terms):
        label = topic.condition.label
        return ScreenResult(False, TA, f"population not {label}", f"population: no {label} or its symptoms named")
    if not _matches(text, inc.intervention_terms):
        drug = topic.intervention_label
        return ScreenResult(False, TA, f"intervention not {drug}", f"intervention: {'/'.join(inc.intervention_terms[:2])} not named")
    if design == "trial_registration":
        linked = str(rec.get("linked_study_id") or "")
        if linked:
            return ScreenResult(False, FT, "registration of an included report",
                                f"trial registration of the trial reported in {linked} (counted through that report)")
        return ScreenResult(False, FT, "registration (register stream)",
                            "trial registration without a report in the snapshot: classified in the register stream "
                            "(ongoing / awaiting classification / non-publication, tables/registrations.csv)")
    if design == "other":
        return ScreenResult(False, FT, "design not identified", "design could not be identified as a primary clinical study")
    abstract = str(rec.get("abstract") or "")
    if abstract and not _matches(abstract.lower(), inc.outcome_terms):
        return ScreenResult(False, FT, "no clinical outcome", "no clinical outcome (symptoms, response or adverse events) reported")
    return ScreenResult(True, "", "", "")


def load_decisions(path: str | Path, records: pd.DataFrame | None = None) -> pd.DataFrame:
    """Validated reviewer decisions: study_id (or pmid), decision, stage, category, reviewer, reason.

    ``decision`` is include or exclude; ``stage`` (title_abstract or full_text) is required for exclusions and
    empty for inclusions; ``category`` (optional column) is the short exclusion reason PRISMA counts.
    Bad rows raise InputError naming the file, row (header = row 1) and field."""
    path = Path(path)
    df = read_csv_strict(path, required=("decision", "stage", "reviewer", "reason"))
    if "study_id" not in df.columns and "pmid" not in df.columns:
        raise InputError("needs a 'study_id' or 'pmid' column", file=path, row=1, field="study_id")
    out, seen = [], {}
    for i, rec in enumerate(df.to_dict(orient="records")):
        row = i + 2
        sid = design_mod.resolve_record_id(rec, row, path, records)
        decision, stage = rec["decision"].strip().lower(), rec["stage"].strip()
        if decision not in ("include", "exclude"):
            raise InputError(f"decision must be 'include' or 'exclude', got {rec['decision']!r}", file=path, row=row, field="decision")
        if decision == "exclude" and stage not in STAGES:
            raise InputError(f"an exclusion needs stage {' or '.join(STAGES)}, got {stage!r}", file=path, row=row, field="stage")
        if decision == "include" and stage:
            raise InputError("an inclusion has no stage (leave it empty)", file=path, row=row, field="stage")
        require_values(rec, ("reviewer", "reason"), path, row)
        if sid is None:
            continue  # a searched record this run does not hold
        claim_once(seen, sid, path, row, "study_id", "decided")
        category = rec.get("category", "").strip()
        if decision == "include" and category:
            raise InputError("an inclusion has no exclusion category", file=path, row=row, field="category")
        out.append({"study_id": sid, "decision": decision, "stage": stage, "category": category,
                    "reviewer": rec["reviewer"].strip(), "reason": rec["reason"].strip()})
    return pd.DataFrame(out, columns=["study_id", "decision", "stage", "category", "reviewer", "reason"])


def screen_frame(records: pd.DataFrame, topic: Topic, decisions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per record: study_id, included, screening_stage, exclusion_category, exclusion_reason, screening_source.

    ``records`` must carry a final ``design`` column. Reviewer decisions replace the rule's result."""
    by_id = decisions.set_index("study_id") if decisions is not None and len(decisions) else None
    rows = []
    for rec in records.to_dict(orient="records"):
        res = screen_record(rec, rec["design"], topic)
        source = "rule"
        if by_id is not None and rec["study_id"] in by_id.index:
            d = by_id.loc[rec["study_id"]]
            note = "confirms rule" if (d["decision"] == "include") == res.included else "overrides rule"
            if d["decision"] == "include":
                res = ScreenResult(True, "", "", "")
                reason = ""
            else:
                category = d["category"] or (res.category if (not res.included and res.stage == d["stage"])
                                             else "reviewer exclusion")
                res = ScreenResult(False, d["stage"], category, d["reason"])
                reason = d["reason"]
            source = f"reviewer ({note})"
            rows.append({"study_id": rec["study_id"], "included": res.included, "screening_stage": res.stage,
                         "exclusion_category": res.category, "exclusion_reason": reason,
                         "screening_source": source, "screening_note": f"{d['reviewer']}: {d['reason']}"})
            continue
        rows.append({"study_id": rec["study_id"], "included": res.included, "screening_stage": res.stage,
                     "exclusion_category": res.category, "exclusion_reason": res.reason,
                     "screening_source": source, "screening_note": ""})
    return pd.DataFrame(rows)


def prisma_counts(screened: pd.DataFrame, identified: int, duplicates_removed: int,
                  identified_by_source: Mapping[str, int] | None = None) -> dict[str, Any]:
    """PRISMA 2020 counts; raises if they do not add up (a bug or a bad snapshot, never silently)."""
    n = len(screened)
    if identified - duplicates_removed != n:
        raise InputError(f"identified ({identified}) - duplicates ({duplicates_removed}) != records screened ({n})",
                         field="prisma")
    ta = screened[screened["screening_stage"] == "title_abstract"]
    ft = screened[screened["screening_stage"] == "full_text"]
    waiting = int((screened["screening_stage"] == queue.AWAITING).sum())
    included = int(screened["included"].sum())
    counts: dict[str, Any] = {
        "identified": int(identified),
        "duplicates_removed": int(duplicates_removed),
        "screened": n,
        "excluded_title_abstract": len(ta),
        "awaiting_screening": waiting,
        "full_text_assessed": n - len(ta) - waiting,
        "excluded_full_text": len(ft),
        "included": included,
    }
    if counts["full_text_assessed"] - counts["excluded_full_text"] != included:
        raise InputError("PRISMA counts do not add up: assessed - excluded != included", field="prisma")
    counts["identified_by_source"] = dict(identified_by_source or {})
    counts["excluded_title_abstract_reasons"] = _reason_counts(ta)
    counts["excluded_full_text_reasons"] = _reason_counts(ft)
    src = screened["screening_source"].astype(str)
    counts["reviewer_decisions"] = {"applied": int(src.str.startswith("reviewer").sum()),
                                    "overriding_rule": int(src.eq("reviewer (overrides rule)").sum())}
    return counts


def study_counts(table: pd.DataFrame) -> dict[str, Any]:
    """Included reports and the distinct studies they describe (PRISMA 2020 counts both).

    ``table`` is the records table with ``included``, ``study_group``, ``study_design`` and ``report_type``.
    Designs are counted per study (the parent study's design), report types per report."""
    inc = table[table["included"].astype(bool)]
    studies = inc.drop_duplicates("study_group")
    # a study whose only included report is a secondary one still takes its own (parent) design
    by_design = studies["study_design"].value_counts()
    return {
        "included_reports": int(len(inc)),
        "included_studies": int(inc["study_group"].nunique()),
        "included_by_design": {k: int(v) for k, v in sorted(by_design.items())},
        "included_reports_by_type": {k: int(v) for k, v in sorted(inc["report_type"].value_counts().items())},
        "reports_of_included_studies_linked": {
            str(r["study_id"]): str(r["study_group"]) for r in inc.to_dict(orient="records")
            if r["study_group"] != r["study_id"]},
    }


def _reason_counts(df: pd.DataFrame) -> dict[str, int]:
    counts = df["exclusion_category"].value_counts()
    return {k: int(v) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}


# ------------------------------------------------------------------------------------------------ figure


def prisma_figure(counts: Mapping[str, Any]):
    """PRISMA 2020 flow diagram (identification -> screening -> eligibility -> included) as a Figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    fig, ax = plt.subplots(figsize=(10, 8.2))
    ax.set_xlim(0, 10)
    ax.set_ylim(-0.3, 10)
    ax.axis("off")

    def box(x: float, y: float, w: float, h: float, text: str, face: str = "#ffffff") -> None:
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                    linewidth=1.0, edgecolor="#333333", facecolor=face))
        ax.text(x + 0.12, y + h / 2, text, ha="left", va="center", fontsize=8.5, family="DejaVu Sans")

    def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=dict(arrowstyle="-|>", color="#333333", lw=1.0))

    def reasons(title: str, n: int, items: Mapping[str, int]) -> str:
        lines = [f"{title} (n = {n})"]
        for k, v in items.items():
            lines += textwrap.wrap(f"- {k} (n = {v})", 54, subsequent_indent="   ")
        return "\n".join(lines)

    by_source = counts.get("identified_by_source") or {}
    how = counts.get("identification") or {}
    other = counts.get("other_methods")
    if how.get("search_run"):
        ident = [f"Records identified from databases (n = {counts['identified']})"]
    else:
        ident = [f"Records identified by other methods (n = {counts['identified']})",
                 "  compiled evidence facts; no database search run"]
    ident += [f"  {k} (n = {v})" for k, v in by_source.items()]
    if counts.get("identified_registers"):
        ident.append(f"Registers (n = {counts['identified_registers']}): own stream (prisma_registers)")
    left, right, w_left, w_right = 0.3, 5.6, 4.6, 4.2
    ax.text(0.3, 9.8, f"PRISMA 2020 flow ({how.get('label') or 'offline snapshot'})", fontsize=11, weight="bold",
            va="center")
    stages = [("Identification", 8.55), ("Screening", 6.2), ("Eligibility", 3.75), ("Included", 1.2)]
    for name, y in stages:
        ax.text(0.05, y, name, rotation=90, ha="center", va="center", fontsize=9, color="#555555")
    box(left, 7.9, w_left, 1.3, "\n".join(ident), "#e8f0fb")
    removed = f"Records removed before screening:\n  duplicates across sources (n = {counts['duplicates_removed']})"
    if other:
        removed += (f"\nOther methods (curated records; n = {other['identified']}):\n"
                    f"  also found by the search (n = {other['duplicates_of_search']})\n"
                    f"  assessed (n = {other['assessed']}), excluded (n = {other['excluded']}), "
                    f"included (n = {other['included']})")
    box(right, 8.1 - (0.75 if other else 0), w_right, 0.9 + (0.75 if other else 0), removed)
    waiting = counts.get("awaiting_screening") or 0
    box(left, 5.8, w_left, 0.8, f"Records screened (title / abstract / registry entry)\n(n = {counts['screened']})"
        + (f"; awaiting a reviewer (n = {waiting})" if waiting else ""))
    ta_text = reasons("Records excluded", counts["excluded_title_abstract"], counts.get("excluded_title_abstract_reasons", {}))
    box(right, 5.3, w_right, 1.8, ta_text)
    box(left, 3.35, w_left, 0.8, f"Reports assessed for eligibility\n(n = {counts['full_text_assessed']})")
    ft_text = reasons("Reports excluded", counts["excluded_full_text"], counts.get("excluded_full_text_reasons", {}))
    box(right, 2.85, w_right, 1.8, ft_text)
    included = (f"Studies included in review (n = {counts.get('included_studies', counts['included'])})\n"
                f"Reports of included studies (n = {counts.get('included_reports', counts['included'])})")
    if other:
        included += f"; from the search {counts['included_databases']}, other methods {other['included']}"
    box(left, 0.8, w_left, 0.8, included, "#e6f4e6")
    designs = counts.get("included_by_design") or {}
    if designs:
        lines = ["Included studies, by design"] + [f"- {k.replace('_', ' ')} (n = {v})" for k, v in designs.items()]
        height = 0.25 * len(lines) + 0.25
        box(right, 2.55 - height, w_right, height, "\n".join(lines), "#f4f4f4")
        arrow(left + w_left, 1.2, right, 1.2)
    mid = left + w_left / 2
    arrow(mid, 7.9, mid, 6.6)
    arrow(mid, 5.8, mid, 4.15)
    arrow(mid, 3.35, mid, 1.6)
    arrow(left + w_left, 8.55, right, 8.55)
    arrow(left + w_left, 6.2, right, 6.2)
    arrow(left + w_left, 3.75, right, 3.75)
    return fig


# ------------------------------------------------------------------------------------------- main job


def run_records(ctx: Any) -> Any:
    """The run's records and how they were identified: the offline snapshot, or a store's pull
    (``ctx.store``, ``ctx.pull_id``) plus the curated records the search did not return."""
    from evidence_review.review import sources

    store = getattr(ctx, "store", None)
    if store is None:
        return sources.offline(ctx.topic.files.snapshot)
    return sources.from_store(Path(store), getattr(ctx, "pull_id", None), ctx.topic.files.snapshot)


def build_run(ctx: Any) -> tuple[pd.DataFrame, dict[str, Any], Any, dict[str, Any]]:
    """records + designs + screening (no files written): (table, prisma, RunRecords, design agreement)."""
    topic = ctx.topic
    run = run_records(ctx)
    records = run.records
    labels, agreement = design_mod.label_records(records, topic.files.design_overrides)
    cols = ["design", "design_confidence", "design_reason", "design_source", "design_auto"]
    extra = ["design_confidence_auto", "design_reason_auto"]
    table = records.merge(labels[["study_id", *cols, *extra]], on="study_id", how="left", validate="one_to_one")
    links_path = topic.files.study_links
    links = studies_mod.load_links(links_path, records) if links_path.exists() else None
    table = studies_mod.add_study_columns(table, links, links_path)
    decisions_path = topic.files.screening_decisions
    decisions = load_decisions(decisions_path, records) if decisions_path.exists() else None
    screened = screen_frame(table, topic, decisions)
    table = table.merge(screened, on="study_id", how="left", validate="one_to_one")
    baseline = baseline_state(ctx, run)
    # "new since the last reviewed pull": the offline snapshot is no pull, so it marks nothing as new
    table = queue.mark(table, baseline if baseline and baseline.get("key") != "snapshot" else None)
    prisma = stream_prisma(table, run)
    prisma.update(study_counts(table))
    return table, prisma, run, agreement


def baseline_state(ctx: Any, run: Any) -> dict[str, Any] | None:
    """The previous run's saved state (see run_state), cached in ``ctx.facts['baseline']``."""
    from evidence_review.review import run_state

    if "baseline" not in ctx.facts:
        key = run_state.state_key(run.identification)
        state, path = run_state.find_baseline(ctx.reports, key, str(run.identification.get("date", "")))
        ctx.facts["baseline"] = state
        ctx.facts["baseline_path"] = path
        ctx.facts["state_key"] = key
    return ctx.facts["baseline"]


def build_records_table(ctx: Any) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """records + designs + screening (no files written): (table, prisma, manifest, design agreement)."""
    table, prisma, run, agreement = build_run(ctx)
    return table, prisma, run.manifest, agreement


def stream_prisma(table: pd.DataFrame, run: Any) -> dict[str, Any]:
    """PRISMA 2020 counts per identification stream. Offline: the compiled snapshot (no search).
    Store: 'identified' = the pull's records (databases); curated records the search did not return are
    counted apart under 'other_methods'; 'included' is the studies included from both."""
    ident = run.identification
    if ident["kind"] == "snapshot":
        counts = run.manifest.get("counts", {})
        by_source = {Path(s["file"]).name: int(s["entries"]) for s in run.manifest.get("sources", [])}
        # Registrations are PRISMA's register stream (review.registers), not database records: take their
        # rows and the source entries merged into them out of this stream's counts.
        is_reg = table["key_source"].isin(["nct", "registry"])
        reg_entries = [str(x).split(":")[0] for v in table.loc[is_reg, "sources"] for x in design_mod.as_list(v)]
        for name in reg_entries:
            by_source[name] = by_source.get(name, 0) - 1
        prisma = prisma_counts(table[~is_reg], int(counts.get("identified", len(table))) - len(reg_entries),
                               int(counts.get("duplicates_removed", 0)) - (len(reg_entries) - int(is_reg.sum())),
                               by_source)
        prisma["identified_registers"] = int(is_reg.sum())
        prisma["identification"] = ident
        return prisma
    db = table[table["stream"] == "databases"]
    om = table[(table["stream"] != "databases") & ~table["key_source"].isin(["nct", "registry"])]
    stream = ident["streams"][0]
    prisma = prisma_counts(db, len(db), 0, {stream["source"]: len(db)})
    prisma["included_databases"] = prisma["included"]
    om_stream = next((s for s in ident["streams"] if s["stream"] == "other_methods"), {})
    om_excluded = om[~om["included"].astype(bool)]
    prisma["other_methods"] = {
        "identified": int(om_stream.get("identified", len(om))),
        "duplicates_of_search": int(om_stream.get("duplicates_of_search", 0)),
        "assessed": int(len(om)),
        "excluded": int(len(om_excluded)),
        "excluded_reasons": _reason_counts(om_excluded),
        "included": int(om["included"].astype(bool).sum()),
        "registrations_to_register_stream": int(om_stream.get("registrations_to_register_stream", 0)),
    }
    prisma["included"] = prisma["included_databases"] + prisma["other_methods"]["included"]
    prisma["identification"] = ident
    return prisma


def report_stage(ctx: Any) -> None:
    """Pipeline stage 'records': records.csv, prisma.json, PRISMA figure and design agreement table."""
    from evidence_review.atomic import atomic_write_text
    from evidence_review.figures import save_figure
    from evidence_review.review.snapshot import frame_to_csv_frame
    from evidence_review.tables import write_table

    table, prisma, run, agreement = build_run(ctx)
    manifest = run.manifest
    ctx.tables_dir.mkdir(parents=True, exist_ok=True)
    ctx.written.append(write_table(frame_to_csv_frame(table), ctx.tables_dir / "records.csv"))
    q = queue.queue_frame(table)
    ctx.written.append(write_table(q, ctx.tables_dir / "screening_queue.csv"))
    ctx.tables["screening_queue"] = q
    if run.matches is not None:
        ctx.written.append(write_table(run.matches, ctx.tables_dir / "record_matches.csv"))
        ctx.tables["record_matches"] = run.matches
    ctx.written.append(write_table(design_mod.agreement_frame(agreement), ctx.tables_dir / "design_agreement.csv"))
    prisma_path = ctx.reports / "prisma.json"
    atomic_write_text(prisma_path, json.dumps(prisma, indent=2) + "\n")
    ctx.written.append(prisma_path)
    import matplotlib.pyplot as plt

    fig = prisma_figure(prisma)
    ctx.written += save_figure(fig, ctx.figures_dir / "prisma")
    plt.close(fig)
    ctx.tables["records"] = table
    ctx.facts["prisma"] = prisma
    ctx.facts["snapshot_manifest"] = manifest
    ctx.facts["identification"] = run.identification
    ctx.facts["run_records"] = run
    ctx.facts["design_agreement"] = agreement
