"""`evidence-review report`: the main job - every pipeline stage, offline, into reports/."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HELP = "run the main job (records, effects, claims, summary) and write reports/; --store: on a pull's records"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stages", nargs="+", metavar="STAGE",
                        help="run the pipeline up to these stages (default: all, in pipeline order)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: reports/ or $EVIDENCE_REVIEW_REPORTS; a live review may want "
                             "its own, e.g. --out store/reports, to keep the committed offline reports as they are)")
    parser.add_argument("--timings", action="store_true", help="print seconds per stage to stderr")
    parser.add_argument("--store", type=Path, default=None, metavar="DIR",
                        help="review the records of this store's pull instead of the offline snapshot")
    parser.add_argument("--pull", default=None, metavar="PULL_ID",
                        help="with --store: which pull (default: the latest complete one; see `status`)")
    parser.add_argument("--topic", type=Path, default=None, metavar="FILE",
                        help="topic file (default: the one named in evidence/topics/default, or $EVIDENCE_REVIEW_TOPIC)")


def run(args: argparse.Namespace) -> int:
    from evidence_review import paths, pipeline

    from evidence_review.errors import InputError

    if args.pull and not args.store:
        raise InputError("--pull needs --store", field="--pull")
    if args.topic is not None and not args.topic.is_file():
        raise InputError("topic file not found", file=args.topic, field="--topic")
    out = args.out or paths.reports_dir()
    if Path(out).exists() and not Path(out).is_dir():
        raise InputError("is a file; --out names the folder the report is written to", file=out, field="--out")
    ctx = pipeline.ReportContext(reports=Path(out), store=args.store, pull_id=args.pull, topic_path=args.topic)
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
