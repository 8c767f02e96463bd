"""Benchmark the main job: ``python -m evidence_review report`` end to end, plus seconds per stage.

Target: under 30 s on a 2-core machine. Writes into a temporary folder (reports/ is not touched).

    python scripts/bench_report.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 30.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    root = Path(__file__).resolve().parents[1]
    walls = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "evidence_review", "report", "--out", tmp, "--timings"],
                                  cwd=root, capture_output=True, text=True)
            wall = time.perf_counter() - t0
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        walls.append(wall)
        stages = [line.replace("[report] ", "") for line in proc.stderr.splitlines() if line.startswith("[report]")]
        print(f"run {i + 1}: {wall:.2f} s end to end (process start, imports, all stages) | " + " | ".join(stages))
    best = min(walls)
    print(f"best of {len(walls)}: {best:.2f} s on {os.cpu_count()} CPU(s); target {TARGET_S:.0f} s; "
          f"ratio target/actual = {TARGET_S / best:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
