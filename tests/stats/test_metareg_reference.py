"""Meta-regression validated against numbers printed by R's metafor for the BCG latitude model.

Every reference number sits beside the R call that produced it and the place it was published.
"Printed precision": our value rounded to the printed digits equals the printed value
(|ours - ref| <= half a unit in the last printed digit).

Data: dat.bcg (Colditz et al. 1994, JAMA 271:698-702), 13 trials; tpos/tneg/cpos/cneg and the
moderators ablat (absolute latitude) and alloc (allocation) as printed by ``dat.bcg`` in metafor's
README (github.com/wviechtb/metafor, README.md, section "Example"), which also prints all 13 log risk
ratios checked below.

Sources of the model output
- [README]  metafor README.md, "Example": ``rma(yi, vi, mods = ~ ablat, data=dat, test="knha")``.
- [RoBMA]   RoBMA vignette "Bayesian Meta-Analysis" (FBartos/RoBMA, articles/02-bayesian-meta-analysis),
            which prints ``metafor::rma(yi, vi, mods = ~ ablat, data = dat)`` (REML, z tests) beside its
            Bayesian counterpart.
- [anova]   metafor tests/testthat/test_misc_anova.r: ``anova(rma(yi, vi, mods = ~ ablat + alloc), btt=3:4)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evidence_review.stats import effects, meta, metareg

from test_metafor_reference import CNEG, CPOS, TNEG, TPOS, close, printed

ABLAT = [44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33]
ALLOC = ["random"] * 4 + ["alternate"] * 2 + ["random"] * 3 + ["systematic"] * 4


@pytest.fixture(scope="module")
def bcg() -> pd.DataFrame:
    d = effects.escalc("RR", ai=TPOS, bi=TNEG, ci=CPOS, di=CNEG)
    d["ablat"] = ABLAT
    d["alloc"] = ALLOC
    return d


def test_bcg_all_13_log_risk_ratios(bcg):
    # [README] escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)
    yi = [-0.8893, -1.5854, -1.3481, -1.4416, -0.2175, -0.7861, -1.6209, 0.0120, -0.4694, -1.3713,
          -0.3394, 0.4459, -0.0173]
    vi = [0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069, 0.2230, 0.0040, 0.0564, 0.0730, 0.0124,
          0.5325, 0.0714]
    for i in range(13):
        printed(bcg["yi"][i], yi[i])
        printed(bcg["vi"][i], vi[i])


def test_ablat_reml_z(bcg):
    # [RoBMA] R: rma(yi, vi, mods = ~ ablat, data = dat)      (REML, Wald z tests)
    r = metareg.metareg_frame(bcg, ["ablat"])
    assert r.names == ("intrcpt", "ablat") and r.converged
    printed(r.tau2, 0.0764)              # tau^2 (estimated amount of residual heterogeneity)
    printed(r.tau2_se, 0.0591)           # (SE = 0.0591)
    printed(np.sqrt(r.tau2), 0.2763)     # tau
    printed(r.i2, 68.39, dp=2)           # I^2 (residual)
    printed(r.h2, 3.16, dp=2)            # H^2
    printed(r.r2, 75.62, dp=2)           # R^2 (amount of heterogeneity accounted for)
    printed(r.qe, 30.7331)               # QE(df = 11)
    assert r.qe_df == 11
    printed(r.qe_p, 0.0012)              # p-val = 0.0012
    printed(r.qm.stat, 16.3571)          # QM(df = 1)
    assert r.qm.df1 == 1 and r.qm.kind == "chi2" and r.qm.coefficients == ("ablat",)
    assert r.qm.pval < 1e-4              # p-val < .0001
    ref = {  # estimate, se, zval, pval, ci.lb, ci.ub
        "intrcpt": (0.2515, 0.2491, 1.0095, 0.3127, -0.2368, 0.7397),
        "ablat": (-0.0291, 0.0072, -4.0444, None, -0.0432, -0.0150),
    }
    for i, name in enumerate(r.names):
        est, se, z, p, lo, hi = ref[name]
        printed(r.coef[i], est)
        printed(r.se[i], se)
        printed(r.stat[i], z)
        if p is not None:
            printed(r.pval[i], p)
        printed(r.ci_low[i], lo)
        printed(r.ci_high[i], hi)
    assert r.pval[1] < 1e-4              # "<.0001"


def test_ablat_reml_knapp_hartung(bcg):
    # [README] R: rma(yi, vi, mods = ~ ablat, data=dat, test="knha")
    r = metareg.metareg_frame(bcg, ["ablat"], test="knha")
    printed(r.tau2, 0.0764)              # same tau^2, QE, I^2, H^2, R^2 as the z fit
    printed(r.tau2_se, 0.0591)
    printed(r.i2, 68.39, dp=2)
    printed(r.h2, 3.16, dp=2)
    printed(r.r2, 75.62, dp=2)
    printed(r.qe, 30.7331)
    printed(r.qe_p, 0.0012)
    assert r.qm.kind == "F" and (r.qm.df1, r.qm.df2) == (1, 11) and r.df == 11
    printed(r.qm.stat, 12.5905)          # F(df1 = 1, df2 = 11)
    printed(r.qm.pval, 0.0046)
    ref = {  # estimate, se, tval, pval, ci.lb, ci.ub
        "intrcpt": (0.2515, 0.2839, 0.8857, 0.3948, -0.3735, 0.8764),
        "ablat": (-0.0291, 0.0082, -3.5483, 0.0046, -0.0472, -0.0111),
    }
    for i, name in enumerate(r.names):
        for ours, want in zip((r.coef[i], r.se[i], r.stat[i], r.pval[i], r.ci_low[i], r.ci_high[i]), ref[name]):
            printed(ours, want)


def test_factor_moderator_omnibus_tests(bcg):
    # [anova] R: res <- rma(yi, vi, mods = ~ ablat + alloc, data=dat); anova(res, btt=3:4)
    r = metareg.metareg_frame(bcg, ["ablat", "alloc"])
    assert r.names == ("intrcpt", "ablat", "allocrandom", "allocsystematic")  # R's treatment coding
    w = metareg.wald_test(r, ["allocrandom", "allocsystematic"])
    printed(w.stat, 1.2850)     # sav$QM
    printed(w.pval, 0.5260)     # sav$QMp
    assert w.df1 == 2
    # [anova] the same with test="knha": F with (2, 9) df
    rk = metareg.metareg_frame(bcg, ["ablat", "alloc"], test="knha")
    wk = metareg.wald_test(rk, [2, 3])
    printed(wk.stat, 0.6007)
    printed(wk.pval, 0.5690)
    assert (wk.df1, wk.df2) == (2, 9)


def test_printed_values_reflect_metafors_stopping_rule(bcg):
    # metafor stops Fisher scoring once tau^2 changes by < 1e-5 (control threshold=1e-5, its default,
    # which METAFOR_CONTROL copies). Fully converged, tau^2 moves by less than that threshold and the
    # coefficients do not move at the printed precision; tau^2 and QM move in their 4th decimal.
    tight = metareg.metareg_frame(bcg, ["ablat"], control=meta.Control())
    loose = metareg.metareg_frame(bcg, ["ablat"])
    close(tight.tau2, loose.tau2, tol=1e-5)
    assert tight.iterations > loose.iterations
    for i in range(2):
        printed(tight.coef[i], round(loose.coef[i], 4))
        printed(tight.se[i], round(loose.se[i], 4))
    close(tight.qm.stat, 16.3571, tol=2e-3)
