"""E-utilities client against the loopback stand-in: rate limit, every fault, retries, split, secrets."""

from __future__ import annotations

import logging
import time

import pytest
import requests
from eutils_standin import EutilsStandin, client_for, standin_records

from evidence_review.errors import NetworkError
from evidence_review.pubmed.client import EntrezClient, pmids_in, redact

KEY = "SECRET-api-key-0123456789"
EMAIL = "reviewer@example.org"


@pytest.fixture(scope="module")
def corpus():
    return standin_records(300, seed=3)


@pytest.fixture()
def standin(corpus):
    with EutilsStandin(corpus, stall_seconds=1.2) as s:
        yield s


def assert_polite(s: EutilsStandin, limit: int = 3) -> None:
    assert not s.rate_limited(), "a request broke the stand-in's rate rule"
    assert s.max_in_window() <= limit


# -- the stand-in itself enforces the rule our limiter respects ---------------------------------------


def test_standin_answers_429_beyond_three_requests_per_second(standin: EutilsStandin) -> None:
    codes = [requests.get(standin.url + "esearch.fcgi", params={"db": "pubmed", "term": "x"}, timeout=5)
             for _ in range(5)]
    assert [r.status_code for r in codes[:3]] == [200, 200, 200]
    assert codes[3].status_code == 429 and codes[3].headers["Retry-After"] == "1"
    assert len(standin.rate_limited()) == 2


# -- every fault is retried ---------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["503", "500", "truncate", "reset", "stall"])
def test_each_fault_is_retried_and_the_batch_is_complete(standin: EutilsStandin, fault: str) -> None:
    client = client_for(standin)
    res = client.esearch("ketamine")
    standin.inject(fault, endpoint="efetch")
    xml = client.efetch_history(res.webenv, res.query_key, 0, 100)
    assert pmids_in(xml) == res.ids[:100]
    efetches = [r for r in standin.log if r.endpoint == "efetch"]
    assert [r.fault for r in efetches] == [fault, None]
    assert standin.pending_faults() == 0
    assert_polite(standin)


def test_stall_really_outlasts_the_read_timeout(corpus) -> None:
    with EutilsStandin(corpus, stall_seconds=3.0) as s:
        client = client_for(s, read_timeout=0.3)
        s.inject("stall")
        t0 = time.monotonic()
        res = client.esearch("ketamine")
        took = time.monotonic() - t0
    assert res.count == 300 and s.log[0].fault == "stall"
    assert 0.3 <= took < 2.5  # the client gave up after its read timeout instead of sitting out the 3 s stall


def test_429_retry_after_is_honoured(standin: EutilsStandin) -> None:
    client = client_for(standin)
    standin.inject("429", retry_after=1.5)
    t0 = time.monotonic()
    client.esearch("ketamine")
    first, second = standin.log[0], standin.log[1]
    assert first.status == 429 and second.status == 200
    assert second.t - first.t >= 1.5
    assert time.monotonic() - t0 >= 1.5


def test_gives_up_with_an_actionable_error(standin: EutilsStandin) -> None:
    client = client_for(standin, max_tries=3)
    standin.inject("503", times=5)
    with pytest.raises(NetworkError) as err:
        client.esearch("ketamine")
    msg = str(err.value)
    assert "3 tries" in msg and "HTTP 503" in msg and "re-run the same command" in msg
    assert len(standin.log) == 3


def test_backoff_grows_exponentially_with_jitter() -> None:
    client = EntrezClient("http://127.0.0.1:9/", backoff=1.0, backoff_max=60, api_key="", email="")
    for attempt in range(5):
        d = client._delay(attempt, None)
        assert 0.5 * 2 ** attempt <= d <= 2 ** attempt
    assert client._delay(0, 7.0) == 7.0  # Retry-After is a floor


def test_connection_refused_is_retried_then_reported() -> None:
    with EutilsStandin([]) as s:
        url = s.url
    client = EntrezClient(url, backoff=0.01, max_tries=2, connect_timeout=0.5, api_key="", email="")
    with pytest.raises(NetworkError, match="2 tries"):
        client.esearch("x")


# -- NCBI etiquette and secrets -----------------------------------------------------------------------


def test_tool_email_and_key_are_sent_and_key_raises_the_limit(corpus) -> None:
    with EutilsStandin(corpus) as s:
        client = client_for(s, api_key=KEY, email=EMAIL)
        res = client.esearch("ketamine")
        for i in range(0, 300, 25):
            client.efetch_history(res.webenv, res.query_key, i, 25)
        assert all(r.has_api_key and r.params["tool"] == "evidence-review" and r.params["email"] == "***"
                   for r in s.log)
        assert s.max_in_window() > 3  # 10/s with a key ...
        assert_polite(s, limit=10)  # ... and never more


def test_secrets_never_reach_logs_or_errors(standin: EutilsStandin, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client = client_for(standin, api_key=KEY, email=EMAIL, max_tries=2)
    standin.inject("reset")
    standin.inject("stall")
    with pytest.raises(NetworkError) as err:
        client.esearch("ketamine")
    text = caplog.text + str(err.value)
    assert "retrying" in caplog.text
    assert KEY not in text and EMAIL not in text and "reviewer%40example.org" not in text


def test_debug_logging_of_request_urls_is_redacted(standin: EutilsStandin, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client_for(standin, api_key=KEY, email=EMAIL).esearch("ketamine")
    assert "esearch.fcgi?" in caplog.text  # urllib3 did log the URL ...
    assert "api_key=REDACTED" in caplog.text and KEY not in caplog.text  # ... without the secrets
    assert "reviewer%40example.org" not in caplog.text


def test_redact_hides_key_and_email_in_urls_and_text() -> None:
    url = f"https://x/efetch.fcgi?db=pubmed&api_key={KEY}&email=reviewer%40example.org&id=1"
    out = redact(url, [KEY, EMAIL])
    assert KEY not in out and "reviewer" not in out and "id=1" in out
    assert redact(f"key {KEY} mail {EMAIL}", [KEY, EMAIL]) == "key REDACTED mail REDACTED"


# -- history, POST, split -----------------------------------------------------------------------------


def test_history_batches_follow_the_search_order(standin: EutilsStandin) -> None:
    client = client_for(standin)
    res = client.esearch("ketamine")
    assert res.webenv and res.query_key and len(res.ids) == 300
    got = []
    for start in (0, 120, 240):
        got += pmids_in(client.efetch_history(res.webenv, res.query_key, start, 120))
    assert got == res.ids


def test_long_id_lists_are_posted(standin: EutilsStandin, corpus) -> None:
    client = client_for(standin)
    ids = [r.pmid for r in corpus]
    assert sorted(pmids_in(client.efetch_ids(ids[:250]))) == sorted(ids[:250])
    assert sorted(pmids_in(client.efetch_ids(ids[:20]))) == sorted(ids[:20])
    methods = [r.method for r in standin.log if r.endpoint == "efetch"]
    assert methods == ["POST", "GET"]
    assert standin.log[0].pmids and len(standin.log[0].pmids) == 250


def test_search_past_the_retrieval_cap_is_split_by_date_and_drops_nothing() -> None:
    corpus = standin_records(2500, seed=11)
    with EutilsStandin(corpus, cap=1000) as s:
        client = client_for(s, retrieval_cap=1000, api_key=KEY)
        naive = client.esearch("ketamine")
        assert naive.count == 2500 and len(naive.ids) == 1000  # what a client without the split gets
        full = client.search_all("ketamine")
        assert full.count == 2500
        assert sorted(full.ids) == sorted(r.pmid for r in corpus)
        assert len(full.parts) > 1 and all(p.count <= 1000 for p in full.parts)
        assert sum(p.count for p in full.parts) == 2500
        # each part keeps its own history handle for efetch
        p = full.parts[0]
        assert pmids_in(client.efetch_history(p.webenv, p.query_key, 0, 50)) == p.ids[:50]
        assert_polite(s, limit=10)


def test_single_day_past_the_cap_is_an_error_not_a_silent_drop() -> None:
    import dataclasses

    from evidence_review.pubmed import synthetic as sp

    same_day = [dataclasses.replace(r, pub_date=sp.PubDate(2020, "Mar", 3, expected_year=2020,
                                                           expected_pub_date="2020-03-03"))
                for r in standin_records(30, seed=2)]
    with EutilsStandin(same_day, cap=10) as s:
        client = client_for(s, retrieval_cap=10, api_key=KEY)
        with pytest.raises(NetworkError, match="narrow the query"):
            client.search_all("x", mindate="2020/03/01", maxdate="2020/03/04")
