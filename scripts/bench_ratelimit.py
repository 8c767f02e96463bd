#!/usr/bin/env python
"""Benchmark: 1, 2 and 4 concurrent `pull` processes (separate stores) sharing NCBI's 3 requests/s.

Each pull is a separate ``python -m evidence_review pull`` process against one loopback E-utilities
stand-in, which logs every request's arrival and refuses (HTTP 429) any beyond 3 in a sliding second.
For each level it prints the requests sent, the busy span (first to last arrival), the achieved rate
against the ceiling of 3/s, the span against the floor (requests - 1) / 3 s, the most requests in any
1 s window, and the violations (requests the stand-in refused). With ``--contrast`` it repeats each
level with one rate-limit folder per process, i.e. the old per-process limiter, to show what sharing
buys. Nothing here touches the internet; the machine's real budget is not used (temporary folders).

    python scripts/bench_ratelimit.py                   # 600 records per pull, batches of 100
    python scripts/bench_ratelimit.py --contrast
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from eutils_standin import EutilsStandin, standin_records  # noqa: E402

RATE = 3


def run_level(n: int, records: int, batch: int, shared: bool) -> dict:
    corpus = standin_records(records, seed=5)
    with EutilsStandin(corpus) as s, tempfile.TemporaryDirectory() as tmp:
        procs = []
        for i in range(n):
            rate_dir = Path(tmp) / ("rate" if shared else f"rate{i}")
            env = dict(os.environ, NCBI_EUTILS_URL=s.url, NCBI_API_KEY="", NCBI_EMAIL="",
                       EVIDENCE_REVIEW_EUTILS_BACKOFF="0.2", EVIDENCE_REVIEW_RATE_DIR=str(rate_dir))
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "evidence_review", "pull", "--query", "bench", "--store",
                 str(Path(tmp) / f"store{i}"), "--batch-size", str(batch)],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        codes = [p.wait(timeout=600) for p in procs]
        times = sorted(r.t for r in s.log)
        return {"n": n, "requests": len(times), "span": times[-1] - times[0] if len(times) > 1 else 0.0,
                "peak": s.max_in_window(), "refused": len(s.rate_limited()), "failed": sum(c != 0 for c in codes)}


def show(label: str, r: dict) -> None:
    floor = (r["requests"] - 1) / RATE
    rate = (r["requests"] - 1) / r["span"] if r["span"] else float("nan")
    print(f"{label:<22} pulls {r['n']}  requests {r['requests']:>3}  span {r['span']:6.2f}s  "
          f"floor {floor:6.2f}s  span/floor {r['span'] / floor if floor else float('nan'):.2f}  "
          f"rate {rate:.2f}/s (ceiling {RATE}/s, {rate / RATE:.0%})  peak/1s {r['peak']}  "
          f"violations {r['refused']}  failed pulls {r['failed']}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=600, help="records per pull (default 600)")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--levels", default="1,2,4", help="concurrent pulls to try (default 1,2,4)")
    p.add_argument("--contrast", action="store_true", help="also run with one limiter per process")
    args = p.parse_args(argv)
    violations = 0
    for n in (int(x) for x in args.levels.split(",")):
        r = run_level(n, args.records, args.batch_size, shared=True)
        violations += r["refused"] + (r["peak"] > RATE)
        show("machine-wide limiter", r)
        if args.contrast:
            show("per-process limiters", run_level(n, args.records, args.batch_size, shared=False))
    print(f"machine-wide limiter: {violations} violations in total")
    return 0 if violations == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
