"""Tests for evidence_review.pubmed.records_io: streamed CSV, parallel split (same bytes), fallbacks."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pytest

from evidence_review.errors import InputError
from evidence_review.pubmed import records_io as rio
from evidence_review.pubmed import synthetic as sp
from evidence_review.pubmed import synthetic_xml as sx

FIX = Path(__file__).parents[1] / "fixtures" / "pubmed"


def test_csv_cells_joins_lists_and_blanks_none() -> None:
    row = sp.generate_records(1, seed=0)[0].expected()
    row.update(year=None, authors=["A B", "C D"], retracted=True)
    cells = rio.csv_cells(row)
    assert cells[0] == row["pmid"] and cells[5] == "" and cells[7] == "A B; C D" and cells[14] == "True"


@pytest.mark.parametrize("cell", ["", "plain", "a,b", 'say "hi"', "two\nlines", " lead", "trail ",
                                  '"', ",", "x;y", "tab\there", "ünï,cödé", '",\n'])
def test_csv_field_matches_csv_module(cell: str) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(["x", cell, "y"])
    assert "x," + rio.csv_field(cell) + ",y\n" == buf.getvalue()


def test_csv_field_quotes_carriage_return() -> None:
    # csv.writer with lineterminator="\n" leaves a bare CR unquoted on some Pythons; readers then split the row
    assert rio.csv_field("cr\rhere") == '"cr\rhere"'


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rio") / "corpus.xml"
    sx.write_xml(sp.generate_records(1500, seed=21), path, deleted=["5", "6"])
    return path


def test_split_points_land_on_record_starts(corpus: Path) -> None:
    points = rio.split_points(corpus, 3)
    assert len(points) == 2 and points == sorted(points)
    data = corpus.read_bytes()
    assert all(data[p:p + 15] == b"<PubmedArticle>" for p in points)


@pytest.mark.parametrize("jobs", [2, 3])
def test_parallel_output_is_byte_identical(corpus: Path, tmp_path: Path, jobs: int) -> None:
    one, many = tmp_path / "one.csv", tmp_path / "many.csv"
    n1, del1 = rio.write_records(corpus, one, jobs=1, progress=False)
    n2, del2 = rio.write_records(corpus, many, jobs=jobs, progress=False)
    assert (n1, del1) == (n2, del2) == (1500, ["5", "6"])
    assert many.read_bytes() == one.read_bytes()


def test_split_inside_comment_falls_back_to_one_process(tmp_path: Path) -> None:
    """A boundary that does not parse on its own must not change the result."""
    recs = sp.generate_records(200, seed=2)
    body = b"".join(sx.record_xml(r) for r in recs[:100])
    trap = b"<!-- " + b"<PubmedArticle> " * 20000 + b"-->\n"  # a long comment straddling the midpoint
    rest = b"".join(sx.record_xml(r) for r in recs[100:])
    path = tmp_path / "trap.xml"
    path.write_bytes(b'<?xml version="1.0"?>\n<PubmedArticleSet>\n' + body + trap + rest + b"</PubmedArticleSet>\n")
    out1, out2 = tmp_path / "a.csv", tmp_path / "b.csv"
    assert rio.write_records(path, out1, jobs=1, progress=False)[0] == 200
    assert rio.write_records(path, out2, jobs=2, progress=False)[0] == 200
    assert out1.read_bytes() == out2.read_bytes()


def test_parallel_malformed_reports_like_single(tmp_path: Path) -> None:
    out = tmp_path / "o.csv"
    with pytest.raises(InputError) as err:
        rio.write_records(FIX / "malformed.xml", out, jobs=2, progress=False)
    assert "malformed.xml" in str(err.value) and err.value.row is not None
    assert not out.exists()


def test_gzip_input_in_parallel_is_byte_identical(corpus: Path, tmp_path: Path) -> None:
    gz = tmp_path / "c.xml.gz"
    gz.write_bytes(gzip.compress(corpus.read_bytes()))
    one, many = tmp_path / "one.csv", tmp_path / "many.csv"
    assert rio.write_records(corpus, one, jobs=1, progress=False)[0] == 1500
    assert rio.write_records(gz, many, jobs=2, progress=False) == (1500, ["5", "6"])
    assert many.read_bytes() == one.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.xml.gz", "many.csv", "one.csv"]  # temp file gone


def test_truncated_gzip_in_parallel_reports_the_file(tmp_path: Path) -> None:
    gz = tmp_path / "cut.xml.gz"
    gz.write_bytes(gzip.compress((FIX / "dates.xml").read_bytes())[:-30])
    with pytest.raises(InputError) as err:
        rio.write_records(gz, tmp_path / "cut.csv", jobs=2, progress=False)
    assert str(gz) in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.xml.gz"]


def test_default_jobs_small_file_single_process(monkeypatch, tmp_path: Path) -> None:
    calls = []
    monkeypatch.setattr(rio, "_parallel_file", lambda *a, **k: calls.append(a) or (0, []))
    rio.write_records(FIX / "dates.xml", tmp_path / "d.csv", progress=False)
    assert calls == []  # far below PARALLEL_MIN_BYTES
    monkeypatch.setattr(rio, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(rio, "default_jobs", lambda: 2)
    rio.write_records(FIX / "dates.xml", tmp_path / "d.csv", progress=False)
    assert len(calls) == 1 and calls[0][3] == 2


def test_bad_jobs_and_suffix(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        rio.write_records(FIX / "dates.xml", tmp_path / "x.csv", jobs=0)
    with pytest.raises(InputError):
        rio.write_records(FIX / "dates.xml", tmp_path / "x.json")


@pytest.mark.parametrize("text", ['say "hi", then', "two\nlines", "cr\rhere", "a,b", "plain", ""])
@pytest.mark.parametrize("column", ["pmid", "title", "abstract", "doi", "authors"])
def test_csv_line_matches_csv_module(column: str, text: str) -> None:
    """Both branches of the fast line builder (with and without quotes/line breaks) give csv's bytes."""
    row = sp.generate_records(1, seed=3)[0].expected()
    row.update(year=None, retracted=True)
    row[column] = [text, "x, y"] if column == "authors" else text
    line = rio.csv_line(row)
    assert line == ",".join(rio.csv_field(c) for c in rio.csv_cells(row)) + "\n"
    if "\r" not in text:  # csv leaves a bare CR unquoted on some Pythons; csv_field always quotes it
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(rio.csv_cells(row))
        assert line == buf.getvalue()
