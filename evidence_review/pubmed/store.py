"""The local evidence store: one SQLite file (``store.sqlite``) inside the store folder.

Why SQLite: one file, no server, transactions that survive SIGKILL (a batch is either fully recorded or
not at all), and queries that let any past pull be reproduced exactly.

Tables:

    pulls           one row per pull or refresh: query, status (in_progress / complete), times, snapshot folder
    batches         the frozen batch plan of a pull (PMIDs per batch) and, once stored, file + SHA-256
    records         the current version of every record (fields as JSON), withdrawn flag
    record_versions every distinct content of a record ever seen (keyed by a content hash)
    pull_members    which record version each pull contained -> ``pull_records(pull_id)`` rebuilds a pull
    registry_*      trial-register studies, versions, pages and members (``evidence_review.registers.store``)

Schema versions: 1 = PubMed tables; 2 = + registry tables. Opening an older store migrates it in place
(in one transaction); a store written by a newer tool is refused rather than misread.

Records are dicts with ``schema.RECORD_COLUMNS`` keys (lists for multi-valued fields), as yielded by
``evidence_review.pubmed.parser.iter_records``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import pandas as pd

from evidence_review.errors import EvidenceReviewError, InputError
from evidence_review.pubmed.schema import MULTI_VALUED, RECORD_COLUMNS
from evidence_review.registers.schema import REGISTRY_DDL

DB_NAME = "store.sqlite"
SCHEMA_VERSION = 2
PUBMED_PULL_KINDS = ("pull", "refresh")
# version -> DDL that brings a store of the version before it up to it (tables only ever added)
_MIGRATIONS: dict[int, str] = {2: REGISTRY_DDL}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pulls (
    pull_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                -- 'pull', 'refresh', 'import' (a file) or a register's kinds
    query TEXT NOT NULL,
    resume_key TEXT NOT NULL,          -- same command -> same key -> resume the in-progress pull
    status TEXT NOT NULL,              -- 'in_progress' or 'complete'
    started_utc TEXT NOT NULL,
    completed_utc TEXT,
    count INTEGER,                     -- esearch count
    snapshot_dir TEXT NOT NULL,        -- relative to the store folder
    parent_pull_id TEXT,               -- for a refresh: the pull it compared with
    info TEXT NOT NULL DEFAULT '{}'    -- JSON: search parts, diff, ... (never secrets)
);
CREATE TABLE IF NOT EXISTS batches (
    pull_id TEXT NOT NULL REFERENCES pulls(pull_id),
    batch_index INTEGER NOT NULL,
    pmids TEXT NOT NULL,               -- JSON list, frozen when the pull starts
    file TEXT,                         -- relative to the store folder, set once stored
    sha256 TEXT,
    n_bytes INTEGER,
    n_records INTEGER,
    fetched_utc TEXT,
    PRIMARY KEY (pull_id, batch_index)
);
CREATE TABLE IF NOT EXISTS records (
    pmid TEXT PRIMARY KEY,
    version INTEGER,
    content_hash TEXT NOT NULL,
    data TEXT NOT NULL,                -- JSON of the record dict
    first_pull_id TEXT NOT NULL,
    last_pull_id TEXT NOT NULL,
    withdrawn INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS record_versions (
    pmid TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    version INTEGER,
    data TEXT NOT NULL,
    first_pull_id TEXT NOT NULL,
    PRIMARY KEY (pmid, content_hash)
);
CREATE TABLE IF NOT EXISTS pull_members (
    pull_id TEXT NOT NULL,
    pmid TEXT NOT NULL,
    content_hash TEXT,                 -- NULL: listed by the search but not (yet) fetched
    batch_index INTEGER,
    PRIMARY KEY (pull_id, pmid)
);
"""


@dataclass(frozen=True)
class PullRow:
    pull_id: str
    kind: str
    query: str
    resume_key: str
    status: str
    started_utc: str
    completed_utc: str | None
    count: int | None
    snapshot_dir: str
    parent_pull_id: str | None
    info: dict


@dataclass(frozen=True)
class BatchRow:
    pull_id: str
    batch_index: int
    pmids: list[str]
    file: str | None
    sha256: str | None
    n_bytes: int | None
    n_records: int | None
    fetched_utc: str | None

    @property
    def done(self) -> bool:
        return self.file is not None


@dataclass(frozen=True)
class IngestResult:
    new: list[str]
    updated: list[str]
    unchanged: list[str]


def content_hash(record: dict) -> str:
    """Hash of a record's fields: a changed title, abstract, ... gives a new version row."""
    canon = json.dumps({k: record.get(k) for k in RECORD_COLUMNS}, sort_keys=True, ensure_ascii=False,
                       separators=(",", ":"), default=str)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


class Store:
    """A store folder: ``store.sqlite`` plus the snapshot folders of its pulls."""

    def __init__(self, root: str | Path, *, create: bool = True) -> None:
        self.root = Path(root)
        db = self.root / DB_NAME
        if not create and not db.exists():
            raise InputError("no evidence store here (run `pull` first)", file=self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(db, isolation_level=None, timeout=30)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        with self.transaction() as c:
            row = c.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
            found = c.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() if row else None
            version = int(found[0]) if found else 0
            if version > SCHEMA_VERSION:
                raise EvidenceReviewError(f"{db}: store schema version {version} was written by a newer "
                                          f"evidence-review (this one reads up to {SCHEMA_VERSION}); upgrade it")
            for stmt in (_SCHEMA + "".join(_MIGRATIONS[v] for v in sorted(_MIGRATIONS) if v > version)).split(";"):
                if stmt.strip():
                    c.execute(stmt)
            c.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        self.migrated_from = version if 0 < version < SCHEMA_VERSION else None

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing: an interrupted ingest leaves the store as it was before it."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- pulls -------------------------------------------------------------------------------------
    def create_pull(self, pull: PullRow, batches: Sequence[Sequence[str]], members: Iterable[str]) -> None:
        """Record a new pull with its frozen batch plan and member list, in one transaction."""
        with self.transaction() as c:
            c.execute(
                "INSERT INTO pulls VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (pull.pull_id, pull.kind, pull.query, pull.resume_key, pull.status, pull.started_utc,
                 pull.completed_utc, pull.count, pull.snapshot_dir, pull.parent_pull_id,
                 json.dumps(pull.info, sort_keys=True)),
            )
            c.executemany("INSERT INTO batches (pull_id, batch_index, pmids) VALUES (?,?,?)",
                          [(pull.pull_id, i, json.dumps(list(b))) for i, b in enumerate(batches)])
            c.executemany("INSERT OR IGNORE INTO pull_members (pull_id, pmid) VALUES (?,?)",
                          [(pull.pull_id, p) for p in members])

    def in_progress(self, resume_key: str) -> PullRow | None:
        row = self.conn.execute(
            "SELECT * FROM pulls WHERE resume_key=? AND status='in_progress' ORDER BY started_utc DESC LIMIT 1",
            (resume_key,)).fetchone()
        return _pull(row) if row else None

    def get_pull(self, pull_id: str) -> PullRow:
        row = self.conn.execute("SELECT * FROM pulls WHERE pull_id=?", (pull_id,)).fetchone()
        if row is None:
            raise InputError(f"no pull {pull_id!r} in this store (see `status`)", file=self.root)
        return _pull(row)

    def unique_pull_id(self, base: str) -> str:
        """``base``, or ``base-2``, ``base-3`` … if a pull started in the same second already has it."""
        taken = {r[0] for r in self.conn.execute("SELECT pull_id FROM pulls WHERE pull_id LIKE ?", (base + "%",))}
        if base not in taken:
            return base
        n = 2
        while f"{base}-{n}" in taken:
            n += 1
        return f"{base}-{n}"

    def pulls(self) -> list[PullRow]:
        return [_pull(r) for r in self.conn.execute("SELECT * FROM pulls ORDER BY started_utc, rowid")]

    def latest_complete(self, kinds: Sequence[str] = PUBMED_PULL_KINDS) -> PullRow | None:
        """The most recently completed pull of these kinds (default: PubMed pulls and refreshes)."""
        marks = ",".join("?" * len(kinds))
        row = self.conn.execute(
            f"SELECT * FROM pulls WHERE status='complete' AND kind IN ({marks}) "
            "ORDER BY completed_utc DESC, rowid DESC LIMIT 1", tuple(kinds)).fetchone()
        return _pull(row) if row else None

    def batches(self, pull_id: str) -> list[BatchRow]:
        rows = self.conn.execute("SELECT * FROM batches WHERE pull_id=? ORDER BY batch_index", (pull_id,))
        return [BatchRow(r["pull_id"], r["batch_index"], json.loads(r["pmids"]), r["file"], r["sha256"],
                         r["n_bytes"], r["n_records"], r["fetched_utc"]) for r in rows]

    def set_info(self, pull_id: str, info: dict) -> None:
        with self.transaction() as c:
            c.execute("UPDATE pulls SET info=? WHERE pull_id=?", (json.dumps(info, sort_keys=True), pull_id))

    def complete_pull(self, pull_id: str, completed_utc: str, info: dict) -> None:
        with self.transaction() as c:
            c.execute("UPDATE pulls SET status='complete', completed_utc=?, info=? WHERE pull_id=?",
                      (completed_utc, json.dumps(info, sort_keys=True), pull_id))

    # -- records -----------------------------------------------------------------------------------
    def ingest_batch(self, pull_id: str, batch_index: int, records: Sequence[dict], *, file: str, sha256: str,
                     n_bytes: int, fetched_utc: str) -> IngestResult:
        """Store one fetched batch and mark it done, atomically (all of it or none of it)."""
        new, updated, unchanged = [], [], []
        with self.transaction() as c:
            for rec in records:
                pmid = str(rec["pmid"])
                if rec.get("deleted"):
                    c.execute("UPDATE records SET withdrawn=1, last_pull_id=? WHERE pmid=?", (pull_id, pmid))
                    continue
                h = content_hash(rec)
                data = json.dumps({k: rec.get(k) for k in RECORD_COLUMNS}, ensure_ascii=False, default=str)
                version = _int_or_none(rec.get("version"))
                old = c.execute("SELECT content_hash FROM records WHERE pmid=?", (pmid,)).fetchone()
                c.execute("INSERT OR IGNORE INTO record_versions VALUES (?,?,?,?,?)",
                          (pmid, h, version, data, pull_id))
                if old is None:
                    new.append(pmid)
                    c.execute("INSERT INTO records VALUES (?,?,?,?,?,?,0)", (pmid, version, h, data, pull_id, pull_id))
                else:
                    (updated if old[0] != h else unchanged).append(pmid)
                    c.execute("UPDATE records SET version=?, content_hash=?, data=?, last_pull_id=?, withdrawn=0 "
                              "WHERE pmid=?", (version, h, data, pull_id, pmid))
                c.execute("INSERT INTO pull_members (pull_id, pmid, content_hash, batch_index) VALUES (?,?,?,?) "
                          "ON CONFLICT(pull_id, pmid) DO UPDATE SET content_hash=excluded.content_hash, "
                          "batch_index=excluded.batch_index", (pull_id, pmid, h, batch_index))
            c.execute("UPDATE batches SET file=?, sha256=?, n_bytes=?, n_records=?, fetched_utc=? "
                      "WHERE pull_id=? AND batch_index=?",
                      (file, sha256, n_bytes, len(records), fetched_utc, pull_id, batch_index))
        return IngestResult(new, updated, unchanged)

    def add_import(self, pull: PullRow, *, file: str, sha256: str, n_bytes: int,
                   new: Sequence[tuple[str, dict]], matched: Sequence[str]) -> None:
        """Record an imported file as one complete pull, in one transaction.

        ``new`` = (store key, record) pairs to add (key = PMID, or ``import:<hash>`` for a record
        without one); ``matched`` = keys of records already in the store that the file also holds:
        they become members of the import (so the import lists every record of its file) and are
        left unchanged.
        """
        keys = [k for k, _ in new]
        with self.transaction() as c:
            c.execute("INSERT INTO pulls VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                      (pull.pull_id, pull.kind, pull.query, pull.resume_key, "complete", pull.started_utc,
                       pull.completed_utc or pull.started_utc, len(new) + len(matched), pull.snapshot_dir, None,
                       json.dumps(pull.info, sort_keys=True)))
            c.execute("INSERT INTO batches VALUES (?,?,?,?,?,?,?,?)",
                      (pull.pull_id, 0, json.dumps(keys), file, sha256, n_bytes, len(new), pull.started_utc))
            for key, rec in new:
                if c.execute("SELECT 1 FROM records WHERE pmid=?", (key,)).fetchone():
                    raise EvidenceReviewError(f"import: record {key} is already in the store")
                h = content_hash(rec)
                data = json.dumps({k: rec.get(k) for k in RECORD_COLUMNS}, ensure_ascii=False, default=str)
                version = _int_or_none(rec.get("version"))
                c.execute("INSERT OR IGNORE INTO record_versions VALUES (?,?,?,?,?)", (key, h, version, data,
                                                                                       pull.pull_id))
                c.execute("INSERT INTO records VALUES (?,?,?,?,?,?,0)", (key, version, h, data, pull.pull_id,
                                                                         pull.pull_id))
                c.execute("INSERT OR IGNORE INTO pull_members VALUES (?,?,?,0)", (pull.pull_id, key, h))
            for key in matched:
                c.execute("INSERT OR IGNORE INTO pull_members (pull_id, pmid, content_hash) "
                          "SELECT ?, pmid, content_hash FROM records WHERE pmid=?", (pull.pull_id, key))

    def fill_unfetched_members(self, pull_id: str) -> int:
        """Point members a refresh did not fetch at the record version the store already holds."""
        with self.transaction() as c:
            cur = c.execute(
                "UPDATE pull_members SET content_hash="
                "(SELECT content_hash FROM records r WHERE r.pmid=pull_members.pmid) "
                "WHERE pull_id=? AND content_hash IS NULL", (pull_id,))
            return cur.rowcount

    def mark_withdrawn(self, pmids: Iterable[str], pull_id: str) -> None:
        with self.transaction() as c:
            c.executemany("UPDATE records SET withdrawn=1, last_pull_id=? WHERE pmid=?",
                          [(pull_id, p) for p in pmids])

    def current_pmids(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT pmid FROM records WHERE withdrawn=0")}

    def members(self, pull_id: str, *, fetched_only: bool = False) -> list[str]:
        """PMIDs a pull listed (in search order); ``fetched_only``: those it holds a record version for."""
        sql = "SELECT pmid FROM pull_members WHERE pull_id=?"
        if fetched_only:
            sql += " AND content_hash IS NOT NULL"
        return [r[0] for r in self.conn.execute(sql + " ORDER BY rowid", (pull_id,))]

    def counts(self) -> dict[str, int]:
        one = lambda sql: int(self.conn.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "records": one("SELECT COUNT(*) FROM records WHERE withdrawn=0"),
            "withdrawn": one("SELECT COUNT(*) FROM records WHERE withdrawn=1"),
            "record_versions": one("SELECT COUNT(*) FROM record_versions"),
            "pulls": one("SELECT COUNT(*) FROM pulls"),
        }

    def records_frame(self, *, include_withdrawn: bool = False) -> pd.DataFrame:
        """The current records table (RECORD_COLUMNS, sorted by PMID)."""
        sql = "SELECT data FROM records" + ("" if include_withdrawn else " WHERE withdrawn=0") + " ORDER BY pmid"
        return _frame(json.loads(r[0]) for r in self.conn.execute(sql))

    def record_keys(self) -> list[tuple[str, dict]]:
        """(store key, record) for every record, withdrawn ones too (so an import never re-adds a key): the
        key is the PMID, or ``import:<hash>`` for an imported record without one (``pmid`` field empty)."""
        rows = self.conn.execute("SELECT pmid, data FROM records ORDER BY pmid")
        return [(r[0], json.loads(r[1])) for r in rows]

    def pull_records(self, pull_id: str) -> pd.DataFrame:
        """The records exactly as a past pull saw them (its members at their version then)."""
        self.get_pull(pull_id)
        rows = self.conn.execute(
            "SELECT v.data FROM pull_members m JOIN record_versions v "
            "ON v.pmid=m.pmid AND v.content_hash=m.content_hash WHERE m.pull_id=? ORDER BY m.pmid", (pull_id,))
        return _frame(json.loads(r[0]) for r in rows)

    def pulls_frame(self) -> pd.DataFrame:
        rows = []
        for p in self.pulls():
            bs = self.batches(p.pull_id)
            rows.append({"pull_id": p.pull_id, "kind": p.kind, "status": p.status, "query": p.query,
                         "started_utc": p.started_utc, "completed_utc": p.completed_utc or "",
                         "count": p.count, "batches_done": sum(b.done for b in bs), "batches": len(bs),
                         "snapshot_dir": p.snapshot_dir})
        return pd.DataFrame(rows, columns=["pull_id", "kind", "status", "query", "started_utc", "completed_utc",
                                           "count", "batches_done", "batches", "snapshot_dir"])


def _frame(records: Iterable[dict]) -> pd.DataFrame:
    df = pd.DataFrame(list(records), columns=list(RECORD_COLUMNS))
    for col in MULTI_VALUED:
        df[col] = df[col].map(lambda v: list(v) if isinstance(v, (list, tuple)) else ([] if v is None else [v]))
    if len(df):
        df = df.sort_values("pmid", key=lambda s: s.map(_pmid_key), kind="mergesort").reset_index(drop=True)
    return df


def _pmid_key(pmid: object) -> tuple[int, str]:
    s = str(pmid)
    return (int(s), s) if s.isdigit() else (10**12, s)


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _pull(row: sqlite3.Row) -> PullRow:
    return PullRow(row["pull_id"], row["kind"], row["query"], row["resume_key"], row["status"],
                   row["started_utc"], row["completed_utc"], row["count"], row["snapshot_dir"],
                   row["parent_pull_id"], json.loads(row["info"] or "{}"))


def export_table(store_dir: str | Path, table: str, out: str | Path, fmt: str, *, pull_id: str | None = None,
                 include_withdrawn: bool = False) -> int:
    """Write the records (or pulls) table; in CSV, multi-valued fields are joined with '; '."""
    from evidence_review.tables import MULTI_SEP, write_table

    out = Path(out)
    suffix = {"csv": ".csv", "parquet": ".parquet"}[fmt]
    if out.suffix.lower() not in (suffix, ".pq" if fmt == "parquet" else suffix):
        raise InputError(f"--out must end in {suffix} for --format {fmt}", file=out)
    with Store(store_dir, create=False) as store:
        if table == "pulls":
            df = store.pulls_frame()
        elif pull_id:
            df = store.pull_records(pull_id)
        else:
            df = store.records_frame(include_withdrawn=include_withdrawn)
    if table == "records":
        df["version"] = df["version"].astype("Int64")
        df["year"] = df["year"].astype("Int64")
        df["retracted"] = df["retracted"].astype(bool)
        if fmt == "csv":
            for col in MULTI_VALUED:
                df[col] = df[col].map(MULTI_SEP.join)
    write_table(df, out)
    return len(df)
