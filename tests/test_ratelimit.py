"""Machine-wide rate limiter: sliding window, shared by threads, processes, and a kill + rerun."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from eutils_standin import EutilsStandin, standin_records

from evidence_review.errors import EvidenceReviewError
from evidence_review.ratelimit import MachineRateLimiter, budget_name, rate_dir


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def max_in(starts: list[float], span: float) -> int:
    starts = sorted(starts)
    return max((sum(1 for t in starts[i:] if t < t0 + span - 1e-9) for i, t0 in enumerate(starts)), default=0)


def test_three_then_waits_for_the_window_to_slide(tmp_path: Path) -> None:
    clock = FakeClock()
    lim = MachineRateLimiter("ncbi", 3, 1.0, margin=0.1, directory=tmp_path, clock=clock, sleep=clock.sleep)
    t0 = clock.now
    starts = []
    for _ in range(7):
        lim.acquire()
        starts.append(clock.now)
    assert starts[:3] == [t0] * 3
    assert starts[3] == pytest.approx(t0 + 1.1, abs=0.005)
    assert starts[6] == pytest.approx(t0 + 2.2, abs=0.005)
    assert max_in(starts, 1.1) <= 3


def test_state_is_shared_by_a_second_instance_as_a_rerun_sees_it(tmp_path: Path) -> None:
    clock = FakeClock()
    first = MachineRateLimiter("ncbi", 3, 1.0, directory=tmp_path, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        first.acquire()
    t0 = clock.now
    rerun = MachineRateLimiter("ncbi", 3, 1.0, directory=tmp_path, clock=clock, sleep=clock.sleep)
    waited = rerun.acquire()
    assert waited == pytest.approx(1.1, abs=0.005) and clock.now == pytest.approx(t0 + 1.1, abs=0.005)


def test_budgets_are_separate_and_keys_are_never_stored(tmp_path: Path) -> None:
    clock = FakeClock()
    key = "SECRET-key-abcdef0123456789"
    name = budget_name("ncbi", key)
    assert name.startswith("ncbi-key-") and key not in name and budget_name("ncbi", "") == "ncbi"
    keyed = MachineRateLimiter(name, 10, 1.0, directory=tmp_path, clock=clock, sleep=clock.sleep)
    plain = MachineRateLimiter("ncbi", 3, 1.0, directory=tmp_path, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        keyed.acquire()
    plain.acquire()
    assert clock.now == 1_800_000_000.0  # neither budget waited on the other
    for f in tmp_path.iterdir():
        assert key not in f.name and key not in f.read_text(errors="replace")


def test_pause_until_holds_every_instance(tmp_path: Path) -> None:
    clock = FakeClock()
    a = MachineRateLimiter("ctgov", 3, 1.0, directory=tmp_path, clock=clock, sleep=clock.sleep)
    b = MachineRateLimiter("ctgov", 3, 1.0, directory=tmp_path, clock=clock, sleep=clock.sleep)
    a.pause_until(clock.now + 5)
    b.acquire()
    assert clock.now >= 1_800_000_005.0


def test_damaged_or_far_future_state_does_not_block_forever(tmp_path: Path) -> None:
    clock = FakeClock()
    (tmp_path / "ncbi.json").write_text("{not json")
    lim = MachineRateLimiter("ncbi", 3, 1.0, directory=tmp_path, clock=clock, sleep=clock.sleep)
    assert lim.acquire() == 0.0
    (tmp_path / "ncbi.json").write_text('{"starts": [9e12, 9e12, 9e12], "paused_until": 9e12}')
    assert lim.acquire() == 0.0  # a clock set back (or a hand-edited file) cannot stall the machine


def test_threads_share_the_window(tmp_path: Path) -> None:
    lim = MachineRateLimiter("t", 3, 0.2, margin=0.02, directory=tmp_path)
    starts: list[float] = []
    guard = threading.Lock()

    def worker() -> None:
        for _ in range(2):
            lim.acquire()
            with guard:
                starts.append(time.time())

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(starts) == 12 and max_in(starts, 0.2) <= 3


_CHILD = """
import sys
from evidence_review.ratelimit import MachineRateLimiter
lim = MachineRateLimiter("proc", 3, 0.3, margin=0.03, directory=sys.argv[1])
for _ in range(4):
    lim.acquire()
    print(repr(lim.last_start), flush=True)  # the start as recorded in the shared window
"""


def test_processes_share_the_window(tmp_path: Path) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    starts = [float(line) for p in procs for line in p.communicate(timeout=60)[0].split()]
    assert len(starts) == 16
    assert max_in(starts, 0.3) <= 3
    # ...and the window is used, not wasted: 16 starts at 3 per 0.33 s take about 5 windows (1.65 s)
    assert max(starts) - min(starts) < 3.0


def test_default_folder_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EVIDENCE_REVIEW_RATE_DIR", str(tmp_path / "x"))
    assert rate_dir() == tmp_path / "x"
    monkeypatch.delenv("EVIDENCE_REVIEW_RATE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert rate_dir() == tmp_path / "cache" / "evidence-review" / "ratelimit"


def test_unusable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    lim = MachineRateLimiter("ncbi", 3, 1.0, directory=blocker / "sub")
    with pytest.raises(EvidenceReviewError, match="EVIDENCE_REVIEW_RATE_DIR"):
        lim.acquire()


# -- concurrent pulls (separate processes, separate stores) against one stand-in ----------------------


def _concurrent_pulls(tmp_path: Path, n: int, records: int, batch: int) -> EutilsStandin:
    corpus = standin_records(records, seed=21)
    with EutilsStandin(corpus) as s:
        env = dict(os.environ, NCBI_EUTILS_URL=s.url, EVIDENCE_REVIEW_EUTILS_BACKOFF="0.05",
                   EVIDENCE_REVIEW_EUTILS_TIMEOUT="10", NCBI_API_KEY="", NCBI_EMAIL="")
        procs = [subprocess.Popen([sys.executable, "-m", "evidence_review", "pull", "--query", "ketamine",
                                   "--store", str(tmp_path / f"store{i}"), "--batch-size", str(batch)],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for i in range(n)]
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
    return s


@pytest.mark.parametrize(("n", "records", "batch"), [(2, 500, 100), (4, 200, 100)])
def test_concurrent_pulls_stay_within_three_per_second_together(tmp_path: Path, n: int, records: int,
                                                                   batch: int) -> None:
    s = _concurrent_pulls(tmp_path, n, records, batch)
    per_pull = 1 + -(-records // batch)  # one esearch + the efetch batches
    assert len(s.log) == n * per_pull  # nothing was refused and retried
    assert not s.rate_limited()
    assert s.max_in_window() <= 3


def test_back_to_back_pulls_share_the_window(tmp_path: Path) -> None:
    corpus = standin_records(200, seed=22)
    with EutilsStandin(corpus) as s:
        env = dict(os.environ, NCBI_EUTILS_URL=s.url, NCBI_API_KEY="", NCBI_EMAIL="")
        for i in range(2):
            proc = subprocess.run([sys.executable, "-m", "evidence_review", "pull", "--query", "q", "--store",
                                   str(tmp_path / f"s{i}"), "--batch-size", "100"], env=env,
                                  capture_output=True, text=True, timeout=60)
            assert proc.returncode == 0, proc.stderr
    assert not s.rate_limited() and s.max_in_window() <= 3
