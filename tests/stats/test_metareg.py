"""Meta-regression: identities that must hold on any data, factor coding and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evidence_review.errors import InputError
from evidence_review.stats import meta, metareg

TIGHT = meta.Control()


def random_data(seed: int, k: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 50, k)
    vi = rng.uniform(0.01, 0.3, k)
    yi = 0.4 - 0.02 * x + rng.normal(0, np.sqrt(vi + 0.05))
    return pd.DataFrame({"yi": yi, "vi": vi, "x": x, "grp": rng.choice(["b", "a", "c"], k)})


@pytest.mark.parametrize("method", metareg.METHODS)
def test_intercept_only_equals_rma(method):
    for seed in range(5):
        d = random_data(seed)
        r = metareg.metareg(d["yi"], d["vi"], np.ones((len(d), 1)), ("intrcpt",), method=method, control=TIGHT)
        ref = meta.rma(d["yi"], d["vi"], method=method)
        assert r.converged == ref.converged
        if not ref.converged:  # Fisher scoring oscillates on some data sets, in both implementations alike
            continue
        assert r.coef[0] == pytest.approx(ref.estimate, abs=1e-8)
        assert r.se[0] == pytest.approx(ref.se, abs=1e-8)
        assert r.tau2 == pytest.approx(ref.tau2, abs=1e-8)
        assert r.qe == pytest.approx(ref.q, abs=1e-9)
        assert r.i2 == pytest.approx(ref.i2, abs=1e-6)


def test_fixed_effect_is_weighted_least_squares():
    d = random_data(1)
    r = metareg.metareg_frame(d, ["x"], method="FE")
    sw = 1 / np.sqrt(d["vi"].to_numpy())
    x = np.column_stack([np.ones(len(d)), d["x"]])
    beta, rss, *_ = np.linalg.lstsq(x * sw[:, None], d["yi"].to_numpy() * sw, rcond=None)
    assert np.allclose(r.coef, beta, atol=1e-10)
    assert r.qe == pytest.approx(float(rss[0]), rel=1e-10)   # QE = weighted residual sum of squares
    assert r.tau2 == 0 and np.isnan(r.r2)


@pytest.mark.parametrize("method", ["DL", "REML", "PM"])
def test_single_moderator_wald_equals_squared_t(method):
    for seed in range(5):
        d = random_data(seed)
        for test in ("z", "knha"):
            r = metareg.metareg_frame(d, ["x"], method=method, test=test)
            assert r.qm.stat == pytest.approx(r.stat[1] ** 2, rel=1e-10)
            assert r.qm.pval == pytest.approx(r.pval[1], rel=1e-8)
            assert r.tau2 >= 0 and 0 <= r.i2 <= 100 and r.h2 >= 1 - 1e-12
            assert np.isnan(r.r2) or 0 <= r.r2 <= 100


def test_paule_mandel_root_and_shift_invariance():
    d = random_data(4)
    r = metareg.metareg_frame(d, ["x"], method="PM", control=TIGHT)
    if r.tau2 > 0:
        x = np.column_stack([np.ones(len(d)), d["x"]])
        w = 1 / (d["vi"].to_numpy() + r.tau2)
        p, _ = metareg._p_matrix(w, x)
        y = d["yi"].to_numpy()
        assert y @ p @ y == pytest.approx(len(d) - 2, abs=1e-6)
    shifted = d.assign(x=d["x"] + 100)
    a = metareg.metareg_frame(d, ["x"], control=TIGHT)
    b = metareg.metareg_frame(shifted, ["x"], control=TIGHT)
    assert a.tau2 == pytest.approx(b.tau2, abs=1e-9)
    assert a.coef[1] == pytest.approx(b.coef[1], abs=1e-9) and a.se[1] == pytest.approx(b.se[1], abs=1e-9)


def test_factor_coding_reference_level_and_names():
    d = random_data(2)
    x, names = metareg.design_matrix(d, ["x", "grp"])
    assert names == ("intrcpt", "x", "grpb", "grpc")
    assert np.array_equal(x[:, 2], (d["grp"] == "b").to_numpy(dtype=float))
    r = metareg.metareg_frame(d, ["x", "grp"])
    assert r.qm.df1 == 3 and r.qm.coefficients == ("x", "grpb", "grpc")
    assert metareg.wald_test(r, ["grpb", "grpc"]).df1 == 2


def test_bad_input_names_file_row_field():
    d = random_data(3).astype({"x": object})
    d.loc[4, "x"] = ""
    with pytest.raises(InputError) as err:
        metareg.design_matrix(d, ["x"], source="trials.csv")
    assert "trials.csv" in str(err.value) and "row 6" in str(err.value) and "'x'" in str(err.value)
    with pytest.raises(InputError, match="not found"):
        metareg.design_matrix(random_data(3), ["latitude"])
    d = random_data(3)
    with pytest.raises(InputError, match="collinear"):
        metareg.metareg_frame(d.assign(x2=2 * d["x"]), ["x", "x2"])
    with pytest.raises(InputError, match="need k > p"):
        metareg.metareg_frame(d.head(2), ["x"])
    with pytest.raises(InputError, match="no coefficient"):
        metareg.wald_test(metareg.metareg_frame(d, ["x"]), ["y"])


def test_to_dict_is_json_ready():
    import json

    r = metareg.metareg_frame(random_data(5), ["x"], method="FE")
    d = r.to_dict()
    assert [c["term"] for c in d["coefficients"]] == ["intrcpt", "x"]
    assert d["r2"] is None and d["qm"]["coefficients"] == ["x"]
    json.dumps(d, allow_nan=False)


# ------------------------------------------------------------------------------------------------
# the `meta` command: --mods, --forest, fixed-effect output
# ------------------------------------------------------------------------------------------------

def _bcg_csv(path):
    from test_metafor_reference import CNEG, CPOS, TNEG, TPOS
    from test_metareg_reference import ABLAT, ALLOC

    pd.DataFrame({"author": [f"trial {i}" for i in range(1, 14)], "year": range(1950, 1963), "ai": TPOS,
                  "bi": TNEG, "ci": CPOS, "di": CNEG, "ablat": ABLAT, "alloc": ALLOC}).to_csv(path, index=False)
    return str(path)


def test_meta_command_mods_prints_metafor_numbers_and_writes_forest(tmp_path, capsys):
    import json

    from evidence_review.cli import main

    src = _bcg_csv(tmp_path / "bcg.csv")
    out = tmp_path / "plots" / "bcg.svg"
    assert main(["meta", "--input", src, "--measure", "RR", "--mods", "ablat", "--forest", str(out)]) == 0
    text = capsys.readouterr().out
    for printed in ("0.0764 (SE = 0.0591)", "QM(df = 1) = 16.3571", "QE(df = 11) = 30.7331", "75.62%",
                    "0.2515", "-0.0291", "0.2491", "0.0072"):
        assert printed in text, printed
    svg = out.read_text()
    assert "trial 1, 1950" in svg and "Meta-regression (REML)" in svg
    assert main(["meta", "--input", src, "--measure", "RR", "--mods", "ablat", "--hksj", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["qm"]["kind"] == "F" and round(d["qm"]["stat"], 4) == 12.5905 and d["df"] == 11
    assert main(["meta", "--input", src, "--measure", "RR", "--mods", "latitude"]) == 2
    assert "latitude" in capsys.readouterr().err
    assert main(["meta", "--input", src, "--measure", "RR", "--forest", str(tmp_path / "x.txt")]) == 2


def test_meta_command_fixed_effect_shows_no_tau2_interval_or_prediction_interval(tmp_path, capsys):
    from evidence_review.cli import main

    src = _bcg_csv(tmp_path / "bcg.csv")
    assert main(["meta", "--input", src, "--measure", "RR", "--method", "FE"]) == 0
    fe = capsys.readouterr().out
    assert "Fixed-effect" in fe and "PI" not in fe and "tau^2" not in fe
    assert main(["meta", "--input", src, "--measure", "RR", "--method", "REML"]) == 0
    re_ = capsys.readouterr().out
    assert "PI [" in re_ and "tau^2 = 0.3132 [0.1197, 1.1115]" in re_   # the checker can see both
    out = tmp_path / "fe.svg"
    assert main(["meta", "--input", src, "--measure", "RR", "--method", "FE", "--forest", str(out)]) == 0
    svg = out.read_text()
    assert "Pooled (FE; k = 13)" in svg and "prediction interval" not in svg and "PI [" not in svg
