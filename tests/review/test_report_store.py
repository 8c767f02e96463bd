"""`report --store`: the whole report runs on a store's pull; PRISMA counts what the search found."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from eutils_standin import EutilsStandin, client_for, standin_records
from evidence_review import cli
from evidence_review.pubmed.pull import pull


@pytest.fixture(scope="module")
def store_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    base = tmp_path_factory.mktemp("store_report")
    with EutilsStandin(standin_records(60, seed=3)) as s:
        res = pull(base / "store", "ketamine AND ocd", client=client_for(s), date_range=("1970/01/01", "2026/11/21"))
    out = base / "reports"
    assert cli.main(["report", "--store", str(base / "store"), "--out", str(out)]) == 0
    return base / "store", out, res.pull_id


def test_prisma_identified_is_the_pull_count(store_report) -> None:
    _, out, pull_id = store_report
    prisma = json.loads((out / "prisma.json").read_text())
    assert prisma["identified"] == 60 and prisma["identified_by_source"] == {"PubMed": 60}
    db = prisma["identification"]["streams"][0]
    assert db["pull_id"] == pull_id and db["query"] == "ketamine AND ocd" and db["identified"] == 60
    assert prisma["included"] == prisma["included_databases"] + prisma["other_methods"]["included"]
    assert prisma["screened"] == (prisma["excluded_title_abstract"] + prisma["awaiting_screening"]
                                  + prisma["full_text_assessed"])


def test_every_record_is_screened_by_rule_or_queued(store_report) -> None:
    _, out, _ = store_report
    records = pd.read_csv(out / "tables" / "records.csv", dtype=str, keep_default_na=False)
    db = records[records["stream"] == "databases"]
    assert len(db) == 60 and db["study_id"].str.fullmatch(r"pmid\d+").all()
    queued = set(pd.read_csv(out / "tables" / "screening_queue.csv", dtype=str)["study_id"])
    by_rule = set(db.loc[(db["screening_source"] == "rule") & (db["queue_reason"] == ""), "study_id"])
    assert by_rule | queued == set(db["study_id"]) and not by_rule & queued
    assert not db.loc[db["study_id"].isin(queued), "included"].eq("True").any()  # waiting, not included
    matches = pd.read_csv(out / "tables" / "record_matches.csv", dtype=str)
    assert len(matches) == 60 and set(matches["matched_on"]) == {"none"}


def test_methods_show_the_search_that_was_run(store_report) -> None:
    _, out, pull_id = store_report
    md = (out / "summary.md").read_text()
    assert f"PubMed searched" in md and "`ketamine AND ocd`" in md and pull_id in md
    assert "no database search was run" not in md
    offline = Path(__file__).resolve().parents[2] / "reports" / "summary.md"
    text = offline.read_text()
    assert "no database search was run" in text and "PubMed searched" not in text
    assert "[MeSH Terms]" not in text  # no query shown for a search that was not run


def test_pull_option_needs_store(tmp_path: Path, capsys) -> None:
    assert cli.main(["report", "--pull", "x", "--out", str(tmp_path)]) == 2
    assert "--pull needs --store" in capsys.readouterr().err


def test_unknown_pull_is_an_input_error(store_report, tmp_path: Path, capsys) -> None:
    store, _, _ = store_report
    assert cli.main(["report", "--store", str(store), "--pull", "nope", "--out", str(tmp_path)]) == 2
    assert "no pull 'nope'" in capsys.readouterr().err


def test_the_offline_snapshot_state_marks_nothing_new_for_the_queue(store_report, tmp_path: Path) -> None:
    store, first, _ = store_report
    (tmp_path / "state").mkdir()
    committed = Path(__file__).resolve().parents[2] / "reports" / "state" / "snapshot.json"
    (tmp_path / "state" / "snapshot.json").write_bytes(committed.read_bytes())
    assert cli.main(["report", "--store", str(store), "--stages", "records", "--out", str(tmp_path)]) == 0
    queue = pd.read_csv(tmp_path / "tables" / "screening_queue.csv", dtype=str, keep_default_na=False)
    assert not queue["queue_reason"].str.contains("new since").any()
    assert queue.equals(pd.read_csv(first / "tables" / "screening_queue.csv", dtype=str, keep_default_na=False))
