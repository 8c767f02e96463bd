"""Pooling only where the topic's comparability rules pass; one interval per measure; SWiM."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evidence_review import paths
from evidence_review.errors import InputError
from evidence_review.pipeline import ReportContext
from evidence_review.stats import comparability, effects, extraction, meta, synthesis

TOPIC = paths.evidence_dir() / "topics" / "ketamine_ocd.toml"


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> ReportContext:
    ctx = ReportContext(reports=tmp_path_factory.mktemp("r") / "reports")
    synthesis.report_stage(ctx)
    return ctx


def test_no_primary_analysis_of_single_arm_proportions(ran):
    pooled = ran.tables["pooled"]
    single = pooled[pooled["comparison_ids"].str.contains("ket_arm|d1-3|end_of_course|wk12", regex=True)]
    assert not single["primary"].astype(bool).any()
    audit = ran.tables["comparability"].set_index("analysis")
    # the old "primary" pool (RCT ketamine arm 4/8 + open-label 0/10) now fails the population rule
    unc = audit.loc["ybocs_response_uncontrolled_week1"]
    assert not unc["pooled"] and "populations not comparable" in unc["reason"]
    assert "rodriguez2013_rct: unmedicated" in unc["reason"] and "bloch2012_openlabel: treatment_resistant" in unc["reason"]
    assert audit.loc["ybocs_response_vs_placebo_week1", "reason"] == "fewer than 2 comparable studies (k = 1)"


def _rule(**over) -> comparability.ComparabilityRule:
    base = dict(analysis="t", title="t", role="descriptive", outcome="Y-BOCS response", comparison_type="single_group",
                comparator_class="none", designs=("open_label_single_arm", "rct_crossover"), response_threshold_pct=35.0,
                timepoint_days=(0.0, 7.0), fits=(("PLO", "z"),), method="REML", rationale="r")
    base.update(over)
    return comparability.ComparabilityRule(**base)


def test_a_rule_pools_when_every_attribute_and_the_population_match():
    table = extraction.load()
    classes = comparability.Classes({"inactive_placebo": ("saline",)}, {})
    same = {"rodriguez2013_rct": "adults", "bloch2012_openlabel": "adults"}
    pooled, details, audit = synthesis.pool(table, (_rule(),), classes, same)
    assert audit["pooled"].tolist() == [True] and pooled["k"].tolist() == [2]
    assert pooled["role"].tolist() == ["descriptive"] and not pooled["primary"].any()
    y, v = effects.proportion("PLO", [4, 0], [8, 10])
    assert pooled["estimate"].iloc[0] == pytest.approx(meta.rma(y, v, method="REML", measure="PLO").estimate)
    # a 25% threshold selects one study only: not pooled, and the reason is kept
    pooled, details, audit = synthesis.pool(table, (_rule(response_threshold_pct=25.0),), classes, same)
    assert pooled.empty and details["t"]["pooled"] is False and "fewer than 2" in details["t"]["reason"]
    # the same two rows with different population classes are refused
    pooled, details, _ = synthesis.pool(table, (_rule(),), classes, {"rodriguez2013_rct": "a", "bloch2012_openlabel": "b"})
    assert pooled.empty and "populations not comparable" in details["t"]["reason"]


def test_topic_rules_refuse_a_primary_single_group_analysis(tmp_path):
    bad = tmp_path / "t.toml"
    text = TOPIC.read_text(encoding="utf-8")
    i = text.index('analysis = "ybocs_response_uncontrolled_week1"')
    bad.write_text(text[:i] + text[i:].replace('role = "descriptive"', 'role = "primary"', 1), encoding="utf-8")
    with pytest.raises(InputError, match="cannot be primary") as err:
        comparability.load_rules(bad)
    assert err.value.field.endswith(".role")


def test_one_interval_per_measure(ran):
    eff = ran.tables["effects"].set_index("comparison_id")
    bloch = eff.loc["bloch2012_openlabel:ybocs_response:d1-3"]
    # 0/10: the displayed estimate is the raw 0.00 with the exact interval, never a corrected 0.05
    assert bloch["est_display"] == 0 and bloch["ci_low_display"] == 0
    assert bloch["ci_high_display"] == pytest.approx(1 - 0.025 ** 0.1) and bloch["ci_method"].startswith("exact")
    rd = eff.loc["rodriguez2013_rct:ybocs_response:1wk:ket_vs_saline"]
    lo, hi = effects.newcombe_rd(4, 4, 0, 7)
    assert rd["ci_low_display"] == pytest.approx(float(lo)) and rd["ci_high_display"] == pytest.approx(float(hi))
    assert "Newcombe" in rd["effect_label"] and rd["ci_method"].startswith("Newcombe")
    assert "wilson_ci_low" not in eff.columns


def test_newcombe_matches_published_values():
    # Newcombe (1998) Table II: 56/70 vs 48/80 -> 0.0524 to 0.3339; 10/10 vs 0/10 -> 0.6075 to 1
    lo, hi = effects.newcombe_rd(56, 14, 48, 32)
    assert (round(float(lo), 4), round(float(hi), 4)) == (0.0524, 0.3339)
    lo, hi = effects.newcombe_rd(10, 0, 0, 10)
    assert round(float(lo), 4) == 0.6075 and float(hi) == pytest.approx(1.0)


def test_range_restricted_baseline_sd_is_flagged(ran):
    eff = ran.tables["effects"].set_index("comparison_id")
    madrs = eff.loc["bellvitge_esketamine_caseseries_preprint:madrs_change:wk12"]
    assert "range restricted" in madrs["caveat"] and "inflated" in madrs["effect_label"]
    y, _ = effects.smcc_from_t(4.55, 8)
    assert f"SMCC {-float(y):+.2f}" in madrs["alt_effect_label"]
    ybocs = eff.loc["bellvitge_esketamine_caseseries_preprint:ybocs_change:wk12"]
    assert pd.isna(ybocs["caveat"]) or ybocs["caveat"] == ""


def test_swim_table_and_sign_test(ran):
    sw = ran.tables["swim"]
    assert sw["study_id"].is_unique
    rct = sw[sw["group"] == "randomized contrast"].set_index("study_id")
    assert set(rct.index) == {"rodriguez2013_rct", "beaglehole2025_im_rct"}
    assert (rct["direction"] == "favourable").all()
    assert (sw.loc[sw["group"].str.startswith("uncontrolled proportion"), "direction"] == "no reference").all()
    tests = ran.tables["swim_sign_tests"].set_index("group")
    assert tests.loc["randomized contrast", "p_two_sided"] == pytest.approx(0.5)
    assert tests.loc["uncontrolled proportion (no comparator)", "note"].startswith("not applicable")
    assert (Path(ran.figures_dir) / "swim_effect_direction.svg").stat().st_size > 1000
