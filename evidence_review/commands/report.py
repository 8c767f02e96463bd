"""`evidence-review report`: the main job - every pipeline stage, offline, into reports/."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HELP = "run the main job (records, effects, claims, summary) and write reports/"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stages", nargs="+", metavar="STAGE",
                        help="run the pipeline up to these stages (default: all: records effects claims summary)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: reports/ or $EVIDENCE_REVIEW_REPORTS)")
    parser.add_argument("--timings", action="store_true", help="print seconds per stage to stderr")


def run(args: argparse.Namespace) -> int:
    from evidence_review import paths, pipeline

    out = args.out or paths.reports_dir()
    ctx = pipeline.ReportContext(reports=Path(out))
    names = list(pipeline.STAGES)
    if args.stages:
        for s in args.stages:
            pipeline.resolve(s)
        names = names[: max(names.index(s) for s in args.stages) + 1]
    for name in names:
        t0 = time.perf_counter()
        pipeline.resolve(name)(ctx)
        if args.timings:
            print(f"[report] {name}: {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    root = Path(out).resolve()
    for p in dict.fromkeys(ctx.written):
        p = Path(p).resolve()
        print(os.path.relpath(p, root.parent) if root.parent in p.parents else p)
    return 0
