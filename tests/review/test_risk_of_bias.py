"""Risk-of-bias table: validation names file/row/field, every included study has every domain of its
tool, overall judgements follow each tool's algorithm, figures are byte-stable."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evidence_review import paths
from evidence_review.errors import InputError
from evidence_review.review import risk_of_bias as rob
from evidence_review.review import rob_plots

ROB_CSV = paths.evidence_dir() / "risk_of_bias.csv"
RECORDS = paths.reports_dir() / "tables" / "records.csv"


def _included() -> list[str]:
    return rob.included_study_ids(pd.read_csv(RECORDS, dtype=str, keep_default_na=False))


def test_every_included_study_has_every_domain_of_its_tool():
    included = _included()
    table = rob.load(ROB_CSV, included)
    assert set(table["study_id"]) == set(included)
    for (sid, outcome), grp in table.groupby(["study_id", "outcome"]):
        tool = rob.TOOLS[grp["tool"].iloc[0]]
        assert list(grp.sort_values("domain_order")["domain"]) == list(tool.domains), sid
        assert grp["support"].str.len().min() > 20 and grp["source"].str.len().min() > 5


def test_randomized_trials_use_rob2_and_crossovers_the_period_domain():
    table = rob.load(ROB_CSV, _included())
    tools = table.groupby("study_id")["tool"].first()
    assert tools["rodriguez2013_rct"] == tools["beaglehole2025_im_rct"] == "RoB 2 crossover"
    assert "DS" in set(table.loc[table["study_id"] == "rodriguez2013_rct", "domain"])
    # the facts flag unblinding against an inactive saline control: it must show in the measurement domain
    d4 = table[(table["study_id"] == "rodriguez2013_rct") & (table["domain"] == "D4")].iloc[0]
    assert d4["judgement"] == "High" and "saline" in d4["support"]


def _write(tmp_path: Path, rows: list[dict]) -> Path:
    p = tmp_path / "rob.csv"
    pd.DataFrame(rows, columns=list(rob.COLUMNS)).to_csv(p, index=False)
    return p


def _case_report(sid: str = "s1", **over) -> list[dict]:
    rows = [{"study_id": sid, "tool": "JBI case report", "domain": d, "outcome": "", "judgement": "Yes",
             "support": "A sentence of support.", "source": "PMID:1 abstract"} for d in rob.TOOLS["JBI case report"].domains]
    rows[2].update(over)
    return rows


@pytest.mark.parametrize("field,value,message", [
    ("tool", "Cochrane 2008", "unknown tool"),
    ("domain", "D9", "has no domain"),
    ("judgement", "Probably low", "is not a JBI case report judgement"),
    ("support", "", "missing value"),
    ("source", "", "missing value"),
])
def test_bad_rows_name_file_row_and_field(tmp_path, field, value, message):
    p = _write(tmp_path, _case_report(**{field: value}))
    with pytest.raises(InputError) as err:
        rob.load(p)
    assert err.value.row == 4 and err.value.field == field and message in str(err.value)
    assert str(p) in str(err.value)


def test_missing_domain_duplicate_and_coverage_are_errors(tmp_path):
    rows = _case_report()
    with pytest.raises(InputError, match="lacks JBI case report domain"):
        rob.load(_write(tmp_path, rows[:-1]))
    with pytest.raises(InputError, match="already judged"):
        rob.load(_write(tmp_path, rows + rows[:1]))
    with pytest.raises(InputError, match="without a risk-of-bias assessment: s2"):
        rob.load(_write(tmp_path, rows), included=["s1", "s2"])
    with pytest.raises(InputError, match="not an included study") as err:
        rob.load(_write(tmp_path, rows), included=["s2"])
    assert err.value.field == "study_id"
    rct = [{"study_id": "t", "tool": "RoB 2", "domain": d, "outcome": "", "judgement": "Low", "support": "x y z",
            "source": "PMID:2"} for d in rob.TOOLS["RoB 2"].domains]
    with pytest.raises(InputError, match="judged per outcome") as err:
        rob.load(_write(tmp_path, rct))
    assert err.value.field == "outcome"


def test_overall_algorithms():
    assert rob.overall_judgement("RoB 2", ["Low"] * 5)[0] == "Low"
    assert rob.overall_judgement("RoB 2", ["Low"] * 4 + ["Some concerns"])[0] == "Some concerns"
    assert rob.overall_judgement("RoB 2", ["Low", "Low", "No information", "Some concerns", "Low"])[0] == "Some concerns"
    assert rob.overall_judgement("RoB 2", ["Low", "Some concerns", "No information", "Some concerns", "Low"])[0] == "High"
    assert rob.overall_judgement("RoB 2 crossover", ["Low"] * 5 + ["High"])[0] == "High"
    assert rob.overall_judgement("ROBINS-I", ["Low"] * 6 + ["Moderate"])[0] == "Moderate"
    assert rob.overall_judgement("ROBINS-I", ["Serious", "Critical"] + ["Low"] * 5)[0] == "Critical"
    assert rob.overall_judgement("ROBINS-I", ["No information"] + ["Low"] * 6)[0] == "No information"
    # JBI: share of applicable items met; "Not applicable" leaves the denominator
    assert rob.overall_judgement("JBI case report", ["Yes"] * 6 + ["No", "Unclear"]) == ("Low", "6 of 8 applicable items met (75%)")
    assert rob.overall_judgement("JBI case series", ["Yes"] * 5 + ["Unclear"] * 4 + ["Not applicable"])[0] == "Moderate"
    assert rob.overall_judgement("JBI case report", ["Yes"] * 3 + ["Unclear"] * 5)[0] == "High"


def test_output_table_has_an_overall_row_per_assessment():
    table = rob.load(ROB_CSV, _included())
    ov = rob.overall(table)
    out = rob.output_table(table, ov)
    assert (out["domain"] == "Overall").sum() == len(ov) == table.groupby(["study_id", "outcome"]).ngroups
    assert len(out) == len(table) + len(ov)
    assert out["support"].ne("").all() and out["source"].ne("").all()


def test_figures_are_byte_stable(tmp_path):
    table = rob.load(ROB_CSV, _included())
    ov = rob.overall(table)
    labels = rob_plots.study_labels(paths.evidence_facts_dir() / "studies.jsonl", sorted(set(table["study_id"])))
    assert labels["rodriguez2013_rct"] == "Rodriguez 2013"
    weights = rob.participants(paths.evidence_facts_dir() / "studies.jsonl")
    assert weights["rodriguez2013_rct"] == 15 and weights["rodriguez2016_ketamine_cbt"] == 10
    a = rob_plots.save(rob_plots.traffic_light(table, ov, labels), tmp_path / "a")
    b = rob_plots.save(rob_plots.traffic_light(table, ov, labels), tmp_path / "b")
    assert a[1].read_bytes() == b[1].read_bytes()
    s = rob_plots.save(rob_plots.weighted_summary(table, ov, weights), tmp_path / "s")
    assert s[1].stat().st_size > 1000
