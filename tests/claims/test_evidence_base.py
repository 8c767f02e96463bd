"""Evidence base: findings worked out from extraction rows, timing facts, context-facts validation."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from evidence_review import paths
from evidence_review.errors import InputError
from evidence_review.claims.evidence_base import (
    FACT_COLUMNS, finding_from_row, findings_from_timing, load_facts, studies_from_facts, exact_ci,
)

from evidence_review.claims.fact_sources import untraceable
from test_verdicts import STUDY_COLS, fact, study



def test_finding_from_2x2_uses_fisher_exact() -> None:
    f = finding_from_row({"study_id": "r", "design": "rct_crossover", "comparison_type": "between_groups",
                          "outcome": "Y-BOCS response", "timepoint": "1 week", "timepoint_days": 7,
                          "ai": 4, "bi": 4, "ci": 0, "di": 7}, response_fraction=0.35)
    assert f["favours"] is True and f["significant"] is False
    assert f["p"] == pytest.approx(0.0769, abs=1e-3)
    assert "4/8 vs 0/7" in f["summary"] and f["hours"] == 168


def test_finding_sign_convention_for_symptom_scales() -> None:
    row = {"study_id": "b", "design": "rct_crossover", "comparison_type": "within_person", "outcome": "Y-BOCS dose-related contrast",
           "timepoint": "up to 168 h", "timepoint_days": 7, "ni": 10, "fi": 6.5, "pval": 0.031, "effect_sign": -1}
    f = finding_from_row(row, response_fraction=0.35)
    assert f["favours"] is True and f["significant"] is True and f["controlled"] is True
    f = finding_from_row({**row, "effect_sign": 1}, response_fraction=0.35)
    assert f["favours"] is False


def test_finding_pre_post_small_change_is_not_benefit() -> None:
    row = {"study_id": "i", "design": "open_label_single_arm", "comparison_type": "pre_post", "outcome": "OCD severity change",
           "scale": "CY-BOCS", "timepoint": "day 14", "timepoint_days": 14, "m1i": 26.2, "m2i": 29, "ni": 5}
    assert finding_from_row(row, response_fraction=0.35)["favours"] is False
    assert finding_from_row(row, {"ci_low": -2.6, "ci_high": -0.6}, response_fraction=0.35)["favours"] is True


def test_days_window_starts_at_first_day() -> None:
    f = finding_from_row({"study_id": "b", "design": "open_label_single_arm", "comparison_type": "single_group",
                          "outcome": "Y-BOCS response", "timepoint": "days 1-3 after infusion", "timepoint_days": 3, "xi": 0, "ni": 10},
                         response_fraction=0.35)
    assert f["hours"] == 72 and f["hours_from"] == 24


def test_exact_interval() -> None:
    lo, hi = exact_ci(0, 10)  # Clopper-Pearson: 1 - 0.025^(1/10)
    assert lo == 0 and hi == pytest.approx(1 - 0.025 ** 0.1)
    assert all(math.isnan(x) for x in exact_ci(0, 0))


def test_timing_facts_become_findings() -> None:
    facts = pd.DataFrame([fact("t", "ocd_timing", "significant_benefit_at", "2", study_id="a", design="rct_crossover")], columns=FACT_COLUMNS)
    st = pd.DataFrame([study("a", "rct_crossover", 12)], columns=STUDY_COLS).set_index("study_id", drop=False)
    f = findings_from_timing(facts, st)
    assert f.iloc[0]["hours"] == 2 and bool(f.iloc[0]["controlled"]) and bool(f.iloc[0]["significant"])


def test_context_facts_are_in_our_own_words() -> None:
    """No run of 8 words copied from the compiled evidence-facts prose (numbers and titles may repeat)."""
    def words(t: str) -> list[str]:
        return re.findall(r"[a-z0-9.%=-]+", t.lower())

    src = " ".join(words(" ".join(p.read_text(encoding="utf-8") for p in paths.evidence_facts_dir().glob("*.md"))))
    for rec in load_facts().itertuples():
        w = words(rec.statement)
        copied = [" ".join(w[i:i + 8]) for i in range(len(w) - 7) if " ".join(w[i:i + 8]) in src]
        assert not copied, f"{rec.fact_id}: copied wording {copied[:1]}"


def test_context_facts_file_validates(tmp_path) -> None:
    facts = load_facts()
    assert facts["fact_id"].is_unique and (facts["source"] != "").all()
    bad = tmp_path / "f.csv"
    rows = facts.head(2).copy()
    rows.loc[rows.index[1], "topic"] = "gossip"
    rows.to_csv(bad, index=False)
    with pytest.raises(InputError) as exc:
        load_facts(bad)
    assert exc.value.row == 3 and exc.value.field == "topic"


def test_practice_facts_need_a_known_stance(tmp_path) -> None:
    facts = load_facts()
    prac = facts[facts["topic"] == "practice"]
    assert set(prac["value"]) == {"expected", "against", "rationale"}
    bad = tmp_path / "f.csv"
    rows = prac.head(2).copy()
    rows.loc[rows.index[1], "value"] = "recommended-ish"
    rows.to_csv(bad, index=False)
    with pytest.raises(InputError) as exc:
        load_facts(bad)
    assert exc.value.row == 3 and exc.value.field == "value" and "expected" in str(exc.value)


def test_studies_from_facts_reads_intervention_and_population(shared_dir) -> None:
    st = studies_from_facts()
    r = st.loc["bloch2012_openlabel"]
    assert r["design"] == "open_label_single_arm" and r["n"] == 10 and bool(r["treatment_resistant"])
    assert r["route"] == "IV" and r["infusion_duration"] == "40 min"
    assert not bool(st.loc["rodriguez2013_rct", "treatment_resistant"])  # unmedicated, not resistant
    assert st.loc["reg_NCT05940324", "registry_status"] == "Recruiting"


def test_build_keeps_the_synthesis_pooled_table(shared_dir) -> None:
    from evidence_review.claims.evidence_base import build
    pooled = pd.DataFrame([{"analysis": "x", "primary": True, "comparison_ids": "a:1"}])
    e = build({"pooled": pooled}, facts=load_facts(), studies=studies_from_facts())
    assert e.pooled.equals(pooled)
    assert build({}, facts=load_facts(), studies=studies_from_facts()).pooled.empty


def test_pharmacology_facts_cite_records_that_exist(shared_dir) -> None:
    """A pharmacology fact names the evidence-facts records it rests on; each must exist (no invented source)."""
    st = studies_from_facts()
    ph = load_facts()[lambda f: f["topic"] == "pharmacology"]
    assert not ph.empty
    for rec in ph.itertuples():
        cited = re.findall(r"studies\.jsonl ([A-Za-z0-9_-]+)\)", rec.source)
        assert cited and set(cited) <= set(st.index), rec.fact_id
        for pmid in re.findall(r"PMID:(\d+)", rec.source):
            assert pmid in set(st["pmid"].astype(str)), pmid


def test_every_fact_is_traceable_to_its_lines_in_the_compiled_facts(shared_dir) -> None:
    """Practice, harm and timing facts (and all others) name their lines; fragments and numbers are there."""
    facts = load_facts()
    assert untraceable(facts, paths.evidence_facts_dir()) == []
    for topic in ("practice", "ocd_harms", "ocd_timing"):
        assert (facts.loc[facts["topic"] == topic, "source_terms"] != "").all(), topic


def test_traceability_check_catches_an_added_requirement(shared_dir) -> None:
    facts = load_facts()
    asa = facts[facts["fact_id"] == "prac_asa_2025"].copy()
    asa["source_terms"] = asa["source_terms"] + ";only for a medical indication"
    asa["statement"] = asa["statement"] + " Keep 3 staff."
    problems = untraceable(asa, paths.evidence_facts_dir())
    assert any("only for a medical indication" in p for p in problems)
    assert any("number 3 " in p for p in problems)
    derived = facts[facts["fact_id"] == "dep_murrough2013_ajp"].copy()
    derived["derived"] = ""
    # 7.7 = 16.5 - 8.8 is printed nowhere: without its 'derived' note the value is flagged
    assert any("value 7.7 " in p for p in untraceable(derived, paths.evidence_facts_dir()))
    wrong_line = facts[facts["fact_id"] == "saf_loc_label"].copy()
    wrong_line["source_line"] = "context_facts.md:131"
    assert any("0.3-0.4%" in p for p in untraceable(wrong_line, paths.evidence_facts_dir()))


def test_derived_values_say_how() -> None:
    """A numeric value that is not written on its source lines must carry a 'derived' note."""
    facts = load_facts()
    for fid in ("dep_murrough2013_ajp", "dep_murrough2013_repeated", "saf_dissociation_label",
                "saf_sedation_label", "ocd_time_algin_wk12", "ocd_time_rodriguez2016_vas", "dep_onset_hours"):
        assert facts.set_index("fact_id").at[fid, "derived"], fid


@pytest.mark.parametrize("field, value, match", [
    ("certainty", "sure", "certainty"), ("certainty", "", "empty certainty"),
    ("source_line", "context_facts.md", "bad source line"), ("source_line", "", "empty source_line"),
])
def test_fact_certainty_and_locator_are_validated(tmp_path, field: str, value: str, match: str) -> None:
    rows = load_facts().head(2).copy()
    rows.loc[rows.index[1], field] = value
    bad = tmp_path / "f.csv"
    rows.to_csv(bad, index=False)
    with pytest.raises(InputError, match=match) as exc:
        load_facts(bad)
    assert exc.value.row == 3 and exc.value.field == field
