"""The screening queue: which records a reviewer must look at, and merging the reviewer's answers back.

Every record a search returns gets a rule design label and a rule decision with a confidence (how far the
rule that decided can be trusted, not a calibrated probability: :func:`rule_confidence`). Curated records
(the snapshot's studies, matched by identifier) and records with a reviewer decision are settled. Any
other record goes to ``reports/tables/screening_queue.csv`` when

* the rule would include it - a rule may exclude on its own but never includes: an inclusion changes the
  review, so it waits for a reviewer ("awaiting"), is not counted as included and moves no verdict;
* its rule decision is uncertain (confidence below :data:`UNCERTAIN_BELOW`);
* it is new since the previous run (the baseline state), so a reviewer sees every new record once; or
* it was queued in the previous run and is still undecided.

``screen --queue FILE`` validates a filled queue (:func:`read_filled`) and merges it into the curated
decision files (:func:`merge`): a decision already there is never duplicated, a different one is an error
unless ``--replace``; each file is rewritten atomically and re-validated before it replaces the old one.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evidence_review.atomic import atomic_path
from evidence_review.errors import InputError
from evidence_review.review import design as design_mod
from evidence_review.tables import read_csv_strict

UNCERTAIN_BELOW = 0.7
AWAITING = "awaiting"
REVIEWER_COLUMNS = ("reviewer_decision", "reviewer_stage", "reviewer_design", "reviewer_reason", "reviewer")
QUEUE_COLUMNS = ("study_id", "pmid", "doi", "pmcid", "nct_id", "title", "year", "journal", "design_auto",
                 "design_confidence", "rule_decision", "rule_stage", "rule_category", "rule_reason",
                 "rule_confidence", "queue_reason") + REVIEWER_COLUMNS
DECISION_FILE_COLUMNS = ("study_id", "pmid", "decision", "stage", "category", "reviewer", "reason")
OVERRIDE_FILE_COLUMNS = ("study_id", "pmid", "design", "reviewer", "reason")
_STAGES = ("title_abstract", "full_text")

# how much a rule's exclusion can be trusted, by the category it gives (None: the design label's confidence)
_EXCLUSION_CONFIDENCE: dict[str, float | None] = {
    "not human (preclinical)": None, "review or guideline, not a primary study": None,
    "letter/comment without patient data": None, "registration of an included report": 0.9,
    "registration without results report": 0.9, "design not identified": 0.3, "no clinical outcome": 0.6,
}


def rule_confidence(included: bool, category: str, design_confidence: float, has_abstract: bool) -> float:
    """Confidence in a rule's decision: a missing population or drug term is near-certain when an abstract
    was read (0.95), less so from a title alone (0.75); design-based exclusions inherit the design label's."""
    if included:
        return round(float(design_confidence), 2)
    if category.startswith(("population not ", "intervention not ")):  # the topic's condition or drug not named
        return 0.95 if has_abstract else 0.75
    fixed = _EXCLUSION_CONFIDENCE.get(category)
    return round(float(design_confidence if fixed is None else fixed), 2)


def mark(table: pd.DataFrame, baseline: dict[str, Any] | None) -> pd.DataFrame:
    """Add rule_decision, rule_confidence, queue_reason; records the rule would include wait (not included).

    ``table`` is the screened records table (``curated`` and ``screening_source`` columns required)."""
    out = table.copy()
    before = set((baseline or {}).get("records", {}))
    queued_before = set((baseline or {}).get("queue", []))
    decisions, confidences, reasons = [], [], []
    for rec in out.to_dict("records"):
        inc = bool(rec["included"])
        conf = rule_confidence(inc, str(rec.get("exclusion_category") or ""),
                               float(rec.get("design_confidence_auto", rec.get("design_confidence")) or 0),
                               bool(str(rec.get("abstract") or "").strip()))
        decisions.append("include" if inc else "exclude")
        confidences.append(conf)
        why = []
        if not bool(rec.get("curated")) and str(rec.get("screening_source")) == "rule":
            if inc:
                why.append("rule would include: a reviewer confirms every inclusion")
            if conf < UNCERTAIN_BELOW:
                why.append(f"uncertain rule decision (confidence {conf:.2f})")
            if baseline is not None and rec["study_id"] not in before:
                why.append("new since the previous run")
            elif rec["study_id"] in queued_before:
                why.append("queued before, still undecided")
        reasons.append("; ".join(why))
    out["rule_decision"] = decisions
    out["rule_confidence"] = confidences
    out["queue_reason"] = reasons
    wait = out["queue_reason"].ne("") & out["included"].astype(bool)
    out.loc[wait, "included"] = False
    out.loc[wait, "screening_stage"] = AWAITING
    out.loc[wait, "exclusion_category"] = "awaiting reviewer decision"
    out.loc[wait, "exclusion_reason"] = "the rules would include it; waiting for a reviewer (screening queue)"
    out.loc[wait, "screening_source"] = "queue"
    return out


def queue_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``table`` that wait for a reviewer, in QUEUE_COLUMNS (reviewer columns empty)."""
    q = table[table["queue_reason"].ne("")]
    rows = []
    for rec in q.to_dict("records"):
        waiting = rec["screening_stage"] == AWAITING
        rows.append({
            "study_id": rec["study_id"], "pmid": rec.get("pmid", ""), "doi": rec.get("doi", ""),
            "pmcid": rec.get("pmcid", ""), "nct_id": rec.get("nct_id", ""), "title": rec.get("title", ""),
            "year": "" if pd.isna(rec.get("year")) else int(rec["year"]), "journal": rec.get("journal", ""),
            "design_auto": rec.get("design_auto", ""), "design_confidence": rec.get("design_confidence", ""),
            "rule_decision": rec["rule_decision"], "rule_stage": "" if waiting else rec["screening_stage"],
            "rule_category": "" if waiting else rec["exclusion_category"],
            "rule_reason": ("" if waiting else rec["exclusion_reason"]) or "meets every inclusion rule",
            "rule_confidence": rec["rule_confidence"], "queue_reason": rec["queue_reason"],
            **{c: "" for c in REVIEWER_COLUMNS},
        })
    return pd.DataFrame(rows, columns=list(QUEUE_COLUMNS))


# ------------------------------------------------------------------------------------------- screen


@dataclass(frozen=True)
class Answer:
    row: int
    study_id: str
    pmid: str
    decision: str      # include | exclude | "" (design only)
    stage: str
    category: str
    design: str
    reason: str
    reviewer: str


def read_filled(path: str | Path, reviewer: str = "") -> list[Answer]:
    """The answered rows of a filled queue (rows left blank stay queued). Errors name row and field."""
    path = Path(path)
    df = read_csv_strict(path, required=("study_id", "reviewer_decision", "reviewer_design", "reviewer_reason"))
    out = []
    for i, rec in enumerate(df.to_dict("records")):
        row = i + 2
        decision = rec["reviewer_decision"].strip().lower()
        design = rec["reviewer_design"].strip()
        if not decision and not design:
            continue
        if decision and decision not in ("include", "exclude"):
            raise InputError(f"decision must be include or exclude, got {rec['reviewer_decision']!r}",
                             file=path, row=row, field="reviewer_decision")
        if design and design not in design_mod.LABELS:
            raise InputError(f"unknown design {design!r} (known: {', '.join(design_mod.LABELS)})",
                             file=path, row=row, field="reviewer_design")
        if not rec["reviewer_reason"].strip():
            raise InputError("a decision or design needs a reason", file=path, row=row, field="reviewer_reason")
        sid = rec["study_id"].strip()
        if not sid:
            raise InputError("missing value", file=path, row=row, field="study_id")
        who = rec.get("reviewer", "").strip() or reviewer
        if not who:
            raise InputError("name the reviewer (column reviewer, or screen --reviewer NAME)", file=path, row=row,
                             field="reviewer")
        stage = rec.get("reviewer_stage", "").strip()
        category = ""
        if decision == "exclude":
            rule_stage = rec.get("rule_stage", "").strip()
            stage = stage or (rule_stage if rule_stage in _STAGES else "title_abstract")
            if stage not in _STAGES:
                raise InputError(f"stage must be {' or '.join(_STAGES)}, got {stage!r}", file=path, row=row,
                                 field="reviewer_stage")
            same = rec.get("rule_decision", "") == "exclude" and rule_stage == stage
            category = rec.get("rule_category", "").strip() if same else "reviewer exclusion"
        elif stage:
            raise InputError("an inclusion has no stage (leave it empty)", file=path, row=row, field="reviewer_stage")
        out.append(Answer(row, sid, rec.get("pmid", "").strip(), decision, stage, category, design,
                          " ".join(rec["reviewer_reason"].split()), who))
    return out


def _rows_text(columns: list[str], rows: list[dict[str, str]], keep: dict[int, str] | None = None) -> str:
    """CSV text; rows listed in ``keep`` (index -> original line) are written exactly as they were."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for i, row in enumerate(rows):
        if keep and i in keep:
            buf.write(keep[i] + "\n")
        else:
            w.writerow(row)
    return buf.getvalue()


def _merge_file(path: Path, columns: tuple[str, ...], new: list[tuple[Answer, dict[str, str]]], compare: tuple[str, ...],
                replace: bool, queue_path: Path, check) -> dict[str, int]:
    """Merge ``new`` rows (keyed by study_id) into the CSV at ``path``; validate with ``check``; write atomically."""
    keep: dict[int, str] = {}
    if path.exists():
        df = read_csv_strict(path, required=("reviewer", "reason"))
        cols = list(df.columns) + [c for c in columns if c not in df.columns]
        rows = [{c: str(r.get(c, "")) for c in cols} for r in df.to_dict("records")]
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) == len(rows) + 1 and cols == list(df.columns):  # one line per row: keep earlier bytes
            keep = {i: line for i, line in enumerate(lines[1:])}
    else:
        cols, rows = list(columns), []
    where = {r["study_id"]: i for i, r in enumerate(rows) if r.get("study_id")}
    by_pmid = {r["pmid"]: i for i, r in enumerate(rows) if r.get("pmid") and not r.get("study_id")}
    counts = {"added": 0, "unchanged": 0, "replaced": 0}
    for ans, row in new:
        i = where.get(ans.study_id, by_pmid.get(ans.pmid) if ans.pmid else None)
        if i is None:
            rows.append({c: row.get(c, "") for c in cols})
            where[ans.study_id] = len(rows) - 1
            counts["added"] += 1
            continue
        if all(rows[i].get(c, "") == row.get(c, "") for c in compare):
            counts["unchanged"] += 1
            continue
        if not replace:
            raise InputError(f"{ans.study_id} is already decided differently in {path} row {i + 2}; "
                             "use --replace to change an earlier decision", file=queue_path, row=ans.row,
                             field="reviewer_decision" if "decision" in compare else "reviewer_design")
        rows[i].update({c: row.get(c, "") for c in cols if c in row})
        keep.pop(i, None)
        counts["replaced"] += 1
    if counts["added"] or counts["replaced"]:
        with atomic_path(path) as tmp:
            tmp.write_text(_rows_text(cols, rows, keep), encoding="utf-8")
            check(tmp)  # a merged file that would not load never replaces the old one
    return counts


def merge(answers: list[Answer], decisions_path: str | Path, overrides_path: str | Path, *, queue_path: str | Path,
          replace: bool = False) -> dict[str, dict[str, int]]:
    """Merge answered queue rows into the decisions and design-override files; returns counts per file."""
    from evidence_review.review.screening import load_decisions

    seen: dict[str, int] = {}
    for a in answers:
        if a.study_id in seen:
            raise InputError(f"{a.study_id} answered twice (rows {seen[a.study_id]} and {a.row})",
                             file=queue_path, row=a.row, field="study_id")
        seen[a.study_id] = a.row
    designs = [(a, {"study_id": a.study_id, "pmid": a.pmid, "design": a.design, "reviewer": a.reviewer,
                    "reason": a.reason}) for a in answers if a.design]
    decided = [(a, {"study_id": a.study_id, "pmid": a.pmid, "decision": a.decision, "stage": a.stage,
                    "category": a.category, "reviewer": a.reviewer, "reason": a.reason})
               for a in answers if a.decision]
    out = {}
    out["overrides"] = _merge_file(Path(overrides_path), OVERRIDE_FILE_COLUMNS, designs, ("design",), replace,
                                   Path(queue_path), design_mod.load_overrides)
    out["decisions"] = _merge_file(Path(decisions_path), DECISION_FILE_COLUMNS, decided, ("decision", "stage"),
                                   replace, Path(queue_path), load_decisions)
    return out
