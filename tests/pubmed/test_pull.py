"""pull / refresh against the loopback stand-in: faults, rate limit, resume after SIGKILL, split, secrets."""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from eutils_standin import EutilsStandin, standin_records
from eutils_standin import client_for as standin_client_for

from evidence_review.cli import main
from evidence_review.errors import NetworkError
from evidence_review.pubmed.client import EntrezClient, pmids_in
from evidence_review.pubmed.pull import pull, refresh
from evidence_review.pubmed.store import Store

KEY = "SECRET-api-key-9f8e7d6c5b4a"
EMAIL = "curator@example.net"


client_for = functools.partial(standin_client_for, read_timeout=0.5)


def stored_batch_pmids(snapshot: Path) -> dict[str, list[str]]:
    return {p.name: pmids_in(gzip.decompress(p.read_bytes())) for p in sorted(snapshot.glob("batch-*.xml.gz"))}


def assert_exactly_once(store_dir: Path, pull_id: str, expected: dict) -> None:
    with Store(store_dir) as st:
        df = st.records_frame()
        members = st.members(pull_id)
        batches = st.batches(pull_id)
    assert len(df) == len(expected) and df["pmid"].is_unique
    assert set(df["pmid"]) == set(expected)
    assert sorted(members) == sorted(expected)
    in_files = [p for pmids in stored_batch_pmids(store_dir / f"snapshots/{pull_id}").values() for p in pmids]
    assert sorted(in_files) == sorted(expected), "every record in exactly one batch file"
    assert sum(b.n_records for b in batches) == len(expected)
    titles = dict(zip(df["pmid"], df["title"]))
    assert all(titles[p] == rec.title for p, rec in expected.items()), "titles stored exactly"


# -- the acceptance run: a few thousand records, every fault, rate limit respected -----------------------


def test_pull_with_every_fault_stores_each_record_once_and_stays_under_the_rate(tmp_path: Path) -> None:
    corpus = standin_records(3000, seed=21)
    with EutilsStandin(corpus, stall_seconds=2.0) as s:
        s.inject("503", endpoint="esearch")
        for kind in ("503", "500", "truncate", "reset", "stall"):
            s.inject(kind, endpoint="efetch")
        s.inject("429", endpoint="efetch", retry_after=1)
        res = pull(tmp_path, "ketamine AND ocd", batch_size=500, client=client_for(s), progress=False)
        log = list(s.log)
        assert s.pending_faults() == 0
        assert not s.rate_limited(), "no request broke the 3/s rule"
        assert s.max_in_window() <= 3
    assert res.n_pmids == 3000 and res.batches_total == 6 and res.batches_fetched == 6 and not res.missing
    assert {r.fault for r in log} >= {"503", "500", "429", "truncate", "reset", "stall"}
    assert_exactly_once(tmp_path, res.pull_id, {r.pmid: r for r in corpus})
    # the manifest describes the snapshot: hashes match the files, PMIDs match the search
    manifest = json.loads((res.snapshot / "manifest.json").read_text())
    assert manifest["query"] == "ketamine AND ocd" and manifest["count"] == 3000
    assert sorted(manifest["pmids"]) == sorted(r.pmid for r in corpus)
    for b in manifest["batches"]:
        assert hashlib.sha256((res.snapshot / b["file"]).read_bytes()).hexdigest() == b["sha256"]
    assert {"python", "requests", "lxml", "evidence-review"} <= set(manifest["versions"])


def test_pull_past_the_retrieval_cap_splits_and_stores_everything(tmp_path: Path) -> None:
    corpus = standin_records(2500, seed=5)
    with EutilsStandin(corpus, cap=1000) as s:
        client = client_for(s, retrieval_cap=1000, api_key=KEY)
        res = pull(tmp_path, "broad query", batch_size=400, client=client, progress=False)
        assert not s.rate_limited() and s.max_in_window() <= 10
        # each batch came from its own part's history (no PMID-list fallback needed)
        assert all(r.params.get("WebEnv") for r in s.log if r.endpoint == "efetch")
    assert res.n_pmids == 2500
    manifest = json.loads((res.snapshot / "manifest.json").read_text())
    assert manifest["search"]["split_by"] == "pdat" and len(manifest["search"]["parts"]) > 1
    assert_exactly_once(tmp_path, res.pull_id, {r.pmid: r for r in corpus})


def test_plan_keeps_history_handles_only_where_retstart_maps_exactly() -> None:
    from evidence_review.pubmed.client import FullSearch, SearchPart
    from evidence_review.pubmed.pull import plan_batches

    search = FullSearch("q", 7, [SearchPart("2000/01/01", "2010/12/31", 4, ["1", "2", "3", "4"], "W1", "1"),
                                 SearchPart("2011/01/01", "2020/12/31", 3, ["4", "5", "6"], "W1", "2")])
    batches, sources = plan_batches(search, 3)
    assert batches == [["1", "2", "3"], ["4"], ["5", "6"]]  # "4" (two publication dates) stored once
    assert sources[0].retstart == 0 and sources[1].retstart == 3 and sources[1].webenv == "W1"
    assert sources[2] is None  # the second part lost a PMID to the first: fetch it by PMID list


# -- refresh: cost grows with the changes -------------------------------------------------------------


def test_refresh_fetches_only_new_and_changed_records(tmp_path: Path) -> None:
    corpus = standin_records(1500, seed=8)
    with EutilsStandin(corpus) as s:
        client = client_for(s)
        first = pull(tmp_path, "ketamine", batch_size=500, client=client, progress=False)
        old_titles = {r.pmid: r.title for r in corpus[:5]}
        added = standin_records(30, seed=9, start_pmid=41_000_001)
        s.add_records(added)
        changed = [s.modify(r.pmid, f"Revised title for {r.pmid}: ketamine & OCD") for r in corpus[:5]]
        gone = [corpus[100].pmid, corpus[200].pmid]
        s.remove(gone)
        before = len(s.fetched_pmids())
        res = refresh(tmp_path, client=client, progress=False)
        fetched = s.fetched_pmids()[before:]
        assert not s.rate_limited()
        # what an mdat search since (last pull - 3 days) returns: our 5 plus synthetic records dated ahead
        mdat_window = res.diff["mdat_since"]
    diff = json.loads((res.snapshot / "diff.json").read_text())
    assert diff == {k: v for k, v in res.diff.items()}
    assert sorted(diff["new"]) == sorted(r.pmid for r in added)
    assert diff["updated"] == sorted(r.pmid for r in changed)
    assert diff["withdrawn"] == sorted(gone)
    assert len(fetched) == diff["records_fetched"] <= 100, f"refresh fetched {len(fetched)} records"
    assert set(fetched) >= {r.pmid for r in added} | {r.pmid for r in changed}
    assert mdat_window and res.requests <= 6
    with Store(tmp_path) as st:
        df = st.records_frame().set_index("pmid")
        assert len(df) == 1500 + 30 - 2
        for r in changed:
            assert df.loc[r.pmid, "title"] == r.title
        # the first pull is still reproducible exactly as it was
        then = st.pull_records(first.pull_id).set_index("pmid")
        assert len(then) == 1500
        assert all(then.loc[p, "title"] == t for p, t in old_titles.items())
        now = st.pull_records(res.pull_id)
        assert len(now) == 1500 + 30 - 2


def test_refresh_without_a_pull_is_a_usage_error(tmp_path: Path, capsys) -> None:
    Store(tmp_path).close()
    assert main(["refresh", "--store", str(tmp_path)]) == 2
    assert "run `pull` first" in capsys.readouterr().err


# -- resume -------------------------------------------------------------------------------------------


def test_interrupted_pull_resumes_without_refetching(tmp_path: Path) -> None:
    corpus = standin_records(1000, seed=4)
    with EutilsStandin(corpus) as s:
        # the network dies after a few batches: the client gives up with a clear error
        failing = client_for(s, max_tries=2)
        original = failing.efetch_history
        calls = {"n": 0}

        def flaky(*a, **kw):
            calls["n"] += 1
            if calls["n"] > 3:
                s.inject("503", times=2)
            return original(*a, **kw)

        failing.efetch_history = flaky  # type: ignore[method-assign]
        with pytest.raises(NetworkError, match="re-run the same command"):
            pull(tmp_path, "ketamine", batch_size=100, client=failing, workers=1, progress=False)
        done_files = stored_batch_pmids(next((tmp_path / "snapshots").iterdir()))
        assert len(done_files) == 3
        before = len(s.log)
        res = pull(tmp_path, "ketamine", batch_size=100, client=client_for(s), progress=False)
        refetched = [p for r in s.log[before:] for p in r.pmids]
        assert not any(r.endpoint == "esearch" for r in s.log[before:]), "the frozen plan is reused"
    assert res.resumed and res.batches_fetched == 7 and res.batches_reused == 0
    assert not set(refetched) & {p for pmids in done_files.values() for p in pmids}
    assert_exactly_once(tmp_path, res.pull_id, {r.pmid: r for r in corpus})


def test_sigkilled_pull_resumes_with_the_same_command(tmp_path: Path) -> None:
    corpus = standin_records(1200, seed=6)
    store = tmp_path / "store"
    with EutilsStandin(corpus) as s:
        env = dict(os.environ, NCBI_EUTILS_URL=s.url, EVIDENCE_REVIEW_EUTILS_BACKOFF="0.05",
                   EVIDENCE_REVIEW_EUTILS_TIMEOUT="5", NCBI_API_KEY="", NCBI_EMAIL="")
        cmd = [sys.executable, "-m", "evidence_review", "pull", "--query", "ketamine OCD", "--store", str(store),
               "--batch-size", "100"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            snaps = list((store / "snapshots").glob("*/batch-*.xml.gz")) if (store / "snapshots").exists() else []
            if len(snaps) >= 5 or proc.poll() is not None:
                break
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL, "the pull was killed half-way, not finished"
        snapshot = next((store / "snapshots").iterdir())
        kept = stored_batch_pmids(snapshot)
        assert 5 <= len(kept) < 12
        assert not (snapshot / "manifest.json").exists()
        before = len(s.log)  # no pause: the rerun reads the killed run's request times from the shared state
        again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        assert "(resumed)" in again.stdout
        second_run = s.log[before:]
        assert not s.rate_limited() and s.max_in_window() <= 3, "kill + rerun broke 3 requests/s"
    refetched = {p for r in second_run for p in r.pmids}
    assert not refetched & {p for pmids in kept.values() for p in pmids}, "stored batches were fetched again"
    assert len(refetched) + sum(len(v) for v in kept.values()) >= 1200
    with Store(store) as st:
        (pull_row,) = st.pulls()
        assert pull_row.status == "complete"
    assert_exactly_once(store, pull_row.pull_id, {r.pmid: r for r in corpus})


# -- secrets ------------------------------------------------------------------------------------------


def test_api_key_and_email_appear_in_no_file_the_tool_writes(tmp_path: Path, capsys) -> None:
    corpus = standin_records(400, seed=13)
    with EutilsStandin(corpus, stall_seconds=1.0) as s:
        s.inject("503", endpoint="efetch")
        s.inject("reset", endpoint="efetch")
        env = {"NCBI_EUTILS_URL": s.url, "NCBI_API_KEY": KEY, "NCBI_EMAIL": EMAIL,
               "EVIDENCE_REVIEW_EUTILS_BACKOFF": "0.02"}
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            assert main(["-v", "pull", "--query", "ketamine", "--store", str(tmp_path), "--batch-size", "150"]) == 0
            s.add_records(standin_records(5, seed=14, start_pmid=42_000_001))
            assert main(["-v", "refresh", "--store", str(tmp_path)]) == 0
            assert main(["status", "--store", str(tmp_path)]) == 0
            assert main(["export", "--store", str(tmp_path), "--format", "csv", "--out",
                         str(tmp_path / "records.csv")]) == 0
        finally:
            for k, v in old.items():
                os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
        assert all(r.has_api_key for r in s.log), "the key was sent"
    out = capsys.readouterr()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "store.sqlite" for p in files) and any(p.suffix == ".gz" for p in files)
    for p in files:
        data = p.read_bytes()
        if p.suffix == ".gz":
            data = gzip.decompress(data)
        for secret in (KEY, EMAIL, "curator%40example.net"):
            assert secret.encode() not in data, f"{secret} written to {p}"
    assert KEY not in out.out + out.err and EMAIL not in out.out + out.err


# -- commands -----------------------------------------------------------------------------------------


def test_pull_status_export_commands(tmp_path: Path, monkeypatch, capsys) -> None:
    corpus = standin_records(120, seed=15)
    topic = Path(__file__).resolve().parents[2] / "evidence" / "topics" / "ketamine_ocd.toml"
    with EutilsStandin(corpus) as s:
        monkeypatch.setenv("NCBI_EUTILS_URL", s.url)
        monkeypatch.setenv("NCBI_API_KEY", "")
        monkeypatch.setenv("EVIDENCE_REVIEW_EUTILS_BACKOFF", "0.02")
        assert main(["pull", "--topic", str(topic), "--store", str(tmp_path), "--batch-size", "50"]) == 0
        esearch = next(r for r in s.log if r.endpoint == "esearch")
    out = capsys.readouterr().out
    assert "120 PMIDs" in out and "3 batches" in out
    assert esearch.params["term"].startswith('("Ketamine"[MeSH Terms]')
    assert esearch.params["datetype"] == "pdat" and esearch.params["mindate"] == "1970/01/01"
    assert main(["status", "--store", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "records: 120 current" in out and "complete" in out and "batches 3/3" in out

    csv_path, pq_path = tmp_path / "out" / "records.csv", tmp_path / "out" / "records.parquet"
    assert main(["export", "--store", str(tmp_path), "--table", "records", "--format", "csv", "--out",
                 str(csv_path)]) == 0
    assert main(["export", "--store", str(tmp_path), "--table", "records", "--format", "parquet", "--out",
                 str(pq_path)]) == 0
    df = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    pq = pd.read_parquet(pq_path)
    from evidence_review.pubmed.schema import RECORD_COLUMNS

    assert list(df.columns) == list(RECORD_COLUMNS) == list(pq.columns)
    assert len(df) == len(pq) == 120
    by_pmid = {r.pmid: r.expected() for r in corpus}
    for row in df.itertuples(index=False):
        exp = by_pmid[row.pmid]
        assert row.title == exp["title"] and row.authors == "; ".join(exp["authors"])
        assert row.mesh_terms == "; ".join(exp["mesh_terms"])
    first = pq.iloc[0]
    assert list(first["authors"]) == by_pmid[first["pmid"]]["authors"]
    # same store, same bytes
    again = tmp_path / "out" / "again.csv"
    main(["export", "--store", str(tmp_path), "--format", "csv", "--out", str(again)])
    assert again.read_bytes() == csv_path.read_bytes()


@pytest.mark.parametrize("argv", [
    ["pull", "--query", "x", "--store", "S", "--batch-size", "10001"],
    ["pull", "--query", "x", "--store", "S", "--batch-size", "0"],
    ["pull", "--store", "S"],
    ["status", "--store", "NO_SUCH_STORE"],
    ["export", "--store", "NO_SUCH_STORE", "--out", "x.csv"],
    ["export", "--store", "S", "--format", "csv", "--out", "x.parquet"],
])
def test_bad_usage_exits_2(tmp_path: Path, monkeypatch, argv: list[str], capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Store(tmp_path / "S").close()
    assert main(argv) == 2


def test_empty_search_and_back_to_back_pulls(tmp_path: Path) -> None:
    with EutilsStandin([]) as s:
        client = client_for(s)
        a = pull(tmp_path, "nothing", client=client, progress=False)
        b = pull(tmp_path, "nothing", client=client, progress=False)  # same query, same second: a new snapshot
        r = refresh(tmp_path, client=client, progress=False)
    assert a.n_pmids == 0 and a.batches_total == 0 and a.pull_id != b.pull_id
    assert r.diff["new"] == r.diff["updated"] == r.diff["withdrawn"] == [] and r.diff["parent_pull_id"] == b.pull_id
    assert json.loads((a.snapshot / "manifest.json").read_text())["pmids"] == []


def test_a_second_pull_on_a_busy_store_is_refused(tmp_path: Path) -> None:
    from evidence_review.errors import EvidenceReviewError
    from evidence_review.pubmed.pull import store_lock

    with store_lock(tmp_path):
        with pytest.raises(EvidenceReviewError, match="another pull or refresh"):
            pull(tmp_path, "x", client=EntrezClient("http://127.0.0.1:9/", api_key="", email=""))
    with store_lock(tmp_path):  # released again
        pass


def test_export_matches_parsing_the_raw_snapshot(tmp_path: Path) -> None:
    """The store adds nothing and loses nothing: its export equals `parse` of the raw batch files."""
    with EutilsStandin(standin_records(300, seed=17)) as s:
        res = pull(tmp_path / "store", "q", batch_size=120, client=client_for(s), progress=False)
    assert main(["export", "--store", str(tmp_path / "store"), "--out", str(tmp_path / "export.csv")]) == 0
    parsed: list[str] = []
    for i, batch in enumerate(sorted(res.snapshot.glob("batch-*.xml.gz"))):
        out = tmp_path / f"parsed{i}.csv"
        assert main(["parse", str(batch), "--out", str(out)]) == 0
        parsed += out.read_text(encoding="utf-8").splitlines()[1:]
    exported = (tmp_path / "export.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert len(exported) == 300 and sorted(exported) == sorted(parsed)
