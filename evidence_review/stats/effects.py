"""Effect sizes: pure functions returning ``(yi, vi)`` on the analysis scale, metafor-style.

Why metafor's conventions: reviewers know its measure codes and column names, and the validation tests
compare every formula here with numbers metafor published. Each function is vectorised (scalars or
NumPy arrays in, arrays out) and has no I/O.

Measures (metafor codes)
    SMD   standardised mean difference, Hedges' g (exact gamma correction, metafor's ``vtype="LS"``)
    MD    raw mean difference (``vtype="HE"``-free: separate group variances)
    SMCR  standardised mean change, raw-score (pre-test SD) standardisation, needs a pre-post r
    SMCC  standardised mean change, change-score standardisation, needs r (or a paired t/F)
    RR    log risk ratio         OR  log odds ratio        RD  risk difference
    PR    raw proportion         PLO logit proportion     PFT Freeman-Tukey double arcsine
    GEN   generic: ``yi``/``vi`` given

Conversions: :func:`smd_from_t`, :func:`smd_from_f`, :func:`smd_from_p` (two independent groups),
:func:`smcc_from_t` / :func:`smcc_from_f` (within-person contrast), :func:`r_from_paired_t`
(pre-post correlation implied by a reported paired t), :func:`smcr_sensitivity` (vi over a range of r).

Zero cells (2x2 tables and single proportions) follow metafor's ``add``/``to`` arguments:
``to="only0"`` (default) adds ``add`` only to tables with a zero cell, ``"all"`` to every table,
``"if0all"`` to every table when any has a zero, ``"none"`` never.

:func:`escalc` is the vectorised front door: ``escalc("RR", df)`` returns a frame with ``yi, vi``.
Intervals: :func:`ci_normal` (analysis scale), :func:`clopper_pearson`, :func:`wilson`, :func:`newcombe_rd`;
back-transforms: :func:`back_transform` (exp, inverse logit, inverse Freeman-Tukey with the harmonic-mean n).
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import special, stats

from evidence_review.errors import InputError

MEASURES: tuple[str, ...] = ("SMD", "MD", "SMCR", "SMCC", "RR", "OR", "RD", "PR", "PLO", "PFT", "GEN")
RATIO_MEASURES: frozenset[str] = frozenset({"RR", "OR"})
PROPORTION_MEASURES: frozenset[str] = frozenset({"PR", "PLO", "PFT"})
ZERO_RULES: tuple[str, ...] = ("only0", "all", "if0all", "none")

# Input columns each measure needs (metafor names). ``ni`` for SMCR/SMCC is the number of pairs.
MEASURE_INPUTS: dict[str, tuple[str, ...]] = {
    "SMD": ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),
    "MD": ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),
    "SMCR": ("m1i", "m2i", "sd1i", "ni", "ri"),
    "SMCC": ("m1i", "m2i", "sd1i", "sd2i", "ni", "ri"),
    "RR": ("ai", "bi", "ci", "di"),
    "OR": ("ai", "bi", "ci", "di"),
    "RD": ("ai", "bi", "ci", "di"),
    "PR": ("xi", "ni"),
    "PLO": ("xi", "ni"),
    "PFT": ("xi", "ni"),
    "GEN": ("yi", "vi"),
}

MEASURE_LABELS: dict[str, str] = {
    "SMD": "standardised mean difference (Hedges' g)",
    "MD": "mean difference",
    "SMCR": "standardised mean change (pre-test SD)",
    "SMCC": "standardised mean change (change-score SD)",
    "RR": "log risk ratio",
    "OR": "log odds ratio",
    "RD": "risk difference",
    "PR": "proportion",
    "PLO": "logit proportion",
    "PFT": "Freeman-Tukey double arcsine proportion",
    "GEN": "generic effect",
}


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def check_measure(measure: str) -> str:
    """Upper-case ``measure`` and fail clearly if metafor would not know it either."""
    m = str(measure).strip().upper()
    if m not in MEASURES:
        raise InputError(f"unknown measure '{measure}' (known: {', '.join(MEASURES)})", field="measure")
    return m


# ---------------------------------------------------------------------------------------------
# small-sample correction
# ---------------------------------------------------------------------------------------------

def hedges_correction(m) -> np.ndarray:
    """Exact bias-correction factor J(m) = Γ(m/2) / (sqrt(m/2) Γ((m-1)/2)), as metafor's ``.cmicalc``.

    Uses log-gamma so large m does not overflow; NaN for m <= 1 (undefined), like metafor.
    """
    m = _arr(m)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.exp(special.gammaln(m / 2) - 0.5 * np.log(m / 2) - special.gammaln((m - 1) / 2))
    return np.where(m > 1, out, np.nan)


# ---------------------------------------------------------------------------------------------
# continuous outcomes
# ---------------------------------------------------------------------------------------------

def smd(m1i, sd1i, n1i, m2i, sd2i, n2i) -> tuple[np.ndarray, np.ndarray]:
    """Hedges' g for two independent groups (metafor ``SMD``, default ``vtype="LS"``).

    g = J(n1+n2-2) * (m1-m2)/s_pooled;  v = 1/n1 + 1/n2 + g^2 / (2 (n1+n2)).
    """
    m1i, sd1i, n1i, m2i, sd2i, n2i = map(_arr, (m1i, sd1i, n1i, m2i, sd2i, n2i))
    mi = n1i + n2i - 2
    sdp = np.sqrt(((n1i - 1) * sd1i**2 + (n2i - 1) * sd2i**2) / mi)
    yi = hedges_correction(mi) * (m1i - m2i) / sdp
    vi = 1 / n1i + 1 / n2i + yi**2 / (2 * (n1i + n2i))
    return yi, vi


def md(m1i, sd1i, n1i, m2i, sd2i, n2i) -> tuple[np.ndarray, np.ndarray]:
    """Raw mean difference with separate group variances (metafor ``MD``, default ``vtype="LS"``)."""
    m1i, sd1i, n1i, m2i, sd2i, n2i = map(_arr, (m1i, sd1i, n1i, m2i, sd2i, n2i))
    return m1i - m2i, sd1i**2 / n1i + sd2i**2 / n2i


def smcr(m1i, m2i, sd1i, ni, ri) -> tuple[np.ndarray, np.ndarray]:
    """Standardised mean change with raw-score (pre-test SD) standardisation (metafor ``SMCR``).

    ``m1i`` = post mean, ``m2i`` = pre mean, ``sd1i`` = pre-test SD, ``ni`` pairs, ``ri`` pre-post r.
    d = J(n-1) (m1-m2)/sd_pre;  v = 2(1-r)/n + d^2/(2n)   (Becker 1988; metafor >= 4).
    The estimate does not depend on r; its variance does - hence :func:`smcr_sensitivity`.
    """
    m1i, m2i, sd1i, ni, ri = map(_arr, (m1i, m2i, sd1i, ni, ri))
    yi = hedges_correction(ni - 1) * (m1i - m2i) / sd1i
    vi = 2 * (1 - ri) / ni + yi**2 / (2 * ni)
    return yi, vi


def smcc(m1i, m2i, sd1i, sd2i, ni, ri) -> tuple[np.ndarray, np.ndarray]:
    """Standardised mean change with change-score standardisation (metafor ``SMCC``).

    sd_change = sqrt(sd1^2 + sd2^2 - 2 r sd1 sd2); d = J(n-1) (m1-m2)/sd_change; v = 1/n + d^2/(2n).
    """
    m1i, m2i, sd1i, sd2i, ni, ri = map(_arr, (m1i, m2i, sd1i, sd2i, ni, ri))
    sdd = np.sqrt(sd1i**2 + sd2i**2 - 2 * ri * sd1i * sd2i)
    yi = hedges_correction(ni - 1) * (m1i - m2i) / sdd
    vi = 1 / ni + yi**2 / (2 * ni)
    return yi, vi


def smcr_sensitivity(m1i, m2i, sd1i, ni, r_values: Iterable[float]) -> pd.DataFrame:
    """SMCR's yi, vi and 95% CI over a range of assumed pre-post correlations (one row per r).

    Why: pre-post reports rarely give r, and the CI width hinges on it; the range shows how much.
    """
    rows = []
    for r in r_values:
        yi, vi = smcr(m1i, m2i, sd1i, ni, r)
        lo, hi = ci_normal(yi, vi)
        rows.append({"ri": float(r), "yi": float(yi), "vi": float(vi), "ci_low": float(lo), "ci_high": float(hi)})
    return pd.DataFrame(rows)


def r_from_paired_t(m1i, m2i, sd1i, sd2i, ni, ti) -> np.ndarray:
    """Pre-post correlation implied by a reported paired t: sd_change = |m1-m2| sqrt(n) / |t|,
    r = (sd1^2 + sd2^2 - sd_change^2) / (2 sd1 sd2). Clipped to [-1, 1]."""
    m1i, m2i, sd1i, sd2i, ni, ti = map(_arr, (m1i, m2i, sd1i, sd2i, ni, ti))
    sdd = np.abs(m1i - m2i) * np.sqrt(ni) / np.abs(ti)
    r = (sd1i**2 + sd2i**2 - sdd**2) / (2 * sd1i * sd2i)
    return np.clip(r, -1.0, 1.0)


# ---------------------------------------------------------------------------------------------
# conversions from test statistics
# ---------------------------------------------------------------------------------------------

def smd_from_t(ti, n1i, n2i) -> tuple[np.ndarray, np.ndarray]:
    """Hedges' g from an independent-groups t: d = t sqrt(1/n1 + 1/n2), then J and the SMD variance."""
    ti, n1i, n2i = map(_arr, (ti, n1i, n2i))
    yi = hedges_correction(n1i + n2i - 2) * ti * np.sqrt(1 / n1i + 1 / n2i)
    vi = 1 / n1i + 1 / n2i + yi**2 / (2 * (n1i + n2i))
    return yi, vi


def smd_from_f(fi, n1i, n2i, sign=1.0) -> tuple[np.ndarray, np.ndarray]:
    """Hedges' g from F(1, n1+n2-2): |t| = sqrt(F); the direction must come from the report (``sign``)."""
    return smd_from_t(np.sign(_arr(sign)) * np.sqrt(_arr(fi)), n1i, n2i)


def smd_from_p(pval, n1i, n2i, sign=1.0) -> tuple[np.ndarray, np.ndarray]:
    """Hedges' g from a two-sided p of an independent-groups t test (t = qt(1-p/2, n1+n2-2))."""
    pval, n1i, n2i = map(_arr, (pval, n1i, n2i))
    ti = np.sign(_arr(sign)) * stats.t.isf(pval / 2, n1i + n2i - 2)
    return smd_from_t(ti, n1i, n2i)


def smcc_from_t(ti, ni) -> tuple[np.ndarray, np.ndarray]:
    """Within-person standardised contrast (d_z, change-score SD) from a paired / 1-df within-subject t.

    d = J(n-1) t / sqrt(n); v = 1/n + d^2/(2n) - the SMCC variance. Not comparable with a
    between-group SMD: it is standardised by the SD of within-person differences.
    """
    ti, ni = map(_arr, (ti, ni))
    yi = hedges_correction(ni - 1) * ti / np.sqrt(ni)
    return yi, 1 / ni + yi**2 / (2 * ni)


def smcc_from_f(fi, ni, sign=1.0) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`smcc_from_t` from F(1, n-1) of a within-subject contrast; ``sign`` gives the direction."""
    return smcc_from_t(np.sign(_arr(sign)) * np.sqrt(_arr(fi)), ni)


def smcc_from_p(pval, ni, sign=1.0) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`smcc_from_t` from the two-sided p of a paired t with n-1 df."""
    pval, ni = map(_arr, (pval, ni))
    return smcc_from_t(np.sign(_arr(sign)) * stats.t.isf(pval / 2, ni - 1), ni)


# ---------------------------------------------------------------------------------------------
# 2x2 tables
# ---------------------------------------------------------------------------------------------

def _zero_adjust(cells: list[np.ndarray], add: float, to: str) -> tuple[list[np.ndarray], np.ndarray]:
    """Apply metafor's add/to rule to the cells of each table; return cells and a 'was adjusted' mask."""
    if to not in ZERO_RULES:
        raise InputError(f"unknown zero-cell rule '{to}' (known: {', '.join(ZERO_RULES)})", field="to")
    has0 = np.zeros(np.broadcast(*cells).shape, dtype=bool)
    for c in cells:
        has0 |= c == 0
    if to == "only0":
        mask = has0
    elif to == "all":
        mask = np.ones_like(has0)
    elif to == "if0all":
        mask = np.full_like(has0, bool(has0.any()))
    else:
        mask = np.zeros_like(has0)
    return [c + add * mask for c in cells], mask


def table_2x2(measure: str, ai, bi, ci, di, add: float = 0.5, to: str = "only0") -> tuple[np.ndarray, np.ndarray]:
    """log RR, log OR or RD from a 2x2 table (rows: group 1 ai|bi, group 2 ci|di)."""
    measure = check_measure(measure)
    ai, bi, ci, di = map(_arr, (ai, bi, ci, di))
    (ai, bi, ci, di), _ = _zero_adjust([ai, bi, ci, di], add, to)
    n1, n2 = ai + bi, ci + di
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "RR":
            yi = np.log((ai / n1) / (ci / n2))
            vi = 1 / ai - 1 / n1 + 1 / ci - 1 / n2
        elif measure == "OR":
            yi = np.log((ai * di) / (bi * ci))
            vi = 1 / ai + 1 / bi + 1 / ci + 1 / di
        elif measure == "RD":
            p1, p2 = ai / n1, ci / n2
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
        else:
            raise InputError(f"measure '{measure}' is not a 2x2-table measure", field="measure")
    return yi, vi


def log_rr(ai, bi, ci, di, add: float = 0.5, to: str = "only0"):
    """Log risk ratio (metafor ``RR``)."""
    return table_2x2("RR", ai, bi, ci, di, add, to)


def log_or(ai, bi, ci, di, add: float = 0.5, to: str = "only0"):
    """Log odds ratio (metafor ``OR``)."""
    return table_2x2("OR", ai, bi, ci, di, add, to)


def rd(ai, bi, ci, di, add: float = 0.5, to: str = "only0"):
    """Risk difference (metafor ``RD``). Defined with zero cells, so ``to="none"`` is often apt."""
    return table_2x2("RD", ai, bi, ci, di, add, to)


# ---------------------------------------------------------------------------------------------
# single proportions
# ---------------------------------------------------------------------------------------------

def proportion(measure: str, xi, ni, add: float = 0.5, to: str = "only0") -> tuple[np.ndarray, np.ndarray]:
    """PR, PLO or PFT for x events out of n.

    PR and PLO apply the add/to rule to the cells x and n-x (as metafor); PFT needs no correction:
    y = (asin(sqrt(x/(n+1))) + asin(sqrt((x+1)/(n+1)))) / 2, v = 1/(4n+2).
    """
    measure = check_measure(measure)
    xi, ni = map(_arr, (xi, ni))
    if measure == "PFT":
        yi = 0.5 * (np.arcsin(np.sqrt(xi / (ni + 1))) + np.arcsin(np.sqrt((xi + 1) / (ni + 1))))
        return yi, 1 / (4 * ni + 2)
    (x, m), _ = _zero_adjust([xi, ni - xi], add, to)
    n = x + m
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "PR":
            p = x / n
            return p, p * (1 - p) / n
        if measure == "PLO":
            return np.log(x / m), 1 / x + 1 / m
    raise InputError(f"measure '{measure}' is not a single-proportion measure", field="measure")


def pft_inverse(yi, ni) -> np.ndarray:
    """Back-transform a Freeman-Tukey value to a proportion for sample size ``ni`` (Miller 1978),
    as metafor's ``transf.ipft``; pass the harmonic mean of the study sizes for a pooled value."""
    yi, ni = map(_arr, (yi, ni))
    s = np.sin(2 * yi)
    with np.errstate(invalid="ignore", divide="ignore"):
        inner = 1 - (s + (s - 1 / s) / ni) ** 2
        p = 0.5 * (1 - np.sign(np.cos(2 * yi)) * np.sqrt(np.clip(inner, 0, None)))
    # metafor's convention at the ends of the scale
    p = np.where(yi < pft_forward_limit(0, ni), 0.0, p)
    p = np.where(yi > pft_forward_limit(1, ni), 1.0, p)
    return np.clip(p, 0.0, 1.0)


def pft_forward_limit(p: float, ni) -> np.ndarray:
    """Freeman-Tukey value of p = 0 or 1 at sample size n (the ends of the PFT scale)."""
    ni = _arr(ni)
    x = p * ni
    return 0.5 * (np.arcsin(np.sqrt(x / (ni + 1))) + np.arcsin(np.sqrt((x + 1) / (ni + 1))))


def harmonic_mean(values) -> float:
    """Harmonic mean (metafor's ``transf.ipft.hm`` uses it for the pooled n)."""
    v = _arr(values)
    return float(len(v) / np.sum(1 / v))


def clopper_pearson(xi, ni, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) interval for x/n from beta quantiles; 0 and 1 at the ends."""
    xi, ni = map(_arr, (xi, ni))
    a = (1 - level) / 2
    with np.errstate(invalid="ignore"):
        lo = np.where(xi > 0, stats.beta.ppf(a, xi, ni - xi + 1), 0.0)
        hi = np.where(xi < ni, stats.beta.ppf(1 - a, xi + 1, ni - xi), 1.0)
    return lo, hi


def wilson(xi, ni, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for x/n (better coverage than Wald at small n, never outside [0, 1])."""
    xi, ni = map(_arr, (xi, ni))
    z = stats.norm.isf((1 - level) / 2)
    p = xi / ni
    centre = (p + z**2 / (2 * ni)) / (1 + z**2 / ni)
    half = z * np.sqrt(p * (1 - p) / ni + z**2 / (4 * ni**2)) / (1 + z**2 / ni)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def newcombe_rd(ai, bi, ci, di, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval (method 10, 1998) for the risk difference ai/(ai+bi) - ci/(ci+di).

    Why: built from the two Wilson intervals, it needs no zero-cell correction and stays inside
    [-1, 1], where the Wald interval collapses or overshoots with a 0/n arm."""
    ai, bi, ci, di = map(_arr, (ai, bi, ci, di))
    n1, n2 = ai + bi, ci + di
    p1, p2 = ai / n1, ci / n2
    l1, u1 = wilson(ai, n1, level)
    l2, u2 = wilson(ci, n2, level)
    d = p1 - p2
    return d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


# ---------------------------------------------------------------------------------------------
# intervals and back-transformation
# ---------------------------------------------------------------------------------------------

def ci_normal(yi, vi, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wald interval on the analysis scale (what metafor's ``summary(escalc)`` shows)."""
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise InputError(f"confidence level must be between 0 and 1 (e.g. 0.95), got {level!r}", field="level")
    yi, vi = map(_arr, (yi, vi))
    if np.any(vi < 0):
        raise InputError("a sampling variance vi is negative", field="vi")
    z = stats.norm.isf((1 - level) / 2)
    se = np.sqrt(vi)
    return yi - z * se, yi + z * se


def back_transform(measure: str, values, ni=None) -> np.ndarray:
    """Analysis scale -> display scale: exp for RR/OR, inverse logit for PLO, inverse Freeman-Tukey
    for PFT (``ni``: the study n, or the harmonic mean n for a pooled value); identity otherwise."""
    measure = check_measure(measure)
    v = _arr(values)
    if measure in RATIO_MEASURES:
        return np.exp(v)
    if measure == "PLO":
        return special.expit(v)
    if measure == "PFT":
        if ni is None:
            raise InputError("PFT back-transformation needs the sample size (ni)", field="ni")
        return pft_inverse(v, ni)
    return v


def display_scale(measure: str) -> str:
    """Name of the scale a reader sees after :func:`back_transform`."""
    measure = check_measure(measure)
    return {"RR": "risk ratio", "OR": "odds ratio", "PLO": "proportion", "PFT": "proportion", "PR": "proportion"}.get(
        measure, MEASURE_LABELS[measure]
    )


# ---------------------------------------------------------------------------------------------
# vectorised front door
# ---------------------------------------------------------------------------------------------

def _columns(data, names: Iterable[str]) -> dict[str, np.ndarray]:
    out = {}
    for name in names:
        if isinstance(data, pd.DataFrame):
            if name not in data.columns:
                raise InputError(f"column '{name}' is needed for this measure", field=name)
            out[name] = pd.to_numeric(data[name], errors="coerce").to_numpy(dtype=float)
        else:
            if name not in data:
                raise InputError(f"argument '{name}' is needed for this measure", field=name)
            out[name] = _arr(data[name])
    return out


def escalc(measure: str, data: pd.DataFrame | Mapping[str, object] | None = None, *, add: float = 0.5,
           to: str = "only0", **arrays) -> pd.DataFrame:
    """Compute ``yi, vi`` for every row, metafor's ``escalc`` in Python.

    ``data`` is a frame (or mapping) with metafor column names; keyword arrays override/extend it.
    Returns a frame with ``yi`` and ``vi`` (and the measure name), indexed like ``data``.
    For ``SMCR``/``SMCC`` ``m1i`` is the post (or second-condition) mean and ``m2i`` the pre mean.
    """
    measure = check_measure(measure)
    if not (isinstance(add, (int, float)) and add >= 0 and add == add and add != float("inf")):
        raise InputError(f"the zero-cell increment must be a finite number >= 0, got {add!r}", field="add")
    if data is None:
        data = {}
    if arrays:
        data = pd.DataFrame(data).assign(**arrays) if isinstance(data, pd.DataFrame) else {**data, **arrays}
    cols = _columns(data, MEASURE_INPUTS[measure])
    if measure == "SMD":
        yi, vi = smd(**cols)
    elif measure == "MD":
        yi, vi = md(**cols)
    elif measure == "SMCR":
        yi, vi = smcr(**cols)
    elif measure == "SMCC":
        yi, vi = smcc(**cols)
    elif measure in ("RR", "OR", "RD"):
        yi, vi = table_2x2(measure, cols["ai"], cols["bi"], cols["ci"], cols["di"], add=add, to=to)
    elif measure in PROPORTION_MEASURES:
        yi, vi = proportion(measure, cols["xi"], cols["ni"], add=add, to=to)
    else:  # GEN
        yi, vi = cols["yi"], cols["vi"]
    index = data.index if isinstance(data, pd.DataFrame) else None
    return pd.DataFrame({"yi": np.atleast_1d(yi), "vi": np.atleast_1d(vi)}, index=index).assign(measure=measure)
