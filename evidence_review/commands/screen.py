"""`evidence-review screen`: merge a filled screening queue into the curated decision files."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "validate a filled screening queue and merge it into the curated decisions and design overrides"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--queue", required=True, type=Path, metavar="FILE",
                        help="a filled reports/tables/screening_queue.csv (reviewer_decision, reviewer_reason, "
                             "optional reviewer_design / reviewer_stage / reviewer)")
    parser.add_argument("--topic", type=Path, default=None, metavar="FILE",
                        help="topic file whose curated files receive the answers (default: the project's default topic)")
    parser.add_argument("--decisions", type=Path, default=None, metavar="FILE",
                        help="screening decisions file (default: the topic's, evidence/screening_decisions.csv)")
    parser.add_argument("--overrides", type=Path, default=None, metavar="FILE",
                        help="design overrides file (default: the topic's, evidence/design_overrides.csv)")
    parser.add_argument("--reviewer", default="", metavar="NAME", help="reviewer for rows that leave the column empty")
    parser.add_argument("--replace", action="store_true",
                        help="let an answer change an earlier, different decision (otherwise an error)")
    parser.add_argument("--check", action="store_true", help="validate the queue only; change no file")
    parser.epilog = ("Rows with neither a decision nor a design stay in the queue. Re-running with the same queue "
                     "changes nothing (no duplicate rows). Run `report` (--store DIR) again to apply the decisions.")


def run(args: argparse.Namespace) -> int:
    from evidence_review import paths
    from evidence_review.review import queue

    answers = queue.read_filled(args.queue, reviewer=args.reviewer)
    from evidence_review.review.topic import load_topic

    files = load_topic(args.topic or paths.default_topic()).files
    decisions = args.decisions or files.screening_decisions
    overrides = args.overrides or files.design_overrides
    n_dec = sum(bool(a.decision) for a in answers)
    n_des = sum(bool(a.design) for a in answers)
    if args.check:
        print(f"{args.queue}: {len(answers)} answered rows ({n_dec} decisions, {n_des} designs); valid")
        return 0
    counts = queue.merge(answers, decisions, overrides, queue_path=args.queue, replace=args.replace)
    for name, path in (("decisions", decisions), ("overrides", overrides)):
        c = counts[name]
        print(f"{path}: {c['added']} added, {c['replaced']} replaced, {c['unchanged']} already there")
    return 0
