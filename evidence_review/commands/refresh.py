"""`evidence-review refresh`: fetch only new or changed records for the store's query; write a diff."""

from __future__ import annotations

import argparse

HELP = "re-run the store's query; fetch only new/changed records; print and write the diff"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default="store", metavar="DIR",
                        help="store folder written by `pull`; default ./store (git-ignored)")
    parser.add_argument("--batch-size", type=int, default=500, metavar="N", help="records per efetch (default 500)")
    parser.add_argument("--overlap-days", type=int, default=3, metavar="D",
                        help="also re-check records modified up to D days before the last pull (default 3)")
    parser.add_argument("--workers", type=int, default=3, metavar="N", help="concurrent efetch requests")


def run(args: argparse.Namespace) -> int:
    from evidence_review.errors import InputError
    from evidence_review.pubmed.pull import MAX_BATCH_SIZE, refresh

    if not 1 <= args.batch_size <= MAX_BATCH_SIZE:
        raise InputError(f"--batch-size must be 1..{MAX_BATCH_SIZE}", field="batch-size")
    if args.overlap_days < 0:
        raise InputError("--overlap-days must be >= 0", field="overlap-days")
    res = refresh(args.store, batch_size=args.batch_size, overlap_days=args.overlap_days, workers=args.workers)
    d = res.diff or {}
    print(f"refresh {res.pull_id}: {len(d.get('new', []))} new, {len(d.get('updated', []))} updated, "
          f"{len(d.get('withdrawn', []))} withdrawn; fetched {d.get('records_fetched', 0)} records "
          f"with {res.requests} requests (modified since {d.get('mdat_since')})")
    for label in ("new", "updated", "withdrawn"):
        pmids = d.get(label, [])
        if pmids:
            shown = ", ".join(pmids[:20]) + (f", ... (+{len(pmids) - 20})" if len(pmids) > 20 else "")
            print(f"  {label}: {shown}")
    print(f"diff: {res.snapshot / 'diff.json'}")
    return 0
