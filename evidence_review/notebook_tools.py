"""Notebook hygiene: strip outputs before committing, and check notebooks stay thin.

``python -m evidence_review.notebook_tools strip notebooks/*.ipynb`` (also ``make strip-notebooks``).
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

from evidence_review.atomic import atomic_write_text


def strip_notebook(nb: dict) -> dict:
    """Return ``nb`` with outputs, execution counts and volatile metadata removed."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    nb.get("metadata", {}).pop("widgets", None)
    return nb


def strip_file(path: str | Path) -> bool:
    """Strip one notebook in place; return True if it changed."""
    path = Path(path)
    before = path.read_text(encoding="utf-8")
    after = json.dumps(strip_notebook(json.loads(before)), indent=1, ensure_ascii=False) + "\n"
    if after != before:
        atomic_write_text(path, after)
        return True
    return False


def logic_in_notebook(nb: dict) -> list[str]:
    """Names of functions/classes defined in code cells (notebooks must call the package instead)."""
    found = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell.get("source", []))
        lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            found.append("<unparsable cell>")
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                found.append(getattr(node, "name", "lambda"))
    return found


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "strip":
        print("usage: python -m evidence_review.notebook_tools strip NOTEBOOK...", file=sys.stderr)
        return 2
    for p in argv[1:]:
        if strip_file(p):
            print(f"stripped {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
