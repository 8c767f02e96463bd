"""What-if runs: a changed copy of the topic file, the original untouched, the verdicts that moved."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from evidence_review import paths
from evidence_review.errors import InputError
from evidence_review.report import whatif

TOPIC = paths.default_topic(paths.evidence_dir())


def test_override_changes_only_the_named_value() -> None:
    text = TOPIC.read_text(encoding="utf-8")
    new = whatif.override(text, "outcome.response_threshold", 0.5)
    new = whatif.override(new, "comparability_rules[ybocs_response_uncontrolled_week1].timepoint_days", [0, 14])
    before, after = tomllib.loads(text), tomllib.loads(new)
    assert after["outcome"]["response_threshold"] == 0.5
    rules = {r["analysis"]: r for r in after["comparability_rules"]}
    assert rules["ybocs_response_uncontrolled_week1"]["timepoint_days"] == [0, 14]
    assert rules["ybocs_change_vs_active_week1"]["timepoint_days"] == [0, 7]  # the other rules keep theirs
    after["outcome"]["response_threshold"] = before["outcome"]["response_threshold"]
    rules["ybocs_response_uncontrolled_week1"]["timepoint_days"] = [0, 7]
    assert after == before
    assert len(new.splitlines()) == len(text.splitlines())  # comments and layout kept


@pytest.mark.parametrize("key", ["outcome.nonsense", "nowhere.key", "comparability_rules[gone].timepoint_days", "bad"])
def test_unknown_parameters_are_errors(key: str) -> None:
    with pytest.raises(InputError):
        whatif.override(TOPIC.read_text(encoding="utf-8"), key, 1)


def test_topic_copy_points_back_at_the_project(tmp_path: Path) -> None:
    from evidence_review.review.topic import load_topic

    original = TOPIC.read_bytes()
    copy = whatif.topic_copy({"outcome.response_threshold": 0.5}, tmp_path)
    assert TOPIC.read_bytes() == original and copy.parent == tmp_path
    topic = load_topic(copy)
    assert topic.outcome.response_threshold == 0.5
    assert topic.files.extraction == load_topic(TOPIC).files.extraction


def test_moved_lists_changed_verdicts_only() -> None:
    before = pd.DataFrame({"claim_id": ["a", "b"], "category": ["x", "x"], "quote": ["q", "r"],
                           "verdict": ["supported", "no_evidence"], "certainty": ["low", "very_low"],
                           "reason": ["1 of 2", "0 of 2"]})
    after = before.assign(verdict=["supported", "not_supported"], reason=["1 of 2", "0 of 3"])
    got = whatif.moved(before, after)
    assert list(got["claim_id"]) == ["b"] and got.iloc[0]["new_verdict"] == "not_supported"
    assert whatif.moved(before, before).empty


def test_a_stricter_response_threshold_moves_responder_verdicts(tmp_path: Path) -> None:
    got = whatif.run_with({"outcome.response_threshold": 0.5}, workdir=tmp_path)
    assert not got.empty
    committed = pd.read_csv(paths.reports_dir() / "tables" / "claims.csv", dtype=str, keep_default_na=False)
    old = committed.set_index("claim_id").loc[got["claim_id"]]
    assert list(old["verdict"]) == list(got["old_verdict"])
    assert (got["old_verdict"] + got["old_certainty"] != got["new_verdict"] + got["new_certainty"]).all()
