"""Verdict rules on small synthetic evidence tables: each rule, and each flipping when the numbers do."""

from __future__ import annotations

import pandas as pd
import pytest

from evidence_review.claims import verdicts
from evidence_review.claims.rules import common
from evidence_review.claims.evidence_base import FACT_COLUMNS, FINDING_COLUMNS, EvidenceBase
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
    assert common.grade(True, []) == ("high", [])
    assert common.grade(True, ["imprecision: n=10"])[0] == "moderate"
    assert common.grade(False, [])[0] == "low"
    assert common.grade(False, ["a", "b"])[0] == "very_low"  # floored
    assert common.grade(True, ["a", "", "b", "c"])[0] == "very_low"


def test_small_crossover_rct_loses_two_levels() -> None:
    e = eb([study("x", "rct_crossover", 15)], [finding("x", 168, True, True)])
    v = verdicts.RULES["efficacy"](claim("efficacy", claimed="0"), e)
    assert v.certainty == "low"
    assert any(d.startswith("risk of bias: crossover") for d in v.downgrades)
    assert any(d.startswith("imprecision: total n=15") for d in v.downgrades)
    e = eb([study("x", "rct_parallel", 400)], [finding("x", 168, True, True)])
    assert verdicts.RULES["efficacy"](claim("efficacy", claimed="0"), e).certainty == "high"


# ----------------------------------------------------------------------------------------- rules

def test_regulatory_matches_or_contradicts() -> None:
    facts = [fact("reg", "regulatory", "fda_approved_ocd", "no")]
    assert verdicts.RULES["regulatory"](claim("regulatory", test_outcome="fda_approved_ocd", claimed="no"), eb(facts=facts)).verdict == "supported"
    v = verdicts.RULES["regulatory"](claim("regulatory", test_outcome="fda_approved_ocd", claimed="yes"), eb(facts=facts))
    assert v.verdict == "contradicted" and v.facts == ["reg"]
    assert verdicts.RULES["regulatory"](claim("regulatory", test_outcome="other", claimed="yes"), eb(facts=facts)).verdict == "no_evidence"


def test_efficacy_share_claim_flips_with_responder_counts() -> None:
    studies = [study("a", "rct_parallel", 20), study("b", "open_label_single_arm", 20)]
    low = [finding("a", 168, True, True, k_events=1, k_n=10), finding("b", 72, False, None, False, k_events=0, k_n=10)]
    v = verdicts.RULES["efficacy"](claim("efficacy", claimed="0.5"), eb(studies, low))
    assert v.verdict == "contradicted"          # every study's 95% CI lies below 50%
    assert "a: 1/10" in v.reason and "b: 0/10" in v.reason and set(v.studies) == {"a", "b"}
    high = [finding("a", 168, True, True, k_events=9, k_n=10), finding("b", 72, True, None, False, k_events=8, k_n=10)]
    assert verdicts.RULES["efficacy"](claim("efficacy", claimed="0.5"), eb(studies, high)).verdict == "supported"
    mid = [finding("a", 168, True, True, k_events=4, k_n=10), finding("b", 72, True, None, False, k_events=4, k_n=10)]
    assert verdicts.RULES["efficacy"](claim("efficacy", claimed="0.5"), eb(studies, mid)).verdict == "not_supported"


def test_responders_are_not_summed_across_timepoints_or_definitions() -> None:
    """Fix 4: per-study counts with timepoint and definition; undefined 'improved' counts are named, not counted."""
    studies = [study("a", "open_label_single_arm", 8), study("b", "open_label_single_arm", 10),
               study("k", "case_series", 4)]
    f = [finding("a", 168, True, None, False, k_events=4, k_n=8, timepoint="1 week"),
         finding("b", 72, False, None, False, k_events=0, k_n=10, timepoint="days 1-3"),
         finding("k", 1440, True, None, False, k_events=3, k_n=4, threshold=None, outcome="clinical improvement")]
    v = verdicts.RULES["efficacy"](claim("efficacy", claimed="0.5"), eb(studies, f))
    assert "a: 4/8 = 50% (95% CI 16%-84%) at 1 week" in v.reason and "b: 0/10" in v.reason
    assert "k: clinical improvement 3/4" in v.reason and "not counted as responders" in v.reason
    assert not any(s in v.reason for s in ("4/18", "7/22", "7/18")), "responders were summed across studies"
    assert v.verdict == "not_supported"   # a reaches 50%, b does not, and a holds only 8 of 18 participants
    # a pooled analysis of comparable studies (synthesis stage) replaces its studies' single rows
    e = eb(studies, f)
    e.pooled = pd.DataFrame([{"analysis": "resp_wk1", "primary": True, "measure": "PLO", "method": "REML", "k": 2,
                              "study_ids": "a; b", "comparison_ids": "a:168; b:72", "events": 4, "n_total": 18,
                              "back_estimate": 0.2, "back_ci_low": 0.02, "back_ci_high": 0.45}])
    v = verdicts.RULES["efficacy"](claim("efficacy", claimed="0.5"), e)
    assert "pooled resp_wk1" in v.reason and "20% (95% CI 2%-45%)" in v.reason and "a: 4/8" not in v.reason
    # the pooled CI lies below 50% (contradicting), but two small uncontrolled series are very low certainty
    assert v.verdict == "not_supported" and "not called contradicted" in v.reason


def test_contradicted_needs_at_least_low_certainty() -> None:
    """Fix 2: only very-low-certainty contrary evidence (small uncontrolled series) gives not_supported, saying why."""
    f = [finding("b", 72, False, None, False, k_events=0, k_n=10)]
    v = verdicts.RULES["efficacy"](claim("efficacy", claimed="0.5"), eb([study("b", "case_series", 10)], f))
    assert v.verdict == "not_supported" and v.certainty == "very_low"
    assert "not called contradicted" in v.reason and "very-low certainty" in v.reason
    big = [finding("r", 168, False, False, True, k_events=5, k_n=200)]
    v = verdicts.RULES["efficacy"](claim("efficacy", claimed="0.5"), eb([study("r", "rct_parallel", 400)], big))
    assert v.verdict == "contradicted" and "not called contradicted" not in v.reason
    assert common.apply_hierarchy(common.Verdict("contradicted", "low", "x")).verdict == "contradicted"


def test_efficacy_can_help_is_partly_supported_when_a_study_is_null() -> None:
    studies = [study("a", "rct_parallel", 20), study("b", "open_label_single_arm", 10)]
    mixed = [finding("a", 2, True, True), finding("b", 72, False, None, False, k_events=0, k_n=10)]
    v = verdicts.RULES["efficacy"](claim("efficacy", claimed="0"), eb(studies, mixed))
    assert v.verdict == "partly_supported"
    assert any(d.startswith("inconsistency") for d in v.downgrades)
    assert verdicts.RULES["efficacy"](claim("efficacy", claimed="0"), eb(studies, mixed[:1])).verdict == "supported"
    nulls = [finding("a", 2, False, False), mixed[1]]
    assert verdicts.RULES["efficacy"](claim("efficacy", claimed="0"), eb(studies, nulls)).verdict == "not_supported"
    assert verdicts.RULES["efficacy"](claim("efficacy", claimed="0"), eb(studies, [])).verdict == "no_evidence"


def test_efficacy_in_some_patients_is_not_refuted_by_null_studies() -> None:
    studies = [study("a", "rct_parallel", 20), study("b", "open_label_single_arm", 10)]
    mixed = [finding("a", 2, True, True), finding("b", 72, False, None, False, k_events=0, k_n=10)]
    assert verdicts.RULES["efficacy"](claim("efficacy", claimed="some"), eb(studies, mixed)).verdict == "supported"
    only_unc = [finding("b", 72, True, None, False, k_events=3, k_n=10)]
    assert verdicts.RULES["efficacy"](claim("efficacy", claimed="some"), eb(studies, only_unc)).verdict == "partly_supported"


def test_claim_naming_conditions_without_evidence_is_capped() -> None:
    deps = [fact(f"d{i}", "depression", f"depression_t{i}", "5", n="50", design="rct_parallel") for i in range(2)]
    c = claim("context_efficacy", claimed="depression", scope="depression")
    assert verdicts.RULES["context_efficacy"](c, eb(facts=deps)).verdict == "supported"
    v = verdicts.RULES["context_efficacy"]({**c, "claimed": "depression+bipolar"}, eb(facts=deps))
    assert v.verdict == "partly_supported" and "0 facts or studies on: bipolar" in v.reason


def test_efficacy_population_filter_uses_treatment_resistance() -> None:
    studies = [study("tr", "open_label_single_arm", 10, treatment_resistant=True), study("naive", "rct_parallel", 10)]
    f = [finding("tr", 72, False, None, False, k_events=0, k_n=10), finding("naive", 168, True, True, k_events=5, k_n=10)]
    v = verdicts.RULES["efficacy"](claim("efficacy", claimed="0", test_population="ocd_tr"), eb(studies, f))
    assert v.verdict == "not_supported" and v.studies == ["tr"]


def test_onset_window_counts_only_measurements_inside_it() -> None:
    studies = [study("a", "rct_crossover", 15), study("b", "open_label_single_arm", 10)]
    f = [finding("a", 0.67, True, True), finding("b", 72, False, None, False, hours_from=24)]
    assert verdicts.RULES["onset"](claim("onset", test_timepoint="<=1h"), eb(studies, f)).verdict == "partly_supported"
    assert verdicts.RULES["onset"](claim("onset", test_timepoint="<=1h"), eb(studies, f[:1])).verdict == "supported"
    late_null = [f[0], finding("b", 336, False, None, False)]  # no benefit at 2 weeks says nothing about onset
    assert verdicts.RULES["onset"](claim("onset", test_timepoint="<=1h"), eb(studies, late_null)).verdict == "supported"
    assert verdicts.RULES["onset"](claim("onset", test_timepoint="<=24h"), eb(studies, f)).verdict == "partly_supported"
    assert verdicts.RULES["onset"](claim("onset", test_timepoint="<=1h"), eb(studies, f[1:])).verdict == "no_evidence"


def test_durability_needs_controlled_evidence_for_general_promises() -> None:
    studies = [study("rct", "rct_parallel", 30), study("case", "case_report", 1)]
    f = [finding("rct", 168, True, True), finding("case", 2016, True, None, False)]
    some = verdicts.RULES["durability"](claim("durability", test_timepoint=">=336h", claimed="0"), eb(studies, f))
    assert some.verdict == "partly_supported" and "168 h" in some.reason
    general = verdicts.RULES["durability"](claim("durability", test_timepoint=">=336h", claimed="0.5"), eb(studies, f))
    assert general.verdict == "not_supported"
    f2 = f + [finding("rct", 504, True, True)]
    assert verdicts.RULES["durability"](claim("durability", test_timepoint=">=336h", claimed="0.5"), eb(studies, f2)).verdict == "supported"


def test_safety_rate_flips_with_event_counts() -> None:
    def run(num: int, den: int, allowed: str, design: str = "case_series") -> str:
        facts = [fact("h", "ocd_harms", "serious_adverse_events", numerator=num, denominator=den, study_id="s")]
        return verdicts.RULES["safety_rate"](claim("safety_rate", test_outcome="serious_adverse_events", claimed=allowed),
                                         eb([study("s", design, den)], facts=facts)).verdict
    assert run(0, 200, "0.05") == "supported"
    assert run(2, 12, "0.05") == "not_supported"     # 17%, but CI reaches below 5%
    assert run(10, 20, "0.05") == "not_supported"    # CI above 5%, but a small uncontrolled series: very low
    assert run(100, 200, "0.05", "rct_parallel") == "contradicted"   # harms counted in a trial: low certainty
    assert run(1, 100, "0") == "not_supported"       # 'no risk' and one event, very low certainty
    assert run(1, 100, "0", "rct_parallel") == "contradicted"
    assert run(0, 100, "0") == "supported"


def test_safety_weighs_label_and_large_sample_facts_by_certainty() -> None:
    """Fix 3: label-level rates decide over case reports; case reports showing more make 'rare' only partly true."""
    label_dis = fact("dis", "safety", "dissociation", "0.68", value_low="0.61", value_high="0.75", unit="share",
                     design="rct_parallel", statement="Esketamine label: dissociation 61-75%")
    label_loc = fact("loc", "safety", "serious_adverse_events", "0.0035", value_low="0.003", value_high="0.004",
                     unit="share", design="rct_parallel", statement="Esketamine label: loss of consciousness 0.3-0.4%")
    warn = fact("fda", "safety", "serious_adverse_events", design="regulatory_record", statement="FDA warning lists risks")
    harm = fact("h", "ocd_harms", "serious_adverse_events", numerator=2, denominator=10, study_id="y")
    any_ae = fact("a", "ocd_harms", "any_adverse_events", numerator=1, denominator=5, study_id="y")
    e = eb([study("y", "case_series", 10)], facts=[label_dis, label_loc, warn, harm, any_ae])
    general = dict(scope="general", test_population="any")
    most = verdicts.RULES["safety_rate"](claim("safety_rate", test_outcome="any_adverse_events", claimed="0.5", **general), e)
    assert most.verdict == "contradicted" and most.certainty == "moderate" and "dis" in most.facts
    rare = verdicts.RULES["safety_rate"](claim("safety_rate", test_outcome="serious_adverse_events", claimed="0.05", **general), e)
    assert rare.verdict == "partly_supported" and any(d.startswith("inconsistency") for d in rare.downgrades)
    assert rare.certainty == "low"
    promised = verdicts.RULES["safety_rate"](claim("safety_rate", test_outcome="serious_adverse_events", claimed="0", **general), e)
    assert promised.verdict == "contradicted" and promised.certainty == "high"
    # the rule follows the facts' values: a label rate of serious events above 5% contradicts 'rare'
    label_loc10 = {**label_loc, "value": "0.1", "value_low": "0.08", "value_high": "0.12"}
    e2 = eb([study("y", "case_series", 10)], facts=[label_loc10, harm])
    assert verdicts.RULES["safety_rate"](claim("safety_rate", test_outcome="serious_adverse_events", claimed="0.05", **general),
                                     e2).verdict == "contradicted"
    only_cases = eb([study("y", "case_series", 10)], facts=[harm])
    assert verdicts.RULES["safety_rate"](claim("safety_rate", test_outcome="serious_adverse_events", claimed="0.05", **general),
                                     only_cases).verdict == "not_supported"


def test_safety_rate_uses_label_shares_as_indirect_evidence() -> None:
    facts = [fact("lab", "safety", "sedation", "0.5", value_low="0.48", value_high="0.61", unit="share", design="rct_parallel")]
    v = verdicts.RULES["safety_rate"](claim("safety_rate", test_outcome="sedation", claimed="0"), eb(facts=facts))
    assert v.verdict == "contradicted" and any(d.startswith("indirectness") for d in v.downgrades)


def test_safety_transient_mixed_when_serious_harms_exist() -> None:
    trans = fact("t", "safety", "transient_adverse_events", "2", unit="hours to resolution", n="158", design="rct_parallel")
    serious = fact("s", "ocd_harms", "serious_adverse_events", numerator=1, denominator=4, study_id="k")
    e = eb([study("k", "case_series", 4)], facts=[trans, serious])
    assert verdicts.RULES["safety_transient"](claim("safety_transient"), e).verdict == "partly_supported"
    assert verdicts.RULES["safety_transient"](claim("safety_transient"), eb(facts=[trans])).verdict == "supported"


def test_population_compare_flips_with_subgroup_shares() -> None:
    studies = [study("tr", "open_label_single_arm", 10, treatment_resistant=True), study("naive", "rct_parallel", 10)]
    f = [finding("tr", 72, False, None, False, k_events=1, k_n=10), finding("naive", 168, True, True, k_events=5, k_n=10)]
    assert verdicts.RULES["population_compare"](claim("population_compare"), eb(studies, f)).verdict == "contradicted"
    f = [finding("tr", 72, True, None, False, k_events=8, k_n=10), finding("naive", 168, True, True, k_events=5, k_n=10)]
    assert verdicts.RULES["population_compare"](claim("population_compare"), eb(studies, f)).verdict == "supported"


def test_protocol_feature_controlled_vs_uncontrolled() -> None:
    c = claim("protocol", test_outcome="infusion_40min")
    assert verdicts.RULES["protocol"](c, eb([study("r", "rct_parallel")])).verdict == "supported"
    assert verdicts.RULES["protocol"](c, eb([study("o", "case_series")])).verdict == "partly_supported"
    assert verdicts.RULES["protocol"](c, eb([study("o", "case_series", infusion_duration="100 min")])).verdict == "no_evidence"


def test_comparative_needs_a_controlled_comparison() -> None:
    c = claim("comparative", claimed="cbt")
    unc = study("u", "open_label_single_arm", concomitant="exposure-based CBT", control="none")
    v = verdicts.RULES["comparative"](c, eb([unc, study("r", "rct_parallel")]))
    assert v.verdict == "no_evidence" and "1 uncontrolled" in v.reason
    ctrl = study("c", "rct_parallel", control="CBT alone")
    assert verdicts.RULES["comparative"](c, eb([unc, ctrl])).verdict == "partly_supported"


def test_mechanism_against_measured_brain_chemistry() -> None:
    s = study("m", "rct_crossover", 17, results_text="MPFC Glx/W, ketamine vs saline: no significant difference | MPFC GABA/W: significant increase")
    e = eb([s])
    assert verdicts.RULES["mechanism"](claim("mechanism", test_outcome="glutamate", claimed="increase"), e).verdict == "not_supported"
    assert verdicts.RULES["mechanism"](claim("mechanism", test_outcome="neurotransmitter", claimed="change"), e).verdict == "partly_supported"
    assert verdicts.RULES["mechanism"](claim("mechanism", test_outcome="neuroplasticity", claimed="increase"), e).verdict == "no_evidence"
    s2 = study("m", "rct_crossover", 17, results_text="MPFC Glx/W: significant increase")
    assert verdicts.RULES["mechanism"](claim("mechanism", test_outcome="glutamate", claimed="increase"), eb([s2])).verdict == "supported"


def test_mechanism_uses_pharmacology_facts() -> None:
    """Fix 5: 'a glutamate (NMDA) receptor antagonist' is established pharmacology when a fact records it."""
    ph = fact("ph", "pharmacology", "nmda_antagonism", "yes", source="PMID:1 MeSH; NCT0 title")
    c = claim("mechanism", test_outcome="nmda_antagonism", scope="general")
    v = verdicts.RULES["mechanism"](c, eb(facts=[ph]))
    assert v.verdict == "supported" and v.certainty == "high" and v.facts == ["ph"]
    assert verdicts.RULES["mechanism"](c, eb()).verdict == "no_evidence"
    s = study("m", "rct_crossover", 17, results_text="MPFC Glx/W, ketamine vs saline: no significant difference")
    both = verdicts.RULES["mechanism"]({**c, "test_outcome": "nmda_antagonism+glutamate"}, eb([s], facts=[ph]))
    assert both.verdict == "partly_supported" and "glutamate: not_supported" in both.reason
    plastic = verdicts.RULES["mechanism"]({**c, "test_outcome": "neuroplasticity"}, eb([s], facts=[ph]))
    assert plastic.verdict == "no_evidence"


def test_crisis_population_is_partly_supported_by_an_indirect_approval() -> None:
    """Fix 6: an approval for depression with acute suicidal ideation is indirect evidence for an OCD crisis claim."""
    appr = fact("appr", "regulatory", "esketamine_approved_mdd_suicidal", "yes", design="regulatory_record",
                statement="Esketamine approved for major depressive disorder with acute suicidal ideation")
    c = claim("crisis", claimed="suicid", category="population")
    v = verdicts.RULES["crisis"](c, eb(facts=[appr]))
    assert v.verdict == "partly_supported" and v.certainty == "moderate"
    assert any(d.startswith("indirectness") and "depression" in d for d in v.downgrades)
    harm = fact("h", "ocd_harms", "serious_adverse_events", numerator=2, denominator=10, study_id="y",
                statement="delayed suicidal thinking in 2 of 10")
    v = verdicts.RULES["crisis"](c, eb([study("y", "case_series", 10)], facts=[appr, harm]))
    assert v.certainty == "low" and any(d.startswith("inconsistency") for d in v.downgrades)
    assert verdicts.RULES["crisis"](c, eb()).verdict == "no_evidence"


def test_depression_and_ptsd_claims_are_never_tested_on_ocd_studies() -> None:
    """Fix 1: scope routes an OCD-study rule to the matching context rule; 'unmeasured' counts in the claim's scope."""
    dep = fact("dep", "depression", "depression_onset", "24", value_low="2", value_high="192")
    ocd = [study("o", "open_label_single_arm", 10)]
    nulls = [finding("o", 24, False, None, False)]
    c = claim("onset", scope="depression", test_population="depression", test_timepoint="<=168h")
    v = verdicts.judge(c, eb(ocd, nulls, [dep]))
    assert v.verdict == "supported" and v.facts == ["dep"] and v.studies == []
    assert "OCD" not in v.reason
    u = verdicts.judge(claim("unmeasured", scope="ptsd", test_population="ptsd", test_outcome="avoidance"), eb(ocd, nulls, [dep]))
    assert u.verdict == "no_evidence" and "OCD clinical studies measured" not in u.reason and "ptsd" in u.reason
    assert verdicts.judge(claim("onset", test_timepoint="<=168h"), eb(ocd, nulls, [dep])).studies == ["o"]  # OCD claim


def test_evidence_count_flips_at_the_claimed_number() -> None:
    studies = [study(f"s{i}", "case_report", 1) for i in range(5)] + [study("r", "rct_parallel", 20)]
    assert verdicts.RULES["evidence_count"](claim("evidence_count", claimed="24"), eb(studies)).verdict == "not_supported"
    assert verdicts.RULES["evidence_count"](claim("evidence_count", claimed="6"), eb(studies)).verdict == "supported"
    assert verdicts.RULES["evidence_count"](claim("evidence_count", claimed="-1"), eb(studies)).verdict == "supported"
    more = studies + [study("r2", "rct_parallel", 20)]
    assert verdicts.RULES["evidence_count"](claim("evidence_count", claimed="-1"), eb(more)).verdict == "not_supported"


def test_ongoing_research_counts_open_registrations() -> None:
    regs = [study("r1", "trial_registration", registry_status="Recruiting"), study("r2", "trial_registration", registry_status="Completed")]
    v = verdicts.RULES["ongoing_research"](claim("ongoing_research", claimed="1"), eb(regs))
    assert v.verdict == "supported" and v.studies == ["r1"]
    assert verdicts.RULES["ongoing_research"](claim("ongoing_research", claimed="1"), eb(regs[1:])).verdict == "not_supported"


def test_context_ptsd_efficacy_and_large_trial() -> None:
    meta = fact("m", "ptsd", "ptsd_meta", "0.27", value_low="0.03", value_high="0.51", unit="g", n="221")
    big = fact("b", "ptsd", "ptsd_large_trial", "0", n="158")
    assert verdicts.RULES["context_efficacy"](claim("context_efficacy", claimed="ptsd", scope="ptsd"), eb(facts=[meta, big])).verdict == "partly_supported"
    assert verdicts.RULES["context_efficacy"](claim("context_efficacy", claimed="ptsd", scope="ptsd"), eb(facts=[meta])).verdict == "supported"
    assert verdicts.RULES["context_efficacy"](claim("context_efficacy", claimed="ptsd:large", scope="ptsd"), eb(facts=[meta])).verdict == "not_supported"
    assert verdicts.RULES["context_efficacy"](claim("context_efficacy", claimed="ptsd_tr", scope="ptsd"), eb(facts=[meta, big])).verdict == "not_supported"


def test_context_onset_and_durability() -> None:
    dep = fact("d", "depression", "depression_onset", "24", value_low="2", value_high="192")
    assert verdicts.RULES["context_onset"](claim("context_onset", claimed="depression", test_timepoint="<=24h"), eb(facts=[dep])).verdict == "supported"
    assert verdicts.RULES["context_onset"](claim("context_onset", claimed="depression", test_timepoint="<=1h"), eb(facts=[dep])).verdict == "not_supported"
    fu = fact("f", "ptsd", "ptsd_single_infusion_followup", "168", n="41")
    assert verdicts.RULES["context_durability"](claim("context_durability", test_timepoint=">=336h"), eb(facts=[fu])).verdict == "not_supported"
    assert verdicts.RULES["context_durability"](claim("context_durability", test_timepoint=">=72h"), eb(facts=[fu])).verdict == "supported"


def test_citation_check_journal_and_design() -> None:
    ajp = fact("ajp", "citation", "Am J Psychiatry", "6", unit="infusions", n="30")
    jama = fact("jama", "citation", "JAMA Psychiatry", "1", unit="infusions", n="41")
    c = claim("citation", claimed="American Journal of Psychiatry|single_infusion")
    v = verdicts.RULES["citation"](c, eb(facts=[ajp, jama]))
    assert v.verdict == "contradicted" and "jama" in v.facts
    ajp1 = fact("ajp", "citation", "Am J Psychiatry", "1", unit="infusions", n="30")
    assert verdicts.RULES["citation"](c, eb(facts=[ajp1])).verdict == "supported"
    none = fact("jn", "citation", "J Neuropsychiatry Clin Neurosci", "0", unit="papers found")
    c2 = claim("citation", claimed="Journal of Neuropsychiatry and Clinical Neurosciences|infusion")
    assert verdicts.RULES["citation"](c2, eb(facts=[none])).verdict == "no_evidence"
    inbase = study("x", "case_report", 1, journal="J Neuropsychiatry Clin Neurosci 2020;1:1")
    assert verdicts.RULES["citation"](c2, eb([inbase], facts=[none])).verdict == "partly_supported"


def test_unmeasured_outcome_with_and_without_contrary_harm() -> None:
    harm = fact("s", "ocd_harms", "serious_adverse_events", numerator=2, denominator=10, study_id="y")
    harm["statement"] = "delayed suicidal thinking in 2 of 10"
    c = claim("unmeasured", test_outcome="self_harm", claimed="suicid")
    assert verdicts.RULES["unmeasured"](c, eb([study("y", "case_series", 10)], facts=[harm])).verdict == "not_supported"
    assert verdicts.RULES["unmeasured"](c, eb([study("y", "case_series", 10)])).verdict == "no_evidence"


def test_infusions_to_response_against_the_median() -> None:
    f = [fact("p", "depression", "infusions_to_response", "3", n="41")]
    c = claim("infusions_to_response", claimed="2")
    v = verdicts.RULES["infusions_to_response"](c, eb(facts=f))
    assert v.verdict == "not_supported" and "median 3" in v.reason
    assert verdicts.RULES["infusions_to_response"]({**c, "claimed": "3"}, eb(facts=f)).verdict == "supported"


# ------------------------------------------------------------------- practice standards (supervision)

def practice(fid: str, key: str, value: str, design: str = "guideline", statement: str = "") -> dict:
    return fact(fid, "practice", key, value, design=design, value_low="2025", unit="year of guidance",
                statement=statement or f"guidance {fid} on {key}")


def test_practice_the_guidance_asks_for_is_supported_at_low_certainty() -> None:
    c = claim("practice_standard", test_outcome="monitoring_during_dose", scope="general", category="protocol")
    v = verdicts.judge(c, eb(facts=[practice("asa", "treatment_plan+monitoring_during_dose", "expected")]))
    assert (v.verdict, v.certainty, v.facts) == ("supported", "low", ["asa"])
    assert "monitoring_during_dose: guidance asks for it" in v.reason and "2025" in v.reason
    # no guidance names the practice -> no evidence (not 'supported' by default)
    v = verdicts.judge(c, eb(facts=[practice("asa", "treatment_plan", "expected")]))
    assert v.verdict == "no_evidence" and "states 'monitoring_during_dose'" in v.reason


def test_practice_guidance_is_downgraded_for_esketamine_and_secondary_sources() -> None:
    c = claim("practice_standard", test_outcome="post_dose_observation", scope="general")
    rems = practice("rems", "post_dose_observation", "expected", "regulatory_record", "esketamine REMS: watched 2 h")
    v = verdicts.RULES["practice_standard"](c, eb(facts=[rems]))
    assert (v.verdict, v.certainty) == ("supported", "very_low")
    assert any(d.startswith("indirectness: esketamine") for d in v.downgrades)
    apa = practice("apa", "post_dose_observation", "expected", "consensus_secondary")
    v = verdicts.RULES["practice_standard"](c, eb(facts=[apa]))
    assert v.certainty == "very_low" and any("secondary summary" in d for d in v.downgrades)
    # a direct guideline next to them decides: back to low, every source listed
    v = verdicts.RULES["practice_standard"](c, eb(facts=[rems, apa, practice("asa", "post_dose_observation", "expected")]))
    assert v.certainty == "low" and v.facts == ["apa", "asa", "rems"]
    # time-course data are listed as the rationale but never graded as guidance
    why = fact("bp", "practice", "post_dose_observation", "rationale", value_low="1.5", unit="hours to baseline", n="49")
    v = verdicts.RULES["practice_standard"](c, eb(facts=[why]))
    assert v.verdict == "no_evidence" and "1.5 hours to baseline (n=49)" in v.reason


def test_self_guided_use_conflicts_with_guidance() -> None:
    c = claim("practice_standard", test_outcome="unsupervised_use", scope="general")
    fda = practice("fda", "unsupervised_use", "against", "regulatory_record", "FDA warning: home use, slowed breathing")
    v = verdicts.judge(c, eb(facts=[fda]))
    assert (v.verdict, v.certainty) == ("contradicted", "low") and "warns against it" in v.reason
    # only indirect (esketamine) guidance against it: very low certainty -> not_supported, saying why
    rems = practice("rems", "unsupervised_use", "against", "regulatory_record", "esketamine REMS: never for home use")
    v = verdicts.judge(c, eb(facts=[rems]))
    assert (v.verdict, v.certainty) == ("not_supported", "very_low") and "not called contradicted" in v.reason


def test_practice_requirement_no_guidance_states_is_only_partly_supported() -> None:
    c = claim("practice_standard", test_outcome="psychiatric_evaluation+specialist_credential", scope="general")
    facts = [practice("apa", "psychiatric_evaluation", "expected")]
    v = verdicts.judge(c, eb(facts=facts))
    assert v.verdict == "partly_supported"
    assert "general requirement (psychiatric_evaluation) is in guidance; no guidance states specialist_credential" in v.reason
    both = facts + [practice("cred", "specialist_credential", "expected")]
    assert verdicts.judge(c, eb(facts=both)).verdict == "supported"
    assert verdicts.judge(c, eb(facts=[])).verdict == "no_evidence"


def test_judge_refuses_to_cite_unknown_studies() -> None:
    e = eb([study("a", "rct_parallel", 20)], [finding("a", 2, True, True)])
    e.known_ids = frozenset()
    with pytest.raises(EvidenceReviewError, match="not in the evidence tables"):
        verdicts.judge(claim("efficacy", claimed="0"), e)


def test_rule_tables_agree() -> None:
    from evidence_review.claims import registry as claims
    assert set(verdicts.RULES) == set(claims.RULES)
