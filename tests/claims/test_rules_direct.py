"""Rules that weigh direct OCD evidence first: absolute safety claims, schedules, results without benefit."""

from __future__ import annotations

from test_verdicts import claim, eb, fact, finding, study

from evidence_review.claims import verdicts


def _harm_facts() -> list[dict]:
    return [
        fact("h_psy", "ocd_harms", "serious_adverse_events", numerator=1, denominator=4, n=4, study_id="kid", design="case_series"),
        fact("h_drop", "ocd_harms", "dropout_adverse_events", numerator=2, denominator=12, n=12, study_id="rct",
             design="rct_crossover"),
        fact("lab_dis", "safety", "dissociation", "0.68", value_low="0.61", value_high="0.75", unit="share", design="rct_parallel"),
        fact("lab_ser", "safety", "serious_adverse_events", "0.0035", value_low="0.003", value_high="0.004", unit="share",
             design="rct_parallel"),
    ]


def _studies() -> list[dict]:
    return [study("kid", "case_series", 4, adolescent=True), study("rct", "rct_crossover", 12)]


def test_few_side_effects_is_not_supported_when_ocd_reports_show_serious_harm() -> None:
    v = verdicts.judge(claim("safety_direct", test_outcome="any_adverse_events", claimed="few"), eb(_studies(), [], _harm_facts()))
    assert v.verdict == "not_supported"
    assert "OCD harm reports first" in v.reason and "h_psy" in v.reason and "h_drop" in v.reason
    # without the OCD reports, the label-level rate of serious events (0.35%) decides and supports rarity
    label_only = [f for f in _harm_facts() if f["topic"] != "ocd_harms"]
    v = verdicts.judge(claim("safety_direct", test_outcome="serious_adverse_events", claimed="few"), eb(_studies(), [], label_only))
    assert v.verdict == "supported" and "No OCD harm report" in v.reason


def test_no_side_effects_is_contradicted_when_label_rates_agree_with_ocd_reports() -> None:
    v = verdicts.judge(claim("safety_direct", test_outcome="any_adverse_events", claimed="none"), eb(_studies(), [], _harm_facts()))
    assert v.verdict == "contradicted"
    assert "lab_dis" in v.reason


def test_safe_for_teenagers_reads_only_adolescent_reports() -> None:
    c = claim("safety_direct", test_outcome="any_adverse_events", claimed="few", test_population="ocd_adolescent")
    v = verdicts.judge(c, eb(_studies(), [], _harm_facts()))
    assert v.verdict == "not_supported" and "adolescents with OCD" in v.reason
    assert "h_psy" in v.reason and "h_drop" not in v.reason.split("label-level")[0]
    grown = [study("kid", "case_series", 4, adolescent=False), study("rct", "rct_crossover", 12)]
    v = verdicts.judge(c, eb(grown, [], _harm_facts()))
    assert "No OCD harm report in adolescents" in v.reason


def test_schedule_tried_in_one_case_is_no_evidence_but_a_series_counts() -> None:
    c = claim("protocol", test_outcome="maintenance_schedule", category="protocol")
    dep = fact("d", "depression", "depression_weekly_maintenance", "59", statement="weekly maintenance infusions", design="rct_parallel")
    one_case = eb([study("c", "case_report", 1, spacing="then maintenance")], [], [dep])
    v = verdicts.judge(c, one_case)
    assert v.verdict == "no_evidence"
    assert "single-case" in v.reason and "not counted" in v.reason
    series = eb([study("s", "case_series", 8, spacing="maintenance every 2 weeks")], [], [dep])
    assert verdicts.judge(c, series).verdict == "partly_supported"
    nothing = eb([study("r", "rct_parallel", 20)], [], [dep])
    assert verdicts.judge(c, nothing).verdict == "no_evidence"
    # a route or dose is not a schedule: one uncontrolled report still makes it partly supported
    assert verdicts.judge(claim("protocol", test_outcome="infusion_40min"), eb([study("c", "case_report", 1)])).verdict \
        == "partly_supported"


def test_null_results_rule_needs_a_study_without_benefit() -> None:
    c = claim("null_results", test_outcome="ocd_symptoms")
    mixed = eb([study("a"), study("b", "open_label_single_arm", 10)],
               [finding("a", 24, True, True), finding("b", 72, False, controlled=False)])
    v = verdicts.judge(c, mixed)
    assert v.verdict == "supported" and "b" in v.studies
    allpos = eb([study("a")], [finding("a", 24, True, True)])
    assert verdicts.judge(c, allpos).verdict == "not_supported"


def test_no_risk_of_dependence_is_contradicted_by_a_record_of_misuse() -> None:
    c = claim("safety_direct", test_outcome="misuse", claimed="none")
    rec = fact("reg_mis", "regulatory", "recreational_misuse", "yes", design="regulatory_record",
               statement="Ketamine is misused recreationally.")
    v = verdicts.judge(c, eb([], [], [rec]))
    assert v.verdict == "contradicted" and "reg_mis" in v.reason and "no OCD study measured misuse" in v.reason
    assert verdicts.judge(c, eb([], [], [])).verdict == "no_evidence"
