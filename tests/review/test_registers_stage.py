"""The register stream: classification rules, the shipped review's registrations, the non-publication table."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from evidence_review import paths
from evidence_review.pipeline import ReportContext, run
from evidence_review.report.registers_section import registers_md
from evidence_review.report.summary import md_table
from evidence_review.review.registers import classify

AS_OF = dt.date(2026, 11, 21)


def row(**kw):
    base = {"overall_status": "COMPLETED", "linked_reports": "", "results_posted": "no", "completion_date": "2019-05",
            "primary_completion_date": ""}
    return {**base, **kw}


@pytest.mark.parametrize("kw,want", [
    ({"overall_status": "RECRUITING"}, "ongoing"),
    ({"overall_status": "ACTIVE_NOT_RECRUITING", "linked_reports": "abstract2022"}, "ongoing"),
    ({"linked_reports": "PMID:1"}, "reported"),
    ({}, "non_publication"),
    ({"overall_status": "TERMINATED", "completion_date": "", "primary_completion_date": "2020-01-10"}, "non_publication"),
    ({"results_posted": "yes"}, "awaiting_classification"),
    ({"results_posted": "unclear"}, "awaiting_classification"),
    ({"completion_date": "2025-06"}, "awaiting_classification"),   # ended within two years
    ({"completion_date": "2024-11-22"}, "awaiting_classification"),  # one day short of two years
    ({"completion_date": "2024-11-20"}, "non_publication"),          # one day over
    ({"completion_date": ""}, "awaiting_classification"),
    ({"overall_status": "WITHDRAWN"}, "withdrawn_before_enrolment"),
])
def test_classify(kw, want):
    assert classify(row(**kw), AS_OF)[0] == want


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> ReportContext:
    return run(ReportContext(reports=tmp_path_factory.mktemp("reports")), stages=["registers"])


def test_shipped_register_stream(shipped: ReportContext):
    s = shipped.facts["register_stream"]
    reg = shipped.tables["registrations"]
    assert s["identified"] == 11 and s["identified_by_registry"]["ClinicalTrials.gov"] == 9
    assert s["reported"] + s["ongoing"] + s["awaiting_classification"] + s["non_publication"] == 11
    assert set(s["ongoing_ids"]) == {"NCT02624596", "NCT05940324", "IRCT20140120016280N5", "RBR-6kmdtgb"}
    assert set(s["awaiting_ids"]) == {"NCT01371110", "NCT02234011"}  # results posted, no paper
    by = reg.set_index("registry_id")
    assert by.loc["NCT01349231", "linked_reports"] == "bloch2012_openlabel"   # the paper prints the NCT id
    assert by.loc["NCT01100255", "linked_reports"] == "rodriguez2013_rct"     # curated study link
    assert (shipped.tables_dir / "registrations.csv").is_file() and (shipped.tables_dir / "non_publication.csv").is_file()
    assert json.loads((shipped.reports / "prisma_registers.json").read_text()) == s
    assert "NCT01371110" in shipped.facts["publication_bias_registers"]
    # the database stream no longer counts registrations; together they account for every entry
    p = shipped.facts["prisma"]
    manifest = json.loads((paths.evidence_dir() / "snapshot" / "manifest.json").read_text())
    assert p["identified"] + p["identified_registers"] == manifest["counts"]["identified"]
    assert "registration" not in " ".join(p["excluded_full_text_reasons"])
    records = shipped.tables["records"]
    snap_ids = set(records.loc[records["key_source"].isin(["nct", "registry"]), "nct_id"]) | \
        set(records.loc[records["key_source"] == "registry", "other_registry_id"])
    assert set(reg["registry_id"]) == snap_ids - {""}


def test_summary_section_lists_the_stream(shipped: ReportContext):
    text = "\n".join(registers_md(shipped, md_table))
    assert "## Trial registers" in text and "### Ongoing trials" in text and "NCT05940324" in text
    assert "<NA>" not in text and "_none among the registrations searched_" in text


def test_a_silent_trial_lands_in_the_non_publication_table(tmp_path: Path):
    evidence = tmp_path / "evidence"
    shutil.copytree(paths.evidence_dir(), evidence)
    reg_file = evidence / "registers" / "registrations.json"
    doc = json.loads(reg_file.read_text())
    silent = json.loads(json.dumps(doc["studies"][0]))
    silent["registry_id"] = "NCT09999999"
    silent["protocolSection"]["identificationModule"]["nctId"] = "NCT09999999"
    silent["protocolSection"]["statusModule"] = {"overallStatus": "COMPLETED", "completionDateStruct": {"date": "2019-03"}}
    silent["hasResults"] = False
    doc["studies"].append(silent)
    reg_file.write_text(json.dumps(doc))
    ctx = run(ReportContext(evidence=evidence, reports=tmp_path / "reports"), stages=["registers"])
    nonpub = pd.read_csv(ctx.tables_dir / "non_publication.csv", dtype=str, keep_default_na=False)
    assert list(nonpub["registry_id"]) == ["NCT09999999"] and nonpub.loc[0, "years_since_end"] == "7.7"
    assert ctx.facts["register_stream"]["non_publication_ids"] == ["NCT09999999"]
    assert "NCT09999999" in ctx.facts["publication_bias_registers"]


def test_a_store_with_a_registry_pull_feeds_the_stream(tmp_path: Path):
    from ctgov_standin import CtgovStandin, client_for, make_study

    from evidence_review.registers import pull as rp
    from evidence_review.registers.client import search_params

    studies = [make_study("NCT10000001", title="Zorbel", conditions=["Velmoric Disorder"], drugs=["zentamine"],
                          status="RECRUITING"),
               make_study("NCT10000002", title="Quandel", conditions=["Velmoric Disorder"], drugs=["zentamine"],
                          status="COMPLETED", completion="2018-02", has_results=False),
               make_study("NCT01349231", title="Tevlox", conditions=["Velmoric Disorder"], drugs=["zentamine"],
                          status="COMPLETED", completion="2012-02", has_results=True)]
    with CtgovStandin(studies) as s:
        res = rp.pull(tmp_path / "store", search_params(cond="velmoric"), client=client_for(s))
    ctx = ReportContext(reports=tmp_path / "reports")
    ctx.store = tmp_path / "store"
    ctx.tables["records"] = run(ReportContext(reports=tmp_path / "r0"), stages=["records"]).tables["records"]
    from evidence_review.review.registers import report_stage

    report_stage(ctx)
    stream = ctx.facts["register_stream"]
    assert stream["source"] == f"registry pull {res.pull_id}" and stream["identified"] == 3
    assert stream["ongoing_ids"] == ["NCT10000001"] and stream["non_publication_ids"] == ["NCT10000002"]
    reg = ctx.tables["registrations"].set_index("registry_id")
    assert reg.loc["NCT01349231", "stream_class"] == "reported"  # the snapshot paper prints this NCT id
