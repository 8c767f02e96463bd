"""Synthetic PubMed XML rendering: the efetch output of :mod:`evidence_review.pubmed.synthetic` records.

- ``record_xml(rec) -> bytes``: one ``<PubmedArticle>`` element.
- ``corpus_xml(records, deleted=()) -> bytes`` / ``write_xml(records, dest, deleted=())``: a whole
  ``<PubmedArticleSet>`` (efetch output; with ``deleted`` PMIDs a ``<DeleteCitation>`` as in update files).
- ``escape(text)``: XML text escaping as the renderer does it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO, Iterable, Sequence

from evidence_review.pubmed.synthetic import (
    DOCTYPE,
    Author,
    PubDate,
    Segment,
    SyntheticRecord,
)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _esc_attr(text: str) -> str:
    return escape(text).replace('"', "&quot;")


def _segments_xml(segments: Sequence[Segment]) -> str:
    out = []
    for text, tag in segments:
        if tag is None:
            out.append(escape(text))
        else:
            tags = tag.split("/")
            out.append("".join(f"<{t}>" for t in tags) + escape(text) + "".join(f"</{t}>" for t in reversed(tags)))
    return "".join(out)


def _date_xml(name: str, y: int | str, m: int | str, d: int | str, attrs: str = "") -> str:
    return f"<{name}{attrs}><Year>{y}</Year><Month>{m}</Month><Day>{d}</Day></{name}>"


def _pub_date_xml(p: PubDate) -> str:
    if p.medline:
        return f"<PubDate><MedlineDate>{p.medline}</MedlineDate></PubDate>"
    parts = [f"<Year>{p.year}</Year>"]
    if p.month:
        parts.append(f"<Month>{p.month}</Month>")
    if p.day:
        parts.append(f"<Day>{p.day:02d}</Day>")
    if p.season:
        parts.append(f"<Season>{p.season}</Season>")
    return "<PubDate>" + "".join(parts) + "</PubDate>"


def _author_xml(a: Author) -> str:
    if a.collective:
        return f'<Author ValidYN="Y"><CollectiveName>{escape(a.collective)}</CollectiveName></Author>'
    inner = f"<LastName>{escape(a.last)}</LastName>"
    if a.fore:
        inner += f"<ForeName>{escape(a.fore)}</ForeName>"
    if a.initials:
        inner += f"<Initials>{escape(a.initials)}</Initials>"
    inner += "<AffiliationInfo><Affiliation>Department of Synthetic Medicine, Example University.</Affiliation></AffiliationInfo>"
    return f'<Author ValidYN="Y">{inner}</Author>'


def _record_str(r: SyntheticRecord) -> str:
    o: list[str] = []
    a = o.append
    a('<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM" IndexingMethod="Automated">')
    a(f'<PMID Version="{r.version}">{r.pmid}</PMID>')
    y, m, d = r.date_revised
    a(_date_xml("DateRevised", y, f"{m:02d}", f"{d:02d}"))
    a('<Article PubModel="Print-Electronic"><Journal><ISSN IssnType="Electronic">1234-5678</ISSN>')
    a('<JournalIssue CitedMedium="Internet"><Volume>12</Volume><Issue>3</Issue>')
    a(_pub_date_xml(r.pub_date))
    a("</JournalIssue>")
    if r.journal_title:
        a(f"<Title>{escape(r.journal_title)}</Title>")
    a(f"<ISOAbbreviation>{escape(r.iso_abbrev)}</ISOAbbreviation></Journal>")
    a(f"<ArticleTitle>{_segments_xml(r.title_segments)}</ArticleTitle>")
    a("<Pagination><StartPage>101</StartPage><EndPage>109</EndPage><MedlinePgn>101-109</MedlinePgn></Pagination>")
    for etype, valid, value in r.elocations:
        a(f'<ELocationID EIdType="{etype}" ValidYN="{valid}">{escape(value)}</ELocationID>')
    if r.abstract_sections or r.copyright:
        a("<Abstract>")
        for sec in r.abstract_sections:
            attrs = ""
            if sec.label:
                attrs += f' Label="{_esc_attr(sec.label)}"'
            if sec.category:
                attrs += f' NlmCategory="{sec.category}"'
            a(f"<AbstractText{attrs}>{_segments_xml(sec.segments)}</AbstractText>")
        if r.copyright:
            a(f"<CopyrightInformation>{escape(r.copyright)}</CopyrightInformation>")
        a("</Abstract>")
    if r.authors:
        a('<AuthorList CompleteYN="Y">')
        a("".join(_author_xml(x) for x in r.authors))
        a("</AuthorList>")
    for lang in r.languages:
        a(f"<Language>{lang}</Language>")
    if r.publication_types:
        a("<PublicationTypeList>")
        a("".join(f'<PublicationType UI="D0{i:05d}">{escape(t)}</PublicationType>'
                  for i, t in enumerate(r.publication_types)))
        a("</PublicationTypeList>")
    else:
        a("<PublicationTypeList></PublicationTypeList>")
    a("</Article>")
    a("<MedlineJournalInfo><Country>England</Country><MedlineTA>Synth J</MedlineTA>"
      "<NlmUniqueID>0000001</NlmUniqueID><ISSNLinking>1234-5678</ISSNLinking></MedlineJournalInfo>")
    a("<CitationSubset>IM</CitationSubset>")
    if r.comments:
        a("<CommentsCorrectionsList>")
        for reftype, src, other in r.comments:
            a(f'<CommentsCorrections RefType="{reftype}"><RefSource>{escape(src)}</RefSource>'
              f'<PMID Version="1">{other}</PMID></CommentsCorrections>')
        a("</CommentsCorrectionsList>")
    if r.mesh:
        a("<MeshHeadingList>")
        for h in r.mesh:
            yn = "Y" if h.major else "N"
            q = "".join(f'<QualifierName UI="Q000{i}" MajorTopicYN="{"Y" if qm else "N"}">{escape(qn)}</QualifierName>'
                        for i, (qn, qm) in enumerate(h.qualifiers))
            a(f'<MeshHeading><DescriptorName UI="D000001" MajorTopicYN="{yn}">{escape(h.descriptor)}</DescriptorName>{q}</MeshHeading>')
        a("</MeshHeadingList>")
    if r.keywords:
        a('<KeywordList Owner="NOTNLM">')
        a("".join(f'<Keyword MajorTopicYN="N">{escape(k)}</Keyword>' for k in r.keywords))
        a("</KeywordList>")
    a("</MedlineCitation><PubmedData><History>")
    for status, hy, hm, hd in r.history:
        a(f'<PubMedPubDate PubStatus="{status}"><Year>{hy}</Year><Month>{hm}</Month><Day>{hd}</Day>'
          + ("<Hour>6</Hour><Minute>0</Minute>" if status == "medline" else "") + "</PubMedPubDate>")
    a("</History><PublicationStatus>ppublish</PublicationStatus><ArticleIdList>")
    a("".join(f'<ArticleId IdType="{k}">{escape(v)}</ArticleId>' for k, v in r.article_ids))
    a("</ArticleIdList>")
    if r.reference_ids:
        a("<ReferenceList><Reference><Citation>Synthetic reference citation.</Citation><ArticleIdList>")
        a("".join(f'<ArticleId IdType="{k}">{escape(v)}</ArticleId>' for k, v in r.reference_ids))
        a("</ArticleIdList></Reference></ReferenceList>")
    a("</PubmedData></PubmedArticle>\n")
    return "".join(o)


def record_xml(rec: SyntheticRecord) -> bytes:
    """One ``<PubmedArticle>`` element as UTF-8 bytes (no XML declaration)."""
    return _record_str(rec).encode("utf-8")


def _delete_xml(deleted: Iterable[str]) -> str:
    pmids = "".join(f'<PMID Version="1">{p}</PMID>' for p in deleted)
    return f"<DeleteCitation>{pmids}</DeleteCitation>\n" if pmids else ""


def corpus_xml(records: Iterable[SyntheticRecord], deleted: Iterable[str] = ()) -> bytes:
    """A whole ``<PubmedArticleSet>`` document (efetch output; an update file when ``deleted`` is given)."""
    buf = io.BytesIO()
    write_xml(records, buf, deleted=deleted)
    return buf.getvalue()


def write_xml(
    records: Iterable[SyntheticRecord], dest: str | Path | BinaryIO, deleted: Iterable[str] = ()
) -> None:
    """Write a ``<PubmedArticleSet>`` to a path (``.gz`` compressed) or a binary file object."""
    if isinstance(dest, (str, Path)):
        path = Path(dest)
        from evidence_review.atomic import atomic_path

        with atomic_path(path) as tmp:
            if path.suffix == ".gz":
                import gzip

                with open(tmp, "wb") as raw, gzip.GzipFile(
                    filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0
                ) as fh:  # mtime=0: same records, same bytes
                    _write(records, fh, deleted)
            else:
                with open(tmp, "wb") as fh:
                    _write(records, fh, deleted)
        return
    _write(records, dest, deleted)


def _write(records: Iterable[SyntheticRecord], fh: BinaryIO, deleted: Iterable[str]) -> None:
    fh.write(b'<?xml version="1.0" ?>\n' + DOCTYPE.encode() + b"\n<PubmedArticleSet>\n")
    chunk: list[str] = []
    for rec in records:
        chunk.append(_record_str(rec))
        if len(chunk) >= 500:
            fh.write("".join(chunk).encode("utf-8"))
            chunk.clear()
    if chunk:
        fh.write("".join(chunk).encode("utf-8"))
    fh.write(_delete_xml(deleted).encode("utf-8"))
    fh.write(b"</PubmedArticleSet>\n")
