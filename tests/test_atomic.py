from __future__ import annotations

import os
import stat

import pytest

from evidence_review.atomic import atomic_path, atomic_write_text


def test_write_replaces_whole_file(tmp_path) -> None:
    target = tmp_path / "sub" / "a.txt"
    atomic_write_text(target, "one\n")
    atomic_write_text(target, "two\n")
    assert target.read_text() == "two\n"
    assert [p.name for p in target.parent.iterdir()] == ["a.txt"]  # no temp files left behind


def test_failure_keeps_old_file_and_leaves_no_temp(tmp_path) -> None:
    target = tmp_path / "a.txt"
    atomic_write_text(target, "old\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_permissions_follow_umask(tmp_path) -> None:
    old = os.umask(0o022)
    try:
        target = tmp_path / "b.txt"
        atomic_write_text(target, "x")
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
    finally:
        os.umask(old)
