#!/usr/bin/env python
"""Build the offline evidence snapshot (evidence/snapshot/records.csv + manifest.json).

Reads ../shared/evidence-facts/studies.jsonl and bibliography.jsonl, deduplicates them and writes the
records table a live pull would produce (abstracts empty, unknown identifiers left empty). Deterministic:
the same facts files give byte-identical outputs.

    .venv/bin/python scripts/build_snapshot.py [--facts DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys

from evidence_review import paths
from evidence_review.errors import InputError
from evidence_review.review.snapshot import load_manifest, snapshot_dir, write_snapshot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", default=None, help=f"evidence-facts folder (default {paths.evidence_facts_dir()})")
    parser.add_argument("--out", default=None, help=f"output folder (default {snapshot_dir()})")
    args = parser.parse_args(argv)
    try:
        records, manifest = write_snapshot(args.out or snapshot_dir(), args.facts)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    counts = load_manifest(manifest)["counts"]
    print(f"wrote {records} ({counts['records']} records; {counts['identified']} identified, "
          f"{counts['duplicates_removed']} duplicates removed, {counts['without_pmid']} without PMID)")
    print(f"wrote {manifest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
