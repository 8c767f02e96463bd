"""The living-review loop end to end, offline: pull -> report --store -> (a month passes: a new RCT and a new
review appear, one record is revised, one withdrawn) -> refresh -> report -> screen -> report -> extract -> report.

The corpus (tests/living_corpus.py) is the snapshot's studies as PubMed records plus 220 distractors, served
by the loopback E-utilities stand-in. The curated files are a temporary copy of evidence/ (EVIDENCE_REVIEW_ROOT),
so the committed decisions never change.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

import living_corpus as lc
from eutils_standin import EutilsStandin, client_for
from evidence_review import cli
from evidence_review.pubmed.pull import pull, refresh
from evidence_review.ratelimit import MachineRateLimiter

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

RCT_ROWS = (  # the new trial's extraction rows (synthetic numbers, as its synthetic abstract states)
    "pmid90500001:ybocs_response:1wk,pmid90500001,rct_parallel,between_groups,IV ketamine vs IV midazolam,"
    "Y-BOCS response,Y-BOCS,1 week after infusion,7,35,RD,14,6,3,17,,,,,,,,,,,,,,,,,,,,,PMID:90500001 abstract,"
    "synthetic test study\n"
    "pmid90500001:ybocs_response:4wk,pmid90500001,rct_parallel,between_groups,IV ketamine vs IV midazolam,"
    "Y-BOCS response,Y-BOCS,4 weeks after infusion,28,35,RD,12,8,2,18,,,,,,,,,,,,,,,,,,,,,PMID:90500001 abstract,"
    "synthetic test study\n"
)


def changes_section(summary: str) -> str:
    """The 'What changed' section; it opens the report (after the Summary of Findings table at most)."""
    sections = summary.split("\n## ")[1:]
    names = [sec.split("\n", 1)[0] for sec in sections]
    at = next(i for i, n in enumerate(names) if n.startswith("What changed"))
    assert at <= 1 and all(not n.startswith("Evidence at a glance") for n in names[:at]), names[:at + 1]
    return sections[at]


def _report(store: Path, out: Path) -> dict:
    assert cli.main(["report", "--store", str(store), "--out", str(out)]) == 0
    return {"changes": json.loads((out / "changes.json").read_text()),
            "prisma": json.loads((out / "prisma.json").read_text()),
            "queue": pd.read_csv(out / "tables" / "screening_queue.csv", dtype=str, keep_default_na=False),
            "records": pd.read_csv(out / "tables" / "records.csv", dtype=str, keep_default_na=False),
            "matches": pd.read_csv(out / "tables" / "record_matches.csv", dtype=str, keep_default_na=False),
            "summary": (out / "summary.md").read_text()}


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("living")
    shutil.copytree(ROOT / "evidence", base / "evidence")
    mp = pytest.MonkeyPatch()
    mp.setenv("EVIDENCE_REVIEW_ROOT", str(base))
    mp.setenv("EVIDENCE_REVIEW_SHARED", str(Path(os.environ.get("EVIDENCE_REVIEW_SHARED", ROOT.parent / "shared"))))
    records, served = lc.corpus()
    store, out = base / "store", base / "reports"
    run: dict = {"served": served, "corpus": {r.pmid for r in records}, "base": base}
    try:
        with EutilsStandin(records, rate=1000) as s:
            client = client_for(s, limiter=MachineRateLimiter("living", 1000, directory=base / "rate"))
            run["pull"] = pull(store, "ketamine AND obsessive-compulsive disorder", client=client)
            run["first"] = _report(store, out)
            events = lc.update_events()
            s.add_records(events.values())
            run["revised"] = served["bloch2012_openlabel"]
            s.modify(run["revised"], "Effects of ketamine in treatment-refractory obsessive-compulsive disorder [revised]")
            run["withdrawn"] = str(lc.DISTRACTOR_PMID_BASE + 3)
            s.remove([run["withdrawn"]])
            run["refresh"] = refresh(store, client=client)
        run["second"] = _report(store, out)
        q = run["second"]["queue"].copy()
        q.loc[q["pmid"] == lc.NEW_RCT_PMID, ["reviewer_decision", "reviewer_design", "reviewer_reason"]] = \
            ["include", "rct_parallel", "randomised ketamine vs midazolam in adults with OCD"]
        q.loc[q["pmid"] == lc.NEW_REVIEW_PMID, ["reviewer_decision", "reviewer_reason"]] = \
            ["exclude", "systematic review: read for context only"]
        q.to_csv(base / "filled.csv", index=False)
        run["decisions_before"] = (base / "evidence" / "screening_decisions.csv").read_text().splitlines()
        run["screen"] = cli.main(["screen", "--queue", str(base / "filled.csv"), "--reviewer", "t1"])
        run["decisions_after"] = (base / "evidence" / "screening_decisions.csv").read_text().splitlines()
        run["third"] = _report(store, out)
        with open(base / "evidence" / "extraction.csv", "a", encoding="utf-8") as fh:
            fh.write(RCT_ROWS)
        run["fourth"] = _report(store, out)
    finally:
        mp.undo()
    return run


def test_first_report_counts_the_pull_and_matches_curated_studies(loop: dict) -> None:
    first, res = loop["first"], loop["pull"]
    assert first["prisma"]["identified"] == res.n_pmids == len(loop["corpus"])
    stream = first["prisma"]["identification"]["streams"][0]
    assert stream["query"] == "ketamine AND obsessive-compulsive disorder" and stream["pull_id"] == res.pull_id
    m = first["matches"].set_index("pmid")
    for sid, pmid in loop["served"].items():
        assert m.at[pmid, "study_id"] == sid, sid
    assert {"pmid", "doi", "title_year"} <= set(m["matched_on"])
    offline = pd.read_csv(ROOT / "reports" / "tables" / "records.csv", dtype=str, keep_default_na=False)
    included = lambda t: set(t.loc[t["included"] == "True", "study_id"])  # noqa: E731
    assert included(first["records"]) == included(offline), "curated decisions keep applying to pulled records"
    assert first["changes"]["since"] is None


def test_every_record_is_screened_by_rule_or_queued(loop: dict) -> None:
    for name in ("first", "second", "third", "fourth"):
        recs = loop[name]["records"]
        db = recs[recs["stream"] == "databases"]
        queued = set(loop[name]["queue"]["study_id"])
        settled = db["curated"].eq("True") | db["screening_source"].str.startswith("reviewer") | \
            (db["screening_source"].eq("rule") & db["queue_reason"].eq(""))
        assert set(db.loc[~settled, "study_id"]) == queued - set(recs.loc[recs["stream"] != "databases", "study_id"])


def test_changes_list_exactly_the_refresh_diff(loop: dict) -> None:
    ch, diff = loop["second"]["changes"], loop["refresh"].diff
    assert set(ch["new_records"]) == set(diff["new"]) == {lc.NEW_RCT_PMID, lc.NEW_REVIEW_PMID}
    assert ch["updated_records"] == diff["updated"] == [loop["revised"]]
    assert ch["withdrawn_records"] == diff["withdrawn"] == [loop["withdrawn"]]
    assert loop["second"]["prisma"]["identified"] == loop["refresh"].n_pmids == len(loop["corpus"]) + 1
    assert {f"pmid{lc.NEW_RCT_PMID}", f"pmid{lc.NEW_REVIEW_PMID}"} <= set(loop["second"]["queue"]["study_id"])
    assert ch["verdict_changes"] == [] and ch["newly_included"] == []
    section = changes_section(loop["second"]["summary"])
    assert section.startswith("What changed since") and lc.NEW_RCT_PMID in section


def test_screen_merge_changes_the_included_set_and_loses_nothing(loop: dict) -> None:
    assert loop["screen"] == 0
    before, after = loop["decisions_before"], loop["decisions_after"]
    assert after[: len(before)] == before and len(after) == len(before) + 2
    ch = loop["third"]["changes"]
    rct = f"pmid{lc.NEW_RCT_PMID}"
    assert ch["newly_included"] == [rct] and ch["awaiting_extraction"] == [rct]
    assert ch["provisional_claims"] and ch["verdict_changes"] == []
    assert not {rct, f"pmid{lc.NEW_REVIEW_PMID}"} & set(loop["third"]["queue"]["study_id"])
    first_included = set(loop["first"]["records"].query("included == 'True'")["study_id"])
    assert first_included | {rct} == set(loop["third"]["records"].query("included == 'True'")["study_id"])


def test_a_verdict_moves_only_once_the_new_trial_is_extracted(loop: dict) -> None:
    ch = loop["fourth"]["changes"]
    rct = f"pmid{lc.NEW_RCT_PMID}"
    assert ch["verdict_changes"], "extracting the new RCT should move at least one conclusion"
    assert all(rct in v["moved_by"] for v in ch["verdict_changes"])
    assert ch["awaiting_extraction"] == [] and ch["provisional_claims"] == []
    assert ch["headline"].startswith(f"{len(ch['verdict_changes'])} conclusion(s) changed")
    assert ch["verdict_changes"][0]["claim_id"] in changes_section(loop["fourth"]["summary"])
