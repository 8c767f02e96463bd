"""`evidence-review refresh`: fetch only new or changed records for the store's searches; write a diff."""

from __future__ import annotations

import argparse

from evidence_review.commands.argtypes import non_negative_int, positive_int

HELP = "re-run the store's PubMed and registry searches; fetch only new/changed records; write the diffs"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default="store", metavar="DIR",
                        help="store folder written by `pull`; default ./store (git-ignored)")
    parser.add_argument("--source", choices=("all", "pubmed", "clinicaltrials"), default="all",
                        help="which searches to refresh (default: every source the store has a pull of)")
    parser.add_argument("--batch-size", type=positive_int, default=500, metavar="N", help="records per efetch (default 500)")
    parser.add_argument("--overlap-days", type=non_negative_int, default=None, metavar="D",
                        help="also re-check records modified up to D days before the last pull "
                             "(default 3 for PubMed, 1 for the registry)")
    parser.add_argument("--workers", type=positive_int, default=3, metavar="N", help="concurrent efetch requests")


def _sources(args: argparse.Namespace) -> list[str]:
    if args.source != "all":
        return [args.source]
    from evidence_review.pubmed.store import Store
    from evidence_review.registers.schema import REGISTRY_PULL_KINDS

    with Store(args.store, create=False) as store:
        found = [name for name, kinds in (("pubmed", ("pull", "refresh")), ("clinicaltrials", REGISTRY_PULL_KINDS))
                 if store.latest_complete(kinds) is not None]
    return found or ["pubmed"]  # nothing to refresh: the PubMed refresh says so


def run(args: argparse.Namespace) -> int:
    from evidence_review.errors import InputError
    from evidence_review.pubmed.pull import MAX_BATCH_SIZE

    if not 1 <= args.batch_size <= MAX_BATCH_SIZE:
        raise InputError(f"--batch-size must be 1..{MAX_BATCH_SIZE}", field="batch-size")
    if args.overlap_days is not None and args.overlap_days < 0:
        raise InputError("--overlap-days must be >= 0", field="overlap-days")
    for source in _sources(args):
        _refresh_pubmed(args) if source == "pubmed" else _refresh_registry(args)
    return 0


def _show(label: str, ids: list[str]) -> None:
    if ids:
        shown = ", ".join(ids[:20]) + (f", ... (+{len(ids) - 20})" if len(ids) > 20 else "")
        print(f"  {label}: {shown}")


def _refresh_pubmed(args: argparse.Namespace) -> None:
    from evidence_review.pubmed.pull import refresh

    overlap = 3 if args.overlap_days is None else args.overlap_days
    res = refresh(args.store, batch_size=args.batch_size, overlap_days=overlap, workers=args.workers)
    d = res.diff or {}
    print(f"refresh {res.pull_id}: {len(d.get('new', []))} new, {len(d.get('updated', []))} updated, "
          f"{len(d.get('withdrawn', []))} withdrawn; fetched {d.get('records_fetched', 0)} records "
          f"with {res.requests} requests (modified since {d.get('mdat_since')})")
    for label in ("new", "updated", "withdrawn"):
        _show(label, d.get(label, []))
    print(f"diff: {res.snapshot / 'diff.json'}")


def _refresh_registry(args: argparse.Namespace) -> None:
    from evidence_review.registers.pull import OVERLAP_DAYS, refresh

    overlap = OVERLAP_DAYS if args.overlap_days is None else args.overlap_days
    res = refresh(args.store, overlap_days=overlap)
    d = res.diff or {}
    print(f"registry refresh {res.pull_id}: {len(d['new'])} new, {len(d['updated'])} updated, "
          f"{len(d['withdrawn'])} withdrawn; fetched {d['studies_fetched']} studies with {res.requests} requests "
          f"(last update since {d['last_update_since']})")
    for label in ("new", "updated", "withdrawn"):
        _show(label, d[label])
    print(f"diff: {res.snapshot / 'diff.json'}")
