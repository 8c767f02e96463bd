from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evidence_review import paths
from evidence_review.errors import InputError
from evidence_review.pipeline import ReportContext
from evidence_review.review.screening import (build_records_table, load_decisions, prisma_counts, report_stage,
                                       screen_frame, screen_record)
from evidence_review.review.topic import load_topic

TOPIC = load_topic(paths.evidence_dir() / "topics" / "ketamine_ocd.toml")
PRISMA_KEYS = ("identified", "duplicates_removed", "screened", "excluded_title_abstract", "full_text_assessed",
               "excluded_full_text", "included")


def r(title: str, abstract: str = "", **kw) -> dict:
    return {"study_id": kw.pop("study_id", "s"), "pmid": kw.pop("pmid", ""), "title": title, "abstract": abstract,
            "mesh_terms": [], "keywords": [], **kw}


@pytest.mark.parametrize("record, design, stage, words", [
    (r("Ketamine reduces grooming in SAPAP3 knockout mice"), "other", "title_abstract", "not human"),
    (r("Ketamine for OCD in rats"), "preclinical", "title_abstract", "not human"),
    (r("Ketamine in OCD: a systematic review"), "systematic_review", "title_abstract", "not a primary study"),
    (r("Ketamine in OCD"), "letter_comment", "title_abstract", "letter"),
    (r("Ketamine for compulsive eating"), "case_series", "title_abstract", "population"),
    (r("Memantine for obsessive-compulsive disorder"), "rct_parallel", "title_abstract", "intervention"),
    (r("Ketamine for OCD", linked_study_id="x2012"), "trial_registration", "full_text", "x2012"),
    (r("Ketamine for OCD", results_posted="yes"), "trial_registration", "full_text", "register stream"),
    (r("Ketamine in OCD", "Prefrontal GABA rose after infusion; MRS spectra were acquired."), "rct_crossover",
     "full_text", "no clinical outcome"),
    (r("Ketamine in OCD"), "other", "full_text", "design"),
])
def test_rules_exclude_with_stage_and_reason(record: dict, design: str, stage: str, words: str) -> None:
    res = screen_record(record, design, TOPIC)
    assert not res.included and res.stage == stage and words in res.reason and res.category


def test_rules_include_eligible_primary_study() -> None:
    res = screen_record(r("Esketamine in obsessive-compulsive disorder", "Y-BOCS fell by 30%."), "case_series", TOPIC)
    assert res.included and res.reason == "" and res.stage == ""
    # no abstract (offline snapshot): outcome cannot be checked by rule, so the record goes on
    assert screen_record(r("Ketamine in OCD: a case report"), "case_report", TOPIC).included


def _frame() -> pd.DataFrame:
    return pd.DataFrame([
        {**r("Ketamine in OCD", study_id="a", pmid="11"), "design": "case_report"},
        {**r("Ketamine in OCD: review", study_id="b"), "design": "narrative_review"},
        {**r("Ketamine in OCD", study_id="c"), "design": "rct_crossover"},
    ])


def _csv(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "decisions.csv"
    p.write_text("study_id,pmid,decision,stage,category,reviewer,reason\n" + body, encoding="utf-8")
    return p


def test_decisions_win_and_are_counted(tmp_path: Path) -> None:
    p = _csv(tmp_path, ",11,exclude,full_text,no clinical outcome,rev,imaging only\n"
                       "b,,include,,,rev,reports new patients\n"
                       "c,,include,,,rev,eligible\n")
    d = load_decisions(p, _frame())
    out = screen_frame(_frame(), TOPIC, d).set_index("study_id")
    assert not out.loc["a", "included"] and out.loc["a", "screening_stage"] == "full_text"
    assert out.loc["a", "exclusion_reason"] == "imaging only" and out.loc["a", "exclusion_category"] == "no clinical outcome"
    assert out.loc["b", "included"] and out.loc["b", "exclusion_reason"] == ""
    assert out.loc["c", "screening_source"] == "reviewer (confirms rule)"
    counts = prisma_counts(out.reset_index(), identified=4, duplicates_removed=1)
    assert counts["reviewer_decisions"] == {"applied": 3, "overriding_rule": 2}
    assert counts["included"] == 2 and counts["excluded_full_text"] == 1 and counts["excluded_title_abstract"] == 0


@pytest.mark.parametrize("body, row, field", [
    ("a,,maybe,,,rev,why\n", 2, "decision"),
    ("a,,exclude,,,rev,why\n", 2, "stage"),
    ("a,,exclude,abstract,,rev,why\n", 2, "stage"),
    ("a,,include,full_text,,rev,why\n", 2, "stage"),
    ("c,,include,,,rev,why\nnope,,include,,,rev,why\n", 3, "study_id"),
    (",12,include,,,rev,why\n", 2, "pmid"),
    ("a,,include,,,,why\n", 2, "reviewer"),
    ("a,,include,,,rev,\n", 2, "reason"),
    ("a,,include,,,rev,x\na,,include,,,rev,y\n", 3, "study_id"),
])
def test_bad_decisions_name_file_row_field(tmp_path: Path, body: str, row: int, field: str) -> None:
    p = _csv(tmp_path, body)
    with pytest.raises(InputError) as err:
        load_decisions(p, _frame())
    assert (err.value.file, err.value.row, err.value.field) == (str(p), row, field)


def test_prisma_refuses_counts_that_do_not_add_up() -> None:
    out = screen_frame(_frame(), TOPIC)
    with pytest.raises(InputError, match="duplicates"):
        prisma_counts(out, identified=10, duplicates_removed=1)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> ReportContext:
    c = ReportContext(reports=tmp_path_factory.mktemp("reports"))
    report_stage(c)
    return c


def test_shipped_review_prisma_adds_up(ctx: ReportContext) -> None:
    p = json.loads((ctx.reports / "prisma.json").read_text())
    assert all(isinstance(p[k], int) for k in PRISMA_KEYS)
    assert p["identified"] - p["duplicates_removed"] == p["screened"]
    assert p["screened"] - p["excluded_title_abstract"] == p["full_text_assessed"]
    assert p["full_text_assessed"] - p["excluded_full_text"] == p["included"]
    assert p["duplicates_removed"] > 0 and p["included"] >= 10
    assert sum(p["excluded_title_abstract_reasons"].values()) == p["excluded_title_abstract"]
    assert sum(p["excluded_full_text_reasons"].values()) == p["excluded_full_text"]
    assert p == ctx.facts["prisma"]


def test_shipped_review_key_studies(ctx: ReportContext) -> None:
    t = ctx.tables["records"].set_index("study_id")
    for sid in ("rodriguez2013_rct", "bloch2012_openlabel", "beaglehole2025_im_rct", "sharma2020_retrospective",
                "ishimuro2025_pediatric", "kaltenboeck2023_esketamine_case"):
        assert t.loc[sid, "included"], sid
    for sid in ("bandeira2022_sr", "kwan2024_meta", "reg_NCT01349231"):
        assert not t.loc[sid, "included"] and t.loc[sid, "exclusion_reason"]
    assert t.loc["kwan2024_meta", "design"] == "meta_analysis"
    assert set(t.loc[t["included"], "exclusion_reason"]) == {""}


def test_report_stage_outputs(ctx: ReportContext, tmp_path: Path) -> None:
    csv = ctx.tables_dir / "records.csv"
    header = csv.read_text().splitlines()[0].split(",")
    for col in ("study_id", "design", "design_confidence", "design_reason", "design_source", "included", "exclusion_reason",
                "study_group", "study_design", "report_type"):
        assert col in header
    assert (ctx.figures_dir / "prisma.png").stat().st_size > 0
    svg = (ctx.figures_dir / "prisma.svg").read_text()
    p = ctx.facts["prisma"]
    for key in ("identified", "screened", "full_text_assessed", "included"):
        assert f"(n = {p[key]})" in svg
    for reason in p["excluded_full_text_reasons"]:
        assert reason in svg
    assert {"accuracy", "kappa", "n"} <= set(ctx.facts["design_agreement"])
    assert ctx.facts["snapshot_manifest"]["compiled"] == "2026-11-21"
    assert all(p.exists() for p in ctx.written)
    # same inputs -> same bytes
    again = ReportContext(reports=tmp_path)
    report_stage(again)
    for name in ("tables/records.csv", "prisma.json", "figures/prisma.png", "figures/prisma.svg", "tables/design_agreement.csv"):
        assert (tmp_path / name).read_bytes() == (ctx.reports / name).read_bytes(), name


def test_bad_decisions_file_stops_the_stage(tmp_path: Path) -> None:
    src = paths.evidence_dir() / "topics" / "ketamine_ocd.toml"
    decisions = tmp_path / "screening_decisions.csv"
    decisions.write_text("study_id,pmid,decision,stage,category,reviewer,reason\nno_such_study,,include,,,rev,why\n")
    text = src.read_text(encoding="utf-8")
    assert 'screening_decisions = "evidence/screening_decisions.csv"' in text
    topic = tmp_path / "topic.toml"
    text = text.replace('screening_decisions = "evidence/screening_decisions.csv"',
                        f'screening_decisions = "{decisions.as_posix()}"')
    topic.write_text(text.replace("[files]\n", f'[files]\nroot = "{paths.project_root().as_posix()}"\n'), encoding="utf-8")
    c = ReportContext(topic_path=topic, reports=tmp_path / "reports")
    with pytest.raises(InputError) as err:
        build_records_table(c)
    assert err.value.row == 2 and err.value.field == "study_id"
