from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from evidence_review import paths
from evidence_review.errors import InputError
from evidence_review.review.topic import load_topic

TOPIC = paths.evidence_dir() / "topics" / "ketamine_ocd.toml"


def test_shipped_topic_loads() -> None:
    t = load_topic(TOPIC)
    assert t.name == "ketamine_ocd"
    # both the MeSH heading and free text, for drug and condition
    for part in ('"Ketamine"[MeSH Terms]', "esketamine[tiab]", '"Obsessive-Compulsive Disorder"[MeSH Terms]', "OCD[tiab]"):
        assert part in t.query
    assert t.query.count("(") == t.query.count(")")
    assert t.date_start == dt.date(1970, 1, 1) and t.date_end == dt.date(2026, 11, 21)
    assert t.pubmed_date_range == ("1970/01/01", "2026/11/21")
    assert t.outcome.measure == "Y-BOCS" and t.outcome.response_threshold == pytest.approx(0.35)
    assert "ketamine" in t.inclusion.intervention_terms
    assert t.claims_file == Path("evidence/claims.csv")


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "topic.toml"
    p.write_text(text, encoding="utf-8")
    return p


def _replace(old: str, new: str, tmp_path: Path) -> Path:
    text = TOPIC.read_text(encoding="utf-8")
    assert old in text
    return _write(tmp_path, text.replace(old, new, 1))


def _line_with(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_malformed_toml_names_file_and_line(tmp_path: Path) -> None:
    p = _replace('measure = "Y-BOCS"', 'measure = "Y-BOCS', tmp_path)
    with pytest.raises(InputError) as err:
        load_topic(p)
    assert err.value.file == str(p)
    assert err.value.row == _line_with(p, 'measure = "Y-BOCS')


def test_wrong_type_names_line_and_field(tmp_path: Path) -> None:
    p = _replace("response_threshold = 0.35", 'response_threshold = "35%"', tmp_path)
    with pytest.raises(InputError) as err:
        load_topic(p)
    assert err.value.field == "outcome.response_threshold"
    assert err.value.row == _line_with(p, "response_threshold")
    assert "between 0 and 1" in str(err.value)


def test_threshold_out_of_range(tmp_path: Path) -> None:
    p = _replace("response_threshold = 0.35", "response_threshold = 35", tmp_path)
    with pytest.raises(InputError, match="outcome.response_threshold"):
        load_topic(p)


def test_missing_key(tmp_path: Path) -> None:
    text = TOPIC.read_text(encoding="utf-8")
    p = _write(tmp_path, "\n".join(ln for ln in text.splitlines() if not ln.startswith("claims_file")))
    with pytest.raises(InputError) as err:
        load_topic(p)
    assert err.value.field == "claims_file"


def test_missing_table(tmp_path: Path) -> None:
    text = TOPIC.read_text(encoding="utf-8")
    p = _write(tmp_path, text.split("[outcome]")[0])
    with pytest.raises(InputError) as err:
        load_topic(p)
    assert err.value.field == "outcome"


def test_terms_must_be_list_of_strings(tmp_path: Path) -> None:
    p = _replace('intervention_terms = ["ketamine"', 'intervention_terms = [1, "ketamine"', tmp_path)
    with pytest.raises(InputError) as err:
        load_topic(p)
    assert err.value.field == "inclusion.intervention_terms"
    assert err.value.row == _line_with(p, "intervention_terms")


def test_date_window_order_and_type(tmp_path: Path) -> None:
    p = _replace("start = 1970-01-01", "start = 2030-01-01", tmp_path)
    with pytest.raises(InputError, match="after"):
        load_topic(p)
    p = _replace("start = 1970-01-01", 'start = "1970"', tmp_path)
    with pytest.raises(InputError) as err:
        load_topic(p)
    assert err.value.field == "date_window.start"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_topic(tmp_path / "nope.toml")
