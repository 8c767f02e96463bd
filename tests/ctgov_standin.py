"""A loopback stand-in for the ClinicalTrials.gov API v2, owned by this project.

Why: the registry client, pull and refresh must be tested without the internet, against a server that
behaves like the registry where it matters to us: ``/studies`` with ``query.cond`` / ``query.intr`` /
``query.term`` (ANDed; " OR " inside one), ``filter.advanced`` date ranges on ``LastUpdatePostDate``,
``filter.ids``, ``fields`` (``NCTId`` -> ids only), ``pageSize`` (<= 1000), ``pageToken`` /
``nextPageToken``, ``countTotal`` / ``totalCount``; ``/studies/{nctId}`` (404 if unknown); HTTP 400 with a
message for a bad parameter; an optional rate rule answered with 429 + Retry-After; faults on demand.

    with CtgovStandin(generate_studies(300)) as s:        # 127.0.0.1:<ephemeral port>
        s.inject("429", retry_after=0.2); s.inject("truncate")
        ... CTGOV_API_URL = s.url ...
        assert s.max_in_window(1.0) <= 1

Faults (``inject(kind, times=1, path=None)``; each matching request consumes one): ``503``, ``429`` (with
Retry-After), ``reset`` (TCP reset, no reply), ``truncate`` (HTTP 200 with half the JSON), ``slow``
(sleeps ``slow_seconds`` first). Corpus changes between pulls: ``add``, ``update`` (new title and
lastUpdatePostDate), ``withdraw`` (gone from every search). Words are invented; no real trial is copied.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import re
import socket
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable

from standin_http import QuietHandler

FAULTS = ("503", "429", "reset", "truncate", "slow")
KNOWN_PARAMS = {"query.cond", "query.intr", "query.term", "filter.advanced", "filter.ids", "fields", "pageSize",
                "pageToken", "countTotal", "format", "sort"}
_RANGE = re.compile(r"AREA\[LastUpdatePostDate\]RANGE\[([^,\]]+),([^\]]+)\]")

# invented vocabulary: no real condition, drug or title
_SYL = ["zor", "bel", "qua", "min", "tev", "lox", "ran", "dup", "fil", "sar", "kem", "vul", "nob", "tri", "pax"]
CONDITIONS = ["Velmoric Disorder", "Quandary Syndrome", "Lorbic Fatigue", "Zentral Drift", "Paxolian Tremor"]
DRUGS = ["zentamine", "quoravex", "belatrine", "moxiphane", "tulacort"]
STATUSES = ["COMPLETED", "RECRUITING", "ACTIVE_NOT_RECRUITING", "TERMINATED", "NOT_YET_RECRUITING", "WITHDRAWN"]


def _word(rng: random.Random, n: int = 3) -> str:
    return "".join(rng.choice(_SYL) for _ in range(n))


def make_study(nct: str, *, title: str, conditions: list[str], drugs: list[str], status: str = "COMPLETED",
               last_update: str = "2020-01-15", has_results: bool = False, phases: list[str] | None = None,
               start: str = "2015-03", completion: str = "2017-06", enrollment: int = 20,
               allocation: str = "RANDOMIZED", masking: str = "DOUBLE", pmids: Iterable[str] = ()) -> dict:
    """A study record shaped like an API v2 ``studies[]`` item (only the modules this project reads)."""
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct, "briefTitle": title, "officialTitle": title + " (official)"},
            "statusModule": {
                "overallStatus": status,
                "startDateStruct": {"date": start},
                "primaryCompletionDateStruct": {"date": completion, "type": "ACTUAL"},
                "completionDateStruct": {"date": completion, "type": "ACTUAL"},
                "lastUpdatePostDateStruct": {"date": last_update, "type": "ACTUAL"},
            },
            "conditionsModule": {"conditions": list(conditions)},
            "designModule": {
                "studyType": "INTERVENTIONAL", "phases": phases or ["PHASE2"],
                "designInfo": {"allocation": allocation, "maskingInfo": {"masking": masking}},
                "enrollmentInfo": {"count": enrollment, "type": "ACTUAL"},
            },
            "armsInterventionsModule": {"interventions": [{"type": "DRUG", "name": d} for d in drugs]},
            "referencesModule": {"references": [{"pmid": p, "type": "RESULT"} for p in pmids]},
        },
        "hasResults": has_results,
    }


def generate_studies(n: int, seed: int = 0, start: int = 10_000_001) -> list[dict]:
    """``n`` synthetic studies (same arguments, same studies); every one mentions condition 0 and drug 0
    so ``query.cond=Velmoric`` finds them all, and others are mixed in for narrower searches."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        day = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(0, 4000))
        out.append(make_study(
            f"NCT{start + i:08d}",
            title=f"{_word(rng).capitalize()} {_word(rng, 2)} trial of {DRUGS[0]} in {CONDITIONS[0].lower()}",
            conditions=[CONDITIONS[0]] + rng.sample(CONDITIONS[1:], rng.randrange(0, 2)),
            drugs=[DRUGS[0]] + rng.sample(DRUGS[1:], rng.randrange(0, 2)),
            status=rng.choice(STATUSES), last_update=day.isoformat(), has_results=rng.random() < 0.3,
            enrollment=rng.randrange(5, 200)))
    return out


@dataclass
class LoggedRequest:
    t: float  # time.monotonic() at arrival
    path: str
    params: dict[str, str]
    status: int = 0
    fault: str | None = None
    rate_limited: bool = False
    ids: tuple[str, ...] = ()  # NCT ids served (successful replies)


@dataclass
class _Fault:
    kind: str
    path: str | None
    retry_after: float
    after: int = 0  # matching requests to let through before this fault fires


def _nct(study: dict) -> str:
    return study["protocolSection"]["identificationModule"]["nctId"]


def _text_of(study: dict, area: str) -> str:
    p = study["protocolSection"]
    conds = " ".join(p["conditionsModule"]["conditions"])
    drugs = " ".join(i["name"] for i in p["armsInterventionsModule"]["interventions"])
    if area == "query.cond":
        return conds.lower()
    if area == "query.intr":
        return drugs.lower()
    ident = p["identificationModule"]
    return " ".join([ident["nctId"], ident["briefTitle"], ident.get("officialTitle", ""), conds, drugs]).lower()


def _matches(study: dict, area: str, expr: str) -> bool:
    text = _text_of(study, area)
    return any(alt.strip().strip('"').lower() in text for alt in re.split(r"\s+OR\s+", expr) if alt.strip())


def _project(study: dict, fields: str) -> dict:
    """``fields``: NCTId / LastUpdatePostDate or dotted paths; anything else returns the whole study."""
    names = {"NCTId": "protocolSection.identificationModule.nctId",
             "LastUpdatePostDate": "protocolSection.statusModule.lastUpdatePostDateStruct"}
    paths = [names.get(f.strip(), f.strip()) for f in re.split(r"[,|]", fields) if f.strip()]
    if not all("." in p or p == "hasResults" for p in paths):
        return study
    out: dict = {}
    for path in paths:
        src, dst, parts = study, out, path.split(".")
        for i, part in enumerate(parts):
            if not isinstance(src, dict) or part not in src:
                break
            if i == len(parts) - 1:
                dst[part] = src[part]
            else:
                src, dst = src[part], dst.setdefault(part, {})
    return out


class BadRequest(Exception):
    pass


class CtgovStandin:
    """In-memory registry behind ``/api/v2/studies`` on 127.0.0.1 (ephemeral port)."""

    def __init__(self, studies: Iterable[dict] = (), *, rate: float | None = None, window: float = 1.0,
                 slow_seconds: float = 2.0, port: int = 0) -> None:
        self.rate = rate  # None: no rate rule (the client's own limit is what tests measure)
        self.window = window
        self.slow_seconds = slow_seconds
        self.log: list[LoggedRequest] = []
        self._studies: dict[str, dict] = {}
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self.add(studies)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/v2"

    def start(self) -> "CtgovStandin":
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "CtgovStandin":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- corpus ------------------------------------------------------------------------------------
    def add(self, studies: Iterable[dict]) -> None:
        with self._lock:
            for s in studies:
                self._studies[_nct(s)] = json.loads(json.dumps(s))

    def update(self, nct: str, title: str, when: dt.date | None = None) -> None:
        """New title and a lastUpdatePostDate of ``when`` (default today), as the registry does."""
        day = (when or dt.datetime.now(dt.timezone.utc).date()).isoformat()
        with self._lock:
            p = self._studies[nct]["protocolSection"]
            p["identificationModule"]["briefTitle"] = title
            p["statusModule"]["lastUpdatePostDateStruct"]["date"] = day

    def withdraw(self, ncts: Iterable[str]) -> None:
        with self._lock:
            for n in ncts:
                self._studies.pop(n, None)

    @property
    def studies(self) -> dict[str, dict]:
        with self._lock:
            return dict(self._studies)

    # -- faults and log ----------------------------------------------------------------------------
    def inject(self, kind: str, times: int = 1, path: str | None = None, retry_after: float = 0.5,
               after: int = 0) -> None:
        """Fail the next ``times`` matching requests with ``kind`` (after letting ``after`` through)."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULTS}")
        with self._lock:
            self._faults.extend(_Fault(kind, path, retry_after, after) for _ in range(times))

    def pending_faults(self) -> int:
        return len(self._faults)

    def max_in_window(self, window: float = 1.0) -> int:
        """Most requests that arrived within any sliding window of ``window`` seconds."""
        times = sorted(r.t for r in self.log)
        best, j = 0, 0
        for i, t in enumerate(times):
            while times[j] <= t - window:
                j += 1
            best = max(best, i - j + 1)
        return best

    def min_gap(self) -> float:
        times = sorted(r.t for r in self.log)
        return min((b - a for a, b in zip(times, times[1:])), default=float("inf"))

    # -- request handling --------------------------------------------------------------------------
    def _admit(self, path: str, params: dict[str, str]) -> tuple[LoggedRequest, _Fault | None]:
        with self._lock:
            now = time.monotonic()
            entry = LoggedRequest(now, path, dict(params))
            recent = sum(1 for r in self.log if r.t > now - self.window) + 1
            self.log.append(entry)
            if self.rate is not None and recent > self.rate * self.window:
                entry.rate_limited = True
                return entry, None
            matching = [f for f in self._faults if f.path is None or path.startswith(f.path)]
            ready = next((f for f in matching if f.after <= 0), None)
            for f in matching:
                if f is not ready and f.after > 0:
                    f.after -= 1
            if ready is not None:
                entry.fault = ready.kind
                self._faults.remove(ready)
            return entry, ready

    def search(self, params: dict[str, str]) -> tuple[dict, list[str]]:
        unknown = sorted(set(params) - KNOWN_PARAMS)
        if unknown:
            raise BadRequest(f"unknown parameter(s): {', '.join(unknown)}")
        try:
            size = int(params.get("pageSize", "10"))
        except ValueError:
            raise BadRequest(f"pageSize must be an integer, got {params['pageSize']!r}") from None
        if not 0 < size <= 1000:
            raise BadRequest(f"pageSize must be between 1 and 1000, got {size}")
        lo, hi = "0000-00-00", "9999-99-99"
        adv = params.get("filter.advanced", "").strip()
        if adv:
            m = _RANGE.search(adv)
            if not m:
                raise BadRequest(f"filter.advanced: cannot parse {adv!r}")
            for bound, keep in ((m.group(1), "MIN"), (m.group(2), "MAX")):
                if bound != keep and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", bound):
                    raise BadRequest(f"filter.advanced: bad date {bound!r} in {adv!r}")
            lo = lo if m.group(1) == "MIN" else m.group(1)
            hi = hi if m.group(2) == "MAX" else m.group(2)
        ids_filter = {i.strip().upper() for i in re.split(r"[,|]", params.get("filter.ids", "")) if i.strip()}
        with self._lock:
            studies = list(self._studies.values())
        hits = []
        for s in studies:
            if ids_filter and _nct(s) not in ids_filter:
                continue
            if any(not _matches(s, k, params[k]) for k in ("query.cond", "query.intr", "query.term") if k in params):
                continue
            if not lo <= s["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] <= hi:
                continue
            hits.append(s)
        hits.sort(key=_nct)
        offset = 0
        if params.get("pageToken"):
            try:
                offset = int(base64.urlsafe_b64decode(params["pageToken"].encode()).decode().split(":")[1])
            except (ValueError, IndexError):
                raise BadRequest(f"invalid pageToken {params['pageToken']!r}") from None
        page = hits[offset:offset + size]
        fields = params.get("fields", "")
        out: dict[str, Any] = {"studies": [_project(s, fields) if fields else s for s in page]}
        if offset + size < len(hits):
            out["nextPageToken"] = base64.urlsafe_b64encode(f"p:{offset + size}".encode()).decode()
        if params.get("countTotal", "").lower() == "true":
            out["totalCount"] = len(hits)
        return out, [_nct(s) for s in page]


def _handler_for(server: CtgovStandin) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            params = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
            path = parsed.path.removeprefix("/api/v2")
            entry, fault = server._admit(path, params)
            if entry.rate_limited:
                return self._reply(entry, 429, b"Too Many Requests", {"Retry-After": "1"})
            if fault is not None:
                if fault.kind == "503":
                    return self._reply(entry, 503, b"<html>Service Unavailable</html>", ctype="text/html")
                if fault.kind == "429":
                    return self._reply(entry, 429, b"Too Many Requests", {"Retry-After": f"{fault.retry_after:g}"})
                if fault.kind == "reset":
                    entry.status = -1
                    self.close_connection = True
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    return
                if fault.kind == "slow":
                    time.sleep(server.slow_seconds)
            ids: list[str] = []
            try:
                if path == "/studies":
                    data, ids = server.search(params)
                elif path.startswith("/studies/"):
                    nct = path.rsplit("/", 1)[-1].upper()
                    study = server.studies.get(nct)
                    if study is None:
                        return self._reply(entry, 404, f"Study {nct} not found".encode())
                    data, ids = study, [nct]
                else:
                    return self._reply(entry, 404, b"Not Found")
            except BadRequest as exc:
                return self._reply(entry, 400, str(exc).encode())
            body = json.dumps(data).encode()
            if fault is not None and fault.kind == "truncate":
                body, ids = body[: len(body) // 2], []
            entry.ids = tuple(ids)
            self._reply(entry, 200, body, ctype="application/json")

        def _reply(self, entry: LoggedRequest, status: int, body: bytes, headers: dict[str, str] | None = None,
                   ctype: str = "text/plain") -> None:
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
                self.close_connection = True

    return Handler


def client_for(standin: CtgovStandin, rate: float = 20.0, read_timeout: float = 0.5, **kw: Any):
    """A CtgovClient aimed at ``standin`` with test-sized backoff. It uses the machine-wide limiter; the
    test suite gives every test its own limiter folder (tests/conftest.py), so budgets never mix."""
    from evidence_review.registers.client import CtgovClient

    kw.setdefault("backoff", 0.02)
    return CtgovClient(standin.url, rate=rate, read_timeout=read_timeout, **kw)
