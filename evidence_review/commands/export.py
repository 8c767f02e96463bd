"""`evidence-review export`: write a table of the evidence store as CSV or Parquet."""

from __future__ import annotations

import argparse

HELP = ("export the store's records or registrations (current, or as a past pull saw them) or its pulls "
        "as CSV/Parquet")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default="store", metavar="DIR",
                        help="store folder written by `pull`; default ./store (git-ignored)")
    parser.add_argument("--table", choices=("records", "registrations", "pulls"), default="records", help="which table")
    parser.add_argument("--format", choices=("csv", "parquet"), help="output format (default: from --out)")
    parser.add_argument("--out", required=True, metavar="FILE", help="output file (.csv or .parquet)")
    parser.add_argument("--pull", metavar="PULL_ID", help="records exactly as this past pull held them")
    parser.add_argument("--include-withdrawn", action="store_true", help="keep withdrawn records")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from evidence_review.errors import InputError
    from evidence_review.pubmed.store import export_table

    out = Path(args.out)
    fmt = args.format or out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "parquet"):
        raise InputError("choose --format csv|parquet or an --out ending in .csv/.parquet", file=out)
    if args.pull and args.table == "pulls":
        raise InputError("--pull applies to --table records or registrations", field="pull")
    if args.table == "registrations":
        from evidence_review.registers.export import export_registrations

        n = export_registrations(args.store, out, fmt, pull_id=args.pull, include_withdrawn=args.include_withdrawn)
        print(f"wrote {n} rows to {out}")
        return 0
    n = export_table(args.store, args.table, out, fmt, pull_id=args.pull, include_withdrawn=args.include_withdrawn)
    print(f"wrote {n} rows to {out}")
    return 0
