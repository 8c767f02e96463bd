"""Registry records in the evidence store: pages committed atomically, studies versioned, pulls replayable.

Why beside the PubMed tables rather than in them: a registration is not a report (PRISMA counts the two in
separate streams) and its natural version key is the registry's own ``lastUpdatePostDate``. The tables
are declared in ``registers.schema``; ``pubmed.store.Store`` creates or migrates them on open.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Iterable, Sequence

from evidence_review.pubmed.store import Store
from evidence_review.registers.client import last_update_of, nct_id_of


@dataclass(frozen=True)
class PageRow:
    phase: str
    page_index: int
    page_token: str | None
    next_token: str | None
    file: str
    sha256: str
    n_bytes: int
    n_studies: int
    total_count: int | None


def study_hash(study: dict) -> str:
    """Hash of the study JSON (keys sorted): any edit, including a moved lastUpdatePostDate, changes it."""
    canon = json.dumps(study, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def pages(store: Store, pull_id: str, phase: str | None = None) -> list[PageRow]:
    sql = "SELECT * FROM registry_pages WHERE pull_id=?" + (" AND phase=?" if phase else "")
    args = (pull_id, phase) if phase else (pull_id,)
    rows = store.conn.execute(sql + " ORDER BY phase, page_index", args)
    return [PageRow(r["phase"], r["page_index"], r["page_token"], r["next_token"], r["file"], r["sha256"],
                    r["n_bytes"], r["n_studies"], r["total_count"]) for r in rows]


def commit_page(store: Store, pull_id: str, page: PageRow, studies: Sequence[dict], *, ingest: bool,
                fetched_utc: str) -> list[str]:
    """Record one page and its studies in one transaction (all of it or none of it); NCT ids in order.

    ``ingest`` False (an id-list page): the ids become members without a version.
    """
    ids: list[str] = []
    with store.transaction() as c:
        c.execute("INSERT OR REPLACE INTO registry_pages VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                  (pull_id, page.phase, page.page_index, page.page_token, page.next_token, page.file, page.sha256,
                   page.n_bytes, page.n_studies, page.total_count, fetched_utc))
        for study in studies:
            nct = nct_id_of(study)
            if not nct:
                continue
            ids.append(nct)
            if not ingest:
                c.execute("INSERT OR IGNORE INTO registry_members (pull_id, nct_id) VALUES (?,?)", (pull_id, nct))
                continue
            h, last = study_hash(study), last_update_of(study)
            data = json.dumps(study, sort_keys=True, ensure_ascii=False)
            c.execute("INSERT OR IGNORE INTO registry_versions VALUES (?,?,?,?,?)", (nct, h, last, data, pull_id))
            c.execute("INSERT INTO registry_studies VALUES (?,?,?,?,?,?,0) ON CONFLICT(nct_id) DO UPDATE SET "
                      "last_update=excluded.last_update, content_hash=excluded.content_hash, data=excluded.data, "
                      "last_pull_id=excluded.last_pull_id, withdrawn=0", (nct, last, h, data, pull_id, pull_id))
            c.execute("INSERT INTO registry_members VALUES (?,?,?) ON CONFLICT(pull_id, nct_id) DO UPDATE SET "
                      "content_hash=excluded.content_hash", (pull_id, nct, h))
    return ids


def members(store: Store, pull_id: str, *, fetched_only: bool = False) -> list[str]:
    """NCT ids a pull held, sorted; ``fetched_only``: those it holds a version for."""
    sql = "SELECT nct_id FROM registry_members WHERE pull_id=?" + (" AND content_hash IS NOT NULL" if fetched_only else "")
    return sorted(r[0] for r in store.conn.execute(sql, (pull_id,)))


def member_hashes(store: Store, pull_id: str) -> dict[str, str | None]:
    return {r[0]: r[1] for r in store.conn.execute(
        "SELECT nct_id, content_hash FROM registry_members WHERE pull_id=?", (pull_id,))}


def mark_withdrawn(store: Store, ncts: Iterable[str], pull_id: str) -> None:
    with store.transaction() as c:
        c.executemany("UPDATE registry_studies SET withdrawn=1, last_pull_id=? WHERE nct_id=?",
                      [(pull_id, n) for n in ncts])


def fill_unfetched(store: Store, pull_id: str) -> int:
    """Point members a refresh listed but did not fetch at the version the store already holds."""
    with store.transaction() as c:
        return c.execute(
            "UPDATE registry_members SET content_hash=(SELECT content_hash FROM registry_studies s "
            "WHERE s.nct_id=registry_members.nct_id) WHERE pull_id=? AND content_hash IS NULL", (pull_id,)).rowcount


def current_studies(store: Store, *, include_withdrawn: bool = False) -> list[dict]:
    """Current version of every stored study (sorted by NCT id)."""
    sql = "SELECT data FROM registry_studies" + ("" if include_withdrawn else " WHERE withdrawn=0")
    return [json.loads(r[0]) for r in store.conn.execute(sql + " ORDER BY nct_id")]


def pull_studies(store: Store, pull_id: str) -> list[dict]:
    """The studies exactly as a past registry pull held them (its members at their version then)."""
    store.get_pull(pull_id)
    rows = store.conn.execute(
        "SELECT v.data FROM registry_members m JOIN registry_versions v ON v.nct_id=m.nct_id "
        "AND v.content_hash=m.content_hash WHERE m.pull_id=? ORDER BY m.nct_id", (pull_id,))
    return [json.loads(r[0]) for r in rows]


def counts(store: Store) -> dict[str, int]:
    one = lambda sql: int(store.conn.execute(sql).fetchone()[0])  # noqa: E731
    return {"studies": one("SELECT COUNT(*) FROM registry_studies WHERE withdrawn=0"),
            "withdrawn": one("SELECT COUNT(*) FROM registry_studies WHERE withdrawn=1"),
            "versions": one("SELECT COUNT(*) FROM registry_versions")}
