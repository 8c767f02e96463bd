"""A meta-analysis of any CSV with metafor column names, in one call (what notebook 03 and a reader's own
data use): effect sizes from the measure's inputs, ``rma`` (or a meta-regression with moderators) and a
forest plot. The same steps as ``python -m evidence_review meta``, returned as objects instead of printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from evidence_review.stats import extraction, meta, metareg

LABEL_COLUMNS = ("slab", "study", "study_id", "label", "author")


@dataclass
class CsvMeta:
    data: pd.DataFrame   # the CSV with yi, vi
    result: Any          # meta.MetaResult, or metareg.MetaRegResult when moderators were given
    figure: Any          # matplotlib Figure of the forest plot


def labels(df: pd.DataFrame) -> list[str]:
    """Forest-plot row labels: the first label-like column ('author' gets ', year' when there is one)."""
    for col in LABEL_COLUMNS:
        if col in df.columns:
            out = [str(v) for v in df[col]]
            if col == "author" and "year" in df.columns:
                out = [f"{a}, {y}" for a, y in zip(out, df["year"])]
            return out
    return [f"study {i + 1}" for i in range(len(df))]


def analyse_csv(path: str | Path, measure: str, method: str = "REML", test: str = "z", level: float = 0.95,
                mods: Sequence[str] | None = None, title: str | None = None) -> CsvMeta:
    """Pool (or meta-regress on ``mods``) the rows of ``path`` and draw their forest plot."""
    from evidence_review.stats import forest

    path = Path(path)
    df = extraction.effect_inputs(path, measure)
    yi, vi = df["yi"].to_numpy(dtype=float), df["vi"].to_numpy(dtype=float)
    ni = pd.to_numeric(df["ni"], errors="coerce").to_numpy() if "ni" in df.columns else None
    if mods:
        x, names = metareg.design_matrix(df, list(mods), source=str(path))
        res = metareg.metareg(yi, vi, x, names, method=method, test=test, level=level)
        fitted = metareg.fitted_values(res, x)
        coefs = ", ".join(f"{n} {c:.4f}" for n, c in zip(res.names, np.asarray(res.coef)))
        fig = forest.forest_plot(labels(df), yi, vi, measure, title=title or path.name, ni=ni, level=level,
                                 fitted=fitted, footnote=f"Meta-regression ({method}): {coefs}; grey diamonds = fitted values")
        return CsvMeta(df, res, fig)
    res = meta.rma(yi, vi, method=method, test=test, measure=measure, level=level, ni=ni)
    fig = forest.forest_plot(labels(df), yi, vi, measure, result=res, title=title or path.name, ni=ni, level=level)
    return CsvMeta(df, res, fig)
