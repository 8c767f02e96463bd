"""Unit tests for evidence_review.stats.effects and the `effects` command (metafor references: test_metafor_reference.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from evidence_review.stats import effects
from evidence_review.cli import main
from evidence_review.errors import InputError


def test_zero_cell_rules_only_touch_tables_that_need_them():
    ai, bi, ci, di = [4, 10], [4, 10], [0, 5], [7, 15]
    y_only0, _ = effects.log_rr(ai, bi, ci, di, to="only0")
    y_none, _ = effects.log_rr(ai, bi, ci, di, to="none")
    y_all, _ = effects.log_rr(ai, bi, ci, di, to="all")
    y_if0, _ = effects.log_rr(ai, bi, ci, di, to="if0all")
    # table 2 has no zero: only0 leaves it alone, all / if0all correct it
    assert y_only0[1] == pytest.approx(np.log((10 / 20) / (5 / 20)))
    assert y_all[1] != pytest.approx(y_only0[1])
    assert y_if0 == pytest.approx(y_all)
    # table 1 has a zero: corrected by only0 (4.5/9 vs 0.5/8), infinite without a correction
    assert y_only0[0] == pytest.approx(np.log((4.5 / 9) / (0.5 / 8)))
    assert np.isinf(y_none[0])


def test_risk_difference_defined_with_zero_cells():
    yi, vi = effects.rd(4, 4, 0, 7, to="none")
    assert yi == pytest.approx(0.5)
    assert vi == pytest.approx(0.5 * 0.5 / 8)


def test_unknown_zero_rule_and_measure_fail_clearly():
    with pytest.raises(InputError, match="zero-cell rule"):
        effects.log_or(1, 2, 3, 4, to="sometimes")
    with pytest.raises(InputError, match="unknown measure"):
        effects.escalc("XYZ", {"yi": [1], "vi": [1]})


def test_smd_from_t_matches_smd_from_means():
    m1, s1, n1, m2, s2, n2 = 10.0, 2.0, 12, 8.5, 2.5, 14
    g, v = effects.smd(m1, s1, n1, m2, s2, n2)
    sp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
    t = (m1 - m2) / (sp * np.sqrt(1 / n1 + 1 / n2))
    g_t, v_t = effects.smd_from_t(t, n1, n2)
    assert g_t == pytest.approx(g) and v_t == pytest.approx(v)
    g_f, _ = effects.smd_from_f(t**2, n1, n2, sign=1)
    assert g_f == pytest.approx(g)
    p = 2 * stats.t.sf(t, n1 + n2 - 2)
    g_p, _ = effects.smd_from_p(p, n1, n2, sign=1)
    assert g_p == pytest.approx(g)
    g_neg, _ = effects.smd_from_f(t**2, n1, n2, sign=-1)
    assert g_neg == pytest.approx(-g)


def test_within_person_contrast_from_f():
    # F(1, 9) = 6.5 with n = 10: d_z = J(9) * sqrt(6.5) / sqrt(10)
    yi, vi = effects.smcc_from_f(6.5, 10, sign=-1)
    assert yi == pytest.approx(-effects.hedges_correction(9) * np.sqrt(6.5) / np.sqrt(10))
    assert vi == pytest.approx(1 / 10 + yi**2 / 20)
    yp, _ = effects.smcc_from_p(2 * stats.t.sf(np.sqrt(6.5), 9), 10, sign=-1)
    assert yp == pytest.approx(yi)


def test_smcc_from_t_equals_smcc_from_summary_data():
    # a paired t from the same summary data must give the same d_z as SMCC
    m1, m2, s1, s2, n, r = 21.3, 30.1, 8.0, 4.8, 8, 0.6
    sdd = np.sqrt(s1**2 + s2**2 - 2 * r * s1 * s2)
    t = (m1 - m2) / (sdd / np.sqrt(n))
    assert effects.smcc_from_t(t, n)[0] == pytest.approx(effects.smcc(m1, m2, s1, s2, n, r)[0])


def test_r_from_paired_t_round_trip():
    m1, m2, s1, s2, n, r = 21.3, 30.1, 4.8, 8.0, 8, 0.667
    sdd = np.sqrt(s1**2 + s2**2 - 2 * r * s1 * s2)
    t = abs(m1 - m2) / (sdd / np.sqrt(n))
    assert effects.r_from_paired_t(m1, m2, s1, s2, n, t) == pytest.approx(r)


def test_smcr_sensitivity_widens_as_r_falls():
    sens = effects.smcr_sensitivity(26.2, 29, 5.5, 5, [0.2, 0.5, 0.8])
    assert sens["yi"].nunique() == 1  # the estimate does not depend on r
    widths = (sens["ci_high"] - sens["ci_low"]).to_list()
    assert widths[0] > widths[1] > widths[2]


def test_proportions_and_zero_events():
    y, v = effects.proportion("PLO", 0, 10)  # add 0.5 to both cells (metafor to="only0")
    assert y == pytest.approx(np.log(0.5 / 10.5)) and v == pytest.approx(1 / 0.5 + 1 / 10.5)
    y, v = effects.proportion("PR", 4, 8)
    assert y == 0.5 and v == pytest.approx(0.25 / 8)
    y, v = effects.proportion("PFT", 0, 10)  # no correction needed
    assert np.isfinite(y) and effects.pft_inverse(y, 10) == pytest.approx(0.0, abs=1e-12)
    y, _ = effects.proportion("PFT", 10, 10)
    assert effects.pft_inverse(y, 10) == pytest.approx(1.0)


@pytest.mark.parametrize("x,n", [(0, 10), (4, 8), (1, 14), (5, 5), (3, 8), (17, 40)])
def test_exact_and_wilson_intervals_match_statsmodels(x, n):
    lo, hi = effects.clopper_pearson(x, n)
    slo, shi = proportion_confint(x, n, method="beta")
    assert lo == pytest.approx(slo, abs=1e-10) and hi == pytest.approx(shi, abs=1e-10)
    lo, hi = effects.wilson(x, n)
    slo, shi = proportion_confint(x, n, method="wilson")
    assert lo == pytest.approx(slo, abs=1e-10) and hi == pytest.approx(shi, abs=1e-10)


def test_clopper_pearson_closed_form_at_zero():
    # 0/n: upper bound 1 - (alpha/2)^(1/n)
    assert effects.clopper_pearson(0, 10)[1] == pytest.approx(1 - 0.025 ** (1 / 10))


def test_back_transform_and_pft_needs_n():
    assert effects.back_transform("RR", 0.0) == 1.0
    assert effects.back_transform("PLO", 0.0) == 0.5
    assert effects.back_transform("SMD", -0.3) == -0.3
    with pytest.raises(InputError, match="PFT"):
        effects.back_transform("PFT", 0.3)


def test_escalc_frame_keeps_index_and_uses_keywords():
    df = pd.DataFrame({"ai": [1, 2], "bi": [9, 8], "ci": [3, 4], "di": [7, 6]}, index=["a", "b"])
    out = effects.escalc("OR", df)
    assert list(out.index) == ["a", "b"] and set(out.columns) == {"yi", "vi", "measure"}
    with pytest.raises(InputError, match="'m1i'"):
        effects.escalc("SMD", df)


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------

def test_effects_command_adds_columns(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("study,ai,bi,ci,di\nA,4,4,0,7\nB,10,10,5,15\n")
    out = tmp_path / "out.csv"
    assert main(["effects", "--input", str(src), "--measure", "OR", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df.columns[-4:]) == ["yi", "vi", "ci_low", "ci_high"]
    y0, v0 = effects.log_or(4, 4, 0, 7)
    assert df.loc[0, "yi"] == pytest.approx(float(y0)) and df.loc[0, "vi"] == pytest.approx(float(v0))
    assert (df["ci_low"] < df["yi"]).all() and (df["yi"] < df["ci_high"]).all()
    # same input, same bytes
    first = out.read_bytes()
    assert main(["effects", "--input", str(src), "--measure", "OR", "--out", str(out)]) == 0
    assert out.read_bytes() == first


def test_effects_command_passes_yi_vi_through(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("yi,vi\n0.1,0.04\n-0.2,0.09\n")
    out = tmp_path / "out.csv"
    assert main(["effects", "--input", str(src), "--measure", "GEN", "--out", str(out)]) == 0
    assert pd.read_csv(out)["ci_high"][0] == pytest.approx(0.1 + 1.959963984540054 * 0.2)


@pytest.mark.parametrize("body,measure,field", [
    ("xi,ni\n3,2\n", "PR", "xi"),
    ("m1i,sd1i,n1i,m2i,sd2i,n2i\n1,0,10,2,1,10\n", "SMD", "sd1i"),
    ("ai,bi,ci,di\n1,x,3,4\n", "RR", "bi"),
    ("ai,bi,ci\n1,2,3\n", "RR", "di"),
    ("xi,ni\n1,0\n", "PLO", "ni"),
])
def test_effects_command_bad_input_names_row_and_field(tmp_path, capsys, body, measure, field):
    src = tmp_path / "bad.csv"
    src.write_text(body)
    assert main(["effects", "--input", str(src), "--measure", measure, "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and f"field '{field}'" in err
    assert "row 2" in err or "row 1" in err
