"""A polite ClinicalTrials.gov API v2 client (``/studies`` search with paging, ``/studies/{nctId}``).

Why a client of our own: the registry is searched like PubMed is (same etiquette, same failure policy,
configurable base URL for the loopback stand-in), and a pull must page to the end with ``pageToken``
whatever goes wrong on the way. The API needs no key.

Settings (environment):

    CTGOV_API_URL              base URL (default https://clinicaltrials.gov/api/v2); ``/studies`` is appended
    CTGOV_RATE                 requests per second (default 1; fractions allowed, e.g. 0.5)
    EVIDENCE_REVIEW_CTGOV_BACKOFF   first retry delay in seconds (default 1.0; tests use ~0.05)
    EVIDENCE_REVIEW_CTGOV_TIMEOUT   read timeout in seconds (default 60)
    EVIDENCE_REVIEW_CTGOV_TRIES     attempts per request (default 6)

Public API:

    CtgovClient.search_page(params, page_token)   one /studies page -> Page(studies, next_token, total)
    CtgovClient.iter_pages(params)                 every page of a search, following nextPageToken
    CtgovClient.study(nct_id)                      one /studies/{nctId} record (None if unknown)
    search_params(cond=, intr=, term=, ...)        the query.* / filter.advanced parameters of a search
    limiter_for(rate)                              the machine-wide limiter (budget ``ctgov``) for a rate
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

import requests

from evidence_review import __version__
from evidence_review.errors import InputError, NetworkError
from evidence_review.pubmed.client import _parse_retry_after
from evidence_review.ratelimit import MachineRateLimiter

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://clinicaltrials.gov/api/v2"
DEFAULT_RATE = 1.0  # requests per second: NLM asks for moderate use; one a second is polite
MAX_PAGE_SIZE = 1000  # the API's own ceiling for pageSize
ID_FIELDS = "NCTId"  # fields= value that returns only identificationModule.nctId
QUERY_KEYS = ("query.cond", "query.intr", "query.term")

_RETRY_STATUS = {429, 500, 502, 503, 504}


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        return float(value) if value else default
    except ValueError:
        raise InputError(f"must be a number, got {value!r}", field=name) from None


# --------------------------------------------------------------------------------------------------
# Rate limit

def limiter_for(rate: float) -> MachineRateLimiter:
    """The machine-wide budget ``ctgov`` at ``rate`` requests/s: the registry counts requests per client
    address, so every process on this machine (a killed run and its rerun included) shares it."""
    if not rate > 0:
        raise InputError(f"rate must be > 0 requests/s, got {rate}", field="CTGOV_RATE")
    calls, period = (int(rate), 1.0) if rate >= 1 else (1, 1.0 / rate)
    return MachineRateLimiter("ctgov", calls, period)


# --------------------------------------------------------------------------------------------------
# Searches


def search_params(*, cond: str | None = None, intr: str | None = None, term: str | None = None,
                  advanced: str | None = None) -> dict[str, str]:
    """The API parameters of a search (``query.cond`` / ``query.intr`` / ``query.term`` are ANDed)."""
    out = {k: " ".join(v.split()) for k, v in (("query.cond", cond), ("query.intr", intr),
                                                ("query.term", term)) if v and v.strip()}
    if not out:
        raise InputError("a registry search needs at least one of --cond, --intr, --term", field="cond")
    if advanced and advanced.strip():
        out["filter.advanced"] = advanced.strip()
    return out


def updated_since(params: Mapping[str, str], since: str) -> dict[str, str]:
    """The same search limited to studies whose last update was posted on or after ``since`` (YYYY-MM-DD)."""
    rng = f"AREA[LastUpdatePostDate]RANGE[{since},MAX]"
    out = dict(params)
    prior = out.get("filter.advanced")
    out["filter.advanced"] = f"({prior}) AND {rng}" if prior else rng
    return out


@dataclass(frozen=True)
class Page:
    studies: list[dict]
    next_token: str | None
    total: int | None  # totalCount (asked for on the first page only)
    body: bytes  # the reply as received (kept in the snapshot)


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


# --------------------------------------------------------------------------------------------------
# Client


class CtgovClient:
    """ClinicalTrials.gov API v2 with a rate limit, timeouts and retries built in."""

    def __init__(self, base_url: str | None = None, *, rate: float | None = None, connect_timeout: float = 10.0,
                 read_timeout: float | None = None, max_tries: int | None = None, backoff: float | None = None,
                 backoff_max: float = 60.0, limiter: MachineRateLimiter | None = None, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = (base_url or os.environ.get("CTGOV_API_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.rate = rate if rate is not None else _env_float("CTGOV_RATE", DEFAULT_RATE)
        self.timeout = (connect_timeout, read_timeout or _env_float("EVIDENCE_REVIEW_CTGOV_TIMEOUT", 60.0))
        self.max_tries = max_tries or int(_env_float("EVIDENCE_REVIEW_CTGOV_TRIES", 6))
        self.backoff = backoff if backoff is not None else _env_float("EVIDENCE_REVIEW_CTGOV_BACKOFF", 1.0)
        self.backoff_max = backoff_max
        self.limiter = limiter or limiter_for(self.rate)
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = f"evidence-review/{__version__} (python-requests)"
        self.session.headers["Accept"] = "application/json"
        self._sleep = sleep
        self.request_count = 0  # HTTP attempts made, retries included

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        # Exponential backoff with jitter keeps parallel clients from retrying in step; the
        # server's Retry-After is a floor we always honour.
        delay = min(self.backoff_max, self.backoff * (2 ** attempt)) * (0.5 + random.random() / 2)
        return max(delay, retry_after) if retry_after is not None else delay

    def get_json(self, path: str, params: Mapping[str, str] | None = None, *,
                 allow_404: bool = False) -> tuple[bytes, Any] | None:
        """GET ``base_url + path``; the reply's bytes and parsed JSON. Retries transient failures."""
        url = self.base_url + path
        last = "no attempt made"
        for attempt in range(self.max_tries):
            self.limiter.acquire()
            self.request_count += 1
            retry_after: float | None = None
            try:
                resp = self.session.get(url, params=dict(params or {}), timeout=self.timeout)
                if resp.status_code == 404 and allow_404:
                    return None
                if resp.status_code in _RETRY_STATUS:
                    raise _Retryable(f"HTTP {resp.status_code}", _parse_retry_after(resp.headers.get("Retry-After")))
                if resp.status_code >= 400:
                    # a bad query: the body says which parameter; retrying cannot help
                    raise NetworkError(
                        f"ClinicalTrials.gov refused the request (HTTP {resp.status_code}): "
                        f"{resp.text.strip()[:500]!r}; parameters {dict(params or {})}. Check the search terms "
                        "and filter.advanced syntax (e.g. AREA[LastUpdatePostDate]RANGE[2024-01-01,MAX]).")
                body = resp.content
                try:
                    return body, json.loads(body)
                except ValueError as exc:
                    # a reply cut short by a proxy or a dropped connection: worth another try
                    raise _Retryable(f"unparsable JSON ({len(body)} bytes): {exc}") from None
            except _Retryable as exc:
                last, retry_after = str(exc), exc.retry_after
            except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            if attempt + 1 >= self.max_tries:
                break
            delay = self._delay(attempt, retry_after)
            if retry_after is not None:
                self.limiter.pause_until(time.time() + retry_after)  # holds back every process
            log.warning("%s attempt %d/%d failed (%s); retrying in %.2fs", path, attempt + 1, self.max_tries,
                        last, delay)
            self._sleep(delay)
        raise NetworkError(
            f"ClinicalTrials.gov {path} failed after {self.max_tries} tries; last error: {last}. Check the "
            "network and CTGOV_API_URL, then re-run the same command: stored pages are kept and paging "
            "resumes where it stopped.")

    def search_page(self, params: Mapping[str, str], page_token: str | None = None, *,
                    page_size: int = MAX_PAGE_SIZE, fields: str | None = None,
                    count_total: bool = False) -> Page:
        """One page of ``/studies``; ``next_token`` is None on the last page."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InputError(f"page size must be 1..{MAX_PAGE_SIZE}, got {page_size}", field="page-size")
        query = {**params, "format": "json", "pageSize": str(page_size)}
        if fields:
            query["fields"] = fields
        if count_total:
            query["countTotal"] = "true"
        if page_token:
            query["pageToken"] = page_token
        got = self.get_json("/studies", query)
        assert got is not None
        body, data = got
        if not isinstance(data, dict) or not isinstance(data.get("studies"), list):
            raise NetworkError(f"ClinicalTrials.gov /studies reply has no 'studies' list ({len(body)} bytes)")
        total = data.get("totalCount")
        return Page(data["studies"], data.get("nextPageToken") or None, int(total) if total is not None else None,
                    body)

    def iter_pages(self, params: Mapping[str, str], *, page_size: int = MAX_PAGE_SIZE,
                   fields: str | None = None, page_token: str | None = None) -> Iterator[Page]:
        """Every page of a search, following ``nextPageToken`` to the end (``countTotal`` on the first)."""
        first = page_token is None
        while True:
            page = self.search_page(params, page_token, page_size=page_size, fields=fields, count_total=first)
            yield page
            first = False
            if not page.next_token or not page.studies:
                return
            if page.next_token == page_token:
                raise NetworkError("ClinicalTrials.gov returned the same pageToken twice; stopping to avoid a loop")
            page_token = page.next_token

    def all_ids(self, params: Mapping[str, str]) -> list[str]:
        """Every NCT id a search returns (``fields=NCTId``, 1,000 per page), in the order served."""
        seen: dict[str, None] = {}
        for page in self.iter_pages(params, fields=ID_FIELDS):
            for study in page.studies:
                nct = nct_id_of(study)
                if nct:
                    seen.setdefault(nct, None)
        return list(seen)

    def study(self, nct_id: str) -> dict | None:
        """One study by NCT id (full record), or None if the registry does not know it."""
        got = self.get_json(f"/studies/{nct_id}", {"format": "json"}, allow_404=True)
        return None if got is None else got[1]


def nct_id_of(study: Mapping[str, Any]) -> str:
    """``protocolSection.identificationModule.nctId`` ('' when absent)."""
    ident = ((study.get("protocolSection") or {}).get("identificationModule") or {})
    return str(ident.get("nctId") or "").strip().upper()


def last_update_of(study: Mapping[str, Any]) -> str:
    """``protocolSection.statusModule.lastUpdatePostDateStruct.date`` ('' when absent)."""
    status = ((study.get("protocolSection") or {}).get("statusModule") or {})
    return str((status.get("lastUpdatePostDateStruct") or {}).get("date") or "")
