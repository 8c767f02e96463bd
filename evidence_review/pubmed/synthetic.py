"""Deterministic synthetic PubMed XML, with the values a correct parser must return.

Why: tests and benchmarks need realistic efetch output (every edge case the parser handles) at any
size, without calling NCBI and without copying real abstracts. All text is made of generated words.

- ``generate_records(n, seed=0, start_pmid=30000001) -> list[SyntheticRecord]``: same arguments, same records.
- ``SyntheticRecord.expected() -> dict``: the records-table row (``schema.RECORD_COLUMNS``) a parser must yield.
- Rendering them as efetch XML is :mod:`evidence_review.pubmed.synthetic_xml` (``record_xml``, ``corpus_xml``,
  ``write_xml``).
- ``revise(rec, ...)``: a changed version of a record (new title / revision date / version), for refresh tests.
- ``bibliographic_record(pmid, title, abstract, year=...)``: a record from given fields (topic-like corpora).

Edge cases produced (each in a few percent of records or more): MedlineDate ranges and seasons, Season
elements, numeric months, structured abstracts (Label differing from NlmCategory), CopyrightInformation
inside Abstract (not abstract text), inline markup (``<i>``, ``<sup>``, ``<sub>``, ``<b>``, nested) with tail
text, ``&``/``<`` escapes, Unicode and collective authors, author without initials, several ELocationIDs
(pii before doi, invalid DOI), DOI only in ArticleIdList, PMCID, ReferenceList ids that must not be taken
for the record's own, retracted records (publication type and/or RetractionIn), retraction notices (not
retracted), several languages, missing journal title, missing entrez date (pubmed date instead), Version 2.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Sequence

DOCTYPE = (
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">'
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SEASONS = ("Spring", "Summer", "Fall", "Winter")

# A segment of mixed content: (text, tag) with tag None for plain text, or a nesting "b/i" path.
Segment = tuple[str, str | None]


@dataclass(frozen=True)
class Author:
    last: str = ""
    fore: str = ""
    initials: str = ""
    collective: str = ""

    def expected(self) -> str:
        if self.collective:
            return self.collective
        return f"{self.last} {self.initials}".strip()


@dataclass(frozen=True)
class Mesh:
    descriptor: str
    major: bool = False
    qualifiers: tuple[tuple[str, bool], ...] = ()

    def expected(self) -> str:
        major = self.major or any(q_major for _, q_major in self.qualifiers)
        return self.descriptor + ("*" if major else "")


@dataclass(frozen=True)
class AbstractSection:
    label: str | None
    category: str | None
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class PubDate:
    """One of: year(+month(+day)), year+season, or a free MedlineDate string."""

    year: int | None = None
    month: str = ""  # "Jan" or "06"
    day: int | None = None
    season: str = ""
    medline: str = ""
    expected_year: int | None = None
    expected_pub_date: str = ""


@dataclass(frozen=True)
class SyntheticRecord:
    """Everything needed to render one PubmedArticle, plus what a parser must return (``expected()``)."""

    pmid: str
    version: int
    title_segments: tuple[Segment, ...]
    abstract_sections: tuple[AbstractSection, ...]
    copyright: str
    journal_title: str
    iso_abbrev: str
    pub_date: PubDate
    authors: tuple[Author, ...]
    publication_types: tuple[str, ...]
    mesh: tuple[Mesh, ...]
    keywords: tuple[str, ...]
    elocations: tuple[tuple[str, str, str], ...]  # (EIdType, ValidYN, value)
    article_ids: tuple[tuple[str, str], ...]  # (IdType, value) in PubmedData/ArticleIdList
    reference_ids: tuple[tuple[str, str], ...]  # ids in ReferenceList (must not be taken as the record's)
    languages: tuple[str, ...]
    comments: tuple[tuple[str, str, str], ...]  # (RefType, RefSource, PMID)
    history: tuple[tuple[str, int, int, int], ...]  # (PubStatus, y, m, d)
    date_revised: tuple[int, int, int]
    expected_doi: str = ""
    expected_retracted: bool = False

    # -- what a correct parser returns -------------------------------------------------------
    @property
    def title(self) -> str:
        return "".join(text for text, _ in self.title_segments)

    @property
    def abstract(self) -> str:
        parts = []
        for sec in self.abstract_sections:
            text = "".join(t for t, _ in sec.segments)
            parts.append(f"{sec.label}: {text}" if sec.label else text)
        return " ".join(parts)

    @property
    def pmcid(self) -> str:
        return next((v for k, v in self.article_ids if k == "pmc"), "")

    @property
    def entrez_date(self) -> str:
        for wanted in ("entrez", "pubmed"):
            for status, y, m, d in self.history:
                if status == wanted:
                    return f"{y:04d}-{m:02d}-{d:02d}"
        return ""

    def expected(self) -> dict:
        """The records-table row (RECORD_COLUMNS keys; lists for multi-valued fields)."""
        return {
            "pmid": self.pmid,
            "version": self.version,
            "title": self.title,
            "abstract": self.abstract,
            "journal": self.journal_title or self.iso_abbrev,
            "year": self.pub_date.expected_year,
            "pub_date": self.pub_date.expected_pub_date,
            "authors": [a.expected() for a in self.authors],
            "publication_types": list(self.publication_types),
            "mesh_terms": [m.expected() for m in self.mesh],
            "keywords": list(self.keywords),
            "doi": self.expected_doi,
            "pmcid": self.pmcid,
            "language": self.languages[0] if self.languages else "",
            "retracted": self.expected_retracted,
            "entrez_date": self.entrez_date,
        }


# ----------------------------------------------------------------------------------------------
# Word material (invented syllables plus plain clinical vocabulary; no copied sentences)
# ----------------------------------------------------------------------------------------------
_SYLL = ("ka", "zo", "ri", "ven", "tal", "mo", "xi", "dre", "lu", "per", "sa", "no", "quin", "ter",
         "bel", "fa", "gro", "hu", "ja", "pli", "sor", "tu", "vy", "wen", "ol", "am", "ex", "is")
_VOCAB = ("trial", "zorvane", "infusion", "response", "symptoms", "patients", "adults", "placebo",
          "controlled", "randomized", "glimmering", "drift", "disorder", "lowness", "anxiety",
          "outcomes", "dose", "single", "repeated", "effects", "rapid", "durable", "cohort", "review",
          "safety", "tolerability", "week", "follow-up", "scale", "severity", "measures", "clinical",
          "receptor", "glutamate", "treatment", "resistant", "open-label", "pilot", "study", "analysis")
_LASTNAMES = ("Müller", "García-López", "Ødegaard", "Nguyễn", "O'Brien", "Żółkiewski", "Smith", "Tanaka",
              "Kowalski", "Öztürk", "Dubois", "Rossi", "Jansen", "Svensson", "Papadopoulos", "Lee",
              "Fernández", "Çelik", "Björk", "Ivanova", "van der Berg", "MacLeod", "Đorđević", "Zhang")
_FORENAMES = ("Anna", "José", "Søren", "Łukasz", "Émilie", "Wei", "Mohammed", "Ingrid", "Ana María",
              "Jean-Luc", "Yuki", "Olga", "Thomas", "Chiara", "Kwame", "Raúl", "Zoë", "H")
_COLLECTIVE = ("Synthetic Trials Collaborative Group", "Network for Zorvan Research",
               "Kalimo Study Investigators")
_PUBTYPES = ("Journal Article", "Randomized Controlled Trial", "Clinical Trial", "Review",
             "Case Reports", "Letter", "Comment", "Meta-Analysis", "Systematic Review",
             "Multicenter Study", "Observational Study", "Editorial")
_MESH = ("Humans", "Adult", "Female", "Male", "Zorvane", "Glimmering Drift Disorder",
         "Lowness Disorder, Treatment-Resistant", "Treatment Outcome", "Double-Blind Method",
         "Administration, Intravenous", "Anxiety", "Brain", "Receptors, N-Methyl-D-Aspartate",
         "Middle Aged", "Young Adult", "Excitatory Amino Acid Antagonists")
_QUALIFIERS = ("drug therapy", "therapeutic use", "administration & dosage", "adverse effects",
               "physiopathology", "pharmacology")
_LANGS = ("eng",) * 16 + ("ger", "fre", "spa", "chi")
_LABELS = (("BACKGROUND", "BACKGROUND"), ("OBJECTIVE", "OBJECTIVE"), ("AIMS", "OBJECTIVE"),
           ("METHODS", "METHODS"), ("DESIGN, SETTING, AND PARTICIPANTS", "METHODS"),
           ("RESULTS", "RESULTS"), ("CONCLUSIONS", "CONCLUSIONS"), ("TRIAL REGISTRATION", None))
_MARKUP = ("i", "sup", "sub", "b", "u", "b/i")


def _ri(rng: random.Random, lo: int, hi: int) -> int:
    """randint without random.py's per-call overhead (the generator must stay fast)."""
    return lo + int(rng.random() * (hi - lo + 1))


def _pick(rng: random.Random, seq: Sequence):
    return seq[int(rng.random() * len(seq))]


def _lexicon() -> tuple[str, ...]:
    """Plain vocabulary plus invented words, built once from a fixed seed."""
    rng = random.Random(20240101)
    made = {"".join(_pick(rng, _SYLL) for _ in range(_ri(rng, 2, 3))) for _ in range(3000)}
    # clinical words appear about as often as invented ones
    return tuple(sorted(made)) + _VOCAB * (len(made) // len(_VOCAB))


_LEXICON = _lexicon()


def _word(rng: random.Random) -> str:
    return _LEXICON[int(rng.random() * len(_LEXICON))]


def _sentence(rng: random.Random, lo: int, hi: int) -> str:
    words = rng.choices(_LEXICON, k=_ri(rng, lo, hi))
    words[0] = words[0].capitalize()
    return " ".join(words)


def _mixed(rng: random.Random, lo: int, hi: int, markup_p: float, end: str = ".") -> tuple[Segment, ...]:
    """Text as segments; sometimes with inline markup in the middle (so tail text must be kept)."""
    text = _sentence(rng, lo, hi)
    r = rng.random()
    if r < markup_p:
        tag = _pick(rng, _MARKUP)
        inner = "2+" if tag in ("sup", "sub") else _word(rng)
        head = text + (" Ca" if tag in ("sup", "sub") else " ")
        tail_words = " ".join(_word(rng) for _ in range(_ri(rng, 1, 4)))
        return ((head, None), (inner, tag), (" " + tail_words + end, None))
    if r < markup_p + 0.03:
        # characters that must be escaped in XML
        return ((text + " & " + _word(rng) + " <" + str(_ri(rng, 2, 90)) + " mg" + end, None),)
    return ((text + end, None),)


def _pub_date(rng: random.Random) -> PubDate:
    y = _ri(rng, 1985, 2025)
    m = _ri(rng, 1, 12)
    d = _ri(rng, 1, 28)
    r = rng.random()
    if r < 0.35:
        return PubDate(y, MONTHS[m - 1], d, expected_year=y, expected_pub_date=f"{y}-{m:02d}-{d:02d}")
    if r < 0.62:
        return PubDate(y, MONTHS[m - 1], expected_year=y, expected_pub_date=f"{y}-{m:02d}")
    if r < 0.65:
        return PubDate(y, f"{m:02d}", expected_year=y, expected_pub_date=f"{y}-{m:02d}")
    if r < 0.75:
        return PubDate(y, expected_year=y, expected_pub_date=f"{y}")
    if r < 0.80:
        return PubDate(y, season=_pick(rng, SEASONS), expected_year=y, expected_pub_date=f"{y}")
    if r < 0.88:
        m = min(m, 11)
        return PubDate(medline=f"{y} {MONTHS[m - 1]}-{MONTHS[m]}", expected_year=y,
                       expected_pub_date=f"{y}-{m:02d}")
    if r < 0.92:
        return PubDate(medline=f"{y} {_pick(rng, SEASONS)}", expected_year=y, expected_pub_date=f"{y}")
    if r < 0.96:
        return PubDate(medline=f"{y}-{y + 1}", expected_year=y, expected_pub_date=f"{y}")
    return PubDate(medline=f"{y} Dec-{y + 1} Jan", expected_year=y, expected_pub_date=f"{y}-12")


def _initials(fore: str) -> str:
    return "".join(p[0] for p in fore.replace("-", " ").split())


def _authors(rng: random.Random) -> tuple[Author, ...]:
    out = []
    for _ in range(_ri(rng, 0, 7) if rng.random() < 0.97 else 0):
        fore = _pick(rng, _FORENAMES)
        if rng.random() < 0.02:
            out.append(Author(last=_pick(rng, _LASTNAMES)))  # no fore name / initials
        else:
            out.append(Author(last=_pick(rng, _LASTNAMES), fore=fore, initials=_initials(fore)))
    if rng.random() < 0.06:
        out.insert(_ri(rng, 0, len(out)), Author(collective=_pick(rng, _COLLECTIVE)))
    return tuple(out)


def _abstract(rng: random.Random) -> tuple[tuple[AbstractSection, ...], str]:
    r = rng.random()
    copyright_ = f"© {_ri(rng, 1990, 2025)} Synthetic Publisher Ltd." if rng.random() < 0.2 else ""
    if r < 0.10:
        return (), ""
    if r < 0.45:
        labels = [_LABELS[i] for i in sorted(rng.sample(range(len(_LABELS)), _ri(rng, 2, 5)))]
        secs = tuple(AbstractSection(lab, cat, _mixed(rng, 6, 30, 0.08)) for lab, cat in labels)
        return secs, copyright_
    if r < 0.48:
        # several unlabelled paragraphs
        secs = tuple(AbstractSection(None, None, _mixed(rng, 8, 30, 0.08)) for _ in range(2))
        return secs, copyright_
    return (AbstractSection(None, None, _mixed(rng, 30, 120, 0.10)),), copyright_


def _journal(rng: random.Random) -> tuple[str, str]:
    core = " ".join(_word(rng).capitalize() for _ in range(_ri(rng, 1, 3)))
    title = f"Journal of {core}" if rng.random() < 0.6 else f"{core} Reports"
    iso = title.replace("Journal of", "J").replace("Reports", "Rep")
    if rng.random() < 0.02:
        return "", iso
    return title, iso


def _doi_and_ids(rng: random.Random, pmid: str) -> tuple[tuple, tuple, str]:
    doi = f"10.{_ri(rng, 1000, 9999)}/syn.{pmid}.{_ri(rng, 1, 99)}"
    pii = f"S{_ri(rng, 1000, 9999)}-{_ri(rng, 1000, 9999)}({_ri(rng, 10, 25)})0{_ri(rng, 1000, 9999)}-X"
    ids: list[tuple[str, str]] = [("pubmed", pmid)]
    r = rng.random()
    if r < 0.60:  # doi ELocationID, sometimes after a pii
        elocs = [("doi", "Y", doi)] if rng.random() < 0.7 else [("pii", "Y", pii), ("doi", "Y", doi)]
        if rng.random() < 0.3:
            elocs.append(("pii", "Y", pii))  # last ELocationID is not the DOI
        ids.append(("doi", doi))
        expected = doi
    elif r < 0.75:  # DOI only in ArticleIdList
        elocs = [("pii", "Y", pii)] if rng.random() < 0.5 else []
        ids.append(("doi", doi))
        expected = doi
    elif r < 0.80:  # an invalid DOI ELocationID; the ArticleIdList one is right
        elocs = [("doi", "N", doi + "x")]
        ids.append(("doi", doi))
        expected = doi
    else:
        elocs = [("pii", "Y", pii)] if rng.random() < 0.3 else []
        expected = ""
    if rng.random() < 0.3:
        ids.append(("pmc", f"PMC{_ri(rng, 1000000, 9999999)}"))
    if rng.random() < 0.5:
        ids.append(("pii", pii))
    return tuple(elocs), tuple(ids), expected


def _retraction(rng: random.Random, pmid: int) -> tuple[tuple[str, ...], tuple, bool]:
    """Extra publication types, CommentsCorrections, and the expected retracted flag."""
    other = str(pmid + 7_000_000)
    src = f"Synth J. {_ri(rng, 2000, 2025)};{_ri(rng, 1, 60)}:{_ri(rng, 1, 900)}"
    r = rng.random()
    if r < 0.02:
        return ("Retracted Publication",), (("RetractionIn", src, other),), True
    if r < 0.03:
        return (), (("RetractionIn", src, other),), True
    if r < 0.04:
        return ("Retracted Publication",), (), True
    if r < 0.05:  # the notice itself is not retracted
        return ("Retraction of Publication",), (("RetractionOf", src, other),), False
    if r < 0.15:
        return (), ((_pick(rng, ("CommentIn", "ErratumIn", "Cites", "UpdateOf")), src, other),), False
    return (), (), False


def _history(rng: random.Random, year: int) -> tuple[tuple[str, int, int, int], ...]:
    y = max(year, 1990) if year else 2010
    m, d = _ri(rng, 1, 12), _ri(rng, 1, 28)
    out = [("received", y - 1, _ri(rng, 1, 12), _ri(rng, 1, 28)),
           ("accepted", y, max(1, m - 1), d)]
    if rng.random() < 0.97:
        out.append(("pubmed", y, m, d))
        out.append(("medline", y, m, min(28, d + 1)))
        out.append(("entrez", y, m, d))
        if rng.random() < 0.5:
            out.append(out.pop(-1))
            out.insert(2, out.pop())  # entrez not always last
    else:
        out.append(("pubmed", y, m, d))
        out.append(("medline", y, m, d))
    return tuple(out)


def _one(rng: random.Random, pmid: int) -> SyntheticRecord:
    spmid = str(pmid)
    pub_date = _pub_date(rng)
    sections, copyright_ = _abstract(rng)
    elocs, ids, doi = _doi_and_ids(rng, spmid)
    retr_types, comments, retracted = _retraction(rng, pmid)
    ptypes = ["Journal Article"] if rng.random() < 0.9 else []
    for _ in range(_ri(rng, 0, 2)):
        t = _pick(rng, _PUBTYPES)
        if t not in ptypes:
            ptypes.append(t)
    ptypes.extend(retr_types)
    mesh = ()
    if rng.random() < 0.8:
        mesh = tuple(
            Mesh(desc, rng.random() < 0.25,
                 tuple((q, rng.random() < 0.2) for q in rng.sample(_QUALIFIERS, _ri(rng, 0, 2))))
            for desc in rng.sample(_MESH, _ri(rng, 1, 8))
        )
    keywords = ()
    if rng.random() < 0.5:
        keywords = tuple(" ".join(_word(rng) for _ in range(_ri(rng, 1, 3))) for _ in range(_ri(rng, 1, 6)))
    refs = ()
    if rng.random() < 0.2:
        refs = (("pubmed", str(pmid + 11)), ("doi", f"10.9999/ref.{pmid}"), ("pmc", f"PMC{pmid % 9000000 + 1000000}"))
    langs = (_pick(rng, _LANGS),) if rng.random() < 0.97 else ("eng", "fre")
    year = pub_date.expected_year or 2010
    journal, iso = _journal(rng)
    return SyntheticRecord(
        pmid=spmid,
        version=2 if rng.random() < 0.03 else 1,
        title_segments=_mixed(rng, 5, 22, 0.12),
        abstract_sections=sections,
        copyright=copyright_,
        journal_title=journal,
        iso_abbrev=iso,
        pub_date=pub_date,
        authors=_authors(rng),
        publication_types=tuple(ptypes),
        mesh=mesh,
        keywords=keywords,
        elocations=elocs,
        article_ids=ids,
        reference_ids=refs,
        languages=langs,
        comments=comments,
        history=_history(rng, year),
        date_revised=(min(year + 1, 2026), _ri(rng, 1, 12), _ri(rng, 1, 28)),
        expected_doi=doi,
        expected_retracted=retracted,
    )


def generate_records(n: int, seed: int = 0, start_pmid: int = 30_000_001) -> list[SyntheticRecord]:
    """``n`` records with consecutive PMIDs from ``start_pmid``; same arguments, same records."""
    rng = random.Random(seed)
    return [_one(rng, start_pmid + i) for i in range(n)]


def bibliographic_record(
    pmid: str, title: str, abstract: str, *, year: int, journal: str = "", authors: Sequence[str] = (),
    publication_types: Sequence[str] = ("Journal Article",), mesh: Sequence[str] = (), keywords: Sequence[str] = (),
    doi: str = "", pmcid: str = "", language: str = "eng", date_revised: tuple[int, int, int] | None = None,
) -> SyntheticRecord:
    """A record from given bibliographic fields (for corpora built from known facts, e.g. a topic's studies).

    ``authors`` are "Last Initials" strings; ``mesh`` items end with "*" for a major topic. The abstract is
    one unlabelled section. ``date_revised`` (the mdat) defaults to 1 January of the year after ``year``."""
    people = []
    for a in authors:
        last, _, initials = a.rpartition(" ") if " " in a else (a, "", "")
        people.append(Author(last=last, fore=initials, initials=initials) if initials else Author(last=a))
    ids: list[tuple[str, str]] = [("pubmed", pmid)]
    if doi:
        ids.append(("doi", doi))
    if pmcid:
        ids.append(("pmc", pmcid))
    revised = date_revised or (min(year + 1, 2026), 1, 1)
    return SyntheticRecord(
        pmid=pmid, version=1, title_segments=((title, None),),
        abstract_sections=(AbstractSection(None, None, ((abstract, None),)),) if abstract else (), copyright="",
        journal_title=journal or "Journal of Synthetic Records", iso_abbrev=journal or "J Synth Rec",
        pub_date=PubDate(year, expected_year=year, expected_pub_date=str(year)), authors=tuple(people),
        publication_types=tuple(publication_types),
        mesh=tuple(Mesh(m.rstrip("*"), m.endswith("*")) for m in mesh), keywords=tuple(keywords),
        elocations=(("doi", "Y", doi),) if doi else (), article_ids=tuple(ids), reference_ids=(),
        languages=(language,), comments=(), history=(("entrez", year, 1, 1),), date_revised=revised,
        expected_doi=doi, expected_retracted=False,
    )


def revise(
    rec: SyntheticRecord,
    *,
    title: str | None = None,
    date_revised: tuple[int, int, int] | None = None,
    version: int | None = None,
) -> SyntheticRecord:
    """A changed copy of ``rec`` (what PubMed serves after a correction), for refresh tests."""
    changes: dict = {}
    if title is not None:
        changes["title_segments"] = ((title, None),)
    if date_revised is not None:
        changes["date_revised"] = date_revised
    if version is not None:
        changes["version"] = version
    return dataclasses.replace(rec, **changes)
