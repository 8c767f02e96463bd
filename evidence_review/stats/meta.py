"""Fixed- and random-effects meta-analysis of ``(yi, vi)``: pure functions, metafor's ``rma.uni`` definitions.

Why reimplement rather than wrap statsmodels: the review needs metafor's exact conventions (REML by
Fisher scoring, Knapp-Hartung without truncation, typical-variance I², Q-profile τ² interval,
prediction interval) and one frozen result object with the floors (τ² >= 0, I² in [0, 100]) applied
on every path. Validation against metafor's published numbers lives in ``tests/stats/test_metafor_reference.py``;
meta-regression (moderators) is :mod:`evidence_review.stats.metareg`.

Functions
    :func:`rma`             one model: method FE, DL, REML or PM; ``test="z"`` or ``"knha"`` (HKSJ)
    :func:`tau2_estimate`   τ² alone (DL, REML, PM)
    :func:`q_profile_ci`    Q-profile CI for τ² (metafor ``confint``), with the implied I²/H² bounds
    :func:`leave_one_out`   refit without each study in turn
    :func:`egger_test`      Egger's regression test (metafor ``regtest(model="lm")``), only for k >= 10
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from evidence_review.errors import EvidenceReviewError, InputError
from evidence_review.stats import effects

METHODS: tuple[str, ...] = ("FE", "DL", "REML", "PM")
TESTS: tuple[str, ...] = ("z", "knha")
# Inputs beyond these overflow a weighted sum of squares (w * y**2) long before they mean anything.
MAX_ABS_YI = 1e12
MIN_VI, MAX_VI = 1e-30, 1e24
EGGER_MIN_K = 10


@dataclass(frozen=True)
class Control:
    """Iteration control (metafor's ``control=list(threshold=, maxiter=, stepadj=)``)."""

    tol: float = 1e-10
    maxiter: int = 1000
    step_adj: float = 1.0
    tau2_max: float = 1e4  # search bracket for PM and the Q-profile


@dataclass(frozen=True)
class MetaResult:
    """Result of one model. Analysis-scale values plus back-transformed ones for ratio/proportion measures."""

    k: int
    measure: str
    method: str
    test: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    stat: float          # z or t
    pval: float
    df: float | None     # t df (k-1) under knha, None under z
    tau2: float
    tau2_ci_low: float
    tau2_ci_high: float
    i2: float
    i2_ci_low: float
    i2_ci_high: float
    h2: float
    q: float
    q_df: int
    q_p: float
    pi_low: float
    pi_high: float
    level: float
    iterations: int
    converged: bool
    weights: tuple[float, ...] = field(default=())     # % weights (sum 100)
    back: dict[str, float] = field(default_factory=dict)  # estimate/ci/pi on the display scale
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Flat JSON-ready dict (back-transformed values prefixed ``back_``; weights as a list)."""
        d = asdict(self)
        back = d.pop("back")
        d["weights"] = list(d["weights"])
        for key, val in back.items():
            d[f"back_{key}"] = val
        return {k: _clean(v) for k, v in d.items()}

    def to_frame(self) -> pd.DataFrame:
        """One-row frame (weights left out: they belong to the studies, see :func:`weights_frame`)."""
        d = self.to_dict()
        d.pop("weights")
        return pd.DataFrame([d])


def _clean(v: Any) -> Any:
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


def _prepare(yi: Sequence[float], vi: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    if y.ndim != 1 or y.shape != v.shape:
        raise InputError("yi and vi must be 1-d and of equal length", field="yi")
    if len(y) < 1:
        raise InputError("no studies to pool", field="yi")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v))):
        raise InputError("yi and vi must be finite (check zero cells / missing inputs)", field="vi")
    if np.any(v <= 0):
        raise InputError("every vi must be > 0", field="vi")
    if np.any(np.abs(y) > MAX_ABS_YI) or np.any(v > MAX_VI) or np.any(v < MIN_VI):
        raise InputError(f"yi and vi out of the range this computation carries without overflow "
                         f"(|yi| <= {MAX_ABS_YI:g}, {MIN_VI:g} <= vi <= {MAX_VI:g}); check the units and values",
                         field="vi")
    return y, v


def check_level(level: float) -> float:
    """A confidence level strictly between 0 and 1 (0.95, not 95)."""
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise InputError(f"confidence level must be between 0 and 1 (e.g. 0.95), got {level!r}", field="level")
    return float(level)


def _ratio(est: float, se: float) -> float:
    """est / se as metafor computes it in R (x/0 = +-Inf, 0/0 = NaN), not a Python ZeroDivisionError."""
    if se > 0:
        return est / se
    return math.copysign(math.inf, est) if est != 0 else math.nan


def _fe(y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    sw = w.sum()
    return float((w * y).sum() / sw), float(1 / sw)


def q_stat(yi, vi) -> float:
    """Cochran's Q with inverse-variance (fixed-effect) weights, as metafor's ``QE``."""
    y, v = _prepare(yi, vi)
    w = 1 / v
    mu, _ = _fe(y, w)
    return float((w * (y - mu) ** 2).sum())


def generalised_q(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Q with weights 1/(v + τ²) around the matching weighted mean (decreasing in τ²)."""
    w = 1 / (v + tau2)
    mu, _ = _fe(y, w)
    return float((w * (y - mu) ** 2).sum())


def typical_variance(vi) -> float:
    """Higgins-Thompson 'typical' within-study variance s² used by metafor's I² and H²."""
    w = 1 / np.asarray(vi, dtype=float)
    k = len(w)
    return float((k - 1) * w.sum() / (w.sum() ** 2 - (w**2).sum()))


# ---------------------------------------------------------------------------------------------
# τ² estimators
# ---------------------------------------------------------------------------------------------

def tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    """DerSimonian-Laird moment estimator, truncated at 0."""
    w = 1 / v
    k = len(y)
    c = w.sum() - (w**2).sum() / w.sum()
    if c <= 0:
        return 0.0
    return max(0.0, (generalised_q(0.0, y, v) - (k - 1)) / c)


def tau2_pm(y: np.ndarray, v: np.ndarray, control: Control = Control()) -> float:
    """Paule-Mandel: the τ² at which the generalised Q equals its expectation k-1 (brentq root).

    Q_gen(0) <= k-1 means no root in [0, ∞): τ² = 0 (the floor).
    """
    k = len(y)
    if k < 2:
        return 0.0
    root = _solve_generalised_q(y, v, k - 1, control)
    if math.isinf(root):
        raise EvidenceReviewError("Paule-Mandel: no root below tau2_max; raise Control.tau2_max")
    return root


def _solve_generalised_q(y: np.ndarray, v: np.ndarray, target: float, control: Control) -> float:
    """τ² at which the generalised Q equals ``target`` (Q decreases in τ²): 0 when Q(0) is already at or
    below it (the floor), inf when no root lies below ``control.tau2_max``. Shared by Paule-Mandel and the
    Q-profile interval, which are the same equation with different targets."""
    return tau2_root(lambda t2: generalised_q(t2, y, v) - target, y, control)


def tau2_root(f: Callable[[float], float], y: np.ndarray, control: Control) -> float:
    """Root in τ² of a function that decreases in τ²: 0 when f(0) <= 0 (the floor), inf when no root lies
    below ``control.tau2_max``. The bracket grows tenfold from max(1, 10·var(y)); Brent's method finishes.
    Shared by meta-analysis and meta-regression (Paule-Mandel, Q-profile)."""
    if f(0.0) <= 0:
        return 0.0
    hi = max(1.0, float(np.var(y)) * 10)
    while f(hi) > 0:
        hi *= 10
        if hi > control.tau2_max:
            return float("inf")
    return float(optimize.brentq(f, 0.0, hi, xtol=min(control.tol, 1e-10), maxiter=500))


def nonnegative_step(tau2: float, adj: float, tol: float) -> float:
    """A Fisher-scoring step for tau², halved until tau² stays >= 0 (metafor's step halving); a step
    that shrinks below ``tol`` lands on zero instead."""
    while tau2 + adj < 0:
        adj /= 2
        if abs(adj) < tol:
            return -tau2
    return adj


def tau2_reml(y: np.ndarray, v: np.ndarray, control: Control = Control()) -> tuple[float, int, bool]:
    """REML by Fisher scoring (metafor's default algorithm); returns (τ², iterations, converged).

    Start: the Hedges (HE) estimator, as metafor. Each step adds (y'PPy - tr P) / tr(PP), halved
    while it would make τ² negative; stops when the change is below ``control.tol``.
    """
    k = len(y)
    if k < 2:
        return 0.0, 0, True
    ybar = y.mean()
    tau2 = max(0.0, float(((y - ybar) ** 2).sum() / (k - 1) - v.mean()))  # HE start
    for it in range(1, control.maxiter + 1):
        w = 1 / (v + tau2)
        sw = w.sum()
        # P = W - w w' / sum(w); use its structure instead of k x k matrices
        mu = (w * y).sum() / sw
        py = w * (y - mu)
        tr_p = sw - (w**2).sum() / sw
        tr_pp = (w**2).sum() - 2 * (w**3).sum() / sw + ((w**2).sum() / sw) ** 2
        adj = control.step_adj * ((py**2).sum() - tr_p) / tr_pp
        new = tau2 + nonnegative_step(tau2, adj, control.tol)
        if abs(new - tau2) < control.tol:
            return max(0.0, new), it, True
        tau2 = new
    return max(0.0, tau2), control.maxiter, False


def tau2_estimate(yi, vi, method: str = "REML", control: Control = Control()) -> float:
    """τ² alone for ``method`` in FE (0), DL, REML, PM; always >= 0."""
    y, v = _prepare(yi, vi)
    method = _check_method(method)
    if method == "FE":
        return 0.0
    if method == "DL":
        return tau2_dl(y, v)
    if method == "PM":
        return tau2_pm(y, v, control)
    return tau2_reml(y, v, control)[0]


def _check_method(method: str) -> str:
    m = str(method).strip().upper()
    if m == "EE":
        m = "FE"
    if m not in METHODS:
        raise InputError(f"unknown method '{method}' (known: {', '.join(METHODS)})", field="method")
    return m


# ---------------------------------------------------------------------------------------------
# Q-profile interval
# ---------------------------------------------------------------------------------------------

def q_profile_ci(yi, vi, level: float = 0.95, control: Control = Control()) -> tuple[float, float]:
    """Q-profile CI for τ² (Viechtbauer 2007; metafor ``confint``): the τ² values where the
    generalised Q crosses the chi-square(k-1) quantiles. Bounds floored at 0."""
    y, v = _prepare(yi, vi)
    k = len(y)
    if k < 2:
        return float("nan"), float("nan")
    a = (1 - level) / 2
    q_hi = stats.chi2.isf(a, k - 1)      # for the lower bound
    q_lo = stats.chi2.ppf(a, k - 1)      # for the upper bound

    return _solve_generalised_q(y, v, q_hi, control), _solve_generalised_q(y, v, q_lo, control)


# ---------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------

def rma(yi, vi, method: str = "REML", test: str = "z", measure: str = "GEN", level: float = 0.95,
        ni: Sequence[float] | None = None, control: Control = Control()) -> MetaResult:
    """Fit one intercept-only model, as ``metafor::rma(yi, vi, method=, test=)``.

    ``test="knha"``: Knapp-Hartung (HKSJ) - se scaled by sqrt of the weighted residual variance
    (no truncation at 1, metafor's default), t with k-1 df for the CI and the prediction interval.
    ``ni`` (study sizes) is needed only to back-transform a pooled PFT value (harmonic mean).
    ``method="FE"`` leaves the τ² interval, the I² interval and the prediction interval empty (nan):
    a fixed-effect model assumes no between-study variance, so none of them exists.
    """
    y, v = _prepare(yi, vi)
    level = check_level(level)
    method = _check_method(method)
    test = str(test).lower()
    if test not in TESTS:
        raise InputError(f"unknown test '{test}' (known: z, knha)", field="test")
    measure = effects.check_measure(measure)
    k = len(y)
    iterations, converged = 0, True
    if method == "FE":
        tau2 = 0.0
    elif method == "DL":
        tau2 = tau2_dl(y, v)
    elif method == "PM":
        tau2 = tau2_pm(y, v, control)
    else:
        tau2, iterations, converged = tau2_reml(y, v, control)
    tau2 = max(0.0, tau2)

    w = 1 / (v + tau2)
    est, var = _fe(y, w)
    se = math.sqrt(var)
    q = q_stat(y, v)
    q_df = k - 1
    q_p = float(stats.chi2.sf(q, q_df)) if q_df > 0 else float("nan")

    a = (1 - level) / 2
    df: float | None = None
    degenerate = ""
    if test == "knha" and k > 1:
        rss = float((w * (y - est) ** 2).sum())
        # metafor: RSS <= machine epsilon (identical estimates) -> scale factor 0, so se = 0
        s2w = 0.0 if rss <= np.finfo(float).eps else rss / (k - 1)
        se = se * math.sqrt(s2w)
        df = k - 1
        crit = float(stats.t.isf(a, df))
        stat = _ratio(est, se)
        pval = float(2 * stats.t.sf(abs(stat), df)) if stat == stat else float("nan")
        if s2w == 0.0:
            degenerate = ("identical study estimates: the Knapp-Hartung scale factor is 0, so se = 0 and the "
                          "CI has zero width (as metafor); prefer test z here")
    else:
        crit = float(stats.norm.isf(a))
        stat = _ratio(est, se)
        pval = float(2 * stats.norm.sf(abs(stat))) if stat == stat else float("nan")
    ci_low, ci_high = est - crit * se, est + crit * se
    if method == "FE":  # one common effect: no between-study spread to predict from (metafor prints none)
        pi_low = pi_high = float("nan")
    else:
        pi_half = crit * math.sqrt(se**2 + tau2)
        pi_low, pi_high = est - pi_half, est + pi_half

    if k > 1:
        s2 = typical_variance(v)
        if method == "FE":
            i2 = max(0.0, 100 * (q - q_df) / q) if q > 0 else 0.0
            h2 = q / q_df
        else:
            i2 = 100 * tau2 / (tau2 + s2)
            h2 = (tau2 + s2) / s2
        if method == "FE":  # τ² is fixed at 0, not estimated: no interval for it
            t_lo = t_hi = i2_lo = i2_hi = float("nan")
        else:
            t_lo, t_hi = q_profile_ci(y, v, level, control)
            i2_lo, i2_hi = (100 * t / (t + s2) for t in (t_lo, t_hi))
    else:
        i2, h2 = float("nan"), float("nan")
        t_lo = t_hi = i2_lo = i2_hi = float("nan")
    i2 = min(100.0, max(0.0, i2))

    weights = tuple(float(x) for x in 100 * w / w.sum())
    back: dict[str, float] = {}
    note = ""
    if measure in effects.RATIO_MEASURES or measure in ("PLO", "PFT"):
        n_back = None
        if measure == "PFT":
            if ni is None:
                note = "PFT back-transformation skipped: study sizes (ni) not given"
            else:
                n_back = effects.harmonic_mean(ni)
        if not note:
            for name, val in (("estimate", est), ("ci_low", ci_low), ("ci_high", ci_high),
                              ("pi_low", pi_low), ("pi_high", pi_high)):
                if math.isfinite(val):
                    back[name] = float(effects.back_transform(measure, val, n_back))
    if k == 1:
        note = (note + "; " if note else "") + "k = 1: nothing pooled, the study's own estimate is shown"
    if degenerate:
        note = (note + "; " if note else "") + degenerate
    return MetaResult(
        k=k, measure=measure, method=method, test=test, estimate=est, se=se, ci_low=ci_low, ci_high=ci_high,
        stat=stat, pval=pval, df=df, tau2=tau2, tau2_ci_low=t_lo, tau2_ci_high=t_hi, i2=i2,
        i2_ci_low=i2_lo, i2_ci_high=i2_hi, h2=h2, q=q, q_df=q_df, q_p=q_p, pi_low=pi_low, pi_high=pi_high,
        level=level, iterations=iterations, converged=converged, weights=weights, back=back, note=note,
    )


def weights_frame(result: MetaResult, labels: Sequence[str]) -> pd.DataFrame:
    """Study labels beside their % weights in ``result``."""
    return pd.DataFrame({"study": list(labels), "weight_pct": list(result.weights)})


def leave_one_out(yi, vi, method: str = "REML", test: str = "z", measure: str = "GEN",
                  labels: Sequence[str] | None = None, level: float = 0.95,
                  control: Control = Control()) -> pd.DataFrame:
    """Refit without each study (metafor ``leave1out``): one row per omitted study."""
    y, v = _prepare(yi, vi)
    k = len(y)
    if k < 3:
        raise InputError("leave-one-out needs at least 3 studies", field="yi")
    labels = list(labels) if labels is not None else [str(i + 1) for i in range(k)]
    rows = []
    for i in range(k):
        keep = np.arange(k) != i
        r = rma(y[keep], v[keep], method=method, test=test, measure=measure, level=level, control=control)
        rows.append({"omitted": labels[i], "estimate": r.estimate, "se": r.se, "ci_low": r.ci_low,
                     "ci_high": r.ci_high, "q": r.q, "q_p": r.q_p, "tau2": r.tau2, "i2": r.i2, "h2": r.h2})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class EggerResult:
    """Egger's regression test, or the reason it was not run."""

    k: int
    ran: bool
    reason: str = ""
    t: float = float("nan")
    df: int | None = None
    pval: float = float("nan")
    limit_estimate: float = float("nan")
    limit_ci_low: float = float("nan")
    limit_ci_high: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {k: _clean(v) for k, v in asdict(self).items()}


def egger_test(yi, vi, min_k: int = EGGER_MIN_K, level: float = 0.95) -> EggerResult:
    """Egger's test as metafor ``regtest(model="lm", predictor="sei")``: weighted regression of yi on
    its standard error (weights 1/vi, multiplicative dispersion); slope t with k-2 df.

    Refuses below ``min_k`` studies (default 10): with fewer the test has too little power to mean
    anything, and the result says so instead of a misleading p.
    """
    y, v = _prepare(yi, vi)
    k = len(y)
    if k < min_k:
        return EggerResult(k=k, ran=False, reason=f"Egger's test needs at least {min_k} studies; k = {k}")
    sei = np.sqrt(v)
    w = 1 / v
    x = np.column_stack([np.ones(k), sei])
    xtw = x.T * w
    beta = np.linalg.solve(xtw @ x, xtw @ y)
    resid = y - x @ beta
    df = k - 2
    sigma2 = float((w * resid**2).sum() / df)
    cov = sigma2 * np.linalg.inv(xtw @ x)
    t = float(beta[1] / math.sqrt(cov[1, 1]))
    crit = float(stats.t.isf((1 - level) / 2, df))
    se0 = math.sqrt(cov[0, 0])
    return EggerResult(k=k, ran=True, t=t, df=df, pval=float(2 * stats.t.sf(abs(t), df)),
                       limit_estimate=float(beta[0]), limit_ci_low=float(beta[0] - crit * se0),
                       limit_ci_high=float(beta[0] + crit * se0))


JSON_KEYS: tuple[str, ...] = (
    "k", "estimate", "se", "ci_low", "ci_high", "tau2", "tau2_ci_low", "tau2_ci_high", "i2", "h2", "q", "q_p",
    "pi_low", "pi_high", "method", "measure",
)
