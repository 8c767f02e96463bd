"""Where things live. Every location can be overridden so tests and CI can point elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def project_root() -> Path:
    """The checkout (holds evidence/, reports/, notebooks/)."""
    return Path(os.environ.get("EVIDENCE_REVIEW_ROOT", PROJECT_ROOT))


def evidence_dir() -> Path:
    """Curated, committed inputs: snapshot, topic files, extraction table, claims registry."""
    return project_root() / "evidence"


def reports_dir() -> Path:
    """Outputs of the main job (regenerated, never edited by hand)."""
    return Path(os.environ.get("EVIDENCE_REVIEW_REPORTS", project_root() / "reports"))


def shared_dir() -> Path:
    """The workplace's shared folder beside the checkout (seeds, evidence facts)."""
    return Path(os.environ.get("EVIDENCE_REVIEW_SHARED", project_root().parent / "shared"))


def seeds_dir() -> Path:
    """The clinic pages under review."""
    return shared_dir() / "seeds"


def evidence_facts_dir() -> Path:
    """Compiled facts about the published studies (input to scripts/build_snapshot.py)."""
    return shared_dir() / "evidence-facts"


def default_topic(evidence: Path | None = None) -> Path:
    """The topic file the main job reviews when none is given: ``EVIDENCE_REVIEW_TOPIC``, else the file
    named in ``evidence/topics/default`` (one line), so no topic is written into the code."""
    env = os.environ.get("EVIDENCE_REVIEW_TOPIC")
    if env:
        return Path(env)
    topics = (evidence or evidence_dir()) / "topics"
    return topics / (topics / "default").read_text(encoding="utf-8").strip()
