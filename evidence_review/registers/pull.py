"""Registry pull and refresh: ClinicalTrials.gov search -> raw JSON pages -> the evidence store.

Layout inside a store folder (beside the PubMed snapshots)::

    DIR/snapshots/<pull_id>/<phase>-00000.json.gz   one API reply per file, written once, atomically
    DIR/snapshots/<pull_id>/manifest.json           search, times, totalCount, NCT ids, per-page SHA-256
    DIR/snapshots/<pull_id>/diff.json               (refresh) new / updated / withdrawn NCT ids

Resuming: each page is written atomically and then recorded with its studies and its ``nextPageToken``
in one transaction, so SIGKILL leaves the store at a page boundary; the same command finds the
in-progress pull by a key derived from the search and continues from the last recorded token (or from
the first page if the registry no longer accepts it: members are unique per pull, so nothing is
stored twice).

Refresh: the full id list (``fields=NCTId``, 1,000 ids a page) finds new and withdrawn studies; studies
whose ``lastUpdatePostDate`` is on or after the last pull's start day (minus ``overlap_days``) are fetched
in full (``filter.advanced=AREA[LastUpdatePostDate]RANGE[since,MAX]``); new ids the date search did not
return are fetched by ``filter.ids``. Requests grow with the changes, not with the corpus.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from evidence_review.atomic import atomic_write_bytes, atomic_write_text
from evidence_review.errors import InputError, NetworkError
from evidence_review.pubmed.pull import gzip_bytes, library_versions, resume_key, store_lock, utc_now
from evidence_review.pubmed.store import PullRow, Store
from evidence_review.registers import store as rstore
from evidence_review.registers.client import ID_FIELDS, CtgovClient, nct_id_of, updated_since
from evidence_review.registers.schema import REGISTRY_PULL_KINDS

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 100  # full study records are large; ids go 1,000 a page
OVERLAP_DAYS = 1  # lastUpdatePostDate is a day: re-check the day before the last pull too
FETCH_CHUNK = 100  # NCT ids per filter.ids request
MANIFEST_FORMAT = "evidence-review registry snapshot 1"
SOURCE = "ClinicalTrials.gov API v2"


@dataclass
class RegistryPullResult:
    pull_id: str
    kind: str
    snapshot: Path
    total: int | None
    n_studies: int
    pages: int
    requests: int
    resumed: bool
    diff: dict | None = None
    warnings: list[str] = field(default_factory=list)


def query_text(params: Mapping[str, str]) -> str:
    """The search as stored in ``pulls.query`` (sorted JSON: same search, same text)."""
    return json.dumps(dict(sorted(params.items())), ensure_ascii=False)


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def run_phase(store: Store, pull: PullRow, client: CtgovClient, phase: str, params: Mapping[str, str], *,
              page_size: int, fields: str | None = None, ingest: bool = True) -> list[str]:
    """Page a search to its end, committing each page; resumes after the last committed page."""
    done = rstore.pages(store, pull.pull_id, phase)
    if done and done[-1].next_token is None:
        return []
    token = done[-1].next_token if done else None
    index = len(done)
    snap = store.root / pull.snapshot_dir
    got: list[str] = []
    try:
        pages = client.iter_pages(params, page_size=page_size, fields=fields, page_token=token)
        first = next(pages)
    except NetworkError as exc:
        if token is None or "HTTP 400" not in str(exc):
            raise
        log.warning("the registry no longer accepts the stored pageToken; paging %s again from the start", phase)
        token, pages = None, client.iter_pages(params, page_size=page_size, fields=fields)
        first = next(pages)
    page = first
    while True:
        name = f"{phase}-{index:05d}.json.gz"
        gz = gzip_bytes(page.body)
        atomic_write_bytes(snap / name, gz)
        row = rstore.PageRow(phase, index, token, page.next_token if page.studies else None,
                             f"{pull.snapshot_dir}/{name}", hashlib.sha256(gz).hexdigest(), len(gz),
                             len(page.studies), page.total)
        got += rstore.commit_page(store, pull.pull_id, row, page.studies, ingest=ingest, fetched_utc=utc_now())
        if row.next_token is None:
            return got
        token, index = row.next_token, index + 1
        page = next(pages)


def _new_pull(store: Store, kind: str, params: Mapping[str, str], key: str, info: dict,
              parent: str | None = None) -> PullRow:
    started = utc_now()
    pull_id = store.unique_pull_id(f"{started.replace('-', '').replace(':', '')}-ctgov-{key[:8]}")
    row = PullRow(pull_id, kind, query_text(params), key, "in_progress", started, None, None,
                  f"snapshots/{pull_id}", parent, info)
    store.create_pull(row, [], [])
    return row


def _total(store: Store, pull_id: str, phase: str) -> int | None:
    first = [p for p in rstore.pages(store, pull_id, phase) if p.page_index == 0]
    return first[0].total_count if first else None


def _manifest(store: Store, pull: PullRow, client: CtgovClient, completed: str, extra: dict) -> dict:
    ncts = rstore.members(store, pull.pull_id)
    return {
        "format": MANIFEST_FORMAT, "source": SOURCE, "pull_id": pull.pull_id, "kind": pull.kind,
        "search": json.loads(pull.query), "started_utc": pull.started_utc, "completed_utc": completed,
        "n_studies": len(ncts), "nct_ids": ncts,
        "pages": [{"phase": p.phase, "index": p.page_index, "file": Path(p.file).name, "sha256": p.sha256,
                   "bytes": p.n_bytes, "n_studies": p.n_studies} for p in rstore.pages(store, pull.pull_id)],
        **extra,
        "api": {"base_url": client.base_url, "rate_per_s": client.rate},
        "versions": library_versions(),
    }


# --------------------------------------------------------------------------------------------------
# pull


def pull(store_dir: str | Path, params: Mapping[str, str], *, client: CtgovClient | None = None,
         page_size: int = DEFAULT_PAGE_SIZE, topic: str | None = None) -> RegistryPullResult:
    """Every study a registry search returns, stored as a new pull (or the interrupted one, finished)."""
    client = client or CtgovClient()
    start = client.request_count
    with store_lock(Path(store_dir)), Store(store_dir) as store:
        key = resume_key("registry_pull", query_text(params))
        row = store.in_progress(key)
        resumed = row is not None
        if row is None:
            row = _new_pull(store, "registry_pull", params, key, {"page_size": page_size, "topic": topic})
        else:
            log.info("resuming registry pull %s (%s)", row.pull_id, row.started_utc)
            page_size = int(row.info.get("page_size") or page_size)
        (store.root / row.snapshot_dir).mkdir(parents=True, exist_ok=True)
        run_phase(store, row, client, "studies", params, page_size=page_size)
        total = _total(store, row.pull_id, "studies")
        n = len(rstore.members(store, row.pull_id))
        warnings = [] if total is None or total == n else [
            f"totalCount said {total} studies, {n} were stored (the registry changed during the pull?)"]
        completed = utc_now()
        manifest = _manifest(store, row, client, completed,
                             {"total_count": total, "topic": row.info.get("topic"), "page_size": page_size,
                              "warnings": warnings})
        atomic_write_text(store.root / row.snapshot_dir / "manifest.json", _dump(manifest))
        store.complete_pull(row.pull_id, completed, dict(row.info, total_count=total, warnings=warnings))
        n_pages = len(rstore.pages(store, row.pull_id))
    return RegistryPullResult(row.pull_id, "registry_pull", store.root / row.snapshot_dir, total, n, n_pages,
                              client.request_count - start, resumed, None, warnings)


# --------------------------------------------------------------------------------------------------
# refresh


def refresh(store_dir: str | Path, *, client: CtgovClient | None = None, page_size: int = DEFAULT_PAGE_SIZE,
            overlap_days: int = OVERLAP_DAYS) -> RegistryPullResult:
    """Bring the store's latest registry search up to date; write ``diff.json`` (new/updated/withdrawn)."""
    if overlap_days < 0:
        raise InputError("overlap days must be >= 0", field="overlap-days")
    client = client or CtgovClient()
    start = client.request_count
    root = Path(store_dir)
    with Store(root, create=False) as store, store_lock(root):
        base = store.latest_complete(REGISTRY_PULL_KINDS)
        if base is None:
            raise InputError("the store has no complete registry pull to refresh; run "
                             "`pull --source clinicaltrials` first", file=root)
        params = json.loads(base.query)
        key = resume_key("registry_refresh", base.query)
        row = store.in_progress(key)
        resumed = row is not None
        if row is None:
            since_day = dt.date.fromisoformat(base.started_utc[:10]) - dt.timedelta(days=overlap_days)
            row = _new_pull(store, "registry_refresh", params, key,
                            {"page_size": page_size, "since": since_day.isoformat(), "parent": base.pull_id,
                             "overlap_days": overlap_days, "topic": base.info.get("topic")}, parent=base.pull_id)
        (store.root / row.snapshot_dir).mkdir(parents=True, exist_ok=True)
        since = row.info["since"]
        run_phase(store, row, client, "ids", params, page_size=1000, fields=ID_FIELDS, ingest=False)
        run_phase(store, row, client, "updated", updated_since(params, since), page_size=page_size)
        before = rstore.member_hashes(store, base.pull_id)
        stored = {n for n, h in before.items() if h is not None}
        now = rstore.member_hashes(store, row.pull_id)
        new = sorted(n for n in now if n not in stored)
        missing = [n for n in new if now[n] is None]
        _fetch_ids(store, row, client, missing)
        now = rstore.member_hashes(store, row.pull_id)
        fetched = sorted(n for n, h in now.items() if h is not None)
        updated = sorted(n for n in fetched if n in stored and now[n] != before[n])
        withdrawn = sorted(stored - set(now))
        not_returned = sorted(n for n in new if now.get(n) is None)
        rstore.mark_withdrawn(store, withdrawn, row.pull_id)
        rstore.fill_unfetched(store, row.pull_id)
        completed = utc_now()
        diff = {"pull_id": row.pull_id, "parent_pull_id": base.pull_id, "source": SOURCE, "search": params,
                "completed_utc": completed, "last_update_since": since, "new": new, "updated": updated,
                "withdrawn": withdrawn, "rechecked_unchanged": len(fetched) - len(updated) - len(new),
                "studies_fetched": len(fetched), "not_returned": not_returned}
        snap = store.root / row.snapshot_dir
        atomic_write_text(snap / "diff.json", _dump(diff))
        manifest = _manifest(store, row, client, completed,
                             {"parent_pull_id": base.pull_id, "total_count": _total(store, row.pull_id, "ids"),
                              "diff": {k: diff[k] for k in ("new", "updated", "withdrawn")},
                              "last_update_since": since})
        atomic_write_text(snap / "manifest.json", _dump(manifest))
        store.complete_pull(row.pull_id, completed, dict(row.info, diff={k: diff[k] for k in ("new", "updated",
                                                                                            "withdrawn")}))
        n = len(rstore.members(store, row.pull_id))
        n_pages = len(rstore.pages(store, row.pull_id))
    return RegistryPullResult(row.pull_id, "registry_refresh", snap, diff["studies_fetched"], n, n_pages,
                              client.request_count - start, resumed, diff)


def _fetch_ids(store: Store, row: PullRow, client: CtgovClient, ncts: Sequence[str]) -> None:
    """Fetch listed-but-unfetched studies by ``filter.ids`` (one committed page per chunk)."""
    params = json.loads(row.query)
    done = len(rstore.pages(store, row.pull_id, "fetch"))
    for i in range(0, len(ncts), FETCH_CHUNK):
        chunk = list(ncts[i:i + FETCH_CHUNK])
        page = client.search_page({**params, "filter.ids": ",".join(chunk)}, page_size=len(chunk))
        name = f"fetch-{done:05d}.json.gz"
        gz = gzip_bytes(page.body)
        atomic_write_bytes(store.root / row.snapshot_dir / name, gz)
        served = [s for s in page.studies if nct_id_of(s) in set(chunk)]
        rstore.commit_page(store, row.pull_id, rstore.PageRow("fetch", done, None, None, f"{row.snapshot_dir}/{name}",
                                                              hashlib.sha256(gz).hexdigest(), len(gz), len(served),
                                                              None), served, ingest=True, fetched_utc=utc_now())
        done += 1
