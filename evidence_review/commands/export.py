"""`evidence-review export`: write records as CSV/Parquet tables, or as RIS, BibTeX or CSL-JSON for a
reference manager, from the evidence store or from a report folder.

Examples::

    python -m evidence_review export --store store --out records.csv
    python -m evidence_review export --report reports --which excluded --format ris --out excluded.ris
"""

from __future__ import annotations

import argparse

HELP = ("export records (store or report folder) as CSV/Parquet or as RIS/BibTeX/CSL-JSON for Zotero, "
        "EndNote, Mendeley; registrations or pulls as CSV/Parquet")
TABLE_FORMATS = ("csv", "parquet")
REFERENCE_FORMATS = ("ris", "bibtex", "csljson")
SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".ris": "ris", ".bib": "bibtex",
            ".json": "csljson"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default="store", metavar="DIR",
                        help="store folder written by `pull`; default ./store (git-ignored)")
    parser.add_argument("--report", metavar="DIR",
                        help="a report folder (reads DIR/tables/records.csv, with screening decisions)")
    parser.add_argument("--table", choices=("records", "registrations", "pulls"), default="records",
                        help="which table")
    parser.add_argument("--format", choices=TABLE_FORMATS + REFERENCE_FORMATS,
                        help="output format (default: from --out: .csv .parquet .ris .bib .json)")
    parser.add_argument("--out", required=True, metavar="FILE", help="output file")
    parser.add_argument("--pull", metavar="PULL_ID", help="records exactly as this past pull (or import) held them")
    parser.add_argument("--which", choices=("all", "included", "excluded"), default="all",
                        help="records by screening decision (reference formats; needs --report)")
    parser.add_argument("--include-withdrawn", action="store_true", help="keep withdrawn records")
    parser.add_argument("--allow-incomplete", action="store_true",
                        help="export even while a pull is unfinished (running or interrupted); else exit 1")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from evidence_review.errors import InputError

    out = Path(args.out)
    fmt = args.format or SUFFIXES.get(out.suffix.lower())
    if fmt is None:
        raise InputError("choose --format (csv, parquet, ris, bibtex, csljson) or an --out ending in "
                         f"{', '.join(SUFFIXES)}", file=out)
    if args.pull and (args.table == "pulls" or args.report):
        raise InputError("--pull applies to the store's records or registrations table", field="pull")
    if fmt in REFERENCE_FORMATS:
        return _export_references(args, fmt, out)
    if args.report or args.which != "all":
        raise InputError("--report and --which apply to --format ris, bibtex or csljson", field="format")
    if args.table != "pulls" and not args.pull:
        _check_no_unfinished_pull(args)
    if args.table == "registrations":
        from evidence_review.registers.export import export_registrations

        n = export_registrations(args.store, out, fmt, pull_id=args.pull, include_withdrawn=args.include_withdrawn)
        print(f"wrote {n} rows to {out}")
        return 0
    from evidence_review.pubmed.store import export_table

    n = export_table(args.store, args.table, out, fmt, pull_id=args.pull, include_withdrawn=args.include_withdrawn)
    print(f"wrote {n} rows to {out}")
    return 0


def _check_no_unfinished_pull(args: argparse.Namespace) -> None:
    """A store mid-pull holds part of the new records beside the old ones: say so, and stop unless asked."""
    import sys

    from evidence_review.errors import EvidenceReviewError
    from evidence_review.pubmed.store import Store

    with Store(args.store, create=False) as store:
        unfinished = [p for p in store.pulls() if p.status != "complete"]
    if not unfinished:
        return
    ids = ", ".join(f"{p.pull_id} ({p.kind}, started {p.started_utc})" for p in unfinished)
    text = (f"{args.store} has {len(unfinished)} unfinished pull(s): {ids}; they are running or were "
            "interrupted, so the store holds only part of them")
    if not args.allow_incomplete:
        raise EvidenceReviewError(f"{text}. Wait for them, or re-run the same pull/refresh to finish them; "
                                  "--allow-incomplete exports anyway")
    print(f"warning: {text} (exported anyway: --allow-incomplete)", file=sys.stderr)


def _export_references(args: argparse.Namespace, fmt: str, out) -> int:
    from pathlib import Path

    from evidence_review.atomic import atomic_write_text
    from evidence_review.errors import InputError
    from evidence_review.formats import write_entries
    from evidence_review.formats.entries import entries_from_records, select

    if args.table != "records":
        raise InputError("reference formats export records, not pulls", field="table")
    if args.report:
        from evidence_review.tables import read_csv_strict

        frame = read_csv_strict(Path(args.report) / "tables" / "records.csv", required=("title", "included"))
    else:
        if args.which != "all":
            raise InputError("the store holds no screening decisions; use --report DIR to export included or "
                             "excluded records", field="which")
        from evidence_review.pubmed.store import Store

        with Store(args.store, create=False) as store:
            frame = (store.pull_records(args.pull) if args.pull
                     else store.records_frame(include_withdrawn=args.include_withdrawn))
    entries = select(entries_from_records(frame), args.which)
    atomic_write_text(out, write_entries(entries, fmt))
    print(f"wrote {len(entries)} {args.which} records as {fmt} to {out}")
    return 0
