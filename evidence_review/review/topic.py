"""The review topic: what to search for, what to include, which outcome counts.

A topic file (TOML, ``evidence/topics/<name>.toml``) holds the PubMed query, the publication-date window,
the inclusion criteria with the terms the screening rules look for, the outcome of interest (Y-BOCS and its
response definition) and the claims file. ``load_topic`` validates every key and type so a typo fails at
once, naming the file, line and field, instead of silently widening or narrowing the review.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

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
    """The outcome of interest and how a responder is defined (e.g. >= 35% fall on the primary scale)."""

    measure: str
    description: str
    response_threshold: float
    response_definition: str
    response_direction: str = "decrease"  # a responder's score falls (symptom scales) or rises
    scales: tuple[str, ...] = ()  # every scale of the condition; measure is the primary one
    lower_is_better: str = ""  # regex: outcome names on which a fall is a benefit
    other_outcomes: str = ""  # regex: outcomes of condition studies that are not the condition's own

    @property
    def threshold_percent(self) -> float:
        """The response threshold as the percent change the extraction table records (35.0 for 0.35)."""
        return round(self.response_threshold * 100, 6)


@dataclass(frozen=True)
class Condition:
    """The review's condition as the curated tables and the reports name it."""

    code: str  # label in curated tables: populations ('<code>', '<code>_tr'), fact topics ('<code>_harms')
    label: str  # how reports and reasons name it
    synonyms: tuple[str, ...]  # a sentence naming one of these is about the condition (claim finder)


@dataclass(frozen=True)
class Context:
    """Other conditions a claim may be about; their claims go to context rules, never to condition studies."""

    conditions: tuple[str, ...] = ()
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    routes: dict[str, dict[str, str]] = field(default_factory=dict)  # condition -> {rule: context rule}
    comorbid: tuple[str, ...] = ()  # named alongside the review's condition: a sentence naming both is about it


@dataclass(frozen=True)
class Files:
    """Curated inputs of the review, resolved against the project root (``{shared}`` = the shared folder)."""

    snapshot: Path
    extraction: Path
    design_overrides: Path
    screening_decisions: Path
    context_facts: Path
    studies: Path
    pages: Path
    study_links: Path
    risk_of_bias: Path
    registrations: Path


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
    report_title: str = ""
    condition: Condition = Condition("condition", "the condition", ())
    intervention_label: str = "the intervention"
    indirect_forms: dict[str, str] = field(default_factory=dict)  # drug form -> why it is indirect evidence
    context: Context = field(default_factory=Context)
    files: Files | None = None
    claims_path: Path | None = None  # claims_file resolved like the curated files
    vocabulary: dict[str, dict[str, Any]] = field(default_factory=dict)  # rule vocabularies (regexes by key)
    registers: RegisterSearch | None = None  # optional [registers] table
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def pubmed_date_range(self) -> tuple[str, str]:
        """(mindate, maxdate) in the YYYY/MM/DD form esearch expects."""
        return self.date_start.strftime("%Y/%m/%d"), self.date_end.strftime("%Y/%m/%d")

    def vocab(self, name: str) -> dict[str, Any]:
        """One rule vocabulary (e.g. 'comparators'); empty when the topic defines none."""
        return self.vocabulary.get(name, {})


# table -> key -> expected type ("str", "strs" = non-empty list of str, "date", "fraction", "regex", "table",
# "strs_table" = table of lists of str, "tables" = table of tables); a trailing "?" marks an optional key.
_SCHEMA: dict[str, dict[str, str]] = {
    "": {"name": "str", "title": "str", "query": "str", "claims_file": "str", "report_title": "str?"},
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
    "outcome": {"measure": "str", "description": "str", "response_threshold": "fraction", "response_definition": "str",
                "response_direction": "direction?", "scales": "strs?", "lower_is_better": "regex?",
                "other_outcomes": "regex?"},
    "condition": {"code": "code?", "label": "str?", "synonyms": "strs?"},
    "intervention": {"label": "str?", "indirect_forms": "table?"},
    "context": {"conditions": "strs?", "synonyms": "strs_table?", "routes": "tables?", "comorbid": "strs?"},
    "files": {"root": "str?", "snapshot": "str?", "extraction": "str?", "design_overrides": "str?", "screening_decisions": "str?",
              "context_facts": "str?", "studies": "str?", "pages": "str?", "study_links": "str?", "risk_of_bias": "str?",
              "registrations": "str?"},
    "vocabulary": {},  # free-form: one table per rule vocabulary
}
# Tables other stages own (validated where they are read).
_FOREIGN_TABLES = frozenset({"registers", "comparators", "populations", "comparability_rules", "swim", "grade", "pico",
                             "sof_outcomes"})
_DEFAULT_FILES = {
    "snapshot": "evidence/snapshot", "extraction": "evidence/extraction.csv",
    "design_overrides": "evidence/design_overrides.csv", "screening_decisions": "evidence/screening_decisions.csv",
    "context_facts": "evidence/context_facts.csv", "studies": "{shared}/evidence-facts/studies.jsonl",
    "pages": "{shared}/seeds", "study_links": "evidence/study_links.csv", "risk_of_bias": "evidence/risk_of_bias.csv",
    "registrations": "evidence/registers/registrations.json",
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
    if kind == "regex":
        if not isinstance(value, str):
            return "a regular expression in a string"
        try:
            re.compile(value)
        except re.error as exc:
            return f"a valid regular expression ({exc})"
        return None
    if kind == "code":
        return None if isinstance(value, str) and re.fullmatch(r"[a-z][a-z0-9_]*", value) else "a lower-case code such as 'flu'"
    if kind == "direction":
        return None if value in ("decrease", "increase") else "'decrease' or 'increase'"
    if kind == "table":
        return None if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()) else "a table of strings"
    if kind == "strs_table":
        ok = isinstance(value, dict) and all(_check(v, "strs") is None for v in value.values())
        return None if ok else "a table of lists of strings"
    if kind == "tables":
        ok = isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())
        return None if ok else "a table of tables"
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

    values = _validated(data, text, path)
    top, window, inc, out = values[""], values["date_window"], values["inclusion"], values["outcome"]
    if window["start"] > window["end"]:
        raise InputError("start is after end", file=path, row=_line_of(text, "date_window", "start"), field="date_window.start")
    cond, intervention, ctx, files = values["condition"], values["intervention"], values["context"], values["files"]
    conditions = tuple(ctx.get("conditions", ()))
    for key in ("synonyms", "routes", "comorbid"):
        for c in ctx.get(key, {}):
            if c not in conditions:
                raise InputError(f"'{c}' is not one of context.conditions {list(conditions)}", file=path,
                                 row=_line_of(text, f"context.{key}", None) or _line_of(text, "context", key),
                                 field=f"context.{key}.{c}")
    outcome_keys = {k: v for k, v in out.items()}
    outcome_keys["response_threshold"] = float(out["response_threshold"])
    if "scales" in outcome_keys:
        outcome_keys["scales"] = tuple(outcome_keys["scales"])
    return Topic(
        name=top["name"],
        title=top["title"],
        query=" ".join(top["query"].split()),
        date_start=window["start"],
        date_end=window["end"],
        inclusion=Inclusion(**{k: tuple(v) if isinstance(v, list) else v for k, v in inc.items()}),
        outcome=Outcome(**outcome_keys),
        claims_file=Path(top["claims_file"]),
        claims_path=resolve_path(top["claims_file"], files_root(files, path)),
        path=path,
        report_title=top.get("report_title") or top["title"],
        condition=Condition(code=cond.get("code", "condition"), label=cond.get("label", cond.get("code", "the condition")),
                            synonyms=tuple(cond.get("synonyms", ()))),
        intervention_label=intervention.get("label", "the intervention"),
        indirect_forms=dict(intervention.get("indirect_forms", {})),
        context=Context(conditions=conditions,
                        synonyms={k: tuple(v) for k, v in ctx.get("synonyms", {}).items()},
                        routes={k: dict(v) for k, v in ctx.get("routes", {}).items()},
                        comorbid=tuple(ctx.get("comorbid", ()))),
        files=_files(files, path),
        vocabulary={k: v for k, v in data.get("vocabulary", {}).items() if isinstance(v, dict)},
        registers=_registers(data, text, path),
        raw=data,
    )


def _files(given: dict[str, str], topic_path: Path) -> Files:
    """Resolve curated file locations against the topic's root (``files.root``, relative to the topic
    file's folder; default ``../..``, the project root for ``evidence/topics/<name>.toml``, so a copied
    evidence folder carries its own files); ``{shared}`` is the shared folder beside the checkout."""
    root = files_root(given, topic_path)
    return Files(**{key: resolve_path(given.get(key, default), root) for key, default in _DEFAULT_FILES.items()})


def files_root(given: dict[str, str], topic_path: Path) -> Path:
    """The folder relative file names in a topic file start from."""
    return (Path(topic_path).parent / given.get("root", "../..")).resolve()


def resolve_path(text: str, root: Path) -> Path:
    """One file name of a topic file: absolute, ``{shared}/...``, or relative to ``root``."""
    from evidence_review import paths

    if text.startswith("{shared}"):
        return paths.shared_dir() / text[len("{shared}"):].lstrip("/")
    p = Path(text)
    return p if p.is_absolute() else root / p


def _validated(data: dict[str, Any], text: str, path: Path) -> dict[str, dict[str, Any]]:
    """Every table and key checked against the schema: unknown ones are errors with a 'did you mean'."""
    for key, value in data.items():
        if key in _SCHEMA or key in _FOREIGN_TABLES or key in _SCHEMA[""]:
            continue
        hint = difflib.get_close_matches(key, [*_SCHEMA, *_SCHEMA[""], *_FOREIGN_TABLES], n=1)
        raise InputError(f"unknown key '{key}'" + (f" (did you mean '{hint[0]}'?)" if hint else ""), file=path,
                         row=_line_of(text, key, None) or _line_of(text, "", key), field=key)
    values: dict[str, dict[str, Any]] = {}
    for table, keys in _SCHEMA.items():
        required = table in ("", "date_window", "inclusion", "outcome")
        section = data if table == "" else data.get(table, None if required else {})
        if not isinstance(section, dict):
            raise InputError(f"missing table [{table}]", file=path, row=_line_of(text, table, None), field=table)
        if table not in ("", "vocabulary"):
            for key in section:
                if key not in keys:
                    hint = difflib.get_close_matches(key, list(keys), n=1)
                    raise InputError(f"unknown key '{key}'" + (f" (did you mean '{hint[0]}'?)" if hint else ""),
                                     file=path, row=_line_of(text, table, key), field=f"{table}.{key}")
        values[table] = {}
        for key, kind in keys.items():
            optional = kind.endswith("?")
            kind = kind.rstrip("?")
            field_name = f"{table}.{key}" if table else key
            if key not in section:
                if optional:
                    continue
                raise InputError("missing key", file=path, row=_line_of(text, table, None), field=field_name)
            problem = _check(section[key], kind)
            if problem:
                raise InputError(f"expected {problem}, got {section[key]!r}", file=path,
                                 row=_line_of(text, table, key), field=field_name)
            values[table][key] = section[key]
    return values


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
