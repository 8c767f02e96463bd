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

from pathlib import Path

import pandas as pd

from evidence_review.claims import registry as claims_mod
from evidence_review.claims.evidence_base import (
    EvidenceBase,
    build,
    load_facts,
    studies_from_facts,
)
from evidence_review.claims.rules import RULES
from evidence_review.claims.rules.common import (  # noqa: F401 (re-exported)
    LEVELS,
    VERDICTS,
    Verdict,
    apply_hierarchy,
    cap_by_sof,
)
from evidence_review.errors import EvidenceReviewError
from evidence_review.review.topic import Topic
from evidence_review.tables import MULTI_SEP, write_table

CLAIMS_COLUMNS: tuple[str, ...] = (
    "claim_id", "seed_file", "quote", "category", "scope", "verdict", "certainty", "studies", "context_facts",
    "reason", "downgrades", "rule",
)


def route(claim: dict, topic: Topic) -> dict:
    """A claim about one of the topic's context conditions is tested against that condition's context
    facts, never against studies of the review's condition: the topic's routes swap its rule for the
    matching context rule (the claimed condition defaults to the scope)."""
    target = topic.context.routes.get(claim.get("scope") or "", {}).get(claim["rule"])
    if not target:
        return claim
    claimed = str(claim.get("claimed") or "")
    named = any(claimed.startswith(c) for c in topic.context.conditions)
    return {**claim, "rule": target, "claimed": claimed if named else claim["scope"]}


def judge(claim: dict, eb: EvidenceBase) -> Verdict:
    claim = route(claim, eb.topic)
    v = apply_hierarchy(cap_by_sof(RULES[claim["rule"]](claim, eb), eb, str(claim.get("category") or "")))
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
            "downgrades": MULTI_SEP.join(v.downgrades), "rule": _rule_label(claim, eb.topic),
        })
    return pd.DataFrame(rows, columns=CLAIMS_COLUMNS)


def _rule_label(claim: dict, topic: Topic) -> str:
    routed = route(claim, topic)["rule"]
    return claim["rule"] if routed == claim["rule"] else f"{claim['rule']}->{routed}"


def registry_path(ctx) -> Path:
    """The topic file names the registry (relative to the project root unless absolute)."""
    return ctx.topic.claims_path


def report_stage(ctx) -> None:
    """Pipeline stage 'claims': registry + evidence tables -> reports/tables/claims.csv."""
    topic = ctx.topic
    registry = claims_mod.load_registry(registry_path(ctx), topic.files.pages, topic=topic)
    facts = load_facts(topic.files.context_facts, topic)
    studies = studies_from_facts(topic.files.studies)
    eb = build(ctx.tables, facts=facts, studies=studies, topic=topic)
    out = judge_all(registry, eb)
    path = write_table(out, ctx.tables_dir / "claims.csv")
    ctx.written.append(path)
    ctx.tables["claims"] = out
    ctx.tables["claim_registry"] = registry
    ctx.facts["evidence_base"] = eb
