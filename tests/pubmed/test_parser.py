"""Tests for evidence_review.pubmed.parser: field functions, edge-case fixtures, safety, streaming, CLI."""

from __future__ import annotations

import gc
import gzip
import io
import os
import socket
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from evidence_review.cli import main
from evidence_review.errors import InputError
from evidence_review.pubmed import parser as px
from evidence_review.pubmed import synthetic as sp
from evidence_review.pubmed import synthetic_xml as sx
from evidence_review.pubmed.schema import RECORD_COLUMNS
from evidence_review.tables import to_csv_text

FIX = Path(__file__).parents[1] / "fixtures" / "pubmed"


def by_pmid(name: str) -> dict[str, dict]:
    return {r["pmid"]: r for r in px.iter_records(FIX / name) if not r.get("deleted")}


def frag(xml: str) -> etree._Element:
    return etree.fromstring(xml)


# ------------------------------------------------------------------------------------------------
# One function per field, each on a fragment
# ------------------------------------------------------------------------------------------------
def test_text_of_flattens_markup_and_keeps_tail_text() -> None:
    el = frag("<ArticleTitle>Ca<sup>2+</sup> in <i>vivo</i> and <b><i>deep</i> nest</b> end</ArticleTitle>")
    assert px.text_of(el) == "Ca2+ in vivo and deep nest end"
    assert px.text_of(frag("<T>  spaced\n   out  </T>")) == "spaced out"
    assert px.text_of(None) == ""


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2011 Jan-Feb", (2011, "2011-01")),
        ("1998 Spring", (1998, "1998")),
        ("2000-2001", (2000, "2000")),
        ("1999 Dec-2000 Jan", (1999, "1999-12")),
        ("Winter 1976-1977", (1976, "1976")),
        ("2014 Nov 3-10", (2014, "2014-11")),
        ("undated", (None, "")),
    ],
)
def test_parse_medline_date(text: str, expected: tuple) -> None:
    assert px.parse_medline_date(text) == expected


def test_pub_date_shapes() -> None:
    assert px.pub_date(frag("<PubDate><Year>2021</Year><Month>Sep</Month><Day>3</Day></PubDate>")) == (2021, "2021-09-03")
    assert px.pub_date(frag("<PubDate><Year>2019</Year><Month>06</Month></PubDate>")) == (2019, "2019-06")
    assert px.pub_date(frag("<PubDate><Year>2005</Year><Season>Winter</Season></PubDate>")) == (2005, "2005")
    assert px.pub_date(frag("<PubDate><MedlineDate>2011 Jan-Feb</MedlineDate></PubDate>")) == (2011, "2011-01")
    assert px.pub_date(None) == (None, "")


def test_month_number() -> None:
    assert [px.month_number(m) for m in ("Jan", "january", "01", "12", "13", "Spring", None)] == [
        1, 1, 1, 12, None, None, None]


def test_abstract_keeps_labels_and_drops_copyright() -> None:
    el = frag('<Abstract><AbstractText Label="AIMS" NlmCategory="OBJECTIVE">A <i>b</i> c.</AbstractText>'
              '<AbstractText Label="RESULTS">D.</AbstractText>'
              "<CopyrightInformation>Not me.</CopyrightInformation></Abstract>")
    assert px.abstract(el) == "AIMS: A b c. RESULTS: D."
    assert px.abstract(None) == ""


def test_authors_collective_unicode_and_missing_initials() -> None:
    el = frag("<AuthorList>"
              "<Author><LastName>Ødegård</LastName><ForeName>Siri Å</ForeName><Initials>SÅ</Initials></Author>"
              "<Author><CollectiveName>Group <i>X</i></CollectiveName></Author>"
              "<Author><LastName>Tanaka</LastName><ForeName>Ken-Ichi</ForeName></Author>"
              "<Author><LastName>Alone</LastName></Author></AuthorList>")
    assert px.authors(el) == ["Ødegård SÅ", "Group X", "Tanaka KI", "Alone"]
    assert px.author_name(frag("<Author><LastName>Kim</LastName><Initials>J</Initials></Author>")) == "Kim J"
    assert px.authors(None) == []


def test_mesh_terms_major_on_descriptor_or_qualifier() -> None:
    el = frag('<MeshHeadingList>'
              '<MeshHeading><DescriptorName MajorTopicYN="N">Humans</DescriptorName></MeshHeading>'
              '<MeshHeading><DescriptorName MajorTopicYN="N">Anxiety</DescriptorName>'
              '<QualifierName MajorTopicYN="N">therapy</QualifierName>'
              '<QualifierName MajorTopicYN="Y">psychology</QualifierName></MeshHeading>'
              '<MeshHeading><DescriptorName MajorTopicYN="Y">Ketamine</DescriptorName>'
              '<QualifierName MajorTopicYN="Y">adverse effects</QualifierName></MeshHeading>'
              '</MeshHeadingList>')
    assert px.mesh_terms(el) == ["Humans", "Anxiety*", "Ketamine*"]


def test_doi_prefers_first_valid_elocation_then_article_ids() -> None:
    elocs = [frag('<ELocationID EIdType="pii" ValidYN="Y">S1</ELocationID>'),
             frag('<ELocationID EIdType="doi" ValidYN="N">10.1/bad</ELocationID>'),
             frag('<ELocationID EIdType="doi" ValidYN="Y">10.1/good</ELocationID>'),
             frag('<ELocationID EIdType="pii" ValidYN="Y">e12</ELocationID>')]
    assert px.doi(elocs, {"doi": "10.1/other"}) == "10.1/good"
    assert px.doi(elocs[:2], {"doi": "10.1/other"}) == "10.1/other"
    assert px.doi([], {}) == ""


def test_article_ids_and_pmcid() -> None:
    ids = px.article_ids(frag('<ArticleIdList><ArticleId IdType="pubmed">1</ArticleId>'
                              '<ArticleId IdType="pmc">PMC42</ArticleId></ArticleIdList>'))
    assert ids == {"pubmed": "1", "pmc": "PMC42"}
    assert px.pmcid(ids) == "PMC42"


def test_publication_types_in_order() -> None:
    ptl = frag('<PublicationTypeList><PublicationType UI="D1">Journal Article</PublicationType>'
               '<PublicationType UI="D2">Review</PublicationType></PublicationTypeList>')
    assert px.publication_types(ptl) == ["Journal Article", "Review"]
    assert px.publication_types([]) == []


def test_retracted_flag() -> None:
    comments = frag('<CommentsCorrectionsList><CommentsCorrections RefType="RetractionIn"/></CommentsCorrectionsList>')
    notice = frag('<CommentsCorrectionsList><CommentsCorrections RefType="RetractionOf"/></CommentsCorrectionsList>')
    assert px.retracted(["Retracted Publication"], None)
    assert px.retracted(["Journal Article"], comments)
    assert not px.retracted(["Retraction of Publication"], notice)
    assert not px.retracted([], None)


def test_entrez_date_prefers_entrez_then_pubmed() -> None:
    hist = frag('<History><PubMedPubDate PubStatus="pubmed"><Year>2020</Year><Month>1</Month><Day>2</Day></PubMedPubDate>'
                '<PubMedPubDate PubStatus="entrez"><Year>2020</Year><Month>1</Month><Day>1</Day></PubMedPubDate></History>')
    assert px.entrez_date(hist) == "2020-01-01"
    hist2 = frag('<History><PubMedPubDate PubStatus="pubmed"><Year>2020</Year><Month>12</Month><Day>9</Day></PubMedPubDate></History>')
    assert px.entrez_date(hist2) == "2020-12-09"
    assert px.entrez_date(None) == ""


# ------------------------------------------------------------------------------------------------
# Hand-written fixtures: whole records
# ------------------------------------------------------------------------------------------------
def test_full_record_every_field() -> None:
    rows = list(px.iter_records(FIX / "full_record.xml"))
    assert rows == [{
        "pmid": "39000001",
        "version": 2,
        "title": "A made-up crossover trial of zorvamine in adults with compulsive checking.",
        "abstract": "BACKGROUND: Fictional drugs are easy to test. METHODS: Twelve imaginary adults received "
                    "two infusions one week apart. RESULTS: Scores fell by 4 points (p < 0.05).",
        "journal": "Journal of Invented Psychiatry",
        "year": 2024,
        "pub_date": "2024-02-07",
        "authors": ["Ødegård SÅ", "Nguyễn VA", "Invented Trials Consortium"],
        "publication_types": ["Journal Article", "Randomized Controlled Trial"],
        "mesh_terms": ["Humans", "Obsessive-Compulsive Disorder*", "Ketamine*"],
        "keywords": ["checking", "NMDA antagonist"],
        "doi": "10.5555/invented.2024.001",
        "pmcid": "PMC1234567",
        "language": "eng",
        "retracted": False,
        "entrez_date": "2024-01-02",
    }]
    assert list(rows[0]) == list(RECORD_COLUMNS)


def test_dates_fixture() -> None:
    got = {p: (r["year"], r["pub_date"]) for p, r in by_pmid("dates.xml").items()}
    assert got == {
        "101": (2011, "2011-01"), "102": (1998, "1998"), "103": (2000, "2000"), "104": (1999, "1999-12"),
        "105": (2005, "2005"), "106": (2019, "2019-06"), "107": (2021, "2021-09-03"), "108": (1987, "1987"),
        "109": (1976, "1976"),
    }
    assert by_pmid("dates.xml")["109"]["entrez_date"] == "1977-01-31"  # no entrez date: the pubmed one


def test_abstracts_fixture() -> None:
    got = {p: r["abstract"] for p, r in by_pmid("abstracts.xml").items()}
    assert got == {
        "201": "AIMS: To see whether labels survive. DESIGN, SETTING, AND PARTICIPANTS: A pretend clinic. "
               "CONCLUSIONS: They do.",
        "202": "One paragraph of invented text, wrapped over lines.",
        "203": "First part. Second part.",
        "204": "",
        "205": "RESULTS: Values rose by 103-fold in vitro.",
    }


def test_markup_fixture() -> None:
    got = {p: r["title"] for p, r in by_pmid("markup.xml").items()}
    assert got["301"] == "Serum Ca2+ and H2O balance after in vivo dosing: a nested test of tails."
    assert got["302"] == "Risk & benefit at doses <5 mg/kg \u2013 and \u03b2-blockers."
    assert got["303"] == "A title in CDATA with <angle> text"
    assert got["304"] == "[Übersetzter Titel über Ängste]."
    assert by_pmid("markup.xml")["304"]["language"] == "ger"  # the first Language


def test_authors_fixture_skips_investigators() -> None:
    recs = by_pmid("authors.xml")
    assert recs["401"]["authors"] == ["Żółkiewska Ł", "García-Pérez JM", "Pretend Study Group", "Tanaka KI",
                                      "Lonely", "O'Neill S"]
    assert recs["402"]["authors"] == []


def test_ids_fixture() -> None:
    recs = by_pmid("ids.xml")
    assert {p: (r["doi"], r["pmcid"]) for p, r in recs.items()} == {
        "501": ("10.5555/first.valid", ""),
        "502": ("10.5555/second.valid", ""),
        "503": ("10.5555/from.article.ids", "PMC5030000"),
        "504": ("", ""),  # the ReferenceList ids belong to a cited paper
    }
    assert recs["504"]["pmid"] == "504"  # not the PMID inside CommentsCorrections


def test_retraction_fixture() -> None:
    assert {p: r["retracted"] for p, r in by_pmid("retraction.xml").items()} == {
        "601": True, "602": True, "603": False, "604": False}


def test_update_file_with_delete_citation() -> None:
    rows = list(px.iter_records(FIX / "update_file.xml"))
    assert rows[1:] == [{"pmid": "802", "deleted": True}, {"pmid": "803", "deleted": True}]
    first = rows[0]
    assert first["journal"] == "Invent Rep"  # ISO abbreviation when Title is missing
    assert first["mesh_terms"] == ["Anxiety*", "Adult"]
    assert first["keywords"] == ["first list", "second list"]
    df = px.records_frame(FIX / "update_file.xml")
    assert list(df["pmid"]) == ["801"] and df.attrs["deleted"] == ["802", "803"]


def test_book_article_is_a_record() -> None:
    rows = list(px.iter_records(FIX / "book.xml"))
    assert [r["pmid"] for r in rows] == ["1101", "1102", "1103"]
    book = rows[1]
    assert book["title"] == "Zorvamine: a pretend chapter"
    assert book["journal"] == "Invented Handbook of Psychiatry"
    assert (book["year"], book["pub_date"]) == (2024, "2024-05")
    assert book["authors"] == ["Writer W"]  # the editors' list is not the authors
    assert book["publication_types"] == ["Study Guide"]
    assert book["abstract"] == "CONTINUING EDUCATION ACTIVITY: Made-up text."
    assert (book["language"], book["entrez_date"]) == ("eng", "2024-06-01")


def test_article_without_citation_is_an_input_error() -> None:
    with pytest.raises(InputError, match="without MedlineCitation"):
        list(px.iter_records(b"<PubmedArticleSet><PubmedArticle><PubmedData/></PubmedArticle></PubmedArticleSet>"))


# ------------------------------------------------------------------------------------------------
# Safety: no external entities, no DTD, no network
# ------------------------------------------------------------------------------------------------
def test_external_entities_are_not_resolved() -> None:
    secret = (FIX / "xxe_secret.txt").read_text().strip()
    host = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else None
    for source in (FIX / "xxe.xml", (FIX / "xxe.xml").read_bytes()):
        (row,) = list(px.iter_records(source))
        text = row["title"] + row["abstract"]
        assert secret not in text
        if host:
            assert host not in text
        assert row["title"].startswith("Leak:") and row["title"].endswith("end")


def test_absolute_file_entity_not_resolved(tmp_path: Path) -> None:
    canary = tmp_path / "canary.txt"
    canary.write_text("CANARY-77e1")
    xml = (f'<?xml version="1.0"?><!DOCTYPE PubmedArticleSet [<!ENTITY c SYSTEM "{canary.as_uri()}">]>'
           '<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID Version="1">1</PMID><Article>'
           "<ArticleTitle>x &c; y</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>")
    (row,) = list(px.iter_records(xml.encode()))
    assert "CANARY-77e1" not in row["title"]


def test_no_network_for_dtd_or_entities() -> None:
    """A DOCTYPE and parameter entity pointing at a loopback listener: the parser must never connect."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    srv.settimeout(0.2)
    port = srv.getsockname()[1]
    try:
        xml = (f'<?xml version="1.0"?><!DOCTYPE PubmedArticleSet SYSTEM "http://127.0.0.1:{port}/evil.dtd" ['
               f'<!ENTITY % ext SYSTEM "http://127.0.0.1:{port}/p.ent"> %ext;'
               f'<!ENTITY web SYSTEM "http://127.0.0.1:{port}/e.txt">]>'
               '<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID Version="1">7</PMID><Article>'
               "<ArticleTitle>t &web;</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>")
        rows = list(px.iter_records(xml.encode()))
        assert rows[0]["pmid"] == "7"
        with pytest.raises(socket.timeout):
            conn, _ = srv.accept()
            conn.close()
    finally:
        srv.close()


# ------------------------------------------------------------------------------------------------
# Sources, errors, streaming
# ------------------------------------------------------------------------------------------------
def test_sources_path_gz_bytes_and_file_objects(tmp_path: Path) -> None:
    raw = (FIX / "full_record.xml").read_bytes()
    gz = tmp_path / "full.xml.gz"
    gz.write_bytes(gzip.compress(raw))
    expected = list(px.iter_records(FIX / "full_record.xml"))
    assert list(px.iter_records(str(FIX / "full_record.xml"))) == expected
    assert list(px.iter_records(gz)) == expected
    assert list(px.iter_records(raw)) == expected
    assert list(px.iter_records(gzip.compress(raw))) == expected
    assert list(px.iter_records(io.BytesIO(raw))) == expected
    with open(gz, "rb") as fh:
        assert list(px.iter_records(fh)) == expected
        assert not fh.closed  # the caller's file stays the caller's


def test_malformed_xml_names_the_file() -> None:
    with pytest.raises(InputError) as err:
        list(px.iter_records(FIX / "malformed.xml"))
    assert err.value.file == str(FIX / "malformed.xml")
    assert "malformed XML" in str(err.value) and "malformed.xml" in str(err.value)
    assert err.value.row is not None


def test_truncated_gzip_is_an_input_error(tmp_path: Path) -> None:
    gz = tmp_path / "cut.xml.gz"
    gz.write_bytes(gzip.compress((FIX / "full_record.xml").read_bytes())[:-40])
    with pytest.raises(InputError) as err:
        list(px.iter_records(gz))
    assert str(gz) in str(err.value)


def test_not_pubmed_xml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not PubMed XML"):
        list(px.iter_records(FIX / "not_pubmed.xml"))
    with pytest.raises(InputError, match="cannot open"):
        list(px.iter_records(tmp_path / "nope.xml"))


def test_empty_result_set_is_fine() -> None:
    assert list(px.iter_records(b'<?xml version="1.0"?><PubmedArticleSet></PubmedArticleSet>')) == []
    assert len(px.records_frame(b"<PubmedArticleSet/>")) == 0


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_memory_stays_flat_while_streaming() -> None:
    """Resident memory hardly grows while 5,000 records (22 MB of XML) stream past.

    Measured as RSS because libxml2's tree lives outside the Python heap; without the clearing of
    finished elements this grows by about 150 MB.
    """
    data = sx.corpus_xml(sp.generate_records(5000, seed=3))
    gc.collect()
    base = top = _rss_bytes()
    for i, _ in enumerate(px.iter_records(data)):
        if i % 200 == 0:
            top = max(top, _rss_bytes())
    assert top - base < 40e6, f"RSS grew by {(top - base) / 1e6:.0f} MB"


# ------------------------------------------------------------------------------------------------
# The generator's corpus: every field right on 20,000 records
# ------------------------------------------------------------------------------------------------
def test_round_trip_20000_generated_records(tmp_path: Path) -> None:
    records = sp.generate_records(20_000, seed=11)
    deleted = ["12345", "67890"]
    path = tmp_path / "corpus.xml.gz"
    sx.write_xml(records, path, deleted=deleted)
    expected = iter(records)
    n = 0
    seen_deleted = []
    for row in px.iter_records(path):
        if row.get("deleted"):
            seen_deleted.append(row["pmid"])
            continue
        want = next(expected).expected()
        assert row == want, {k: (row[k], want[k]) for k in want if row[k] != want[k]}
        n += 1
    assert n == 20_000 and seen_deleted == deleted
    # the corpus really exercises the edge cases it claims to
    exp = [r.expected() for r in records]
    assert sum(e["retracted"] for e in exp) > 100
    assert sum(e["pub_date"].count("-") == 0 for e in exp) > 1000
    assert sum(": " in e["abstract"] for e in exp) > 5000
    assert sum(e["pmcid"] != "" for e in exp) > 4000


# ------------------------------------------------------------------------------------------------
# records_frame and the parse command
# ------------------------------------------------------------------------------------------------
def test_records_frame_types() -> None:
    df = px.records_frame(FIX / "dates.xml")
    assert list(df.columns) == list(RECORD_COLUMNS)
    assert str(df["year"].dtype) == "Int64" and df["retracted"].dtype == bool
    assert df.loc[0, "authors"] == []


def test_cli_parse_csv_matches_frame_and_reports_deletions(tmp_path: Path, capsys) -> None:
    src = tmp_path / "mixed.xml"
    recs = sp.generate_records(300, seed=5)
    sx.write_xml(recs, src, deleted=["111", "222"])
    out, dele = tmp_path / "out.csv", tmp_path / "deleted.txt"
    assert main(["parse", str(src), "--out", str(out), "--deleted-out", str(dele)]) == 0
    err = capsys.readouterr().err
    assert "parsed 300 records" in err and "111, 222" in err
    assert dele.read_text() == "111\n222\n"
    text = out.read_text(encoding="utf-8")
    assert text == to_csv_text(px.records_frame(src).assign(
        **{c: lambda d, c=c: d[c].map("; ".join) for c in ("authors", "publication_types", "mesh_terms", "keywords")}))
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(back["pmid"]) == [r.pmid for r in recs]
    assert list(back["authors"]) == ["; ".join(r.expected()["authors"]) for r in recs]
    # same input, same bytes
    out2 = tmp_path / "out2.csv"
    assert main(["parse", str(src), "--out", str(out2)]) == 0
    assert out2.read_bytes() == out.read_bytes()


def test_cli_parse_parquet_keeps_lists(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    assert main(["parse", str(FIX / "full_record.xml"), "--out", str(out)]) == 0
    df = pd.read_parquet(out)
    assert list(df.loc[0, "authors"]) == ["Ødegård SÅ", "Nguyễn VA", "Invented Trials Consortium"]


def test_cli_parse_gz(tmp_path: Path) -> None:
    gz = tmp_path / "a.xml.gz"
    gz.write_bytes(gzip.compress((FIX / "retraction.xml").read_bytes()))
    out = tmp_path / "a.csv"
    assert main(["parse", str(gz), "--out", str(out)]) == 0
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(back["retracted"]) == ["True", "True", "False", "False"]


def test_cli_parse_malformed_exits_2_naming_file(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bad.csv"
    assert main(["parse", str(FIX / "malformed.xml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "malformed.xml" in err and "malformed XML" in err
    assert not out.exists()  # atomic: no half-written table
    assert not list(tmp_path.iterdir())


def test_cli_parse_bad_usage(tmp_path: Path, capsys) -> None:
    assert main(["parse", str(tmp_path / "missing.xml"), "--out", str(tmp_path / "o.csv")]) == 2
    assert "missing.xml" in capsys.readouterr().err
    assert main(["parse", str(FIX / "full_record.xml"), "--out", str(tmp_path / "o.txt")]) == 2
    assert main(["parse", str(FIX / "full_record.xml")]) == 2  # --out is required
