#!/usr/bin/env python
"""Benchmark: registry pull and refresh against the floors the rate limit implies, on the loopback stand-in.

The floor of a pull is (requests - 1) / rate seconds: the first request starts at once, every further one
waits for the limiter. The ratio wall / floor shows what retries, JSON parsing, page files and SQLite
commits cost on top of waiting politely. The refresh line compares its requests with a full re-pull's.
Nothing here touches the internet.

    python scripts/bench_registry.py                        # 2,000 studies, pages of 100, 1 request/s
    python scripts/bench_registry.py --studies 5000 --rate 5 --faults
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from ctgov_standin import CtgovStandin, generate_studies, make_study  # noqa: E402

from evidence_review.registers.client import CtgovClient, search_params  # noqa: E402
from evidence_review.registers.pull import pull, refresh  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--studies", type=int, default=2000)
    p.add_argument("--page-size", type=int, default=100)
    p.add_argument("--rate", type=float, default=1.0, help="requests per second (CTGOV_RATE)")
    p.add_argument("--faults", action="store_true", help="inject 503, 429, reset, truncate and slow once each")
    args = p.parse_args(argv)

    corpus = generate_studies(args.studies, seed=1)
    with CtgovStandin(corpus, slow_seconds=1.5) as s, tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("EVIDENCE_REVIEW_RATE_DIR", str(Path(tmp) / "rate"))
        if args.faults:
            for i, kind in enumerate(("503", "429", "reset", "truncate", "slow")):
                s.inject(kind, retry_after=1.0, after=3 * i)
        client = CtgovClient(s.url, rate=args.rate, backoff=0.5, read_timeout=1.0)
        store = Path(tmp) / "store"
        t0 = time.perf_counter()
        res = pull(store, search_params(cond="velmoric"), client=client, page_size=args.page_size)
        wall = time.perf_counter() - t0
        n_pull = len(s.log)
        peak = s.max_in_window(1.0)
        today = dt.date.today().isoformat()
        s.add([make_study(f"NCT3{i:07d}", title="Bench new", conditions=["Velmoric Disorder"], drugs=["zentamine"],
                          last_update=today) for i in range(10)])
        for nct in sorted(s.studies)[:10]:
            s.update(nct, "Bench update")
        s.withdraw(sorted(s.studies)[20:30])
        t0 = time.perf_counter()
        ref = refresh(store, client=CtgovClient(s.url, rate=args.rate, backoff=0.5, read_timeout=1.0),
                      page_size=args.page_size)
        wall_r = time.perf_counter() - t0
        n_ref = len(s.log) - n_pull
        peak = max(peak, s.max_in_window(1.0))
    floor = max(n_pull - 1, 1) / args.rate
    repull = -(-len(s.studies) // args.page_size)
    d = ref.diff or {}
    print(f"studies {res.n_studies} of totalCount {res.total}, pages {res.pages} of {args.page_size}, "
          f"rate {args.rate:g}/s{' with faults' if args.faults else ''}")
    print(f"pull: requests {n_pull} (retries included); peak in any 1 s: {peak}; wall {wall:.2f}s  "
          f"floor {floor:.2f}s  ratio wall/floor {wall / floor:.2f}; {res.n_studies / wall:.0f} studies/s")
    print(f"refresh: {len(d.get('new', []))} new, {len(d.get('updated', []))} updated, "
          f"{len(d.get('withdrawn', []))} withdrawn with {n_ref} requests in {wall_r:.2f}s; a full re-pull needs "
          f"{repull} requests (ratio {n_ref / repull:.2f})")
    return 0 if peak <= max(1, int(args.rate)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
