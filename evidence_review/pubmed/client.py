"""A polite NCBI E-utilities client (esearch / efetch) for PubMed.

Why not ``Bio.Entrez``: it has fixed URLs, no request timeout, no retry on 429/5xx, and no way to get
past PubMed's 9,999-record retrieval cap. This module owns those policies in one place.

Settings (environment):

    NCBI_EUTILS_URL   base URL; ``esearch.fcgi`` / ``efetch.fcgi`` are appended
                      (default https://eutils.ncbi.nlm.nih.gov/entrez/eutils/)
    NCBI_API_KEY      raises NCBI's limit from 3 to 10 requests/s; sent, never logged or written
    NCBI_EMAIL        contact address NCBI asks for; sent, never logged or written
    EVIDENCE_REVIEW_EUTILS_BACKOFF   first retry delay in seconds (default 1.0; tests use ~0.05)
    EVIDENCE_REVIEW_EUTILS_TIMEOUT   read timeout in seconds (default 60)
    EVIDENCE_REVIEW_EUTILS_TRIES     attempts per request (default 6)
    EVIDENCE_REVIEW_RETRIEVAL_CAP    records one search may return (default 9,999, PubMed's cap)

Public API:

    EntrezClient.esearch(term, ...)        one esearch call -> SearchResult
    EntrezClient.search_all(term, ...)     every PMID of a query, splitting by date past the cap
    EntrezClient.efetch_history(...)       one batch by WebEnv/query_key + retstart/retmax
    EntrezClient.efetch_ids(pmids)         one batch by PMID list (POST when the list is long)
    ncbi_limiter(api_key)                  the machine-wide budget (evidence_review.ratelimit)
    redact(text)                           hide api_key / email in URLs and messages
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import requests
from lxml import etree

from evidence_review import __version__
from evidence_review.errors import EvidenceReviewError, NetworkError
from evidence_review.ratelimit import MachineRateLimiter, budget_name
from evidence_review.settings import check_base_url, env_float, env_int

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
TOOL = "evidence-review"
RETRIEVAL_CAP = 9999  # PubMed returns at most this many records per search (esearch and history efetch)
POST_THRESHOLD = 200  # more PMIDs than this go in a POST body: long GET URLs get truncated or refused
# Earliest and latest publication dates the date split covers; PubMed's oldest records are from the 1780s.
SPLIT_START = dt.date(1700, 1, 1)
SPLIT_END = dt.date(3000, 12, 31)

_RETRY_STATUS = {429, 500, 502, 503, 504}

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)




# --------------------------------------------------------------------------------------------------
# Secrets never leave the process


_SECRET_PARAM = re.compile(r"((?:api_key|email)=)[^&\s'\"]+", re.IGNORECASE)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Hide api_key / email values (as URL parameters and as literal strings) before logging."""
    out = _SECRET_PARAM.sub(r"\1REDACTED", str(text))
    for secret in secrets:
        if secret:
            out = out.replace(secret, "REDACTED")
            quoted = requests.utils.quote(secret, safe="")
            if quoted != secret:
                out = out.replace(quoted, "REDACTED")
    return out


class _RedactingFilter(logging.Filter):
    """urllib3 logs request URLs at DEBUG level; strip api_key/email from them before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "api_key=" in message or "email=" in message:
            record.msg, record.args = redact(message), ()
        return True


for _name in ("urllib3.connectionpool", "urllib3.util.retry", "requests"):
    logging.getLogger(_name).addFilter(_RedactingFilter())


# --------------------------------------------------------------------------------------------------
# Rate limit


def ncbi_limiter(api_key: str | None) -> MachineRateLimiter:
    """NCBI's budget for this machine: 3 requests/s per IP, or 10/s per API key (shared by every process)."""
    return MachineRateLimiter(budget_name("ncbi", api_key), 10 if api_key else 3, 1.0)


# --------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class SearchResult:
    count: int
    ids: list[str]
    webenv: str | None = None
    query_key: str | None = None
    retstart: int = 0
    query_translation: str = ""


@dataclass(frozen=True)
class SearchPart:
    """One piece of a (possibly split) search: its date range, history handle and PMIDs (in order)."""

    mindate: str | None
    maxdate: str | None
    count: int
    ids: list[str]
    webenv: str | None
    query_key: str | None


@dataclass
class FullSearch:
    """Every PMID of a query. ``parts`` has one entry unless the count exceeded the retrieval cap."""

    term: str
    count: int
    parts: list[SearchPart] = field(default_factory=list)
    query_translation: str = ""
    requests: int = 0

    @property
    def ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for part in self.parts:
            for pmid in part.ids:
                seen.setdefault(pmid, None)
        return list(seen)


class _Retryable(Exception):
    """A failure worth another try (after ``retry_after`` seconds if the server said so)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


# --------------------------------------------------------------------------------------------------
# Client


class EntrezClient:
    """E-utilities client with NCBI's etiquette built in (tool/email/api_key, rate limit, retries)."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        email: str | None = None,
        tool: str = TOOL,
        connect_timeout: float = 10.0,
        read_timeout: float | None = None,
        max_tries: int | None = None,
        backoff: float | None = None,
        backoff_max: float = 60.0,
        retrieval_cap: int | None = None,
        limiter: MachineRateLimiter | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        base = check_base_url(base_url or os.environ.get("NCBI_EUTILS_URL") or DEFAULT_BASE_URL,
                              "NCBI_EUTILS_URL")
        self.base_url = base if base.endswith("/") else base + "/"
        self.api_key = api_key if api_key is not None else (os.environ.get("NCBI_API_KEY") or None)
        self.email = email if email is not None else (os.environ.get("NCBI_EMAIL") or None)
        self.tool = tool
        read_timeout = read_timeout or env_float("EVIDENCE_REVIEW_EUTILS_TIMEOUT", 60.0, strict_minimum=True)
        self.timeout = (connect_timeout, read_timeout)
        self.max_tries = max_tries or env_int("EVIDENCE_REVIEW_EUTILS_TRIES", 6, minimum=1, maximum=100)
        if backoff is None:
            backoff = env_float("EVIDENCE_REVIEW_EUTILS_BACKOFF", 1.0, maximum=3600)
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.retrieval_cap = retrieval_cap or env_int("EVIDENCE_REVIEW_RETRIEVAL_CAP", RETRIEVAL_CAP, minimum=1)
        self.limiter = limiter or ncbi_limiter(self.api_key)
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = f"{TOOL}/{__version__} (python-requests)"
        self._sleep = sleep
        self.request_count = 0  # HTTP attempts made (retries included)
        self._count_lock = threading.Lock()

    # -- plumbing ------------------------------------------------------------------------------

    def _secrets(self) -> tuple[str | None, str | None]:
        return (self.api_key, self.email)

    def _common(self) -> dict[str, str]:
        params = {"db": "pubmed", "tool": self.tool}
        if self.email:
            params["email"] = self.email
        if self.api_key:
            params["api_key"] = self.api_key
        return params

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        # Exponential backoff with jitter spreads retries of parallel clients apart; a server's
        # Retry-After is a floor we always honour.
        expo = min(self.backoff_max, self.backoff * (2 ** attempt))
        delay = expo * (0.5 + random.random() / 2)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    def _request(self, endpoint: str, params: Mapping[str, str], *, post: bool,
                 validate: Callable[[bytes], Any]) -> tuple[bytes, Any]:
        """Send one E-utility call with the rate limit and retry policy; return body and parsed root."""
        url = self.base_url + endpoint
        data = {**self._common(), **params}
        last_error = "no attempt made"
        for attempt in range(self.max_tries):
            self.limiter.acquire()
            with self._count_lock:
                self.request_count += 1
            try:
                if post:
                    resp = self.session.post(url, data=data, timeout=self.timeout)
                else:
                    resp = self.session.get(url, params=data, timeout=self.timeout)
                body = self._check_response(resp)
                root = validate(body)
                return body, root
            except _Retryable as exc:
                last_error = str(exc)
                retry_after = exc.retry_after
            except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as exc:
                # Timeouts, resets and bodies cut short are transient on NCBI's side or ours.
                last_error = f"{type(exc).__name__}: {exc}"
                retry_after = None
            last_error = redact(last_error, self._secrets())
            if attempt + 1 >= self.max_tries:
                break
            delay = self._delay(attempt, retry_after)
            if retry_after is not None:
                self.limiter.pause_until(time.time() + retry_after)
            log.warning("%s attempt %d/%d failed (%s); retrying in %.2fs",
                        endpoint, attempt + 1, self.max_tries, last_error, delay)
            self._sleep(delay)
        raise NetworkError(
            f"E-utilities {endpoint} failed after {self.max_tries} tries; last error: {last_error}. "
            "Check the network and NCBI's status (https://www.ncbi.nlm.nih.gov/Status/), set NCBI_API_KEY "
            "if you share the connection, then re-run the same command: stored batches are kept and only "
            "missing ones are fetched."
        )

    def _check_response(self, resp: requests.Response) -> bytes:
        if resp.status_code in _RETRY_STATUS:
            retry_after = _parse_retry_after(resp.headers.get("Retry-After"))
            raise _Retryable(f"HTTP {resp.status_code}", retry_after)
        if resp.status_code >= 400:
            raise NetworkError(
                f"E-utilities refused the request: HTTP {resp.status_code} "
                f"{redact(resp.text[:200], self._secrets())!r}. Check the query and NCBI_EUTILS_URL."
            )
        return resp.content

    # -- esearch -----------------------------------------------------------------------------------

    def esearch(self, term: str, *, retstart: int = 0, retmax: int | None = None, usehistory: bool = True,
                datetype: str | None = None, mindate: str | None = None, maxdate: str | None = None,
                ) -> SearchResult:
        """One esearch call. ``retmax`` defaults to the retrieval cap so small searches need one call."""
        params = {"term": term, "retstart": str(retstart),
                  "retmax": str(self.retrieval_cap if retmax is None else retmax)}
        if usehistory:
            params["usehistory"] = "y"
        if datetype:
            params["datetype"] = datetype
        if mindate or maxdate:
            params["mindate"] = mindate or "1000/01/01"
            params["maxdate"] = maxdate or "3000/12/31"
        _, root = self._request("esearch.fcgi", params, post=len(term) > 1500, validate=_parse_esearch)
        return _search_result(root)

    def search_all(self, term: str, *, datetype: str = "pdat", mindate: str | None = None,
                   maxdate: str | None = None) -> FullSearch:
        """Every PMID matching ``term`` (optionally within a date range on ``datetype``).

        PubMed stops returning IDs at 9,999 per search. Past that, the date range is bisected until each
        piece fits, so nothing is dropped silently; pieces keep their own WebEnv/query_key for efetch.
        """
        start_requests = self.request_count
        first = self.esearch(term, datetype=datetype if (mindate or maxdate) else None,
                             mindate=mindate, maxdate=maxdate)
        full = FullSearch(term=term, count=first.count, query_translation=first.query_translation)
        if first.count <= self.retrieval_cap:
            full.parts.append(_part(first, mindate, maxdate))
        else:
            lo = _parse_date(mindate) if mindate else SPLIT_START
            hi = _parse_date(maxdate) if maxdate else SPLIT_END
            self._split(term, datetype, lo, hi, first.count, full.parts)
            got = len(full.ids)
            if got < first.count:
                log.warning("date split found %d of %d PMIDs (records without a %s date are not reachable)",
                            got, first.count, datetype)
        full.requests = self.request_count - start_requests
        return full

    def _split(self, term: str, datetype: str, lo: dt.date, hi: dt.date, count: int,
               parts: list[SearchPart]) -> None:
        if lo >= hi:
            raise NetworkError(
                f"{count} records share the single {datetype} date {lo:%Y/%m/%d}, more than PubMed's "
                f"retrieval cap of {self.retrieval_cap}; narrow the query (e.g. add a date range)."
            )
        mid = lo + (hi - lo) // 2
        for a, b in ((lo, mid), (mid + dt.timedelta(days=1), hi)):
            res = self.esearch(term, datetype=datetype, mindate=_fmt(a), maxdate=_fmt(b))
            if res.count == 0:
                continue
            if res.count <= self.retrieval_cap:
                parts.append(_part(res, _fmt(a), _fmt(b)))
            else:
                self._split(term, datetype, a, b, res.count, parts)

    # -- efetch ------------------------------------------------------------------------------------

    def efetch_history(self, webenv: str, query_key: str, retstart: int, retmax: int,
                       parse: Callable[[bytes], Any] | None = None) -> Any:
        """One batch of PubMed XML from the history server.

        Returns the XML bytes; with ``parse``, returns ``(xml, parse(xml))`` and a ``parse`` that raises
        (``EvidenceReviewError`` / ``XMLSyntaxError``) marks the reply as damaged and retries it, so a
        caller that parses anyway does not pay for a second validation parse.
        """
        params = {"WebEnv": webenv, "query_key": str(query_key), "retstart": str(retstart),
                  "retmax": str(retmax), "retmode": "xml", "rettype": "abstract"}
        return self._efetch(params, False, parse)

    def efetch_ids(self, pmids: Sequence[str], parse: Callable[[bytes], Any] | None = None) -> Any:
        """PubMed XML for a PMID list (long lists go in a POST body); ``parse`` as in efetch_history."""
        params = {"id": ",".join(pmids), "retmode": "xml", "rettype": "abstract"}
        return self._efetch(params, len(pmids) > POST_THRESHOLD, parse)

    def _efetch(self, params: dict[str, str], post: bool, parse: Callable[[bytes], Any] | None) -> Any:
        if parse is None:
            body, _ = self._request("efetch.fcgi", params, post=post, validate=_parse_efetch)
            return body
        return self._request("efetch.fcgi", params, post=post, validate=_with_parser(parse))


# --------------------------------------------------------------------------------------------------
# Parsing helpers (pure)


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value)
        return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


def _parse_xml(body: bytes) -> etree._Element:
    try:
        return etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        # A body cut short by a proxy or a dropped connection: worth another try.
        raise _Retryable(f"unparsable XML ({len(body)} bytes): {exc}") from None


def _parse_esearch(body: bytes) -> etree._Element:
    root = _parse_xml(body)
    if root.tag != "eSearchResult":
        raise _Retryable(f"unexpected esearch root <{root.tag}>")
    errors = [e.text or "" for e in root.iter("ERROR")]
    if root.find("Count") is None:
        if errors:
            raise NetworkError(f"esearch error: {'; '.join(errors)}")
        raise _Retryable("esearch reply without <Count>")
    return root


def _parse_efetch(body: bytes) -> etree._Element:
    root = _parse_xml(body)
    if root.tag == "eFetchResult" or root.find("ERROR") is not None:
        message = "; ".join(e.text or "" for e in root.iter("ERROR"))
        # NCBI reports backend hiccups this way with HTTP 200; a retry usually succeeds.
        raise _Retryable(f"efetch error: {message or 'eFetchResult'}")
    if root.tag != "PubmedArticleSet":
        raise _Retryable(f"unexpected efetch root <{root.tag}>")
    return root


def _with_parser(parse: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def validate(body: bytes) -> Any:
        try:
            return parse(body)
        except (EvidenceReviewError, etree.XMLSyntaxError) as exc:
            # truncated body, an <eFetchResult><ERROR> reply, or not XML at all: worth another try
            raise _Retryable(f"unusable efetch reply ({len(body)} bytes): {exc}") from None

    return validate


def _search_result(root: etree._Element) -> SearchResult:
    return SearchResult(
        count=int(root.findtext("Count") or 0),
        ids=[e.text.strip() for e in root.findall("IdList/Id") if e.text],
        webenv=root.findtext("WebEnv"),
        query_key=root.findtext("QueryKey"),
        retstart=int(root.findtext("RetStart") or 0),
        query_translation=root.findtext("QueryTranslation") or "",
    )


def _part(res: SearchResult, mindate: str | None, maxdate: str | None) -> SearchPart:
    return SearchPart(mindate=mindate, maxdate=maxdate, count=res.count, ids=list(res.ids),
                      webenv=res.webenv, query_key=res.query_key)


def _fmt(day: dt.date) -> str:
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}"


def _parse_date(text: str) -> dt.date:
    parts = [int(p) for p in re.split(r"[/-]", text.strip())]
    while len(parts) < 3:
        parts.append(1)
    return dt.date(*parts[:3])


def pmids_in(xml: bytes) -> list[str]:
    """PMIDs of the PubmedArticle / PubmedBookArticle records in an efetch reply, in order."""
    root = etree.fromstring(xml, _PARSER)
    out = []
    for art in root:
        if art.tag == "PubmedArticle":
            pmid = art.findtext("MedlineCitation/PMID")
        elif art.tag == "PubmedBookArticle":
            pmid = art.findtext("BookDocument/PMID")
        else:
            continue
        if pmid:
            out.append(pmid.strip())
    return out
