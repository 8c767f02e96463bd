"""Verdict rules on small synthetic evidence tables: each rule, and each flipping when the numbers do."""

from __future__ import annotations

import pandas as pd
import pytest

from evidence_review import verdicts
from evidence_review.evidence_base import FACT_COLUMNS, FINDING_COLUMNS, EvidenceBase
from evidence_review.errors import EvidenceReviewError

STUDY_COLS = ("study_id", "record_type", "design", "n", "n_randomized", "n_analyzed", "included", "treatment_resistant",
              "adolescent", "drug", "dose", "route", "infusion_duration", "n_infusions", "spacing", "concomitant",
              "control", "adverse_events", "results_text", "journal", "registry_status")


def study(sid: str, design: str = "rct_parallel", n: int = 40, **kw) -> dict:
    base = dict(study_id=sid, record_type="study", design=design, n=n, n_randomized=n, n_analyzed=n, included=True,
                treatment_resistant=False, adolescent=False, drug="ketamine", dose="0.5 mg/kg", route="IV",
                infusion_duration="40 min", n_infusions="1", spacing="", concomitant="", control="saline",
                adverse_events="", results_text="", journal="Some J", registry_status="")
    base.update(kw)
    return base


def finding(sid: str, hours: float, favours: bool | None, significant: bool | None = None, controlled: bool = True,
            k_events: float | None = None, k_n: float | None = None, outcome: str = "Y-BOCS response", **kw) -> dict:
    f = {c: None for c in FINDING_COLUMNS}
    f.update(study_id=sid, comparison_id=f"{sid}:{hours}", outcome=outcome, timepoint=f"{hours} h", hours=hours,
             hours_from=kw.pop("hours_from", hours), controlled=controlled, favours=favours, significant=significant,
             kind="responders" if k_n else "statistic", k_events=k_events, k_n=k_n, threshold=35,
             summary=f"{sid} at {hours} h", source="PMID:1 abstract")
    f.update(kw)
    return f


def fact(fact_id: str, topic: str, key: str, value: str = "", **kw) -> dict:
    f = {c: "" for c in FACT_COLUMNS}
    f.update(fact_id=fact_id, topic=topic, key=key, value=value, statement=f"{key} {value}", source="src")
    f.update({k: str(v) for k, v in kw.items()})
    return f


def eb(studies: list[dict] = (), findings: list[dict] = (), facts: list[dict] = ()) -> EvidenceBase:
    st = pd.DataFrame(list(studies), columns=STUDY_COLS)
    st.index = st["study_id"]
    st.index.name = None
    fi = pd.DataFrame(list(findings), columns=FINDING_COLUMNS)
    fa = pd.DataFrame(list(facts), columns=FACT_COLUMNS).fillna("")
    return EvidenceBase(studies=st, findings=fi, facts=fa, known_ids=frozenset(st.index))


def claim(rule: str, **kw) -> dict:
    base = dict(claim_id="S000-01", rule=rule, test_outcome="", test_timepoint="", test_population="ocd", claimed="",
                scope="ocd", seed_file="x.txt", quote="q", category="efficacy")
    base.update(kw)
    return base


# ------------------------------------------------------------------------------------- certainty

def test_grade_starts_high_for_rct_low_otherwise_and_drops_per_downgrade() -> None:
    assert verdicts.grade(True, []) == ("high", [])
    assert verdicts.grade(True, ["imprecision: n=10"])[0] == "moderate"
    assert verdicts.grade(False, [])[0] == "low"
    assert verdicts.grade(False, ["a", "b"])[0] == "very_low"  # floored
    assert verdicts.grade(True, ["a", "", "b", "c"])[0] == "very_low"


def test_small_crossover_rct_loses_two_levels() -> None:
    e = eb([study("x", "rct_crossover", 15)], [finding("x", 168, True, True)])
    v = verdicts.rule_efficacy(claim("efficacy", claimed="0"), e)
    assert v.certainty == "low"
    assert any(d.startswith("risk of bias: crossover") for d in v.downgrades)
    assert any(d.startswith("imprecision: total n=15") for d in v.downgrades)
    e = eb([study("x", "rct_parallel", 400)], [finding("x", 168, True, True)])
    assert verdicts.rule_efficacy(claim("efficacy", claimed="0"), e).certainty == "high"


# ----------------------------------------------------------------------------------------- rules

def test_regulatory_matches_or_contradicts() -> None:
    facts = [fact("reg", "regulatory", "fda_approved_ocd", "no")]
    assert verdicts.rule_regulatory(claim("regulatory", test_outcome="fda_approved_ocd", claimed="no"), eb(facts=facts)).verdict == "supported"
    v = verdicts.rule_regulatory(claim("regulatory", test_outcome="fda_approved_ocd", claimed="yes"), eb(facts=facts))
    assert v.verdict == "contradicted" and v.facts == ["reg"]
    assert verdicts.rule_regulatory(claim("regulatory", test_outcome="other", claimed="yes"), eb(facts=facts)).verdict == "no_evidence"


def test_efficacy_share_claim_flips_with_responder_counts() -> None:
    studies = [study("a", "rct_parallel", 20), study("b", "open_label_single_arm", 20)]
    low = [finding("a", 168, True, True, k_events=2, k_n=10), finding("b", 72, False, None, False, k_events=0, k_n=10)]
    v = verdicts.rule_efficacy(claim("efficacy", claimed="0.5"), eb(studies, low))
    assert v.verdict == "contradicted"          # 2/20 = 10%, upper bound < 50%
    assert "2/20" in v.reason and set(v.studies) == {"a", "b"}
    high = [finding("a", 168, True, True, k_events=9, k_n=10), finding("b", 72, True, None, False, k_events=8, k_n=10)]
    assert verdicts.rule_efficacy(claim("efficacy", claimed="0.5"), eb(studies, high)).verdict == "supported"
    mid = [finding("a", 168, True, True, k_events=4, k_n=10), finding("b", 72, True, None, False, k_events=4, k_n=10)]
    assert verdicts.rule_efficacy(claim("efficacy", claimed="0.5"), eb(studies, mid)).verdict == "not_supported"


def test_efficacy_can_help_is_partly_supported_when_a_study_is_null() -> None:
    studies = [study("a", "rct_parallel", 20), study("b", "open_label_single_arm", 10)]
    mixed = [finding("a", 2, True, True), finding("b", 72, False, None, False, k_events=0, k_n=10)]
    v = verdicts.rule_efficacy(claim("efficacy", claimed="0"), eb(studies, mixed))
    assert v.verdict == "partly_supported"
    assert any(d.startswith("inconsistency") for d in v.downgrades)
    assert verdicts.rule_efficacy(claim("efficacy", claimed="0"), eb(studies, mixed[:1])).verdict == "supported"
    nulls = [finding("a", 2, False, False), mixed[1]]
    assert verdicts.rule_efficacy(claim("efficacy", claimed="0"), eb(studies, nulls)).verdict == "not_supported"
    assert verdicts.rule_efficacy(claim("efficacy", claimed="0"), eb(studies, [])).verdict == "no_evidence"


def test_efficacy_in_some_patients_is_not_refuted_by_null_studies() -> None:
    studies = [study("a", "rct_parallel", 20), study("b", "open_label_single_arm", 10)]
    mixed = [finding("a", 2, True, True), finding("b", 72, False, None, False, k_events=0, k_n=10)]
    assert verdicts.rule_efficacy(claim("efficacy", claimed="some"), eb(studies, mixed)).verdict == "supported"
    only_unc = [finding("b", 72, True, None, False, k_events=3, k_n=10)]
    assert verdicts.rule_efficacy(claim("efficacy", claimed="some"), eb(studies, only_unc)).verdict == "partly_supported"


def test_claim_naming_conditions_without_evidence_is_capped() -> None:
    deps = [fact(f"d{i}", "depression", f"depression_t{i}", "5", n="50", design="rct_parallel") for i in range(2)]
    c = claim("context_efficacy", claimed="depression", scope="depression")
    assert verdicts.rule_context_efficacy(c, eb(facts=deps)).verdict == "supported"
    v = verdicts.rule_context_efficacy({**c, "claimed": "depression+bipolar"}, eb(facts=deps))
    assert v.verdict == "partly_supported" and "0 facts or studies on: bipolar" in v.reason


def test_efficacy_population_filter_uses_treatment_resistance() -> None:
    studies = [study("tr", "open_label_single_arm", 10, treatment_resistant=True), study("naive", "rct_parallel", 10)]
    f = [finding("tr", 72, False, None, False, k_events=0, k_n=10), finding("naive", 168, True, True, k_events=5, k_n=10)]
    v = verdicts.rule_efficacy(claim("efficacy", claimed="0", test_population="ocd_tr"), eb(studies, f))
    assert v.verdict == "not_supported" and v.studies == ["tr"]


def test_onset_window_counts_only_measurements_inside_it() -> None:
    studies = [study("a", "rct_crossover", 15), study("b", "open_label_single_arm", 10)]
    f = [finding("a", 0.67, True, True), finding("b", 72, False, None, False, hours_from=24)]
    assert verdicts.rule_onset(claim("onset", test_timepoint="<=1h"), eb(studies, f)).verdict == "partly_supported"
    assert verdicts.rule_onset(claim("onset", test_timepoint="<=1h"), eb(studies, f[:1])).verdict == "supported"
    late_null = [f[0], finding("b", 336, False, None, False)]  # no benefit at 2 weeks says nothing about onset
    assert verdicts.rule_onset(claim("onset", test_timepoint="<=1h"), eb(studies, late_null)).verdict == "supported"
    assert verdicts.rule_onset(claim("onset", test_timepoint="<=24h"), eb(studies, f)).verdict == "partly_supported"
    assert verdicts.rule_onset(claim("onset", test_timepoint="<=1h"), eb(studies, f[1:])).verdict == "no_evidence"


def test_durability_needs_controlled_evidence_for_general_promises() -> None:
    studies = [study("rct", "rct_parallel", 30), study("case", "case_report", 1)]
    f = [finding("rct", 168, True, True), finding("case", 2016, True, None, False)]
    some = verdicts.rule_durability(claim("durability", test_timepoint=">=336h", claimed="0"), eb(studies, f))
    assert some.verdict == "partly_supported" and "168 h" in some.reason
    general = verdicts.rule_durability(claim("durability", test_timepoint=">=336h", claimed="0.5"), eb(studies, f))
    assert general.verdict == "not_supported"
    f2 = f + [finding("rct", 504, True, True)]
    assert verdicts.rule_durability(claim("durability", test_timepoint=">=336h", claimed="0.5"), eb(studies, f2)).verdict == "supported"


def test_safety_rate_flips_with_event_counts() -> None:
    def run(num: int, den: int, allowed: str) -> str:
        facts = [fact("h", "ocd_harms", "serious_adverse_events", numerator=num, denominator=den, study_id="s")]
        return verdicts.rule_safety_rate(claim("safety_rate", test_outcome="serious_adverse_events", claimed=allowed),
                                         eb([study("s", "case_series", den)], facts=facts)).verdict
    assert run(0, 200, "0.05") == "supported"
    assert run(2, 12, "0.05") == "not_supported"     # 17%, but CI reaches below 5%
    assert run(10, 20, "0.05") == "contradicted"     # lower bound above 5%
    assert run(1, 100, "0") == "contradicted"        # 'no risk' and one event
    assert run(0, 100, "0") == "supported"


def test_safety_rate_uses_label_shares_as_indirect_evidence() -> None:
    facts = [fact("lab", "safety", "sedation", "0.5", value_low="0.48", value_high="0.61", unit="share", design="rct_parallel")]
    v = verdicts.rule_safety_rate(claim("safety_rate", test_outcome="sedation", claimed="0"), eb(facts=facts))
    assert v.verdict == "contradicted" and any(d.startswith("indirectness") for d in v.downgrades)


def test_safety_transient_mixed_when_serious_harms_exist() -> None:
    trans = fact("t", "safety", "transient_adverse_events", "2", unit="hours to resolution", n="158", design="rct_parallel")
    serious = fact("s", "ocd_harms", "serious_adverse_events", numerator=1, denominator=4, study_id="k")
    e = eb([study("k", "case_series", 4)], facts=[trans, serious])
    assert verdicts.rule_safety_transient(claim("safety_transient"), e).verdict == "partly_supported"
    assert verdicts.rule_safety_transient(claim("safety_transient"), eb(facts=[trans])).verdict == "supported"


def test_population_compare_flips_with_subgroup_shares() -> None:
    studies = [study("tr", "open_label_single_arm", 10, treatment_resistant=True), study("naive", "rct_parallel", 10)]
    f = [finding("tr", 72, False, None, False, k_events=1, k_n=10), finding("naive", 168, True, True, k_events=5, k_n=10)]
    assert verdicts.rule_population_compare(claim("population_compare"), eb(studies, f)).verdict == "contradicted"
    f = [finding("tr", 72, True, None, False, k_events=8, k_n=10), finding("naive", 168, True, True, k_events=5, k_n=10)]
    assert verdicts.rule_population_compare(claim("population_compare"), eb(studies, f)).verdict == "supported"


def test_protocol_feature_controlled_vs_uncontrolled() -> None:
    c = claim("protocol", test_outcome="infusion_40min")
    assert verdicts.rule_protocol(c, eb([study("r", "rct_parallel")])).verdict == "supported"
    assert verdicts.rule_protocol(c, eb([study("o", "case_series")])).verdict == "partly_supported"
    assert verdicts.rule_protocol(c, eb([study("o", "case_series", infusion_duration="100 min")])).verdict == "no_evidence"


def test_comparative_needs_a_controlled_comparison() -> None:
    c = claim("comparative", claimed="cbt")
    unc = study("u", "open_label_single_arm", concomitant="exposure-based CBT", control="none")
    v = verdicts.rule_comparative(c, eb([unc, study("r", "rct_parallel")]))
    assert v.verdict == "no_evidence" and "1 uncontrolled" in v.reason
    ctrl = study("c", "rct_parallel", control="CBT alone")
    assert verdicts.rule_comparative(c, eb([unc, ctrl])).verdict == "partly_supported"


def test_mechanism_against_measured_brain_chemistry() -> None:
    s = study("m", "rct_crossover", 17, results_text="MPFC Glx/W, ketamine vs saline: no significant difference | MPFC GABA/W: significant increase")
    e = eb([s])
    assert verdicts.rule_mechanism(claim("mechanism", test_outcome="glutamate", claimed="increase"), e).verdict == "not_supported"
    assert verdicts.rule_mechanism(claim("mechanism", test_outcome="neurotransmitter", claimed="change"), e).verdict == "partly_supported"
    assert verdicts.rule_mechanism(claim("mechanism", test_outcome="neuroplasticity", claimed="increase"), e).verdict == "no_evidence"
    s2 = study("m", "rct_crossover", 17, results_text="MPFC Glx/W: significant increase")
    assert verdicts.rule_mechanism(claim("mechanism", test_outcome="glutamate", claimed="increase"), eb([s2])).verdict == "supported"


def test_evidence_count_flips_at_the_claimed_number() -> None:
    studies = [study(f"s{i}", "case_report", 1) for i in range(5)] + [study("r", "rct_parallel", 20)]
    assert verdicts.rule_evidence_count(claim("evidence_count", claimed="24"), eb(studies)).verdict == "not_supported"
    assert verdicts.rule_evidence_count(claim("evidence_count", claimed="6"), eb(studies)).verdict == "supported"
    assert verdicts.rule_evidence_count(claim("evidence_count", claimed="-1"), eb(studies)).verdict == "supported"
    more = studies + [study("r2", "rct_parallel", 20)]
    assert verdicts.rule_evidence_count(claim("evidence_count", claimed="-1"), eb(more)).verdict == "not_supported"


def test_ongoing_research_counts_open_registrations() -> None:
    regs = [study("r1", "trial_registration", registry_status="Recruiting"), study("r2", "trial_registration", registry_status="Completed")]
    v = verdicts.rule_ongoing_research(claim("ongoing_research", claimed="1"), eb(regs))
    assert v.verdict == "supported" and v.studies == ["r1"]
    assert verdicts.rule_ongoing_research(claim("ongoing_research", claimed="1"), eb(regs[1:])).verdict == "not_supported"


def test_context_ptsd_efficacy_and_large_trial() -> None:
    meta = fact("m", "ptsd", "ptsd_meta", "0.27", value_low="0.03", value_high="0.51", unit="g", n="221")
    big = fact("b", "ptsd", "ptsd_large_trial", "0", n="158")
    assert verdicts.rule_context_efficacy(claim("context_efficacy", claimed="ptsd", scope="ptsd"), eb(facts=[meta, big])).verdict == "partly_supported"
    assert verdicts.rule_context_efficacy(claim("context_efficacy", claimed="ptsd", scope="ptsd"), eb(facts=[meta])).verdict == "supported"
    assert verdicts.rule_context_efficacy(claim("context_efficacy", claimed="ptsd:large", scope="ptsd"), eb(facts=[meta])).verdict == "not_supported"
    assert verdicts.rule_context_efficacy(claim("context_efficacy", claimed="ptsd_tr", scope="ptsd"), eb(facts=[meta, big])).verdict == "not_supported"


def test_context_onset_and_durability() -> None:
    dep = fact("d", "depression", "depression_onset", "24", value_low="2", value_high="192")
    assert verdicts.rule_context_onset(claim("context_onset", claimed="depression", test_timepoint="<=24h"), eb(facts=[dep])).verdict == "supported"
    assert verdicts.rule_context_onset(claim("context_onset", claimed="depression", test_timepoint="<=1h"), eb(facts=[dep])).verdict == "not_supported"
    fu = fact("f", "ptsd", "ptsd_single_infusion_followup", "168", n="41")
    assert verdicts.rule_context_durability(claim("context_durability", test_timepoint=">=336h"), eb(facts=[fu])).verdict == "not_supported"
    assert verdicts.rule_context_durability(claim("context_durability", test_timepoint=">=72h"), eb(facts=[fu])).verdict == "supported"


def test_citation_check_journal_and_design() -> None:
    ajp = fact("ajp", "citation", "Am J Psychiatry", "6", unit="infusions", n="30")
    jama = fact("jama", "citation", "JAMA Psychiatry", "1", unit="infusions", n="41")
    c = claim("citation", claimed="American Journal of Psychiatry|single_infusion")
    v = verdicts.rule_citation(c, eb(facts=[ajp, jama]))
    assert v.verdict == "contradicted" and "jama" in v.facts
    ajp1 = fact("ajp", "citation", "Am J Psychiatry", "1", unit="infusions", n="30")
    assert verdicts.rule_citation(c, eb(facts=[ajp1])).verdict == "supported"
    none = fact("jn", "citation", "J Neuropsychiatry Clin Neurosci", "0", unit="papers found")
    c2 = claim("citation", claimed="Journal of Neuropsychiatry and Clinical Neurosciences|infusion")
    assert verdicts.rule_citation(c2, eb(facts=[none])).verdict == "no_evidence"
    inbase = study("x", "case_report", 1, journal="J Neuropsychiatry Clin Neurosci 2020;1:1")
    assert verdicts.rule_citation(c2, eb([inbase], facts=[none])).verdict == "partly_supported"


def test_unmeasured_outcome_with_and_without_contrary_harm() -> None:
    harm = fact("s", "ocd_harms", "serious_adverse_events", numerator=2, denominator=10, study_id="y")
    harm["statement"] = "delayed suicidal thinking in 2 of 10"
    c = claim("unmeasured", test_outcome="self_harm", claimed="suicid")
    assert verdicts.rule_unmeasured(c, eb([study("y", "case_series", 10)], facts=[harm])).verdict == "not_supported"
    assert verdicts.rule_unmeasured(c, eb([study("y", "case_series", 10)])).verdict == "no_evidence"


def test_infusions_to_response_against_the_median() -> None:
    f = [fact("p", "depression", "infusions_to_response", "3", n="41")]
    c = claim("infusions_to_response", claimed="2")
    v = verdicts.rule_infusions_to_response(c, eb(facts=f))
    assert v.verdict == "not_supported" and "median 3" in v.reason
    assert verdicts.rule_infusions_to_response({**c, "claimed": "3"}, eb(facts=f)).verdict == "supported"


def test_judge_refuses_to_cite_unknown_studies() -> None:
    e = eb([study("a", "rct_parallel", 20)], [finding("a", 2, True, True)])
    e.known_ids = frozenset()
    with pytest.raises(EvidenceReviewError, match="not in the evidence tables"):
        verdicts.judge(claim("efficacy", claimed="0"), e)


def test_rule_tables_agree() -> None:
    from evidence_review import claims
    assert set(verdicts.RULES) == set(claims.RULES)
