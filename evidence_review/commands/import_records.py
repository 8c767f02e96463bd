"""`evidence-review import`: add a PubMed MEDLINE/.nbib export or a RIS file to the store as its own source.

Example::

    python -m evidence_review import zotero_export.ris --store store --label "hand search"
"""

from __future__ import annotations

import argparse

HELP = "import a MEDLINE/.nbib or RIS file into the store as a source of its own, skipping duplicates"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="MEDLINE (.nbib/.txt from PubMed) or RIS file")
    parser.add_argument("--store", default="store", metavar="DIR", help="store folder (created if missing)")
    parser.add_argument("--format", default="auto", choices=("auto", "medline", "ris"),
                        help="file format (default: detected from the first line)")
    parser.add_argument("--label", help="source label shown for this import (default: the file name)")


def run(args: argparse.Namespace) -> int:
    from evidence_review.pubmed.importer import import_file

    res = import_file(args.store, args.file, fmt=args.format, label=args.label)
    how = ", ".join(f"{n} by {k.replace('_', ' + ')}" for k, n in sorted(res.duplicates.items()))
    print(f"import {res.pull_id}: {res.records} records in {res.file.name} ({res.format}); "
          f"added {len(res.added)}, duplicates {res.n_duplicates}" + (f" ({how})" if how else ""))
    return 0
