"""Registry client against the loopback stand-in: paging, faults, rate, bad queries."""

from __future__ import annotations

import pytest
from ctgov_standin import CtgovStandin, client_for, generate_studies

from evidence_review.errors import InputError, NetworkError
from evidence_review.registers.client import nct_id_of, search_params, updated_since


@pytest.fixture()
def standin():
    with CtgovStandin(generate_studies(230, seed=3)) as s:
        yield s


def test_pages_to_the_end_with_total_count(standin):
    client = client_for(standin)
    pages = list(client.iter_pages(search_params(cond="velmoric"), page_size=50))
    ids = [nct_id_of(s) for p in pages for s in p.studies]
    assert len(pages) == 5 and pages[0].total == 230 and pages[-1].next_token is None
    assert sorted(ids) == sorted(standin.studies) and len(set(ids)) == 230
    assert "countTotal" in standin.log[0].params and "countTotal" not in standin.log[1].params


@pytest.mark.parametrize("fault", ["503", "429", "reset", "truncate"])
def test_retries_transient_faults(standin, fault):
    standin.inject(fault, times=2)
    client = client_for(standin)
    ids = client.all_ids(search_params(cond="velmoric"))
    assert len(ids) == 230 and standin.pending_faults() == 0
    assert client.request_count == 1 + 2  # one page of 1000 ids plus two failed attempts


def test_retry_after_is_honoured(standin):
    standin.inject("429", retry_after=0.6)
    client_for(standin).search_page(search_params(cond="velmoric"), page_size=5)
    first, second = standin.log[0], standin.log[1]
    assert first.status == 429 and second.status == 200 and second.t - first.t >= 0.6


def test_slow_reply_times_out_and_is_retried(standin):
    standin.slow_seconds = 1.0
    standin.inject("slow")
    page = client_for(standin, read_timeout=0.3).search_page(search_params(cond="velmoric"), page_size=5)
    assert len(page.studies) == 5 and len(standin.log) == 2


def test_gives_up_after_max_tries(standin):
    standin.inject("503", times=10)
    with pytest.raises(NetworkError, match="failed after 3 tries"):
        client_for(standin, max_tries=3).search_page(search_params(cond="velmoric"))


def test_bad_query_shows_the_body_and_is_not_retried(standin):
    params = search_params(cond="velmoric", advanced="AREA[LastUpdatePostDate]RANGE[yesterday,MAX]")
    with pytest.raises(NetworkError, match=r"HTTP 400.*bad date 'yesterday'"):
        client_for(standin).search_page(params)
    assert len(standin.log) == 1


def test_updated_since_filters_on_last_update(standin):
    client = client_for(standin)
    params = updated_since(search_params(cond="velmoric"), "2020-01-01")
    got = {nct_id_of(s) for p in client.iter_pages(params) for s in p.studies}
    want = {n for n, s in standin.studies.items()
            if s["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] >= "2020-01-01"}
    assert got == want and 0 < len(got) < 230


def test_rate_is_never_exceeded(standin):
    client = client_for(standin, rate=4)
    list(client.iter_pages(search_params(cond="velmoric"), page_size=20))  # 12 pages
    assert len(standin.log) == 12 and standin.max_in_window(1.0) <= 4


def test_fractional_rate(standin):
    client = client_for(standin, rate=2.5)
    for _ in range(3):
        client.search_page(search_params(cond="velmoric"), page_size=1)
    assert standin.max_in_window(1.0) <= 2


def test_study_by_id_and_unknown(standin):
    client = client_for(standin)
    nct = sorted(standin.studies)[0]
    assert nct_id_of(client.study(nct)) == nct
    assert client.study("NCT99999999") is None


def test_search_needs_a_term():
    with pytest.raises(InputError, match="at least one of"):
        search_params(cond=" ", intr=None)


def test_base_url_from_environment(monkeypatch):
    from evidence_review.registers.client import CtgovClient

    monkeypatch.setenv("CTGOV_API_URL", "http://127.0.0.1:9/api/v2/")
    monkeypatch.setenv("CTGOV_RATE", "0.5")
    c = CtgovClient()
    assert c.base_url == "http://127.0.0.1:9/api/v2" and c.rate == 0.5
