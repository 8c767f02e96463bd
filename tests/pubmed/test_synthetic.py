"""Tests for evidence_review.pubmed.synthetic: deterministic, well-formed, covering the edge cases it claims."""

from __future__ import annotations

import gzip
import io
from collections import Counter
from pathlib import Path

from lxml import etree

from evidence_review.pubmed import synthetic as sp
from evidence_review.pubmed import synthetic_xml as sx
from evidence_review.pubmed.schema import RECORD_COLUMNS

SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def test_same_arguments_same_records_and_bytes() -> None:
    a = sp.generate_records(300, seed=4)
    b = sp.generate_records(300, seed=4)
    assert a == b
    assert sx.corpus_xml(a) == sx.corpus_xml(b)
    assert sp.generate_records(300, seed=5) != a


def test_pmids_consecutive_from_start() -> None:
    recs = sp.generate_records(5, start_pmid=1000)
    assert [r.pmid for r in recs] == ["1000", "1001", "1002", "1003", "1004"]


def test_expected_has_record_columns_and_types() -> None:
    for rec in sp.generate_records(200, seed=1):
        exp = rec.expected()
        assert list(exp) == list(RECORD_COLUMNS)
        assert isinstance(exp["version"], int) and isinstance(exp["retracted"], bool)
        for col in ("authors", "publication_types", "mesh_terms", "keywords"):
            assert isinstance(exp[col], list)


def test_corpus_is_well_formed_pubmed_xml() -> None:
    recs = sp.generate_records(400, seed=2)
    root = etree.fromstring(sx.corpus_xml(recs, deleted=["9", "10"]), SAFE)
    assert root.tag == "PubmedArticleSet"
    arts = root.findall("PubmedArticle")
    assert [a.findtext("MedlineCitation/PMID") for a in arts] == [r.pmid for r in recs]
    assert [p.text for p in root.find("DeleteCitation")] == ["9", "10"]
    # one record on its own is a well-formed element too
    one = etree.fromstring(sx.record_xml(recs[0]), SAFE)
    assert one.tag == "PubmedArticle"


def test_corpus_covers_edge_cases() -> None:
    recs = sp.generate_records(3000, seed=0)
    xml = sx.corpus_xml(recs).decode("utf-8")
    for needle in ("<MedlineDate>", "<Season>", "Spring", 'NlmCategory="', "<CopyrightInformation>",
                   "<i>", "<sup>", "<b><i>", "&amp;", "&lt;", "<CollectiveName>", 'EIdType="pii"',
                   'ValidYN="N"', 'IdType="pmc"', "<ReferenceList>", "Retracted Publication",
                   'RefType="RetractionIn"', 'RefType="RetractionOf"', 'PubStatus="entrez"',
                   'Version="2"', 'MajorTopicYN="Y"', "<KeywordList", "Ødegaard", "Nguyễn"):
        assert needle in xml, needle
    exp = [r.expected() for r in recs]
    assert Counter(e["retracted"] for e in exp)[True] > 30
    assert sum(e["journal"] == r.iso_abbrev for e, r in zip(exp, recs)) > 10  # ISO fallback used
    assert sum(e["entrez_date"] != "" and not any(s == "entrez" for s, *_ in r.history)
               for e, r in zip(exp, recs)) > 10  # pubmed-date fallback used


def test_expected_title_is_markup_free_text() -> None:
    for rec in sp.generate_records(500, seed=6):
        assert "<i>" not in rec.title and "&amp;" not in rec.title
        rendered = etree.fromstring(sx.record_xml(rec), SAFE).find("MedlineCitation/Article/ArticleTitle")
        assert "".join(rendered.itertext()) == rec.title


def test_revise_changes_title_and_revision_date() -> None:
    rec = sp.generate_records(1, seed=0)[0]
    new = sp.revise(rec, title="A corrected title", date_revised=(2026, 1, 2), version=2)
    assert new.expected()["title"] == "A corrected title" and new.expected()["version"] == 2
    assert b"<DateRevised><Year>2026</Year><Month>01</Month><Day>02</Day>" in sx.record_xml(new)
    assert new.pmid == rec.pmid and rec.title != new.title


def test_write_xml_path_gz_and_fileobj(tmp_path: Path) -> None:
    recs = sp.generate_records(50, seed=8)
    plain, gz = tmp_path / "a.xml", tmp_path / "a.xml.gz"
    sx.write_xml(recs, plain)
    sx.write_xml(recs, gz)
    buf = io.BytesIO()
    sx.write_xml(recs, buf)
    assert plain.read_bytes() == buf.getvalue() == gzip.decompress(gz.read_bytes())
    first = gz.read_bytes()
    sx.write_xml(recs, gz)
    assert gz.read_bytes() == first  # no timestamp in the gzip header
