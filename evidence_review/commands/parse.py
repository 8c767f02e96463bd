"""`evidence-review parse`: PubMed XML (efetch output, baseline/update files) -> records table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evidence_review.commands.argtypes import positive_int

HELP = "parse PubMed XML (.xml or .xml.gz) into the records table (CSV or Parquet)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("xml", type=Path, help="PubMed XML file (efetch output or a baseline/update file; .gz ok)")
    parser.add_argument("--out", type=Path, required=True, help="output table: FILE.csv or FILE.parquet")
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=None,
        help="processes for CSV output (the file is split at record boundaries; the output bytes are the same). "
        "Default: the CPUs available (at most 4) for files over 16 MB of XML, else 1",
    )
    parser.add_argument(
        "--deleted-out",
        type=Path,
        default=None,
        help="also write the PMIDs of <DeleteCitation> entries here, one per line",
    )


def run(args: argparse.Namespace) -> int:
    from evidence_review.atomic import atomic_write_text
    from evidence_review.errors import InputError
    from evidence_review.pubmed.records_io import write_records

    suffix = args.out.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise InputError("output must end in .csv or .parquet", file=args.out)
    if not args.xml.is_file():
        raise InputError("file not found", file=args.xml)
    n_records, deleted = write_records(args.xml, args.out, jobs=args.jobs)
    print(f"parsed {n_records} records from {args.xml} -> {args.out}", file=sys.stderr)
    if deleted:
        shown = ", ".join(deleted[:20]) + (" …" if len(deleted) > 20 else "")
        print(f"deleted PMIDs ({len(deleted)}): {shown}", file=sys.stderr)
    if args.deleted_out is not None:
        atomic_write_text(args.deleted_out, "".join(f"{p}\n" for p in deleted))
    return 0
