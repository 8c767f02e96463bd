"""Claims take their risk-of-bias downgrade from the risk-of-bias table and are capped by the GRADE
certainty of the Summary-of-Findings outcome they rest on."""

from __future__ import annotations

import dataclasses

import pandas as pd

from evidence_review import pipeline
from evidence_review.claims.rules.common import Verdict, cap_by_sof, rob_downgrade
from evidence_review.claims.verdicts import judge


def _eb(tmp_path):
    ctx = pipeline.run(pipeline.ReportContext(reports=tmp_path / "reports"), stages=["claims"])
    return ctx.facts["evidence_base"]


def test_rob_downgrade_and_sof_cap(tmp_path):
    eb = _eb(tmp_path)
    assert not eb.sof.empty and not eb.rob.empty
    text = rob_downgrade(eb, ["rodriguez2013_rct", "rodriguez2015_mrs"])
    assert "rodriguez2013_rct High" in text and "rodriguez2015_mrs not assessed" in text
    assert rob_downgrade(dataclasses.replace(eb, rob=pd.DataFrame()), ["rodriguez2013_rct"]) is None
    # a study-only verdict at high certainty is capped to its outcome's GRADE certainty
    v = cap_by_sof(Verdict("supported", "high", "r", ["rodriguez2013_rct"]), eb, "efficacy")
    assert v.certainty == "very_low" and any(d.startswith("GRADE: 'OCD response") for d in v.downgrades)
    # a report inside a study group is matched through its parent study
    v = cap_by_sof(Verdict("supported", "high", "r", ["niciu2013_AE_cases"]), eb, "safety")
    assert v.certainty == "very_low" and "Serious psychiatric" in v.downgrades[-1]
    # verdicts resting on context facts, or categories without an SoF kind, are left alone
    assert cap_by_sof(Verdict("supported", "high", "r", ["rodriguez2013_rct"], ["f1"]), eb, "efficacy").certainty == "high"
    assert cap_by_sof(Verdict("supported", "high", "r", ["rodriguez2013_rct"]), eb, "regulatory").certainty == "high"


def test_judge_applies_the_cap(tmp_path):
    eb = _eb(tmp_path)
    claim = {"claim_id": "X", "rule": "efficacy", "category": "efficacy", "scope": "ocd", "claimed": "0",
             "test_population": "", "test_timepoint": ""}
    v = judge(claim, eb)
    assert v.certainty == "very_low"


def test_claims_use_the_exact_interval_of_effects_csv():
    from evidence_review.claims.evidence_base import exact_ci
    from evidence_review.stats import effects

    lo, hi = exact_ci(4, 8)
    cp = effects.clopper_pearson(4, 8)
    assert (lo, hi) == (float(cp[0]), float(cp[1])) and round(lo, 2) == 0.16 and round(hi, 2) == 0.84
    assert exact_ci(0, 10)[0] == 0.0 and round(exact_ci(0, 10)[1], 2) == 0.31
