"""BibTeX writer and a reader for what it writes (and for plain exports of reference managers).

Why: LaTeX users and JabRef/Zotero/BibDesk exchange ``.bib`` files. Each record becomes
``@article{<key>, ...}``; the key is the entry id when it is a valid BibTeX key (the review's
``study_id``), otherwise ``pmid<PMID>`` or a DOI-derived key, made unique with a, b, ....
Fields: title, author ("Last, Initials and ..."; a collective name in braces), journal, year,
month, doi, pmid, pmcid, abstract, keywords, language. The screening decision goes in ``note``
("Screening decision: ...") and in ``keywords`` ("screening: excluded"). LaTeX specials
(``& % $ # _ { } ~ ^ \\``) are escaped on writing and unescaped on reading; the original entry id is
kept in ``ids`` so it round-trips even when the key had to change.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from evidence_review.errors import InputError
from evidence_review.formats.entries import (Entry, decision_note, join_author, parse_decision_note,
                                             split_author)

KEY_OK = re.compile(r"^[A-Za-z][A-Za-z0-9_:.\-]*$")
_ESC = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
        "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_UNESC = sorted(((v, k) for k, v in _ESC.items()), key=lambda kv: -len(kv[0]))
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
SCREENING_KW = "screening: "


def escape(text: str) -> str:
    return "".join(_ESC.get(ch, ch) for ch in " ".join(str(text).split()))


def unescape(text: str) -> str:
    for esc, ch in _UNESC:
        text = text.replace(esc, ch)
    return text


def _key(e: Entry) -> str:
    if KEY_OK.match(e.id):
        return e.id
    if e.pmid:
        return f"pmid{e.pmid}"
    base = re.sub(r"[^A-Za-z0-9]+", "_", e.doi or e.id).strip("_")
    return "ref_" + (base or "untitled")


def _author(name: str) -> str:
    family, given = split_author(name)
    return f"{escape(family)}, {escape(given)}" if given else "{" + escape(family) + "}"


def entry_text(e: Entry, key: str) -> str:
    """One ``@article`` entry."""
    fields: list[tuple[str, str]] = []
    if e.title:
        fields.append(("title", "{" + escape(e.title) + "}"))   # double braces keep the case
    if e.authors:
        fields.append(("author", " and ".join(_author(a) for a in e.authors)))
    for name, val in (("journal", e.journal), ("year", str(e.year) if e.year else "")):
        if val:
            fields.append((name, escape(val)))
    month = e.pub_date.split("-")[1] if e.pub_date.count("-") >= 1 else ""
    if month.isdigit() and 1 <= int(month) <= 12:
        fields.append(("month", MONTHS[int(month) - 1]))
    for name, val in (("doi", e.doi), ("pmid", e.pmid), ("pmcid", e.pmcid), ("language", e.language),
                      ("abstract", e.abstract)):
        if val:
            fields.append((name, escape(val)))
    kws = list(e.keywords) + list(e.mesh_terms) + ([SCREENING_KW + e.decision] if e.decision else [])
    if kws:
        fields.append(("keywords", ", ".join(escape(k.replace(",", ";")) for k in kws)))
    if e.decision:
        fields.append(("note", escape(decision_note(e))))
    if key != e.id:
        fields.append(("ids", escape(e.id)))
    body = ",\n".join(f"  {name} = {{{val}}}" for name, val in fields)
    return f"@article{{{key},\n{body}\n}}\n"


def write_bibtex(entries: Iterable[Entry]) -> str:
    """BibTeX text; keys made unique in order of appearance."""
    seen: dict[str, int] = {}
    out = []
    for e in entries:
        key = _key(e)
        if key in seen:
            seen[key] += 1
            suffix, n = "", seen[key]
            while n:
                n, r = divmod(n - 1, 26)
                suffix = chr(97 + r) + suffix
            key = f"{key}{suffix}"
        else:
            seen[key] = 0
        out.append(entry_text(e, key))
    return "\n".join(out)


def _braced(text: str, i: int, source, line: int) -> tuple[str, int]:
    """Content of the brace group opening at text[i] (escaped braces skipped) and the index after it."""
    depth, j = 0, i
    while j < len(text):
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j], j + 1
        j += 1
    raise InputError("unbalanced braces", file=source, row=line)


def parse_bibtex(text: str, source: str | Path | None = None) -> list[tuple[str, str, dict[str, str]]]:
    """(type, key, fields) per entry; field values unescaped, outer braces or quotes removed."""
    out = []
    for m in re.finditer(r"@(\w+)\s*\{", text):
        kind = m.group(1).lower()
        if kind in ("comment", "preamble", "string"):
            continue
        line = text.count("\n", 0, m.start()) + 1
        body, _ = _braced(text, m.end() - 1, source, line)
        key, _, rest = body.partition(",")
        fields: dict[str, str] = {}
        pos = 0
        while True:
            fm = re.compile(r"\s*([A-Za-z][\w\-]*)\s*=\s*").match(rest, pos)
            if not fm:
                break
            name, pos = fm.group(1).lower(), fm.end()
            if pos < len(rest) and rest[pos] == "{":
                val, pos = _braced(rest, pos, source, line)
            elif pos < len(rest) and rest[pos] == '"':
                end = rest.index('"', pos + 1)
                val, pos = rest[pos + 1:end], end + 1
            else:
                vm = re.compile(r"[^,\s}]+").match(rest, pos)
                if not vm:
                    raise InputError(f"field '{name}' has no value", file=source, row=line, field=name)
                val, pos = vm.group(0), vm.end()
            fields[name] = " ".join(val.split())
            cm = re.compile(r"\s*,").match(rest, pos)
            if not cm:
                break
            pos = cm.end()
        out.append((kind, key.strip(), fields))
    return out


def _strip_braces(text: str) -> str:
    text = text.strip()
    while text.startswith("{") and text.endswith("}") and _braced(text, 0, None, 0)[1] == len(text):
        text = text[1:-1].strip()
    return text


def _read_author(a: str) -> str:
    a = a.strip()
    if a.startswith("{") and a.endswith("}"):
        return unescape(_strip_braces(a))
    family, _, given = a.partition(",")
    return join_author(unescape(family), unescape(given))


def entry_from_bibtex(key: str, f: dict[str, str]) -> Entry:
    """One parsed BibTeX entry -> :class:`Entry`."""
    decision = stage = reason = ""
    parsed = parse_decision_note(unescape(f.get("note", "")))
    if parsed:
        decision, stage, reason = parsed
    kws = [unescape(k).strip() for k in f.get("keywords", "").split(",") if k.strip()]
    year = re.match(r"\d{4}", f.get("year", ""))
    month = f.get("month", "").lower()[:3]
    pub_date = year.group(0) if year else ""
    if pub_date and month in MONTHS:
        pub_date += f"-{MONTHS.index(month) + 1:02d}"
    authors = [a for a in re.split(r"\s+and\s+", f.get("author", "")) if a.strip()]
    return Entry(
        id=unescape(f.get("ids", "")) or key, title=unescape(_strip_braces(f.get("title", ""))),
        authors=tuple(_read_author(a) for a in authors), year=int(year.group(0)) if year else None,
        pub_date=pub_date, journal=unescape(f.get("journal", "")), abstract=unescape(f.get("abstract", "")),
        doi=unescape(f.get("doi", "")), pmid=f.get("pmid", ""), pmcid=f.get("pmcid", ""),
        language=f.get("language", ""), keywords=tuple(k for k in kws if not k.startswith(SCREENING_KW)),
        decision=decision, stage=stage, reason=reason,
    )


def read_bibtex(path: str | Path) -> list[Entry]:
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    return [entry_from_bibtex(k, f) for _, k, f in parse_bibtex(path.read_text(encoding="utf-8-sig"), path)]
