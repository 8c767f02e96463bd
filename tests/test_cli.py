from __future__ import annotations

import subprocess
import sys

from evidence_review.cli import COMMANDS, main


def test_every_command_has_help(capsys) -> None:
    for name in COMMANDS:
        assert main([name, "--help"]) == 0
        out = capsys.readouterr().out
        assert "usage:" in out


def test_unknown_command_is_usage_error() -> None:
    assert main(["no-such-command"]) == 2


def test_module_entry_point_runs() -> None:
    proc = subprocess.run([sys.executable, "-m", "evidence_review", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "pull" in proc.stdout and "report" in proc.stdout
