"""Comparability rules: which extraction rows may be pooled, read from the topic file.

Why data and not code: what counts as "the same question" (comparison type, comparator class,
outcome, response definition, timepoint window, design, population) is a review decision that belongs
with the topic, and a reader must be able to see it. A rule passes for a set of rows only if every
attribute matches and all rows fall in one population class; otherwise :func:`check` says which
attribute failed, and the synthesis stage reports that instead of a pooled number. Uncontrolled
single-arm proportions can never be a primary analysis (:func:`load_rules` refuses such a rule).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evidence_review.errors import InputError

ROLES = ("primary", "sensitivity", "descriptive")


@dataclass(frozen=True)
class ComparabilityRule:
    """A declared pooling rule (one ``[[comparability_rules]]`` table of the topic file)."""

    analysis: str
    title: str
    role: str
    outcome: str
    comparison_type: str
    comparator_class: str
    designs: tuple[str, ...]
    response_threshold_pct: float | None
    timepoint_days: tuple[float, float]
    fits: tuple[tuple[str, str], ...]  # (measure, test); the first is the rule's main fit
    method: str
    rationale: str


@dataclass(frozen=True)
class Classes:
    """Comparator classes (terms in the comparison text) and population classes (terms in the facts)."""

    comparators: dict[str, tuple[str, ...]]
    populations: dict[str, tuple[str, ...]]


def _need(table: dict, key: str, path: Path, where: str) -> Any:
    if key not in table:
        raise InputError("missing key", file=path, field=f"{where}.{key}")
    return table[key]


def load_rules(path: str | Path) -> tuple[tuple[ComparabilityRule, ...], Classes]:
    """Read ``[[comparability_rules]]``, ``[comparators]`` and ``[populations]`` from a topic file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read topic file: {exc}", file=path) from exc
    classes = Classes(
        comparators={k: tuple(v) for k, v in (data.get("comparators") or {}).items()},
        populations={k: tuple(v) for k, v in (data.get("populations") or {}).items()},
    )
    rules = []
    for i, t in enumerate(data.get("comparability_rules") or []):
        where = f"comparability_rules[{i}]"
        role = _need(t, "role", path, where)
        if role not in ROLES:
            raise InputError(f"role must be one of {', '.join(ROLES)}", file=path, field=f"{where}.role")
        ctype = _need(t, "comparison_type", path, where)
        if role == "primary" and ctype in ("single_group", "pre_post"):
            raise InputError("an uncontrolled single-group analysis cannot be primary", file=path, field=f"{where}.role")
        comp = _need(t, "comparator_class", path, where)
        if comp != "none" and comp not in classes.comparators:
            raise InputError(f"unknown comparator class {comp!r}", file=path, field=f"{where}.comparator_class")
        window = _need(t, "timepoint_days", path, where)
        if not (isinstance(window, list) and len(window) == 2 and window[0] <= window[1]):
            raise InputError("timepoint_days must be [from, to]", file=path, field=f"{where}.timepoint_days")
        thr = t.get("response_threshold_pct")
        rules.append(ComparabilityRule(
            analysis=_need(t, "analysis", path, where), title=_need(t, "title", path, where), role=role,
            outcome=_need(t, "outcome", path, where), comparison_type=ctype, comparator_class=comp,
            designs=tuple(_need(t, "designs", path, where)),
            response_threshold_pct=None if thr is None else float(thr),
            timepoint_days=(float(window[0]), float(window[1])),
            fits=tuple((str(m), str(s)) for m, s in _need(t, "fits", path, where)),
            method=_need(t, "method", path, where), rationale=_need(t, "rationale", path, where)))
    return tuple(rules), classes


def comparator_class(row: pd.Series | dict, classes: Classes) -> str:
    if str(row.get("comparison_type")) in ("single_group", "pre_post"):
        return "none"
    text = str(row.get("comparison") or "").lower()
    for name, terms in classes.comparators.items():
        if any(t.lower() in text for t in terms):
            return name
    return "unclassified"


def population_classes(studies_jsonl: str | Path, classes: Classes) -> dict[str, str]:
    """study id -> population class from the facts' population fields (first class whose term appears)."""
    out: dict[str, str] = {}
    path = Path(studies_jsonl)
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        pop = d.get("population") or {}
        text = json.dumps(pop, ensure_ascii=False).lower()
        if pop.get("treatment_resistant") is True:
            text += " resistant"
        out[d["record_id"]] = next((name for name, terms in classes.populations.items()
                                    if any(t.lower() in text for t in terms)), "unspecified")
    return out


def select(table: pd.DataFrame, rule: ComparabilityRule, classes: Classes) -> pd.DataFrame:
    """Rows meeting every row-level attribute of ``rule`` (population is checked in :func:`check`)."""
    days = pd.to_numeric(table["timepoint_days"], errors="coerce")
    thr = pd.to_numeric(table["response_threshold_pct"], errors="coerce")
    comp = table.apply(lambda r: comparator_class(r, classes), axis=1) if len(table) else pd.Series(dtype=str)
    keep = ((table["outcome"] == rule.outcome) & (table["comparison_type"] == rule.comparison_type)
            & (comp == rule.comparator_class) & table["design"].isin(rule.designs)
            & days.between(*rule.timepoint_days) & (table["measure"] == rule.fits[0][0]))
    if rule.response_threshold_pct is not None:
        keep &= thr == rule.response_threshold_pct
    sel = table[keep]
    dup = sel["study_id"][sel["study_id"].duplicated()]
    if len(dup):
        raise InputError(f"rule {rule.analysis}: study '{dup.iloc[0]}' contributes two rows (same patients)",
                         field="study_id")
    return sel


def check(sel: pd.DataFrame, populations: dict[str, str]) -> str | None:
    """None if the selected rows may be pooled; else the reason they may not."""
    k = sel["study_id"].nunique()
    if k < 2:
        return f"fewer than 2 comparable studies (k = {k})"
    pops = {sid: populations.get(sid, "unspecified") for sid in sel["study_id"]}
    if len(set(pops.values())) > 1 or "unspecified" in pops.values():
        return "populations not comparable (" + "; ".join(f"{s}: {p}" for s, p in pops.items()) + ")"
    return None
