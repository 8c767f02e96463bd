"""Notebooks in git carry no outputs and no logic (no def/class/lambda): they call the package."""

from __future__ import annotations

import json

import pytest

from evidence_review.notebook_tools import logic_in_notebook, strip_notebook
from evidence_review.paths import PROJECT_ROOT

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


def test_strip_removes_outputs() -> None:
    nb = {"cells": [{"cell_type": "code", "source": ["1+1"], "outputs": [{"x": 1}], "execution_count": 3, "metadata": {}}]}
    out = strip_notebook(nb)
    assert out["cells"][0]["outputs"] == [] and out["cells"][0]["execution_count"] is None


def test_logic_detector_finds_def() -> None:
    nb = {"cells": [{"cell_type": "code", "source": ["def f(x):\n", "    return x\n"]}]}
    assert logic_in_notebook(nb) == ["f"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_notebook_is_stripped_and_thin(path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name}: outputs not stripped (make strip-notebooks)"
            assert cell.get("execution_count") is None
    assert logic_in_notebook(nb) == [], f"{path.name}: move logic into the package"


def test_expected_notebooks_exist() -> None:
    names = {p.name for p in NOTEBOOKS}
    for expected in ("01_literature_pull.ipynb", "02_study_designs.ipynb", "03_effect_sizes.ipynb", "04_claims_vs_evidence.ipynb"):
        assert expected in names
