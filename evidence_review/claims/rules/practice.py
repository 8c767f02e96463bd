"""Rules about how treatment is given: protocol, crisis use, practice standards; and the not-testable rule."""

from __future__ import annotations

import re

import pandas as pd

from evidence_review.claims.evidence_base import (
    CONTROLLED_DESIGNS,
    RCT_DESIGNS,
    EvidenceBase,
)
from evidence_review.claims.rules.common import (
    LEVELS,
    NEVER,
    Verdict,
    _mk,
    _group_of,
    _k_of,
    _n_of,
    _study_downgrades,
    apply_hierarchy,
    cond,
    condition_studies,
    evidence_scope,
    grade,
)


SCHEDULE_FEATURES = frozenset({"six_infusion_course", "twice_weekly", "taper_schedule", "maintenance_schedule",
                               "monthly_maintenance", "repeated_course"})
SCHEDULE_RULE = "rule: a schedule needs a study of {condition} (more than one participant) that used it"


def rule_protocol(claim: dict, eb: EvidenceBase) -> Verdict:
    """A way of giving ketamine (test_outcome = feature) is 'studied' if trials used it: controlled
    OCD studies -> supported; only uncontrolled OCD reports or other conditions -> partly supported.

    Schedules (how often, how many, maintenance; :data:`SCHEDULE_FEATURES`) need an OCD study behind
    them: a schedule tried only in single-case reports, or only in depression/PTSD trials, is
    ``no_evidence`` (the reason lists what was seen) - one case is not evidence that a schedule works."""
    feature = claim["test_outcome"]
    st = condition_studies(eb)
    text = (st["route"].fillna("") + " | " + st["dose"].fillna("") + " | " + st["infusion_duration"].fillna("") +
            " | " + st["n_infusions"].fillna("") + " | " + st["spacing"].fillna(""))
    if feature == "routes_iv_im_in":
        hits = {name: st[st["route"].str.contains(pat, case=False, regex=True)].index.tolist()
                for name, pat in (("IV", r"\bIV\b|intravenous"), ("IM", r"\bIM\b|intramuscular"), ("intranasal", r"intranasal"))}
        ids = sorted({s for v in hits.values() for s in v})
        found = {k: len(v) for k, v in hits.items()}
        v = "supported" if all(found.values()) else "partly_supported" if any(found.values()) else "no_evidence"
        rct, downs = _study_downgrades(eb, ids)
        return _mk(v, rct, [d for d in downs if not d.startswith("indirectness")],
                   f"{cond(eb)} studies by route: " + ", ".join(f"{k} {n}" for k, n in found.items()), ids)
    features = eb.topic.vocab("protocol_features")
    if feature not in features:
        return _mk("no_evidence", False, [], f"no protocol feature '{feature}' defined")
    pat_study, pat_fact = [p or NEVER for p in features[feature]]
    mask = pd.Series([bool(re.search(pat_study, t, re.IGNORECASE | re.MULTILINE)) for t in text], index=st.index, dtype=bool)
    using = st[mask]
    ctrl = using[using["design"].isin(CONTROLLED_DESIGNS)]
    ctx = eb.facts[eb.facts["topic"].isin(list(eb.topic.context.conditions)) & eb.facts["statement"].str.contains(pat_fact, case=False, regex=True)]
    ids = list(using.index)
    # reports from inside a controlled study (a case from the trial) are that study, not an uncontrolled one
    ctrl_groups = {_group_of(eb, s) for s in ctrl.index}
    unc = sorted(s for s in set(using.index) - set(ctrl.index) if _group_of(eb, s) not in ctrl_groups)
    k_ctrl = _k_of(eb, ctrl.index)
    reason = (f"{feature}: {k_ctrl} controlled {cond(eb)} stud{'y' if k_ctrl == 1 else 'ies'} "
              f"({', '.join(ctrl.index) or '-'}), {_k_of(eb, unc)} uncontrolled "
              f"({', '.join(unc) or '-'}), "
              f"{len(ctx)} depression/PTSD fact(s) ({', '.join(ctx['fact_id']) or '-'}) of {_k_of(eb, st.index)} {cond(eb)} studies")
    if feature in SCHEDULE_FEATURES:
        cases = [s for s in using.index if using.at[s, "design"] == "case_report" or (_n_of(eb, [s]) or 0) <= 1]
        if len(cases) == len(using):
            what = (f"only single-case report(s) ({', '.join(cases)}) used it" if cases else f"no {cond(eb)} study used it")
            ctx_txt = f"; depression/PTSD trials listed, not counted ({', '.join(ctx['fact_id'])})" if not ctx.empty else ""
            return _mk("no_evidence", False, [], f"{SCHEDULE_RULE.format(condition=cond(eb))}: {what}{ctx_txt} | {reason}", ids, ctx["fact_id"])
        reason = f"{SCHEDULE_RULE.format(condition=cond(eb))} | {reason}"
    if not ctrl.empty:
        rct, downs = _study_downgrades(eb, list(ctrl.index))
        return _mk("supported", rct, [d for d in downs if not d.startswith("indirectness")], reason, ids, ctx["fact_id"])
    if not using.empty or not ctx.empty:
        rct, downs = _study_downgrades(eb, ids) if ids else (any(d in RCT_DESIGNS for d in ctx["design"]), [])
        if using.empty:
            downs.append("indirectness: schedule studied only in depression/PTSD")
        return _mk("partly_supported", rct, downs, reason, ids, ctx["fact_id"])
    return _mk("no_evidence", False, [], reason)


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
    st = condition_studies(eb)
    population = st["population"] if "population" in st.columns else pd.Series("", index=st.index, dtype=str)
    in_crisis = st[population.fillna("").astype(str).str.contains(pat, case=False, regex=True)]
    harm = f[(f["topic"] == f"{eb.topic.condition.code}_harms") & f["statement"].str.contains(pat, case=False, regex=True)]
    if appr.empty:
        return _mk("no_evidence", False, [], f"no approval or trial for a '{pat}' crisis population among {len(f)} facts; "
                   f"{len(in_crisis)} {cond(eb)} studies enrolled such patients")
    scope = evidence_scope(claim, eb)
    downs = []
    indirect = []
    for r in appr.itertuples():
        if scope not in r.statement.lower() and not (scope == "depression" and "depress" in r.statement.lower()):
            indirect.append(f"{r.fact_id} concerns {'depression' if 'depress' in r.statement.lower() else 'another condition'}, "
                            f"not {scope}")
        indirect += [f"{r.fact_id} concerns {why}" for form, why in eb.topic.indirect_forms.items()
                     if form.lower() in r.statement.lower()]
    if indirect:
        downs.append("indirectness: " + "; ".join(indirect))
    if not harm.empty:
        downs.append(f"inconsistency: {cond(eb)} reports of the same crisis after {eb.topic.intervention_label} (" + ", ".join(harm["fact_id"]) + ")")
    parts = [f"{r.fact_id}: approved = {r.value}" for r in appr.itertuples()]
    parts += [f"{s}: {cond(eb)} {st.at[s, 'design']} (n={_n_of(eb, [s])}) in such patients" for s in in_crisis.index]
    parts += [f"{r.fact_id}: {r.numerator}/{r.denominator} ({r.study_id})" for r in harm.itertuples()]
    return _mk("partly_supported", True, downs, "crisis population '" + pat + "': " + "; ".join(parts),
               list(in_crisis.index) + [s for s in harm["study_id"] if s], list(appr["fact_id"]) + list(harm["fact_id"]))


def _practice_grade(claim: dict, rec: dict, eb: EvidenceBase) -> tuple[str, list[str]]:
    """One guidance source's certainty: guidance and expert opinion start low; a level is lost when the
    source was seen only in a secondary summary (design ``*_secondary``), and for indirectness when it
    concerns esketamine, or depression/mood disorders for an OCD or PTSD claim."""
    downs = []
    fid = rec["fact_id"]
    if str(rec["design"]).endswith("_secondary"):
        downs.append(f"risk of bias: seen only in a secondary summary, not checked against the source ({fid})")
    text = str(rec["statement"]).lower()
    indirect = []
    indirect += [why for form, why in eb.topic.indirect_forms.items() if form.lower() in text]
    if claim.get("scope") not in ("depression", "general") and re.search(r"depress|mood", text):
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
    graded = [(r, *_practice_grade(claim, r, eb)) for r in expected + against]
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
