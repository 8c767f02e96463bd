"""Rules answered by context facts about other conditions (the topic's context conditions) and mechanism."""

from __future__ import annotations

import re

from evidence_review.claims.evidence_base import (
    EvidenceBase,
)
from evidence_review.claims.rules.common import (
    LARGE_EFFECT,
    LEVELS,
    NEVER,
    OPTIMAL_N,
    Verdict,
    _ctx_num,
    _k_of,
    _mk,
    _mk_facts,
    fact_start,
    grade_from,
    _num,
    _study_downgrades,
    _window,
    cond,
)
from evidence_review.claims.rules.documentary import _depression_trials
from evidence_review.claims.rules.efficacy import rule_onset


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
        return _mk_facts("supported", ph, [], f"{rec['fact_id']}: {claim['test_outcome']} is established pharmacology, "
                   f"recorded in {len(sources)} indexed sources ({rec['source']})", facts=[rec["fact_id"]])
    pat = eb.topic.vocab("mechanism_measures").get(claim["test_outcome"]) or NEVER
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
        human = eb.studies.index[eb.studies["record_type"] == "study"]
        n, k = len(human), _k_of(eb, human)  # reports and the studies they describe
        return _mk("no_evidence", False, [], f"none of {k} human studies ({n} reports, all in {cond(eb)}) measured {claim['test_outcome']}, "
                   f"and no pharmacology fact covers it")
    ids = list(dict.fromkeys(h[0] for h in hits))
    rct, downs = _study_downgrades(eb, ids)
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



def rule_context_efficacy(claim: dict, eb: EvidenceBase) -> Verdict:
    """Depression / PTSD efficacy from the context facts (claimed: depression | ptsd | ptsd:large | ptsd_tr)."""
    what, *others = (claim.get("claimed") or "").split("+")
    indirect = [f"indirectness: claim is about {cond(eb)}, evidence about " + what.split(":")[0]] if claim.get("scope") == eb.topic.condition.code else []
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
        return _mk_facts(v, pos + nul, downs, f"{len(pos)} positive, {len(nul)} null depression RCTs: {reason}",
                         facts=[r["fact_id"] for r in pos + nul])
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
            return _mk_facts(v, used, downs, "treatment-resistant PTSD: " + "; ".join(parts), facts=[r["fact_id"] for r in used])
        if what == "ptsd:large":
            v = "supported" if g is not None and g >= LARGE_EFFECT and not large_null else "not_supported"
            parts.append(f"a large benefit needs pooled g >= {LARGE_EFFECT:g}")
        else:
            sig = g_lo is not None and g_lo > 0
            v = "supported" if sig and not large_null else "partly_supported" if sig or rep else "not_supported"
        return _mk_facts(v, used, downs, "; ".join(parts), facts=[r["fact_id"] for r in used])
    return _mk("no_evidence", False, [], f"no context facts for '{what}'")


def rule_context_onset(claim: dict, eb: EvidenceBase) -> Verdict:
    """Onset in depression (hours to first effect) or PTSD (24-h results) from the context facts."""
    win = _window(claim.get("test_timepoint") or "") or ("<=", 24.0)
    what, *others = (claim.get("claimed") or "").split("+")
    if others:  # 'various conditions': the first topic, then each other condition in turn
        v = rule_context_onset({**claim, "claimed": what}, eb)
        extra = [rule_onset({**claim, "test_population": o}, eb) if o == eb.topic.condition.code else
                 rule_context_onset({**claim, "claimed": o}, eb) for o in others]
        if v.verdict == "supported" and any(e.verdict != "supported" for e in extra):
            v.verdict = "partly_supported"
        v.reason += " | " + " | ".join(f"{o}: {e.verdict} ({e.reason[:160]})" for o, e in zip(others, extra))
        v.studies = sorted(set(v.studies).union(*[e.studies for e in extra]))
        v.facts = sorted(set(v.facts).union(*[e.facts for e in extra]))
        v.downgrades = list(dict.fromkeys(v.downgrades + [d for e in extra for d in e.downgrades]))
        v.certainty = grade_from(fact_start(eb.facts[eb.facts["fact_id"].isin(v.facts)]), v.downgrades)[0]
        return v
    if what == "depression":
        f = _ctx_num(eb, "depression_onset")
        if not f:
            return _mk("no_evidence", False, [], "no depression onset fact")
        first = _num(f[0]["value_low"])
        v = "supported" if first is not None and first <= win[1] else "not_supported"
        return _mk_facts(v, f[:1], [], f"{f[0]['fact_id']}: first effect ~{f[0]['value_low']} h, peak {f[0]['value']} h, fades by {f[0]['value_high']} h; claim: within {win[1]:g} h",
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
    return _mk_facts(v, single + meta24, downs, "; ".join(parts), facts=[r["fact_id"] for r in single + meta24])


def rule_context_durability(claim: dict, eb: EvidenceBase) -> Verdict:
    """How long a single PTSD infusion was followed vs the duration claimed."""
    win = _window(claim.get("test_timepoint") or "") or (">=", 336.0)
    f = _ctx_num(eb, "ptsd_single_infusion_followup")
    if not f:
        return _mk("no_evidence", False, [], "no follow-up fact for single-infusion PTSD trials")
    longest = _num(f[0]["value"]) or 0
    v = "supported" if longest >= win[1] else "not_supported"
    return _mk_facts(v, f[:1], [f"imprecision: single trial n={f[0]['n']}"],
               f"{f[0]['fact_id']}: single-infusion follow-up {longest:g} h vs claimed {win[1]:g} h", facts=[f[0]["fact_id"]])
