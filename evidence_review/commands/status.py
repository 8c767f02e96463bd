"""`evidence-review status`: what an evidence store holds (records, pulls, unfinished work)."""

from __future__ import annotations

import argparse

HELP = "summarise an evidence store: records, versions, pulls and unfinished pulls"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default="store", metavar="DIR",
                        help="store folder written by `pull`; default ./store (git-ignored)")


def run(args: argparse.Namespace) -> int:
    from evidence_review.pubmed.store import Store
    from evidence_review.registers import store as rstore
    from evidence_review.registers.schema import REGISTRY_PULL_KINDS

    with Store(args.store, create=False) as store:
        counts = store.counts()
        pulls = store.pulls_frame()
        latest = store.latest_complete()
        reg = rstore.counts(store)
        reg_latest = store.latest_complete(REGISTRY_PULL_KINDS)
    print(f"store: {args.store}")
    print(f"records: {counts['records']} current, {counts['withdrawn']} withdrawn, "
          f"{counts['record_versions']} versions; pulls: {counts['pulls']}")
    if latest is not None:
        print(f"latest complete: {latest.pull_id} ({latest.kind}, {latest.completed_utc}) query: {latest.query}")
    if reg_latest is not None or reg["studies"] or reg["withdrawn"]:
        print(f"registry studies: {reg['studies']} current, {reg['withdrawn']} withdrawn, {reg['versions']} versions")
    if reg_latest is not None:
        print(f"latest registry pull: {reg_latest.pull_id} ({reg_latest.kind}, {reg_latest.completed_utc}) "
              f"search: {reg_latest.query}")
    for p in pulls.itertuples(index=False):
        print(f"  {p.pull_id}  {p.kind:<16} {p.status:<11} started {p.started_utc}  "
              f"count {p.count}  batches {p.batches_done}/{p.batches}")
    unfinished = pulls[pulls["status"] != "complete"]
    if len(unfinished):
        print(f"{len(unfinished)} unfinished pull(s): re-run the same pull/refresh command to resume")
    return 0
