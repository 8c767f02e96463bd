"""From a claim sentence to its test (evidence_review.claims.specs): category and rule from the sentence itself."""

from __future__ import annotations

import pytest

from evidence_review.claims.specs import claimed_share, duration_hours, spec_for_claim, window_hours


@pytest.mark.parametrize("sentence,category,rule,outcome,claimed", [
    ("Ketamine is not approved by the FDA for OCD.", "regulatory", "regulatory", "fda_approved_ocd", "no"),
    ("Ketamine has been approved by the FDA as an anesthetic since 1970.", "regulatory", "regulatory",
     "anaesthetic_approval", "yes"),
    ("Ketamine is well-tolerated and has few side effects.", "safety", "safety_direct", "any_adverse_events", "few"),
    ("Virtually no side effects", "safety", "safety_direct", "any_adverse_events", "none"),
    ("Ketamine is totally safe for teenagers.", "safety", "safety_direct", "any_adverse_events", "none"),
    ("Serious adverse events are exceedingly rare.", "safety", "safety_direct", "serious_adverse_events", "few"),
    ("Some feel floaty during the infusion, and it wears off within two hours.", "safety", "safety_transient",
     "transient_adverse_events", ""),
    ("Remission can be maintained with booster infusions every 2-3 weeks.", "protocol", "protocol", "maintenance_schedule", ""),
    ("Most guests only need a top-up once a month.", "protocol", "protocol", "monthly_maintenance", ""),
    ("A total of six infusions over a few weeks", "protocol", "protocol", "six_infusion_course", ""),
    ("a low dose over about 45 minutes", "protocol", "protocol", "infusion_40min", ""),
    ("A nurse monitors your blood pressure throughout each infusion.", "protocol", "practice_standard",
     "monitoring_during_dose", ""),
    ("Supported by dozens of clinical studies", "evidence_base", "evidence_count", "clinical_studies", "24"),
    ("Benefits last for several months after the initial series.", "durability", "durability", "ocd_symptoms", "0.5"),
    ("The effect of one infusion tends to fade within two weeks.", "durability", "relapse", "ocd_symptoms", ""),
    ("Patients see a significant decrease in symptoms after just one infusion.", "efficacy", "efficacy", "ocd_response", "0"),
    ("Ketamine produces a 70 percent response rate in OCD.", "efficacy", "efficacy", "ocd_response", "0.7"),
    ("It helps people who have not responded to SSRIs.", "population", "efficacy", "ocd_response", "0"),
    ("It does not work for everyone.", "efficacy", "null_results", "ocd_symptoms", ""),
    ("Ketamine blocks NMDA receptors.", "mechanism", "mechanism", "nmda_antagonism", "increase"),
    ("Ketamine has shown remarkable success rates of up to 80% in clinical trials.", "efficacy", "efficacy",
     "ocd_response", "0.8"),
    ("Ketamine is a revolutionary breakthrough in OCD treatment.", "efficacy", "efficacy", "ocd_response", "0.5"),
    ("Our board-certified anesthesiologists administer every infusion.", "protocol", "practice_standard",
     "qualified_staff_present+specialist_credential", ""),
    ("Ketamine helps the brain build new neural pathways.", "mechanism", "mechanism", "neuroplasticity", "increase"),
    ("Ketamine is not addictive when used in a clinical setting.", "safety", "safety_direct", "misuse", "none"),
    ("Studies have found that ketamine works better when combined with therapy.", "efficacy", "comparative",
     "combination_cbt", "cbt"),
    ("Ketamine does not cause the emotional blunting that SSRIs often cause.", "safety", "unmeasured",
     "named_effect:blunting", "blunting"),
    ("Ketamine is suitable for adolescents aged 12 and over.", "safety", "safety_direct", "any_adverse_events", "few"),
    ("Ketamine targets glutamate, a different brain chemical than most antidepressants.", "mechanism", "mechanism",
     "nmda_antagonism", "increase"),
    ("After the series, many patients return for occasional booster sessions.", "protocol", "protocol",
     "maintenance_schedule", ""),
    ("When given by trained staff, ketamine has a strong safety profile.", "safety", "safety_direct",
     "any_adverse_events", "few"),
])
def test_category_and_rule_come_from_the_sentence(sentence: str, category: str, rule: str, outcome: str, claimed: str) -> None:
    spec = spec_for_claim(sentence)
    assert (spec["category"], spec["rule"], spec["test_outcome"], spec["claimed"]) == (category, rule, outcome, claimed)
    assert spec["cue"]


def test_adolescent_safety_claims_are_tested_in_adolescents() -> None:
    assert spec_for_claim("It is safe for teenagers.")["test_population"] == "ocd_adolescent"
    assert spec_for_claim("It is well tolerated.")["test_population"] == "ocd"


def test_depression_and_ptsd_sentences_get_their_own_scope() -> None:
    spec = spec_for_claim("In depression a single infusion lifts mood within a day.")
    assert (spec["scope"], spec["rule"], spec["test_timepoint"]) == ("depression", "context_onset", "<=24h")


def test_durations_and_scopes_read_from_the_words() -> None:
    spec = spec_for_claim("Benefits were still present one week later for about half of patients.")
    assert (spec["rule"], spec["test_timepoint"]) == ("durability", ">=168h")
    assert spec_for_claim("Pooling across non-mood disorders gave a Y-BOCS fall of eight points.")["scope"] == "ocd"


def test_quantities() -> None:
    assert window_hours("relief within 30 minutes", "<=24h") == "<=1h"
    assert window_hours("changes within 1-3 days", "<=24h") == "<=72h"
    assert window_hours("during the infusion itself", "<=24h") == "<=1h"
    assert duration_hours("lasts for months") == ">=2160h"
    assert duration_hours("keeps working for three weeks") == ">=504h"
    assert claimed_share("85% of our patients") == "0.85"
    assert claimed_share("most patients") == "0.5"
    assert claimed_share("some patients") == "0"
