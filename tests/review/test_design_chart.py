"""Notebook 01's chart: records by year and design, the same counts as design_by_year."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from evidence_review.review.design import design_by_year
from evidence_review.review.design_chart import design_by_year_figure


def test_bars_add_up_to_the_table() -> None:
    table = pd.DataFrame({"year": ["2012", "2012", "2013", None], "design": ["case_report", "rct_parallel",
                                                                             "case_report", "case_report"]})
    fig = design_by_year_figure(table)
    heights = sum(p.get_height() for p in fig.axes[0].patches)
    assert heights == design_by_year(table).loc["total", "total"] == 4
    assert {t.get_text() for t in fig.axes[0].get_legend().get_texts()} == {"case report", "rct parallel"}
    plt.close(fig)
