"""Streaming PubMed XML parser: efetch output and baseline/update files -> records-table rows.

Why our own parser: ``Bio.Entrez.parse`` refuses modern ``PubmedArticleSet`` files and ``Entrez.read``
builds the whole file in memory; ``pubmed_parser`` reads only gzip files and keeps the last ELocationID
as DOI. Here each ``<PubmedArticle>`` is read with ``lxml.etree.iterparse`` and then cleared together with
its preceding siblings, so memory stays flat however large the file. External entities, DTDs and the
network are never touched (``resolve_entities=False, no_network=True, load_dtd=False``).

- ``iter_records(source)``: one dict per record with ``schema.RECORD_COLUMNS`` keys (lists for
  multi-valued fields); ``{"pmid": ..., "deleted": True}`` for each PMID in a ``<DeleteCitation>``.
- ``records_frame(source)``: the same rows as a DataFrame (deleted PMIDs in ``df.attrs["deleted"]``).
- One small function per field (``title``, ``abstract``, ``pub_date`` …), each taking the element it
  reads, so each can be tested alone. ``source`` is a path (``.gz`` or not), ``bytes`` or a binary file.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from pathlib import Path
from typing import IO, TYPE_CHECKING, Iterable, Iterator, Union

from lxml import etree

from evidence_review.errors import InputError
from evidence_review.pubmed.schema import RECORD_COLUMNS

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

Source = Union[str, Path, bytes, IO[bytes]]
Element = etree._Element

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_MONTH_TEXT = {**{m.capitalize(): i for m, i in _MONTHS.items()}, **{f"{i:02d}": i for i in range(1, 13)},
               **{str(i): i for i in range(1, 13)}}
_YEAR_RE = re.compile(r"(1[89]\d\d|20\d\d)")
_MEDLINE_DATE_RE = re.compile(r"^\s*(\d{4})(?:\s+([A-Za-z]{3}))?")
_RECORD_TAGS = ("PubmedArticle", "DeleteCitation", "PubmedBookArticle")
_EXPECTED_ROOTS = {"PubmedArticleSet", "PubmedArticle", "DeleteCitation"}


# ------------------------------------------------------------------------------------------------
# Text helpers
# ------------------------------------------------------------------------------------------------
def text_of(el: Element | None) -> str:
    """All text inside ``el`` with inline markup (``<i>``, ``<sup>`` …) flattened, whitespace collapsed.

    ``itertext`` keeps the tail text after each nested tag ("Ca<sup>2+</sup> levels" -> "Ca2+ levels").
    """
    if el is None:
        return ""
    if len(el) == 0:
        t = el.text
        if not t:
            return ""
        if "  " in t or "\n" in t or "\t" in t or t[0] == " " or t[-1] == " ":
            return " ".join(t.split())
        return t
    return " ".join("".join(el.itertext()).split())


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def month_number(text: str | None) -> int | None:
    """'Jan', 'January', '01' or '1' -> 1; anything else -> None."""
    if not text:
        return None
    m = _MONTH_TEXT.get(text)  # the usual spellings ('Oct', '04', '4') without stripping or parsing
    if m is not None:
        return m
    text = text.strip()
    if text.isdigit():
        m = int(text)
        return m if 1 <= m <= 12 else None
    return _MONTHS.get(text[:3].lower())


# ------------------------------------------------------------------------------------------------
# One function per field. Each takes the element it reads (found by ``record`` in one tag-filtered
# pass over the record), so each can be tested on a fragment. The hot path avoids ``find``/XPath:
# ``el.iter(tags)`` walks a subtree in C and hands Python only the elements it asks for. Each tag-filtered
# iterator costs ~1 us to set up (more per tag), so the few children of a small parent (a date, the
# History, an ArticleIdList) are read with plain ``for child in el`` and a tag test instead.
# ------------------------------------------------------------------------------------------------
def pmid_and_version(pmid_el: Element | None) -> tuple[str, int]:
    """The record's own PMID and its Version attribute (default 1)."""
    if pmid_el is None:
        return "", 1
    return (pmid_el.text or "").strip(), _int(pmid_el.get("Version")) or 1


def title(article_title: Element | None) -> str:
    """ArticleTitle with inline markup flattened."""
    return text_of(article_title)


def abstract(abstract_el: Element | None) -> str:
    """Abstract text; structured sections keep their labels ("BACKGROUND: … METHODS: …").

    CopyrightInformation inside <Abstract> is not abstract text and is left out.
    """
    if abstract_el is None:
        return ""
    parts = []
    for sec in abstract_el:
        if sec.tag != "AbstractText":
            continue
        body = text_of(sec)
        label = sec.get("Label")
        if label:
            parts.append(f"{label}: {body}")
        elif body:
            parts.append(body)
    return " ".join(parts)


def journal(journal_el: Element | None) -> str:
    """Journal title, or its ISO abbreviation when the title is missing (a book: its BookTitle)."""
    if journal_el is None:
        return ""
    if journal_el.tag == "BookTitle":
        return text_of(journal_el)
    title_el = iso_el = None
    for c in journal_el:
        tag = c.tag
        if tag == "Title":
            title_el = c
        elif tag == "ISOAbbreviation":
            iso_el = c
    return text_of(title_el) or text_of(iso_el)  # the abbreviation is read only when needed


def parse_medline_date(text: str) -> tuple[int | None, str]:
    """MedlineDate -> (year, pub_date): '2011 Jan-Feb' -> (2011, '2011-01'); '1998 Spring' -> (1998, '1998');
    '2000-2001' -> (2000, '2000'); '1999 Dec-2000 Jan' -> (1999, '1999-12')."""
    m = _MEDLINE_DATE_RE.match(text)
    if m:
        year = int(m.group(1))
        month = _MONTHS.get(m.group(2).lower()) if m.group(2) else None
        return year, f"{year:04d}-{month:02d}" if month else f"{year:04d}"
    m2 = _YEAR_RE.search(text)  # e.g. "Winter 1999"
    if m2:
        return int(m2.group(1)), m2.group(1)
    return None, ""


def _ymd(date_el: Element) -> tuple[str | None, str | None, str | None, str | None]:
    """(Year, Month, Day, MedlineDate) texts of a date element."""
    y = m = d = md = None
    for c in date_el:  # plain iteration is cheaper than a tag-filtered iterator on 3-5 children
        tag = c.tag
        if tag == "Year":
            y = c.text
        elif tag == "Month":
            m = c.text
        elif tag == "Day":
            d = c.text
        elif tag == "MedlineDate":
            md = c.text
    return y, m, d, md


def _iso_date(y: str | None, m: str | None, d: str | None) -> tuple[int | None, str]:
    if not y:
        return None, ""
    try:
        year = int(y)  # int() ignores surrounding whitespace itself
    except ValueError:
        return None, ""
    month = month_number(m)
    if month is None:
        return year, f"{year:04d}"
    if d:
        try:
            return year, f"{year:04d}-{month:02d}-{int(d):02d}"
        except ValueError:
            pass
    return year, f"{year:04d}-{month:02d}"


def pub_date(pub_date_el: Element | None) -> tuple[int | None, str]:
    """(year, 'YYYY[-MM[-DD]]') from JournalIssue/PubDate, as precise as the source (seasons -> year)."""
    if pub_date_el is None:
        return None, ""
    y, m, d, medline = _ymd(pub_date_el)
    if medline is not None:
        return parse_medline_date(medline)
    return _iso_date(y, m, d)


def _author_string(last: str | None, initials: str | None, fore: str | None, collective: Element | None) -> str:
    if last is not None and initials is not None:
        return f"{last.strip()} {initials.strip()}".strip()
    if last is None:
        return text_of(collective)
    if initials is None:
        initials = "".join(p[0] for p in (fore or "").replace("-", " ").split())
    return f"{last.strip()} {initials.strip()}".strip()


def author_name(author: Element) -> str:
    """'LastName Initials' (initials from ForeName when missing), or the collective (group) name."""
    names = authors_of(author.iter("Author", "LastName", "Initials", "ForeName", "CollectiveName"))
    return names[0] if names else ""


def authors(author_list: Element | None) -> list[str]:
    """Author names in order: 'LastName Initials' or the collective (group) name."""
    if author_list is None:
        return []
    return authors_of(author_list.iter("Author", "LastName", "Initials", "ForeName", "CollectiveName"))


def authors_of(elements: Iterator[Element]) -> list[str]:
    """Fold a document-order stream of Author and name elements into one name per Author."""
    out: list[str] = []
    started = False
    last = initials = fore = None
    collective = None
    for el in elements:
        tag = el.tag
        if tag == "LastName":  # the name parts outnumber the Author elements three to one: test them first
            last = el.text
        elif tag == "Initials":
            initials = el.text
        elif tag == "ForeName":
            fore = el.text
        elif tag == "Author":
            if started:
                name = _author_string(last, initials, fore, collective)
                if name:
                    out.append(name)
            started = True
            last = initials = fore = collective = None
        else:
            collective = el
    if started:
        name = _author_string(last, initials, fore, collective)
        if name:
            out.append(name)
    return out


def publication_types(type_elements: Iterable[Element]) -> list[str]:
    """Publication types in order (in PublicationTypeList for articles, loose in a BookDocument)."""
    return [text_of(p) for p in type_elements]


def mesh_terms(heading_list: Element | None) -> list[str]:
    """MeSH descriptors; '*' marks a major topic (on the descriptor or any of its qualifiers)."""
    if heading_list is None:
        return []
    out: list[str] = []
    for el in heading_list.iter("DescriptorName", "QualifierName"):
        if el.tag == "DescriptorName":
            out.append(text_of(el) + ("*" if el.get("MajorTopicYN") == "Y" else ""))
        elif out and el.get("MajorTopicYN") == "Y" and out[-1][-1:] != "*":
            out[-1] += "*"  # a major qualifier makes its heading a major topic
    return out


def keywords(keyword_lists: list[Element]) -> list[str]:
    """Keywords of every KeywordList (author keywords and NLM ones), in order."""
    out = []
    for kl in keyword_lists:
        for k in kl:
            if k.tag != "Keyword":
                continue
            word = text_of(k)
            if word:
                out.append(word)
    return out


def article_ids(id_list: Element | None) -> dict[str, str]:
    """PubmedData/ArticleIdList as {IdType: id} (first of each type).

    Only the record's own list: ids under ReferenceList belong to cited papers.
    """
    out: dict[str, str] = {}
    if id_list is not None:
        for aid in id_list:
            if aid.tag != "ArticleId":
                continue
            kind = aid.get("IdType")
            if kind and kind not in out and aid.text:
                out[kind] = aid.text.strip()
    return out


def doi(elocation_ids: list[Element], ids: dict[str, str]) -> str:
    """The first valid DOI ELocationID (not simply the last ELocationID), else the ArticleIdList DOI."""
    for el in elocation_ids:
        if el.get("EIdType") == "doi" and el.get("ValidYN", "Y") == "Y" and el.text:
            return el.text.strip()
    return ids.get("doi", "")


def pmcid(ids: dict[str, str]) -> str:
    return ids.get("pmc", "")


def language(languages: list[Element]) -> str:
    """The first Language element (the article's main language)."""
    return (languages[0].text or "").strip() if languages else ""


def retracted(pub_types: list[str], comments: Element | None) -> bool:
    """True when PubMed marks the record retracted: 'Retracted Publication' type or a RetractionIn link.

    A retraction *notice* ('Retraction of Publication', RetractionOf) is not itself retracted.
    """
    if "Retracted Publication" in pub_types:
        return True
    if comments is None:
        return False
    return any(cc.get("RefType") == "RetractionIn" for cc in comments.iterchildren("CommentsCorrections"))


def entrez_date(history: Element | None) -> str:
    """YYYY-MM-DD when the record entered PubMed (PubStatus 'entrez', else 'pubmed')."""
    if history is None:
        return ""
    fallback = None
    for d in history:
        if d.tag != "PubMedPubDate":
            continue
        status = d.get("PubStatus")
        if status == "entrez":
            return _iso_date(*_ymd(d)[:3])[1]
        if status == "pubmed" and fallback is None:
            fallback = d
    return _iso_date(*_ymd(fallback)[:3])[1] if fallback is not None else ""


# Elements ``record`` collects in one pass. The record's own PMID comes before those in CommentsCorrections,
# so the first one wins; everything after <ReferenceList> belongs to cited papers and is not read.
_FIRST = ("MedlineCitation", "BookDocument", "PMID", "Journal", "BookTitle", "PubDate", "ArticleTitle",
          "Abstract", "AuthorList", "CommentsCorrectionsList", "MeshHeadingList", "History")
_MANY = ("ELocationID", "Language", "KeywordList", "PublicationType", "ArticleIdList")
_RECORD_PARTS = _FIRST + _MANY + ("ReferenceList",)


def record(article_el: Element) -> dict:
    """One ``<PubmedArticle>`` (or ``<PubmedBookArticle>``) -> records-table row (RECORD_COLUMNS keys)."""
    parts: dict[str, Element] = {}
    elocations: list[Element] = []
    languages: list[Element] = []
    keyword_lists: list[Element] = []
    type_els: list[Element] = []
    id_lists: list[Element] = []
    for el in article_el.iter(_RECORD_PARTS):
        tag = el.tag
        if tag in parts:  # a later PMID (in CommentsCorrections) and the like: the first one counts
            continue
        # the repeatable parts, most frequent first (this loop runs ~25 times per record)
        if tag == "PublicationType":
            type_els.append(el)
        elif tag == "ELocationID":
            elocations.append(el)
        elif tag == "Language":
            languages.append(el)
        elif tag == "KeywordList":
            keyword_lists.append(el)
        elif tag == "ArticleIdList":
            id_lists.append(el)
        elif tag == "ReferenceList":
            break  # the cited papers' ids and PMIDs follow; nothing of the record's own comes after
        elif tag != "AuthorList" or el.get("Type") != "editors":
            parts[tag] = el
    if "MedlineCitation" not in parts and "BookDocument" not in parts:
        raise ValueError(f"<{article_el.tag}> without MedlineCitation or BookDocument")
    if len(id_lists) == 1:
        ids = article_ids(id_lists[0])
    else:  # none, or a book's two (in BookDocument and PubmedBookData): the first of each type wins
        ids = {}
        for id_list in id_lists:
            for kind, value in article_ids(id_list).items():
                ids.setdefault(kind, value)
    pmid, version = pmid_and_version(parts.get("PMID"))
    if not pmid.isdigit():  # every table is keyed by PMID: an empty or non-numeric one would merge records
        raise ValueError(f"<{article_el.tag}> without a PMID" if not pmid
                         else f"<{article_el.tag}> has a PMID that is not a number: {pmid[:40]!r}")
    year, date = pub_date(parts.get("PubDate"))
    ptypes = publication_types(type_els)
    source = parts.get("Journal")
    if source is None:
        source = parts.get("BookTitle")
    title_el = parts.get("ArticleTitle")
    if title_el is None:
        title_el = parts.get("BookTitle")  # a whole book: its title is the record's title
    return {
        "pmid": pmid,
        "version": version,
        "title": title(title_el),
        "abstract": abstract(parts.get("Abstract")),
        "journal": journal(source),
        "year": year,
        "pub_date": date,
        "authors": authors(parts.get("AuthorList")),
        "publication_types": ptypes,
        "mesh_terms": mesh_terms(parts.get("MeshHeadingList")),
        "keywords": keywords(keyword_lists),
        "doi": doi(elocations, ids),
        "pmcid": pmcid(ids),
        "language": language(languages),
        "retracted": retracted(ptypes, parts.get("CommentsCorrectionsList")),
        "entrez_date": entrez_date(parts.get("History")),
    }


def deleted_pmids(delete_el: Element) -> list[str]:
    """PMIDs listed in a <DeleteCitation> (baseline/update files)."""
    pmids = [p.text.strip() for p in delete_el.iterchildren("PMID") if p.text]
    bad = next((p for p in pmids if not p.isdigit()), None)
    if bad is not None:
        raise ValueError(f"<DeleteCitation> lists a PMID that is not a number: {bad[:40]!r}")
    return pmids

# ------------------------------------------------------------------------------------------------
# Streaming
# ------------------------------------------------------------------------------------------------
def _source_name(source: Source) -> str:
    if isinstance(source, (str, Path)):
        return str(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<bytes>"
    return str(getattr(source, "name", "<stream>"))


def _open(source: Source) -> tuple[IO[bytes], bool]:
    """A binary stream of the (decompressed) XML, and whether we own (must close) it."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if data[:2] == b"\x1f\x8b":
            return gzip.GzipFile(fileobj=io.BytesIO(data)), True
        return io.BytesIO(data), True
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            fh = open(path, "rb")
        except OSError as exc:
            raise InputError(f"cannot open: {exc.strerror or exc}", file=path) from exc
        if fh.read(2) == b"\x1f\x8b":
            fh.seek(0)
            return gzip.GzipFile(fileobj=fh, mode="rb"), True  # closing the GzipFile leaves fh open
        fh.seek(0)
        return fh, True
    if _peek_gzip(source):
        return gzip.GzipFile(fileobj=source, mode="rb"), True  # closes the wrapper only
    return source, False


def _peek_gzip(fh: IO[bytes]) -> bool:
    """True when a caller's file object holds gzip data (checked without consuming it)."""
    peek = getattr(fh, "peek", None)
    if peek is not None:
        return bytes(peek(2)[:2]) == b"\x1f\x8b"
    if getattr(fh, "seekable", lambda: False)():
        pos = fh.tell()
        magic = fh.read(2)
        fh.seek(pos)
        return magic == b"\x1f\x8b"
    return False


def iter_records(source: Source) -> Iterator[dict]:
    """Yield records-table rows from PubMed XML, in file order, with constant memory.

    Each ``<DeleteCitation>`` PMID yields ``{"pmid": ..., "deleted": True}``. Malformed or non-PubMed XML
    raises :class:`InputError` naming the file (and line, where lxml knows it).
    """
    name = _source_name(source)
    stream, owned = _open(source)
    # a GzipFile over a file we opened: close both; over the caller's file: close only the wrapper
    raw = getattr(stream, "fileobj", None) if isinstance(source, (str, Path)) else None
    try:
        context = etree.iterparse(
            stream,
            events=("end",),
            tag=_RECORD_TAGS,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=True,
            remove_comments=True,
            remove_pis=True,
        )
        try:
            for _, el in context:
                tag = el.tag
                if tag == "PubmedArticle" or tag == "PubmedBookArticle":
                    try:
                        row = record(el)
                    except ValueError as exc:
                        raise InputError(str(exc), file=name, row=el.sourceline) from exc
                    yield row
                elif tag == "DeleteCitation":
                    try:
                        gone = deleted_pmids(el)
                    except ValueError as exc:
                        raise InputError(str(exc), file=name, row=el.sourceline) from exc
                    for pmid in gone:
                        yield {"pmid": pmid, "deleted": True}
                el.clear(keep_tail=True)
                parent = el.getparent()
                if parent is not None:
                    while el.getprevious() is not None:
                        del parent[0]
            root = context.root
        except etree.XMLSyntaxError as exc:
            line = exc.position[0] if exc.position else None
            raise InputError(f"malformed XML: {exc.msg}", file=name, row=line) from exc
        except (EOFError, gzip.BadGzipFile, OSError, zlib.error) as exc:
            raise InputError(f"cannot read compressed XML (damaged or cut short: {exc}); check it with "
                             "`gzip -t` or fetch it again", file=name) from exc
        if root is None or root.tag not in _EXPECTED_ROOTS:
            got = "nothing" if root is None else f"<{root.tag}>"
            raise InputError(f"not PubMed XML: expected <PubmedArticleSet>, found {got}", file=name)
    finally:
        if owned:
            stream.close()
            if raw is not None and raw is not stream:
                raw.close()


def records_frame(source: Source) -> "pd.DataFrame":
    """All records of ``source`` as a DataFrame with RECORD_COLUMNS (deleted PMIDs in ``attrs``)."""
    import pandas as pd

    rows, deleted = [], []
    for row in iter_records(source):
        if row.get("deleted"):
            deleted.append(row["pmid"])
        else:
            rows.append(row)
    df = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
    df["version"] = df["version"].astype("int64")
    df["year"] = df["year"].astype("Int64")
    df["retracted"] = df["retracted"].astype(bool)
    df.attrs["deleted"] = deleted
    return df
