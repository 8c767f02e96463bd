#!/usr/bin/env python
"""Start the loopback E-utilities stand-in (tests/eutils_standin.py) from the command line.

    python scripts/eutils_standin.py --records 3000 --port 8765
    NCBI_EUTILS_URL=http://127.0.0.1:8765/entrez/eutils/ python -m evidence_review pull --query "x" --store /tmp/s

    python scripts/eutils_standin.py --corpus ketamine --port 8765            # the living-review corpus
    python scripts/eutils_standin.py --corpus ketamine --month-later --port 8765   # ... a month later

Serves synthetic PubMed records until interrupted; --fault KIND[:N] injects faults (503, 500, 429,
truncate, reset, stall) into the first requests.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from eutils_standin import FAULTS, EutilsStandin, standin_records  # noqa: E402


def living_records(args: argparse.Namespace) -> list:
    import living_corpus as lc

    return lc.corpus(seed=args.seed)[0]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=3000, help="synthetic records to serve (default 3000)")
    p.add_argument("--seed", type=int, default=0, help="generator seed (same seed, same records)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    p.add_argument("--cap", type=int, default=9999, help="retrieval cap per search (PubMed: 9999)")
    p.add_argument("--rate", type=int, default=3, help="requests per sliding second without api_key")
    p.add_argument("--stall-seconds", type=float, default=3.0, help="how long the stall fault stalls")
    p.add_argument("--corpus", choices=("random", "ketamine"), default="random",
                   help="random: --records synthetic records; ketamine: the snapshot's studies as PubMed records "
                        "+ 220 distractors (tests/living_corpus.py)")
    p.add_argument("--month-later", action="store_true",
                   help="with --corpus ketamine: the corpus a month later (a new RCT and review, one record "
                        "revised, one withdrawn) - restart with this flag between `pull` and `refresh`")
    p.add_argument("--fault", action="append", default=[], metavar="KIND[:N]",
                   help=f"inject a fault N times (default 1); KIND one of {', '.join(FAULTS)}")
    args = p.parse_args(argv)
    records = standin_records(args.records, seed=args.seed) if args.corpus == "random" else living_records(args)
    server = EutilsStandin(records, cap=args.cap, rate=args.rate, stall_seconds=args.stall_seconds, port=args.port)
    if args.corpus == "ketamine" and args.month_later:
        import living_corpus as lc

        server.add_records(lc.update_events().values())
        server.modify(lc.snapshot_records()[1]["bloch2012_openlabel"], "Effects of ketamine in "
                      "treatment-refractory obsessive-compulsive disorder [revised]")
        server.remove([str(lc.DISTRACTOR_PMID_BASE + 3)])
    args.records = len(server.records)
    for spec in args.fault:
        kind, _, times = spec.partition(":")
        server.inject(kind, times=int(times or 1))
    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # `kill PID` prints the summary too
    with server:
        print(f"E-utilities stand-in serving {args.records} records at {server.url}", flush=True)
        print(f"export NCBI_EUTILS_URL={server.url}", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    print(f"{len(server.log)} requests served; most in one second: {server.max_in_window()}; "
          f"refused for rate: {len(server.rate_limited())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
