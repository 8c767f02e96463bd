"""Rules count studies (not reports) once, read OCD harm reports first, and start at a fact's own certainty."""

from __future__ import annotations

from evidence_review.claims import verdicts
from evidence_review.claims.rules import common

from test_verdicts import claim, eb, fact, finding, study


def _with_groups(e, groups: dict[str, str]):
    e.studies["study_group"] = [groups.get(s, s) for s in e.studies["study_id"]]
    return e


def test_reasons_count_a_trial_once_and_a_letter_as_its_trial() -> None:
    e = eb([study("rct", "rct_crossover", 15), study("open", "open_label_single_arm", 10),
            study("letter", "case_series", 2)],
           [finding("rct", 168, True, False, controlled=True),
            finding("rct", 169, True, None, controlled=False, k_events=4, k_n=8),   # the RCT's ketamine arm
            finding("open", 24, False, None, controlled=False, k_events=0, k_n=10),
            finding("letter", 48, False, None, controlled=False)])
    _with_groups(e, {"letter": "open"})
    text = common._describe(e, e.findings)
    assert text.startswith("1 RCT (n=15)")
    assert "| 1 uncontrolled (n=10)" in text          # not "3 uncontrolled (n=27)"
    assert common._n_of(e, ["rct", "open", "letter"]) == 25
    assert common._k_of(e, ["rct", "open", "letter"]) == 2


def test_rct_breakdown_lists_trials_without_outcome_data() -> None:
    e = eb([study("a", "rct_crossover", 15), study("b", "rct_parallel", 2), study("c", "rct_parallel", float("nan")),
            study("d", "case_report", 1)],
           [finding("a", 168, True, False)])
    rcts, text = common.rct_breakdown(e, ["a", "b", "c", "d"])
    assert len(rcts) == 3
    assert text.startswith("3 RCTs, 1 with outcome data (n=15)")
    assert "b (n=2)" in text and "c (n not reported)" in text


def _safety_eb(ocd_num: int = 1, ocd_den: int = 4):
    return eb([study("series", "case_series", ocd_den)], [], [
        fact("label", "safety", "serious_adverse_events", "0.0035", unit="share", value_low="0.003",
             value_high="0.004", design="drug_label", certainty="high", statement="esketamine label rate"),
        fact("ocd", "ocd_harms", "serious_adverse_events", unit="share", numerator=str(ocd_num),
             denominator=str(ocd_den), n=str(ocd_den), design="case_series", study_id="series", certainty="very_low"),
    ])


def test_ocd_claim_is_decided_by_ocd_harm_reports_before_the_label() -> None:
    c = claim("safety_rate", test_outcome="serious_adverse_events", claimed="0.05")
    v = verdicts.RULES["safety_rate"](c, _safety_eb())
    assert v.verdict == "not_supported"
    assert "decided by the OCD harm reports" in v.reason
    assert any("indirect sources of higher certainty" in d for d in v.downgrades)
    # a general claim is still decided by the highest-certainty source
    v = verdicts.RULES["safety_rate"]({**c, "scope": "general", "test_population": "any"}, _safety_eb())
    assert v.verdict == "partly_supported" and "decided by the moderate-certainty sources" in v.reason
    # when OCD reports agree with the label (0 of 40), the label's certainty stands
    v = verdicts.RULES["safety_rate"](c, _safety_eb(0, 40))
    assert v.verdict in ("supported", "partly_supported") and "in line with the OCD harm reports" in v.reason


def test_subgroup_signal_is_not_a_rate() -> None:
    e = eb([study("series", "case_series", 2)], [], [
        fact("sig", "ocd_harms", "serious_adverse_events", unit="cases in a post-hoc subgroup (not an incidence)",
             numerator="2", denominator="3", design="case_series", study_id="series", certainty="very_low")])
    c = claim("safety_rate", test_outcome="serious_adverse_events", claimed="0.05")
    v = verdicts.RULES["safety_rate"](c, e)
    assert v.verdict == "no_evidence" and "67%" not in v.reason and "not an incidence" in v.reason
    v = verdicts.RULES["safety_rate"]({**c, "claimed": "0"}, e)   # 'no serious harm at all': a documented case refutes it
    assert v.verdict in ("not_supported", "contradicted")


def test_approval_does_not_support_how_widely_or_why() -> None:
    e = eb([], [], [fact("appr", "regulatory", "anaesthetic_approval", "yes", design="regulatory_record",
                         certainty="high", value_low="1970", unit="year of approval")])
    c = claim("regulatory", test_outcome="anaesthetic_approval", claimed="yes", scope="general")
    assert verdicts.RULES["regulatory"](c, e).verdict == "supported"
    v = verdicts.RULES["regulatory"]({**c, "test_outcome": "anaesthetic_approval+anaesthetic_safety_profile"}, e)
    assert v.verdict == "partly_supported" and v.certainty != "high"
    assert "anaesthetic safety profile" in v.reason


def test_context_verdicts_start_at_the_facts_own_certainty() -> None:
    onset = fact("on", "depression", "depression_onset", "24", value_low="2", value_high="192", design="narrative_summary")
    c = claim("context_onset", claimed="depression", test_timepoint="<=24h", scope="depression")
    assert verdicts.RULES["context_onset"](c, eb([], [], [onset])).certainty == "high"      # no own certainty: old start
    low = {**onset, "certainty": "low"}
    assert verdicts.RULES["context_onset"](c, eb([], [], [low])).certainty == "low"
    assert common.fact_start([{"certainty": "low"}, {"certainty": "moderate"}]) == "moderate"
    assert common.fact_start([{"certainty": ""}], default="low") == "low"
