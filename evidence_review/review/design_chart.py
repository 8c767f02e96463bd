"""Records by publication year and study design as a stacked bar chart (notebook 01's figure).

Built on :func:`design.design_by_year` so the chart and the table can never disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from evidence_review.review.design import design_by_year

if TYPE_CHECKING:  # pragma: no cover
    import matplotlib.figure


def design_by_year_figure(table: pd.DataFrame, title: str = "Records by publication year and study design"
                          ) -> "matplotlib.figure.Figure":
    """One bar per publication year (records without a year last), stacked by design label."""
    import matplotlib.pyplot as plt

    counts = design_by_year(table).drop(index="total", errors="ignore").drop(columns="total", errors="ignore")
    counts = counts.loc[:, counts.sum(axis=0).sort_values(ascending=False).index]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.35 * len(counts) + 3), 4.2))
    bottom = pd.Series(0, index=counts.index)
    cmap = plt.get_cmap("tab20")
    for i, design in enumerate(counts.columns):
        ax.bar(counts.index.astype(str), counts[design], bottom=bottom, color=cmap(i % 20),
               label=str(design).replace("_", " "))
        bottom = bottom + counts[design]
    ax.set_ylabel("records")
    ax.set_xlabel("publication year")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=90)
    ax.legend(fontsize=7, ncol=2, frameon=False, loc="upper left")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
