"""Unit and property tests for evidence_review.stats.meta and the `meta` command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from evidence_review.stats import effects, meta
from evidence_review.cli import main
from evidence_review.errors import InputError

METHODS = ("FE", "DL", "REML", "PM")


def random_sets(n_sets: int = 60, seed: int = 20261121):
    rng = np.random.default_rng(seed)
    for _ in range(n_sets):
        k = int(rng.integers(2, 25))
        vi = rng.uniform(0.005, 1.0, k)
        tau2 = float(rng.choice([0.0, 0.0, 0.05, 0.5, 2.0]))
        yi = rng.normal(rng.normal(0, 1), np.sqrt(vi + tau2))
        yield yi, vi


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("test", ["z", "knha"])
def test_property_tau2_nonnegative_i2_bounded(method, test):
    for yi, vi in random_sets():
        r = meta.rma(yi, vi, method=method, test=test)
        assert r.tau2 >= 0
        assert 0 <= r.i2 <= 100
        # RE: H^2 = (tau2 + s2)/s2 >= 1; FE: metafor's Q/(k-1), which may be below 1
        assert r.h2 >= (1 - 1e-12 if method != "FE" else 0)
        assert r.ci_low <= r.estimate <= r.ci_high
        if method == "FE":  # no tau^2 interval and no prediction interval for a fixed-effect model
            assert all(np.isnan(x) for x in (r.tau2_ci_low, r.tau2_ci_high, r.i2_ci_low, r.pi_low, r.pi_high))
        else:
            assert r.tau2_ci_low >= 0 and r.tau2_ci_low <= r.tau2_ci_high
            assert 0 <= r.i2_ci_low <= 100
            assert r.pi_low <= r.ci_low + 1e-12 and r.pi_high >= r.ci_high - 1e-12
        assert sum(r.weights) == pytest.approx(100)
        if method != "FE":
            # the Q-profile interval contains the PM estimate by construction
            pm = meta.tau2_estimate(yi, vi, "PM")
            assert r.tau2_ci_low - 1e-8 <= pm <= r.tau2_ci_high + 1e-8


def test_homogeneous_data_floor_tau2_at_zero_on_every_path():
    yi = [0.10, 0.11, 0.09, 0.10]
    vi = [0.04, 0.05, 0.03, 0.06]  # Q far below k-1
    for method in METHODS:
        r = meta.rma(yi, vi, method=method)
        assert r.tau2 == 0.0 and r.i2 == 0.0
        if method != "FE":
            assert r.tau2_ci_low == 0.0 and r.i2_ci_low == 0.0
    assert meta.rma(yi, vi, method="FE").estimate == pytest.approx(meta.rma(yi, vi, method="REML").estimate)


def test_reml_reports_nonconvergence():
    yi, vi = next(random_sets(1, seed=3))
    r = meta.rma(yi, vi, method="REML", control=meta.Control(maxiter=1, tol=1e-15))
    assert not r.converged and r.iterations == 1


def test_knha_scales_se_and_uses_t():
    yi = [0.1, 0.5, -0.2, 0.8, 0.3]
    vi = [0.04, 0.02, 0.05, 0.03, 0.06]
    z = meta.rma(yi, vi, method="DL")
    t = meta.rma(yi, vi, method="DL", test="knha")
    w = 1 / (np.array(vi) + z.tau2)
    s2 = float((w * (np.array(yi) - z.estimate) ** 2).sum() / 4)
    assert t.se == pytest.approx(z.se * np.sqrt(s2))
    assert t.df == 4 and z.df is None
    assert t.estimate == z.estimate


def test_single_study_and_bad_input():
    r = meta.rma([0.3], [0.01])
    assert r.k == 1 and r.tau2 == 0 and "k = 1" in r.note
    with pytest.raises(InputError, match="vi"):
        meta.rma([0.1, 0.2], [0.1, 0.0])
    with pytest.raises(InputError, match="unknown method"):
        meta.rma([0.1, 0.2], [0.1, 0.1], method="HS")


def test_leave_one_out_and_egger_refusal():
    yi, vi = next(random_sets(1, seed=5))
    yi, vi = yi[:6], vi[:6]
    loo = meta.leave_one_out(yi, vi, labels=list("abcdef"))
    assert list(loo["omitted"]) == list("abcdef")
    full = meta.rma(yi, vi)
    direct = meta.rma(np.delete(yi, 2), np.delete(vi, 2))
    assert loo.loc[2, "estimate"] == pytest.approx(direct.estimate)
    assert full.k == 6
    e = meta.egger_test(yi, vi)
    assert not e.ran and "at least 10" in e.reason and np.isnan(e.t)


def test_result_views_and_back_transform():
    yi, vi = effects.log_rr([4, 6, 3], [119, 300, 228], [11, 29, 11], [128, 274, 209])
    r = meta.rma(yi, vi, measure="RR")
    d = r.to_dict()
    for key in meta.JSON_KEYS:
        assert key in d
    assert d["back_estimate"] == pytest.approx(np.exp(r.estimate))
    frame = r.to_frame()
    assert frame.shape[0] == 1 and "weights" not in frame.columns
    with pytest.raises(Exception):
        r.tau2 = 1.0  # frozen
    # PFT back-transformation needs the study sizes (harmonic mean n)
    y, v = effects.proportion("PFT", [4, 0], [8, 10])
    with_n = meta.rma(y, v, measure="PFT", ni=[8, 10])
    assert 0 <= with_n.back["estimate"] <= 1
    assert meta.rma(y, v, measure="PFT").back == {}


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------

BCG = ("ai,bi,ci,di\n4,119,11,128\n6,300,29,274\n3,228,11,209\n62,13536,248,12619\n33,5036,47,5761\n"
       "180,1361,372,1079\n8,2537,10,619\n505,87886,499,87892\n29,7470,45,7232\n17,1699,65,1600\n"
       "186,50448,141,27197\n5,2493,3,2338\n27,16886,29,17825\n")


def test_meta_command_json(tmp_path, capsys):
    src = tmp_path / "bcg.csv"
    src.write_text(BCG)
    assert main(["meta", "--input", str(src), "--measure", "RR", "--method", "REML", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert list(d)[: len(meta.JSON_KEYS)] == list(meta.JSON_KEYS)
    assert round(d["estimate"], 4) == -0.7145 and round(d["tau2"], 4) == 0.3132  # metafor, see reference tests
    assert round(d["back_estimate"], 4) == 0.4894
    assert main(["meta", "--input", str(src), "--measure", "RR", "--method", "PM", "--hksj", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["test"] == "knha" and d["df"] == 12 and d["method"] == "PM"


def test_meta_command_table_and_yi_vi_input(tmp_path, capsys):
    src = tmp_path / "g.csv"
    src.write_text("yi,vi\n0.2,0.05\n0.5,0.04\n-0.1,0.06\n")
    assert main(["meta", "--input", str(src), "--measure", "SMD", "--method", "DL"]) == 0
    out = capsys.readouterr().out
    assert "Random-effects model (k = 3; method: DL" in out and "tau^2" in out


def test_meta_command_bad_input(tmp_path, capsys):
    src = tmp_path / "bad.csv"
    src.write_text("yi,vi\n0.2,0.05\n0.5,-1\n")
    assert main(["meta", "--input", str(src), "--measure", "GEN"]) == 2
    err = capsys.readouterr().err
    assert "row 3" in err and "field 'vi'" in err


def test_meta_command_to_frame_roundtrip(tmp_path):
    r = meta.rma([0.1, 0.3, 0.2], [0.01, 0.02, 0.03], method="PM")
    path = tmp_path / "r.csv"
    r.to_frame().to_csv(path, index=False)
    back = pd.read_csv(path)
    assert back.loc[0, "estimate"] == pytest.approx(r.estimate)
