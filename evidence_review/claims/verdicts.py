"""Verdict engine: every registry claim judged by an explicit rule over the evidence tables.

A claim row names a ``rule`` and what the claim asserts (``test_outcome``, ``test_timepoint``,
``test_population``, ``claimed``). The rule queries the evidence base (studies, findings from the
extraction table, curated context facts) and returns a :class:`Verdict`: one of
``supported, partly_supported, not_supported, contradicted, no_evidence, not_testable``, a GRADE-like
certainty with each downgrade named, the studies and facts it rests on, and a reason built from the
numbers. No verdict is stored anywhere by hand; change a number in a table and the verdict follows.

Certainty (GRADE-like): evidence from randomized trials starts ``high``, anything else ``low``. One
level is lost for each of: risk of bias (crossover with carry-over, >10% dropout, or no control
group), imprecision (fewer than 100 participants, or an interval that crosses no effect),
inconsistency (studies pointing in different directions), indirectness (other population, drug,
route or condition than the claim's). Regulatory records and study counts are documentary and start
``high``. ``no_evidence`` and ``not_testable`` are reported as ``very_low``. ``contradicted`` needs at
least ``low`` certainty (:func:`apply_hierarchy`); a depression/PTSD-scope claim is routed to the context
rules (:func:`route`), never to OCD studies.

Rules (registry ``rule`` -> what it queries):
    regulatory            context fact ``key == test_outcome`` must equal ``claimed``
    efficacy              OCD findings (extraction + timing facts) in the population; responder shares per
                          study or from the synthesis stage's pooled analyses (never summed across studies)
    onset / durability    OCD findings inside / beyond the claimed window (``<=Xh`` / ``>=Xh``)
    relapse               OCD findings that lost benefit; loss-of-response facts (depression, PTSD)
    population_compare    per-study responder shares, treatment-resistant vs other OCD studies
    safety_rate           OCD harm counts (Wilson CI), label/trial rates, large series and warnings vs the
                          claimed maximum, each weighed by its own certainty
    safety_transient      transient-effect facts vs serious OCD harms
    ae_reported           any adverse-event record matching the claimed pattern
    protocol              how OCD studies gave ketamine (route, dose, duration, schedule) + other trials
    comparative           controlled OCD studies against the claimed comparator
    mechanism             pharmacology facts, else mechanistic measurements in people (e.g. MRS Glx/GABA)
    crisis                approvals for an acute-crisis population (indirect), OCD reports of that crisis
    evidence_count        number of OCD studies / RCTs (or depression RCT facts) vs the claimed count
    ongoing_research      registrations still open
    context_efficacy / context_onset / context_durability   depression and PTSD facts
    citation              the cited journal in the evidence tables and citation facts, and its design
    infusions_to_response median infusions before response vs the claimed number
    unmeasured            outcomes no study measured (harm records can turn it into not_supported)
    practice_standard     how the clinic gives ketamine (evaluation, staff, monitoring, observation, home
                          use) against practice guidance facts: asked for -> supported, warned against ->
                          contradicted/not_supported, a requirement no guidance states -> partly supported
    not_testable          statements no study outcome can test

The main job's "claims" stage is :func:`report_stage`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from evidence_review.claims import registry as claims_mod
from evidence_review.claims.evidence_base import (
    CONTROLLED_DESIGNS, NON_OCD_OUTCOME, PRIMARY_DESIGNS, RCT_DESIGNS, EvidenceBase, build, wilson,
)
from evidence_review.errors import EvidenceReviewError
from evidence_review.tables import MULTI_SEP, write_table

VERDICTS: tuple[str, ...] = ("supported", "partly_supported", "not_supported", "contradicted", "no_evidence",
                             "not_testable")
LEVELS: tuple[str, ...] = ("high", "moderate", "low", "very_low")
LARGE_EFFECT = 0.8  # Cohen's conventional threshold for a large standardised effect
ACUTE_HOURS = 72.0  # the acute window of single-dose studies (days 1-3)
OPTIMAL_N = 100  # below this many participants, a body of evidence is imprecise (GRADE's rule of thumb)
CLAIMS_COLUMNS: tuple[str, ...] = (
    "claim_id", "seed_file", "quote", "category", "scope", "verdict", "certainty", "studies", "context_facts",
    "reason", "downgrades", "rule",
)


@dataclass
class Verdict:
    verdict: str
    certainty: str
    reason: str
    studies: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    downgrades: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------------- certainty

def grade(rct: bool, downgrades: Iterable[str]) -> tuple[str, list[str]]:
    """Start high (randomized) or low (anything else); drop one level per named downgrade."""
    downs = [d for d in downgrades if d]
    start = 0 if rct else 2
    return LEVELS[min(start + len(downs), len(LEVELS) - 1)], downs


def _study_downgrades(eb: EvidenceBase, ids: list[str], claim_population: str) -> tuple[bool, list[str]]:
    """Risk of bias, imprecision and indirectness of a set of studies (inconsistency is the rule's call)."""
    rows = [eb.study(s) for s in ids if eb.study(s)]
    if not rows:
        return False, []
    designs = [r["design"] for r in rows]
    rct = any(d in RCT_DESIGNS for d in designs)
    downs = []
    if rct:
        cross = [r["study_id"] for r in rows if r["design"] == "rct_crossover"]
        drop = [r["study_id"] for r in rows if r.get("n_randomized") and r.get("n_analyzed")
                and r["n_analyzed"] < 0.9 * r["n_randomized"]]
        if cross or drop:
            bits = ([f"crossover with possible carry-over ({', '.join(cross)})"] if cross else []) + \
                   ([f">10% dropout ({', '.join(drop)})"] if drop else [])
            downs.append("risk of bias: " + "; ".join(bits))
    elif any(d not in CONTROLLED_DESIGNS for d in designs):
        downs.append("risk of bias: no control group")
    total = sum(int(r["n"]) for r in rows if r.get("n") and not _isnan(r["n"]))
    if total < OPTIMAL_N:
        downs.append(f"imprecision: total n={total} (<{OPTIMAL_N})")
    indirect = []
    routes = {r["study_id"]: str(r.get("route") or "") for r in rows}
    non_iv = sorted(s for s, rt in routes.items() if rt and not re.search(r"\bIV\b|intravenous|infusion", rt))
    if non_iv:
        indirect.append(f"route other than IV ({', '.join(non_iv)})")
    esk = sorted(r["study_id"] for r in rows if "esketamine" in str(r.get("drug") or "").lower())
    if esk:
        indirect.append(f"esketamine, not racemic ketamine ({', '.join(esk)})")
    if indirect:
        downs.append("indirectness: " + "; ".join(indirect))
    return rct, downs


def _isnan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


# --------------------------------------------------------------------------------------- helpers

def _window(tp: str) -> tuple[str, float] | None:
    """'<=24h' -> ('<=', 24.0); '>=336h' -> ('>=', 336.0)."""
    m = re.match(r"^(<=|>=)\s*(\d+(?:\.\d+)?)\s*h$", tp.strip())
    return (m.group(1), float(m.group(2))) if m else None


def _claimed_float(claim: dict, default: float = 0.0) -> float:
    try:
        return float(claim.get("claimed") or default)
    except ValueError:
        return default


def ocd_studies(eb: EvidenceBase, population: str) -> pd.DataFrame:
    s = eb.studies
    s = s[s["included"].astype(bool) & s["design"].isin(PRIMARY_DESIGNS)]
    if population == "ocd_tr":
        s = s[s["treatment_resistant"].astype(bool)]
    elif population == "ocd_non_tr":
        s = s[~s["treatment_resistant"].astype(bool)]
    elif population == "ocd_repeated":
        s = s[s.apply(_is_repeated, axis=1)]
    elif population == "ocd_adolescent":
        s = s[s["adolescent"].astype(bool)]
    return s


def _is_repeated(row: pd.Series) -> bool:
    text = f"{row.get('n_infusions', '')} {row.get('spacing', '')}"
    m = re.match(r"\s*(\d+)", str(row.get("n_infusions") or ""))
    return bool((m and int(m.group(1)) >= 3) or re.search(r"repeated|sessions|maintenance|every other day|weekly|\d+ weeks", text))


def ocd_findings(eb: EvidenceBase, population: str) -> pd.DataFrame:
    f = eb.findings
    if f.empty:
        return f
    ids = set(ocd_studies(eb, population).index)
    mask = f["study_id"].isin(ids) & ~f["outcome"].fillna("").astype(str).str.contains(NON_OCD_OUTCOME)
    return f[mask]


def _n_of(eb: EvidenceBase, ids: Iterable[str]) -> int:
    tot = 0
    for s in ids:
        n = eb.study(s).get("n")
        if n and not _isnan(n):
            tot += int(n)
    return tot


def _describe(eb: EvidenceBase, f: pd.DataFrame, limit: int = 6) -> str:
    """'1 RCT (n=15): ...; 2 uncontrolled (n=24): ...' built from finding summaries."""
    parts = []
    for label, mask in (("controlled", f["controlled"].astype(bool)), ("uncontrolled", ~f["controlled"].astype(bool))):
        sub = f[mask]
        if sub.empty:
            continue
        ids = list(dict.fromkeys(sub["study_id"]))
        if label == "controlled":
            k_rct = sum(eb.study(s).get("design") in RCT_DESIGNS for s in ids)
            head = f"{k_rct} RCT{'s' if k_rct != 1 else ''}" if k_rct == len(ids) else f"{len(ids)} controlled"
        else:
            head = f"{len(ids)} uncontrolled"
        items = [f"{r.study_id}: {r.summary}" for r in sub.head(limit).itertuples()]
        more = f"; +{len(sub) - limit} more" if len(sub) > limit else ""
        parts.append(f"{head} (n={_n_of(eb, ids)}): " + "; ".join(items) + more)
    return " | ".join(parts)


RESPONSE_THRESHOLD = 35.0  # the topic's response definition: Y-BOCS fall of at least 35%


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
    thr = pd.to_numeric(r["threshold"], errors="coerce")
    main = r[thr == RESPONSE_THRESHOLD]
    notes = []
    for row in r[thr.isna()].itertuples():
        notes.append(f"{row.study_id}: {row.outcome} {row.k_events:g}/{row.k_n:g} at {row.timepoint} has no response "
                     f"definition, so it is not counted as responders")
    for row, t in zip(r[thr.notna() & (thr != RESPONSE_THRESHOLD)].itertuples(), thr[thr.notna() & (thr != RESPONSE_THRESHOLD)]):
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
        lo, hi = wilson(row.k_events, row.k_n)
        units.append(ResponderUnit(
            f"{row.study_id}: {row.k_events:g}/{row.k_n:g} = {row.k_events / row.k_n:.0%} (95% CI {lo:.0%}-{hi:.0%}) "
            f"at {row.timepoint}, Y-BOCS fall >= {RESPONSE_THRESHOLD:g}%",
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


def _mk(verdict: str, rct: bool, downs: list[str], reason: str, studies: Iterable[str] = (),
        facts: Iterable[str] = ()) -> Verdict:
    if verdict in ("no_evidence", "not_testable"):
        level, downs = "very_low", downs or ["no usable evidence"]
    else:
        level, downs = grade(rct, downs)
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


# ----------------------------------------------------------------------------------------- rules

def rule_regulatory(claim: dict, eb: EvidenceBase) -> Verdict:
    """The claim's regulatory fact (test_outcome) must have the value the claim states (claimed)."""
    f = _facts(eb, key=claim["test_outcome"])
    if f.empty:
        return _mk("no_evidence", False, [], f"no context fact with key '{claim['test_outcome']}'")
    rec = f.iloc[0]
    same = str(rec["value"]).strip().lower() == str(claim["claimed"]).strip().lower()
    extra = f" ({rec['value_low']} {rec['unit']})".replace(" )", ")") if rec["value_low"] else ""
    reason = (f"{rec['fact_id']}: {claim['test_outcome']} = {rec['value']}{extra}; claim says "
              f"{claim['claimed']} -> {'matches' if same else 'differs'}")
    return _mk("supported" if same else "contradicted", True, [], reason, facts=[rec["fact_id"]])


def rule_efficacy(claim: dict, eb: EvidenceBase) -> Verdict:
    """Responders / symptom change in the claim's OCD population.

    claimed = the responder share the claim implies (0 = 'can help').
    claimed > 0: contradicted if the pooled responder share's 95% upper bound is below it, not
    supported if the point estimate is below it, else supported (needs a significant controlled
    result) or partly supported. claimed = 0: supported if a controlled comparison is significant
    and no study is null; partly supported if some study shows benefit; else not supported.
    claimed = 'some' ('in some patients'): a significant controlled result is enough for supported."""
    pop = claim.get("test_population") or "ocd"
    f = ocd_findings(eb, pop)
    win = _window(claim.get("test_timepoint") or "")
    if win and win[0] == "<=" and not f.empty:
        f = f[f["hours"].fillna(math.inf) <= win[1]]
    if f.empty:
        return _mk("no_evidence", False, [], f"no extracted OCD outcome for population '{pop}'")
    ids = list(dict.fromkeys(f["study_id"]))
    ctrl_pos = f[f["controlled"] & (f["favours"] == True) & (f["significant"] == True)]  # noqa: E712
    fav_any = f[f["favours"] == True]  # noqa: E712
    null = f[f["favours"] == False]  # noqa: E712
    null_studies = sorted(set(null["study_id"]) - set(fav_any["study_id"]))
    units, notes = responder_summary(eb, f)
    some = (claim.get("claimed") or "").strip() == "some"
    c = 0.0 if some else _claimed_float(claim)
    rct, downs = _study_downgrades(eb, ids, pop)
    if null_studies and not fav_any.empty:
        downs.append(f"inconsistency: no benefit in {', '.join(null_studies)}")
    desc = _describe(eb, f)
    if c > 0 and units:
        v = share_verdict(units, c, not ctrl_pos.empty)
        head = f"responder shares vs claimed >= {c:.0%} (not summed across studies): {_units_text(units, notes)}"
        return _mk(v, rct, downs, f"{head}. {desc}", ids)
    if not ctrl_pos.empty and (some or not null_studies):
        v = "supported"  # 'in some patients' is not refuted by studies where nobody responded
    elif not fav_any.empty:
        v = "partly_supported"
    else:
        v = "not_supported"
    return _mk(v, rct, downs, desc, ids)


def rule_onset(claim: dict, eb: EvidenceBase) -> Verdict:
    """Benefit measured within the claimed window (test_timepoint '<=Xh') after dosing."""
    win = _window(claim.get("test_timepoint") or "") or ("<=", 24.0)
    pop = claim.get("test_population") or "ocd"
    f_all = ocd_findings(eb, pop)
    f = f_all[f_all["hours_from"].fillna(math.inf) <= win[1]] if not f_all.empty else f_all
    if f.empty:
        earliest = f_all["hours"].min() if not f_all.empty else None
        tail = f"; earliest OCD measurement at {earliest:g} h" if earliest is not None and not _isnan(earliest) else ""
        return _mk("no_evidence", False, [], f"no OCD outcome measured within {win[1]:g} h{tail}")
    # a study that saw no acute effect at all (nothing within 72 h) also speaks against "it works fast"
    acute = f_all[f_all["hours_from"].fillna(math.inf) <= max(win[1], ACUTE_HOURS)]
    f = pd.concat([f, acute[(acute["favours"] == False) & ~acute.index.isin(f.index)]])  # noqa: E712
    ids, ctrl_pos, fav, null_studies, rct, downs = _weigh_findings(eb, f, pop, "no acute benefit")
    if not ctrl_pos.empty:
        v = "partly_supported" if null_studies else "supported"
    elif not fav.empty:
        v = "partly_supported"
    else:
        v = "not_supported"
    return _mk(v, rct, downs, f"within {win[1]:g} h: {_describe(eb, f)}", ids)


def _weigh_findings(eb: EvidenceBase, f: pd.DataFrame, pop: str, null_phrase: str):
    """Split timed OCD findings into significant controlled benefits, any benefit and studies with none.

    Returns (study ids, controlled significant rows, favourable rows, null-only studies, any RCT,
    downgrades); a null study beside favourable ones is an inconsistency downgrade."""
    ids = list(dict.fromkeys(f["study_id"]))
    ctrl_pos = f[f["controlled"] & (f["favours"] == True) & (f["significant"] == True)]  # noqa: E712
    fav = f[f["favours"] == True]  # noqa: E712
    null_studies = sorted(set(f[f["favours"] == False]["study_id"]) - set(fav["study_id"]))  # noqa: E712
    rct, downs = _study_downgrades(eb, ids, pop)
    if null_studies and not fav.empty:
        downs.append(f"inconsistency: {null_phrase} in {', '.join(null_studies)}")
    return ids, ctrl_pos, fav, null_studies, rct, downs


def rule_durability(claim: dict, eb: EvidenceBase) -> Verdict:
    """Benefit still present at or beyond the claimed duration (test_timepoint '>=Xh').

    claimed = 0 ('some patients'): uncontrolled reports of lasting benefit give partly supported.
    claimed > 0 (a general promise): only a significant controlled result at that time supports it."""
    win = _window(claim.get("test_timepoint") or "") or (">=", 336.0)
    pop = claim.get("test_population") or "ocd"
    f_all = ocd_findings(eb, pop)
    if f_all.empty:
        return _mk("no_evidence", False, [], f"no extracted OCD outcome for population '{pop}'")
    ctrl_fav_all = f_all[f_all["controlled"] & (f_all["favours"] == True)]  # noqa: E712
    longest = ctrl_fav_all["hours"].max() if not ctrl_fav_all.empty else None
    longest_txt = (f"longest controlled follow-up showing benefit: {longest:g} h"
                   if longest is not None and not _isnan(longest) else "no controlled follow-up showing benefit")
    f = f_all[f_all["hours"].fillna(-1) >= win[1]]
    c = _claimed_float(claim)
    if f.empty:
        ids = list(dict.fromkeys(ctrl_fav_all["study_id"]))
        rct, downs = _study_downgrades(eb, ids, pop)
        return _mk("not_supported", rct, downs, f"no OCD outcome measured at >= {win[1]:g} h; {longest_txt}", ids)
    ids, ctrl_pos, fav, null_studies, rct, downs = _weigh_findings(eb, f, pop, "benefit not kept")
    if not ctrl_pos.empty:
        v = "partly_supported" if null_studies else "supported"
    elif not fav.empty:
        v = "partly_supported" if c == 0 else "not_supported"
    else:
        v = "not_supported"
    return _mk(v, rct, downs, f"at >= {win[1]:g} h: {_describe(eb, f)}; {longest_txt}", ids)


def rule_relapse(claim: dict, eb: EvidenceBase) -> Verdict:
    """Symptoms can return: an OCD study whose later measurement shows no benefit, or loss of
    response documented after courses in depression/PTSD (indirect)."""
    f = ocd_findings(eb, "ocd")
    lost = []
    for sid, g in f.groupby("study_id", sort=True):
        g = g.sort_values("hours", kind="mergesort")
        later_null = g[(g["favours"] == False) & (g["hours"].fillna(0) >= 168)]  # noqa: E712
        if not later_null.empty:
            lost.append((sid, later_null.iloc[0]["summary"]))
    facts = _facts(eb, key="depression_repeated_open")
    facts = pd.concat([facts, _facts(eb, key="ptsd_repeated_ajp")])
    fact_txt = "; ".join(f"{r.fact_id}: {r.statement}" for r in facts.itertuples())
    if lost:
        ids = [s for s, _ in lost]
        rct, downs = _study_downgrades(eb, ids, "ocd")
        return _mk("supported", rct, downs, "no lasting OCD benefit at >= 1 week: " +
                   "; ".join(f"{s}: {t}" for s, t in lost) + (f" | {fact_txt}" if fact_txt else ""),
                   ids, facts["fact_id"])
    if not facts.empty:
        return _mk("partly_supported", True, ["indirectness: depression/PTSD data"], fact_txt, facts=facts["fact_id"])
    return _mk("no_evidence", False, [], "no OCD or context data on loss of benefit")


def rule_population_compare(claim: dict, eb: EvidenceBase) -> Verdict:
    """'Particularly in treatment-resistant cases': responder shares (topic definition, one per study
    and timepoint, never summed) of treatment-resistant vs other OCD studies. Supported if every
    treatment-resistant share is above every other one, contradicted if every one is below, else not
    supported (the ranges overlap: no consistent difference)."""
    tr, tr_notes = responder_summary(eb, ocd_findings(eb, "ocd_tr"))
    other, ot_notes = responder_summary(eb, ocd_findings(eb, "ocd_non_tr"))
    iocdf = _facts(eb, key="iocdf_position")
    if not tr or not other:
        return _mk("no_evidence", False, [], f"responder data: {len(tr)} treatment-resistant, {len(other)} other units")
    ids = sorted({s for u in tr + other for s in u.studies})
    rct, downs = _study_downgrades(eb, ids, "ocd")
    downs.append("indirectness: comparison across studies, not within one trial")
    lo_tr, hi_tr = min(u.share for u in tr), max(u.share for u in tr)
    lo_ot, hi_ot = min(u.share for u in other), max(u.share for u in other)
    v = "supported" if lo_tr > hi_ot else "contradicted" if hi_tr < lo_ot else "not_supported"
    reason = (f"treatment-resistant {lo_tr:.0%}-{hi_tr:.0%}: {_units_text(tr, tr_notes)} || other OCD "
              f"{lo_ot:.0%}-{hi_ot:.0%}: {_units_text(other, ot_notes)}")
    if not iocdf.empty:
        reason += f" | {iocdf.iloc[0]['fact_id']}: {iocdf.iloc[0]['statement']}"
    return _mk(v, rct, downs, reason, ids, iocdf["fact_id"])


SAFETY_FAMILIES: dict[str, tuple[str, ...]] = {
    # claim outcome -> fact keys that bear on it. A key other than the outcome itself is a component
    # of the wider class: its rate is a lower bound on the class's rate, so it can show the class is
    # common but never that it is rare.
    "serious_adverse_events": ("serious_adverse_events", "dropout_adverse_events"),
    "any_adverse_events": ("any_adverse_events", "dissociation", "sedation", "blood_pressure",
                           "serious_adverse_events", "dropout_adverse_events"),
}
DOCUMENTARY_DESIGNS = frozenset({"regulatory_record", "systematic_review", "meta_analysis"})


@dataclass
class SafetyItem:
    fact_id: str
    study_id: str
    text: str
    point: float | None  # share with the event (None: documented, no rate)
    lo: float | None
    hi: float | None
    direct: bool  # the claim's own outcome (not a component of it)
    certainty: str
    rct: bool
    downs: list[str]
    position: str = ""  # exceeds | above | within | '' (says nothing about the claimed maximum)


def _safety_items(claim: dict, eb: EvidenceBase) -> list[SafetyItem]:
    """Every fact on the claim's adverse outcome (and its components), each graded on its own:
    OCD harm counts through their study's design, label and trial shares start high (randomized or
    documentary) and lose a level for indirectness (esketamine; other conditions for an OCD claim)."""
    key = claim["test_outcome"]
    fam = SAFETY_FAMILIES.get(key, (key,))
    facts = eb.facts[eb.facts["key"].isin(fam) & eb.facts["topic"].isin(["safety", "ocd_harms", "regulatory"])]
    items = []
    for r in facts.to_dict("records"):
        num, den = _num(r["numerator"]), _num(r["denominator"])
        if num is not None and den:
            lo, hi = wilson(num, den)
            point = num / den
            text = f"{r['fact_id']}: {num:g}/{den:g} = {point:.0%} (95% CI {lo:.0%}-{hi:.0%})"
        elif r["unit"] == "share" and _num(r["value_low"]) is not None:
            lo = _num(r["value_low"])
            hi = _num(r["value_high"]) if _num(r["value_high"]) is not None else lo
            point = _num(r["value"]) if _num(r["value"]) is not None else lo
            text = f"{r['fact_id']}: {lo:.1%}-{hi:.1%}".replace(".0%", "%")
        else:
            point = lo = hi = None
            text = f"{r['fact_id']}: documented, no rate ({r['design'] or 'record'})"
        sid = r["study_id"]
        if sid and eb.study(sid):
            rct, downs = _study_downgrades(eb, [sid], "ocd")
            if rct:  # harms were counted in small series of the trials, not as randomized comparisons
                rct, downs = False, [d for d in downs if not d.startswith("risk of bias")]
        else:
            rct = r["design"] in RCT_DESIGNS or r["design"] in DOCUMENTARY_DESIGNS
            downs = []
            if not rct and r["design"] not in CONTROLLED_DESIGNS:
                downs.append(f"risk of bias: no control group ({r['fact_id']})")
            n = _num(r["n"])
            if n is not None and n < OPTIMAL_N:
                downs.append(f"imprecision: n={n:g} ({r['fact_id']})")
            indirect = []
            if "esketamine" in r["statement"].lower():
                indirect.append("esketamine, not racemic ketamine")
            if claim.get("scope") == "ocd":
                indirect.append("not people with OCD")
            if indirect:
                downs.append(f"indirectness: {' and '.join(indirect)} ({r['fact_id']})")
        level, downs = grade(rct, downs)
        items.append(SafetyItem(r["fact_id"], sid, text, point, lo, hi, r["key"] == key, level, rct, downs))
    return items


def _position(item: SafetyItem, maximum: float) -> str:
    """Where one item puts the event rate relative to the most the claim allows."""
    if maximum == 0:
        if item.point is None or item.point > 0:
            return "exceeds"  # any documented occurrence refutes 'none'
        return "within" if item.direct else ""
    if item.point is None:
        return ""
    if item.lo is not None and item.lo > maximum:
        return "exceeds"
    if item.point > maximum:
        return "above"
    return "within" if item.direct else ""


def _merge_downs(items: list[SafetyItem]) -> list[str]:
    """One downgrade per GRADE domain, naming every source that carries it."""
    by: dict[str, list[str]] = {}
    for it in items:
        for d in it.downs:
            dom, _, detail = d.partition(": ")
            by.setdefault(dom, [])
            if detail not in by[dom]:
                by[dom].append(detail)
    return [f"{dom}: {'; '.join(details)}" for dom, details in by.items()]


def rule_safety_rate(claim: dict, eb: EvidenceBase) -> Verdict:
    """How often an adverse event (test_outcome) occurs vs the most the claim allows (claimed),
    weighing each source by its certainty.

    Each fact (OCD harm counts with Wilson CIs, label and trial shares, regulatory warnings) is graded
    on its own and placed: 'exceeds' (95% CI above the maximum; for a maximum of 0: any documented
    occurrence), 'above' (point estimate above it) or 'within' (a component's rate says nothing about
    rarity). The highest-certainty sources decide: none within and one exceeding -> contradicted; all
    within -> supported; within and not -> partly supported (inconsistency); otherwise not supported. A supported verdict becomes partly supported when
    lower-certainty sources show the event more often than the claim allows (inconsistency)."""
    key = claim["test_outcome"]
    m = _claimed_float(claim)
    items = _safety_items(claim, eb)
    for it in items:
        it.position = _position(it, m)
    informative = [it for it in items if it.position]
    claim_txt = "none" if m == 0 else f"<= {m:.0%}"
    if not informative:
        listed = "; ".join(it.text for it in items)
        return _mk("no_evidence", False, [], f"no rate of '{key}' that can be compared with {claim_txt}" +
                   (f" ({listed})" if listed else ""), facts=[it.fact_id for it in items])
    top = min((it.certainty for it in informative), key=LEVELS.index)
    lead = [it for it in informative if it.certainty == top]
    lower = [it for it in informative if it.certainty != top]
    pos = {it.position for it in lead}
    extra: list[str] = []
    if "within" not in pos:
        v = "contradicted" if "exceeds" in pos else "not_supported"
    elif pos == {"within"}:
        v = "supported"
    else:
        v = "partly_supported"
        extra.append("inconsistency: sources of equal certainty disagree (" +
                     ", ".join(it.fact_id for it in lead if it.position != "within") + ")")
    if v == "supported":
        against = [it for it in lower if it.position in ("exceeds", "above")]
        if against:
            v = "partly_supported"
            extra.append("inconsistency: lower-certainty reports show it more often (" +
                         ", ".join(it.fact_id for it in against) + ")")
    downs = _merge_downs(lead)
    rct = any(it.rct for it in lead)
    level = LEVELS[min(LEVELS.index(grade(rct, downs)[0]) + len(extra), len(LEVELS) - 1)]
    by_level = []
    for lvl in LEVELS:
        grp = [it for it in items if it.certainty == lvl]
        if grp:
            by_level.append(f"[{lvl}] " + "; ".join(f"{it.text} {it.position or 'not comparable'}"
                                                     + ("" if it.direct else " (component)") for it in grp))
    reason = (f"{key}, claim allows {claim_txt}: " + " | ".join(by_level) +
              f" -> decided by the {top.replace('_', '-')}-certainty sources")
    studies = [it.study_id for it in items if it.study_id]
    return apply_hierarchy(Verdict(v, level, reason, sorted(set(studies)), sorted({it.fact_id for it in items}),
                                   downs + extra))


def rule_safety_transient(claim: dict, eb: EvidenceBase) -> Verdict:
    """Side effects mild and short-lived: transient-effect facts for, serious/lasting harms against."""
    trans = _facts(eb, key="transient_adverse_events")
    serious = _facts(eb, key="serious_adverse_events")
    serious_counted = serious[serious["numerator"] != ""]
    if trans.empty and serious_counted.empty:
        return _mk("no_evidence", False, [], "no data on duration or severity of adverse effects")
    parts = [f"{r.fact_id}: {r.value} {r.unit} (n={r.n})" for r in trans.itertuples()]
    parts += [f"{r.fact_id}: {r.numerator}/{r.denominator} serious ({r.study_id})" for r in serious_counted.itertuples()]
    v = ("partly_supported" if not serious_counted.empty else "supported") if not trans.empty else "contradicted"
    ids = [s for s in serious_counted["study_id"] if s]
    downs = ["indirectness: transient-effect data from depression/PTSD trials"] if not trans.empty else []
    if not serious_counted.empty and not trans.empty:
        downs.append("inconsistency: serious or delayed harms in OCD reports")
    rct = any(d in RCT_DESIGNS for d in trans["design"])
    return _mk(v, rct, downs, "; ".join(parts), ids, list(trans["fact_id"]) + list(serious_counted["fact_id"]))


def rule_ae_reported(claim: dict, eb: EvidenceBase) -> Verdict:
    """'Some patients report X': supported when any adverse-event record mentions it (claimed = regex)."""
    pat = re.compile(claim.get("claimed") or NEVER, re.IGNORECASE)
    facts = eb.facts[eb.facts["statement"].str.contains(pat) & eb.facts["topic"].isin(["safety", "ocd_harms"])]
    st = eb.studies[eb.studies["adverse_events"].fillna("").str.contains(pat)]
    if facts.empty and st.empty:
        return _mk("no_evidence", False, [], f"no adverse-event record mentions /{pat.pattern}/")
    rct = any(d in RCT_DESIGNS for d in facts["design"])
    reason = f"{len(facts)} fact(s), {len(st)} study record(s) mention it: " + "; ".join(facts["fact_id"])
    return _mk("supported", rct, ["indirectness: reported for esketamine/other conditions"] if not facts.empty else [],
               reason, list(st.index), facts["fact_id"])


PROTOCOL_FEATURES: dict[str, tuple[str, str]] = {
    # feature -> (regex over a study's intervention fields, regex over depression/PTSD fact statements)
    "route_iv": (r"\bIV\b|intravenous", r"\bIV\b|infusion"),
    "infusion_40min": (r"40 ?min", r"40-min"),
    "subanaesthetic_dose": (r"0\.5 mg/kg|1\.0 mg/kg", r"0\.5 mg/kg"),
    "six_infusion_course": (r"^\s*6\b|every other day|\bsix\b", r"\bsix\b|up to 6|6 (?:open-label )?infusions"),
    "twice_weekly": (r"twice|2x", r"twice[- ]weekly|2x"),
    "taper_schedule": (r"weekly|once a week", r"once-weekly|weekly maintenance"),
    "maintenance_schedule": (r"maintenance", r"maintenance"),
    "monthly_maintenance": (r"monthly|once a month|every 4-6 weeks|every 4 weeks", r"monthly|once a month|every 4 weeks"),
    "repeated_course": (r"repeated|sessions|maintenance|every other day|weekly|^\s*([3-9]|\d{2})\b|\d+ weeks", r"repeated|six|three per week|twice"),
}


def rule_protocol(claim: dict, eb: EvidenceBase) -> Verdict:
    """A way of giving ketamine (test_outcome = feature) is 'studied' if trials used it: controlled
    OCD studies -> supported; only uncontrolled OCD reports or other conditions -> partly supported."""
    feature = claim["test_outcome"]
    st = ocd_studies(eb, "ocd")
    text = (st["route"].fillna("") + " | " + st["dose"].fillna("") + " | " + st["infusion_duration"].fillna("") +
            " | " + st["n_infusions"].fillna("") + " | " + st["spacing"].fillna(""))
    if feature == "routes_iv_im_in":
        hits = {name: st[st["route"].str.contains(pat, case=False, regex=True)].index.tolist()
                for name, pat in (("IV", r"\bIV\b|intravenous"), ("IM", r"\bIM\b|intramuscular"), ("intranasal", r"intranasal"))}
        ids = sorted({s for v in hits.values() for s in v})
        found = {k: len(v) for k, v in hits.items()}
        v = "supported" if all(found.values()) else "partly_supported" if any(found.values()) else "no_evidence"
        rct, downs = _study_downgrades(eb, ids, "ocd")
        return _mk(v, rct, [d for d in downs if not d.startswith("indirectness")],
                   "OCD studies by route: " + ", ".join(f"{k} {n}" for k, n in found.items()), ids)
    if feature not in PROTOCOL_FEATURES:
        return _mk("no_evidence", False, [], f"no protocol feature '{feature}' defined")
    pat_study, pat_fact = PROTOCOL_FEATURES[feature]
    mask = pd.Series([bool(re.search(pat_study, t, re.IGNORECASE | re.MULTILINE)) for t in text], index=st.index, dtype=bool)
    using = st[mask]
    ctrl = using[using["design"].isin(CONTROLLED_DESIGNS)]
    ctx = eb.facts[eb.facts["topic"].isin(["depression", "ptsd"]) & eb.facts["statement"].str.contains(pat_fact, case=False, regex=True)]
    ids = list(using.index)
    reason = (f"{feature}: {len(ctrl)} controlled OCD stud{'y' if len(ctrl) == 1 else 'ies'} "
              f"({', '.join(ctrl.index) or '-'}), {len(using) - len(ctrl)} uncontrolled "
              f"({', '.join(sorted(set(using.index) - set(ctrl.index))) or '-'}), "
              f"{len(ctx)} depression/PTSD fact(s) ({', '.join(ctx['fact_id']) or '-'}) of {len(st)} OCD studies")
    if not ctrl.empty:
        rct, downs = _study_downgrades(eb, list(ctrl.index), "ocd")
        return _mk("supported", rct, [d for d in downs if not d.startswith("indirectness")], reason, ids, ctx["fact_id"])
    if not using.empty or not ctx.empty:
        rct, downs = _study_downgrades(eb, ids, "ocd") if ids else (any(d in RCT_DESIGNS for d in ctx["design"]), [])
        if using.empty:
            downs.append("indirectness: schedule studied only in depression/PTSD")
        return _mk("partly_supported", rct, downs, reason, ids, ctx["fact_id"])
    return _mk("no_evidence", False, [], reason)


NEVER = r"(?!x)x"  # a regex that matches nothing (not even the empty string)
COMPARATORS: dict[str, tuple[str, str]] = {
    # claimed -> (regex over a controlled study's control arm, regex over concomitant therapy)
    "cbt": (r"\bCBT\b|exposure|ERP", r"\bCBT\b|exposure|ERP"),
    "schedule": (r"infusions? schedule|single vs|once vs", NEVER),
    "standard": (r"\bSRI\b|SSRI|clomipramine|usual care|treatment as usual", NEVER),
}


def rule_comparative(claim: dict, eb: EvidenceBase) -> Verdict:
    """'Better than X' needs a controlled comparison against X; uncontrolled use is listed, not counted."""
    comp = claim.get("claimed") or ""
    pat_ctrl, pat_conc = COMPARATORS.get(comp, (NEVER, NEVER))
    st = ocd_studies(eb, "ocd")
    ctrl = st[st["design"].isin(CONTROLLED_DESIGNS) & st["control"].fillna("").str.contains(pat_ctrl, case=False, regex=True)]
    unc = st[st["concomitant"].fillna("").str.contains(pat_conc, case=False, regex=True)]
    n_ctrl = len(st[st["design"].isin(CONTROLLED_DESIGNS)])
    reason = (f"{len(ctrl)} of {n_ctrl} controlled OCD studies compare against '{comp}'; "
              f"{len(unc)} uncontrolled report(s) used it ({', '.join(unc.index) or '-'})")
    if ctrl.empty:
        return _mk("no_evidence", False, [], reason, list(unc.index))
    rct, downs = _study_downgrades(eb, list(ctrl.index), "ocd")
    return _mk("partly_supported", rct, downs, reason, list(ctrl.index))


MECHANISM_MEASURES: dict[str, str] = {
    "glutamate": r"Glx|glutamate",
    "neurotransmitter": r"GABA|Glx|glutamate|serotonin|dopamine",
    "neuroplasticity": r"plasticity|BDNF|synap|spine",
    "neural_reset": r"connectivity|network|reset",
    "hormones": r"hormone|cortisol|oxytocin",
    "thought_patterns": r"cognitive flexibility|set-shifting",
}


def rule_mechanism(claim: dict, eb: EvidenceBase) -> Verdict:
    """Mechanism claims: established pharmacology (context facts of topic 'pharmacology' whose key is
    the outcome, documentary, start high) or else mechanistic measurements in people with OCD (e.g.
    MRS). A claim joining several mechanisms ('nmda_antagonism+glutamate') is judged part by part:
    supported only if every part is; partly supported if some part is."""
    parts = [p for p in str(claim["test_outcome"]).split("+") if p]
    if len(parts) > 1:
        return _combine_parts([(p, rule_mechanism({**claim, "test_outcome": p}, eb)) for p in parts])
    ph = eb.facts[(eb.facts["topic"] == "pharmacology") & (eb.facts["key"] == claim["test_outcome"])]
    if not ph.empty:
        rec = ph.iloc[0]
        sources = [x for x in str(rec["source"]).split(";") if x.strip()]
        return _mk("supported", True, [], f"{rec['fact_id']}: {claim['test_outcome']} is established pharmacology, "
                   f"recorded in {len(sources)} indexed sources ({rec['source']})", facts=[rec["fact_id"]])
    pat = MECHANISM_MEASURES.get(claim["test_outcome"], NEVER)
    hits = []
    for sid, text in eb.studies["results_text"].fillna("").items():
        if eb.studies.at[sid, "record_type"] not in ("study", ""):  # human studies, included or not
            continue
        for part in text.split(" | "):
            measure = part.split(":", 1)[0]
            if re.search(pat, measure, re.IGNORECASE):
                changed = not re.search(r"no (?:significant )?(?:difference|change)", part, re.IGNORECASE)
                hits.append((sid, part, changed))
    if not hits:
        n = int((eb.studies["record_type"] == "study").sum())
        return _mk("no_evidence", False, [], f"none of {n} human studies (all in OCD) measured {claim['test_outcome']}, "
                   f"and no pharmacology fact covers it")
    ids = list(dict.fromkeys(h[0] for h in hits))
    rct, downs = _study_downgrades(eb, ids, "ocd")
    downs.append("indirectness: brain-chemistry surrogate, not a clinical outcome")
    changed = [h for h in hits if h[2]]
    named = [h for h in hits if re.search(r"Glx|glutamate", h[1].split(":", 1)[0], re.IGNORECASE)]
    if claim["test_outcome"] == "glutamate" or (named and claim["test_outcome"] != "neurotransmitter"):
        v = "supported" if all(h[2] for h in named or hits) else "not_supported"
    else:
        v = "supported" if len(changed) == len(hits) else "partly_supported" if changed else "not_supported"
    return _mk(v, rct, downs, "; ".join(f"{s}: {t}" for s, t, _ in hits), ids)


def _combine_parts(parts: list[tuple[str, Verdict]]) -> Verdict:
    """A claim made of parts: supported if all are, partly supported if any is (fully or partly),
    else the first part's verdict; certainty is the lowest among parts with evidence."""
    vs = [v for _, v in parts]
    if all(v.verdict == "supported" for v in vs):
        verdict = "supported"
    elif any(v.verdict in ("supported", "partly_supported") for v in vs):
        verdict = "partly_supported"
    else:
        verdict = vs[0].verdict
    judged = [v for v in vs if v.verdict not in ("no_evidence", "not_testable")] or vs
    level = max((v.certainty for v in judged), key=LEVELS.index)
    return Verdict(verdict, level, " | ".join(f"{name}: {v.verdict} ({v.reason})" for name, v in parts),
                   sorted({s for v in vs for s in v.studies}), sorted({f for v in vs for f in v.facts}),
                   list(dict.fromkeys(d for v in judged for d in v.downgrades)))


def _depression_trials(eb: EvidenceBase) -> pd.DataFrame:
    """One fact per randomized depression trial result (keys depression_*, onset summary excluded)."""
    f = eb.facts
    return f[(f["topic"] == "depression") & f["design"].isin(RCT_DESIGNS) & f["key"].str.startswith("depression_")
             & (f["key"] != "depression_onset")]


def rule_evidence_count(claim: dict, eb: EvidenceBase) -> Verdict:
    """Counts of studies: claimed N > 0 means 'at least N', N < 0 means 'at most |N| RCTs'."""
    n_claim = _claimed_float(claim)
    pop = claim.get("test_population") or "ocd"
    if pop == "depression":
        f = _depression_trials(eb)
        k = len(f)
        v = "supported" if k >= n_claim else "not_supported"
        return _mk(v, True, [], f"{k} randomized depression trials in the context facts (claim: >= {n_claim:g})",
                   facts=f["fact_id"])
    st = ocd_studies(eb, "ocd")
    rcts = st[st["design"].isin(RCT_DESIGNS)]
    by_design = st["design"].value_counts().sort_index()
    breakdown = ", ".join(f"{d} {c}" for d, c in by_design.items())
    if n_claim < 0:
        v = "supported" if len(rcts) <= -n_claim else "not_supported"
        reason = f"{len(rcts)} RCTs (total n={_n_of(eb, rcts.index)}) among {len(st)} OCD clinical studies ({breakdown}); claim: at most {-n_claim:g}"
    else:
        v = "supported" if len(st) >= n_claim else "not_supported"
        reason = f"{len(st)} OCD clinical studies ({breakdown}), {len(rcts)} RCTs; claim: at least {n_claim:g}"
    return _mk(v, True, [], reason, list(st.index))


def rule_ongoing_research(claim: dict, eb: EvidenceBase) -> Verdict:
    """Research 'is ongoing' if registered trials are recruiting, active or pending."""
    st = eb.studies
    reg = st[st["design"] == "trial_registration"]
    live = reg[reg["registry_status"].fillna("").str.contains(r"recruiting|active|pending|not yet|enrolling", case=False)]
    live = live[~live["registry_status"].str.contains(r"^completed|^terminated", case=False)]
    n_claim = _claimed_float(claim, 1)
    v = "supported" if len(live) >= n_claim else "not_supported"
    reason = f"{len(live)} of {len(reg)} registered trials still open: " + "; ".join(
        f"{s} ({live.at[s, 'registry_status']})" for s in live.index)
    return _mk(v, True, [], reason, list(live.index))


def _ctx_num(eb: EvidenceBase, key: str) -> list[dict]:
    return _facts(eb, key=key).to_dict("records")


def rule_context_efficacy(claim: dict, eb: EvidenceBase) -> Verdict:
    """Depression / PTSD efficacy from the context facts (claimed: depression | ptsd | ptsd:large | ptsd_tr)."""
    what, *others = (claim.get("claimed") or "").split("+")
    indirect = ["indirectness: claim is about OCD, evidence about " + what.split(":")[0]] if claim.get("scope") == "ocd" else []
    v = _context_efficacy_one(claim, eb, what, indirect)
    return _cap_for_other_conditions(v, eb, others) if others else v


def _cap_for_other_conditions(v: Verdict, eb: EvidenceBase, others: list[str]) -> Verdict:
    """A claim that also names conditions without any evidence here can be at most partly supported."""
    missing = [o for o in others if not (eb.facts["topic"] == o).any()]
    if missing:
        if v.verdict == "supported":
            v.verdict = "partly_supported"
        v.reason += f"; 0 facts or studies on: {', '.join(missing)}"
    return v


def _context_efficacy_one(claim: dict, eb: EvidenceBase, what: str, indirect: list[str]) -> Verdict:
    if what == "depression":
        f = _depression_trials(eb)
        pos = [r for r in f.to_dict("records") if (_num(r["value"]) or 0) > 0]
        nul = [r for r in f.to_dict("records") if _num(r["value"]) == 0]
        n = sum(int(float(r["n"])) for r in pos + nul if r["n"])
        downs = list(indirect)
        if nul:
            downs.append(f"inconsistency: no benefit in {', '.join(r['fact_id'] for r in nul)}")
        if n < OPTIMAL_N:
            downs.append(f"imprecision: total n={n}")
        v = "supported" if len(pos) >= 2 and len(pos) > len(nul) else "partly_supported" if pos else "not_supported"
        reason = "; ".join(f"{r['fact_id']}: {r['value']} {r['unit']} (n={r['n']})" for r in pos + nul)
        return _mk(v, True, downs, f"{len(pos)} positive, {len(nul)} null depression RCTs: {reason}", facts=[r["fact_id"] for r in pos + nul])
    if what.startswith("ptsd"):
        meta = _ctx_num(eb, "ptsd_meta")
        large = _ctx_num(eb, "ptsd_large_trial")
        rep = _ctx_num(eb, "ptsd_repeated_ajp")
        used = meta + large + rep
        if not used:
            return _mk("no_evidence", False, [], "no PTSD facts")
        g = _num(meta[0]["value"]) if meta else None
        g_lo = _num(meta[0]["value_low"]) if meta else None
        large_null = bool(large) and _num(large[0]["value"]) == 0
        parts = [f"{r['fact_id']}: {r['value']} {r['unit']}" + (f" (95% CI {r['value_low']} to {r['value_high']})" if r["value_low"] else "")
                 + (f", n={r['n']}" if r["n"] else "") for r in used]
        downs = list(indirect)
        if large_null:
            downs.append("inconsistency: largest trial found no PTSD benefit")
        if what == "ptsd_tr":
            v = "not_supported" if large_null else "partly_supported"
            return _mk(v, True, downs, "treatment-resistant PTSD: " + "; ".join(parts), facts=[r["fact_id"] for r in used])
        if what == "ptsd:large":
            v = "supported" if g is not None and g >= LARGE_EFFECT and not large_null else "not_supported"
            parts.append(f"a large benefit needs pooled g >= {LARGE_EFFECT:g}")
        else:
            sig = g_lo is not None and g_lo > 0
            v = "supported" if sig and not large_null else "partly_supported" if sig or rep else "not_supported"
        return _mk(v, True, downs, "; ".join(parts), facts=[r["fact_id"] for r in used])
    return _mk("no_evidence", False, [], f"no context facts for '{what}'")


def rule_context_onset(claim: dict, eb: EvidenceBase) -> Verdict:
    """Onset in depression (hours to first effect) or PTSD (24-h results) from the context facts."""
    win = _window(claim.get("test_timepoint") or "") or ("<=", 24.0)
    what, *others = (claim.get("claimed") or "").split("+")
    if others:  # 'various conditions': the first topic, then each other condition in turn
        v = rule_context_onset({**claim, "claimed": what}, eb)
        extra = [rule_onset({**claim, "test_population": "ocd"}, eb) if o == "ocd" else
                 rule_context_onset({**claim, "claimed": o}, eb) for o in others]
        if v.verdict == "supported" and any(e.verdict != "supported" for e in extra):
            v.verdict = "partly_supported"
        v.reason += " | " + " | ".join(f"{o}: {e.verdict} ({e.reason[:160]})" for o, e in zip(others, extra))
        v.studies = sorted(set(v.studies).union(*[e.studies for e in extra]))
        v.facts = sorted(set(v.facts).union(*[e.facts for e in extra]))
        v.downgrades = list(dict.fromkeys(v.downgrades + [d for e in extra for d in e.downgrades]))
        v.certainty = grade(True, v.downgrades)[0]
        return v
    if what == "depression":
        f = _ctx_num(eb, "depression_onset")
        if not f:
            return _mk("no_evidence", False, [], "no depression onset fact")
        first = _num(f[0]["value_low"])
        v = "supported" if first is not None and first <= win[1] else "not_supported"
        return _mk(v, True, [], f"{f[0]['fact_id']}: first effect ~{f[0]['value_low']} h, peak {f[0]['value']} h, fades by {f[0]['value_high']} h; claim: within {win[1]:g} h",
                   facts=[f[0]["fact_id"]])
    single = _ctx_num(eb, "ptsd_single_infusion_24h")
    meta24 = _ctx_num(eb, "ptsd_meta_24h")
    if not single and not meta24:
        return _mk("no_evidence", False, [], "no PTSD onset facts")
    pos = [r for r in single if (_num(r["value"]) or 0) > 0 and win[1] >= 24]
    meta_null = [r for r in meta24 if (_num(r["value_low"]) or 0) <= 0 <= (_num(r["value_high"]) or 0)]
    downs = []
    if meta_null:
        downs.append("inconsistency: pooled 24-h effect vs active control crosses zero")
    n = sum(int(float(r["n"])) for r in single if r["n"])
    if n < OPTIMAL_N:
        downs.append(f"imprecision: single trial n={n}")
    v = ("partly_supported" if meta_null else "supported") if pos else "not_supported"
    parts = [f"{r['fact_id']}: {r['value']} {r['unit']} (n={r['n']})" for r in single] + \
            [f"{r['fact_id']}: g={r['value']} (95% CI {r['value_low']} to {r['value_high']})" for r in meta24]
    return _mk(v, True, downs, "; ".join(parts), facts=[r["fact_id"] for r in single + meta24])


def rule_context_durability(claim: dict, eb: EvidenceBase) -> Verdict:
    """How long a single PTSD infusion was followed vs the duration claimed."""
    win = _window(claim.get("test_timepoint") or "") or (">=", 336.0)
    f = _ctx_num(eb, "ptsd_single_infusion_followup")
    if not f:
        return _mk("no_evidence", False, [], "no follow-up fact for single-infusion PTSD trials")
    longest = _num(f[0]["value"]) or 0
    v = "supported" if longest >= win[1] else "not_supported"
    return _mk(v, True, [f"imprecision: single trial n={f[0]['n']}"],
               f"{f[0]['fact_id']}: single-infusion follow-up {longest:g} h vs claimed {win[1]:g} h", facts=[f[0]["fact_id"]])


JOURNAL_ALIASES: dict[str, str] = {
    "american journal of psychiatry": "am j psychiatry",
    "journal of neuropsychiatry and clinical neurosciences": "j neuropsychiatry clin neurosci",
    "jama psychiatry": "jama psychiatry",
}


def _journal_key(name: str) -> str:
    n = re.sub(r"[^a-z ]", " ", name.lower())
    n = re.sub(r"\s+", " ", n).strip()
    return JOURNAL_ALIASES.get(n, n)


def rule_citation(claim: dict, eb: EvidenceBase) -> Verdict:
    """Does a study in the cited journal exist in the evidence, with the design the clinic describes?
    claimed = 'Journal|feature' (feature: single_infusion or infusion)."""
    journal, _, feature = (claim.get("claimed") or "").partition("|")
    key = _journal_key(journal)
    st = eb.studies[eb.studies["journal"].fillna("").map(lambda j: _journal_key(j).startswith(key))]
    facts = eb.facts[(eb.facts["topic"] == "citation") & (eb.facts["key"].map(_journal_key) == key)]
    others = eb.facts[(eb.facts["topic"] == "citation") & (eb.facts["key"].map(_journal_key) != key)]
    want_single = feature == "single_infusion"
    if not st.empty:
        ids = list(st.index)
        rct, downs = _study_downgrades(eb, ids, "ocd")
        return _mk("partly_supported", rct, downs, f"{len(st)} study(ies) in {journal} in the evidence base", ids)
    if facts.empty:
        return _mk("no_evidence", False, [], f"no study in {journal} among {len(eb.studies)} records or the citation facts")
    rec = facts.iloc[0]
    found = _num(rec["value"])
    if found == 0 and rec["unit"] == "papers found":
        return _mk("no_evidence", False, [], f"{rec['fact_id']}: 0 papers in {journal}; none of {len(eb.studies)} evidence records is in that journal",
                   facts=[rec["fact_id"]])
    if want_single and found is not None and found > 1:
        alt = others[others["value"] == "1"]
        alt_txt = f"; the single-infusion trial is {alt.iloc[0]['fact_id']} ({alt.iloc[0]['key']})" if not alt.empty else ""
        return _mk("contradicted", True, ["indirectness: checked against abstracts and summaries, not full text"],
                   f"{rec['fact_id']}: the {journal} trial gave {found:g} infusions (n={rec['n']}), not one{alt_txt}",
                   facts=[rec["fact_id"]] + list(alt["fact_id"]))
    return _mk("supported", True, [], f"{rec['fact_id']}: matches ({rec['statement']})", facts=[rec["fact_id"]])


def rule_infusions_to_response(claim: dict, eb: EvidenceBase) -> Verdict:
    """'After N infusions (nearly) everyone knows': not supported when responders needed a median of
    more than N infusions (then at least half of the eventual responders had not responded by N)."""
    n_claim = _claimed_float(claim, 2)
    f = _ctx_num(eb, "infusions_to_response")
    if not f:
        return _mk("no_evidence", False, [], "no data on the number of infusions before response")
    med = _num(f[0]["value"])
    v = "not_supported" if med is not None and med > n_claim else "supported"
    downs = ["indirectness: depression data for an OCD claim"] if claim.get("scope") == "ocd" else []
    if f[0]["n"] and float(f[0]["n"]) < OPTIMAL_N:
        downs.append(f"imprecision: n={f[0]['n']}")
    return _mk(v, True, downs, f"{f[0]['fact_id']}: median {med:g} infusions to response (n={f[0]['n']}) vs claimed {n_claim:g}; "
               f"0 OCD studies report response by infusion number", facts=[f[0]["fact_id"]])


def evidence_scope(claim: dict) -> str:
    """Which body of evidence a claim is about: 'ocd', 'depression', 'ptsd' (from the claim's scope,
    else its test population) or the population itself (e.g. 'sud_ed', 'any')."""
    if claim.get("scope") in ("depression", "ptsd"):
        return claim["scope"]
    pop = str(claim.get("test_population") or "ocd")
    for s in ("ocd", "depression", "ptsd"):
        if pop.startswith(s):
            return s
    return pop


def rule_unmeasured(claim: dict, eb: EvidenceBase) -> Verdict:
    """Outcomes nothing in the evidence base measured, counted in the claim's own scope: OCD studies
    for OCD claims, context facts for depression/PTSD claims (OCD studies are never evidence for
    them). For OCD claims, records of harm (claimed = regex, e.g. 'suicid') that point the other way
    make it not supported."""
    scope = evidence_scope(claim)
    outcome = claim["test_outcome"]
    if scope in ("depression", "ptsd"):
        facts = eb.facts[eb.facts["topic"] == scope]
        return _mk("no_evidence", False, [], f"none of the {len(facts)} {scope} context facts measured {outcome} "
                   f"(OCD studies are not evidence for a {scope} claim)")
    if scope != "ocd":
        topics = ", ".join(sorted(set(eb.facts["topic"])))
        return _mk("no_evidence", False, [], f"no study or fact on '{scope}' measured {outcome}: the evidence base holds "
                   f"{len(ocd_studies(eb, 'ocd'))} OCD clinical studies and {len(eb.facts)} context facts ({topics})")
    st = ocd_studies(eb, "ocd")
    pat = claim.get("claimed") or ""
    if pat:
        harm = eb.facts[(eb.facts["topic"] == "ocd_harms") & eb.facts["statement"].str.contains(pat, case=False, regex=True)]
        if not harm.empty:
            ids = [s for s in harm["study_id"] if s]
            parts = [f"{r.fact_id}: {r.numerator}/{r.denominator} ({r.study_id})" for r in harm.itertuples()]
            return _mk("not_supported", False, ["imprecision: case-level reports"],
                       f"0 of {len(st)} OCD studies measured {outcome}; harm reports point the other way: " + "; ".join(parts),
                       ids, harm["fact_id"])
    return _mk("no_evidence", False, [], f"0 of {len(st)} OCD clinical studies measured {outcome}")


def rule_crisis(claim: dict, eb: EvidenceBase) -> Verdict:
    """'Useful for people in crisis' (claimed = regex naming the crisis, e.g. 'suicid'): an approval
    for an acute-crisis population (regulatory fact whose key or statement matches, value yes) makes
    it partly supported - indirect when the approval is for another condition or drug than the
    claim's; OCD studies of patients in such a crisis are added, and OCD harm reports matching the
    crisis count against it (inconsistency). Without an approval: no evidence."""
    pat = claim.get("claimed") or "suicid"
    f = eb.facts
    appr = f[(f["topic"] == "regulatory") & (f["value"].str.lower() == "yes") &
             (f["key"].str.contains(pat, case=False, regex=True) | f["statement"].str.contains(pat, case=False, regex=True))]
    st = ocd_studies(eb, "ocd")
    population = st["population"] if "population" in st.columns else pd.Series("", index=st.index, dtype=str)
    in_crisis = st[population.fillna("").astype(str).str.contains(pat, case=False, regex=True)]
    harm = f[(f["topic"] == "ocd_harms") & f["statement"].str.contains(pat, case=False, regex=True)]
    if appr.empty:
        return _mk("no_evidence", False, [], f"no approval or trial for a '{pat}' crisis population among {len(f)} facts; "
                   f"{len(in_crisis)} OCD studies enrolled such patients")
    scope = evidence_scope(claim)
    downs = []
    indirect = []
    for r in appr.itertuples():
        if scope not in r.statement.lower() and not (scope == "depression" and "depress" in r.statement.lower()):
            indirect.append(f"{r.fact_id} concerns {'depression' if 'depress' in r.statement.lower() else 'another condition'}, "
                            f"not {scope}")
        if "esketamine" in r.statement.lower():
            indirect.append(f"{r.fact_id} concerns esketamine, not racemic ketamine")
    if indirect:
        downs.append("indirectness: " + "; ".join(indirect))
    if not harm.empty:
        downs.append("inconsistency: OCD reports of the same crisis after ketamine (" + ", ".join(harm["fact_id"]) + ")")
    parts = [f"{r.fact_id}: approved = {r.value}" for r in appr.itertuples()]
    parts += [f"{s}: OCD {st.at[s, 'design']} (n={_n_of(eb, [s])}) in such patients" for s in in_crisis.index]
    parts += [f"{r.fact_id}: {r.numerator}/{r.denominator} ({r.study_id})" for r in harm.itertuples()]
    return _mk("partly_supported", True, downs, "crisis population '" + pat + "': " + "; ".join(parts),
               list(in_crisis.index) + [s for s in harm["study_id"] if s], list(appr["fact_id"]) + list(harm["fact_id"]))


def _practice_grade(claim: dict, rec: dict) -> tuple[str, list[str]]:
    """One guidance source's certainty: guidance and expert opinion start low; a level is lost when the
    source was seen only in a secondary summary (design ``*_secondary``), and for indirectness when it
    concerns esketamine, or depression/mood disorders for an OCD or PTSD claim."""
    downs = []
    fid = rec["fact_id"]
    if str(rec["design"]).endswith("_secondary"):
        downs.append(f"risk of bias: seen only in a secondary summary, not checked against the source ({fid})")
    text = str(rec["statement"]).lower()
    indirect = []
    if "esketamine" in text:
        indirect.append("esketamine guidance, not racemic ketamine")
    if claim.get("scope") in ("ocd", "ptsd") and re.search(r"depress|mood", text):
        indirect.append("guidance written for depression/mood disorders")
    if indirect:
        downs.append(f"indirectness: {' and '.join(indirect)} ({fid})")
    return grade(False, downs)


def _practice_part(claim: dict, eb: EvidenceBase, part: str) -> Verdict:
    """One claimed practice against the practice facts naming it (see rule_practice_standard)."""
    f = eb.facts[eb.facts["topic"] == "practice"]
    named = f[pd.Series([part in str(k).split("+") for k in f["key"]], index=f.index, dtype=bool)]
    expected = named[named["value"] == "expected"].to_dict("records")
    against = named[named["value"] == "against"].to_dict("records")
    rationale = named[named["value"] == "rationale"].to_dict("records")
    why = "; ".join(f"{r['fact_id']}: {r['value_low']} {r['unit']}" + (f" (n={r['n']})" if r["n"] else "")
                    for r in rationale)
    why_txt = f" | time course behind it (listed, not graded): {why}" if why else ""
    if not expected and not against:
        return _mk("no_evidence", False, [], f"none of the {len(f)} practice guidance facts states '{part}'{why_txt}",
                   facts=[r["fact_id"] for r in rationale])
    graded = [(r, *_practice_grade(claim, r)) for r in expected + against]
    top = min((lvl for _, lvl, _ in graded), key=LEVELS.index)
    lead = [(r, downs) for r, lvl, downs in graded if lvl == top]
    lead_exp = [r for r, _ in lead if r["value"] == "expected"]
    lead_ag = [r for r, _ in lead if r["value"] == "against"]
    extra = []
    if lead_exp and lead_ag:
        v = "partly_supported"
        extra.append("inconsistency: guidance of equal certainty both asks for and warns against it")
    else:
        v = "supported" if lead_exp else "contradicted"
    downs = list(dict.fromkeys(d for _, ds in lead for d in ds)) + extra
    level = LEVELS[min(LEVELS.index(top) + len(extra), len(LEVELS) - 1)]
    items = "; ".join(f"[{lvl}] {r['fact_id']} ({r['design']}" + (f", {r['value_low']} {r['unit']})" if r["value_low"] else ")")
                      for r, lvl, _ in sorted(graded, key=lambda g: (LEVELS.index(g[1]), g[0]["fact_id"])))
    head = ("guidance asks for it" if v == "supported" else "guidance warns against it" if v == "contradicted"
            else "guidance is mixed")
    reason = (f"{part}: {head} - {items} -> decided by the {top.replace('_', '-')}-certainty source(s) "
              f"(guidance and expert opinion start at low){why_txt}")
    facts = [r["fact_id"] for r, _, _ in graded] + [r["fact_id"] for r in rationale]
    return apply_hierarchy(Verdict(v, level, reason, [], sorted(dict.fromkeys(facts)), downs))


def rule_practice_standard(claim: dict, eb: EvidenceBase) -> Verdict:
    """How the clinic says it gives ketamine (test_outcome = practices joined by '+', e.g.
    'pre_treatment_evaluation', 'unsupervised_use') against practice guidance (context facts of topic
    'practice'): a practice guidance asks for -> supported; one guidance warns against (self-guided or
    at-home dosing) -> contradicted, which becomes not_supported below low certainty. Guidance and expert
    opinion start at low certainty (each source graded on its own; the best sources decide). A claim
    naming a requirement no guidance states (e.g. a specific credential) next to one it does is partly
    supported, and the reason names the part no guidance states."""
    parts = [p for p in str(claim["test_outcome"]).split("+") if p]
    judged = [(p, _practice_part(claim, eb, p)) for p in parts]
    if len(judged) == 1:
        return judged[0][1]
    vs = [v for _, v in judged]
    found = [v for v in vs if v.verdict != "no_evidence"]
    missing = [p for p, v in judged if v.verdict == "no_evidence"]
    if any(v.verdict in ("contradicted", "not_supported") for v in found):
        verdict = next(v.verdict for v in found if v.verdict in ("contradicted", "not_supported"))
    elif found and missing:
        verdict = "partly_supported"
    elif found:
        verdict = "supported" if all(v.verdict == "supported" for v in found) else "partly_supported"
    else:
        verdict = "no_evidence"
    level = max((v.certainty for v in found or vs), key=LEVELS.index)
    reason = " | ".join(f"{p}: {v.verdict} ({v.reason})" for p, v in judged)
    if found and missing:
        stated = ", ".join(p for p, v in judged if v.verdict != "no_evidence")
        reason += f" || the general requirement ({stated}) is in guidance; no guidance states {', '.join(missing)}"
    return apply_hierarchy(Verdict(verdict, level, reason, [], sorted({f for v in vs for f in v.facts}),
                                   list(dict.fromkeys(d for v in (found or vs) for d in v.downgrades))))


def rule_not_testable(claim: dict, eb: EvidenceBase) -> Verdict:
    return _mk("not_testable", False, ["not an outcome any study measures"],
               f"'{claim['test_outcome']}' is not something the {len(eb.studies)} evidence records or context facts can test")


RULES: dict[str, Callable[[dict, EvidenceBase], Verdict]] = {
    "regulatory": rule_regulatory, "efficacy": rule_efficacy, "onset": rule_onset, "durability": rule_durability,
    "relapse": rule_relapse, "population_compare": rule_population_compare, "safety_rate": rule_safety_rate,
    "safety_transient": rule_safety_transient, "ae_reported": rule_ae_reported, "protocol": rule_protocol,
    "comparative": rule_comparative, "mechanism": rule_mechanism, "evidence_count": rule_evidence_count,
    "ongoing_research": rule_ongoing_research, "context_efficacy": rule_context_efficacy,
    "context_onset": rule_context_onset, "context_durability": rule_context_durability, "citation": rule_citation,
    "infusions_to_response": rule_infusions_to_response, "unmeasured": rule_unmeasured, "not_testable": rule_not_testable,
    "crisis": rule_crisis, "practice_standard": rule_practice_standard,
}
# Rules that read OCD studies, and the context rule that tests the same thing for a depression or PTSD claim.
SCOPE_ROUTES: dict[str, dict[str, str]] = {
    "depression": {"onset": "context_onset", "efficacy": "context_efficacy"},
    "ptsd": {"onset": "context_onset", "efficacy": "context_efficacy", "durability": "context_durability"},
}
CONTEXT_CONDITIONS = re.compile(r"^(depression|ptsd)")
if set(RULES) != set(claims_mod.RULES):  # pragma: no cover - a programming error caught at import
    raise ImportError("claims.RULES and verdicts.RULES must list the same rules")


def route(claim: dict) -> dict:
    """A depression- or PTSD-scope claim is tested against the depression/PTSD context facts, never
    against OCD studies: its OCD-study rule is swapped for the matching context rule (the claimed
    condition defaults to the scope)."""
    target = SCOPE_ROUTES.get(claim.get("scope") or "", {}).get(claim["rule"])
    if not target:
        return claim
    claimed = str(claim.get("claimed") or "")
    return {**claim, "rule": target, "claimed": claimed if CONTEXT_CONDITIONS.match(claimed) else claim["scope"]}


def judge(claim: dict, eb: EvidenceBase) -> Verdict:
    claim = route(claim)
    v = apply_hierarchy(RULES[claim["rule"]](claim, eb))
    unknown = [s for s in v.studies if s not in eb.known_ids]
    if unknown:  # a verdict may only cite studies that exist in the evidence tables
        raise EvidenceReviewError(f"claim {claim.get('claim_id')}: verdict cites studies not in the evidence tables: {unknown}")
    return v


def judge_all(registry: pd.DataFrame, eb: EvidenceBase) -> pd.DataFrame:
    """One output row per claim (the columns of reports/tables/claims.csv)."""
    rows = []
    for claim in registry.to_dict("records"):
        v = judge(claim, eb)
        rows.append({
            "claim_id": claim["claim_id"], "seed_file": claim["seed_file"], "quote": claim["quote"],
            "category": claim["category"], "scope": claim["scope"], "verdict": v.verdict, "certainty": v.certainty,
            "studies": MULTI_SEP.join(v.studies), "context_facts": MULTI_SEP.join(v.facts), "reason": v.reason,
            "downgrades": MULTI_SEP.join(v.downgrades), "rule": _rule_label(claim),
        })
    return pd.DataFrame(rows, columns=CLAIMS_COLUMNS)


def _rule_label(claim: dict) -> str:
    routed = route(claim)["rule"]
    return claim["rule"] if routed == claim["rule"] else f"{claim['rule']}->{routed}"


def registry_path(ctx) -> Path:
    """The topic file names the registry; fall back to evidence/claims.csv."""
    if ctx.topic_path is None or not Path(ctx.topic_path).is_file():
        return ctx.evidence / "claims.csv"
    from evidence_review.review.topic import load_topic  # a broken topic file is an error, not a silent default
    p = Path(load_topic(ctx.topic_path).claims_file)
    return p if p.is_absolute() else ctx.root / p


def report_stage(ctx) -> None:
    """Pipeline stage 'claims': registry + evidence tables -> reports/tables/claims.csv."""
    registry = claims_mod.load_registry(registry_path(ctx), Path(ctx.shared) / "seeds")
    from evidence_review.claims.evidence_base import load_facts, studies_from_facts
    facts = load_facts(ctx.evidence / "context_facts.csv")
    studies = studies_from_facts(Path(ctx.shared) / "evidence-facts" / "studies.jsonl")
    eb = build(ctx.tables, facts=facts, studies=studies)
    out = judge_all(registry, eb)
    path = write_table(out, ctx.tables_dir / "claims.csv")
    ctx.written.append(path)
    ctx.tables["claims"] = out
    ctx.tables["claim_registry"] = registry
    ctx.facts["evidence_base"] = eb
