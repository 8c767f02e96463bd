"""Rules about harms: rates against a claimed maximum, transient effects, reported adverse events, unmeasured outcomes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from evidence_review.claims.evidence_base import (
    CONTROLLED_DESIGNS,
    RCT_DESIGNS,
    EvidenceBase,
    exact_ci,
)
from evidence_review.claims.rules.common import (
    _claimed_float,
    _facts,
    _mk,
    _k_of,
    _mk_facts,
    _num,
    _study_downgrades,
    apply_hierarchy,
    cond,
    condition_studies,
    evidence_scope,
    grade,
    grade_from,
    LEVELS,
    NEVER,
    OPTIMAL_N,
    subpopulation,
    Verdict,
)

DOCUMENTARY_DESIGNS = frozenset({"regulatory_record", "drug_label", "systematic_review", "meta_analysis"})
SIGNAL_UNIT = "not an incidence"  # a count in a post-hoc subgroup: a documented harm, never a rate




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
    direct_report: bool = False  # a harm report in the review's condition (direct evidence for its claims)
    position: str = ""  # exceeds | above | within | '' (says nothing about the claimed maximum)


def _safety_items(claim: dict, eb: EvidenceBase) -> list[SafetyItem]:
    """Every fact on the claim's adverse outcome (and its components), each graded on its own:
    OCD harm counts through their study's design, label and trial shares start high (randomized or
    documentary) and lose a level for indirectness (esketamine; other conditions for an OCD claim)."""
    key = claim["test_outcome"]
    fam = tuple(eb.topic.vocab("safety_families").get(key, (key,)))
    facts = eb.facts[eb.facts["key"].isin(fam) & eb.facts["topic"].isin(["safety", f"{eb.topic.condition.code}_harms", "regulatory"])]
    items = []
    for r in facts.to_dict("records"):
        num, den = _num(r["numerator"]), _num(r["denominator"])
        if SIGNAL_UNIT in str(r["unit"]):
            point = lo = hi = None
            text = f"{r['fact_id']}: {num:g} of a post-hoc subgroup of {den:g} (a signal, not an incidence)"
        elif num is not None and den:
            lo, hi = exact_ci(num, den)
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
            rct, downs = _study_downgrades(eb, [sid])
            if rct:  # harms were counted in small series of the trials, not as randomized comparisons
                rct, downs = False, [d for d in downs if not d.startswith("risk of bias")]
        else:
            rct = r["design"] in RCT_DESIGNS or r["design"] in DOCUMENTARY_DESIGNS
            start = r.get("certainty") or ("high" if rct else "low")  # the fact's own certainty
            downs = []
            if not rct and r["design"] not in CONTROLLED_DESIGNS:
                downs.append(f"risk of bias: no control group ({r['fact_id']})")
            n = _num(r["n"])
            if n is not None and n < OPTIMAL_N:
                downs.append(f"imprecision: n={n:g} ({r['fact_id']})")
            indirect = []
            indirect += [why for form, why in eb.topic.indirect_forms.items() if form.lower() in r["statement"].lower()]
            if claim.get("scope") == eb.topic.condition.code:
                indirect.append(f"not people with {cond(eb)}")
            if indirect:
                downs.append(f"indirectness: {' and '.join(indirect)} ({r['fact_id']})")
        if sid and eb.study(sid):
            level, downs = grade(rct, downs)
        else:
            level, downs = grade_from(start, downs)
        items.append(SafetyItem(r["fact_id"], sid, text, point, lo, hi, r["key"] == key, level, rct, downs,
                                direct_report=r["topic"] == f"{eb.topic.condition.code}_harms"))
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


def _direction(verdict: str) -> str:
    return {"supported": "for", "partly_supported": "mixed"}.get(verdict, "against")


def _decide(pool: list[SafetyItem]) -> tuple[str, list[SafetyItem], list[str]]:
    """Verdict from the highest-certainty items of ``pool`` (lower ones can only add inconsistency)."""
    top = min((it.certainty for it in pool), key=LEVELS.index)
    lead = [it for it in pool if it.certainty == top]
    lower = [it for it in pool if it.certainty != top]
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
    return v, lead, extra


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
    # an OCD claim is decided by the OCD harm reports first (direct evidence): when they point another way
    # than the highest-certainty (label-level or other-condition) sources, the OCD reports decide
    v, lead, extra = _decide(informative)
    direct = [it for it in informative if it.direct_report] if evidence_scope(claim, eb) == eb.topic.condition.code else []
    overruled = False
    if direct:
        v_direct, lead_direct, extra_direct = _decide(direct)
        if _direction(v_direct) != _direction(v):
            overruled = True
            others = [it.fact_id for it in lead]
            v, lead = v_direct, lead_direct
            extra = extra_direct + [f"inconsistency: indirect sources of higher certainty point the other way "
                                    f"({', '.join(others)})"]
    top = lead[0].certainty
    downs = _merge_downs(lead)
    rct = any(it.rct for it in lead)
    level = LEVELS[min(LEVELS.index(grade(rct, downs)[0]) + len(extra), len(LEVELS) - 1)]
    by_level = []
    for lvl in LEVELS:
        grp = [it for it in items if it.certainty == lvl]
        if grp:
            by_level.append(f"[{lvl}] " + "; ".join(f"{it.text} {it.position or 'not comparable'}"
                                                     + ("" if it.direct else " (component)") for it in grp))
    signals = [it for it in items if it.direct_report and it.point is None and not it.position]
    decided = (f"the {cond(eb)} harm reports (direct evidence, read before label-level or other-condition rates)"
               if overruled else f"the {top.replace('_', '-')}-certainty sources"
               + (f", in line with the {cond(eb)} harm reports" if direct else ""))
    reason = (f"{key}, claim allows {claim_txt}: " + " | ".join(by_level) + f" -> decided by {decided}"
              + (f"; also documented in {cond(eb)}: {'; '.join(it.text for it in signals)}" if signals else ""))
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
        downs.append(f"inconsistency: serious or delayed harms in {cond(eb)} reports")
    return _mk_facts(v, trans, downs, "; ".join(parts), ids, list(trans["fact_id"]) + list(serious_counted["fact_id"]))


def rule_ae_reported(claim: dict, eb: EvidenceBase) -> Verdict:
    """'Some patients report X': supported when any adverse-event record mentions it (claimed = regex)."""
    pat = re.compile(claim.get("claimed") or NEVER, re.IGNORECASE)
    facts = eb.facts[eb.facts["statement"].str.contains(pat) & eb.facts["topic"].isin(["safety", f"{eb.topic.condition.code}_harms"])]
    st = eb.studies[eb.studies["adverse_events"].fillna("").str.contains(pat)]
    if facts.empty and st.empty:
        return _mk("no_evidence", False, [], f"no adverse-event record mentions /{pat.pattern}/")
    reason = f"{len(facts)} fact(s), {len(st)} study record(s) mention it: " + "; ".join(facts["fact_id"])
    downs = [f"indirectness: reported for {'/'.join([*eb.topic.indirect_forms, 'other conditions'])}"] if not facts.empty else []
    if facts.empty:
        return _mk("supported", False, downs, reason, list(st.index))
    return _mk_facts("supported", facts, downs, reason, list(st.index), facts["fact_id"])


def rule_unmeasured(claim: dict, eb: EvidenceBase) -> Verdict:
    """Outcomes nothing in the evidence base measured, counted in the claim's own scope: OCD studies
    for OCD claims, context facts for depression/PTSD claims (OCD studies are never evidence for
    them). For OCD claims, records of harm (claimed = regex, e.g. 'suicid') that point the other way
    make it not supported."""
    scope = evidence_scope(claim, eb)
    outcome = claim["test_outcome"]
    if scope in eb.topic.context.conditions:
        facts = eb.facts[eb.facts["topic"] == scope]
        return _mk("no_evidence", False, [], f"none of the {len(facts)} {scope} context facts measured {outcome} "
                   f"({cond(eb)} studies are not evidence for a {scope} claim)")
    if scope != eb.topic.condition.code:
        return _mk("no_evidence", False, [], _outside_scope(eb, scope, outcome))
    st = condition_studies(eb)
    k = _k_of(eb, st.index)
    pat = claim.get("claimed") or ""
    if pat:
        harm = eb.facts[(eb.facts["topic"] == f"{eb.topic.condition.code}_harms") & eb.facts["statement"].str.contains(pat, case=False, regex=True)]
        if not harm.empty:
            ids = [s for s in harm["study_id"] if s]
            parts = [f"{r.fact_id}: {r.numerator}/{r.denominator} ({r.study_id})" for r in harm.itertuples()]
            return _mk("not_supported", False, ["imprecision: case-level reports"],
                       f"0 of {k} {cond(eb)} studies measured {outcome}; harm reports point the other way: " + "; ".join(parts),
                       ids, harm["fact_id"])
    return _mk("no_evidence", False, [], f"0 of {k} {cond(eb)} clinical studies measured {outcome}")


# Screened records that speak to a population outside the review's question (title words)
SCOPE_TERMS: dict[str, str] = {
    "sud_ed": r"substance|addict|alcohol|eating|anorexi|bulimi|binge",
}


def _outside_scope(eb: EvidenceBase, scope: str, outcome: str) -> str:
    """Why a claim outside the review's question has no usable evidence, naming any screened records on
    it (the search found them; screening left them out of the review's question, so nothing was extracted)."""
    k = _k_of(eb, condition_studies(eb).index)
    base = (f"outside this review's question: no extracted data on '{scope}' ({outcome}); the evidence base "
            f"holds {k} {cond(eb)} clinical studies and {len(eb.facts)} context facts")
    pat = SCOPE_TERMS.get(scope)
    rec = eb.records
    if scope in ("any", "general", ""):
        return (f"no {cond(eb)} clinical study (of {k}), screened record or context fact (of {len(eb.facts)}) "
                f"measured {outcome}")
    if not pat or rec is None or rec.empty or "title" not in rec.columns:
        return base + f", none on '{scope}'"
    hits = rec[rec["title"].fillna("").str.contains(pat, case=False, regex=True)]
    if hits.empty:
        return base + f"; no screened record is on '{scope}'"
    items = []
    for r in hits.to_dict("records"):
        why = str(r.get("exclusion_category") or "") or ("included" if str(r.get("included")) == "True" else "")
        items.append(f"{r['study_id']} ({str(r.get('design') or '').replace('_', ' ')}"
                     + (f"; screening: {why}" if why else "") + ")")
    return base + f"; {len(hits)} screened record(s) address it but were not appraised: " + "; ".join(items)


SAFETY_DIRECT_KEYS: dict[str, tuple[str, ...]] = {
    # what the claim denies -> the OCD harm keys that refute it
    "none": ("serious_adverse_events", "dropout_adverse_events", "dissociation", "any_adverse_events"),
    "few": ("serious_adverse_events", "dropout_adverse_events"),
}
SAFETY_DIRECT_RULE = ("rule: an absolute or near-absolute safety/tolerability claim is tested against the {condition} harm "
                      "reports first; label-level rates from other conditions are read only if no {condition} report bears on it")


def _condition_harm_items(claim: dict, eb: EvidenceBase, keys: tuple[str, ...]) -> list[SafetyItem]:
    """OCD harm reports (topic ocd_harms) of the given kinds in the claim's population, each graded on its own."""
    adolescent = subpopulation(eb, claim.get("test_population")) == "adolescent"
    out: list[SafetyItem] = []
    for key in keys:
        for it in _safety_items({**claim, "test_outcome": key, "scope": eb.topic.condition.code}, eb):
            fact = eb.facts[eb.facts["fact_id"] == it.fact_id]
            if fact.empty or fact.iloc[0]["topic"] != f"{eb.topic.condition.code}_harms" or it.fact_id in {o.fact_id for o in out}:
                continue
            if adolescent and not (it.study_id and eb.study(it.study_id).get("adolescent")):
                continue
            out.append(it)
    return out


MISUSE = r"misuse|abuse|addict|dependen"


def _misuse(claim: dict, eb: EvidenceBase) -> Verdict:
    """'Not addictive' / 'no risk of dependence' (test_outcome 'misuse'): OCD harm reports of misuse first,
    then regulatory records and safety facts that document misuse or abuse as a risk of ketamine."""
    harms = f"{eb.topic.condition.code}_harms"
    f = eb.facts[eb.facts["topic"].isin([harms, "safety", "regulatory"])
                 & eb.facts["statement"].str.contains(MISUSE, case=False, regex=True)]
    direct = f[f["topic"] == f"{eb.topic.condition.code}_harms"]
    if f.empty:
        return _mk("no_evidence", False, [], f"{SAFETY_DIRECT_RULE}. No {cond(eb)} report and no record of misuse or dependence")
    parts = "; ".join(f"{r.fact_id} ({r.design}): {r.statement[:140]}" for r in f.itertuples())
    head = (f"direct {cond(eb)} reports: {', '.join(direct['fact_id'])}" if not direct.empty
            else f"no {cond(eb)} study measured misuse or dependence")
    documentary = f["design"].isin(sorted(DOCUMENTARY_DESIGNS)).any()
    downs = [] if documentary else ["risk of bias: no control group (survey data)"]
    if claim.get("scope") == eb.topic.condition.code:
        downs.append(f"indirectness: records are not about people with {cond(eb)}")
    return _mk("contradicted", bool(documentary), downs, f"{SAFETY_DIRECT_RULE}. Claim: no risk of misuse or dependence; "
               f"{head}; misuse documented: {parts}", [s for s in f["study_id"] if s], f["fact_id"])


def rule_safety_direct(claim: dict, eb: EvidenceBase) -> Verdict:
    """Absolute or near-absolute safety claims ('no side effects', 'few side effects', 'well tolerated',
    'very safe', 'safe for teenagers'; claimed = 'none' or 'few'; test_population 'ocd_adolescent' for
    claims about young people), weighing the direct evidence first.

    Step 1, direct: OCD harm reports in the claim's population - for 'few': serious harms (psychosis,
    delayed suicidal thinking) and withdrawals for intolerance; for 'none': any adverse event as well.
    Any such report makes the claim not supported, and label-level rates from other conditions cannot
    outweigh it (they are listed as indirect). For 'none', high-certainty label rates of any adverse
    event then make it contradicted. Step 2, only when no OCD report bears on it: the label-level
    rates decide (rule_safety_rate with the claimed maximum: 0 for 'none', 5% for 'few')."""
    if claim["test_outcome"] == "misuse":
        return _misuse(claim, eb)
    what = (claim.get("claimed") or "few").strip().lower()
    what = what if what in SAFETY_DIRECT_KEYS else "few"
    maximum = "0" if what == "none" else "0.05"
    direct = _condition_harm_items(claim, eb, SAFETY_DIRECT_KEYS[what])
    label = rule_safety_rate({**claim, "claimed": maximum,
                              "test_outcome": "any_adverse_events" if what == "none" else claim["test_outcome"]}, eb)
    adolescent = subpopulation(eb, claim.get("test_population")) == "adolescent"
    who = f"adolescents with {cond(eb)}" if adolescent else f"people with {cond(eb)}"
    rule = SAFETY_DIRECT_RULE.format(condition=cond(eb))
    if not direct:
        label.reason = f"{rule}. No {cond(eb)} harm report in {who}; label-level: {label.reason}"
        return label
    parts = "; ".join(f"{it.text} [{it.certainty}]" for it in direct)
    downs = _merge_downs(direct)
    rct = any(it.rct for it in direct)
    level = grade(rct, downs)[0]
    verdict = "not_supported"
    tail = f" | label-level, indirect and not weighed against the direct reports: {label.verdict} ({label.reason[:300]})"
    if what == "none" and label.verdict == "contradicted":
        verdict, level, downs = "contradicted", label.certainty, downs + label.downgrades
        tail = f" | label-level rates agree that adverse events are common: {label.reason[:300]}"
    claim_txt = "no adverse events" if what == "none" else "adverse events rare / well tolerated"
    reason = f"{rule}. Claim: {claim_txt} in {who}. Direct {cond(eb)} reports: {parts}{tail}"
    studies = sorted({it.study_id for it in direct if it.study_id} | set(label.studies))
    facts = sorted({it.fact_id for it in direct} | set(label.facts))
    return apply_hierarchy(Verdict(verdict, level, reason, studies, facts, list(dict.fromkeys(downs))))
