"""The saved state of a review run, kept with its report: what the next run compares against.

``<reports>/state/<key>.json`` holds, for one run: where its records came from (the identification
label, date, pull), every record (study id, PMID, version, content hash, stream), the included set, the
screening queue, the extraction coverage and each claim's verdict, certainty and cited studies. The key
is ``snapshot`` for the offline run and the pull id for a store run, so re-running the report on the same
pull (after screening, after adding extraction rows) keeps comparing against the *previous* pull's run:
the baseline is the newest saved state of another key whose date is not after this run's.
Same inputs, same bytes: no clock time is written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from evidence_review.atomic import atomic_write_text
from evidence_review.errors import InputError

FORMAT = "evidence-review run state 1"


def state_dir(reports: Path) -> Path:
    return Path(reports) / "state"


def state_key(identification: dict[str, Any]) -> str:
    if identification.get("kind") == "store":
        pull = next((s.get("pull_id") for s in identification.get("streams", []) if s.get("pull_id")), "")
        return re.sub(r"[^A-Za-z0-9_.-]", "_", str(pull)) or "store"
    return "snapshot"


def load(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("run state not found", file=path) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", file=path, row=exc.lineno) from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise InputError(f"not a run state (format must be {FORMAT!r})", file=path, field="format")
    return state


def find_baseline(reports: Path, key: str, date: str) -> tuple[dict[str, Any] | None, Path | None]:
    """The newest saved state of another key dated no later than ``date`` (None on a first run)."""
    folder = state_dir(reports)
    best: tuple[str, str] | None = None
    chosen: tuple[dict[str, Any], Path] | None = None
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.stem == key:
            continue
        try:
            state = load(path)
        except InputError:
            continue  # a damaged or foreign file is never a baseline
        when = str(state.get("date", ""))
        if date and when > date:
            continue
        if best is None or (when, path.stem) > best:
            best, chosen = (when, path.stem), (state, path)
    return chosen if chosen else (None, None)


def save(reports: Path, key: str, state: dict[str, Any]) -> Path:
    path = state_dir(reports) / f"{key}.json"
    atomic_write_text(path, json.dumps({"format": FORMAT, **state}, indent=1, sort_keys=True,
                                       ensure_ascii=False) + "\n")
    return path
