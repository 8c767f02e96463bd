"""Registrations table, NCT ids in records, and the offline registrations compiled from the facts."""

from __future__ import annotations

import json

import pytest
from ctgov_standin import make_study

from evidence_review import paths
from evidence_review.errors import InputError
from evidence_review.registers.offline import build_offline, load_offline, parse_date, parse_enrollment
from evidence_review.review.registers import registrations_vocabulary
from evidence_review.review.topic import load_topic
from evidence_review.registers.schema import REGISTRATION_COLUMNS
from evidence_review.registers.table import (links_from_records, nct_ids_in_record, normalise_nct,
                                             registration_row, registrations_frame)


def test_row_reads_every_column_from_v2_json():
    s = make_study("NCT01234567", title="Zorbel trial", conditions=["Velmoric Disorder", "Lorbic Fatigue"],
                   drugs=["zentamine"], status="COMPLETED", last_update="2021-03-04", has_results=True,
                   phases=["PHASE1", "PHASE2"], start="2015-03", completion="2017-06", enrollment=42,
                   allocation="NA", masking="NONE", pmids=["31234567"])
    row = registration_row(s, linked=["PMID:29999999"])
    assert list(row) == list(REGISTRATION_COLUMNS)
    assert row["conditions"] == "Velmoric Disorder; Lorbic Fatigue" and row["interventions"] == "zentamine [DRUG]"
    assert row["phase"] == "PHASE1; PHASE2" and row["enrollment"] == 42 and row["enrollment_type"] == "ACTUAL"
    assert row["results_posted"] == "yes" and row["last_update"] == "2021-03-04"
    assert row["linked_reports"] == "PMID:29999999; PMID:31234567"
    empty = registration_row({"protocolSection": {"identificationModule": {"nctId": "NCT00000001"}}})
    assert empty["enrollment"] is None and empty["phase"] == "" and empty["results_posted"] == ""


def test_nct_ids_are_found_and_normalised():
    assert normalise_nct("nct 1349231") == "NCT01349231"
    rec = {"pmid": "1", "title": "A trial", "abstract": "Registered at NCT01349231 and NCT 02624596; NCT01349231.",
           "registry_ids": ["NCT05940324"]}
    assert nct_ids_in_record(rec) == ["NCT05940324", "NCT01349231", "NCT02624596"]
    links = links_from_records([rec, {"pmid": "2", "abstract": "see NCT01349231"}, {"pmid": "", "abstract": "NCT1"}])
    assert links["NCT01349231"] == ["PMID:1", "PMID:2"]


def test_frame_is_sorted_and_typed():
    studies = [make_study(f"NCT0000000{i}", title="t", conditions=["c"], drugs=["d"]) for i in (3, 1, 2)]
    df = registrations_frame(studies, {"NCT00000002": ["PMID:5"]})
    assert list(df["nct_id"]) == ["NCT00000001", "NCT00000002", "NCT00000003"]
    assert str(df["enrollment"].dtype) == "Int64" and df.loc[1, "linked_reports"] == "PMID:5"


@pytest.mark.parametrize("text,want", [("Dec 1, 2013", "2013-12-01"), ("September 2014", "2014-09"),
                                       ("2015-06-01 (clinicaltrialexchange)", "2015-06-01"), ("10/31/2022", "2022-10-31"),
                                       ("not visible", "")])
def test_parse_date(text, want):
    assert parse_date(text) == want


@pytest.mark.parametrize("text,want", [("10 (actual)", (10, "ACTUAL")), ("target 15", (15, "ESTIMATED")),
                                       ("3 participants", (3, "")), ("not specified", (None, "")),
                                       ("2 (actual); original target 50", (2, "ACTUAL"))])
def test_parse_enrollment(text, want):
    assert parse_enrollment(text) == want


def test_committed_offline_registrations_match_the_facts(shared_dir):
    committed = paths.evidence_dir() / "registers" / "registrations.json"
    doc = json.loads(committed.read_text())
    vocab = registrations_vocabulary(load_topic(paths.default_topic()))
    assert build_offline(shared_dir / "evidence-facts", doc["compiled"], vocab) == doc  # rebuilt, not hand-edited
    studies, compiled = load_offline(committed)
    facts = [json.loads(x) for x in (shared_dir / "evidence-facts" / "studies.jsonl").read_text().splitlines() if x]
    regs = [d for d in facts if d["design"] == "trial_registration"]
    assert len(studies) == len(regs) == 11 and compiled == "2026-11-21"
    by_id = {s["registry_id"]: s for s in studies}
    for d in regs:
        s = by_id[d["nct_id"] or d["other_registry_id"].split()[0]]
        assert s["protocolSection"]["identificationModule"]["briefTitle"] == d["title"]
        assert d["source_urls"] == s["source_urls"]
        posted = d["registration"]["results_posted"].lower()
        assert s.get("hasResults") == (True if posted.startswith("yes") else "unclear" if not posted.startswith("no")
                                       or posted.startswith("not") else False)
        for field in ("startDateStruct", "completionDateStruct", "enrollmentInfo", "phases", "overallStatus"):
            where = s["protocolSection"]["statusModule"] | s["protocolSection"]["designModule"]
            assert (field in where) == (field in s["derived"]), (s["registry_id"], field)  # every value says how


def test_offline_file_errors_name_the_field(tmp_path):
    bad = tmp_path / "r.json"
    bad.write_text(json.dumps({"format": "evidence-review offline registrations 1", "compiled": "2026-11-21",
                               "studies": [{"registry_id": "X"}, {"registry_id": "X"}]}))
    with pytest.raises(InputError, match="duplicate registry_id") as err:
        load_offline(bad)
    assert err.value.field == "registry_id"
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(InputError, match="format"):
        load_offline(bad)


_XML = b"""<?xml version="1.0"?>
<PubmedArticleSet>
<PubmedArticle><MedlineCitation><PMID Version="1">30000001</PMID><Article><ArticleTitle>Zorbel quanmin trial</ArticleTitle>
<DataBankList><DataBank><DataBankName>ClinicalTrials.gov</DataBankName><AccessionNumberList>
<AccessionNumber>NCT10000002</AccessionNumber></AccessionNumberList></DataBank>
<DataBank><DataBankName>GENBANK</DataBankName><AccessionNumberList><AccessionNumber>AB123</AccessionNumber>
</AccessionNumberList></DataBank></DataBankList></Article></MedlineCitation></PubmedArticle>
<PubmedArticle><MedlineCitation><PMID Version="1">30000002</PMID><Article><ArticleTitle>Tevlox report</ArticleTitle>
<Abstract><AbstractText>Registered as NCT10000003.</AbstractText></Abstract></Article></MedlineCitation></PubmedArticle>
</PubmedArticleSet>"""


def test_store_links_registrations_to_pubmed_records(tmp_path):
    import gzip

    from ctgov_standin import CtgovStandin, client_for, generate_studies

    from evidence_review.pubmed.parser import iter_records
    from evidence_review.pubmed.store import PullRow, Store
    from evidence_review.registers import pull as rp
    from evidence_review.registers.client import search_params
    from evidence_review.registers.table import registry_ids_in_xml, store_registrations

    assert registry_ids_in_xml(_XML) == {"30000001": ["NCT10000002"]}
    records = list(iter_records(_XML))
    with Store(tmp_path) as st:
        st.create_pull(PullRow("p1", "pull", "q", "k", "in_progress", "2026-01-01T00:00:00Z", None, 2,
                               "snapshots/p1", None, {}), [["30000001", "30000002"]], ["30000001", "30000002"])
        (tmp_path / "snapshots" / "p1").mkdir(parents=True)
        (tmp_path / "snapshots" / "p1" / "batch-00000.xml.gz").write_bytes(gzip.compress(_XML))
        st.ingest_batch("p1", 0, records, file="snapshots/p1/batch-00000.xml.gz", sha256="x", n_bytes=1,
                        fetched_utc="2026-01-01T00:00:00Z")
    with CtgovStandin(generate_studies(4)) as s:
        rp.pull(tmp_path, search_params(cond="velmoric"), client=client_for(s))
    with Store(tmp_path, create=False) as st:
        df = store_registrations(st).set_index("nct_id")
    assert df.loc["NCT10000002", "linked_reports"] == "PMID:30000001"   # DataBankList accession number
    assert df.loc["NCT10000003", "linked_reports"] == "PMID:30000002"   # printed in the abstract
    assert df.loc["NCT10000001", "linked_reports"] == ""
