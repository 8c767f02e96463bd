"""Forest plots: drawn for pooled and descriptive cases, ratio axes on a log scale, stable bytes."""

from __future__ import annotations

import matplotlib.pyplot as plt

from evidence_review.stats import effects, forest, meta

TPOS, TNEG, CPOS, CNEG = [4, 6, 3, 62, 33], [119, 300, 228, 13536, 5036], [11, 29, 11, 248, 47], [128, 274, 209, 12619, 5761]


def test_pooled_ratio_plot_has_log_axis_null_line_and_weights(tmp_path):
    yi, vi = effects.log_rr(TPOS, TNEG, CPOS, CNEG)
    res = meta.rma(yi, vi, measure="RR")
    fig = forest.forest_plot([f"trial {i}" for i in range(5)], yi, vi, "RR", result=res, title="BCG")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert "risk ratio" in ax.get_xlabel()
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "weight" in texts and "PI [" in texts and "%" in texts
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-2].startswith("Pooled (REML; k = 5)") and "prediction interval" in labels[-1]
    written = forest.save_forest(fig, tmp_path, "bcg")
    assert [p.name for p in written] == ["forest_bcg.png", "forest_bcg.svg"]


def test_descriptive_plot_without_pooling_and_pft_needs_n():
    yi, vi = effects.proportion("PFT", [4, 0, 3], [8, 10, 8])
    fig = forest.forest_plot(["a", "b", "c"], yi, vi, "PFT", ni=[8, 10, 8])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert ax.get_xlim()[0] < 0 < 1 < ax.get_xlim()[1]
    plt.close(fig)


def test_same_data_same_bytes(tmp_path):
    yi, vi = effects.log_or(TPOS, TNEG, CPOS, CNEG)
    res = meta.rma(yi, vi, method="DL", measure="OR")
    out = []
    for d in ("a", "b"):
        fig = forest.forest_plot(list("vwxyz"), yi, vi, "OR", result=res)
        out.append([p.read_bytes() for p in forest.save_forest(fig, tmp_path / d, "x")])
    assert out[0] == out[1]
