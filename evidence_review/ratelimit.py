"""One request budget per machine, shared by every process of the toolkit on the host.

Why: NCBI counts requests per IP address (3/s) or per API key (10/s), and ClinicalTrials.gov per client
address, not per process. A limiter inside one process lets two concurrent pulls, or a killed run and its
immediate rerun, send twice the allowed rate together. Here every process reads and writes one small
state file per budget under an exclusive ``fcntl.flock`` lock, so the sliding window is the machine's.

    limiter = MachineRateLimiter("ncbi", max_calls=3, period=1.0)
    limiter.acquire()          # blocks until one more call may start, then records its start
    limiter.pause_until(t)     # a 429 + Retry-After holds back every process (t = time.time() seconds)

Where the state lives (first that is set):

    EVIDENCE_REVIEW_RATE_DIR   a folder for the state files (tests point it at a temporary folder)
    XDG_CACHE_HOME             -> $XDG_CACHE_HOME/evidence-review/ratelimit
    (default)                  -> ~/.cache/evidence-review/ratelimit

Each budget has ``<budget>.lock`` (the lock) and ``<budget>.json`` (start times of the calls in the
current window and the pause deadline, in wall-clock seconds). Timestamps survive a SIGKILL because the
state is rewritten (atomically, by rename) before ``acquire`` returns. Budget names never hold a secret:
:func:`budget_name` turns an API key into a short hash.

Shared ground: imports nothing from the stages, so a PubMed client and a registry client use the same
module. POSIX only (``fcntl``); elsewhere it falls back to a per-process lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

from evidence_review.errors import EvidenceReviewError

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: the thread lock below still serialises one process
    fcntl = None  # type: ignore[assignment]

RATE_DIR_ENV = "EVIDENCE_REVIEW_RATE_DIR"
DEFAULT_MARGIN = 0.1  # seconds added to the window so clock jitter never squeezes max_calls+1 into one
MAX_PAUSE = 600.0  # a stored pause further ahead than this is treated as damage (clock change, bad file)

_BUDGET_OK = re.compile(r"[^A-Za-z0-9_.-]+")
_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def rate_dir() -> Path:
    """The folder holding the machine's rate-limit state (see the module docstring)."""
    explicit = os.environ.get(RATE_DIR_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(cache).expanduser() if cache else Path.home() / ".cache"
    return base / "evidence-review" / "ratelimit"


def budget_name(service: str, key: str | None = None) -> str:
    """Budget for a service, per API key when one is set; the key appears only as a short SHA-256 prefix."""
    if not key:
        return service
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return f"{service}-key-{digest}"


class MachineRateLimiter:
    """Sliding window across processes: at most ``max_calls`` starts in any ``period + margin`` seconds.

    ``clock`` must be wall-clock seconds (``time.time``) because processes compare each other's
    timestamps and a rerun after a kill reads them; ``clock``/``sleep`` are injectable for tests.
    """

    def __init__(self, budget: str, max_calls: int, period: float = 1.0, *, margin: float = DEFAULT_MARGIN,
                 directory: str | Path | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if max_calls < 1:
            raise ValueError("max_calls must be >= 1")
        if period <= 0 or margin < 0:
            raise ValueError("period must be > 0 and margin >= 0")
        safe = _BUDGET_OK.sub("_", budget).strip("._") or "default"
        self.budget = safe
        self.max_calls = max_calls
        self.period = period
        self.span = period + margin
        self.directory = Path(directory) if directory is not None else rate_dir()
        self.state_path = self.directory / f"{safe}.json"
        self.lock_path = self.directory / f"{safe}.lock"
        self._clock = clock
        self._sleep = sleep
        self.last_start: float | None = None  # clock time this instance's latest call was recorded at
        with _THREAD_LOCKS_GUARD:
            self._thread_lock = _THREAD_LOCKS.setdefault(str(self.lock_path), threading.Lock())

    # -- public --------------------------------------------------------------------------------------

    def acquire(self) -> float:
        """Block until one more call may start, record its start (shared), and return the seconds waited."""
        waited = 0.0
        while True:
            with self._locked():
                starts, paused = self._read()
                now = self._clock()
                starts = [t for t in starts if now - self.span < t <= now + 1.0]
                wait = paused - now
                if wait <= 0 and len(starts) < self.max_calls:
                    starts.append(now)
                    self._write(starts, paused)
                    self.last_start = now
                    return waited
                if wait <= 0:
                    wait = self.span - (now - min(starts))
            wait = max(wait, 0.001)
            self._sleep(wait)
            waited += wait

    def pause_until(self, deadline: float) -> None:
        """No process starts a call before ``deadline`` (``clock`` seconds), e.g. after a 429 Retry-After."""
        with self._locked():
            starts, paused = self._read()
            deadline = min(deadline, self._clock() + MAX_PAUSE)
            if deadline > paused:
                self._write(starts, deadline)

    def recent_starts(self) -> list[float]:
        """Start times inside the current window (for diagnostics and tests)."""
        with self._locked():
            starts, _ = self._read()
        now = self._clock()
        return sorted(t for t in starts if now - self.span < t <= now + 1.0)

    # -- state ---------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                fh = open(self.lock_path, "a+b")
            except OSError as exc:
                raise EvidenceReviewError(
                    f"cannot use the rate-limit folder {self.directory} ({exc.strerror or exc}); "
                    f"make it writable or set {RATE_DIR_ENV} to a writable folder"
                ) from None
            with fh:
                if fcntl is not None:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    if fcntl is not None:
                        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _read(self) -> tuple[list[float], float]:
        """Stored starts and pause; a missing or damaged file counts as empty (a kill mid-rename cannot
        damage it, so damage means someone edited it)."""
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
            starts = [float(t) for t in data.get("starts", [])]
            paused = float(data.get("paused_until", 0.0))
        except (OSError, ValueError, TypeError, AttributeError):
            return [], 0.0
        now = self._clock()
        if paused > now + MAX_PAUSE:
            paused = 0.0
        return starts, paused

    def _write(self, starts: list[float], paused: float) -> None:
        keep = sorted(starts)[-max(self.max_calls, 1) * 4:]
        text = json.dumps({"budget": self.budget, "max_calls": self.max_calls, "period": self.period,
                           "starts": keep, "paused_until": paused})
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")  # one writer at a time: fixed name
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, self.state_path)
        except OSError as exc:
            raise EvidenceReviewError(
                f"cannot write the rate-limit state {self.state_path} ({exc.strerror or exc}); "
                f"make the folder writable or set {RATE_DIR_ENV} to a writable folder"
            ) from None
