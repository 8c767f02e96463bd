"""Declared table schemas shared across stages (the data contracts of DESIGN.md)."""

from __future__ import annotations

# The records table: one row per PubMed record (current version). Produced by pubmed_xml (live pulls)
# and by scripts/build_snapshot.py (offline snapshot); consumed by store, design and screening.
# Multi-valued fields are Python lists in memory and joined with "; " (tables.MULTI_SEP) in CSV.
RECORD_COLUMNS: tuple[str, ...] = (
    "pmid",               # str; PubMed ID ("" in the offline snapshot when unknown: study keyed by DOI/PMCID)
    "version",            # int; PMID Version attribute (1 unless PubMed revised the record)
    "title",              # str; inline markup flattened
    "abstract",           # str; structured sections kept as "LABEL: text LABEL: text"
    "journal",            # str; journal title (ISO abbreviation if the title is missing)
    "year",               # int | None; from PubDate/Year or the MedlineDate
    "pub_date",           # str; ISO-like "YYYY", "YYYY-MM" or "YYYY-MM-DD" (as precise as the source)
    "authors",            # list[str]; "Last Initials" or the collective name
    "publication_types",  # list[str]
    "mesh_terms",         # list[str]; descriptor, "*" appended when MajorTopicYN="Y" on the descriptor or a qualifier
    "keywords",           # list[str]
    "doi",                # str
    "pmcid",              # str; "PMC…"
    "language",           # str; first Language element (e.g. "eng")
    "retracted",          # bool; the record is retracted (retraction notice points at it / "Retracted Publication")
    "entrez_date",        # str; YYYY-MM-DD of PubMedPubDate[@PubStatus="entrez"]
)

MULTI_VALUED: frozenset[str] = frozenset({"authors", "publication_types", "mesh_terms", "keywords"})
