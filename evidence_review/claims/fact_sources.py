"""Trace each context fact to the lines of the compiled evidence facts it rests on.

A fact in ``evidence/context_facts.csv`` may say no more than its source. Each row names the lines it
was written from (``source_line``: ``context_facts.md:144`` or ``studies.jsonl:15;studies_overview.md:21-24``,
files in the shared evidence-facts folder) and a few fragments of those lines (``source_terms``, separated
by ';') that carry its claim. :func:`untraceable` checks that every fragment is on the named lines and
that every number in the statement is there too, or is explained in the ``derived`` column (e.g.
"value 7.7 = 16.5 - 8.8"). The check is a test, not a load-time step, because the shared folder is
optional at run time.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

import pandas as pd

LOCATOR = re.compile(r"^(?P<file>[A-Za-z0-9_.-]+\.(?:md|jsonl)):(?P<start>\d+)(?:-(?P<end>\d+))?$")
NUMBER = re.compile(r"(?<![A-Za-z0-9.])\d+(?:\.\d+)?")
VALUE_COLUMNS = ("value", "value_low", "value_high", "numerator", "denominator", "n")


def parse_locator(text: str) -> list[tuple[str, int, int]]:
    """'a.md:3;b.jsonl:5-7' -> [('a.md', 3, 3), ('b.jsonl', 5, 7)]; ValueError on a bad part."""
    out = []
    for part in (p.strip() for p in str(text).split(";") if p.strip()):
        m = LOCATOR.match(part)
        if not m:
            raise ValueError(f"bad source line {part!r} (expected file.md:LINE or file.md:FIRST-LAST)")
        start = int(m.group("start"))
        end = int(m.group("end") or start)
        if end < start or start < 1:
            raise ValueError(f"bad line range {part!r}")
        out.append((m.group("file"), start, end))
    return out


def normalise(text: str) -> str:
    """Lower case, markdown emphasis and thousands separators removed, dashes and spaces unified."""
    text = str(text).replace("**", "").replace("–", "-").replace("−", "-").replace("µ", "u")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    return re.sub(r"\s+", " ", text).strip().lower()


def _numbers(text: str) -> set[str]:
    return {_canon(n) for n in NUMBER.findall(normalise(text))}


def _canon(n: str) -> str:
    return f"{float(n):g}"


def source_text(facts_dir: Path, locator: str, cache: dict[str, list[str]] | None = None) -> str:
    """The named lines of the compiled facts, joined (IndexError if a line does not exist)."""
    cache = cache if cache is not None else {}
    parts = []
    for name, start, end in parse_locator(locator):
        if name not in cache:
            cache[name] = (facts_dir / name).read_text(encoding="utf-8").splitlines()
        lines = cache[name]
        if end > len(lines):
            raise IndexError(f"{name} has {len(lines)} lines, not {end}")
        parts.extend(lines[start - 1:end])
    return "\n".join(parts)


def untraceable(facts: pd.DataFrame, facts_dir: Path, topics: Iterable[str] | None = None) -> list[str]:
    """One message per problem: a missing locator, a fragment not on its lines, a number nowhere in
    the source lines or the ``derived`` note. Restricted to ``topics`` when given."""
    problems: list[str] = []
    cache: dict[str, list[str]] = {}
    wanted = set(topics) if topics is not None else None
    for rec in facts.to_dict("records"):
        fid = rec["fact_id"]
        if wanted is not None and rec["topic"] not in wanted:
            continue
        if not str(rec.get("source_line") or "").strip():
            problems.append(f"{fid}: no source_line")
            continue
        try:
            text = normalise(source_text(facts_dir, rec["source_line"], cache))
        except (ValueError, IndexError, OSError) as exc:
            problems.append(f"{fid}: {exc}")
            continue
        terms = [t.strip() for t in str(rec.get("source_terms") or "").split(";") if t.strip()]
        if not terms:
            problems.append(f"{fid}: no source_terms")
        for term in terms:
            if normalise(term) not in text:
                problems.append(f"{fid}: fragment {term!r} is not on {rec['source_line']}")
        have = _numbers(text) | _numbers(str(rec.get("derived") or ""))
        for num in sorted(_numbers(rec["statement"]) - have):
            problems.append(f"{fid}: number {num} in the statement is not on {rec['source_line']} "
                            "and not explained in 'derived'")
        for col in VALUE_COLUMNS:
            cell = str(rec.get(col) or "").strip()
            if NUMBER.fullmatch(cell.lstrip("-")) and _canon(cell.lstrip("-")) not in have:
                problems.append(f"{fid}: {col} {cell} is not on {rec['source_line']} and 'derived' does not say how "
                                "it was obtained")
    return problems
