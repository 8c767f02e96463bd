"""Shared fixtures. Tests never reach the internet: network code runs against the loopback stand-in."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidence_review import paths


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    d = paths.shared_dir()
    if not (d / "seeds").is_dir():
        pytest.fail(f"../shared not found at {d} (set EVIDENCE_REVIEW_SHARED)")
    return d
