"""The extraction table: the committed file is valid and traceable; bad rows fail naming file, row, field."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from evidence_review import paths
from evidence_review.stats import extraction, synthesis
from evidence_review.errors import InputError


@pytest.fixture(scope="module")
def facts(shared_dir) -> dict[str, dict]:
    out = {}
    for line in (shared_dir / "evidence-facts" / "studies.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            out[rec["record_id"]] = rec
    return out


@pytest.fixture(scope="module")
def table(facts) -> pd.DataFrame:
    return extraction.load(known_study_ids=set(facts))


def test_committed_table_is_valid_and_covers_the_studies_with_numbers(table, facts):
    assert table["comparison_id"].is_unique
    assert set(table["study_id"]) <= set(facts)
    # every included human study whose abstract-level facts carry usable numbers is extracted
    for sid in ("rodriguez2013_rct", "bloch2012_openlabel", "sharma2020_retrospective", "ishimuro2025_pediatric",
                "beaglehole2025_im_rct", "kumar2025_adolescent_caseseries", "bellvitge_esketamine_caseseries_preprint"):
        assert sid in set(table["study_id"]), sid
    for _, row in table.iterrows():
        assert facts[row["study_id"]]["record_type"] == "study"
        assert facts[row["study_id"]]["design"] not in ("trial_registration",)


def _fmt(x: float) -> str:
    return f"{x:g}"


def test_every_number_traces_to_the_facts(table, facts):
    """Means, SDs and test statistics appear verbatim in the study's facts record; counts appear as
    'x/n' or 'x of n' unless the row says how they were derived."""
    for _, row in table.iterrows():
        text = json.dumps(facts[row["study_id"]], ensure_ascii=False)
        for col in ("m1i", "m2i", "sd1i", "sd2i", "ti", "fi", "pval"):
            if not pd.isna(row[col]):
                assert _fmt(row[col]) in text or f"{row[col]:.1f}" in text, (row["comparison_id"], col)
        if row["input_group"] == "proportion" and not row["derived"]:
            x, n = int(row["xi"]), int(row["ni"])
            assert re.search(rf"\b{x}\s*(/|of)\s*{n}\b", text), (row["comparison_id"], x, n)
        if row["input_group"] == "table_2x2":
            assert row["derived"], "2x2 counts here come from percentages and must say so"
        if row["input_group"] == "pre_post":
            assert row["derived"], "the pre-post r is never reported directly and must be explained"


def test_source_locators_name_the_study(table, facts):
    for _, row in table.iterrows():
        rec = facts[row["study_id"]]
        ident = row["source"].split(" ")[0]
        known = {f"PMID:{rec['pmid']}" if rec.get("pmid") else None, rec.get("pmcid"),
                 f"DOI:{rec['doi']}" if rec.get("doi") else None, rec.get("nct_id")}
        assert ident in known, (row["comparison_id"], ident)
        if rec.get("pmid"):
            assert ident == f"PMID:{rec['pmid']}" or ident == rec.get("pmcid")


# ---------------------------------------------------------------------------------------------
# bad rows
# ---------------------------------------------------------------------------------------------

def _base() -> dict[str, str]:
    row = {c: "" for c in extraction.COLUMNS}
    row.update(comparison_id="s1:resp", study_id="s1", design="case_series", comparison_type="single_group",
               outcome="Y-BOCS response", timepoint="week 1", measure="PLO", xi="3", ni="8",
               source="PMID:22784486 abstract")
    return row


def _df(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(extraction.COLUMNS))


def _fails(df: pd.DataFrame, field: str, row: int = 2, match: str = "") -> InputError:
    with pytest.raises(InputError) as info:
        extraction.validate(df, file="x.csv")
    err = info.value
    assert err.field == field and err.row == row and err.file == "x.csv", str(err)
    assert match in err.message
    return err


def test_valid_minimal_row():
    out = extraction.validate(_df(_base()), file="x.csv")
    assert out.loc[0, "input_group"] == "proportion" and out.loc[0, "xi"] == 3.0


def test_events_exceed_n():
    _fails(_df(_base() | {"xi": "9"}), "xi", match="exceed")


def test_sd_must_be_positive():
    row = _base() | {"measure": "SMD", "xi": "", "ni": "", "comparison_type": "between_groups",
                     "m1i": "10", "sd1i": "0", "n1i": "10", "m2i": "12", "sd2i": "3", "n2i": "10"}
    _fails(_df(row), "sd1i", match="SD must be > 0")


def test_unknown_measure_and_bad_source_and_design():
    _fails(_df(_base() | {"measure": "HR"}), "measure", match="unknown measure")
    _fails(_df(_base() | {"source": "abstract of Bloch 2012"}), "source", match="not well-formed")
    _fails(_df(_base() | {"source": "PMID:22784486"}), "source")
    _fails(_df(_base() | {"design": "rct"}), "design")


def test_duplicate_ids_name_the_second_row():
    _fails(_df(_base(), _base()), "comparison_id", row=3, match="duplicate")


def test_exactly_one_group_of_inputs():
    _fails(_df(_base() | {"ai": "1"}), "ai", match="exactly one group")
    _fails(_df(_base() | {"measure": "SMCR", "xi": "", "m1i": "20", "m2i": "25", "sd1i": "5"}), "ri")
    _fails(_df(_base() | {"xi": ""}), "xi", match="needs")


def test_statistic_rows_are_checked():
    row = _base() | {"measure": "SMCC", "comparison_type": "within_person", "xi": "", "ni": "10", "fi": "6.5",
                     "df1": "1", "df2": "9", "pval": "0.031", "effect_sign": "-1"}
    assert extraction.validate(_df(row), file="x.csv").loc[0, "input_group"] == "stat_within"
    _fails(_df(row | {"pval": "0.3"}), "pval", match="disagrees")
    _fails(_df(row | {"df2": "12"}), "df2")
    _fails(_df(row | {"effect_sign": ""}), "effect_sign")
    _fails(_df(row | {"df1": "2"}), "df1")


def test_implied_r_is_checked():
    row = _base() | {"measure": "SMCR", "comparison_type": "pre_post", "xi": "", "ni": "8", "m1i": "21.3",
                     "m2i": "30.1", "sd1i": "4.8", "sd2i": "8.0", "ri": "0.3", "ti": "4.16"}
    _fails(_df(row), "ri", match="implied")


def test_non_numeric_and_unknown_study_and_missing_column():
    _fails(_df(_base() | {"ni": "eight"}), "ni", match="not a number")
    with pytest.raises(InputError) as info:
        extraction.validate(_df(_base()), file="x.csv", known_study_ids={"other"})
    assert info.value.field == "study_id"
    with pytest.raises(InputError) as info:
        extraction.validate(_df(_base()).drop(columns=["notes"]), file="x.csv")
    assert info.value.row == 1 and info.value.field == "notes"


def test_load_reads_csv_and_reports_spreadsheet_row(tmp_path):
    path = tmp_path / "extraction.csv"
    df = _df(_base(), _base() | {"comparison_id": "s1:resp2", "xi": "-1"})
    df.to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        extraction.load(path)
    assert info.value.row == 3 and info.value.field == "xi" and str(path) in str(info.value)


def test_known_study_ids_reads_facts(shared_dir):
    ids = synthesis.known_study_ids(shared_dir)
    assert "rodriguez2013_rct" in ids and paths.evidence_facts_dir().exists()
