#!/usr/bin/env python
"""Benchmark: `pull` wall time against the floor NCBI's rate limit implies, on the loopback stand-in.

The floor is requests x (1 / rate) seconds (3 requests/s without an API key, 10 with one). The ratio
wall / floor shows what the client's safety margin, retries and local work cost on top of waiting for
the rate limit. Nothing here touches the internet.

    python scripts/bench_pull.py                       # 9,000 records, batches of 500, 3 req/s
    python scripts/bench_pull.py --records 25000 --api-key   # past the 9,999 cap: date split, 10 req/s
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from eutils_standin import EutilsStandin, standin_records  # noqa: E402

from evidence_review.pubmed.client import EntrezClient  # noqa: E402
from evidence_review.pubmed.pull import pull  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=9000)
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--api-key", action="store_true", help="send a (fake) key: 10 requests/s")
    p.add_argument("--faults", action="store_true", help="inject one of each fault (503, 500, 429, ...)")
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    corpus = standin_records(args.records, seed=1)
    gen = time.perf_counter() - t0
    rate = 10 if args.api_key else 3
    with EutilsStandin(corpus, stall_seconds=3.0) as s, tempfile.TemporaryDirectory() as store:
        if args.faults:
            for kind in ("503", "500", "429", "truncate", "reset", "stall"):
                s.inject(kind, endpoint="efetch")
        client = EntrezClient(s.url, api_key="bench-key" if args.api_key else "", email="",
                              backoff=0.5, read_timeout=1.0)
        t0 = time.perf_counter()
        res = pull(store, "benchmark query", batch_size=args.batch_size, client=client, workers=args.workers,
                   progress=False)
        wall = time.perf_counter() - t0
        n_requests = len(s.log)
        over = len(s.rate_limited())
        peak = s.max_in_window()
    floor = n_requests / rate
    print(f"records {res.n_pmids} (corpus generated in {gen:.1f}s), batch size {args.batch_size}, "
          f"workers {args.workers}, rate {rate}/s{' with faults' if args.faults else ''}")
    print(f"requests {n_requests} (esearch + efetch, retries included); peak in any 1 s: {peak}; "
          f"refused for rate: {over}")
    print(f"wall {wall:.2f}s  floor {floor:.2f}s (requests x 1/{rate} s)  ratio wall/floor {wall / floor:.2f}")
    print(f"throughput {res.n_pmids / wall:.0f} records/s")
    return 0 if over == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
