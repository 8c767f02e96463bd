"""Reports vs studies: curated links, study groups, report types and counting participants once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evidence_review import paths
from evidence_review.errors import InputError
from evidence_review.pipeline import ReportContext
from evidence_review.review.screening import build_records_table
from evidence_review.review.studies import (
    add_study_columns, count_once, load_links, report_type, study_groups,
)

HEADER = "report_id,parent_study,relation,reason,source\n"


def _records() -> pd.DataFrame:
    return pd.DataFrame([
        {"study_id": "trial_a", "design": "rct_crossover", "linked_study_id": "", "nct_id": "NCT1", "n": 15},
        {"study_id": "case_a", "design": "case_report", "linked_study_id": "", "nct_id": "", "n": 1},
        {"study_id": "open_b", "design": "open_label_single_arm", "linked_study_id": "", "nct_id": "", "n": 10},
        {"study_id": "letter_b", "design": "case_series", "linked_study_id": "", "nct_id": "", "n": 2},
        {"study_id": "reg_a", "design": "trial_registration", "linked_study_id": "trial_a", "nct_id": "NCT1", "n": None},
        {"study_id": "abstract_c", "design": "rct_parallel", "linked_study_id": "", "nct_id": "", "n": None},
    ])


def _links(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "study_links.csv"
    p.write_text(HEADER + body)
    return p


GOOD = ("case_a,trial_a,case_from_trial,the patient was in the trial,letter text\n"
        "letter_b,open_b,secondary_report,2 of the 10 trial patients,PMID:1 abstract\n")


def test_groups_count_each_study_once(tmp_path: Path) -> None:
    recs = _records()
    links = load_links(_links(tmp_path, GOOD), recs)
    groups = study_groups(recs, links).set_index("study_id")
    assert groups.loc["case_a", "study_group"] == "trial_a"
    assert groups.loc["letter_b", "study_group"] == "open_b"
    assert groups.loc["reg_a", "study_group"] == "trial_a"          # linked by its NCT id in the snapshot
    assert groups.loc["reg_a", "study_relation"] == "registration"
    assert groups.loc["abstract_c", "study_group"] == "abstract_c"
    table = recs.merge(groups.reset_index()[["study_id", "study_group"]], on="study_id")
    primary = table[table["design"] != "trial_registration"]
    once = count_once(primary)
    assert once == {"reports": 5, "studies": 3, "participants": 25, "unknown_n": 1}
    # naive sum would be 28: the case and the letter re-describe people of their parent studies
    assert int(primary["n"].fillna(0).sum()) == 28
    # a letter alone counts its own 2 people; with its parent, the parent's 10
    assert count_once(table, ["letter_b"])["participants"] == 2
    assert count_once(table, ["letter_b", "open_b"]) == {"reports": 2, "studies": 1, "participants": 10, "unknown_n": 0}


def test_study_design_is_the_parents(tmp_path: Path) -> None:
    recs = _records()
    out = add_study_columns(recs, load_links(_links(tmp_path, GOOD), recs)).set_index("study_id")
    assert out.loc["case_a", "study_design"] == "rct_crossover"
    assert out.loc["letter_b", "study_design"] == "open_label_single_arm"
    assert out.loc["reg_a", "report_type"] == "registry entry"


@pytest.mark.parametrize("body, row, field, match", [
    ("case_a,trial_a,cousin,why,src\n", 2, "relation", "unknown relation"),
    ("case_a,no_such,case_from_trial,why,src\n", 2, "parent_study", "unknown study_id"),
    ("nobody,trial_a,case_from_trial,why,src\n", 2, "report_id", "unknown study_id"),
    ("case_a,case_a,case_from_trial,why,src\n", 2, "parent_study", "own parent"),
    ("case_a,trial_a,case_from_trial,,src\n", 2, "reason", "missing value"),
    (GOOD + "case_a,open_b,case_from_trial,why,src\n", 4, "report_id", "already linked"),
    ("case_a,letter_b,case_from_trial,why,src\nletter_b,open_b,secondary_report,why,src\n", 2, "parent_study",
     "itself linked"),
])
def test_bad_links_name_row_and_field(tmp_path: Path, body: str, row: int, field: str, match: str) -> None:
    p = _links(tmp_path, body)
    with pytest.raises(InputError, match=match) as err:
        load_links(p, _records())
    assert (err.value.file, err.value.row, err.value.field) == (str(p), row, field)


def test_curated_link_may_not_contradict_a_registry_id(tmp_path: Path) -> None:
    recs = _records()
    links = load_links(_links(tmp_path, "reg_a,open_b,registration,why,src\n"), recs)
    with pytest.raises(InputError, match="registry id links it to trial_a"):
        study_groups(recs, links)


@pytest.mark.parametrize("rec, design, expected", [
    ({"source_labels": ["Congress"]}, "rct_parallel", "conference abstract"),
    ({"publication_types": "Journal Article; Congress"}, "case_report", "conference abstract"),
    ({"source_labels": ["Letter"]}, "case_report", "letter"),
    ({"journal": "Research Square preprint"}, "case_series", "preprint"),
    ({}, "trial_registration", "registry entry"),
    ({"publication_types": ["Journal Article"]}, "rct_crossover", "journal article"),
])
def test_report_type_is_not_a_design(rec: dict, design: str, expected: str) -> None:
    assert report_type(rec, design) == expected


def test_shipped_review_counts_reports_and_studies() -> None:
    table, prisma, _, _ = build_records_table(ReportContext(reports=Path("unused")))
    t = table.set_index("study_id")
    assert t.loc["niciu2013_AE_cases", "study_group"] == "bloch2012_openlabel"
    assert t.loc["rodriguez2011_case", "study_group"] == "rodriguez2013_rct"
    assert t.loc["rodriguez2022_acnp_abstract", "design"] == "rct_parallel"
    assert t.loc["rodriguez2022_acnp_abstract", "report_type"] == "conference abstract"
    inc = table[table["included"]]
    assert prisma["included_reports"] == len(inc) == prisma["included"]
    assert prisma["included_studies"] == inc["study_group"].nunique() < prisma["included_reports"]
    assert sum(prisma["included_by_design"].values()) == prisma["included_studies"]
    assert "conference_abstract" not in prisma["included_by_design"]
    links = load_links(paths.evidence_dir() / "study_links.csv", table)
    assert set(prisma["reports_of_included_studies_linked"]) <= set(links["report_id"])
