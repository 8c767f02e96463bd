"""The loopback E-utilities stand-in behaves like PubMed where our client depends on it."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
from pathlib import Path

import requests
from eutils_standin import EutilsStandin, standin_records
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]


def esearch(s: EutilsStandin, **params) -> etree._Element:
    r = requests.get(s.url + "esearch.fcgi", params={"db": "pubmed", "term": "x", **params}, timeout=5)
    r.raise_for_status()
    return etree.fromstring(r.content)


def test_cap_history_and_date_filters() -> None:
    recs = standin_records(40, seed=1)
    with EutilsStandin(recs, cap=25, rate=100) as s:
        root = esearch(s, retmax=100, usehistory="y")
        assert root.findtext("Count") == "40" and len(root.findall("IdList/Id")) == 25  # the cap
        assert root.findtext("WebEnv") and root.findtext("QueryKey") == "1"
        today = dt.date.today()
        s.modify(recs[0].pmid, "New title", when=today)
        since = (today - dt.timedelta(days=1)).strftime("%Y/%m/%d")
        root = esearch(s, datetype="mdat", mindate=since, maxdate="3000/12/31", retmax=100)
        ids = [e.text for e in root.findall("IdList/Id")]
        assert recs[0].pmid in ids
        assert all(dt.date(*r.date_revised) >= today - dt.timedelta(days=1) for r in recs[1:] if r.pmid in ids)
        y = recs[1].pub_date.expected_year
        root = esearch(s, datetype="pdat", mindate=f"{y}/01/01", maxdate=f"{y}/12/31", retmax=100)
        ids = {e.text for e in root.findall("IdList/Id")}
        assert ids == {r.pmid for r in recs if r.pub_date.expected_year == y}
        s.remove([recs[2].pmid])
        assert esearch(s).findtext("Count") == "39"
        r = requests.post(s.url + "efetch.fcgi", data={"db": "pubmed", "id": f"{recs[0].pmid},{recs[2].pmid}"},
                          timeout=5)
        assert b"New title" in r.content and s.log[-1].pmids == [recs[0].pmid]


def test_launcher_script_serves_until_terminated() -> None:
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "eutils_standin.py"), "--records", "20"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = line.rsplit(" at ", 1)[1].strip()
        r = requests.get(url + "esearch.fcgi", params={"db": "pubmed", "term": "x"}, timeout=5)
        assert b"<Count>20</Count>" in r.content
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    assert "1 requests served" in out
