"""What-ifs are real: a copy of a topic file with another response threshold changes which rows count
as responders, the pooled analyses that rest on the response definition and the verdicts that rest on
responders - and leaves the verdicts that do not rest on them alone.

Expected values are worked out by hand from the invented fixture's 2x2 counts (see test_second_topic.py).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evidence_review import pipeline
from evidence_review.claims.rules.common import condition_findings
from evidence_review.claims.rules.responders import responder_summary
from evidence_review.stats import comparability, extraction
from test_second_topic import OMBRY, TARSK, copy_fixture, fixed_effect, rd_and_var, wilson_upper

ROOT = Path(__file__).resolve().parents[1]


def with_threshold(topic: Path, old: str, new: str) -> Path:
    """Rewrite ``outcome.response_threshold`` in a copied topic file (fails loudly if the line is absent)."""
    text = topic.read_text(encoding="utf-8")
    line = f"response_threshold = {old}\n"
    assert text.count(line) == 1, f"{topic} has no single '{line.strip()}'"
    topic.write_text(text.replace(line, f"response_threshold = {new}\n"), encoding="utf-8")
    return topic


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, pipeline.ReportContext]:
    """The invented topic as shipped (>= 30% fall) and a copy whose topic file says >= 50%."""
    tmp = tmp_path_factory.mktemp("what_if")
    mp = pytest.MonkeyPatch()
    (tmp / "empty").mkdir()
    mp.setenv("EVIDENCE_REVIEW_ROOT", str(tmp / "empty"))  # nothing of the flagship review is read
    mp.setenv("EVIDENCE_REVIEW_SHARED", str(tmp / "empty" / "shared"))
    try:
        base = copy_fixture(tmp / "base")
        moved = with_threshold(copy_fixture(tmp / "moved"), "0.30", "0.50")
        yield {name: pipeline.run(pipeline.ReportContext(reports=tmp / f"out_{name}", topic_path=topic))
               for name, topic in (("base", base), ("moved", moved))}
    finally:
        mp.undo()


def responders(ctx: pipeline.ReportContext) -> set[tuple[str, float, float]]:
    """(study, responders, n) of every responder share the verdict rules may compare with a claim."""
    eb = ctx.facts["evidence_base"]
    units, _ = responder_summary(eb, condition_findings(eb, eb.topic.condition.code))
    return {(u.studies[0], u.events, u.n) for u in units}


def test_rows_counted_as_responders_follow_the_threshold(runs):
    # extraction.csv records each study at both thresholds; only the topic's definition counts
    assert responders(runs["base"]) == {("tarsk2019_rct", 6, 10), ("ombry2021_rct", 10, 14),
                                        ("plenn2020_openlabel", 8, 10)}
    assert responders(runs["moved"]) == {("tarsk2019_rct", 4, 10), ("ombry2021_rct", 6, 14),
                                         ("plenn2020_openlabel", 4, 10)}


def test_pooled_analysis_rests_on_the_topic_definition(runs):
    base, moved = (runs[k].tables["pooled"].set_index("analysis").loc["qdrs_response_vs_placebo_day7"]
                   for k in ("base", "moved"))
    assert base["comparison_ids"].count(":r30") == 2 and moved["comparison_ids"].count(":r50") == 2
    # >= 50%: tarsk RD = .4 - .1 = .30 (var .033), ombry RD = 6/14 - 1/14 = .357 (var 61/2744 = .0222)
    # -> fixed effect RD = 0.334; at >= 30% it was 0.508.
    for row, level in ((base, 30), (moved, 50)):
        est, lo, hi = fixed_effect([rd_and_var(*TARSK[level]), rd_and_var(*OMBRY[level])])
        assert (row["estimate"], row["ci_low"], row["ci_high"]) == pytest.approx((est, lo, hi), rel=1e-9)
    assert moved["estimate"] == pytest.approx(0.33414, abs=5e-5)


def test_verdict_on_responders_moves_and_documentary_verdicts_do_not(runs):
    base, moved = (runs[k].tables["claims"].set_index("claim_id") for k in ("base", "moved"))
    # S001-02 'more than half respond' (0.5). >= 30%: shares .60/.71/.80 all reach .5 -> supported.
    # >= 50%: shares 4/10, 6/14, 4/10 all below .5; the Wilson upper bound of 4/10 (.69) is above .5,
    # so the claim is not contradicted but not supported.
    assert (base.loc["S001-02", "verdict"], moved.loc["S001-02", "verdict"]) == ("supported", "not_supported")
    assert max(4 / 10, 6 / 14) < 0.5 < wilson_upper(4, 10)
    assert ">= 50%" in moved.loc["S001-02", "reason"] and ">= 30%" in base.loc["S001-02", "reason"]
    # A regulatory fact, an untestable statement and claims with no evidence do not rest on responders:
    # same verdict, same reason.
    for cid in ("S001-01", "S001-03", "S002-02", "S002-03"):
        assert tuple(moved.loc[cid, ["verdict", "certainty", "reason"]]) == \
            tuple(base.loc[cid, ["verdict", "certainty", "reason"]]), cid
    assert base.loc["S001-01", "verdict"] == "supported"


def test_flagship_rule_follows_its_topic_threshold(tmp_path):
    """The flagship topic's responder rules say response_threshold_pct = "topic": a copy with another
    threshold selects the extraction rows recorded at the new threshold instead."""
    src = ROOT / "evidence" / "topics" / "ketamine_ocd.toml"
    copy = tmp_path / "what_if.toml"
    copy.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    with_threshold(copy, "0.35", "0.50")
    table = extraction.load(ROOT / "evidence" / "extraction.csv")
    picked, rules_by = {}, {}
    for name, path in (("base", src), ("moved", copy)):
        rules, classes = comparability.load_rules(path)
        rules_by[name] = {r.analysis: r for r in rules}
        rule = rules_by[name]["ybocs_response_uncontrolled_week1"]
        picked[name] = set(comparability.select(table, rule, classes)["comparison_id"])
    assert rules_by["base"]["ybocs_response_vs_placebo_week1"].response_threshold_pct == 35.0
    assert rules_by["moved"]["ybocs_response_vs_placebo_week1"].response_threshold_pct == 50.0
    thr = dict(zip(table["comparison_id"], pd.to_numeric(table["response_threshold_pct"], errors="coerce")))
    assert picked["base"] and {thr[c] for c in picked["base"]} == {35.0}
    assert picked["moved"] != picked["base"] and {thr[c] for c in picked["moved"]} <= {50.0}
