"""`import`: MEDLINE and RIS files into the store as their own source, deduplicated against PubMed records."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidence_review.cli import main
from evidence_review.errors import InputError
from evidence_review.formats.ris import read_ris
from evidence_review.pubmed.importer import import_file
from evidence_review.pubmed.schema import RECORD_COLUMNS
from evidence_review.pubmed.store import PullRow, Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"


def _rec(pmid: str, title: str, year: int, doi: str = "") -> dict:
    rec = {c: None for c in RECORD_COLUMNS}
    rec.update(pmid=pmid, version=1, title=title, year=year, pub_date=str(year), authors=["Dabbet K"],
               publication_types=["Journal Article"], mesh_terms=[], keywords=[], doi=doi, journal="Zentric Rep",
               abstract="", pmcid="", language="eng", retracted=False, entrez_date="")
    return rec


@pytest.fixture()
def store(tmp_path) -> Path:
    """A store with one PubMed pull of three invented records."""
    recs = [_rec("800001", "Skelwin scales for flimber rituals", 2018),
            _rec("800002", "Plonkish dosing of quorvane", 2020, doi="10.9999/zr.2020.777"),
            _rec("800003", "Brindle tonics for flimber rituals", 2021)]
    root = tmp_path / "store"
    with Store(root) as st:
        row = PullRow("p1", "pull", "flimber", "key-p1", "in_progress", "2026-01-01T00:00:00Z", None, 3,
                      "snapshots/p1", None, {})
        st.create_pull(row, [[r["pmid"] for r in recs]], [r["pmid"] for r in recs])
        st.ingest_batch("p1", 0, recs, file="snapshots/p1/b0", sha256="0" * 64, n_bytes=1,
                        fetched_utc="2026-01-01T00:00:00Z")
        st.complete_pull("p1", "2026-01-01T01:00:00Z", {})
    return root


def test_medline_import_adds_new_records_and_skips_duplicates(store):
    res = import_file(store, FIXTURES / "invented.nbib", now="2026-02-01T00:00:00Z")
    assert res.format == "medline" and res.records == 4
    assert res.added == ["900001", "900004"]
    assert res.duplicates == {"pmid": 1, "doi": 1} and res.matched == ["800001", "800002"]
    with Store(store, create=False) as st:
        assert st.counts()["records"] == 5
        imp = st.get_pull(res.pull_id)
        assert imp.kind == "import" and imp.status == "complete" and "invented.nbib" in imp.query
        assert st.latest_complete().pull_id == "p1"            # a refresh still compares with the search
        assert sorted(st.members(res.pull_id)) == ["800001", "800002", "900001", "900004"]
        assert st.pull_records(res.pull_id)["title"].str.len().gt(0).all()
        assert (store / imp.snapshot_dir / "invented.nbib").read_bytes() == (FIXTURES / "invented.nbib").read_bytes()
    again = import_file(store, FIXTURES / "invented.nbib", now="2026-02-01T00:00:00Z")
    assert again.added == [] and again.n_duplicates == 4 and again.pull_id != res.pull_id


def test_ris_import_matches_title_year_and_doi_inside_the_file(store):
    res = import_file(store, FIXTURES / "invented.ris")
    assert res.format == "ris" and res.records == 4
    assert res.duplicates == {"title_year": 1, "doi": 1} and len(res.added) == 2
    no_pmid = [k for k in res.added if k.startswith("import:")]
    assert len(no_pmid) == 1 and "900005" in res.added
    with Store(store, create=False) as st:
        frame = st.records_frame()
        assert len(frame) == 5
        row = frame[frame["doi"] == "10.9999/ZL.2022.5"].iloc[0]
        assert row["pmid"] == "" and row["authors"] == ["Harrow Q", "Pemberly AO"] and row["year"] == 2022


def test_import_and_export_commands(store, tmp_path, capsys):
    assert main(["import", str(FIXTURES / "invented.nbib"), "--store", str(store), "--label", "hand search"]) == 0
    out = capsys.readouterr().out
    assert "4 records" in out and "added 2, duplicates 2" in out and "1 by doi" in out and "1 by pmid" in out
    with Store(store, create=False) as st:
        pull_id = next(p.pull_id for p in st.pulls() if p.kind == "import")
    dest = tmp_path / "import.ris"
    assert main(["export", "--store", str(store), "--pull", pull_id, "--out", str(dest)]) == 0
    assert sorted(e.pmid for e in read_ris(dest)) == ["800001", "800002", "900001", "900004"]
    assert main(["export", "--store", str(store), "--format", "bibtex", "--out", str(tmp_path / "all.bib")]) == 0
    assert (tmp_path / "all.bib").read_text().count("@article{") == 5
    # decisions live in a report folder, not in the store
    assert main(["export", "--store", str(store), "--which", "included", "--out", str(tmp_path / "x.ris")]) == 2
    assert "--report" in capsys.readouterr().err


def test_export_report_folder_which(tmp_path, capsys):
    from evidence_review.paths import PROJECT_ROOT
    from evidence_review.tables import read_csv_strict

    frame = read_csv_strict(PROJECT_ROOT / "reports" / "tables" / "records.csv")
    n_inc = int(frame["included"].str.lower().eq("true").sum())
    for which, n in (("all", len(frame)), ("included", n_inc), ("excluded", len(frame) - n_inc)):
        dest = tmp_path / f"{which}.ris"
        assert main(["export", "--report", str(PROJECT_ROOT / "reports"), "--which", which, "--out", str(dest)]) == 0
        assert len(read_ris(dest)) == n
        assert dest.read_text().count("KW  - screening: ") == n


def test_import_bad_input(store, tmp_path, capsys):
    txt = tmp_path / "notes.txt"
    txt.write_text("just some words\n")
    with pytest.raises(InputError, match="cannot tell the format"):
        import_file(store, txt)
    assert main(["import", str(tmp_path / "missing.nbib"), "--store", str(store)]) == 2
    assert "file not found" in capsys.readouterr().err
    with Store(store, create=False) as st:
        assert st.counts()["pulls"] == 1                   # nothing half-imported
