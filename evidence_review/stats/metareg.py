"""Mixed-effects meta-regression of ``(yi, vi)`` on moderators: pure functions, metafor's ``rma.uni(mods=)``.

Why: a moderator (latitude, dose, year) can explain part of the between-study heterogeneity, and
reviewers check such models against metafor. This module reproduces ``rma(yi, vi, mods = ~ x)``:
τ² by REML (Fisher scoring, metafor's default), DL, PM or none (FE); weighted least squares for the
coefficients; Wald z tests or Knapp-Hartung t/F tests (``test="knha"``, no truncation, metafor's
default); the omnibus test of moderators QM, the residual heterogeneity test QE, residual I²/H² and
the pseudo-R² (share of the intercept-only τ² the moderators account for).
Validation against metafor's printed output lives in ``tests/stats/test_metareg_reference.py``.

Functions
    :func:`design_matrix`   moderator columns -> X (intercept, numbers, treatment dummies for text)
    :func:`metareg`         fit one model on yi, vi and X
    :func:`metareg_frame`   the same from a data frame with yi, vi and moderator columns
    :func:`wald_test`       QM for any subset of coefficients of a fitted model (metafor ``anova(btt=)``)
    :func:`fitted_values`   X b with its confidence interval (for forest plots)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from evidence_review.errors import EvidenceReviewError, InputError
from evidence_review.stats import meta

METHODS: tuple[str, ...] = ("FE", "DL", "REML", "PM")
METAFOR_CONTROL = meta.Control(tol=1e-5)
"""metafor's default ``control=list(threshold=1e-5)``: Fisher scoring stops at a τ² change below 1e-5.

The default here because metafor's printed output is what reviewers compare with: on dat.bcg with
``mods = ~ ablat`` the fully converged τ² is 0.076348 while metafor stops at 0.076355 and prints 0.0764
(QM 16.3571 rather than 16.3582). Pass ``meta.Control()`` for a fit converged to 1e-10.
"""


@dataclass(frozen=True)
class WaldTest:
    """Omnibus test of a set of coefficients: chi-square QM (z) or F = QM / m (knha)."""

    coefficients: tuple[str, ...]
    stat: float          # QM (z) or F (knha)
    df1: int
    df2: int | None      # k - p under knha
    pval: float
    kind: str            # "chi2" or "F"


@dataclass(frozen=True)
class MetaRegResult:
    """One fitted meta-regression. Coefficient fields are tuples in the order of ``names``."""

    k: int
    p: int
    method: str
    test: str
    level: float
    names: tuple[str, ...]
    coef: tuple[float, ...]
    se: tuple[float, ...]
    stat: tuple[float, ...]       # z or t
    pval: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    df: int | None                # k - p under knha
    vcov: tuple[tuple[float, ...], ...]
    qm: WaldTest
    qe: float
    qe_df: int
    qe_p: float
    tau2: float
    tau2_se: float                # REML only (sqrt(2 / tr(PP))); nan otherwise
    i2: float                     # residual I² (%)
    h2: float                     # residual H²
    r2: float                     # % of the intercept-only τ² accounted for; nan without an intercept/for FE
    tau2_intercept_only: float
    iterations: int
    converged: bool

    def coef_frame(self) -> pd.DataFrame:
        """One row per coefficient, as metafor's 'Model Results' table."""
        return pd.DataFrame({"term": self.names, "estimate": self.coef, "se": self.se,
                             "tval" if self.test == "knha" else "zval": self.stat, "pval": self.pval,
                             "ci_low": self.ci_low, "ci_high": self.ci_high})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; coefficients as a list of rows; non-finite numbers as None."""
        d = asdict(self)
        d.pop("vcov")
        rows = self.coef_frame().to_dict(orient="records")
        for key in ("names", "coef", "se", "stat", "pval", "ci_low", "ci_high"):
            d.pop(key)
        d["coefficients"] = [{k: _clean(v) for k, v in r.items()} for r in rows]
        d["qm"] = {k: _clean(v) if not isinstance(v, tuple) else list(v) for k, v in asdict(self.qm).items()}
        return {k: (_clean(v) if not isinstance(v, (list, dict)) else v) for k, v in d.items()}


def _clean(v: Any) -> Any:
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


# ---------------------------------------------------------------------------------------------
# design matrix
# ---------------------------------------------------------------------------------------------

def design_matrix(frame: pd.DataFrame, mods: Sequence[str], intercept: bool = True,
                  source: str | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Build X from moderator columns of ``frame``, as R's ``model.matrix(~ a + b)``.

    Numeric columns enter as they are; a column holding any non-number is a factor coded by
    treatment contrasts (levels sorted, the first is the reference, dummies named ``<col><level>``
    like R). An empty cell names its column and spreadsheet row (header = row 1).
    """
    if not mods:
        raise InputError("at least one moderator is needed", field="mods")
    k = len(frame)
    cols: list[np.ndarray] = []
    names: list[str] = []
    if intercept:
        cols.append(np.ones(k))
        names.append("intrcpt")
    for col in mods:
        if col not in frame.columns:
            raise InputError(f"moderator column '{col}' not found (columns: {', '.join(map(str, frame.columns))})",
                             file=source, row=1, field=col)
        raw = frame[col]
        text = raw.astype(str).str.strip()
        for i, val in enumerate(text):
            if raw.iloc[i] is None or val in ("", "nan", "NaN", "NA", "None"):
                raise InputError("empty moderator value", file=source, row=i + 2, field=col)
        num = pd.to_numeric(text, errors="coerce")
        if num.notna().all():
            cols.append(num.to_numpy(dtype=float))
            names.append(col)
            continue
        levels = sorted(set(text))
        if len(levels) < 2:
            raise InputError("a factor moderator needs at least two levels", file=source, field=col)
        for level in levels[1:]:
            cols.append((text == level).to_numpy(dtype=float))
            names.append(f"{col}{level}")
    return np.column_stack(cols), tuple(names)


# ---------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------

def _p_matrix(w: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P = W - W X (X'WX)^-1 X'W and (X'WX)^-1 for weights ``w``."""
    wx = w[:, None] * x
    inv = np.linalg.inv(x.T @ wx)
    return np.diag(w) - wx @ inv @ wx.T, inv


def _tau2_reml(y: np.ndarray, v: np.ndarray, x: np.ndarray, control: meta.Control) -> tuple[float, int, bool]:
    """REML by Fisher scoring from the Hedges (HE) start, as metafor: τ² += (y'PPy - tr P) / tr(PP)."""
    k, p = x.shape
    h = x @ np.linalg.solve(x.T @ x, x.T)
    resid = y - h @ y
    tau2 = max(0.0, float((resid @ resid - np.trace((np.eye(k) - h) * v)) / (k - p)))
    for it in range(1, control.maxiter + 1):
        pm, _ = _p_matrix(1 / (v + tau2), x)
        py = pm @ y
        adj = control.step_adj * float((py @ py - np.trace(pm)) / np.sum(pm * pm))
        new = tau2 + meta.nonnegative_step(tau2, adj, control.tol)
        if abs(new - tau2) < control.tol:
            return max(0.0, new), it, True
        tau2 = new
    return max(0.0, tau2), control.maxiter, False


def _tau2_dl(y: np.ndarray, v: np.ndarray, x: np.ndarray) -> float:
    """DerSimonian-Laird for meta-regression: (QE - (k-p)) / tr(P) with FE weights, floored at 0."""
    k, p = x.shape
    pm, _ = _p_matrix(1 / v, x)
    return max(0.0, float((y @ pm @ y - (k - p)) / np.trace(pm)))


def _tau2_pm(y: np.ndarray, v: np.ndarray, x: np.ndarray, control: meta.Control) -> float:
    """Paule-Mandel: the τ² at which y'P(τ²)y = k - p; 0 when already below at τ² = 0."""
    k, p = x.shape

    def f(t2: float) -> float:
        return float(y @ _p_matrix(1 / (v + t2), x)[0] @ y) - (k - p)

    root = meta.tau2_root(f, y, control)
    if math.isinf(root):
        raise EvidenceReviewError("Paule-Mandel: no root below tau2_max; raise Control.tau2_max")
    return root


def _check(yi, vi, x) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, v = meta._prepare(yi, vi)
    xm = np.asarray(x, dtype=float)
    if xm.ndim == 1:
        xm = xm[:, None]
    if xm.shape[0] != len(y):
        raise InputError(f"X has {xm.shape[0]} rows but there are {len(y)} studies", field="mods")
    if not np.all(np.isfinite(xm)):
        raise InputError("moderators must be finite numbers", field="mods")
    k, p = xm.shape
    if k <= p:
        raise InputError(f"{k} studies cannot estimate {p} coefficients and τ² (need k > p)", field="mods")
    if np.linalg.matrix_rank(xm) < p:
        raise InputError("moderators are collinear (the design matrix is not of full rank)", field="mods")
    return y, v, xm


def metareg(yi, vi, x, names: Sequence[str] | None = None, method: str = "REML", test: str = "z",
            level: float = 0.95, btt: Sequence[int] | None = None,
            control: meta.Control = METAFOR_CONTROL) -> MetaRegResult:
    """Fit ``rma(yi, vi, mods = X, method=, test=)``; ``x`` is the full design (intercept column included).

    ``btt`` (0-based) picks the coefficients QM tests; default: all but a leading intercept column
    named ``intrcpt`` (metafor's default), or all when there is no intercept.
    """
    y, v, xm = _check(yi, vi, x)
    k, p = xm.shape
    names = tuple(names) if names is not None else tuple(f"X{i + 1}" for i in range(p))
    if len(names) != p:
        raise InputError(f"{len(names)} names for {p} columns", field="mods")
    method = meta._check_method(method)
    test = str(test).lower()
    if test not in meta.TESTS:
        raise InputError(f"unknown test '{test}' (known: z, knha)", field="test")

    iterations, converged = 0, True
    if method == "FE":
        tau2 = 0.0
    elif method == "DL":
        tau2 = _tau2_dl(y, v, xm)
    elif method == "PM":
        tau2 = _tau2_pm(y, v, xm, control)
    else:
        tau2, iterations, converged = _tau2_reml(y, v, xm, control)

    pm, inv = _p_matrix(1 / (v + tau2), xm)
    w = 1 / (v + tau2)
    beta = inv @ (xm.T @ (w * y))
    vb = inv
    df: int | None = None
    a = (1 - level) / 2
    if test == "knha":
        s2w = float(y @ pm @ y) / (k - p)
        vb = vb * s2w
        df = k - p
        crit = float(stats.t.isf(a, df))
    else:
        crit = float(stats.norm.isf(a))
    se = np.sqrt(np.diag(vb))
    stat = beta / se
    pval = 2 * (stats.t.sf(np.abs(stat), df) if df is not None else stats.norm.sf(np.abs(stat)))

    # residual heterogeneity with FE weights: QE, typical residual variance, I², H²
    p0, _ = _p_matrix(1 / v, xm)
    qe = float(y @ p0 @ y)
    qe_df = k - p
    if method == "FE":
        i2 = max(0.0, 100 * (qe - qe_df) / qe) if qe > 0 else 0.0
        h2 = qe / qe_df
    else:
        vt = qe_df / float(np.trace(p0))
        i2 = 100 * tau2 / (vt + tau2)
        h2 = (vt + tau2) / vt
    tau2_se = math.sqrt(2 / float(np.sum(pm * pm))) if method == "REML" else float("nan")

    has_intercept = bool(np.allclose(xm[:, 0], 1.0)) and names[0] == "intrcpt"
    if btt is None:
        btt = tuple(range(1, p)) if has_intercept and p > 1 else tuple(range(p))
    t0 = float("nan")
    r2 = float("nan")
    if has_intercept and method != "FE":
        t0 = meta.tau2_estimate(y, v, method, control)
        if t0 > 0:
            r2 = max(0.0, 100 * (t0 - tau2) / t0)

    vcov = tuple(tuple(float(c) for c in row) for row in vb)
    partial = MetaRegResult(
        k=k, p=p, method=method, test=test, level=level, names=names, coef=_t(beta), se=_t(se), stat=_t(stat),
        pval=_t(pval), ci_low=_t(beta - crit * se), ci_high=_t(beta + crit * se), df=df, vcov=vcov,
        qm=WaldTest((), float("nan"), 0, None, float("nan"), "chi2"), qe=qe, qe_df=qe_df,
        qe_p=float(stats.chi2.sf(qe, qe_df)), tau2=tau2, tau2_se=tau2_se, i2=min(100.0, max(0.0, i2)), h2=h2,
        r2=r2, tau2_intercept_only=t0, iterations=iterations, converged=converged,
    )
    return _replace_qm(partial, wald_test(partial, btt))


def _t(a: np.ndarray) -> tuple[float, ...]:
    return tuple(float(x) for x in a)


def _replace_qm(res: MetaRegResult, qm: WaldTest) -> MetaRegResult:
    from dataclasses import replace

    return replace(res, qm=qm)


def wald_test(result: MetaRegResult, btt: Sequence[int | str]) -> WaldTest:
    """Test that the coefficients ``btt`` (0-based positions or names) are all 0.

    z test: QM = b' V⁻¹ b ~ chi-square(m). Knapp-Hartung: F = QM / m with (m, k - p) df (metafor).
    """
    idx = []
    for b in btt:
        if isinstance(b, str):
            if b not in result.names:
                raise InputError(f"no coefficient '{b}' (have: {', '.join(result.names)})", field="btt")
            idx.append(result.names.index(b))
        else:
            if not 0 <= int(b) < result.p:
                raise InputError(f"coefficient index {b} out of range 0..{result.p - 1}", field="btt")
            idx.append(int(b))
    idx = sorted(set(idx))
    if not idx:
        raise InputError("no coefficients to test", field="btt")
    b = np.asarray(result.coef)[idx]
    vb = np.asarray(result.vcov)[np.ix_(idx, idx)]
    qm = float(b @ np.linalg.solve(vb, b))
    m = len(idx)
    names = tuple(result.names[i] for i in idx)
    if result.test == "knha":
        f = qm / m
        df2 = result.k - result.p
        return WaldTest(names, f, m, df2, float(stats.f.sf(f, m, df2)), "F")
    return WaldTest(names, qm, m, None, float(stats.chi2.sf(qm, m)), "chi2")


def fitted_values(result: MetaRegResult, x) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fitted value X b per row of ``x`` with its confidence interval (metafor ``predict(res)$ci.lb/ub``)."""
    xm = np.atleast_2d(np.asarray(x, dtype=float))
    b = np.asarray(result.coef)
    fit = xm @ b
    se = np.sqrt(np.einsum("ij,jk,ik->i", xm, np.asarray(result.vcov), xm))
    a = (1 - result.level) / 2
    crit = float(stats.t.isf(a, result.df)) if result.df is not None else float(stats.norm.isf(a))
    return fit, fit - crit * se, fit + crit * se


def metareg_frame(frame: pd.DataFrame, mods: Sequence[str], method: str = "REML", test: str = "z",
                  level: float = 0.95, intercept: bool = True, source: str | None = None,
                  control: meta.Control = METAFOR_CONTROL) -> MetaRegResult:
    """Fit from a frame holding ``yi``, ``vi`` and the moderator columns (e.g. ``extraction.effect_inputs``)."""
    x, names = design_matrix(frame, mods, intercept=intercept, source=source)
    return metareg(frame["yi"].to_numpy(dtype=float), frame["vi"].to_numpy(dtype=float), x, names,
                   method=method, test=test, level=level, control=control)
