"""Store records for the review: one frame shape, matching to curated studies, queue, screen merge."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from evidence_review import cli
from evidence_review.errors import InputError
from evidence_review.pubmed.schema import RECORD_COLUMNS
from evidence_review.review import matching, queue, snapshot
from evidence_review.review.records_frame import EXTRA_COLUMNS, FRAME_COLUMNS, conform, read_records_csv

ROOT = Path(__file__).resolve().parents[2]


def _rec(pmid: str, **kw) -> dict:
    base = {c: "" for c in RECORD_COLUMNS}
    base.update(pmid=pmid, version=1, year=2020, authors=["Doe J"], publication_types=[], mesh_terms=[],
                keywords=[], retracted=False)
    base.update(kw)
    return base


def test_extra_columns_are_the_snapshots() -> None:
    assert EXTRA_COLUMNS == snapshot.EXTRA_COLUMNS


def test_exported_store_csv_loads_as_records(tmp_path: Path) -> None:
    df = pd.DataFrame([_rec("123", title="A", abstract="Registered as NCT01234567.", authors=["Doe J", "Roe K"])])
    path = tmp_path / "export.csv"
    df.assign(authors="Doe J; Roe K", publication_types="", mesh_terms="", keywords="").to_csv(path, index=False)
    out = read_records_csv(path)
    assert tuple(out.columns[: len(FRAME_COLUMNS)]) == FRAME_COLUMNS
    row = out.iloc[0]
    assert row["authors"] == ["Doe J", "Roe K"] and row["first_author"] == "Doe J"
    assert row["key_source"] == "pmid" and row["nct_id"] == "NCT01234567"
    assert row["source_url"] == "https://pubmed.ncbi.nlm.nih.gov/123/"
    with pytest.raises(InputError, match="missing column"):
        conform(df.drop(columns=["title"]))


def test_matching_by_each_identifier_and_own_ids() -> None:
    curated = snapshot.load_records(ROOT / "evidence" / "snapshot" / "records.csv")
    by_pmid = curated[curated["pmid"] != ""].iloc[0]
    by_doi = curated[(curated["pmid"] == "") & (curated["doi"] != "")].iloc[0]
    by_title = curated[(curated["pmid"] == "") & (curated["doi"] == "") & (curated["pmcid"] == "")
                       & curated["year"].notna() & ~curated["key_source"].isin(["nct", "registry"])].iloc[0]
    pulled = conform(pd.DataFrame([
        _rec(by_pmid["pmid"], title="whatever"),
        _rec("90000001", doi=by_doi["doi"].upper(), title="other"),
        _rec("90000002", title=by_title["title"].upper() + ".", year=int(by_title["year"])),
        _rec("90000003", title=by_title["title"], year=int(by_title["year"])),  # taken already
        _rec("90000004", title="Unrelated zebra study"),
    ]))
    out, table = matching.match_records(pulled, curated)
    assert list(table["matched_on"]) == ["pmid", "doi", "title_year", "none", "none"]
    assert list(out["study_id"][:3]) == [by_pmid["study_id"], by_doi["study_id"], by_title["study_id"]]
    assert list(out["study_id"][3:]) == ["pmid90000003", "pmid90000004"]
    assert "already matched by PMID 90000002" in table.at[3, "note"]


def test_rule_confidence_and_queue_marks() -> None:
    assert queue.rule_confidence(False, "population not OCD", 0.9, True) == 0.95
    assert queue.rule_confidence(False, "population not OCD", 0.9, False) == 0.75
    assert queue.rule_confidence(False, "design not identified", 0.9, True) < queue.UNCERTAIN_BELOW
    table = pd.DataFrame({
        "study_id": ["a", "b", "c", "d"], "curated": [True, False, False, False],
        "included": [True, True, False, False], "screening_stage": ["", "", "title_abstract", "title_abstract"],
        "exclusion_category": ["", "", "population not OCD", "population not OCD"],
        "exclusion_reason": ["", "", "x", "x"], "screening_source": ["rule"] * 4,
        "design_confidence_auto": [0.9] * 4, "abstract": ["text"] * 4})
    first = queue.mark(table, None)
    assert list(first["queue_reason"].ne("")) == [False, True, False, False]
    assert not first.at[1, "included"] and first.at[1, "screening_stage"] == queue.AWAITING
    later = queue.mark(table, {"records": {"a": {}, "b": {}, "c": {}}, "queue": []})
    assert list(later["queue_reason"].ne("")) == [False, True, False, True]  # d is new since the baseline


def _queue_file(tmp_path: Path, rows: list[dict]) -> Path:
    q = pd.DataFrame(rows, columns=list(queue.QUEUE_COLUMNS)).astype(object).fillna("")
    path = tmp_path / "queue.csv"
    q.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("change,field", [
    ({"reviewer_decision": "maybe"}, "reviewer_decision"),
    ({"reviewer_design": "cohort"}, "reviewer_design"),
    ({"reviewer_reason": ""}, "reviewer_reason"),
    ({"reviewer": ""}, "reviewer"),
])
def test_screen_rejects_bad_rows_naming_row_and_field(tmp_path: Path, change: dict, field: str, capsys) -> None:
    good = {"study_id": "pmid1", "pmid": "1", "reviewer_decision": "include", "reviewer_design": "rct_parallel",
            "reviewer_reason": "randomised, OCD, ketamine", "reviewer": "ab"}
    path = _queue_file(tmp_path, [{"study_id": "pmid2", "pmid": "2"}, {**good, **change}])
    code = cli.main(["screen", "--queue", str(path), "--decisions", str(tmp_path / "d.csv"),
                     "--overrides", str(tmp_path / "o.csv")])
    assert code == 2
    err = capsys.readouterr().err
    assert "row 3" in err and f"field '{field}'" in err
    assert not (tmp_path / "d.csv").exists()


def test_screen_merges_without_losing_or_duplicating(tmp_path: Path, capsys) -> None:
    decisions = tmp_path / "d.csv"
    overrides = tmp_path / "o.csv"
    shutil.copy(ROOT / "evidence" / "screening_decisions.csv", decisions)
    shutil.copy(ROOT / "evidence" / "design_overrides.csv", overrides)
    before = decisions.read_text().splitlines()
    path = _queue_file(tmp_path, [
        {"study_id": "pmid11", "pmid": "11", "reviewer_decision": "include", "reviewer_design": "rct_parallel",
         "reviewer_reason": "randomised trial in OCD", "reviewer": "ab"},
        {"study_id": "pmid12", "pmid": "12", "reviewer_decision": "exclude", "reviewer_reason": "a review",
         "rule_decision": "exclude", "rule_stage": "title_abstract", "rule_category": "population not OCD"},
        {"study_id": "pmid13", "pmid": "13"},
    ])
    args = ["screen", "--queue", str(path), "--decisions", str(decisions), "--overrides", str(overrides),
            "--reviewer", "cd"]
    assert cli.main(args) == 0
    after = decisions.read_text().splitlines()
    assert after[: len(before)] == before and len(after) == len(before) + 2
    assert after[-1].startswith("pmid12,12,exclude,title_abstract,population not OCD,cd,")
    assert overrides.read_text().splitlines()[-1].startswith("pmid11,11,rct_parallel,ab,")
    assert cli.main(args) == 0  # same queue again: nothing added
    assert decisions.read_text().splitlines() == after
    changed = path.read_text().replace("include,,rct_parallel", "exclude,,rct_parallel")
    path.write_text(changed)
    assert cli.main(args) == 2 and "--replace" in capsys.readouterr().err
    assert cli.main(args + ["--replace"]) == 0
    assert len(decisions.read_text().splitlines()) == len(after)
