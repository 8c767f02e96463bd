"""Reference-manager formats: write records as RIS, BibTeX or CSL-JSON; read RIS, BibTeX, CSL-JSON and
PubMed's MEDLINE/.nbib text.

Why a family of its own: reviewers keep their libraries in Zotero, EndNote or Mendeley and move
records between them and this tool in these formats. The modules share one :class:`Entry` (the
records fields those formats carry, plus the screening decision and reason) and import only the
retrieval family (``pubmed.schema``) and shared helpers, never the review, statistics or claims.

Modules
    :mod:`.entries`  Entry, records rows <-> entries, title/DOI normalisation for duplicate matching
    :mod:`.ris`      RIS writer and reader
    :mod:`.bibtex`   BibTeX writer and reader
    :mod:`.csljson`  CSL-JSON writer and reader
    :mod:`.medline`  MEDLINE/.nbib reader (Biopython's ``Bio.Medline``)
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from evidence_review.errors import InputError
from evidence_review.formats import bibtex, csljson, ris
from evidence_review.formats.entries import Entry

WRITERS: dict[str, Callable[[Iterable[Entry]], str]] = {
    "ris": ris.write_ris, "bibtex": bibtex.write_bibtex, "csljson": csljson.write_csljson,
}
READERS: dict[str, Callable[[str | Path], list[Entry]]] = {
    "ris": ris.read_ris, "bibtex": bibtex.read_bibtex, "csljson": csljson.read_csljson,
}
EXTENSIONS: dict[str, str] = {"ris": ".ris", "bibtex": ".bib", "csljson": ".json"}


def write_entries(entries: Iterable[Entry], fmt: str) -> str:
    """Text of ``entries`` in ``fmt`` (ris, bibtex, csljson)."""
    if fmt not in WRITERS:
        raise InputError(f"unknown format '{fmt}' (known: {', '.join(WRITERS)})", field="format")
    return WRITERS[fmt](entries)


def read_entries(path: str | Path, fmt: str) -> list[Entry]:
    """Entries of the file ``path`` in ``fmt`` (ris, bibtex, csljson)."""
    if fmt not in READERS:
        raise InputError(f"unknown format '{fmt}' (known: {', '.join(READERS)})", field="format")
    return READERS[fmt](path)
