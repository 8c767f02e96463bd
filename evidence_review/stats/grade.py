"""GRADE certainty per outcome x comparison, computed from tables (pure functions, no I/O).

Why computed: certainty must follow from the risk-of-bias table, the results and the topic's PICO by
rules a reader can check, not from strings typed next to a verdict. Each of the five downgrade domains
(risk of bias, inconsistency, indirectness, imprecision, publication bias) and the upgrade domains
gets a judgement ("not serious" / "serious" / "very serious", or an upgrade of 0-2) *and* the reason,
built from numbers. The rules are documented in ``docs/methods.md``; the parameters that are review
decisions (decision thresholds, the optimal-information-size inputs, PICO) come from the topic file.

Inputs are plain data frames: one row per contributing result (``Result`` fields), the overall
risk-of-bias judgement per study, and optionally a non-publication table from trial registers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from evidence_review.stats import meta

LEVELS = ("very low", "low", "moderate", "high")
RANDOMIZED = frozenset({"rct_parallel", "rct_crossover", "rct", "cluster_rct"})
CONTROLLED_TYPES = frozenset({"between_groups", "within_person"})
SYMPTOM_MEASURES = frozenset({"SMD", "MD", "SMCR", "SMCC"})
RATING = {0: "not serious", 1: "serious", 2: "very serious"}


@dataclass(frozen=True)
class GradeParams:
    """Review decisions (topic file ``[grade]``), not facts from the sources."""

    alpha: float = 0.05
    power: float = 0.80
    control_risk: float = 0.15
    relative_risk_reduction: float = 0.25
    ois_smd: float = 0.2
    decision_threshold_rd: float = 0.0
    decision_threshold_smd: float = 0.0
    wide_proportion_interval: float = 0.5
    outcome_measures: tuple[str, ...] = ()  # the PICO's outcome scales (topic file)
    populations: tuple[str, ...] = ()
    indirect_outcomes: dict[str, str] = field(default_factory=dict)
    intervention: str = "the intervention"  # how statements name it (the topic's intervention label)


@dataclass(frozen=True)
class SofOutcome:
    """One Summary-of-Findings row to compute (topic file ``[[sof_outcomes]]``)."""

    id: str
    outcome: str
    comparison: str
    outcomes: tuple[str, ...]
    comparison_types: tuple[str, ...]
    kind: str = "benefit"  # "benefit" or "harm"
    response_threshold_pct: float | None = None


@dataclass(frozen=True)
class Domain:
    judgement: str
    reason: str
    levels: int  # levels moved: negative = downgrade, positive = upgrade


# ------------------------------------------------------------------------------------------- domains

def risk_of_bias(results: pd.DataFrame, rob: dict[str, tuple[str, int]]) -> Domain:
    """Participant-weighted mean severity of the contributing studies' overall judgements
    (0 low, 1 some concerns / moderate / no information, 2 high / serious, 3 critical):
    < 0.5 not serious, < 1.5 serious, else very serious."""
    per_study = results.groupby("study_id")["n"].max()
    missing = [s for s in per_study.index if s not in rob]
    if missing:
        return Domain("very serious", f"no risk-of-bias assessment for {', '.join(missing)}", -2)
    w = per_study.astype(float).fillna(1.0).clip(lower=1.0)
    sev = pd.Series({s: min(rob[s][1], 2) for s in per_study.index})
    mean = float((sev * w).sum() / w.sum())
    levels = 0 if mean < 0.5 else 1 if mean < 1.5 else 2
    detail = ", ".join(f"{s} {rob[s][0]}" for s in per_study.index)
    return Domain(RATING[levels], f"participant-weighted severity {mean:.2f} (0 low - 2 high): {detail}", -levels)


def inconsistency(results: pd.DataFrame) -> Domain:
    """One study: not assessable (not serious). Several: serious if point estimates point in different
    directions, or if heterogeneity across them is substantial (I2 > 50 % from a fixed-effect Q on the
    analysis scale); very serious if I2 > 75 % and directions differ."""
    k = results["study_id"].nunique()
    if k < 2:
        return Domain("not serious", "single study: inconsistency cannot be assessed", 0)
    dirs = set(results["direction"]) - {"no reference", "no change"}
    if results["vi"].notna().all() and len(results) >= 2:
        fe = meta.rma(results["yi"].to_numpy(float), results["vi"].to_numpy(float), method="FE")
        i2, qp = float(fe.i2), float(fe.q_p)
    else:  # pragma: no cover - every effects row carries vi
        i2, qp = float("nan"), float("nan")
    split = len(dirs) > 1
    het = not math.isnan(i2) and i2 > 50
    levels = 2 if (split and het and i2 > 75) else 1 if (split or het) else 0
    reason = (f"k = {k}; I2 = {i2:.0f}% (fixed-effect Q p = {qp:.3f}) on the analysis scale"
              + ("; directions differ" if split else "; no conflicting directions"))
    return Domain(RATING[levels], reason, -levels)


def indirectness(results: pd.DataFrame, params: GradeParams, populations: dict[str, str]) -> Domain:
    """Serious if any contributing result is indirect to the topic's PICO: its outcome is listed as
    indirect, its scale is not one of the PICO outcome measures (efficacy outcomes only), or its
    population class is outside the PICO's classes."""
    reasons = []
    for rec in results.to_dict("records"):
        why = params.indirect_outcomes.get(str(rec["outcome"]))
        if why:
            reasons.append(f"{rec['study_id']}: {why}")
        elif rec.get("kind") == "benefit" and not any(str(rec["scale"]).startswith(m) for m in params.outcome_measures):
            reasons.append(f"{rec['study_id']}: scale {rec['scale']!r} is not a PICO outcome measure")
        pop = populations.get(str(rec["study_id"]), "unspecified")
        if params.populations and pop not in params.populations:
            reasons.append(f"{rec['study_id']}: population class {pop!r} outside the PICO")
    if not reasons:
        return Domain("not serious", "population, intervention, comparator and outcome match the topic's PICO", 0)
    return Domain("serious", "; ".join(dict.fromkeys(reasons)), -1)


def optimal_information_size(params: GradeParams, continuous: bool) -> int:
    """Total participants a single adequately powered trial would need (two arms, two-sided alpha).
    Dichotomous: control risk and GRADE's default 25 % relative risk reduction (or increase for a harm);
    continuous: the smallest standardised difference worth detecting."""
    za = stats.norm.isf(params.alpha / 2)
    zb = stats.norm.ppf(params.power)
    if continuous:
        per_arm = 2 * (za + zb) ** 2 / params.ois_smd ** 2
    else:
        p0 = params.control_risk
        p1 = p0 * (1 - params.relative_risk_reduction) if p0 > 0.5 else p0 * (1 + params.relative_risk_reduction)
        per_arm = (za + zb) ** 2 * (p0 * (1 - p0) + p1 * (1 - p1)) / (p1 - p0) ** 2
    return int(math.ceil(per_arm)) * 2


def imprecision(results: pd.DataFrame, participants: int, params: GradeParams) -> Domain:
    """Serious if the participants fall short of the optimal information size, or if an interval crosses
    the decision threshold (comparative results) / is wider than ``wide_proportion_interval``
    (proportions without comparator); very serious if both."""
    continuous = results["measure"].isin(SYMPTOM_MEASURES).any()
    ois = optimal_information_size(params, bool(continuous))
    short = participants < ois
    crossing, wide = [], []
    for rec in results.to_dict("records"):
        lo, hi = float(rec["ci_low"]), float(rec["ci_high"])
        if rec["comparison_type"] == "single_group":
            if hi - lo > params.wide_proportion_interval:
                wide.append(f"{rec['study_id']} {lo:.2f}-{hi:.2f}")
            continue
        thr = params.decision_threshold_smd if rec["measure"] in SYMPTOM_MEASURES else params.decision_threshold_rd
        if lo < thr < hi:
            crossing.append(f"{rec['study_id']} {lo:+.2f} to {hi:+.2f}")
    second = bool(crossing or wide)
    levels = int(short) + int(second)
    parts = [f"{participants} participants vs optimal information size {ois}"
             + (" (not met)" if short else " (met)")]
    if crossing:
        parts.append("interval crosses the decision threshold: " + "; ".join(crossing))
    if wide:
        parts.append(f"exact interval wider than {params.wide_proportion_interval:g}: " + "; ".join(wide))
    if not crossing and not wide:
        parts.append("no interval crosses the decision threshold")
    return Domain(RATING[levels], "; ".join(parts), -levels)


def publication_bias(controlled: bool, missing_results: Sequence[str], non_publication: pd.DataFrame | None) -> Domain:
    """Serious when randomized trials of the question are known to have no reported results: included
    trials without outcome data, or registered trials without results (register table, when present).
    Without register data the register part is 'not assessed: no register data'."""
    reasons = []
    if controlled and missing_results:
        reasons.append(f"{len(missing_results)} included randomized trial(s) report no outcome data: {', '.join(missing_results)}")
    if non_publication is None:
        register = "not assessed: no register data"
    elif non_publication.empty:
        register = "registers: no registered trial without results"
    else:
        ids = non_publication.iloc[:, 0].astype(str).tolist()
        register = f"registers: {len(ids)} registered trial(s) without results ({', '.join(ids[:6])}{' ...' if len(ids) > 6 else ''})"
        if controlled:
            reasons.append(register)
    if reasons:
        return Domain("serious", "; ".join(reasons) + ("" if non_publication is not None else f"; {register}"), -1)
    return Domain("not serious", register + "; fewer than 10 studies: no funnel plot or Egger test", 0)


def upgrades(start: str, results: pd.DataFrame) -> Domain:
    """Upgrades (large effect, dose-response, opposing confounding) apply only to a body of
    non-randomized *comparative* evidence; uncontrolled results have no effect to upgrade."""
    if start == "high":
        return Domain("none", "randomized evidence starts high; upgrades not considered", 0)
    if not results["comparison_type"].isin(CONTROLLED_TYPES).any():
        return Domain("none", "no comparator: large effect, dose-response and confounding cannot be judged", 0)
    return Domain("none", "no large effect, dose-response gradient or opposing confounding shown", 0)


# --------------------------------------------------------------------------------------------- rows

def starting_level(results: pd.DataFrame) -> str:
    randomized = results["design"].isin(RANDOMIZED) & results["comparison_type"].isin(CONTROLLED_TYPES)
    return "high" if bool(randomized.all()) else "low"


def certainty(start: str, domains: Iterable[Domain]) -> str:
    idx = LEVELS.index(start) + sum(d.levels for d in domains)
    return LEVELS[max(0, min(len(LEVELS) - 1, idx))]


def statement(level: str, spec: SofOutcome, favourable: bool | None, intervention: str = "the intervention") -> str:
    """GRADE's standard wording (Santesso et al. 2020): high - plain verb; moderate - "probably";
    low - "may"; very low - "The evidence is very uncertain about ..."."""
    o = spec.outcome
    what = o[0].lower() + o[1:] if len(o) > 1 and not o[1].isupper() else o  # "OCD ..." keeps its capitals
    if level == "very low" or favourable is None:
        return f"The evidence is very uncertain about the effect of {intervention} on {what} ({spec.comparison})."
    if spec.kind == "harm":
        verb = "increases" if favourable else "does not increase"
    else:
        verb = "improves" if favourable else "does not improve"
    hedge = {"high": "", "moderate": "probably ", "low": "may "}[level]
    if hedge == "may ":
        verb = {"increases": "increase", "improves": "improve", "does not increase": "not increase",
                "does not improve": "not improve"}[verb]
    return f"{intervention.capitalize()} {hedge}{verb} {what} ({spec.comparison})."


SOF_COLUMNS: tuple[str, ...] = (
    "sof_id", "sof_kind", "outcome", "comparison", "studies", "study_ids", "participants", "effect", "certainty", "starting_level",
    "risk_of_bias", "risk_of_bias_reason", "inconsistency", "inconsistency_reason", "indirectness",
    "indirectness_reason", "imprecision", "imprecision_reason", "publication_bias", "publication_bias_reason",
    "upgrades", "upgrades_reason", "statement",
)


def grade_outcome(spec: SofOutcome, results: pd.DataFrame, rob: dict[str, tuple[str, int]], params: GradeParams,
                  populations: dict[str, str], study_group: dict[str, str], missing_results: Sequence[str],
                  non_publication: pd.DataFrame | None, pooled_effect: str | None = None) -> dict[str, Any]:
    """One SoF row. ``results``: the contributing effects rows (study_id, design, comparison_type,
    outcome, scale, measure, yi, vi, n, ci_low, ci_high [display interval], effect_label, direction)."""
    base = {"sof_id": spec.id, "sof_kind": spec.kind, "outcome": spec.outcome, "comparison": spec.comparison}
    if results.empty:
        return {**base, "studies": 0, "study_ids": "", "participants": 0, "effect": "no study reports this outcome",
                "certainty": "", "starting_level": "", "statement": "No study in the review reports this outcome.",
                **{c: "" for c in SOF_COLUMNS if c not in base and c not in ("studies", "study_ids", "participants",
                                                                            "effect", "certainty", "starting_level",
                                                                            "statement")}}
    results = results.assign(kind=spec.kind)
    groups = results["study_id"].map(lambda s: study_group.get(s, s))
    per_group = results.assign(group=groups).groupby("group")["n"].max()
    participants = int(per_group.fillna(0).sum())
    start = starting_level(results)
    controlled = bool(results["comparison_type"].isin(CONTROLLED_TYPES).any())
    doms = {
        "risk_of_bias": risk_of_bias(results, rob),
        "inconsistency": inconsistency(results),
        "indirectness": indirectness(results, params, populations),
        "imprecision": imprecision(results, participants, params),
        "publication_bias": publication_bias(controlled, missing_results, non_publication),
    }
    up = upgrades(start, results)
    level = certainty(start, list(doms.values()) + [up])
    dirs = set(results["direction"]) - {"no reference", "no change"}
    favourable = None if not controlled or len(dirs) != 1 else dirs == {"favourable"}
    effect = pooled_effect or ("; ".join(f"{r['study_id']}: {r['effect_label']}" for r in results.to_dict("records"))
                               + ("" if len(results) == 1 else " (not pooled: comparability rules not met)"))
    row = {**base, "studies": int(per_group.size), "study_ids": "; ".join(per_group.index), "participants": participants,
           "effect": effect, "certainty": level, "starting_level": start,
           "upgrades": up.judgement, "upgrades_reason": up.reason,
           "statement": statement(level, spec, favourable, params.intervention)}
    for name, d in doms.items():
        row[name] = d.judgement if not d.levels else f"{d.judgement} ({d.levels:+d})"
        row[f"{name}_reason"] = d.reason
    return {c: row.get(c, "") for c in SOF_COLUMNS}


def certainty_for(sof: pd.DataFrame | None, outcome: str, comparison: str | None = None) -> str | None:
    """The GRADE certainty of a Summary-of-Findings row, looked up by ``sof_id`` or outcome text
    (and comparison text when given); None when the table or the row is absent."""
    if sof is None or sof.empty:
        return None
    hit = sof[(sof["sof_id"] == outcome) | (sof["outcome"] == outcome)]
    if comparison is not None:
        hit = hit[hit["comparison"] == comparison]
    vals = [v for v in hit["certainty"] if isinstance(v, str) and v]
    return vals[0] if vals else None


def direction_of(measure: str, comparison_type: str, yi: float) -> str:
    """Favourable/unfavourable/no change/no reference from a point estimate (lower is better on
    symptom scales; RD > 0 favours the intervention on a benefit outcome)."""
    if comparison_type == "single_group":
        return "no reference"
    if yi == 0 or np.isnan(yi):
        return "no change"
    return "favourable" if ((yi < 0) if measure in SYMPTOM_MEASURES else (yi > 0)) else "unfavourable"
