"""Where a review run's records come from, and how each stream was identified (PRISMA 2020).

Two kinds of run:

* **offline** (default): the committed snapshot ``evidence/snapshot/``. No search was run: a reviewer
  compiled the records from stored copies of public pages (``scripts/build_snapshot.py``), so the whole
  snapshot is one "other methods" stream and the methods say exactly that.
* **store** (``report --store DIR [--pull ID]``): the records of a pull (the latest complete one by
  default) are the "databases" stream - database, query, date run, date window and count come from the
  pull itself. Each record is matched to a curated study (:mod:`evidence_review.review.matching`); the
  curated records the search did not return stay in the review as the "other methods" stream (hand
  search, citations, registries), keeping their decisions and extraction rows, as PRISMA 2020 counts them.

Every stream is described in ``identification["streams"]`` (one dict each); another source (e.g. a
registry pull) adds its own stream dict with ``stream`` = "registers".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evidence_review.review import matching, snapshot
from evidence_review.review.records_frame import conform

STREAM_COLUMN = "stream"  # databases | registers | other_methods


@dataclass
class RunRecords:
    records: pd.DataFrame                      # conformed records frame + ``stream`` + ``curated`` (reviewed)
    identification: dict[str, Any]             # kind, search_run, streams, ...
    manifest: dict[str, Any]                   # the snapshot manifest (offline) or the pull manifest facts
    matches: pd.DataFrame | None = None        # store runs: one row per pulled record
    record_hashes: dict[str, str] = field(default_factory=dict)  # pmid -> content hash (store runs)


def offline(snap: Path) -> RunRecords:
    records = snapshot.load_records(snap / "records.csv")
    manifest = snapshot.load_manifest(snap / "manifest.json")
    counts = manifest.get("counts", {})
    stream = {
        "stream": "other_methods",
        "source": "compiled evidence facts (stored copies of public PubMed, PMC, journal and registry pages)",
        "search_run": False,
        "how_compiled": manifest.get("how_compiled", ""),
        "compiled": manifest.get("compiled", ""),
        "files": [{"file": s["file"], "entries": int(s["entries"]), "sha256": s.get("sha256", "")}
                  for s in manifest.get("sources", [])],
        "identified": int(counts.get("identified", len(records))),
        "duplicates_removed": int(counts.get("duplicates_removed", 0)),
        "records": int(len(records)),
    }
    ident = {"kind": "snapshot", "search_run": False, "date": manifest.get("compiled", ""),
             "label": f"offline snapshot compiled {manifest.get('compiled', '')}", "streams": [stream]}
    return RunRecords(records.assign(**{STREAM_COLUMN: "other_methods", "curated": True}), ident, manifest)


def from_store(store_dir: Path, pull_id: str | None, snap: Path) -> RunRecords:
    from evidence_review.pubmed.store import Store, content_hash
    from evidence_review.review.records_frame import from_store as load_pull

    pulled, pull, store_facts = load_pull(store_dir, pull_id)
    with Store(store_dir, create=False) as store:
        hashes = dict(store.conn.execute("SELECT pmid, content_hash FROM pull_members WHERE pull_id=? "
                                         "AND content_hash IS NOT NULL", (pull.pull_id,)).fetchall())
    if not hashes:  # older stores: recompute from the record fields
        hashes = {str(r["pmid"]): content_hash(r) for r in pulled.to_dict("records")}
    curated = snapshot.load_records(snap / "records.csv") if (snap / "records.csv").is_file() else \
        conform(pd.DataFrame(columns=list(snapshot.RECORD_COLUMNS)))
    manifest = snapshot.load_manifest(snap / "manifest.json") if (snap / "manifest.json").is_file() else {}
    pulled, matches = matching.match_records(pulled, curated)
    # curated fields a PubMed record does not carry (registry ids, registration links) follow the match
    by_id = curated.set_index("study_id")
    for col in ("nct_id", "other_registry_id", "linked_study_id"):
        pulled[col] = [v or (str(by_id.at[s, col]) if s in by_id.index else "")
                       for v, s in zip(pulled[col], pulled["study_id"])]
    matched = set(matches["curated_study_id"]) - {""}
    other = curated[~curated["study_id"].isin(matched)]
    records = pd.concat([pulled.assign(**{STREAM_COLUMN: "databases", "curated": pulled["study_id"].isin(matched)}),
                         other.assign(**{STREAM_COLUMN: "other_methods", "curated": True})], ignore_index=True)
    window = pull.info.get("date_range") or None
    search = pull.info.get("search", {})
    db = {
        "stream": "databases", "source": "PubMed", "search_run": True, "pull_id": pull.pull_id,
        "kind": pull.kind, "pull_chain": store_facts["pull_chain"], "query": pull.query,
        "query_translation": search.get("query_translation") or "",
        "date_run": pull.completed_utc or pull.started_utc, "date_window": window,
        "esearch_count": pull.count, "identified": int(len(pulled)),
        "missing_pmids": len(pull.info.get("missing") or []),
        "matched_to_curated": {k: int(v) for k, v in sorted(matches["matched_on"].value_counts().items())
                               if k != "none"},
        "topic": pull.info.get("topic"),
    }
    # trial registrations are the register stream's (review.registers), not "other methods" reports
    reg = other["key_source"].isin(["nct", "registry"])
    om = {
        "stream": "other_methods", "source": "curated evidence snapshot (hand search, citations)",
        "search_run": False, "how_compiled": manifest.get("how_compiled", ""),
        "compiled": manifest.get("compiled", ""), "identified": int(len(curated) - reg.sum()),
        "duplicates_of_search": int(len(matched)), "records": int(len(other) - reg.sum()),
        "registrations_to_register_stream": int(reg.sum()),
    }
    ident = {"kind": "store", "search_run": True, "date": pull.completed_utc or pull.started_utc,
             "label": f"PubMed search run {(pull.completed_utc or '')[:10]} (pull {pull.pull_id})",
             "store": str(store_dir), "streams": [db, om]}
    return RunRecords(records, ident, manifest, matches, {str(k): v for k, v in hashes.items()})
