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


@pytest.fixture(autouse=True)
def isolated_rate_budget(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own machine-wide rate-limit state (inherited by subprocesses it starts), so
    tests never wait on each other's budgets nor on a developer's real pulls."""
    d = tmp_path_factory.mktemp("ratelimit")
    monkeypatch.setenv("EVIDENCE_REVIEW_RATE_DIR", str(d))
    return d
