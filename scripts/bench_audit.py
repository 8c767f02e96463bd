#!/usr/bin/env python
"""Benchmark: `audit` on a large clinic page, against the 10-second floor for a 250 KB page.

Why a script and not a test: speed depends on the machine, so it is measured and printed, never
asserted in the test suite.

    python scripts/bench_audit.py               # 250 KB page, html output, whole command in a child process
    python scripts/bench_audit.py --kb 900      # near the 1 MB size limit

The page is built from the evaluation pages (tests/fixtures/audit_eval/pages), each copy with its
numbers changed so that sentences are not all identical; it is written to a temporary folder. The
whole command (`python -m evidence_review audit PAGE --format html --out ...`) runs in a child
process, so the figure includes start-up and loading the evidence base, as a user sees it. Wall time
depends on what else the machine runs, so the child's CPU time (user + system) is printed beside it.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "tests" / "fixtures" / "audit_eval" / "pages"
FLOOR_SECONDS = 10.0
FLOOR_KB = 250


def build_page(kb: int) -> str:
    """About ``kb`` kilobytes of clinic text: the evaluation pages again and again, numbers varied per copy."""
    import re

    texts = [p.read_text(encoding="utf-8") for p in sorted(PAGES.glob("*.txt"))]
    out: list[str] = []
    size = i = 0
    while size < kb * 1000:
        t = re.sub(r"\d+", lambda m, k=i: str(int(m.group(0)) + k % 7), texts[i % len(texts)])
        out.append(t)
        size += len(t.encode("utf-8")) + 2
        i += 1
    return "\n\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=int, default=FLOOR_KB)
    ap.add_argument("--format", default="html", choices=("csv", "json", "html"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "big_page.txt"
        page.write_text(build_page(args.kb), encoding="utf-8")
        kb = page.stat().st_size / 1000
        times, cpus = [], []
        for _ in range(args.repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            res = subprocess.run([sys.executable, "-m", "evidence_review", "audit", str(page), "--format", args.format,
                                  "--out", str(Path(tmp) / f"out.{args.format}")], cwd=ROOT, capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            if res.returncode != 0:
                print(res.stderr, file=sys.stderr)
                return 1
        t = min(times)
        allowed = FLOOR_SECONDS * kb / FLOOR_KB
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average {load:.1f} at the end")
        print(f"page {kb:.0f} KB, format {args.format}: {res.stderr.strip()}")
        print(f"best of {args.repeat}: {t:.2f} s  ({1000 * t / kb:.1f} ms per KB; runs {', '.join(f'{x:.2f}' for x in times)} s)")
        c = min(cpus)
        print(f"CPU time of the command (user+sys, best of {args.repeat}): {c:.2f} s - what it costs on an idle machine, "
              f"whatever else is running")
        print(f"floor: {FLOOR_SECONDS:g} s per {FLOOR_KB} KB -> {allowed:.1f} s for this page; ratio wall/floor = {t / allowed:.2f}"
              f" ({'within' if t <= allowed else 'OVER'} the floor); ratio CPU/floor = {c / allowed:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
