"""Required dependencies are what the package imports; test-only ones live in the test extra.

A dependency nobody imports costs every user an install; an import nobody declares works only by
accident (as a dependency of a dependency). Both directions are checked from the source (AST), with
a short allowlist of requirements that are used without being imported by name.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from evidence_review.paths import PROJECT_ROOT

# Required but never imported by name - each with the reason it is required.
NOT_IMPORTED: dict[str, str] = {
    "jupyterlab": "users open and run the notebooks in notebooks/",
    "ipykernel": "the Python kernel the notebooks run on",
    "pyarrow": "the engine pandas loads for Parquet output (export --format parquet, tables.write_table)",
}
# import name -> distribution, for environments without the distribution's metadata
FALLBACK = {"Bio": "biopython", "yaml": "pyyaml"}


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[;]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())


def imported_modules(root: Path) -> set[str]:
    """Top-level third-party modules imported anywhere under ``root`` (absolute imports, not stdlib)."""
    found: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "evidence_review"}


def distributions(modules: set[str], local: set[str] = frozenset()) -> set[str]:
    """Distribution names that provide ``modules`` (``local`` = modules of the project's own tests/scripts)."""
    index = metadata.packages_distributions()
    out = set()
    for m in modules - set(local):
        dists = index.get(m) or [FALLBACK.get(m, m)]
        out.add(_name(dists[0]))
    return out


def check(required: set[str], imported: set[str], allow: set[str]) -> tuple[set[str], set[str]]:
    """(required but not imported and not allowed, imported but not required)."""
    return required - imported - allow, imported - required


def test_every_required_dependency_is_imported_by_the_package_and_vice_versa() -> None:
    required = {_name(d) for d in _pyproject()["project"]["dependencies"]}
    imported = distributions(imported_modules(PROJECT_ROOT / "evidence_review"))
    unused, undeclared = check(required, imported, set(NOT_IMPORTED))
    assert not unused, f"required but never imported by evidence_review/: {sorted(unused)} (move to an extra)"
    assert not undeclared, f"imported by evidence_review/ but not required: {sorted(undeclared)}"
    assert set(NOT_IMPORTED) <= required, "allowlist names a package that is no longer required"


def test_test_only_imports_are_in_the_test_extra() -> None:
    data = _pyproject()
    available = {_name(d) for d in data["project"]["dependencies"]}
    available |= {_name(d) for d in data["project"]["optional-dependencies"]["test"]}
    tests = PROJECT_ROOT / "tests"
    local = {p.stem for p in tests.rglob("*.py")}
    missing = distributions(imported_modules(tests), local) - available
    assert not missing, f"tests import {sorted(missing)}, which neither the dependencies nor the test extra declare"


def test_checker_can_fail() -> None:
    # a required package nobody imports, and an import nobody requires, must both be reported
    assert check({"pandas", "statsmodels", "jupyterlab"}, {"pandas", "lxml"}, {"jupyterlab"}) == (
        {"statsmodels"}, {"lxml"})
    assert "scipy" in distributions({"scipy"}) and "biopython" in distributions({"Bio"})
