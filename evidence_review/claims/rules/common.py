"""Shared ground of the verdict rules: the Verdict record, GRADE-like certainty, the evidence hierarchy, finding queries."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterable

import pandas as pd

from evidence_review.claims.evidence_base import (
    CONTROLLED_DESIGNS,
    PRIMARY_DESIGNS,
    RCT_DESIGNS,
    EvidenceBase,
    count_once,
)

VERDICTS: tuple[str, ...] = ("supported", "partly_supported", "not_supported", "contradicted", "no_evidence",
                             "not_testable")


LEVELS: tuple[str, ...] = ("high", "moderate", "low", "very_low")


LARGE_EFFECT = 0.8  # Cohen's conventional threshold for a large standardised effect


ACUTE_HOURS = 72.0  # the acute window of single-dose studies (days 1-3)


OPTIMAL_N = 100  # below this many participants, a body of evidence is imprecise (GRADE's rule of thumb)


@dataclass
class Verdict:
    verdict: str
    certainty: str
    reason: str
    studies: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    downgrades: list[str] = field(default_factory=list)


def grade(rct: bool, downgrades: Iterable[str]) -> tuple[str, list[str]]:
    """Start high (randomized) or low (anything else); drop one level per named downgrade."""
    downs = [d for d in downgrades if d]
    start = 0 if rct else 2
    return LEVELS[min(start + len(downs), len(LEVELS) - 1)], downs


def _study_downgrades(eb: EvidenceBase, ids: list[str]) -> tuple[bool, list[str]]:
    """Risk of bias, imprecision and indirectness of a set of studies (inconsistency is the rule's call)."""
    rows = [eb.study(s) for s in ids if eb.study(s)]
    if not rows:
        return False, []
    designs = [r["design"] for r in rows]
    rct = any(d in RCT_DESIGNS for d in designs)
    downs = []
    rob = rob_downgrade(eb, [r["study_id"] for r in rows])
    if rob is not None:
        if rob:
            downs.append(rob)
    elif rct:
        cross = [r["study_id"] for r in rows if r["design"] == "rct_crossover"]
        drop = [r["study_id"] for r in rows if r.get("n_randomized") and r.get("n_analyzed")
                and r["n_analyzed"] < 0.9 * r["n_randomized"]]
        if cross or drop:
            bits = ([f"crossover with possible carry-over ({', '.join(cross)})"] if cross else []) + \
                   ([f">10% dropout ({', '.join(drop)})"] if drop else [])
            downs.append("risk of bias: " + "; ".join(bits))
    elif any(d not in CONTROLLED_DESIGNS for d in designs):
        downs.append("risk of bias: no control group")
    total = _n_of(eb, [r["study_id"] for r in rows])  # each study's participants once
    if total < OPTIMAL_N:
        downs.append(f"imprecision: total n={total} (<{OPTIMAL_N})")
    indirect = []
    routes = {r["study_id"]: str(r.get("route") or "") for r in rows}
    non_iv = sorted(s for s, rt in routes.items() if rt and not re.search(r"\bIV\b|intravenous|infusion", rt))
    if non_iv:
        indirect.append(f"route other than IV ({', '.join(non_iv)})")
    for form, why in eb.topic.indirect_forms.items():
        ids_form = sorted(r["study_id"] for r in rows if form.lower() in str(r.get("drug") or "").lower())
        if ids_form:
            indirect.append(f"{why} ({', '.join(ids_form)})")
    if indirect:
        downs.append("indirectness: " + "; ".join(indirect))
    return rct, downs


def rob_downgrade(eb: EvidenceBase, ids: list[str]) -> str | None:
    """The risk-of-bias downgrade from the risk-of-bias table (None when the table is absent, so the
    caller falls back on design): names every cited study whose overall judgement is not Low."""
    if eb.rob is None or eb.rob.empty:
        return None
    ov = eb.rob.sort_values("severity", ascending=False).drop_duplicates("study_id").set_index("study_id")
    worse = [f"{s} {ov.at[s, 'overall']}" if s in ov.index else f"{s} not assessed (not an included study)"
             for s in ids if s not in ov.index or ov.at[s, "severity"] > 0]
    return ("risk of bias: " + ", ".join(worse) + " (risk_of_bias.csv)") if worse else ""


SOF_KIND = {"efficacy": "benefit", "onset": "benefit", "durability": "benefit", "population": "benefit",
            "safety": "harm"}


def cap_by_sof(v: Verdict, eb: EvidenceBase, category: str) -> Verdict:
    """A claim that rests on the review's studies alone is no more certain than the GRADE certainty of
    the outcome it rests on: the Summary-of-Findings rows of the claim's kind (benefit or harm) that
    share a study with the verdict. The best of those rows caps the verdict's certainty; the downgrade
    names the row. Verdicts that also rest on context facts keep those facts' own certainty (their
    design is graded by the rule); no SoF table, no cap."""
    kind = SOF_KIND.get(category)
    if (kind is None or eb.sof is None or eb.sof.empty or not v.studies or v.facts
            or v.verdict in ("no_evidence", "not_testable")):
        return v
    groups = {str(eb.study(s).get("study_group") or s) for s in v.studies} | set(v.studies)
    kinds = eb.sof["sof_kind"] if "sof_kind" in eb.sof.columns else pd.Series(kind, index=eb.sof.index)
    rows = eb.sof[(kinds == kind) & eb.sof["study_ids"].astype(str).apply(
        lambda ids: bool(groups & set(ids.split("; "))))]
    levels = [(LEVELS.index(str(c).replace(" ", "_")), o) for c, o in zip(rows["certainty"], rows["outcome"]) if c]
    if not levels:
        return v
    best, outcome = min(levels)
    if LEVELS.index(v.certainty) < best:
        v.certainty = LEVELS[best]
        v.downgrades = [*v.downgrades, f"GRADE: '{outcome}' is {LEVELS[best].replace('_', ' ')} certainty (sof.csv)"]
    return v


def _isnan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


def _window(tp: str) -> tuple[str, float] | None:
    """'<=24h' -> ('<=', 24.0); '>=336h' -> ('>=', 336.0)."""
    m = re.match(r"^(<=|>=)\s*(\d+(?:\.\d+)?)\s*h$", tp.strip())
    return (m.group(1), float(m.group(2))) if m else None


def _claimed_float(claim: dict, default: float = 0.0) -> float:
    try:
        return float(claim.get("claimed") or default)
    except ValueError:
        return default


def subpopulation(eb: EvidenceBase, population: str | None) -> str:
    """'<condition>_tr' or 'tr' -> 'tr'; the condition's own code or nothing -> '' (everyone)."""
    code = eb.topic.condition.code
    if not population or population == code:
        return ""
    return population[len(code) + 1:] if population.startswith(code + "_") else population


def condition_studies(eb: EvidenceBase, population: str | None = None) -> pd.DataFrame:
    """Included primary studies of the review's condition, narrowed to a sub-population where asked:
    tr (treatment-resistant), non_tr, repeated (three or more doses), adolescent."""
    s = eb.studies
    s = s[s["included"].astype(bool) & s["design"].isin(PRIMARY_DESIGNS)]
    sub = subpopulation(eb, population)
    if sub == "tr":
        s = s[s["treatment_resistant"].astype(bool)]
    elif sub == "non_tr":
        s = s[~s["treatment_resistant"].astype(bool)]
    elif sub == "repeated":
        s = s[s.apply(_is_repeated, axis=1)]
    elif sub == "adolescent":
        s = s[s["adolescent"].astype(bool)]
    return s


def _is_repeated(row: pd.Series) -> bool:
    text = f"{row.get('n_infusions', '')} {row.get('spacing', '')}"
    m = re.match(r"\s*(\d+)", str(row.get("n_infusions") or ""))
    return bool((m and int(m.group(1)) >= 3) or re.search(r"repeated|sessions|maintenance|every other day|weekly|\d+ weeks", text))


def condition_findings(eb: EvidenceBase, population: str | None = None) -> pd.DataFrame:
    """Findings about the condition's own outcomes (not harms or other scales) in the population."""
    f = eb.findings
    if f.empty:
        return f
    ids = set(condition_studies(eb, population).index)
    mask = f["study_id"].isin(ids) & ~f["outcome"].fillna("").astype(str).str.contains(
        eb.topic.outcome.other_outcomes or NEVER, case=False, regex=True)
    return f[mask]


def _n_of(eb: EvidenceBase, ids: Iterable[str]) -> int:
    """Participants of the studies behind ``ids``, each study once (reports of one study share people)."""
    ids = [s for s in ids if s in eb.studies.index]
    return count_once(eb.studies, ids)["participants"] if ids else 0


def _k_of(eb: EvidenceBase, ids: Iterable[str]) -> int:
    """Distinct studies behind the reports ``ids`` (a letter about two trial patients is not a new study)."""
    ids = [s for s in ids if s in eb.studies.index]
    return count_once(eb.studies, ids)["studies"] if ids else 0


def _group_of(eb: EvidenceBase, sid: str) -> str:
    st = eb.studies
    if "study_group" in st.columns and sid in st.index and str(st.at[sid, "study_group"] or ""):
        return str(st.at[sid, "study_group"])
    return sid


def study_level(eb: EvidenceBase, ids: Iterable[str]) -> pd.DataFrame:
    """One row per study behind the reports ``ids``: the parent report's row (its design and n) where the
    parent is among the records, else the first report's."""
    ids = [s for s in ids if s in eb.studies.index]
    rows = {}
    for sid in ids:
        g = _group_of(eb, sid)
        if g not in rows:
            rows[g] = g if g in eb.studies.index else sid
    return eb.studies.loc[list(rows.values())] if rows else eb.studies.iloc[0:0]


def rct_breakdown(eb: EvidenceBase, ids: Iterable[str]) -> tuple[pd.DataFrame, str]:
    """The randomized trials among ``ids`` (one row per study) and a phrase saying which gave outcome data:
    a trial stopped with no outcome numbers, or known only from a meeting abstract, is counted as a trial
    but never as evidence."""
    st = study_level(eb, ids)
    rcts = st[st["design"].isin(RCT_DESIGNS)]
    with_data = set(eb.findings["study_id"]) if not eb.findings.empty else set()
    has = rcts[rcts.index.isin(with_data)]
    without = rcts[~rcts.index.isin(with_data)]
    text = f"{len(rcts)} RCTs, {len(has)} with outcome data (n={_n_of(eb, has.index)})"
    if len(without):
        bits = []
        for sid, r in without.iterrows():
            n = r.get("n")
            size = "n not reported" if n is None or _isnan(n) else f"n={int(n)}"
            kind = str(r.get("report_type") or "")
            bits.append(f"{sid} ({kind + '; ' if kind and kind != 'journal article' else ''}{size})")
        text += "; without outcome data: " + ", ".join(bits)
    return rcts, text


def _describe(eb: EvidenceBase, f: pd.DataFrame, limit: int = 6) -> str:
    """'1 RCT (n=15): ...; 2 uncontrolled (n=24): ...' built from finding summaries.

    Studies and participants are counted once: a study with a controlled comparison is not counted again
    among the uncontrolled (its single-arm rows describe the same patients), and reports of one study
    (an adverse-event letter about two trial patients) count as that study."""
    parts = []
    ctrl_mask = f["controlled"].astype(bool)
    ctrl_groups = {_group_of(eb, s) for s in f.loc[ctrl_mask, "study_id"]}
    unc_mask = ~ctrl_mask & ~f["study_id"].map(lambda s: _group_of(eb, s) in ctrl_groups).astype(bool)
    for label, mask in (("controlled", ctrl_mask), ("uncontrolled", unc_mask)):
        sub = f[mask]
        if sub.empty:
            continue
        ids = list(dict.fromkeys(sub["study_id"]))
        k = _k_of(eb, ids) or len(ids)
        if label == "controlled":
            k_rct = len({_group_of(eb, s) for s in ids if eb.study(s).get("design") in RCT_DESIGNS})
            head = f"{k_rct} RCT{'s' if k_rct != 1 else ''}" if k_rct == k else f"{k} controlled"
        else:
            head = f"{k} uncontrolled"
        items = [f"{r.study_id}: {r.summary}" for r in sub.head(limit).itertuples()]
        more = f"; +{len(sub) - limit} more" if len(sub) > limit else ""
        parts.append(f"{head} (n={_n_of(eb, ids)}): " + "; ".join(items) + more)
    return " | ".join(parts)


def _mk(verdict: str, rct: bool, downs: list[str], reason: str, studies: Iterable[str] = (),
        facts: Iterable[str] = ()) -> Verdict:
    if verdict in ("no_evidence", "not_testable"):
        level, downs = "very_low", downs or ["no usable evidence"]
    else:
        level, downs = grade(rct, downs)
    return apply_hierarchy(Verdict(verdict, level, reason, sorted(dict.fromkeys(studies)),
                                   sorted(dict.fromkeys(facts)), downs))


def fact_start(rows: Iterable[dict] | pd.DataFrame, default: str = "high") -> str:
    """Where certainty starts for a verdict resting on context facts: the best ``certainty`` the facts
    carry on their own (a news summary is not a randomized trial however it is labelled). Facts without
    one (hand-built tables) start at ``default``."""
    recs = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else list(rows)
    own = [str(r.get("certainty") or "") for r in recs]
    known = [c for c in own if c in LEVELS]
    if not known:
        return default
    return min(known, key=LEVELS.index)


def grade_from(start: str, downgrades: Iterable[str]) -> tuple[str, list[str]]:
    """Like :func:`grade`, but from a given starting level (a fact's own certainty)."""
    downs = [d for d in downgrades if d]
    return LEVELS[min(LEVELS.index(start) + len(downs), len(LEVELS) - 1)], downs


def _mk_facts(verdict: str, rows: Iterable[dict] | pd.DataFrame, downs: list[str], reason: str,
              studies: Iterable[str] = (), facts: Iterable[str] = ()) -> Verdict:
    """A verdict resting on context facts: certainty starts at the facts' own (see :func:`fact_start`)."""
    if verdict in ("no_evidence", "not_testable"):
        return _mk(verdict, False, downs, reason, studies, facts)
    level, downs = grade_from(fact_start(rows), downs)
    return apply_hierarchy(Verdict(verdict, level, reason, sorted(dict.fromkeys(studies)),
                                   sorted(dict.fromkeys(facts)), downs))


CONTRADICT_MIN_CERTAINTY = "low"


HIERARCHY_NOTE = ("not called contradicted: the contrary evidence is very-low certainty (case reports or small "
                  "uncontrolled series); 'contradicted' needs at least low certainty (controlled or large/label-level data)")


def apply_hierarchy(v: Verdict) -> Verdict:
    """The evidence hierarchy: 'contradicted' needs evidence of at least low certainty. When the only
    contrary evidence is very-low certainty, the claim is 'not_supported' and the reason says why."""
    if v.verdict == "contradicted" and LEVELS.index(v.certainty) > LEVELS.index(CONTRADICT_MIN_CERTAINTY):
        v.verdict = "not_supported"
        if HIERARCHY_NOTE not in v.reason:
            v.reason = f"{v.reason} | {HIERARCHY_NOTE}"
    return v


def _facts(eb: EvidenceBase, **eq: str) -> pd.DataFrame:
    f = eb.facts
    for k, v in eq.items():
        f = f[f[k] == v]
    return f


def _num(v) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


NEVER = r"(?!x)x"  # a regex that matches nothing (not even the empty string)


def evidence_scope(claim: dict, eb: EvidenceBase) -> str:
    """Which body of evidence a claim is about: the condition or a context condition (from the claim's
    scope, else its test population) or the population itself (e.g. 'sud_ed', 'any')."""
    topic = eb.topic
    if claim.get("scope") in topic.context.conditions:
        return claim["scope"]
    pop = str(claim.get("test_population") or topic.condition.code)
    for s in (topic.condition.code, *topic.context.conditions):
        if pop.startswith(s):
            return s
    return pop


def cond(eb: EvidenceBase) -> str:
    """How reasons name the review's condition (e.g. 'OCD')."""
    return eb.topic.condition.label

def _ctx_num(eb: EvidenceBase, key: str) -> list[dict]:
    return _facts(eb, key=key).to_dict("records")

