"""Turn machine labels into what a reader expects, at render time only (the tables keep their ids).

* times: ``4368 h`` -> ``26 weeks`` (:func:`format_hours`), applied to reasons by :func:`humanise_times`;
* studies: ``rodriguez2013_rct`` -> ``Rodriguez 2013`` (:func:`study_labels` from the records table);
* clinic pages: ``000_ab115e227a6ef148.txt`` -> the page's title line (:func:`page_titles`);
* identifiers: PMIDs, PMC ids, DOIs and NCT ids become links (:func:`link_ids_html` / :func:`link_ids_md`);
* intervals: ``(-1.32 to +0.51)`` is kept on one line in HTML (:func:`keep_numbers_whole`).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

PUBMED = "https://pubmed.ncbi.nlm.nih.gov/{}/"
PMC = "https://www.ncbi.nlm.nih.gov/pmc/articles/{}/"
DOI = "https://doi.org/{}"
NCT = "https://clinicaltrials.gov/study/{}"


# ------------------------------------------------------------------------------------------- time

def _num(x: float) -> str:
    """At most one decimal, none when whole: 26.0 -> '26', 2.5 -> '2.5'."""
    r = round(x, 1)
    return str(int(r)) if r == int(r) else f"{r:.1f}"


def format_hours(hours: float) -> str:
    """Hours in the unit a reader uses: under 1 h in minutes, under 3 days in hours, under 2 weeks in days,
    else weeks (0.67 -> '40 minutes', 2 -> '2 hours', 168 -> '7 days', 4368 -> '26 weeks')."""
    h = float(hours)
    if h < 1:
        value, unit = float(round(h * 60)), "minute"  # 0.67 h is '40 minutes', not '40.2'

    elif h < 72:
        value, unit = h, "hour"
    elif h < 336:
        value, unit = h / 24, "day"
    else:
        value, unit = h / 168, "week"
    text = _num(value)
    return f"{text} {unit}{'' if text == '1' else 's'}"


_HOURS = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?) ?h\b(?![-\w])")


def humanise_times(text: str) -> str:
    """Every '<number> h' in ``text`` rewritten with :func:`format_hours` ('benefit at 4368 h' -> 'benefit
    at 26 weeks'); other numbers are left alone."""
    return _HOURS.sub(lambda m: format_hours(float(m.group(1))), str(text))


# ---------------------------------------------------------------------------------------- studies

_ID_AUTHOR_YEAR = re.compile(r"^([a-z]+)(\d{4})(?:_|$)")


def study_label(first_author: Any, year: Any, study_id: str) -> str:
    """'Mangas Palma 2024' from ('Mangas Palma I', 2024): the surname is all but trailing initials. Without
    a first author, the name and year in an id like 'niciu2013_AE_cases' ('Niciu 2013'), else the id with
    spaces for underscores (as the risk-of-bias labels print it)."""
    words = str(first_author or "").split()
    if len(words) > 1 and words[-1].isupper() and len(words[-1]) <= 3:
        words = words[:-1]
    yr = _year(year)
    if words:
        return f"{' '.join(words)} {yr}".strip()
    m = _ID_AUTHOR_YEAR.match(study_id)
    if m:
        return f"{m.group(1).capitalize()} {m.group(2)}"
    return study_id.replace("_", " ")


def _year(y: Any) -> str:
    try:
        return str(int(float(y)))
    except (TypeError, ValueError):
        return ""


def study_labels(records: pd.DataFrame | None) -> dict[str, str]:
    """study_id -> 'First author year'; two studies with the same label get a, b, ... in id order."""
    if records is None or records.empty or "study_id" not in records:
        return {}
    raw = {str(r["study_id"]): study_label(r.get("first_author"), r.get("year"), str(r["study_id"]))
           for r in records.to_dict("records")}
    by_label: dict[str, list[str]] = {}
    for sid in sorted(raw):
        by_label.setdefault(raw[sid], []).append(sid)
    out = {}
    for label, sids in by_label.items():
        for i, sid in enumerate(sids):
            out[sid] = label if len(sids) == 1 else f"{label}{chr(ord('a') + i)}"
    return out


def replace_ids(text: str, labels: Mapping[str, str]) -> str:
    """Study ids inside free text replaced by their labels (longest id first, whole words only)."""
    if not labels or not text:
        return str(text or "")
    pattern = _id_pattern(tuple(sorted(labels, key=len, reverse=True)))
    return pattern.sub(lambda m: labels[m.group(0)], str(text))


_PATTERNS: dict[tuple[str, ...], re.Pattern] = {}


def _id_pattern(ids: tuple[str, ...]) -> re.Pattern:
    if ids not in _PATTERNS:
        _PATTERNS[ids] = re.compile(r"(?<![\w])(?:" + "|".join(re.escape(i) for i in ids) + r")(?![\w])")
    return _PATTERNS[ids]


# ------------------------------------------------------------------------------------ clinic pages

def page_title(path: Path, limit: int = 70) -> str:
    """The first non-empty line of a page (trailing ':' dropped), shortened at a word to ``limit``."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return path.name
    first = next((ln.strip() for ln in lines if ln.strip()), path.name).rstrip(":").strip()
    if len(first) <= limit:
        return first
    cut = first[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def page_titles(pages_dir: Path | None, seed_files: Any) -> dict[str, str]:
    """seed file name -> its title line; a page that is missing keeps its file name."""
    out = {}
    for name in sorted(set(map(str, seed_files))):
        out[name] = page_title(pages_dir / name) if pages_dir is not None and (pages_dir / name).is_file() else name
    return out


# ------------------------------------------------------------------------------------- identifiers

_IDS = re.compile(
    r"(?P<pmid>PMID:? ?(?P<pmid_n>\d{4,9}))"
    r"|(?P<pmc>\bPMC\d{4,9}\b)"
    r"|(?P<doi>(?:DOI:? ?|doi:)(?P<doi_v>10\.\d{4,9}/[^\s;,\]\)]*[^\s;,.\]\)]))"
    r"|(?P<nct>\bNCT\d{8}\b)"
)


def _url(m: re.Match) -> tuple[str, str]:
    if m.group("pmid"):
        return PUBMED.format(m.group("pmid_n")), m.group(0)
    if m.group("pmc"):
        return PMC.format(m.group("pmc")), m.group(0)
    if m.group("doi"):
        return DOI.format(m.group("doi_v")), m.group(0)
    return NCT.format(m.group("nct")), m.group(0)


def link_ids_html(text: str) -> str:
    """Escape ``text`` for HTML, link every PMID, PMC id, DOI and NCT id in it and keep number ranges of
    the rest on one line (:func:`keep_numbers_whole`)."""
    out, pos = [], 0
    text = str(text)
    for m in _IDS.finditer(text):
        url, shown = _url(m)
        out.append(keep_numbers_whole(html.escape(text[pos:m.start()], quote=False)))
        out.append(f'<a href="{html.escape(url)}">{html.escape(shown, quote=False)}</a>')
        pos = m.end()
    out.append(keep_numbers_whole(html.escape(text[pos:], quote=False)))
    return "".join(out)


def link_ids_md(text: str) -> str:
    """Markdown links for every PMID, PMC id, DOI and NCT id in ``text``."""
    return _IDS.sub(lambda m: "[{1}]({0})".format(*_url(m)), str(text))


# --------------------------------------------------------------------------------------- intervals

_INTERVAL = re.compile(r"[-+−]?\d+(?:\.\d+)?(?:%)?(?: to |-|–)[-+−]?\d+(?:\.\d+)?%?")


def keep_numbers_whole(escaped_html: str) -> str:
    """Wrap 'a to b' / 'a-b' number ranges of already escaped HTML in a no-wrap span, so a narrow cell
    breaks between words, never inside an interval."""
    return _INTERVAL.sub(lambda m: f'<span class="nw">{m.group(0)}</span>', escaped_html)
