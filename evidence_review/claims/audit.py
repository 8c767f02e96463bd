"""Audit one clinic page: units -> roles -> test specifications -> verdicts from the one engine.

Every unit of the page appears in the output, in page order: claims with their category, rule,
verdict, certainty, studies and reason; non-claims with their role and the reason for it, and
empty verdict columns (they are never judged). Verdicts are cached by test specification, so a long
page costs one rule evaluation per distinct test, not per sentence.

A page larger than :data:`MAX_PAGE_BYTES` is refused with an InputError (exit 2) before it is read:
the audit is linear in page size, but a clinic page is rarely above 100 KB and a multi-megabyte input
is almost always the wrong file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from evidence_review.claims.evidence_base import EvidenceBase
from evidence_review.claims.roles import classify_all
from evidence_review.claims.sentences import split_units
from evidence_review.claims.specs import spec_for_claim
from evidence_review.errors import InputError
from evidence_review.tables import MULTI_SEP

MAX_PAGE_BYTES = 1_000_000  # 1 MB of UTF-8 text; see docs/audit.md
AUDIT_COLUMNS: tuple[str, ...] = (
    "unit_id", "line", "role", "role_reason", "text", "category", "scope", "rule", "verdict", "certainty",
    "studies", "context_facts", "reason", "downgrades", "cue",
)
_SPEC_KEYS = ("scope", "test_outcome", "test_timepoint", "test_design", "test_population", "rule", "claimed")


def read_page(path: str | Path) -> str:
    """A page as text, refusing missing, oversized and non-UTF-8 files with an InputError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError("page not found", file=path)
    size = path.stat().st_size
    if size > MAX_PAGE_BYTES:
        raise InputError(f"page is {size:,} bytes; the audit limit is {MAX_PAGE_BYTES:,} bytes (split the page or "
                         f"extract its text first)", file=path)
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"page is not UTF-8 text: {exc}", file=path) from exc


def load_evidence_base() -> EvidenceBase:
    """The evidence base the report's verdicts use: the records stage (into a temporary folder, reports/
    untouched) and the effects stage's tables, computed without drawing its figures."""
    from evidence_review.claims.evidence_base import build, load_facts, studies_from_facts
    from evidence_review.pipeline import ReportContext, resolve
    from evidence_review.stats.synthesis import synthesis_tables

    with tempfile.TemporaryDirectory() as tmp:
        ctx = ReportContext(reports=Path(tmp))
        resolve("records")(ctx)
        ctx.tables["extraction"], ctx.tables["effects"], ctx.tables["pooled"], _, _ = synthesis_tables(ctx)
        topic = ctx.topic
        facts = load_facts(topic.files.context_facts, topic)
        studies = studies_from_facts(topic.files.studies)
        return build(ctx.tables, facts=facts, studies=studies, topic=topic)


def audit_text(text: str, eb: EvidenceBase, source: str = "page") -> pd.DataFrame:
    """One row per unit of the page (see module docstring); claims judged, non-claims listed with their role."""
    from evidence_review.claims.verdicts import _rule_label, judge

    units = split_units(text)
    roles = classify_all(units, eb.topic)
    cache: dict[tuple[str, ...], tuple] = {}
    rows = []
    for unit, role in zip(units, roles):
        row = dict.fromkeys(AUDIT_COLUMNS, "")
        row.update(unit_id=f"U{unit.index + 1:04d}", line=unit.line, role=role.role, role_reason=role.reason, text=unit.text)
        if role.role == "claim":
            spec = spec_for_claim(role.context or unit.text, eb.topic)
            key = tuple(spec[k] for k in _SPEC_KEYS)
            if key not in cache:
                claim = {"claim_id": row["unit_id"], "seed_file": source, "quote": unit.text, **spec}
                cache[key] = (judge(claim, eb), _rule_label(claim, eb.topic))
            v, rule = cache[key]
            row.update(category=spec["category"], scope=spec["scope"], rule=rule, verdict=v.verdict,
                       certainty=v.certainty, studies=MULTI_SEP.join(v.studies), context_facts=MULTI_SEP.join(v.facts),
                       reason=v.reason, downgrades=MULTI_SEP.join(v.downgrades), cue=spec["cue"])
        rows.append(row)
    return pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))
