"""The main job (``evidence-review report`` / ``make report``): every stage, in order, offline.

Each stage is a function ``stage(ctx: ReportContext) -> None`` in the module that owns it. It reads
what earlier stages left in ``ctx.tables`` / ``ctx.facts``, writes its own files under ``ctx.reports``
(atomically) and adds its tables to ``ctx``. Data flows one way: a stage never edits an earlier
stage's table.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from evidence_review import paths
from evidence_review.errors import InputError

# name -> "module:function". Order matters.
STAGES: dict[str, str] = {
    "records": "evidence_review.review.screening:report_stage",   # snapshot -> designs -> screening -> PRISMA
    "registers": "evidence_review.review.registers:report_stage",  # registrations -> register stream, non-publication
    "risk_of_bias": "evidence_review.review.risk_of_bias:report_stage",  # curated RoB table -> overall, plots
    "effects": "evidence_review.stats.synthesis:report_stage",    # extraction -> effects -> pooled -> forest plots
    "sof": "evidence_review.stats.sof:report_stage",              # GRADE per outcome -> Summary of Findings
    "claims": "evidence_review.claims.verdicts:report_stage",      # claims registry -> verdicts
    "changes": "evidence_review.report.changes:report_stage",      # what changed since the previous run; run state
    "summary": "evidence_review.report.summary:report_stage",      # summary.md / summary.html
}


@dataclass
class ReportContext:
    """Locations plus the tables each stage hands to the next."""

    root: Path = field(default_factory=paths.project_root)
    evidence: Path = field(default_factory=paths.evidence_dir)
    reports: Path = field(default_factory=paths.reports_dir)
    shared: Path = field(default_factory=paths.shared_dir)
    topic_path: Path | None = None
    store: Path | None = None        # a store folder: the records stage reads its pull instead of the snapshot
    pull_id: str | None = None       # which pull of ``store`` (default: the latest complete one)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.topic_path is None:
            self.topic_path = paths.default_topic(self.evidence)
        self._topic: Any = None

    @property
    def topic(self) -> Any:
        """The loaded topic (review.topic.Topic), read once; a broken file is an error, not a default."""
        if self._topic is None:
            from evidence_review.review.topic import load_topic

            self._topic = load_topic(self.topic_path)
        return self._topic

    @property
    def tables_dir(self) -> Path:
        return self.reports / "tables"

    @property
    def figures_dir(self) -> Path:
        return self.reports / "figures"


def resolve(name: str) -> Callable[[ReportContext], None]:
    if name not in STAGES:
        raise InputError(f"unknown stage '{name}' (known: {', '.join(STAGES)})", field="--stages")
    module_name, func = STAGES[name].split(":")
    return getattr(importlib.import_module(module_name), func)


def run(ctx: ReportContext | None = None, stages: Sequence[str] | None = None, progress: bool = False) -> ReportContext:
    """Run the named stages (default: all) in pipeline order; stages before the first named one
    still run if a later one needs their tables - so we always run from the start up to the last named."""
    ctx = ctx or ReportContext()
    names = list(STAGES)
    if stages:
        for s in stages:
            resolve(s)
        last = max(names.index(s) for s in stages)
        names = names[: last + 1]
    for name in names:
        if progress:
            print(f"[report] stage {name} ...", flush=True)
        resolve(name)(ctx)
    return ctx
