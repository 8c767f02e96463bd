"""GRADE per outcome: each domain's rule, certainty arithmetic, standard wording, the SoF stage."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from evidence_review import paths, pipeline
from evidence_review.errors import InputError
from evidence_review.stats import grade, sof

GRADE_SRC = Path(grade.__file__)


def _res(**over) -> pd.DataFrame:
    base = dict(study_id=["a", "b"], design=["rct_parallel", "rct_parallel"], comparison_type=["between_groups"] * 2,
                outcome=["Y-BOCS response"] * 2, scale=["Y-BOCS"] * 2, measure=["RD", "RD"], yi=[0.2, 0.3],
                vi=[0.01, 0.01], n=[100, 100], ci_low=[0.05, 0.1], ci_high=[0.35, 0.5], effect_label=["x", "y"],
                direction=["favourable", "favourable"], kind=["benefit"] * 2)
    base.update(over)
    return pd.DataFrame(base)


def test_grade_module_is_pure():
    tree = ast.parse(GRADE_SRC.read_text(encoding="utf-8"))
    mods = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(m and (".claims" in m or ".pubmed" in m or ".registers" in m) for m in mods)
    assert "open(" not in GRADE_SRC.read_text(encoding="utf-8")


def test_risk_of_bias_domain_weights_participants():
    rob = {"a": ("Low", 0), "b": ("High", 2)}
    assert grade.risk_of_bias(_res(), rob).levels == -1  # mean severity 1.0
    assert grade.risk_of_bias(_res(n=[300, 100]), rob).levels == -1  # 0.5 -> serious
    assert grade.risk_of_bias(_res(n=[1000, 10]), rob).judgement == "not serious"
    assert grade.risk_of_bias(_res(n=[10, 1000]), rob).judgement == "very serious"
    assert "no risk-of-bias assessment for b" in grade.risk_of_bias(_res(), {"a": ("Low", 0)}).reason


def test_inconsistency_needs_two_studies_and_reads_directions_and_i2():
    assert grade.inconsistency(_res().iloc[:1]).reason.startswith("single study")
    assert grade.inconsistency(_res()).judgement == "not serious"
    split = grade.inconsistency(_res(direction=["favourable", "unfavourable"], yi=[0.2, -0.2]))
    assert split.levels <= -1 and "directions differ" in split.reason
    het = grade.inconsistency(_res(yi=[0.0, 0.6], vi=[0.001, 0.001]))
    assert het.levels == -1 and "I2 = " in het.reason


def test_indirectness_against_pico():
    params = grade.GradeParams(indirect_outcomes={"dose trend": "not a contrast"}, populations=("adult",),
                               outcome_measures=("Y-BOCS", "CY-BOCS"))
    assert grade.indirectness(_res(), params, {"a": "adult", "b": "adult"}).levels == 0
    assert grade.indirectness(_res(outcome=["dose trend", "Y-BOCS response"]), params,
                              {"a": "adult", "b": "adult"}).reason.startswith("a: not a contrast")
    assert "scale 'OCD-VAS'" in grade.indirectness(_res(scale=["OCD-VAS", "Y-BOCS"]), params,
                                                   {"a": "adult", "b": "adult"}).reason
    assert "population class 'child'" in grade.indirectness(_res(), params, {"a": "child", "b": "adult"}).reason


def test_optimal_information_size_and_imprecision():
    p = grade.GradeParams()
    assert grade.optimal_information_size(p, continuous=True) == 786  # 2 x ceil(2 (1.96 + 0.84)^2 / 0.2^2)
    # (1.95996 + 0.84162)^2 x (0.2 x 0.8 + 0.25 x 0.75) / 0.05^2 = 1090.99 per arm -> 1091 -> 2182
    assert grade.optimal_information_size(grade.GradeParams(control_risk=0.2), continuous=False) == 2182
    big = grade.GradeParams(control_risk=0.5, relative_risk_reduction=0.5)
    assert grade.imprecision(_res(), 200, big).judgement == "not serious"
    assert grade.imprecision(_res(ci_low=[-0.1, 0.1]), 200, big).levels == -1
    assert grade.imprecision(_res(ci_low=[-0.1, 0.1]), 20, big).levels == -2


def test_publication_bias_uses_missing_results_and_registers():
    none = grade.publication_bias(True, [], None)
    assert none.levels == 0 and "not assessed: no register data" in none.reason
    assert grade.publication_bias(True, ["t1"], None).levels == -1
    reg = pd.DataFrame({"nct_id": ["NCT1", "NCT2"]})
    d = grade.publication_bias(True, [], reg)
    assert d.levels == -1 and "2 registered trial(s) without results (NCT1, NCT2)" in d.reason
    assert grade.publication_bias(False, [], reg).levels == 0


def test_certainty_and_standard_wording():
    spec = grade.SofOutcome("x", "OCD response", "ketamine vs saline", ("Y-BOCS response",), ("between_groups",))
    assert grade.certainty("high", [grade.Domain("serious", "", -1)]) == "moderate"
    assert grade.certainty("low", [grade.Domain("very serious", "", -2)]) == "very low"
    assert grade.statement("high", spec, True, "ketamine") == "Ketamine improves OCD response (ketamine vs saline)."
    assert grade.statement("moderate", spec, True, "ketamine") == "Ketamine probably improves OCD response (ketamine vs saline)."
    assert grade.statement("low", spec, True, "ketamine") == "Ketamine may improve OCD response (ketamine vs saline)."
    assert grade.statement("very low", spec, True, "ketamine").startswith("The evidence is very uncertain about the effect of ketamine on OCD")


@pytest.fixture(scope="module")
def sof_ctx(tmp_path_factory):
    ctx = pipeline.ReportContext(reports=tmp_path_factory.mktemp("sof") / "reports")
    return pipeline.run(ctx, stages=["sof"])


def test_sof_table_rows_have_five_domains_and_a_statement(sof_ctx):
    table = pd.read_csv(sof_ctx.tables_dir / "sof.csv", keep_default_na=False)
    assert len(table) >= 6 and table["sof_id"].is_unique
    for col in ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias"):
        assert table[col].ne("").all() and table[f"{col}_reason"].ne("").all()
    assert table["certainty"].isin(grade.LEVELS).all()
    assert table["statement"].str.contains("very uncertain|probably| may ", regex=True).all()
    placebo = table.set_index("sof_id").loc["ybocs_response_vs_placebo"]
    assert placebo["starting_level"] == "high" and placebo["studies"] == 1 and placebo["participants"] == 15
    assert "rodriguez2013_rct High" in placebo["risk_of_bias_reason"]
    assert "rodriguez2017_intranasal" in placebo["publication_bias_reason"]
    harms = table.set_index("sof_id").loc["psychiatric_harms"]
    # the adverse-event report on Bloch trial patients counts with its parent study's participants once
    assert harms["study_ids"] == "bloch2012_openlabel; kumar2025_adolescent_caseseries"
    assert grade.certainty_for(sof_ctx.tables["sof"], "ybocs_response_vs_placebo") == placebo["certainty"]
    assert grade.certainty_for(sof_ctx.tables["sof"], "no such outcome") is None


def test_sof_stage_reads_a_register_table_when_present(tmp_path):
    ctx = pipeline.ReportContext(reports=tmp_path / "reports")
    pipeline.run(ctx, stages=["effects"])
    ctx.tables["non_publication"] = pd.DataFrame({"nct_id": ["NCT01371110", "NCT02234011"]})
    sof.report_stage(ctx)
    row = ctx.tables["sof"].set_index("sof_id").loc["ybocs_response_vs_placebo"]
    assert "NCT01371110" in row["publication_bias_reason"]


def test_bad_grade_parameters_name_the_field(tmp_path):
    topic = paths.evidence_dir() / "topics" / "ketamine_ocd.toml"
    bad = tmp_path / "t.toml"
    bad.write_text(topic.read_text(encoding="utf-8").replace("ois_smd = 0.2", "ois_smd = 0.2\nois_typo = 1"),
                   encoding="utf-8")
    with pytest.raises(InputError) as err:
        sof.load_grade(bad)
    assert err.value.field == "grade.ois_typo"
