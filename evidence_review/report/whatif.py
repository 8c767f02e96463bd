"""What if a review decision were different? Change topic parameters on a COPY of the topic file, re-run
the pipeline into a scratch folder and list the verdicts that moved.

The topic file is edited as text (its comments and layout stay; only the named values change), written
beside the scratch reports with ``files.root`` pointing back at the project, and never saved over the
original. A parameter is named by its table and key::

    run_with({"outcome.response_threshold": 0.5})
    run_with({"comparability_rules[ybocs_response_uncontrolled_week1].timepoint_days": [0, 14]})

``table[name]`` picks the entry of an array of tables whose ``analysis`` (or ``id``) is ``name``.
The result is one row per claim whose verdict or certainty changed, with the old and new reasons.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from evidence_review import paths
from evidence_review.errors import InputError

CLAIM_STAGES = ("records", "registers", "risk_of_bias", "effects", "sof", "claims")
MOVED_COLS = ("claim_id", "category", "quote", "old_verdict", "old_certainty", "new_verdict", "new_certainty",
              "old_reason", "new_reason")
_KEY = re.compile(r"^(?P<table>[\w.]+?)(?:\[(?P<name>[^\]]+)\])?\.(?P<key>\w+)$")


def toml_value(value: Any) -> str:
    """A Python value as a TOML literal (booleans, numbers, strings, lists of them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise InputError(f"cannot write {type(value).__name__} {value!r} as a topic value", field=str(value))


def _sections(lines: list[str]) -> list[tuple[str, int, int]]:
    """(header, first line, end line) of every table; the preamble is header ''."""
    starts = [(ln.strip().strip("[]"), i) for i, ln in enumerate(lines) if re.match(r"^\s*\[\[?[\w.]+\]\]?\s*$", ln)]
    bounds = [("", 0)] + starts
    return [(h, i, bounds[k + 1][1] if k + 1 < len(bounds) else len(lines)) for k, (h, i) in enumerate(bounds)]


def override(text: str, dotted: str, value: Any) -> str:
    """``text`` (a topic file) with one value replaced; the key must already exist in that table."""
    m = _KEY.match(dotted)
    if not m:
        raise InputError("a parameter is 'table.key' or 'table[name].key'", field=dotted)
    lines = text.splitlines(keepends=True)
    for header, start, end in _sections(lines):
        if header != m["table"]:
            continue
        body = "".join(lines[start:end])
        if m["name"] and not re.search(rf'^(?:analysis|id)\s*=\s*"{re.escape(m["name"])}"\s*$', body, re.M):
            continue
        for i in range(start, end):
            if re.match(rf"^\s*{re.escape(m['key'])}\s*=", lines[i]):
                lines[i] = f"{m['key']} = {toml_value(value)}\n"
                return "".join(lines)
        raise InputError(f"no key '{m['key']}' in [{header}]" + (f" {m['name']}" if m["name"] else ""), field=dotted)
    raise InputError(f"no table [{m['table']}]" + (f" with analysis/id '{m['name']}'" if m["name"] else ""), field=dotted)


def topic_copy(overrides: Mapping[str, Any], folder: Path, topic_path: Path | None = None) -> Path:
    """Write the changed topic file into ``folder`` (with ``files.root`` set to the original's root)."""
    from evidence_review.review.topic import files_root

    src = Path(topic_path or paths.default_topic(paths.evidence_dir()))
    text = src.read_text(encoding="utf-8")
    for dotted, value in overrides.items():
        text = override(text, dotted, value)
    import tomllib

    root = files_root(tomllib.loads(text).get("files", {}), src)
    text = re.sub(r"^\[files\]\s*$", lambda _m: f"[files]\nroot = {toml_value(str(root))}", text, count=1, flags=re.M)
    out = folder / src.name
    out.write_text(text, encoding="utf-8")
    return out


def claims_table(topic_path: Path, reports: Path) -> pd.DataFrame:
    """Run the pipeline up to the claims stage into ``reports`` and return its claims table."""
    from evidence_review.pipeline import ReportContext, run

    ctx = run(ReportContext(reports=reports, topic_path=topic_path), stages=list(CLAIM_STAGES))
    return ctx.tables["claims"]


def moved(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Claims whose verdict or certainty differs, old next to new, with both reasons."""
    a = before.set_index("claim_id")
    rows = []
    for r in after.to_dict("records"):
        if r["claim_id"] not in a.index:
            continue
        o = a.loc[r["claim_id"]]
        if (o["verdict"], o["certainty"]) == (r["verdict"], r["certainty"]):
            continue
        rows.append({"claim_id": r["claim_id"], "category": r["category"], "quote": r["quote"],
                     "old_verdict": o["verdict"], "old_certainty": o["certainty"],
                     "new_verdict": r["verdict"], "new_certainty": r["certainty"],
                     "old_reason": o["reason"], "new_reason": r["reason"]})
    return pd.DataFrame(rows, columns=MOVED_COLS)


def run_with(overrides: Mapping[str, Any], baseline: pd.DataFrame | None = None,
             topic_path: Path | None = None, workdir: Path | None = None) -> pd.DataFrame:
    """Verdicts that move when the topic's ``overrides`` apply. The baseline is the committed
    ``reports/tables/claims.csv`` (what the unchanged topic gives) unless one is passed."""
    if baseline is None:
        baseline = pd.read_csv(paths.reports_dir() / "tables" / "claims.csv", dtype=str, keep_default_na=False)
    with tempfile.TemporaryDirectory(prefix="er_whatif_") as tmp:
        folder = Path(workdir or tmp)
        changed = topic_copy(overrides, folder, topic_path)
        after = claims_table(changed, folder / "reports")
    return moved(baseline, after)
