"""Responder shares under the topic's response definition: pooled where the synthesis stage pooled, else one per study."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evidence_review.claims.evidence_base import (
    EvidenceBase,
    exact_ci,
)
from evidence_review.tables import MULTI_SEP


@dataclass
class ResponderUnit:
    """One responder share that may be compared with a claim: a pooled analysis of comparable studies
    (from the synthesis stage) or one study's count at one timepoint under the topic's definition."""
    label: str
    studies: list[str]
    events: float
    n: float
    share: float
    lo: float
    hi: float


def _pooled_rows(eb: EvidenceBase) -> pd.DataFrame:
    p = eb.pooled
    if p is None or p.empty or "comparison_ids" not in p.columns:
        return pd.DataFrame()
    prim = p[p["primary"].astype(str).str.lower() == "true"] if "primary" in p.columns else p
    return prim[prim.get("measure", pd.Series("", index=prim.index)).astype(str).isin(["PLO", "PFT", "PR", "PAS", "PRAW"])]


def responder_summary(eb: EvidenceBase, f: pd.DataFrame) -> tuple[list[ResponderUnit], list[str]]:
    """Responder shares without summing across incompatible timepoints or definitions.

    Pooled analyses of the synthesis stage are used where all their comparisons are among the
    findings ``f`` (so all their studies are in the claim's population and window); the other rows
    with the topic's response definition are listed one per study and timepoint. Rows with another
    threshold, or with no definition at all (e.g. 'improved'), are returned as notes, never counted."""
    r = f[f["kind"] == "responders"] if not f.empty else f
    if r.empty:
        return [], []
    threshold = eb.topic.outcome.threshold_percent  # the topic's response definition, in percent
    change = "fall" if eb.topic.outcome.response_direction == "decrease" else "rise"
    thr = pd.to_numeric(r["threshold"], errors="coerce")
    main = r[thr == threshold]
    notes = []
    for row in r[thr.isna()].itertuples():
        notes.append(f"{row.study_id}: {row.outcome} {row.k_events:g}/{row.k_n:g} at {row.timepoint} has no response "
                     f"definition, so it is not counted as responders")
    for row, t in zip(r[thr.notna() & (thr != threshold)].itertuples(), thr[thr.notna() & (thr != threshold)]):
        notes.append(f"{row.study_id}: {row.k_events:g}/{row.k_n:g} at {row.timepoint} with a >= {t:g}% definition "
                     f"(not compared: other definition)")
    units: list[ResponderUnit] = []
    covered: set[tuple[str, float]] = set()
    cids = set(main["comparison_id"].astype(str))
    for p in _pooled_rows(eb).to_dict("records"):
        ids = [c for c in str(p["comparison_ids"]).split(MULTI_SEP) if c]
        if not ids or not set(ids) <= cids:
            continue
        rows = main[main["comparison_id"].astype(str).isin(ids)]
        covered |= {(s, h) for s, h in zip(rows["study_id"], rows["hours"].fillna(-1))}
        est, lo, hi = (float(p["back_estimate"]), float(p["back_ci_low"]), float(p["back_ci_high"]))
        studies = [s for s in str(p["study_ids"]).split(MULTI_SEP) if s]
        units.append(ResponderUnit(
            f"pooled {p['analysis']} ({p['measure']} {p['method']}, k={int(p['k'])}, {float(p['events']):g}/"
            f"{float(p['n_total']):g}): {est:.0%} (95% CI {lo:.0%}-{hi:.0%}) [{', '.join(studies)}]",
            studies, float(p["events"]), float(p["n_total"]), est, lo, hi))
    rest = main[[(s, h) not in covered for s, h in zip(main["study_id"], main["hours"].fillna(-1))]]
    # a controlled contrast repeats its ketamine arm: one row per study, timepoint and count
    rest = rest.drop_duplicates(["study_id", "timepoint", "k_events", "k_n"])
    for row in rest.itertuples():
        lo, hi = exact_ci(row.k_events, row.k_n)
        units.append(ResponderUnit(
            f"{row.study_id}: {row.k_events:g}/{row.k_n:g} = {row.k_events / row.k_n:.0%} (95% CI {lo:.0%}-{hi:.0%}) "
            f"at {row.timepoint}, {eb.topic.outcome.measure} {change} >= {threshold:g}%",
            [row.study_id], float(row.k_events), float(row.k_n), row.k_events / row.k_n, lo, hi))
    return units, notes


def share_verdict(units: list[ResponderUnit], claimed: float, controlled_positive: bool) -> str:
    """A claimed responder share against the units: contradicted if every unit's 95% CI lies below it;
    not supported if no unit reaches it; supported (needs a significant controlled result; otherwise
    partly) if every unit does; when they disagree, partly supported if the units reaching it hold at
    least half the participants, else not supported."""
    meets = [u for u in units if u.share >= claimed]
    if all(u.hi < claimed for u in units):
        return "contradicted"
    if not meets:
        return "not_supported"
    if len(meets) == len(units):
        return "supported" if controlled_positive else "partly_supported"
    return "partly_supported" if 2 * sum(u.n for u in meets) >= sum(u.n for u in units) else "not_supported"


def _units_text(units: list[ResponderUnit], notes: list[str]) -> str:
    txt = "; ".join(u.label for u in units)
    return txt + (f"; not counted: {'; '.join(notes)}" if notes else "")
