"""A loopback stand-in for NCBI E-utilities (esearch + efetch on PubMed), owned by this project.

Why: network code must be tested without the internet, against a server that behaves like NCBI where it
matters to us: the history server (WebEnv/query_key), the 9,999-record retrieval cap, date filters
(``datetype=pdat|mdat`` with ``mindate``/``maxdate``), the rate rule (3 requests per sliding second,
10 with ``api_key``, answered with HTTP 429 + Retry-After), and faults on demand.

    with EutilsStandin(generate_records(3000)) as s:      # serves on 127.0.0.1:<ephemeral port>
        s.inject("503"); s.inject("stall", endpoint="efetch")
        ... NCBI_EUTILS_URL = s.url ...
        assert s.max_in_window() <= 3 and not s.rate_limited()

Faults (``inject(kind, times=1, endpoint=None)``; each matching request consumes one):
``503``, ``500``, ``429`` (with Retry-After), ``truncate`` (HTTP 200 with half the body),
``reset`` (TCP reset, no reply), ``stall`` (sleeps ``stall_seconds`` before answering).

Corpus: :class:`evidence_review.pubmed.synthetic.SyntheticRecord` objects; the publication date (pdat)
comes from the record's PubDate and the modification date (mdat) from its DateRevised, so ``modify()``
(which bumps DateRevised to today) is visible to ``datetype=mdat`` searches, as on PubMed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import socket
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterable, Sequence

from standin_http import QuietHandler

from evidence_review.pubmed import synthetic as sp
from evidence_review.pubmed import synthetic_xml as sx

FAULTS = ("503", "500", "429", "truncate", "reset", "stall")


@dataclass
class LoggedRequest:
    t: float  # time.monotonic() at arrival
    method: str
    endpoint: str
    params: dict[str, str]  # api_key / email values masked
    has_api_key: bool
    status: int = 0
    fault: str | None = None
    rate_limited: bool = False
    pmids: list[str] = field(default_factory=list)  # PMIDs served (efetch, successful replies)


@dataclass
class _Fault:
    kind: str
    endpoint: str | None
    retry_after: float


def _pdat(rec: sp.SyntheticRecord) -> dt.date:
    parts = [int(p) for p in (rec.pub_date.expected_pub_date or "1900").split("-")]
    while len(parts) < 3:
        parts.append(1)
    return dt.date(*parts)


def _mdat(rec: sp.SyntheticRecord) -> dt.date:
    return dt.date(*rec.date_revised)


def _parse_day(text: str, end: bool) -> dt.date:
    parts = [int(p) for p in text.replace("-", "/").split("/") if p]
    if len(parts) == 1:
        return dt.date(parts[0], 12, 31) if end else dt.date(parts[0], 1, 1)
    if len(parts) == 2:
        if end:
            nxt = dt.date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
            return nxt - dt.timedelta(days=1)
        return dt.date(parts[0], parts[1], 1)
    return dt.date(*parts[:3])


class EutilsStandin:
    """In-memory PubMed behind esearch.fcgi / efetch.fcgi on 127.0.0.1 (ephemeral port)."""

    def __init__(
        self,
        records: Iterable[sp.SyntheticRecord] = (),
        *,
        rate: int = 3,
        rate_with_key: int = 10,
        window: float = 1.0,
        cap: int = 9999,
        stall_seconds: float = 3.0,
        port: int = 0,
    ) -> None:
        self.rate = rate
        self.rate_with_key = rate_with_key
        self.window = window
        self.cap = cap
        self.stall_seconds = stall_seconds
        self.log: list[LoggedRequest] = []
        self._records: dict[str, sp.SyntheticRecord] = {}
        self._xml: dict[str, bytes] = {}
        self._faults: list[_Fault] = []
        self._history: dict[str, dict[str, list[str]]] = {}
        self._webenv_seq = itertools.count(1)
        self._lock = threading.Lock()
        self.add_records(records)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/entrez/eutils/"

    def start(self) -> "EutilsStandin":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "EutilsStandin":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- corpus ------------------------------------------------------------------------------------
    def add_records(self, records: Iterable[sp.SyntheticRecord]) -> None:
        with self._lock:
            for rec in records:
                self._records[rec.pmid] = rec
                self._xml[rec.pmid] = sx.record_xml(rec)

    def modify(self, pmid: str, title: str, when: dt.date | None = None) -> sp.SyntheticRecord:
        """Change a record's title and bump its modification date (DateRevised), as PubMed does."""
        day = when or dt.datetime.now(dt.timezone.utc).date()
        rec = sp.revise(self._records[pmid], title=title, date_revised=(day.year, day.month, day.day))
        self.add_records([rec])
        return rec

    def remove(self, pmids: Iterable[str]) -> None:
        """Withdraw records (they disappear from every search)."""
        with self._lock:
            for pmid in pmids:
                self._records.pop(pmid, None)

    @property
    def records(self) -> dict[str, sp.SyntheticRecord]:
        return dict(self._records)

    # -- faults and log ----------------------------------------------------------------------------
    def inject(self, kind: str, times: int = 1, endpoint: str | None = None, retry_after: float = 1.0) -> None:
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULTS}")
        with self._lock:
            self._faults.extend(_Fault(kind, endpoint, retry_after) for _ in range(times))

    def pending_faults(self) -> int:
        return len(self._faults)

    def rate_limited(self) -> list[LoggedRequest]:
        """Requests refused because they broke the rate rule."""
        return [r for r in self.log if r.rate_limited]

    def max_in_window(self, window: float | None = None) -> int:
        """Most requests that arrived within any sliding window (default 1 s)."""
        w = self.window if window is None else window
        times = sorted(r.t for r in self.log)
        best, j = 0, 0
        for i, t in enumerate(times):
            while times[j] <= t - w:
                j += 1
            best = max(best, i - j + 1)
        return best

    def fetched_pmids(self) -> list[str]:
        """Every PMID served by a successful efetch (with repeats)."""
        return [p for r in self.log if r.endpoint == "efetch" for p in r.pmids]

    # -- request handling (called from handler threads) ---------------------------------------------
    def _admit(self, method: str, endpoint: str, params: dict[str, str]) -> tuple[LoggedRequest, _Fault | None]:
        with self._lock:
            now = time.monotonic()
            has_key = bool(params.get("api_key"))
            masked = {k: ("***" if k in ("api_key", "email") else v) for k, v in params.items()}
            entry = LoggedRequest(now, method, endpoint, masked, has_key)
            limit = self.rate_with_key if has_key else self.rate
            recent = sum(1 for r in self.log if r.t > now - self.window) + 1
            self.log.append(entry)
            if recent > limit:
                entry.rate_limited = True
                return entry, None
            for i, f in enumerate(self._faults):
                if f.endpoint in (None, endpoint):
                    entry.fault = f.kind
                    return entry, self._faults.pop(i)
            return entry, None

    def _filtered(self, params: dict[str, str]) -> list[str]:
        datetype = params.get("datetype", "pdat").lower()
        mindate, maxdate = params.get("mindate"), params.get("maxdate")
        key = _mdat if datetype == "mdat" else _pdat
        lo = _parse_day(mindate, end=False) if mindate else dt.date.min
        hi = _parse_day(maxdate, end=True) if maxdate else dt.date.max
        with self._lock:
            recs = list(self._records.values())
        ids = [r.pmid for r in recs if lo <= key(r) <= hi]
        return sorted(ids, key=int, reverse=True)  # newest first, like PubMed's default order

    def esearch(self, params: dict[str, str]) -> bytes:
        if not params.get("term", "").strip():
            return (b'<?xml version="1.0" ?>\n<eSearchResult>'
                    b"<ERROR>Empty term and query_key - nothing todo</ERROR></eSearchResult>")
        ids = self._filtered(params)
        retstart = int(params.get("retstart", 0) or 0)
        retmax = int(params.get("retmax", 20) or 20)
        end = min(retstart + retmax, self.cap, len(ids))
        page = ids[retstart:end] if retstart < self.cap else []
        hist = ""
        if params.get("usehistory", "").lower() == "y":
            with self._lock:
                webenv = params.get("WebEnv") or f"MCID_standin_{next(self._webenv_seq)}"
                keys = self._history.setdefault(webenv, {})
                qk = str(len(keys) + 1)
                keys[qk] = ids
            hist = f"<QueryKey>{qk}</QueryKey><WebEnv>{webenv}</WebEnv>"
        err = ""
        if retstart >= self.cap:
            err = f"<ERROR>Search Backend failed: retstart cannot be larger than {self.cap - 1}</ERROR>"
        id_xml = "".join(f"<Id>{i}</Id>" for i in page)
        term = sx.escape(params["term"])
        return (
            '<?xml version="1.0" encoding="UTF-8" ?>\n'
            f"<eSearchResult><Count>{len(ids)}</Count><RetMax>{len(page)}</RetMax><RetStart>{retstart}</RetStart>"
            f"{hist}<IdList>{id_xml}</IdList><TranslationSet/><QueryTranslation>{term}</QueryTranslation>{err}"
            "</eSearchResult>\n"
        ).encode("utf-8")

    def efetch(self, params: dict[str, str]) -> tuple[bytes, list[str]]:
        if params.get("id"):
            ids = [p.strip() for p in params["id"].split(",") if p.strip()]
        else:
            webenv, qk = params.get("WebEnv", ""), params.get("query_key", "")
            with self._lock:
                ids = self._history.get(webenv, {}).get(qk)
            if ids is None:
                return (b'<?xml version="1.0" ?>\n<eFetchResult><ERROR>Unable to obtain query #'
                        + qk.encode() + b"</ERROR></eFetchResult>\n", [])
            retstart = int(params.get("retstart", 0) or 0)
            retmax = int(params.get("retmax", 20) or 20)
            if retstart >= self.cap:
                return (b'<?xml version="1.0" ?>\n<eFetchResult><ERROR>retstart beyond the retrieval cap'
                        b"</ERROR></eFetchResult>\n", [])
            ids = ids[retstart:min(retstart + retmax, self.cap)]
        with self._lock:
            served = [p for p in ids if p in self._records]
            chunks = [self._xml[p] for p in served]
        body = (b'<?xml version="1.0" ?>\n' + sp.DOCTYPE.encode() + b"\n<PubmedArticleSet>\n"
                + b"".join(chunks) + b"</PubmedArticleSet>\n")
        return body, served


def _handler_for(server: EutilsStandin) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def _handle(self, method: str) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            params = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
            if method == "POST":
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                params.update(urllib.parse.parse_qsl(body, keep_blank_values=True))
            endpoint = parsed.path.rsplit("/", 1)[-1].removesuffix(".fcgi")
            entry, fault = server._admit(method, endpoint, params)
            if entry.rate_limited:
                return self._reply(entry, 429, b'{"error":"API rate limit exceeded"}', {"Retry-After": "1"},
                                   ctype="application/json")
            if fault is not None:
                if fault.kind in ("503", "500"):
                    return self._reply(entry, int(fault.kind), b"<html>Service unavailable</html>")
                if fault.kind == "429":
                    return self._reply(entry, 429, b'{"error":"API rate limit exceeded"}',
                                       {"Retry-After": f"{fault.retry_after:g}"}, ctype="application/json")
                if fault.kind == "reset":
                    entry.status = -1
                    self.close_connection = True
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    return
                if fault.kind == "stall":
                    time.sleep(server.stall_seconds)
            if endpoint == "esearch":
                body, served = server.esearch(params), []
            elif endpoint == "efetch":
                body, served = server.efetch(params)
            else:
                return self._reply(entry, 404, b"unknown E-utility")
            if fault is not None and fault.kind == "truncate":
                body, served = body[: len(body) // 2], []
            entry.pmids = served
            self._reply(entry, 200, body)

        def _reply(self, entry: LoggedRequest, status: int, body: bytes, headers: dict[str, str] | None = None,
                   ctype: str = "text/xml; charset=UTF-8") -> None:
            entry.status = status
            try:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError, OSError):
                self.close_connection = True  # the client gave up (e.g. after its read timeout)

    return Handler


def standin_records(n: int, seed: int = 0, start_pmid: int = 30_000_001) -> list[sp.SyntheticRecord]:
    """Synthetic records for the stand-in (same arguments, same records)."""
    return sp.generate_records(n, seed=seed, start_pmid=start_pmid)


__all__: Sequence[str] = ("EutilsStandin", "LoggedRequest", "FAULTS", "standin_records")


def client_for(standin: "EutilsStandin", read_timeout: float = 0.4, **kw):
    """An EntrezClient aimed at ``standin`` with test-sized backoff and timeouts and no secrets.

    The client uses the machine-wide limiter; the test suite points EVIDENCE_REVIEW_RATE_DIR at a fresh
    folder per test (tests/conftest.py), so a test's server counts only that test's requests."""
    from evidence_review.pubmed.client import EntrezClient

    kw.setdefault("backoff", 0.02)
    kw.setdefault("api_key", "")
    kw.setdefault("email", "")
    return EntrezClient(standin.url, read_timeout=read_timeout, **kw)
