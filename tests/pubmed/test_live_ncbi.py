"""Against the real NCBI E-utilities. Off by default (no network here or in CI); run with

    python -m pytest -m live tests/test_live_ncbi.py

It checks what the stand-in cannot: that NCBI still answers our requests in the shape we parse.
"""

from __future__ import annotations

import pytest

from evidence_review.pubmed.client import DEFAULT_BASE_URL, EntrezClient
from evidence_review.pubmed.pull import pull
from evidence_review.pubmed.store import Store

pytestmark = pytest.mark.live

# Bloch 2012 (Biol Psychiatry), PMID and DOI as listed in ../shared/evidence-facts/studies.jsonl
BLOCH_PMID = "22784486"
BLOCH_DOI = "10.1016/j.biopsych.2012.05.028"


def test_doi_search_resolves_a_known_study() -> None:
    client = EntrezClient(DEFAULT_BASE_URL)
    result = client.esearch(f"{BLOCH_DOI}[doi]")
    assert result.count == 1
    assert result.ids == [BLOCH_PMID]


def test_small_live_pull_stores_the_record(tmp_path) -> None:
    out = pull(tmp_path / "store", f"{BLOCH_PMID}[pmid]", client=EntrezClient(DEFAULT_BASE_URL))
    assert out.n_pmids == 1 and not out.missing
    with Store(tmp_path / "store") as store:
        records = store.records_frame()
    rec = records.set_index("pmid").loc[BLOCH_PMID]
    assert "ketamine" in rec["title"].lower()
    assert rec["doi"] == BLOCH_DOI
