"""Pull and refresh: PubMed search -> immutable snapshot of raw XML batches -> SQLite store.

Layout of a store folder::

    DIR/store.sqlite                         records, versions, pulls, batches (evidence_review.pubmed.store)
    DIR/snapshots/<pull_id>/batch-00000.xml.gz   raw efetch XML, one file per batch, written once
    DIR/snapshots/<pull_id>/manifest.json    query, times, count, PMIDs, per-batch SHA-256, versions
    DIR/snapshots/<pull_id>/diff.json        (refresh only) new / updated / withdrawn PMIDs

Resuming: a pull's batch plan (the PMIDs of every batch) is frozen in the store before the first
efetch. The same command finds its in-progress pull by a key derived from the query and fetches only the
batches the store has not recorded. A batch is written atomically to its file and then recorded in one
transaction, so SIGKILL at any instant leaves either nothing or a complete file (which a resumed run
verifies and ingests without fetching it again). Secrets are never passed to anything that writes.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import gzip
import hashlib
import importlib.metadata
import itertools
import json
import logging
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from evidence_review import __version__
from evidence_review.atomic import atomic_write_bytes, atomic_write_text
from evidence_review.errors import EvidenceReviewError, InputError
from evidence_review.pubmed.client import TOOL, EntrezClient, FullSearch, redact
from evidence_review.pubmed.store import BatchRow, PullRow, Store

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
MAX_BATCH_SIZE = 10_000
OVERLAP_DAYS = 3  # refresh re-checks records modified this long before the last pull (late indexing)
MANIFEST_FORMAT = "evidence-review snapshot 1"


@dataclass(frozen=True)
class HistorySource:
    """Where a batch can be fetched from the history server in this process (WebEnv expires)."""

    webenv: str
    query_key: str
    retstart: int
    retmax: int


@dataclass
class PullResult:
    pull_id: str
    kind: str
    snapshot: Path
    count: int
    n_pmids: int
    batches_total: int
    batches_fetched: int  # fetched over the network in this run
    batches_reused: int  # complete files found on disk from an interrupted run
    requests: int
    resumed: bool
    missing: list[str] = field(default_factory=list)
    diff: dict | None = None


# --------------------------------------------------------------------------------------------------
# helpers (pure)


@contextlib.contextmanager
def store_lock(root: Path) -> Iterator[None]:
    """One pull or refresh per store at a time (two would fetch the same batches). The OS drops the
    lock when the process dies, even by SIGKILL, so a resumed run is never locked out."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+b") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock
            yield
            return
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise EvidenceReviewError(f"{root}: another pull or refresh is using this store; wait for it "
                                      "to finish (or end it) and run the command again") from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def remove_orphan_temp_files(folder: Path) -> list[Path]:
    """Delete the ``.<name>.<random>.tmp`` files (evidence_review.atomic) a killed run left in a snapshot
    folder. Safe because the caller holds the store lock: no other writer can be mid-write there."""
    removed = []
    for tmp in folder.glob(".*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed.append(tmp)
    if removed:
        log.info("removed %d temporary file(s) left by an interrupted run in %s", len(removed), folder)
    return removed


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def resume_key(kind: str, query: str) -> str:
    """Same command, same key: how a re-run finds the pull it interrupted."""
    return hashlib.sha256(f"{kind}\0{query.strip()}".encode("utf-8")).hexdigest()


def chunk(ids: Sequence[str], size: int) -> list[list[str]]:
    return [list(ids[i:i + size]) for i in range(0, len(ids), size)]


def plan_batches(search: FullSearch, size: int) -> tuple[list[list[str]], list[HistorySource | None]]:
    """Split a search's PMIDs into batches; each keeps its history handle when retstart maps 1:1."""
    batches: list[list[str]] = []
    sources: list[HistorySource | None] = []
    seen: set[str] = set()
    for part in search.parts:
        ids = [p for p in part.ids if p not in seen]
        exact = len(ids) == len(part.ids) and part.webenv and part.query_key
        seen.update(ids)
        for i, b in enumerate(chunk(ids, size)):
            batches.append(b)
            sources.append(HistorySource(part.webenv, part.query_key, i * size, size) if exact else None)
    return batches, sources


def library_versions() -> dict[str, str]:
    out = {"evidence-review": __version__, "python": platform.python_version()}
    for name in ("requests", "urllib3", "lxml", "pandas", "tqdm"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = ""
    return out


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)  # mtime=0: same XML, same file bytes


def _read_batch_file(path: Path, expected: Sequence[str]) -> tuple[bytes, list[dict]] | None:
    """XML and records of a batch file left by an interrupted run, if it is whole and holds the batch."""
    try:
        xml = gzip.decompress(path.read_bytes())
        records = _parse(xml)
    except Exception:  # a damaged file is simply fetched again
        return None
    got = {str(r["pmid"]) for r in records}
    return (xml, records) if got and got <= set(expected) else None


# --------------------------------------------------------------------------------------------------
# batch runner (shared by pull and refresh)


def _fetch(client: EntrezClient, pmids: list[str], source: HistorySource | None) -> tuple[bytes, list[dict]]:
    """One batch as (raw XML, parsed records); the parse doubles as the check that the reply is whole."""
    if source is not None:
        xml, records = client.efetch_history(source.webenv, source.query_key, source.retstart, source.retmax,
                                             parse=_parse)
        got = {str(r["pmid"]) for r in records}
        if got and got == set(pmids):
            return xml, records
        log.warning("history batch at retstart %d did not match its PMIDs; fetching by PMID list",
                    source.retstart)
    return client.efetch_ids(pmids, parse=_parse)


def _parse(xml: bytes) -> list[dict]:
    from evidence_review.pubmed.parser import iter_records

    return list(iter_records(xml))


def run_batches(store: Store, pull: PullRow, client: EntrezClient,
                sources: Sequence[HistorySource | None] | None = None, *, workers: int = 3,
                progress: bool | None = None) -> tuple[int, int, list[str]]:
    """Fetch and store every batch the store has not recorded. Returns (fetched, reused, missing PMIDs)."""
    from tqdm import tqdm

    snap = store.root / pull.snapshot_dir
    snap.mkdir(parents=True, exist_ok=True)
    remove_orphan_temp_files(snap)
    batches = store.batches(pull.pull_id)
    pending = [b for b in batches if not b.done]
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=len(batches), initial=len(batches) - len(pending), unit="batch", desc=pull.kind,
               disable=not show, file=sys.stderr)
    fetched = reused = 0
    missing: list[str] = []

    def work(b: BatchRow) -> tuple[BatchRow, str, int, list[dict], bool]:
        path = snap / f"batch-{b.batch_index:05d}.xml.gz"
        on_disk = _read_batch_file(path, b.pmids) if path.exists() else None
        if on_disk is None:
            src = sources[b.batch_index] if sources is not None and b.batch_index < len(sources) else None
            xml, records = _fetch(client, b.pmids, src)
            gz = gzip_bytes(xml)
            atomic_write_bytes(path, gz)
        else:
            records, gz = on_disk[1], path.read_bytes()
        return b, hashlib.sha256(gz).hexdigest(), len(gz), records, on_disk is not None

    n = max(1, workers)
    queue = iter(pending)
    inflight: set[cf.Future] = set()
    try:
        with cf.ThreadPoolExecutor(max_workers=n) as pool:
            try:
                # a bounded window of batches in flight keeps memory flat however large the pull
                for b in itertools.islice(queue, 2 * n):
                    inflight.add(pool.submit(work, b))
                while inflight:
                    done, inflight = cf.wait(inflight, return_when=cf.FIRST_COMPLETED)
                    for fut in done:
                        b, sha, n_bytes, records, was_on_disk = fut.result()
                        store.ingest_batch(pull.pull_id, b.batch_index, records,
                                           file=f"{pull.snapshot_dir}/batch-{b.batch_index:05d}.xml.gz",
                                           sha256=sha, n_bytes=n_bytes, fetched_utc=utc_now())
                        got = {str(r["pmid"]) for r in records}
                        missing.extend(p for p in b.pmids if p not in got)
                        reused += was_on_disk
                        fetched += not was_on_disk
                        bar.update(1)
                        nxt = next(queue, None)
                        if nxt is not None:
                            inflight.add(pool.submit(work, nxt))
            except BaseException:
                for f in inflight:
                    f.cancel()
                raise
    finally:
        bar.close()
    # missing PMIDs of batches done in an earlier run
    for b in batches:
        if b.done:
            got = {r[0] for r in store.conn.execute(
                "SELECT pmid FROM pull_members WHERE pull_id=? AND batch_index=?", (pull.pull_id, b.batch_index))}
            missing.extend(p for p in b.pmids if p not in got)
    return fetched, reused, sorted(set(missing), key=_num)


def _num(pmid: str) -> tuple[int, str]:
    return (int(pmid), pmid) if pmid.isdigit() else (10**12, pmid)


def _manifest(store: Store, pull: PullRow, client: EntrezClient, members: list[str], missing: list[str],
              completed: str, extra: dict) -> dict:
    batches = []
    for b in store.batches(pull.pull_id):
        batches.append({"index": b.batch_index, "file": Path(b.file or "").name, "sha256": b.sha256,
                        "bytes": b.n_bytes, "n_records": b.n_records, "pmids": b.pmids})
    return {
        "format": MANIFEST_FORMAT,
        "pull_id": pull.pull_id,
        "kind": pull.kind,
        "query": pull.query,
        "started_utc": pull.started_utc,
        "completed_utc": completed,
        "count": pull.count,
        "n_pmids": len(members),
        "pmids": members,
        "missing_pmids": missing,
        "batches": batches,
        "search": pull.info.get("search", {}),
        **extra,
        # the base URL carries no secrets (they travel as parameters), but redact defensively
        "eutils": {"base_url": redact(client.base_url.split("?")[0]), "tool": TOOL,
                   "api_key_used": bool(client.api_key)},
        "versions": library_versions(),
    }


def _json(obj: object) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _search_info(search: FullSearch, client: EntrezClient) -> dict:
    return {
        "query_translation": search.query_translation,
        "count": search.count,
        "n_ids": len(search.ids),
        "retrieval_cap": client.retrieval_cap,
        "split_by": "pdat" if len(search.parts) > 1 else None,
        "parts": [{"mindate": p.mindate, "maxdate": p.maxdate, "count": p.count} for p in search.parts],
        "requests": search.requests,
    }


# --------------------------------------------------------------------------------------------------
# pull


def pull(store_dir: str | Path, query: str, *, batch_size: int = DEFAULT_BATCH_SIZE,
         client: EntrezClient | None = None, topic: str | None = None,
         date_range: tuple[str, str] | None = None, workers: int = 3,
         progress: bool | None = None) -> PullResult:
    """Search PubMed for ``query`` and store every record in a new snapshot (or finish an interrupted one).

    ``date_range`` (mindate, maxdate as YYYY/MM/DD) limits publication dates (esearch datetype=pdat),
    as a topic file's date window does.
    """
    if not query or not query.strip():
        raise InputError("the query is empty", field="query")
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise InputError(f"batch size must be 1..{MAX_BATCH_SIZE}, got {batch_size}", field="batch-size")
    client = client or EntrezClient()
    start_requests = client.request_count
    with store_lock(Path(store_dir)), Store(store_dir) as store:
        key = resume_key("pull", query + (f"\0{date_range[0]}\0{date_range[1]}" if date_range else ""))
        row = store.in_progress(key)
        sources: list[HistorySource | None] | None = None
        resumed = row is not None
        if row is None:
            started = utc_now()
            search = _search(client, query, date_range)
            batches, sources = plan_batches(search, batch_size)
            pull_id = store.unique_pull_id(f"{started.replace('-', '').replace(':', '')}-{key[:8]}")
            row = PullRow(pull_id, "pull", query, key, "in_progress", started, None, search.count,
                          f"snapshots/{pull_id}", None,
                          {"search": _search_info(search, client), "batch_size": batch_size, "topic": topic,
                           "date_range": list(date_range) if date_range else None})
            store.create_pull(row, batches, search.ids)
        else:
            log.info("resuming pull %s (%s)", row.pull_id, row.started_utc)
            if row.info.get("batch_size") != batch_size:
                log.warning("resuming with the batch size the pull started with (%s)", row.info.get("batch_size"))
        fetched, reused, missing = run_batches(store, row, client, sources, workers=workers, progress=progress)
        members = store.members(row.pull_id)
        previous, withdrawn = withdrawn_since_last(store, row, members)
        store.mark_withdrawn(withdrawn, row.pull_id)
        completed = utc_now()
        since = {"parent_pull_id": previous, "withdrawn": withdrawn} if previous else None
        manifest = _manifest(store, row, client, members, missing, completed,
                             {"topic": row.info.get("topic"), "batch_size": row.info.get("batch_size"),
                              "date_range": row.info.get("date_range"), "since_last_pull": since})
        atomic_write_text(store.root / row.snapshot_dir / "manifest.json", _json(manifest))
        info = dict(row.info, missing=missing, since_last_pull=since)
        store.complete_pull(row.pull_id, completed, info)
        n_batches = len(store.batches(row.pull_id))
    return PullResult(row.pull_id, "pull", store.root / row.snapshot_dir, row.count or 0, len(members),
                      n_batches, fetched, reused, client.request_count - start_requests, resumed, missing, since)


def withdrawn_since_last(store: Store, row: PullRow, members: Sequence[str]) -> tuple[str | None, list[str]]:
    """A pull is a refresh of the same query: the PMIDs the last complete pull (or refresh) of this query
    and date window listed that this one does not (withdrawn, or no longer matching). PMIDs another query's
    latest pull still lists stay current (a store may hold several queries)."""
    same: PullRow | None = None
    latest_other: dict[tuple[str, str], PullRow] = {}
    for p in store.pulls():
        if p.status != "complete" or p.kind not in ("pull", "refresh") or p.pull_id == row.pull_id:
            continue
        key = (p.query, json.dumps(p.info.get("date_range")))
        if key == (row.query, json.dumps(row.info.get("date_range"))):
            if same is None or (p.completed_utc or "") >= (same.completed_utc or ""):
                same = p
        elif key not in latest_other or (p.completed_utc or "") >= (latest_other[key].completed_utc or ""):
            latest_other[key] = p
    if same is None:
        return None, []
    keep = set(members)
    for other in latest_other.values():
        keep.update(store.members(other.pull_id))
    gone = [p for p in store.members(same.pull_id) if p not in keep]
    return same.pull_id, sorted(set(gone), key=_num)


# --------------------------------------------------------------------------------------------------
# refresh


def refresh(store_dir: str | Path, *, client: EntrezClient | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
            overlap_days: int = OVERLAP_DAYS, workers: int = 3, progress: bool | None = None) -> PullResult:
    """Bring the store up to date with the query of its latest pull, fetching only what changed.

    New PMIDs come from diffing the ID list; changed ones from a modification-date search starting
    ``overlap_days`` before the last pull (records indexed late still show up); withdrawn ones are the
    stored PMIDs the search no longer returns. Requests grow with the changes, not with the corpus
    (plus one esearch per 9,999 PMIDs for the ID list).
    """
    client = client or EntrezClient()
    start_requests = client.request_count
    root = Path(store_dir)
    with Store(root, create=False) as store, store_lock(root):
        base = store.latest_complete()
        if base is None:
            raise InputError("the store has no complete pull to refresh; run `pull` first", file=root)
        date_range = base.info.get("date_range")
        key = resume_key("refresh", base.query + (f"\0{date_range[0]}\0{date_range[1]}" if date_range else ""))
        row = store.in_progress(key)
        resumed = row is not None
        if row is None:
            started = utc_now()
            search = _search(client, base.query, date_range)
            current = search.ids
            # compare with what the last pull held (a store may also hold other queries' records);
            # members it listed but never received count as new, so they are tried again
            stored = set(store.members(base.pull_id, fetched_only=True))
            current_set = set(current)
            new = [p for p in current if p not in stored]
            withdrawn = sorted(stored - current_set, key=_num)
            since_day = _parse_utc(base.started_utc).date() - dt.timedelta(days=overlap_days)
            since = since_day.strftime("%Y/%m/%d")
            changed = client.search_all(base.query, datetype="mdat", mindate=since, maxdate="3000/12/31")
            new_set = set(new)
            candidates = [p for p in changed.ids if p in stored and p not in new_set]
            to_fetch = new + candidates
            pull_id = store.unique_pull_id(f"{started.replace('-', '').replace(':', '')}-refresh-{key[:8]}")
            info = {"search": _search_info(search, client), "batch_size": batch_size, "parent": base.pull_id,
                    "mdat_since": since, "overlap_days": overlap_days, "new": new, "candidates": candidates,
                    "withdrawn": withdrawn, "mdat_count": changed.count, "date_range": date_range}
            row = PullRow(pull_id, "refresh", base.query, key, "in_progress", started, None, search.count,
                          f"snapshots/{pull_id}", base.pull_id, info)
            store.create_pull(row, chunk(to_fetch, batch_size), current)
        fetched, reused, missing = run_batches(store, row, client, None, workers=workers, progress=progress)
        info = row.info
        updated = _changed_since(store, row.pull_id, row.parent_pull_id or "", info["candidates"])
        store.mark_withdrawn(info["withdrawn"], row.pull_id)
        store.fill_unfetched_members(row.pull_id)
        completed = utc_now()
        fetched_pmids = [p for b in store.batches(row.pull_id) for p in b.pmids]
        diff = {
            "pull_id": row.pull_id,
            "parent_pull_id": row.parent_pull_id,
            "query": row.query,
            "completed_utc": completed,
            "mdat_since": info["mdat_since"],
            "new": info["new"],
            "updated": updated,
            "withdrawn": info["withdrawn"],
            "rechecked_unchanged": len(info["candidates"]) - len(updated),
            "records_fetched": len(fetched_pmids),
            "missing_pmids": missing,
        }
        snap = store.root / row.snapshot_dir
        atomic_write_text(snap / "diff.json", _json(diff))
        members = store.members(row.pull_id)
        manifest = _manifest(store, row, client, members, missing, completed,
                             {"parent_pull_id": row.parent_pull_id, "batch_size": info.get("batch_size"),
                              "diff": {k: diff[k] for k in ("new", "updated", "withdrawn")}})
        atomic_write_text(snap / "manifest.json", _json(manifest))
        store.complete_pull(row.pull_id, completed, dict(info, updated=updated, missing=missing))
        n_batches = len(store.batches(row.pull_id))
    return PullResult(row.pull_id, "refresh", snap, row.count or 0, len(members), n_batches, fetched, reused,
                      client.request_count - start_requests, resumed, missing, diff)


def _search(client: EntrezClient, query: str, date_range: Sequence[str] | None) -> FullSearch:
    if date_range:
        return client.search_all(query, datetype="pdat", mindate=date_range[0], maxdate=date_range[1])
    return client.search_all(query)


def _changed_since(store: Store, pull_id: str, parent_id: str, candidates: Sequence[str]) -> list[str]:
    """Candidates whose content differs from the version the parent pull holds."""
    out = []
    for pmid in candidates:
        now = store.conn.execute("SELECT content_hash FROM pull_members WHERE pull_id=? AND pmid=?",
                                 (pull_id, pmid)).fetchone()
        before = store.conn.execute("SELECT content_hash FROM pull_members WHERE pull_id=? AND pmid=?",
                                    (parent_id, pmid)).fetchone()
        if now is None or now[0] is None:
            continue  # not returned by efetch this time: reported under missing_pmids
        if before is None or before[0] != now[0]:
            out.append(pmid)
    return sorted(out, key=_num)


def _parse_utc(text: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError as exc:
        raise EvidenceReviewError(f"store has an unreadable pull time {text!r}") from exc
