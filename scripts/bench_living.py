#!/usr/bin/env python
"""Benchmark the monthly living-review loop on a 5,000-record store (loopback stand-in, no internet).

    python scripts/bench_living.py [--records 5000] [--new 50] [--revised 20] [--withdrawn 10]

Builds the ketamine-OCD-like corpus (tests/living_corpus.py: the snapshot's studies + distractors), pulls
it into a temporary store, then times what a reviewer runs each month: ``refresh`` (after the stand-in adds,
revises and withdraws records) and ``report --store`` (every stage, per-stage seconds). Ratios are against
floors: the offline ``report`` on the 46-record snapshot (the same stages on the smallest input), the full
``pull`` of the same store (what refresh saves), and the records stage per 1,000 records.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import living_corpus as lc  # noqa: E402
from eutils_standin import EutilsStandin, client_for  # noqa: E402

from evidence_review import pipeline  # noqa: E402
from evidence_review.pubmed import synthetic as sp  # noqa: E402
from evidence_review.pubmed.pull import pull, refresh  # noqa: E402
from evidence_review.ratelimit import MachineRateLimiter  # noqa: E402


def timed_report(out: Path, store: Path | None) -> tuple[tuple[float, float], dict[str, float], "pipeline.ReportContext"]:
    """((wall s, CPU s), CPU s per stage, context) of one full report. CPU time is reported beside wall
    time because a shared machine's load inflates wall time; the ratios use CPU time."""
    ctx = pipeline.ReportContext(reports=out, store=store)
    stages = {}
    t0, c0 = time.perf_counter(), time.process_time()
    for name in pipeline.STAGES:
        c = time.process_time()
        pipeline.resolve(name)(ctx)
        stages[name] = time.process_time() - c
    return (time.perf_counter() - t0, time.process_time() - c0), stages, ctx


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=5000, help="records in the store (default 5000)")
    p.add_argument("--new", type=int, default=50, help="records the stand-in adds before the refresh")
    p.add_argument("--revised", type=int, default=20, help="records it revises")
    p.add_argument("--withdrawn", type=int, default=10, help="records it withdraws")
    args = p.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench_living_"))
    os.environ.setdefault("EVIDENCE_REVIEW_RATE_DIR", str(work / "rate"))
    try:
        studies, _ = lc.snapshot_records()
        records = studies + lc.distractors(args.records - len(studies), seed=1)
        store = work / "store"
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
        print(f"corpus: {len(records)} records ({len(studies)} snapshot studies + distractors)")
        t_off, off_stages, _ = timed_report(work / "offline", None)
        with EutilsStandin(records, rate=10_000) as s:
            client = client_for(s, limiter=MachineRateLimiter("bench_living", 10_000, directory=work / "rate"))
            t = time.process_time()
            first = pull(store, "ketamine AND obsessive-compulsive disorder", client=client, progress=False)
            t_pull = time.process_time() - t
            t_rep1, rep1_stages, _ = timed_report(work / "reports", store)
            start = lc.DISTRACTOR_PMID_BASE + 800_000
            s.add_records(lc.distractors(args.new, seed=2, start_pmid=start))
            ids = sorted(s.records)
            for pmid in ids[: args.revised]:
                s.modify(pmid, f"{sp.revise(s.records[pmid]).title} [revised]")
            s.remove(ids[-args.withdrawn:] if args.withdrawn else [])
            req0 = client.request_count
            t = time.process_time()
            res = refresh(store, client=client, progress=False)
            t_ref = time.process_time() - t
            req_ref = client.request_count - req0
        t_rep2, rep2_stages, ctx = timed_report(work / "reports", store)
        ch = ctx.facts["changes"]
        fmt = lambda st: ", ".join(f"{k} {v:.2f}" for k, v in st.items())  # noqa: E731
        print(f"pull: {first.n_pmids} records, {first.requests} requests, {t_pull:.2f} s CPU")
        print(f"refresh: {len(res.diff['new'])} new, {len(res.diff['updated'])} updated, "
              f"{len(res.diff['withdrawn'])} withdrawn; {req_ref} requests, {t_ref:.2f} s CPU")
        print(f"report --store (first): {t_rep1[1]:.2f} s CPU ({t_rep1[0]:.2f} s wall)  [{fmt(rep1_stages)}]")
        print(f"report --store (after refresh): {t_rep2[1]:.2f} s CPU ({t_rep2[0]:.2f} s wall)  [{fmt(rep2_stages)}]")
        print(f"offline report (46 records, floor): {t_off[1]:.2f} s CPU ({t_off[0]:.2f} s wall)  [{fmt(off_stages)}]")
        print(f"changes.json: {len(ch['new_records'])} new, {len(ch['updated_records'])} updated, "
              f"{len(ch['withdrawn_records'])} withdrawn, {len(ch['awaiting_screening'])} awaiting screening")
        n = res.n_pmids
        print("ratios (CPU time):")
        print(f"  monthly loop (refresh + report --store) / offline report: {(t_ref + t_rep2[1]) / t_off[1]:.2f}")
        print(f"  report --store / offline report:                          {t_rep2[1] / t_off[1]:.2f}")
        print(f"  refresh / full pull:                                      {t_ref / max(t_pull, 1e-9):.2f}")
        print(f"  refresh requests / full pull requests:                    {req_ref}/{first.requests}")
        print(f"  records stage: {rep2_stages['records'] / (n / 1000):.2f} s per 1,000 records "
              f"(offline, 46 records: {off_stages['records']:.2f} s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
