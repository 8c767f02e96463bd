"""Split a clinic page into units - sentences and list items - that ``audit`` classifies one by one.

Why units and not sentences: clinic pages put many claims in bullet lists ("Works in hours, not
months") that have no full stop, and headings and FAQ questions sit alone on their lines. So a line
break always ends a unit; a list marker (``•``, ``-``, ``*``, ``✔``, ``1.``, ``2)``) starts a list item
whose marker is dropped; ``Q:``/``A:`` prefixes are dropped and remembered; inside a line we split
after ``.``, ``!`` or ``?`` followed by a space, except after a common abbreviation (e.g., Dr., vs.)
or inside an open quotation (a testimonial in quotes stays one unit with its attribution).

One pass over the text with precompiled patterns: linear in the page size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BULLET = re.compile(r"^\s*(?:[•●◦▪▫■□‣∙·\-–—*+✔✓✅☑➤➜→►▶»]|\(?\d{1,2}[.)]|\(?[a-hA-H][.)](?=\s))\s+")
_QA = re.compile(r"^\s*(Q|A|Question|Answer)\s*[:.]\s+", re.IGNORECASE)
_END = re.compile(r"[.!?…]+[\"”’)\]]*\s+")
_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|Dr|Mr|Mrs|Ms|Prof|St|approx|al|Inc|Ltd|No|Fig|U\.S|a\.m|p\.m)\.|\b[A-Z]\.)$")
_OPEN_QUOTES = "\"“"
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Unit:
    """One sentence or list item of a page.

    ``line`` is the 1-based line number; ``whole_line`` says the unit is its line's only text (a heading
    candidate); ``list_item`` that a list marker opened it; ``prefix`` keeps a dropped 'Q'/'A' label;
    ``paragraph`` counts blank-line separated blocks (a unit's neighbours share it)."""
    index: int
    text: str
    line: int
    paragraph: int
    whole_line: bool
    list_item: bool
    prefix: str = ""

    @property
    def words(self) -> int:
        return len(self.text.split())


def _quote_open(text: str) -> bool:
    """True when ``text`` leaves a quotation open (an odd number of straight quotes, or more “ than ”)."""
    return text.count('"') % 2 == 1 or text.count("“") > text.count("”")


def _split_line(line: str) -> list[str]:
    """Sentences of one line: split after terminal punctuation, not after abbreviations or inside quotes."""
    parts: list[str] = []
    start = 0
    for m in _END.finditer(line):
        head = line[start:m.end()].rstrip()
        if _ABBREV.search(line[start:m.start() + 1]) or _quote_open(head):
            continue
        nxt = line[m.end():m.end() + 1]
        if nxt and (nxt.islower() or nxt in "—–-"):  # a lower-case continuation or an attribution ("— Ana")
            continue
        parts.append(head)
        start = m.end()
    rest = line[start:].strip()
    if rest:
        parts.append(rest)
    return [p for p in (s.strip() for s in parts) if p]


def split_units(text: str) -> list[Unit]:
    """Units of a page in order. Empty lines separate paragraphs; nothing is dropped except markers."""
    units: list[Unit] = []
    paragraph = 0
    blank = True
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = _WS.sub(" ", raw).strip()
        if not line:
            blank = True
            continue
        if blank:
            paragraph += 1
            blank = False
        prefix = ""
        m = _QA.match(line)
        if m:
            prefix = m.group(1)[0].upper()
            line = line[m.end():]
        listed = False
        m = _BULLET.match(line)
        if m and len(line) > m.end():
            listed = True
            line = line[m.end():]
        sentences = _split_line(line)
        for s in sentences:
            units.append(Unit(len(units), s, lineno, paragraph, len(sentences) == 1, listed, prefix))
    return units


def normalize(text: str) -> str:
    """Collapse whitespace runs to one space."""
    return _WS.sub(" ", text).strip()
