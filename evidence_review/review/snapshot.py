"""The offline evidence snapshot: build it from the compiled facts, and load it.

No machine here reaches PubMed, so the review ships a records table built from
``../shared/evidence-facts/{studies,bibliography}.jsonl`` (``scripts/build_snapshot.py`` calls
:func:`write_snapshot`). The table has the same columns as a live pull (``schema.RECORD_COLUMNS``) plus the
study id and the identifiers a pull does not carry (NCT and other registry ids, which identifier keys the
row). Only bibliographic facts are carried: identifiers, titles as citations, journal, year, publication
types and MeSH where a page showed them. Abstracts stay empty (a live pull fills them); nothing unknown is
guessed - in particular no PMID is ever made up: rows without one are keyed by DOI, PMCID, registry id
or title, and the manifest lists what is missing.

Deduplication links entries from the two files that share a PMID, DOI, PMCID, registry id or (same year)
normalised title. A trial registration and the paper reporting that trial are *not* merged even when they
share an NCT id: they are different records (PRISMA counts reports), so the registration keeps its own
row and points at the paper in ``linked_study_id``.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evidence_review import paths
from evidence_review.atomic import atomic_write_text
from evidence_review.errors import InputError
from evidence_review.pubmed.schema import MULTI_VALUED, RECORD_COLUMNS
from evidence_review.review.topic import Topic, load_topic
from evidence_review.tables import MULTI_SEP, write_table

COMPILED = "2026-11-21"  # date the evidence facts were compiled (their README); fixed so builds are reproducible
SOURCE_FILES = ("studies.jsonl", "bibliography.jsonl")

EXTRA_COLUMNS: tuple[str, ...] = (
    "study_id",          # stable id: record_id from studies.jsonl, else <lastname><year>_<slug>
    "key_source",        # which identifier keys the row: pmid, doi, pmcid, nct, registry or title
    "first_author",      # "Last Initials" where a page showed it (full author lists were not compiled)
    "nct_id",
    "other_registry_id",
    "source_labels",     # list: publication labels shown by a publisher/journal/registry, not by PubMed
    "registry_status",   # trial registrations: Completed / Terminated / Recruiting ...
    "results_posted",    # trial registrations: yes / no / unclear / unknown
    "linked_study_id",   # trial registrations: the snapshot paper carrying the same NCT id
    "sources",           # list: "<file>:<line>" of every facts entry merged into this row
    "source_url",        # the page the bibliographic facts were read from
)
SNAPSHOT_COLUMNS: tuple[str, ...] = RECORD_COLUMNS + EXTRA_COLUMNS
SNAPSHOT_MULTI: frozenset[str] = MULTI_VALUED | {"source_labels", "sources"}

# PubMed publication types that a page may show bare; anything else shown is a publisher's label.
PUBMED_TYPES = frozenset({
    "Case Reports", "Journal Article", "Research Support, Non-U.S. Gov't", "Research Support, N.I.H., Extramural",
    "Research Support, U.S. Gov't, P.H.S.", "Review", "Systematic Review", "Meta-Analysis", "Letter", "Comment",
    "Editorial", "Randomized Controlled Trial", "Clinical Trial", "Controlled Clinical Trial", "Observational Study",
    "Practice Guideline", "Guideline", "Congress", "Preprint", "Multicenter Study", "Comparative Study",
})
_LABEL_MAP = {"letter to the editor": "Letter", "letter": "Letter", "case report": "Case Reports",
              "review article": "Review", "perspective": "Perspective", "cme article": "CME Article"}


@dataclass
class _Entry:
    """One line of a facts file, reduced to the bibliographic facts the snapshot keeps."""

    source: str
    line: int
    record_id: str | None
    pmid: str = ""
    pmcid: str = ""
    doi: str = ""
    nct_id: str = ""
    other_registry_id: str = ""
    first_author: str = ""
    year: int | None = None
    journal: str = ""
    title: str = ""
    publication_types: list[str] = field(default_factory=list)
    source_labels: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)
    mesh_truncated: bool = False
    keywords: list[str] = field(default_factory=list)
    registry_status: str = ""
    results_posted: str = ""
    source_url: str = ""


# ----------------------------------------------------------------------------------------------- parsing


def _s(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _clean_journal(raw: str) -> tuple[str, list[str]]:
    """Journal name without the compiler's volume/date/remarks, plus labels those remarks state."""
    labels = []
    low = raw.lower()
    if "letter" in low:
        labels.append("Letter")
    if "congress abstract" in low or "conference abstract" in low or "(abstract" in low or "annual meeting" in low:
        labels.append("Congress")
    if "preprint" in low:
        labels.append("Preprint")
    name = raw
    for cut in (r"\s\((?![A-Z][a-z]{0,5}\))", ";", r",\s*vol\b", r"\s\d"):  # keeps "(Berl)"
        name = re.split(cut, name, maxsplit=1)[0]
    name = name.strip(" ,")
    if name.lower() in ("conference abstract", "congress abstract"):
        name = ""  # a format, not a venue: the venue is unknown
    return name, labels


def _labels(shown: Any) -> tuple[list[str], list[str]]:
    """Split 'publication types shown' into PubMed types and publisher labels."""
    pubmed, other = [], []
    for item in shown or []:
        item = _s(item)
        if not item or item.startswith("["):
            continue  # e.g. "[Indexed for MEDLINE] (types not listed in excerpt)"
        bare = re.sub(r"\s*\(.*\)\s*$", "", item).strip()
        if bare == item and bare in PUBMED_TYPES:
            pubmed.append(bare)
        else:
            other.append(_LABEL_MAP.get(bare.lower(), bare))
    return pubmed, other


def _mesh(shown: Any) -> tuple[list[str], list[str], bool]:
    """(MeSH descriptors with '*' for major topics, keywords, truncated?) from a list a page showed.

    Lists whose first item says they are the page's keywords go to keywords, not MeSH."""
    items = [_s(x) for x in (shown or []) if _s(x)]
    if not items:
        return [], [], False
    truncated = any(x.startswith("(") and "truncated" in x for x in items)
    if items[0].startswith("(") and "keyword" in items[0].lower():
        first = re.sub(r"^\([^)]*\)\s*", "", items[0])
        return [], [first] + items[1:], truncated
    mesh: list[str] = []
    for x in items:
        if x.startswith("("):
            continue
        major = "*" in x
        descriptor = re.split(r"\s*/\s*", x.replace("*", ""), maxsplit=1)[0].strip()
        term = descriptor + ("*" if major else "")
        if term not in mesh:
            mesh.append(term)
    return mesh, [], truncated


def _norm_doi(doi: str) -> str:
    return re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", doi.strip(), flags=re.I).lower()


def _norm_title(title: str) -> str:
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _registry_status(text: str) -> str:
    return re.split(r"\s\(", _s(text), maxsplit=1)[0].strip()


def _results_posted(text: str) -> str:
    low = _s(text).lower()
    if low.startswith("yes"):
        return "yes"
    if re.match(r"no\b", low):  # "no", "no (results pending)" - but not "not determined"
        return "no"
    if low.startswith(("uncertain", "conflicting", "unclear")):
        return "unclear"
    return "unknown"


def _validate_ids(entry: _Entry, file: Path) -> None:
    checks = {"pmid": r"\d{1,9}", "pmcid": r"PMC\d+", "doi": r"10\.\S+/\S+", "nct_id": r"NCT\d{8}"}
    for name, pattern in checks.items():
        value = getattr(entry, name)
        if value and not re.fullmatch(pattern, value):
            raise InputError(f"malformed identifier {value!r}", file=file, row=entry.line, field=name)


def read_jsonl(path: Path) -> list[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a JSON-lines facts file; errors name file and line."""
    if not path.exists():
        raise InputError("facts file not found", file=path)
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", file=path, row=number) from exc
        if not isinstance(obj, dict):
            raise InputError("expected a JSON object", file=path, row=number)
        rows.append((number, obj))
    return rows


def _entry_from_study(number: int, d: dict, file: Path) -> _Entry:
    if not _s(d.get("record_id")):
        raise InputError("missing record_id", file=file, row=number, field="record_id")
    if not _s(d.get("title")):
        raise InputError("missing title", file=file, row=number, field="title")
    journal, labels = _clean_journal(_s(d.get("journal")))
    mesh, keywords, truncated = _mesh(d.get("mesh_terms"))
    reg = d.get("registration") or {}
    title = re.sub(r"\s*\(title as shown[^)]*\)\s*$", "", _s(d["title"]))
    e = _Entry(
        source=file.name, line=number, record_id=_s(d["record_id"]),
        pmid=_s(d.get("pmid")), pmcid=_s(d.get("pmcid")).upper(), doi=_norm_doi(_s(d.get("doi"))),
        nct_id=_s(d.get("nct_id")).upper(), other_registry_id=re.split(r"\s", _s(d.get("other_registry_id")))[0],
        first_author=_s(d.get("first_author")), year=d.get("year") if isinstance(d.get("year"), int) else None,
        journal=journal, title=title, publication_types=[_s(t) for t in d.get("pubmed_publication_types") or [] if _s(t)],
        source_labels=labels, mesh_terms=mesh, mesh_truncated=truncated, keywords=keywords,
        registry_status=_registry_status(reg.get("status", "")) if reg else "",
        results_posted=_results_posted(reg.get("results_posted", "")) if reg else "",
        source_url=_s((d.get("source_urls") or [""])[0]),
    )
    _validate_ids(e, file)
    return e


def _entry_from_bib(number: int, d: dict, file: Path) -> _Entry:
    if not _s(d.get("title")):
        raise InputError("missing title", file=file, row=number, field="title")
    pubtypes, labels = _labels(d.get("publication_types_shown"))
    journal, more = _clean_journal(_s(d.get("journal")))
    mesh, keywords, truncated = _mesh(d.get("mesh_terms_shown"))
    e = _Entry(
        source=file.name, line=number, record_id=None,
        pmid=_s(d.get("pmid")), pmcid=_s(d.get("pmcid")).upper(), doi=_norm_doi(_s(d.get("doi"))),
        first_author=_s(d.get("first_author")), year=d.get("year") if isinstance(d.get("year"), int) else None,
        journal=journal, title=_s(d["title"]), publication_types=pubtypes,
        source_labels=labels + [x for x in more if x not in labels], mesh_terms=mesh, mesh_truncated=truncated,
        keywords=keywords, source_url=_s(d.get("source_url")),
    )
    _validate_ids(e, file)
    return e


# ----------------------------------------------------------------------------------------------- merging


def _keys(e: _Entry) -> list[tuple[str, str]]:
    """Identifier keys that mark two entries as the same publication (titles are handled separately)."""
    keys = [(k, v) for k, v in (("pmid", e.pmid), ("doi", e.doi), ("pmcid", e.pmcid)) if v]
    if _is_registration(e):  # registry ids link registrations only, never a paper to its registration
        keys += [(k, v) for k, v in (("nct", e.nct_id), ("registry", e.other_registry_id)) if v]
    return keys


def _is_registration(e: _Entry) -> bool:
    return not (e.pmid or e.doi or e.pmcid or e.journal) and bool(e.nct_id or e.other_registry_id)


def _group(entries: list[_Entry]) -> list[tuple[list[_Entry], set[str]]]:
    """Union-find over shared identifiers, then equal normalised titles whose years do not disagree.

    Returns the groups (in first-seen order) with the kinds of key that joined each one."""
    parent = list(range(len(entries)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    joined: dict[int, set[str]] = {}

    def union(i: int, j: int, kind: str) -> None:
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
            joined.setdefault(i, set()).add(kind)

    owner: dict[tuple[str, str], int] = {}
    titles: dict[str, list[int]] = {}
    for i, e in enumerate(entries):
        for key in _keys(e):
            if key in owner:
                union(i, owner[key], key[0])
            owner.setdefault(key, i)
        norm = _norm_title(e.title)
        for j in titles.get(norm, []):
            other = entries[j]
            if e.year is None or other.year is None or e.year == other.year:
                union(i, j, "title")
        titles.setdefault(norm, []).append(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(entries)):
        groups.setdefault(find(i), []).append(i)
    out = []
    for members in sorted(groups.values(), key=min):
        kinds = set().union(*(joined.get(i, set()) for i in members))
        out.append(([entries[i] for i in members], kinds))
    return out


def _shared_kinds(members: list[_Entry]) -> list[str]:
    """Every kind of key at least two members of a duplicate group share (for the manifest)."""
    kinds = set()
    for i, a in enumerate(members):
        for b in members[i + 1:]:
            kinds |= {k for k, v in _keys(a) if (k, v) in _keys(b)}
            if _norm_title(a.title) == _norm_title(b.title):
                kinds.add("title")
    return sorted(kinds)


def _first(values: list[Any]) -> Any:
    for v in values:
        if v not in ("", None):
            return v
    return None


def _union(lists: list[list[str]]) -> list[str]:
    out: list[str] = []
    for lst in lists:
        out += [x for x in lst if x not in out]
    return out


_STOP_WORDS = frozenset({"a", "an", "and", "the", "of", "in", "for", "with", "on", "to", "by", "disorder", "disorders",
                         "treatment", "s"})


def topic_stop_words(topic: Topic) -> frozenset[str]:
    """Words every record of the topic shares (its drug and condition terms), useless in an id."""
    terms = [*topic.inclusion.intervention_terms, *topic.inclusion.condition_terms, topic.condition.code]
    return _STOP_WORDS | {w for t in terms for w in re.findall(r"[a-z0-9]+", t.lower())}


def _slug_id(e: _Entry, taken: set[str], stop: frozenset[str] = _STOP_WORDS) -> str:
    """<lastname><year>_<three title words>, e.g. mills1998_behaviour_eating_disorders."""
    author = unicodedata.normalize("NFKD", e.first_author).encode("ascii", "ignore").decode()
    parts = author.split()
    if len(parts) > 1 and parts[-1].isupper():
        parts = parts[:-1]  # drop initials
    last = re.sub(r"[^a-z]", "", "".join(parts).lower()) or "anon"
    words = [w for w in _norm_title(e.title).split() if w not in stop and not w.isdigit()][:3]
    base = f"{last}{e.year if e.year is not None else 'nd'}_{'_'.join(words) or 'record'}"
    sid, n = base, 2
    while sid in taken:
        sid, n = f"{base}_{n}", n + 1
    return sid


def _merge(members: list[_Entry], file_of: dict[str, Path], taken: set[str],
           stop: frozenset[str] = _STOP_WORDS) -> tuple[dict[str, Any], bool]:
    """One snapshot row from a group of duplicate entries (studies.jsonl facts first)."""
    members = sorted(members, key=lambda e: (SOURCE_FILES.index(e.source), e.line))
    studies = [e for e in members if e.record_id]
    if len(studies) > 1:
        where = ", ".join(f"{e.record_id} (line {e.line})" for e in studies)
        raise InputError(f"two studies records look like one publication: {where}", file=file_of[studies[0].source],
                         row=studies[1].line, field="record_id")
    for name in ("pmid", "doi", "pmcid", "nct_id", "other_registry_id"):
        values = {getattr(e, name) for e in members if getattr(e, name)}
        if len(values) > 1:
            raise InputError(f"conflicting {name} values {sorted(values)} for one publication",
                             file=file_of[members[-1].source], row=members[-1].line, field=name)
    g = {name: _first([getattr(e, name) for e in members]) for name in (
        "pmid", "doi", "pmcid", "nct_id", "other_registry_id", "first_author", "year", "journal", "title",
        "registry_status", "results_posted", "source_url")}
    study_id = studies[0].record_id if studies else _slug_id(members[0], taken, stop)
    if study_id in taken:
        raise InputError(f"duplicate study id {study_id!r}", file=file_of[members[0].source], row=members[0].line,
                         field="record_id")
    taken.add(study_id)
    key_source = next((k for k, v in (("pmid", g["pmid"]), ("doi", g["doi"]), ("pmcid", g["pmcid"]),
                                      ("nct", g["nct_id"]), ("registry", g["other_registry_id"])) if v), "title")
    year = g["year"]
    row: dict[str, Any] = {
        "pmid": g["pmid"] or "",
        "version": None,  # PubMed version not shown on the pages read; a live pull fills it
        "title": g["title"] or "",
        "abstract": "",   # empty by design: abstracts are not copied into the project
        "journal": g["journal"] or "",
        "year": year,
        "pub_date": str(year) if year is not None else "",
        "authors": [],    # full author lists were not compiled (first_author holds what was seen)
        "publication_types": _union([e.publication_types for e in members]),
        "mesh_terms": _union([e.mesh_terms for e in members]),
        "keywords": _union([e.keywords for e in members]),
        "doi": g["doi"] or "",
        "pmcid": g["pmcid"] or "",
        "language": "",
        "retracted": None,
        "entrez_date": "",
        "study_id": study_id,
        "key_source": key_source,
        "first_author": g["first_author"] or "",
        "nct_id": g["nct_id"] or "",
        "other_registry_id": g["other_registry_id"] or "",
        "source_labels": _union([e.source_labels for e in members]),
        "registry_status": g["registry_status"] or "",
        "results_posted": g["results_posted"] or "",
        "linked_study_id": "",
        "sources": [f"{e.source}:{e.line}" for e in members],
        "source_url": g["source_url"] or "",
    }
    truncated = any(e.mesh_truncated for e in members)
    return row, truncated


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_snapshot(facts_dir: str | Path | None = None, topic: Topic | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Records frame (lists for multi-valued fields) and manifest, built from the evidence facts."""
    facts_dir = Path(facts_dir) if facts_dir is not None else paths.evidence_facts_dir()
    topic = topic or load_topic(paths.default_topic())
    stop = topic_stop_words(topic)
    files = {name: facts_dir / name for name in SOURCE_FILES}
    entries: list[_Entry] = []
    per_file: dict[str, int] = {}
    for name, path in files.items():
        parsed = read_jsonl(path)
        per_file[name] = len(parsed)
        make = _entry_from_study if name == "studies.jsonl" else _entry_from_bib
        entries += [make(number, obj, path) for number, obj in parsed]

    groups = _group(entries)
    taken = {e.record_id for e in entries if e.record_id}
    taken_ids: set[str] = set()
    rows, merged, truncated_mesh = [], [], []
    # studies ids are claimed first so a bibliography slug can never take one
    for members, _kinds in groups:
        row, truncated = _merge(members, files, taken_ids | (taken - {m.record_id for m in members}), stop)
        taken_ids.add(row["study_id"])
        rows.append(row)
        if len(members) > 1:
            merged.append({"study_id": row["study_id"], "members": row["sources"], "matched_on": _shared_kinds(members)})
        if truncated:
            truncated_mesh.append(row["study_id"])
    df = pd.DataFrame(rows, columns=list(SNAPSHOT_COLUMNS))
    # link registrations to the paper carrying the same NCT id (an identifier printed in the paper)
    papers = df[(df["key_source"] != "nct") & (df["nct_id"] != "")]
    for idx in df.index[df["key_source"] == "nct"]:
        match = papers.loc[papers["nct_id"] == df.at[idx, "nct_id"], "study_id"]
        df.at[idx, "linked_study_id"] = "; ".join(sorted(match))
    df["version"] = df["version"].astype("Int64")
    df["year"] = df["year"].astype("Int64")
    df["retracted"] = df["retracted"].astype("boolean")
    df = df.assign(_y=df["year"].fillna(9999)).sort_values(["_y", "study_id"], kind="stable").drop(columns="_y")
    df = df.reset_index(drop=True)

    identified = sum(per_file.values())
    manifest: dict[str, Any] = {
        "snapshot": f"{topic.name} offline evidence snapshot",
        "compiled": COMPILED,
        "how_compiled": (
            "Built by scripts/build_snapshot.py from the evidence facts (compiled by a reviewer from stored copies of "
            "public PubMed, PMC, journal and trial-registry pages). Entries from the two files were deduplicated by "
            "PMID, DOI, PMCID, registry id (registrations only) and normalised title (same year). Only bibliographic "
            "facts were kept; no network access, no PubMed query was run."
        ),
        "sources": [
            {"file": f"../shared/evidence-facts/{name}", "sha256": _sha256(path), "entries": per_file[name]}
            for name, path in files.items()
        ],
        "counts": {
            "identified": identified,
            "duplicates_removed": identified - len(df),
            "records": int(len(df)),
            "with_pmid": int((df["pmid"] != "").sum()),
            "without_pmid": int((df["pmid"] == "").sum()),
            "trial_registrations": int(df["key_source"].isin(["nct", "registry"]).sum()),
            "by_key_source": {k: int(v) for k, v in sorted(df["key_source"].value_counts().items())},
        },
        "deduplication": {
            "keys": ["pmid", "doi", "pmcid", "nct/registry id (registrations only)", "normalised title + year"],
            "merged_groups": merged,
            "note": "A registration and the paper reporting its trial are kept as separate records (linked_study_id).",
        },
        "columns": list(SNAPSHOT_COLUMNS),
        "unknown": {
            "pmid_missing": sorted(df.loc[df["pmid"] == "", "study_id"]),
            "abstract": "empty for every record by design: abstracts are not copied; a live pull fills them",
            "authors": "full author lists not compiled; first_author holds the first author where a page showed it",
            "first_author_missing": sorted(df.loc[(df["first_author"] == "") & (df["key_source"] != "nct")
                                                  & (df["key_source"] != "registry"), "study_id"]),
            "year_missing": sorted(df.loc[df["year"].isna(), "study_id"]),
            "version": "PubMed record version not shown on the pages read (empty)",
            "language_entrez_date_retracted": "not shown on the pages read (empty)",
            "publication_types": "PubMed publication types were shown for few records; publisher labels are kept "
                                 "separately in source_labels",
            "mesh_terms": "MeSH shown for few records; lists marked truncated on the source page: "
                          + (", ".join(sorted(truncated_mesh)) or "none"),
        },
        "secrets": "none: built offline from local files; no API key or e-mail was used or stored",
    }
    return df, manifest


def frame_to_csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Multi-valued fields joined with '; ' for CSV."""
    out = df.copy()
    for col in SNAPSHOT_MULTI & set(out.columns):
        out[col] = out[col].map(lambda v: MULTI_SEP.join(v) if isinstance(v, list) else ("" if v is None else v))
    return out


def write_snapshot(out_dir: str | Path, facts_dir: str | Path | None = None,
                   topic: Topic | None = None) -> tuple[Path, Path]:
    """Build and write ``records.csv`` and ``manifest.json`` (byte-identical for identical facts)."""
    out_dir = Path(out_dir)
    df, manifest = build_snapshot(facts_dir, topic)
    records = write_table(frame_to_csv_frame(df), out_dir / "records.csv")
    man = out_dir / "manifest.json"
    atomic_write_text(man, json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n")
    return records, man


# ----------------------------------------------------------------------------------------------- loading


def snapshot_dir() -> Path:
    return paths.evidence_dir() / "snapshot"


def load_records(path: str | Path | None = None) -> pd.DataFrame:
    """The snapshot records table with lists for multi-valued fields and typed year/version/retracted."""
    from evidence_review.review.records_frame import read_records_csv

    path = Path(path) if path is not None else snapshot_dir() / "records.csv"
    return read_records_csv(path, require_extras=True)


def load_manifest(path: str | Path | None = None) -> dict[str, Any]:
    path = Path(path) if path is not None else snapshot_dir() / "manifest.json"
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("snapshot manifest not found", file=path) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", file=path, row=exc.lineno) from exc
