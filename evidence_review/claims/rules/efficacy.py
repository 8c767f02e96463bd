"""Rules about benefit in the review's condition: efficacy, onset, durability, relapse, comparisons, infusions to response."""

from __future__ import annotations

import math

import pandas as pd

from evidence_review.claims.evidence_base import (
    CONTROLLED_DESIGNS,
    EvidenceBase,
)
from evidence_review.claims.rules.common import (
    ACUTE_HOURS,
    NEVER,
    OPTIMAL_N,
    Verdict,
    _claimed_float,
    _ctx_num,
    _describe,
    _facts,
    _isnan,
    _mk,
    _k_of,
    _mk_facts,
    _num,
    _study_downgrades,
    _window,
    cond,
    condition_findings,
    condition_studies,
)
from evidence_review.claims.rules.responders import (
    _units_text,
    responder_summary,
    share_verdict,
)


def rule_efficacy(claim: dict, eb: EvidenceBase) -> Verdict:
    """Responders / symptom change in the claim's OCD population.

    claimed = the responder share the claim implies (0 = 'can help').
    claimed > 0: contradicted if the pooled responder share's 95% upper bound is below it, not
    supported if the point estimate is below it, else supported (needs a significant controlled
    result) or partly supported. claimed = 0: supported if a controlled comparison is significant
    and no study is null; partly supported if some study shows benefit; else not supported.
    claimed = 'some' ('in some patients'): a significant controlled result is enough for supported."""
    pop = claim.get("test_population") or eb.topic.condition.code
    f = condition_findings(eb, pop)
    win = _window(claim.get("test_timepoint") or "")
    if win and win[0] == "<=" and not f.empty:
        f = f[f["hours"].fillna(math.inf) <= win[1]]
    if f.empty:
        return _mk("no_evidence", False, [], f"no extracted {cond(eb)} outcome for population '{pop}'")
    ids = list(dict.fromkeys(f["study_id"]))
    ctrl_pos = f[f["controlled"] & (f["favours"] == True) & (f["significant"] == True)]  # noqa: E712
    fav_any = f[f["favours"] == True]  # noqa: E712
    null = f[f["favours"] == False]  # noqa: E712
    null_studies = sorted(set(null["study_id"]) - set(fav_any["study_id"]))
    units, notes = responder_summary(eb, f)
    some = (claim.get("claimed") or "").strip() == "some"
    c = 0.0 if some else _claimed_float(claim)
    rct, downs = _study_downgrades(eb, ids)
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
    pop = claim.get("test_population") or eb.topic.condition.code
    f_all = condition_findings(eb, pop)
    f = f_all[f_all["hours_from"].fillna(math.inf) <= win[1]] if not f_all.empty else f_all
    if f.empty:
        earliest = f_all["hours"].min() if not f_all.empty else None
        tail = f"; earliest {cond(eb)} measurement at {earliest:g} h" if earliest is not None and not _isnan(earliest) else ""
        return _mk("no_evidence", False, [], f"no {cond(eb)} outcome measured within {win[1]:g} h{tail}")
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
    rct, downs = _study_downgrades(eb, ids)
    if null_studies and not fav.empty:
        downs.append(f"inconsistency: {null_phrase} in {', '.join(null_studies)}")
    return ids, ctrl_pos, fav, null_studies, rct, downs


def rule_durability(claim: dict, eb: EvidenceBase) -> Verdict:
    """Benefit still present at or beyond the claimed duration (test_timepoint '>=Xh').

    claimed = 0 ('some patients'): uncontrolled reports of lasting benefit give partly supported.
    claimed > 0 (a general promise): only a significant controlled result at that time supports it."""
    win = _window(claim.get("test_timepoint") or "") or (">=", 336.0)
    pop = claim.get("test_population") or eb.topic.condition.code
    f_all = condition_findings(eb, pop)
    if f_all.empty:
        return _mk("no_evidence", False, [], f"no extracted {cond(eb)} outcome for population '{pop}'")
    ctrl_fav_all = f_all[f_all["controlled"] & (f_all["favours"] == True)]  # noqa: E712
    longest = ctrl_fav_all["hours"].max() if not ctrl_fav_all.empty else None
    longest_txt = (f"longest controlled follow-up showing benefit: {longest:g} h"
                   if longest is not None and not _isnan(longest) else "no controlled follow-up showing benefit")
    f = f_all[f_all["hours"].fillna(-1) >= win[1]]
    c = _claimed_float(claim)
    if f.empty:
        ids = list(dict.fromkeys(ctrl_fav_all["study_id"]))
        rct, downs = _study_downgrades(eb, ids)
        return _mk("not_supported", rct, downs, f"no {cond(eb)} outcome measured at >= {win[1]:g} h; {longest_txt}", ids)
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
    f = condition_findings(eb)
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
        rct, downs = _study_downgrades(eb, ids)
        return _mk("supported", rct, downs, f"no lasting {cond(eb)} benefit at >= 1 week: " +
                   "; ".join(f"{s}: {t}" for s, t in lost) + (f" | {fact_txt}" if fact_txt else ""),
                   ids, facts["fact_id"])
    if not facts.empty:
        return _mk_facts("partly_supported", facts, ["indirectness: depression/PTSD data"], fact_txt, facts=facts["fact_id"])
    return _mk("no_evidence", False, [], f"no {cond(eb)} or context data on loss of benefit")


def rule_population_compare(claim: dict, eb: EvidenceBase) -> Verdict:
    """'Particularly in treatment-resistant cases': responder shares (topic definition, one per study
    and timepoint, never summed) of treatment-resistant vs other OCD studies. Supported if every
    treatment-resistant share is above every other one, contradicted if every one is below, else not
    supported (the ranges overlap: no consistent difference)."""
    tr, tr_notes = responder_summary(eb, condition_findings(eb, "tr"))
    other, ot_notes = responder_summary(eb, condition_findings(eb, "non_tr"))
    iocdf = _facts(eb, key="iocdf_position")
    if not tr or not other:
        return _mk("no_evidence", False, [], f"responder data: {len(tr)} treatment-resistant, {len(other)} other units")
    ids = sorted({s for u in tr + other for s in u.studies})
    rct, downs = _study_downgrades(eb, ids)
    downs.append("indirectness: comparison across studies, not within one trial")
    lo_tr, hi_tr = min(u.share for u in tr), max(u.share for u in tr)
    lo_ot, hi_ot = min(u.share for u in other), max(u.share for u in other)
    v = "supported" if lo_tr > hi_ot else "contradicted" if hi_tr < lo_ot else "not_supported"
    reason = (f"treatment-resistant {lo_tr:.0%}-{hi_tr:.0%}: {_units_text(tr, tr_notes)} || other {cond(eb)} "
              f"{lo_ot:.0%}-{hi_ot:.0%}: {_units_text(other, ot_notes)}")
    if not iocdf.empty:
        reason += f" | {iocdf.iloc[0]['fact_id']}: {iocdf.iloc[0]['statement']}"
    return _mk(v, rct, downs, reason, ids, iocdf["fact_id"])




def rule_comparative(claim: dict, eb: EvidenceBase) -> Verdict:
    """'Better than X' needs a controlled comparison against X; uncontrolled use is listed, not counted."""
    comp = claim.get("claimed") or ""
    pat_ctrl, pat_conc = [p or NEVER for p in eb.topic.vocab("comparators").get(comp, ("", ""))]
    st = condition_studies(eb)
    ctrl = st[st["design"].isin(CONTROLLED_DESIGNS) & st["control"].fillna("").str.contains(pat_ctrl, case=False, regex=True)]
    unc = st[st["concomitant"].fillna("").str.contains(pat_conc, case=False, regex=True)]
    n_ctrl = _k_of(eb, st[st["design"].isin(CONTROLLED_DESIGNS)].index)
    reason = (f"{_k_of(eb, ctrl.index)} of {n_ctrl} controlled {cond(eb)} studies compare against '{comp}'; "
              f"{len(unc)} uncontrolled report(s) used it ({', '.join(unc.index) or '-'})")
    if ctrl.empty:
        return _mk("no_evidence", False, [], reason, list(unc.index))
    rct, downs = _study_downgrades(eb, list(ctrl.index))
    return _mk("partly_supported", rct, downs, reason, list(ctrl.index))


def rule_infusions_to_response(claim: dict, eb: EvidenceBase) -> Verdict:
    """'After N infusions (nearly) everyone knows': not supported when responders needed a median of
    more than N infusions (then at least half of the eventual responders had not responded by N)."""
    n_claim = _claimed_float(claim, 2)
    f = _ctx_num(eb, "infusions_to_response")
    if not f:
        return _mk("no_evidence", False, [], "no data on the number of infusions before response")
    med = _num(f[0]["value"])
    v = "not_supported" if med is not None and med > n_claim else "supported"
    downs = [f"indirectness: depression data for an {cond(eb)} claim"] if claim.get("scope") == eb.topic.condition.code else []
    if f[0]["n"] and float(f[0]["n"]) < OPTIMAL_N:
        downs.append(f"imprecision: n={f[0]['n']}")
    size = f"n={f[0]['n']}" if f[0]["n"] else "size not given"
    return _mk_facts(v, f[:1], downs, f"{f[0]['fact_id']}: median {med:g} infusions to response ({size}) vs claimed {n_claim:g}; "
               f"0 {cond(eb)} studies report response by infusion number", facts=[f[0]["fact_id"]])


def rule_null_results(claim: dict, eb: EvidenceBase) -> Verdict:
    """'It does not work for everyone' / 'a study found no response': supported when OCD studies report
    outcomes without benefit (favours = False), listed by study; not supported when every OCD finding
    favours ketamine."""
    f = condition_findings(eb, claim.get("test_population") or eb.topic.condition.code)
    if f.empty:
        return _mk("no_evidence", False, [], f"no extracted {cond(eb)} outcome")
    null = f[f["favours"] == False]  # noqa: E712
    ids = list(dict.fromkeys(null["study_id"]))
    rct, downs = _study_downgrades(eb, ids or list(dict.fromkeys(f["study_id"])))
    if null.empty:
        return _mk("not_supported", rct, downs, f"all {len(f)} {cond(eb)} findings favour {eb.topic.intervention_label}: {_describe(eb, f)}",
                   list(dict.fromkeys(f["study_id"])))
    return _mk("supported", rct, downs, f"{cond(eb)} outcomes without benefit: {_describe(eb, null)}", ids)
