"""A meta-analysis of a CSV with metafor names in one call (notebook 03's default data: dat.bcg)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from evidence_review import paths
from evidence_review.stats import csv_meta, effects, meta, metareg

BCG = paths.project_root() / "notebooks" / "data" / "dat_bcg.csv"


def test_shipped_bcg_csv_gives_metafor_results() -> None:
    got = csv_meta.analyse_csv(BCG, "RR")
    raw = pd.read_csv(BCG)
    ref = effects.escalc("RR", ai=raw["ai"], bi=raw["bi"], ci=raw["ci"], di=raw["di"])
    direct = meta.rma(ref["yi"].to_numpy(), ref["vi"].to_numpy(), method="REML", measure="RR")
    assert got.result.k == 13 and np.isclose(got.result.estimate, direct.estimate)
    assert round(got.result.estimate, 4) == -0.7145  # metafor: rma(yi, vi, data = dat.bcg), estimate -0.7145
    assert got.figure.axes and csv_meta.labels(got.data)[0] == "Aronson, 1948"
    plt.close(got.figure)


def test_moderators_give_a_meta_regression() -> None:
    got = csv_meta.analyse_csv(BCG, "RR", mods=["ablat"])
    assert isinstance(got.result, metareg.MetaRegResult)
    assert [round(c, 4) for c in got.result.coef] == [0.2515, -0.0291]  # metafor mods = ~ ablat
    plt.close(got.figure)


def test_labels_fall_back_to_row_numbers() -> None:
    assert csv_meta.labels(pd.DataFrame({"yi": [1, 2]})) == ["study 1", "study 2"]
