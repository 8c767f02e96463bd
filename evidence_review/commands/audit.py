"""`evidence-review audit PAGE.txt`: propose and judge the checkable claims of any clinic page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "find candidate claims on a clinic page and judge them against the evidence base"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("page", type=Path, help="clinic page as plain text (UTF-8)")
    parser.add_argument("--out", type=Path, default=None, help="write the judged candidates as CSV here")


def run(args: argparse.Namespace) -> int:
    import tempfile

    import pandas as pd

    from evidence_review.claims import registry as claims
    from evidence_review.claims import verdicts
    from evidence_review.claims.evidence_base import (
        build,
        load_facts,
        studies_from_facts,
    )
    from evidence_review.errors import InputError
    from evidence_review.pipeline import ReportContext
    from evidence_review.pipeline import run as run_pipeline
    from evidence_review.tables import to_csv_text, write_table

    if not args.page.is_file():
        raise InputError("page not found", file=args.page)
    try:
        text = args.page.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"page is not UTF-8 text: {exc}", file=args.page) from exc
    specs = claims.audit_specs(text, args.page.name)
    with tempfile.TemporaryDirectory() as tmp:  # earlier stages' tables, without touching reports/
        ctx = run_pipeline(ReportContext(reports=Path(tmp)), stages=["effects"])
        topic = ctx.topic
        eb = build(ctx.tables, facts=load_facts(topic.files.context_facts, topic),
                   studies=studies_from_facts(topic.files.studies), topic=topic)
    judged = verdicts.judge_all(specs, eb) if not specs.empty else pd.DataFrame(columns=verdicts.CLAIMS_COLUMNS)
    judged.insert(judged.columns.get_loc("quote") + 1, "cue", specs["cue"].values if not specs.empty else [])
    if args.out:
        write_table(judged, args.out)
        print(f"{len(judged)} candidate claims -> {args.out}")
    else:
        sys.stdout.write(to_csv_text(judged))
    counts = judged["verdict"].value_counts().to_dict() if len(judged) else {}
    print(f"{len(judged)} candidates: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), file=sys.stderr)
    return 0
