"""SQLite store: versions, reproducible pulls, all-or-nothing batches, withdrawn records, export."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from evidence_review.errors import InputError
from evidence_review.pubmed import synthetic as sp
from evidence_review.pubmed.store import PullRow, Store, content_hash, export_table


def rows(n: int, seed: int = 1) -> list[dict]:
    return [r.expected() for r in sp.generate_records(n, seed=seed)]


def new_pull(st: Store, pull_id: str, batches: list[list[str]], kind: str = "pull") -> PullRow:
    row = PullRow(pull_id, kind, "q", f"key-{pull_id}", "in_progress", f"2026-01-0{len(st.pulls()) + 1}T00:00:00Z",
                  None, sum(map(len, batches)), f"snapshots/{pull_id}", None, {})
    st.create_pull(row, batches, [p for b in batches for p in b])
    return row


def ingest(st: Store, pull_id: str, index: int, recs: list[dict]):
    return st.ingest_batch(pull_id, index, recs, file=f"snapshots/{pull_id}/b{index}", sha256="0" * 64,
                           n_bytes=1, fetched_utc="2026-01-01T00:00:00Z")


def test_versions_are_kept_and_past_pulls_reproduce(tmp_path: Path) -> None:
    recs = rows(6)
    with Store(tmp_path) as st:
        new_pull(st, "p1", [[r["pmid"] for r in recs]])
        res = ingest(st, "p1", 0, recs)
        assert len(res.new) == 6 and not res.updated
        st.complete_pull("p1", "2026-01-01T01:00:00Z", {})

        changed = dict(recs[0], title="A corrected title")
        new_pull(st, "p2", [[recs[0]["pmid"], recs[1]["pmid"]]], kind="refresh")
        res = ingest(st, "p2", 0, [changed, recs[1]])
        assert res.updated == [recs[0]["pmid"]] and res.unchanged == [recs[1]["pmid"]] and not res.new
        assert st.counts() == {"records": 6, "withdrawn": 0, "record_versions": 7, "pulls": 2}
        current = st.records_frame().set_index("pmid")
        assert current.loc[recs[0]["pmid"], "title"] == "A corrected title"
        past = st.pull_records("p1").set_index("pmid")
        assert past.loc[recs[0]["pmid"], "title"] == recs[0]["title"]
        assert past.loc[recs[0]["pmid"], "authors"] == recs[0]["authors"]  # lists survive the round trip
        with pytest.raises(InputError, match="no pull"):
            st.pull_records("nope")


def test_a_failed_batch_leaves_the_store_untouched(tmp_path: Path) -> None:
    recs = rows(4)
    with Store(tmp_path) as st:
        new_pull(st, "p1", [[r["pmid"] for r in recs]])
        bad = recs[:3] + [{"title": "no pmid"}]
        with pytest.raises(KeyError):
            ingest(st, "p1", 0, bad)
        assert st.counts()["records"] == 0
        assert not st.batches("p1")[0].done
        ingest(st, "p1", 0, recs)
        assert st.counts()["records"] == 4 and st.batches("p1")[0].done


def test_store_survives_reopen_and_finds_in_progress_pulls(tmp_path: Path) -> None:
    recs = rows(3)
    with Store(tmp_path) as st:
        new_pull(st, "p1", [[recs[0]["pmid"]], [recs[1]["pmid"], recs[2]["pmid"]]])
        ingest(st, "p1", 0, recs[:1])
    with Store(tmp_path, create=False) as st:
        row = st.in_progress("key-p1")
        assert row is not None and row.pull_id == "p1"
        assert [b.done for b in st.batches("p1")] == [True, False]
        st.complete_pull("p1", "2026-01-02T00:00:00Z", {})
        assert st.in_progress("key-p1") is None and st.latest_complete().pull_id == "p1"
    with pytest.raises(InputError, match="no evidence store"):
        Store(tmp_path / "missing", create=False)


def test_withdrawn_and_deleted_records(tmp_path: Path) -> None:
    recs = rows(3)
    with Store(tmp_path) as st:
        new_pull(st, "p1", [[r["pmid"] for r in recs]])
        ingest(st, "p1", 0, recs + [{"pmid": recs[2]["pmid"], "deleted": True}])
        st.mark_withdrawn([recs[0]["pmid"]], "p1")
        assert st.current_pmids() == {recs[1]["pmid"]}
        assert len(st.records_frame(include_withdrawn=True)) == 3


def test_content_hash_ignores_key_order_and_sees_every_field() -> None:
    rec = rows(1)[0]
    assert content_hash(rec) == content_hash(dict(reversed(list(rec.items()))))
    assert content_hash(rec) != content_hash(dict(rec, keywords=rec["keywords"] + ["x"]))


def test_export_joins_multi_valued_fields_in_csv(tmp_path: Path) -> None:
    recs = rows(5, seed=9)
    with Store(tmp_path) as st:
        new_pull(st, "p1", [[r["pmid"] for r in recs]])
        ingest(st, "p1", 0, recs)
    n = export_table(tmp_path, "records", tmp_path / "r.csv", "csv")
    df = pd.read_csv(tmp_path / "r.csv", dtype=str, keep_default_na=False)
    assert n == 5 and list(df["pmid"]) == sorted(r["pmid"] for r in recs)
    by = {r["pmid"]: r for r in recs}
    assert all(row.keywords == "; ".join(by[row.pmid]["keywords"]) for row in df.itertuples())
    assert export_table(tmp_path, "pulls", tmp_path / "p.csv", "csv") == 1
    with pytest.raises(InputError):
        export_table(tmp_path, "records", tmp_path / "r.txt", "csv")


def test_schema_is_plain_sqlite(tmp_path: Path) -> None:
    Store(tmp_path).close()
    tables = {r[0] for r in sqlite3.connect(tmp_path / "store.sqlite").execute(
        "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"records", "record_versions", "pulls", "pull_members", "batches"} <= tables
