"""The review topic: what to search for, what to include, which outcome counts.

A topic file (TOML, ``evidence/topics/<name>.toml``) holds the PubMed query, the publication-date window,
the inclusion criteria with the terms the screening rules look for, the outcome of interest (Y-BOCS and its
response definition) and the claims file. ``load_topic`` validates every key and type so a typo fails at
once, naming the file, line and field, instead of silently widening or narrowing the review.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidence_review.errors import InputError


@dataclass(frozen=True)
class Inclusion:
    """Eligibility criteria in words (for the report) and the terms screening rules match."""

    population: str
    intervention: str
    comparator: str
    outcome: str
    study_designs: str
    intervention_terms: tuple[str, ...]
    condition_terms: tuple[str, ...]
    outcome_terms: tuple[str, ...]
    nonhuman_terms: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """The outcome of interest and how a responder is defined (e.g. >= 35% Y-BOCS reduction)."""

    measure: str
    description: str
    response_threshold: float
    response_definition: str


@dataclass(frozen=True)
class RegisterSearch:
    """The trial-register search (ClinicalTrials.gov ``query.cond`` / ``query.intr`` / ``query.term``, ANDed)."""

    cond: str = ""
    intr: str = ""
    term: str = ""


@dataclass(frozen=True)
class Topic:
    name: str
    title: str
    query: str
    date_start: dt.date
    date_end: dt.date
    inclusion: Inclusion
    outcome: Outcome
    claims_file: Path  # as written in the file (relative to the project root unless absolute)
    path: Path
    registers: RegisterSearch | None = None  # optional [registers] table

    @property
    def pubmed_date_range(self) -> tuple[str, str]:
        """(mindate, maxdate) in the YYYY/MM/DD form esearch expects."""
        return self.date_start.strftime("%Y/%m/%d"), self.date_end.strftime("%Y/%m/%d")


# table -> key -> expected type ("str", "strs" = non-empty list of str, "date", "fraction")
_SCHEMA: dict[str, dict[str, str]] = {
    "": {"name": "str", "title": "str", "query": "str", "claims_file": "str"},
    "date_window": {"start": "date", "end": "date"},
    "inclusion": {
        "population": "str",
        "intervention": "str",
        "comparator": "str",
        "outcome": "str",
        "study_designs": "str",
        "intervention_terms": "strs",
        "condition_terms": "strs",
        "outcome_terms": "strs",
        "nonhuman_terms": "strs",
    },
    "outcome": {"measure": "str", "description": "str", "response_threshold": "fraction", "response_definition": "str"},
}


def _line_of(text: str, table: str, key: str | None) -> int | None:
    """Line number of ``key`` inside ``[table]`` (or of the table header when key is None)."""
    current = ""
    header = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(#.*)?$")
    for number, line in enumerate(text.splitlines(), start=1):
        m = header.match(line)
        if m:
            current = m.group(1)
            if key is None and current == table:
                return number
            continue
        if key is not None and current == table and re.match(rf"^\s*{re.escape(key)}\s*=", line):
            return number
    return None


def _check(value: Any, kind: str) -> str | None:
    """None if ``value`` has the expected kind, else a short description of what was expected."""
    if kind == "str":
        return None if isinstance(value, str) and value.strip() else "a non-empty string"
    if kind == "strs":
        ok = isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value)
        return None if ok else "a non-empty list of non-empty strings"
    if kind == "date":
        ok = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        return None if ok else "a date such as 2026-11-21 (unquoted)"
    if kind == "fraction":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1
        return None if ok else "a number between 0 and 1 (e.g. 0.35 for 35%)"
    raise ValueError(kind)  # pragma: no cover - schema typo


def load_topic(path: str | Path) -> Topic:
    """Read and validate a topic file; raise InputError naming file, line and field on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("topic file not found", file=path) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"topic file is not UTF-8 text: {exc}", file=path) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise InputError(f"malformed TOML: {exc}", file=path, row=int(m.group(1)) if m else None) from exc

    values: dict[str, dict[str, Any]] = {}
    for table, keys in _SCHEMA.items():
        section = data if table == "" else data.get(table)
        if not isinstance(section, dict):
            raise InputError(f"missing table [{table}]", file=path, row=_line_of(text, table, None), field=table)
        values[table] = {}
        for key, kind in keys.items():
            field = f"{table}.{key}" if table else key
            if key not in section:
                raise InputError("missing key", file=path, row=_line_of(text, table, None), field=field)
            problem = _check(section[key], kind)
            if problem:
                raise InputError(
                    f"expected {problem}, got {section[key]!r}", file=path, row=_line_of(text, table, key), field=field
                )
            values[table][key] = section[key]
    top, window, inc, out = values[""], values["date_window"], values["inclusion"], values["outcome"]
    if window["start"] > window["end"]:
        raise InputError("start is after end", file=path, row=_line_of(text, "date_window", "start"), field="date_window.start")
    return Topic(
        registers=_registers(data, text, path),
        name=top["name"],
        title=top["title"],
        query=" ".join(top["query"].split()),
        date_start=window["start"],
        date_end=window["end"],
        inclusion=Inclusion(**{k: tuple(v) if isinstance(v, list) else v for k, v in inc.items()}),
        outcome=Outcome(**{k: float(v) if k == "response_threshold" else v for k, v in out.items()}),
        claims_file=Path(top["claims_file"]),
        path=path,
    )


def _registers(data: dict[str, Any], text: str, path: Path) -> RegisterSearch | None:
    """The optional ``[registers]`` table: cond / intr / term strings, at least one of them."""
    section = data.get("registers")
    if section is None:
        return None
    if not isinstance(section, dict):
        raise InputError("expected a table [registers]", file=path, row=_line_of(text, "registers", None), field="registers")
    unknown = sorted(set(section) - {"cond", "intr", "term"})
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(unknown)} (known: cond, intr, term)", file=path,
                         row=_line_of(text, "registers", unknown[0]), field=f"registers.{unknown[0]}")
    for key, value in section.items():
        if _check(value, "str"):
            raise InputError(f"expected a non-empty string, got {value!r}", file=path,
                             row=_line_of(text, "registers", key), field=f"registers.{key}")
    if not section:
        raise InputError("needs at least one of cond, intr, term", file=path,
                         row=_line_of(text, "registers", None), field="registers")
    return RegisterSearch(**{k: " ".join(v.split()) for k, v in section.items()})
