"""Reference-manager formats: write -> read round trips (RIS, BibTeX, CSL-JSON), the RIS and MEDLINE readers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evidence_review.errors import InputError
from evidence_review.formats import READERS, WRITERS, read_entries, write_entries
from evidence_review.formats.entries import Entry, entries_from_records, select
from evidence_review.formats.medline import pub_date, read_medline
from evidence_review.formats.ris import read_ris
from evidence_review.paths import PROJECT_ROOT
from evidence_review.tables import read_csv_strict

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"
REPORT_RECORDS = PROJECT_ROOT / "reports" / "tables" / "records.csv"

TRICKY = [
    Entry(id="zorb2020_trial", title="Quorvane & glimwicks: 50% {fewer} rituals_in #3 ~ trials^2 \\ done",
          authors=("Tandrel OB", "van der Plonk A", "Flimbus Study Group"), year=2020, pub_date="2020-07-09",
          journal="J Zentric Med", abstract="Twelve glimwicks, one plonk; less ritual.", doi="10.9999/jzm.2020.1",
          pmid="900010", pmcid="PMC9000010", language="eng", keywords=("quorvane", "glimwick, adult"),
          decision="excluded", stage="full_text", reason="wrong population - glimwicks are not people"),
    Entry(id="PMID:900011", title="Ünïcode brindle tonics", authors=("Ødegård K",), year=2021, pub_date="2021",
          pmid="900011", decision="included"),
    Entry(id="DOI:10.9999/x.y", title="No year at all", doi="10.9999/x.y"),
    Entry(id="PMID:900012", title="Same key twice", pmid="900012", year=2019),
    Entry(id="PMID:900012", title="Same key twice, second", pmid="900012", year=2019),
]


def _fields(e: Entry) -> tuple:
    return (e.id, e.title, e.year, e.doi, e.pmid, e.decision, e.stage, e.reason, e.authors)


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_round_trip_keeps_ids_titles_years_dois_and_decisions(fmt, tmp_path):
    path = tmp_path / f"out.{fmt}"
    path.write_text(write_entries(TRICKY, fmt), encoding="utf-8")
    back = read_entries(path, fmt)
    assert [_fields(e) for e in back] == [_fields(e) for e in TRICKY]
    assert back[0].pub_date.startswith("2020-07") and back[0].journal == "J Zentric Med"


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_report_records_round_trip_one_entry_per_record(fmt, tmp_path):
    frame = read_csv_strict(REPORT_RECORDS)
    entries = entries_from_records(frame)
    assert len(entries) == len(frame) and len({e.id for e in entries}) == len(frame)
    path = tmp_path / f"report.{fmt}"
    path.write_text(write_entries(entries, fmt), encoding="utf-8")
    back = read_entries(path, fmt)
    assert [_fields(e) for e in back] == [_fields(e) for e in entries]
    included = frame["included"].str.lower().eq("true").sum()
    assert len(select(back, "included")) == included and len(select(back, "excluded")) == len(frame) - included
    # the reason travels with the excluded records (RIS N1 / BibTeX note / CSL note)
    excluded = frame[frame["included"].str.lower() == "false"].iloc[0]
    assert excluded["exclusion_reason"] in next(e.reason for e in back if e.id == excluded["study_id"])


def test_ris_reader_accepts_bom_crlf_wrapped_lines_and_bare_er(tmp_path):
    text = "\ufeffTY  - JOUR\r\nTI  - A long title about\r\n      plonk\r\nPY  - 2001///\r\nAU  - Wex, T\r\nER  -\r\n"
    p = tmp_path / "crlf.ris"
    p.write_bytes(text.encode("utf-8"))
    [e] = read_ris(p)
    assert (e.title, e.year, e.authors, e.id) == ("A long title about plonk", 2001, ("Wex T",), "ris:1")
    entries = read_ris(FIXTURES / "invented.ris")
    assert len(entries) == 4
    assert entries[1].title.endswith("a case series of five adults") and entries[1].authors == ("Harrow Q",
                                                                                              "Pemberly AO")
    assert entries[1].pub_date == "2022-05-09" and entries[2].pmid == "900005" and entries[2].id == "hand_search_7"


@pytest.mark.parametrize("text, where", [
    ("PY  - 2001\nER  - \n", "row 1"),                       # tag before any TY
    ("TY  - JOUR\nTI  - x\n", "ER"),                          # unterminated record
    ("TY  - JOUR\nTY  - JOUR\nER  - \n", "row 2"),            # TY inside a record
    ("hello\n", "row 1"),                                      # not RIS at all
])
def test_ris_reader_errors_name_file_and_line(tmp_path, text, where):
    p = tmp_path / "bad.ris"
    p.write_text(text)
    with pytest.raises(InputError) as err:
        read_ris(p)
    assert "bad.ris" in str(err.value) and where in str(err.value)


def test_medline_reader_maps_fields():
    recs = read_medline(FIXTURES / "invented.nbib")
    assert [r["pmid"] for r in recs] == ["900001", "900002", "800001", "900004"]
    r = recs[0]
    assert r["title"] == "Quorvane infusion lessens flimber rituals in adults: an open trial of twelve glimwicks."
    assert r["abstract"].startswith("BACKGROUND: Flimber") and "  " not in r["abstract"]
    assert (r["year"], r["pub_date"], r["entrez_date"]) == (2019, "2019-03-14", "2019-03-20")
    assert r["authors"] == ["Tandrel OB", "Vemmick A"] and r["journal"] == "Journal of Zentric Medicine"
    assert r["mesh_terms"] == ["Adult", "Flimber Disorder*", "Quorvane*"]
    assert r["keywords"] == ["glimwick", "quorvane"] and r["doi"] == "10.9999/jzm.2019.001"
    assert r["pmcid"] == "PMC9000001" and r["language"] == "eng" and r["retracted"] is False
    assert recs[1]["doi"] == "10.9999/ZR.2020.777" and recs[1]["journal"] == "Zentric Rep"
    assert recs[1]["pub_date"] == "2020-07"
    assert recs[3]["retracted"] is True and recs[3]["pub_date"] == "2021" and recs[3]["language"] == "fre"


def test_medline_dates_and_errors(tmp_path):
    assert pub_date("2011 Jun-Jul") == (2011, "2011-06")
    assert pub_date("2011 Winter") == (2011, "2011")
    assert pub_date("") == (None, "")
    bad = tmp_path / "bad.nbib"
    bad.write_text("PMID- 1\nTI  - fine\n\nnot a tag line here\n")
    with pytest.raises(InputError, match="row 4"):
        read_medline(bad)
    empty = tmp_path / "empty.nbib"
    empty.write_text("OWN - NLM\nSTAT- MEDLINE\n")
    with pytest.raises(InputError, match="neither PMID nor TI"):
        read_medline(empty)


def test_unknown_format_and_readers_cover_writers():
    assert set(READERS) == set(WRITERS)
    with pytest.raises(InputError, match="unknown format"):
        write_entries([], "endnote")
    assert entries_from_records(pd.DataFrame({"pmid": ["1"], "title": ["t"]}))[0].decision == ""
