"""`evidence-review audit PAGE`: judge the checkable claims of any clinic page; list everything else with its role."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "find the claims on a clinic page and judge them against the evidence base (csv, json or html)"
FORMATS = ("csv", "json", "html")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("page", type=Path, help="clinic page as plain UTF-8 text (at most 1 MB)")
    parser.add_argument("--format", choices=FORMATS, default="csv",
                        help="csv (default), json (one object per unit) or html (one self-contained page)")
    parser.add_argument("--out", type=Path, default=None, help="write here instead of standard output")
    parser.add_argument("--claims-only", action="store_true", help="csv/json: leave out the units that are not claims")


def render(df, fmt: str, source: str, topic_title: str = "the review") -> str:
    """The audit table as text in the chosen format (same rows, same order, deterministic)."""
    import json

    from evidence_review.tables import to_csv_text

    if fmt == "csv":
        return to_csv_text(df)
    if fmt == "json":
        recs = [{k: (int(v) if k == "line" else v) for k, v in r.items()} for r in df.to_dict("records")]
        return json.dumps({"page": source, "units": recs}, ensure_ascii=False, indent=1) + "\n"
    from evidence_review.report.audit_html import render_audit_html
    return render_audit_html(df, source, topic_title)


def run(args: argparse.Namespace) -> int:
    from evidence_review.atomic import atomic_write_text
    from evidence_review.claims.audit import audit_text, load_evidence_base, read_page

    text = read_page(args.page)  # InputError (exit 2) for a missing, oversized or non-UTF-8 page
    eb = load_evidence_base()
    df = audit_text(text, eb, args.page.name)
    if args.claims_only and args.format != "html":
        df = df[df["role"] == "claim"].reset_index(drop=True)
    out = render(df, args.format, args.page.name, eb.topic.title)
    if args.out:
        atomic_write_text(args.out, out)
    else:
        sys.stdout.write(out)
    claims = df[df["role"] == "claim"]
    counts = claims["verdict"].value_counts().to_dict()
    print(f"{len(claims)} claims, {len(df) - len(claims)} units not judged: " +
          ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + (f" -> {args.out}" if args.out else ""),
          file=sys.stderr)
    return 0
