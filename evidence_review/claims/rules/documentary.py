"""Rules answered by documents: regulatory records, study counts, registrations, the journal a page cites."""

from __future__ import annotations

import re

import pandas as pd

from evidence_review.claims.evidence_base import (
    RCT_DESIGNS,
    EvidenceBase,
)
from evidence_review.claims.rules.common import (
    Verdict,
    _claimed_float,
    _facts,
    _mk,
    _mk_facts,
    rct_breakdown,
    study_level,
    _num,
    _study_downgrades,
    cond,
    condition_studies,
)


def rule_regulatory(claim: dict, eb: EvidenceBase) -> Verdict:
    """The claim's regulatory fact (test_outcome) must have the value the claim states (claimed).

    A claim that says more than a regulatory record can show (test_outcome joins parts with '+', e.g.
    'anaesthetic_approval+anaesthetic_use_extent+anaesthetic_safety_profile') is at most partly
    supported: the approval documents that a drug may be used, not how widely or why, and each part no
    fact covers costs a level (indirectness) and is named in the reason."""
    parts = [p for p in str(claim["test_outcome"]).split("+") if p]
    key, rest = parts[0], parts[1:]
    f = _facts(eb, key=key)
    if f.empty:
        return _mk("no_evidence", False, [], f"no context fact with key '{key}'")
    rec = f.iloc[0]
    same = str(rec["value"]).strip().lower() == str(claim["claimed"]).strip().lower()
    extra = f" ({rec['value_low']} {rec['unit']})".replace(" )", ")") if rec["value_low"] else ""
    reason = (f"{rec['fact_id']}: {key} = {rec['value']}{extra}; claim says "
              f"{claim['claimed']} -> {'matches' if same else 'differs'}")
    covered = [r for p in rest for r in _facts(eb, key=p).to_dict("records")]
    missing = [p for p in rest if _facts(eb, key=p).empty]
    downs = []
    if missing:
        reason += (f"; the claim also asserts {', '.join(m.replace('_', ' ') for m in missing)}, which no regulatory "
                   f"record or other fact documents (an approval shows the drug may be used, not how widely or why)")
        downs.append(f"indirectness: {rec['fact_id']} documents {key.replace('_', ' ')} only, not "
                     f"{', '.join(m.replace('_', ' ') for m in missing)}")
    verdict = "contradicted" if not same else "partly_supported" if missing else "supported"
    return _mk_facts(verdict, [rec, *covered], downs, reason, facts=[rec["fact_id"], *(r["fact_id"] for r in covered)])


def _depression_trials(eb: EvidenceBase) -> pd.DataFrame:
    """One fact per randomized depression trial result (keys depression_*, onset summary excluded)."""
    f = eb.facts
    return f[(f["topic"] == "depression") & f["design"].isin(RCT_DESIGNS) & f["key"].str.startswith("depression_")
             & (f["key"] != "depression_onset")]


def rule_evidence_count(claim: dict, eb: EvidenceBase) -> Verdict:
    """Counts of studies: claimed N > 0 means 'at least N', N < 0 means 'at most |N| RCTs'."""
    n_claim = _claimed_float(claim)
    pop = claim.get("test_population") or eb.topic.condition.code
    if pop == "depression":
        f = _depression_trials(eb)
        k = len(f)
        v = "supported" if k >= n_claim else "not_supported"
        return _mk_facts(v, f, [], f"{k} randomized depression trials in the context facts (claim: >= {n_claim:g})",
                   facts=f["fact_id"])
    st = condition_studies(eb)
    per_study = study_level(eb, st.index)
    rcts, rct_text = rct_breakdown(eb, st.index)
    by_design = per_study["design"].value_counts().sort_index()
    breakdown = ", ".join(f"{d} {c}" for d, c in by_design.items())
    head = f"{len(per_study)} {cond(eb)} clinical studies in {len(st)} reports ({breakdown})"
    if n_claim < 0:
        v = "supported" if len(rcts) <= -n_claim else "not_supported"
        reason = f"{rct_text}, among {head}; claim: at most {-n_claim:g}"
    else:
        v = "supported" if len(per_study) >= n_claim else "not_supported"
        reason = f"{head}, {rct_text}; claim: at least {n_claim:g}"
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


def _journal_key(name: str, aliases: dict[str, str]) -> str:
    """A journal name reduced to lower-case words, then to its PubMed abbreviation where the topic knows it."""
    n = re.sub(r"[^a-z ]", " ", name.lower())
    n = re.sub(r"\s+", " ", n).strip()
    return aliases.get(n, n)


def rule_citation(claim: dict, eb: EvidenceBase) -> Verdict:
    """Does a study in the cited journal exist in the evidence, with the design the clinic describes?
    claimed = 'Journal|feature' (feature: single_infusion or infusion)."""
    journal, _, feature = (claim.get("claimed") or "").partition("|")
    aliases = eb.topic.vocab("journal_aliases")
    key = _journal_key(journal, aliases)
    st = eb.studies[eb.studies["journal"].fillna("").map(lambda j: _journal_key(j, aliases).startswith(key))]
    facts = eb.facts[(eb.facts["topic"] == "citation") & (eb.facts["key"].map(lambda k: _journal_key(k, aliases)) == key)]
    others = eb.facts[(eb.facts["topic"] == "citation") & (eb.facts["key"].map(lambda k: _journal_key(k, aliases)) != key)]
    want_single = feature == "single_infusion"
    if not st.empty:
        ids = list(st.index)
        rct, downs = _study_downgrades(eb, ids)
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
        return _mk_facts("contradicted", [rec], ["indirectness: checked against abstracts and summaries, not full text"],
                   f"{rec['fact_id']}: the {journal} trial gave {found:g} infusions (n={rec['n']}), not one{alt_txt}",
                   facts=[rec["fact_id"]] + list(alt["fact_id"]))
    return _mk_facts("supported", [rec], [], f"{rec['fact_id']}: matches ({rec['statement']})", facts=[rec["fact_id"]])
