"""A pull is a refresh of the same query: withdrawals, unfinished pulls at export, temp files of a killed run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from eutils_standin import EutilsStandin, client_for, standin_records

from evidence_review.cli import main
from evidence_review.errors import NetworkError
from evidence_review.pubmed.pull import pull


def export_pmids(store: Path, out: Path, *extra: str) -> set[str]:
    assert main(["export", "--store", str(store), "--out", str(out), *extra]) == 0
    return set(pd.read_csv(out, dtype=str)["pmid"])


def test_second_pull_marks_withdrawn_what_the_query_no_longer_returns(tmp_path: Path, capsys) -> None:
    corpus = standin_records(300, seed=31)
    store = tmp_path / "store"
    with EutilsStandin(corpus) as s:
        first = pull(store, "ketamine", batch_size=100, client=client_for(s), progress=False)
        gone = sorted(s.records)[:4]
        s.remove(gone)
        second = pull(store, "ketamine", batch_size=100, client=client_for(s), progress=False)
        current = set(s.records)
    assert second.diff == {"parent_pull_id": first.pull_id, "withdrawn": gone}
    assert len(current) == 296
    assert export_pmids(store, tmp_path / "now.csv") == current  # exactly what the query still returns
    assert export_pmids(store, tmp_path / "all.csv", "--include-withdrawn") == current | set(gone)
    manifest = (second.snapshot / "manifest.json").read_text()
    assert gone[0] in manifest and "since_last_pull" in manifest


def test_records_another_query_still_returns_stay_current(tmp_path: Path) -> None:
    corpus = standin_records(120, seed=32)
    store = tmp_path / "store"
    with EutilsStandin(corpus) as s:
        pull(store, "query A", batch_size=60, client=client_for(s), progress=False)
        gone = sorted(s.records)[:3]
        s.remove(gone)
        b = pull(store, "query B", batch_size=60, client=client_for(s), progress=False)
        assert b.diff is None  # first pull of query B: nothing to compare with
        assert export_pmids(store, tmp_path / "x.csv") == {r.pmid for r in corpus}  # A still lists them
        again = pull(store, "query A", batch_size=60, client=client_for(s), progress=False)
    assert again.diff["withdrawn"] == gone
    assert export_pmids(store, tmp_path / "y.csv") == {r.pmid for r in corpus} - set(gone)


def test_a_withdrawn_record_that_returns_is_current_again(tmp_path: Path) -> None:
    corpus = standin_records(50, seed=33)
    store = tmp_path / "store"
    with EutilsStandin(corpus) as s:
        pull(store, "q", batch_size=50, client=client_for(s), progress=False)
        back = sorted(s.records)[0]
        s.remove([back])
        pull(store, "q", batch_size=50, client=client_for(s), progress=False)
        assert back not in export_pmids(store, tmp_path / "a.csv")
        s.add_records([r for r in corpus if r.pmid == back])
        third = pull(store, "q", batch_size=50, client=client_for(s), progress=False)
    assert third.diff["withdrawn"] == []
    assert back in export_pmids(store, tmp_path / "b.csv")


def _interrupted(store: Path, s: EutilsStandin) -> None:
    failing = client_for(s, max_tries=1)
    original = failing.efetch_history
    calls = {"n": 0}

    def flaky(*a, **kw):
        calls["n"] += 1
        if calls["n"] > 1:
            s.inject("503")
        return original(*a, **kw)

    failing.efetch_history = flaky  # type: ignore[method-assign]
    with pytest.raises(NetworkError):
        pull(store, "q", batch_size=50, client=failing, workers=1, progress=False)


def test_export_of_a_store_with_an_unfinished_pull_fails_unless_allowed(tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    with EutilsStandin(standin_records(200, seed=34)) as s:
        _interrupted(store, s)
    capsys.readouterr()
    out = tmp_path / "part.csv"
    assert main(["export", "--store", str(store), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "unfinished pull" in err and "--allow-incomplete" in err and not out.exists()
    assert main(["export", "--store", str(store), "--out", str(out), "--allow-incomplete"]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "unfinished" in err
    assert 0 < len(pd.read_csv(out)) < 200
    assert main(["export", "--store", str(store), "--table", "pulls", "--out", str(tmp_path / "p.csv")]) == 0


def test_resumed_pull_removes_temp_files_a_killed_run_left(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with EutilsStandin(standin_records(200, seed=35)) as s:
        _interrupted(store, s)
        snap = next((store / "snapshots").iterdir())
        orphan = snap / ".batch-00002.xml.gz.k1ll3d.tmp"
        orphan.write_bytes(b"half a batch")
        res = pull(store, "q", batch_size=50, client=client_for(s), progress=False)
    assert res.resumed and not orphan.exists()
    assert not list(snap.glob("*.tmp")) and not list(snap.glob(".*.tmp"))
    assert main(["export", "--store", str(store), "--out", str(tmp_path / "all.csv")]) == 0
