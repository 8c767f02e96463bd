"""Registry pull / refresh into the store: faults, rate, kill-and-resume, refresh diffs, migration, CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from ctgov_standin import CtgovStandin, client_for, generate_studies, make_study

from evidence_review.cli import main
from evidence_review.pubmed.store import SCHEMA_VERSION, Store
from evidence_review.registers import pull as rp
from evidence_review.registers import store as rstore
from evidence_review.registers.client import search_params

ROOT = Path(__file__).resolve().parents[2]
PARAMS = search_params(cond="velmoric")


def max_in_window(times: list[float], window: float = 1.0) -> int:
    times, best, j = sorted(times), 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def stored_members(store_dir: Path, pull_id: str | None = None) -> list[str]:
    con = sqlite3.connect(store_dir / "store.sqlite")
    sql = "SELECT nct_id FROM registry_members" + (" WHERE pull_id=?" if pull_id else "")
    return [r[0] for r in con.execute(sql, (pull_id,) if pull_id else ())]


def test_faulty_paged_pull_stores_every_id_once_within_the_rate(tmp_path):
    corpus = generate_studies(350, seed=1)
    with CtgovStandin(corpus) as s:
        for i, kind in enumerate(("503", "429", "reset", "truncate", "slow", "503", "429")):
            s.inject(kind, retry_after=0.3, after=2 * i)  # spread over the pages
        s.slow_seconds = 0.8
        res = rp.pull(tmp_path, PARAMS, client=client_for(s, rate=8, read_timeout=0.4), page_size=40)
        assert s.pending_faults() == 0 and s.max_in_window(1.0) <= 8
    members = stored_members(tmp_path, res.pull_id)
    assert len(members) == len(set(members)) == 350 and res.total == 350 and res.pages == 9
    assert set(members) == {st["protocolSection"]["identificationModule"]["nctId"] for st in corpus}
    manifest = json.loads((res.snapshot / "manifest.json").read_text())
    assert manifest["n_studies"] == 350 and len(manifest["pages"]) == 9 and manifest["total_count"] == 350
    with Store(tmp_path, create=False) as st:
        assert rstore.counts(st) == {"studies": 350, "withdrawn": 0, "versions": 350}


def test_default_rate_is_one_request_a_second(tmp_path, monkeypatch):
    monkeypatch.delenv("CTGOV_RATE", raising=False)
    from evidence_review.registers.client import CtgovClient

    with CtgovStandin(generate_studies(12)) as s:
        rp.pull(tmp_path, PARAMS, client=CtgovClient(s.url, backoff=0.02), page_size=4)
        assert len(s.log) == 3 and s.max_in_window(1.0) <= 1 and s.min_gap() >= 0.99


def _cli_env(s: CtgovStandin, rate: str, rate_dir: Path) -> dict[str, str]:
    env = dict(os.environ, CTGOV_API_URL=s.url, CTGOV_RATE=rate, EVIDENCE_REVIEW_CTGOV_BACKOFF="0.05",
               EVIDENCE_REVIEW_CTGOV_TIMEOUT="2", EVIDENCE_REVIEW_RATE_DIR=str(rate_dir))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _pages_done(store_dir: Path) -> int:
    db = store_dir / "store.sqlite"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(db, timeout=0.2)
        return int(con.execute("SELECT COUNT(*) FROM registry_pages").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_sigkill_mid_pull_then_rerun_loses_nothing(tmp_path):
    corpus = generate_studies(300, seed=2)
    store = tmp_path / "store"
    cmd = [sys.executable, "-m", "evidence_review", "pull", "--source", "clinicaltrials", "--cond", "velmoric",
           "--page-size", "20", "--store", str(store)]
    with CtgovStandin(corpus) as s:
        s.inject("503")
        proc = subprocess.Popen(cmd, env=_cli_env(s, "6", tmp_path / "rate"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while _pages_done(store) < 4 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        n_first_run = len(s.log)
        killed_at = _pages_done(store)
        assert 4 <= killed_at < 15, "the kill must land mid-pull"
        first_pages = sum(1 for r in s.log if r.path == "/studies" and "pageToken" not in r.params and r.status == 200)
        out = subprocess.run(cmd, env=_cli_env(s, "6", tmp_path / "rate"), capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "(resumed)" in out.stdout
        again = sum(1 for r in s.log if r.path == "/studies" and "pageToken" not in r.params and r.status == 200)
        assert again == first_pages == 1  # the rerun continued from the stored token, not from page one
        assert max_in_window([r.t for r in s.log[:n_first_run]]) <= 6
        assert max_in_window([r.t for r in s.log[n_first_run:]]) <= 6
        assert s.max_in_window(1.0) <= 6  # the machine-wide limiter spans the killed run and its rerun
    members = stored_members(store)
    assert len(members) == len(set(members)) == 300
    with Store(store, create=False) as st:
        assert rstore.counts(st)["studies"] == 300 and len(rstore.pages(st, st.pulls()[0].pull_id)) == 15


def test_resume_with_a_rejected_token_pages_again_from_the_start(tmp_path):
    with CtgovStandin(generate_studies(50)) as s:
        client = client_for(s)
        with Store(tmp_path) as st:
            key = rp.resume_key("registry_pull", rp.query_text(PARAMS))
            row = rp._new_pull(st, "registry_pull", PARAMS, key, {"page_size": 20})
            (tmp_path / row.snapshot_dir).mkdir(parents=True)
            rstore.commit_page(st, row.pull_id, rstore.PageRow("studies", 0, None, "not-a-token", "x", "0", 0, 0, 50),
                               [], ingest=True, fetched_utc="2026-01-01T00:00:00Z")
        res = rp.pull(tmp_path, PARAMS, client=client, page_size=20)
        assert res.resumed and res.n_studies == 50 and s.log[0].status == 400


def _title(s: CtgovStandin, nct: str) -> str:
    return s.studies[nct]["protocolSection"]["identificationModule"]["briefTitle"]


def test_refresh_reports_exactly_the_adds_updates_and_withdrawals(tmp_path):
    corpus = generate_studies(240, seed=4)
    ids = sorted(st["protocolSection"]["identificationModule"]["nctId"] for st in corpus)
    with CtgovStandin(corpus) as s:
        first = rp.pull(tmp_path, PARAMS, client=client_for(s), page_size=50)
        old_recent = make_study("NCT30000001", title="Old but new to us", conditions=["Velmoric Disorder"],
                                drugs=["zentamine"], last_update="2014-02-02")
        fresh = make_study("NCT30000002", title="Fresh one", conditions=["Velmoric Disorder"], drugs=["zentamine"],
                           last_update=dt.date.today().isoformat())
        s.add([old_recent, fresh, make_study("NCT30000003", title="Off topic", conditions=["Lorbic Fatigue"],
                                             drugs=["tulacort"], last_update=dt.date.today().isoformat())])
        s.update(ids[3], "Renamed " + _title(s, ids[3]))
        s.update(ids[100], "Renamed too")
        s.withdraw([ids[7], ids[200]])
        n_before = len(s.log)
        res = rp.refresh(tmp_path, client=client_for(s))
        refresh_requests = s.log[n_before:]
        second = rp.refresh(tmp_path, client=client_for(s))
    d = res.diff
    assert d["new"] == ["NCT30000001", "NCT30000002"]
    assert d["updated"] == sorted([ids[3], ids[100]])
    assert d["withdrawn"] == sorted([ids[7], ids[200]])
    assert json.loads((res.snapshot / "diff.json").read_text())["new"] == d["new"]
    # requests: one id page, one updated-since page, one filter.ids fetch - not a re-pull of 240 studies
    assert len(refresh_requests) == 3
    assert any("LastUpdatePostDate" in r.params.get("filter.advanced", "") for r in refresh_requests)
    assert second.diff["new"] == second.diff["updated"] == second.diff["withdrawn"] == []
    with Store(tmp_path, create=False) as st:
        assert rstore.counts(st) == {"studies": 240, "withdrawn": 2, "versions": 244}
        old = {x["protocolSection"]["identificationModule"]["nctId"]: x for x in rstore.pull_studies(st, first.pull_id)}
        assert old[ids[3]]["protocolSection"]["identificationModule"]["briefTitle"] != "Renamed"
        assert len(old) == 240 and len(rstore.pull_studies(st, res.pull_id)) == 240


def test_v1_store_is_migrated_and_newer_refused(tmp_path):
    Store(tmp_path).close()
    con = sqlite3.connect(tmp_path / "store.sqlite")
    for t in ("registry_studies", "registry_versions", "registry_pages", "registry_members"):
        con.execute(f"DROP TABLE {t}")
    con.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    con.commit()
    con.close()
    with Store(tmp_path, create=False) as st:
        assert st.migrated_from == 1 and rstore.counts(st)["studies"] == 0
    con = sqlite3.connect(tmp_path / "store.sqlite")
    assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(Exception, match="newer"):
        Store(tmp_path, create=False)


def test_cli_pull_topic_refresh_and_export(tmp_path, monkeypatch, capsys):
    topic = tmp_path / "t.toml"
    text = (ROOT / "evidence" / "topics" / "ketamine_ocd.toml").read_text()
    text = text.split("[registers]")[0] + '[registers]\ncond = "velmoric"\nintr = "zentamine OR quoravex"\n'
    topic.write_text(text)
    with CtgovStandin(generate_studies(30, seed=5)) as s:
        monkeypatch.setenv("CTGOV_API_URL", s.url)
        monkeypatch.setenv("CTGOV_RATE", "50")
        store = tmp_path / "store"
        assert main(["pull", "--source", "clinicaltrials", "--topic", str(topic), "--store", str(store)]) == 0
        assert "30 studies (totalCount 30)" in capsys.readouterr().out
        s.update("NCT10000002", "Changed")
        assert main(["refresh", "--store", str(store)]) == 0
        out = capsys.readouterr().out
        assert out.startswith("registry refresh") and "1 updated" in out and "\nrefresh " not in out  # no PubMed pull
        assert main(["status", "--store", str(store)]) == 0
        assert "registry studies: 30 current" in capsys.readouterr().out
        for fmt in ("csv", "parquet"):
            dest = tmp_path / f"reg.{fmt}"
            assert main(["export", "--store", str(store), "--table", "registrations", "--out", str(dest)]) == 0
            df = pd.read_csv(dest, dtype=str, keep_default_na=False) if fmt == "csv" else pd.read_parquet(dest)
            assert len(df) == 30 and list(df.columns[:3]) == ["nct_id", "title", "conditions"]
        assert main(["export", "--store", str(store), "--table", "registrations", "--out", str(tmp_path / "x.txt"),
                     "--format", "csv"]) == 2


def test_cli_bad_usage_and_bad_query(tmp_path, monkeypatch, capsys):
    assert main(["pull", "--source", "clinicaltrials", "--store", str(tmp_path)]) == 2
    assert main(["pull", "--cond", "x", "--store", str(tmp_path)]) == 2
    assert main(["pull", "--source", "clinicaltrials", "--query", "x", "--store", str(tmp_path)]) == 2
    with CtgovStandin(generate_studies(3)) as s:
        monkeypatch.setenv("CTGOV_API_URL", s.url)
        monkeypatch.setenv("CTGOV_RATE", "50")
        capsys.readouterr()
        assert main(["pull", "--source", "clinicaltrials", "--cond", "velmoric", "--page-size", "1000",
                     "--store", str(tmp_path)]) == 0
    with CtgovStandin(generate_studies(3)) as s:
        monkeypatch.setenv("CTGOV_API_URL", s.url)
        s_search = s.search
        s.search = lambda params: s_search({**params, "pageSize": "0"})  # type: ignore[method-assign]
        assert main(["pull", "--source", "clinicaltrials", "--cond", "velmoric", "--store", str(tmp_path / "b")]) == 1
        err = capsys.readouterr().err
        assert "HTTP 400" in err and "pageSize must be between 1 and 1000" in err
