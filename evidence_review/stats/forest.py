"""Forest plots (matplotlib): study estimates with CIs and weights, pooled diamond, prediction interval.

Why on the display scale: readers think in risk ratios and proportions, not log or logit units, so
ratio measures get a log-scaled axis labelled in ratios and proportion measures (PLO, PFT) are drawn
back-transformed; everything is computed on the analysis scale first. Figures are saved through
:func:`evidence_review.figures.save_figure` (PNG + SVG, byte-stable).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from evidence_review.figures import save_figure
from evidence_review.stats import effects
from evidence_review.stats.meta import MetaResult

NULL_VALUE = {"RR": 1.0, "OR": 1.0, "RD": 0.0, "SMD": 0.0, "MD": 0.0, "SMCR": 0.0, "SMCC": 0.0, "GEN": 0.0}


def _display(measure: str, values, ni=None) -> np.ndarray:
    return np.asarray(effects.back_transform(measure, values, ni), dtype=float)


def forest_plot(labels: Sequence[str], yi: Sequence[float], vi: Sequence[float], measure: str,
                result: MetaResult | None = None, title: str = "", ni: Sequence[float] | None = None,
                xlabel: str | None = None, footnote: str = "", level: float = 0.95,
                fitted: Sequence[Sequence[float]] | None = None,
                display: tuple[Sequence[float], Sequence[float], Sequence[float]] | None = None) -> "plt.Figure":
    """Draw one forest plot and return the figure (caller saves it).

    ``result`` adds the pooled diamond, the prediction interval bar and study weights; without it
    the plot is descriptive (no weights, no diamond) - used where pooling would not be justified.
    ``ni`` is needed for PFT (per-study back-transformation). ``fitted`` = (value, ci_low, ci_high) per
    study on the analysis scale, e.g. a meta-regression's fitted values: drawn as grey diamonds beside
    each study, as metafor's ``forest()`` does for a model with moderators.
    """
    measure = effects.check_measure(measure)
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    lo, hi = effects.ci_normal(y, v, level)
    n_arr = None if ni is None else np.asarray(ni, dtype=float)
    est_d = _display(measure, y, n_arr)
    lo_d = _display(measure, lo, n_arr)
    hi_d = _display(measure, hi, n_arr)
    if display is not None:
        est_d, lo_d, hi_d = (np.asarray(v, dtype=float) for v in display)
    k = len(y)
    rows = k + (2 if result is not None else 0)
    fig, ax = plt.subplots(figsize=(9.0, 1.2 + 0.42 * rows))
    ypos = np.arange(k, 0, -1) + (1.5 if result is not None else 0)
    if result is not None and result.weights:
        w = np.asarray(result.weights)
        sizes = 30 + 170 * w / w.max()
    else:
        w = None
        sizes = np.full(k, 60.0)
    if fitted is not None:
        fv, fl, fh = (_display(measure, np.asarray(a, dtype=float), n_arr) for a in fitted)
        for yp, c, lo_f, hi_f in zip(ypos, fv, fl, fh):
            ax.fill([lo_f, c, hi_f, c], [yp, yp + 0.22, yp, yp - 0.22], color="#A0A0A0", alpha=0.6, zorder=2)
    ax.hlines(ypos, lo_d, hi_d, color="black", lw=1.2)
    ax.scatter(est_d, ypos, s=sizes, marker="s", color="#2C6FAC", zorder=3)

    if result is not None:
        n_pool = effects.harmonic_mean(n_arr) if (measure == "PFT" and n_arr is not None) else None
        pe, pl, ph = (_display(measure, val, n_pool) for val in (result.estimate, result.ci_low, result.ci_high))
        has_pi = bool(np.isfinite(result.pi_low) and np.isfinite(result.pi_high))  # none for FE
        yd = 1.0
        ax.fill([pl, pe, ph, pe], [yd, yd + 0.28, yd, yd - 0.28], color="#C0392B", zorder=3)
        pooled_label = f"Pooled ({result.method}{', HKSJ' if result.test == 'knha' else ''}; k = {result.k})"
        ytick_labels = list(labels) + [pooled_label]
        yticks = list(ypos) + [yd]
        if has_pi:
            pil, pih = (_display(measure, val, n_pool) for val in (result.pi_low, result.pi_high))
            ax.hlines(yd - 0.55, pil, pih, color="#C0392B", lw=2.5, alpha=0.6)
            ax.vlines([pil, pih], yd - 0.7, yd - 0.4, color="#C0392B", lw=1.5, alpha=0.6)
            ytick_labels.append(f"{int(level * 100)}% prediction interval")
            yticks.append(yd - 0.55)
    else:
        ytick_labels = list(labels)
        yticks = list(ypos)
    ax.set_yticks(yticks)
    ax.set_yticklabels(ytick_labels, fontsize=8.5)

    null = NULL_VALUE.get(measure)
    if null is not None:
        ax.axvline(null, color="grey", ls="--", lw=1)
    if measure in effects.RATIO_MEASURES:
        ax.set_xscale("log")
    if measure in effects.PROPORTION_MEASURES:
        ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel(xlabel or f"{effects.display_scale(measure)} ({int(level * 100)}% CI)")
    ax.set_ylim(-0.1 if result is not None else 0.3, max(yticks) + 0.7)

    # right-hand text column: estimate [CI] and weight
    trans = ax.get_yaxis_transform()
    ax.text(1.02, max(yticks) + 0.45, "estimate [CI]" + ("   weight" if w is not None else ""), transform=trans,
            fontsize=8, fontweight="bold", va="bottom")
    for i in range(k):
        txt = f"{est_d[i]:.2f} [{lo_d[i]:.2f}, {hi_d[i]:.2f}]"
        if w is not None:
            txt += f"   {w[i]:.1f}%"
        ax.text(1.02, ypos[i], txt, transform=trans, fontsize=8, va="center", family="monospace")
    if result is not None:
        ax.text(1.02, 1.0, f"{float(pe):.2f} [{float(pl):.2f}, {float(ph):.2f}]", transform=trans, fontsize=8,
                va="center", family="monospace", color="#C0392B")
        if has_pi:
            ax.text(1.02, 0.45, f"PI [{float(pil):.2f}, {float(pih):.2f}]", transform=trans, fontsize=8,
                    va="center", family="monospace", color="#C0392B")
        het = (f"tau\u00b2 = {result.tau2:.3f}; " if result.method != "FE" else "fixed effect; ") + (
               f"I\u00b2 = {result.i2:.0f}%; Q = {result.q:.2f} (df {result.q_df}, p = {result.q_p:.3f})")
        footnote = het + ("\n" + footnote if footnote else "")
    if title:
        fig.text(0.01, 0.985, title, fontsize=9.5, va="top", ha="left", wrap=True)
    if footnote:
        fig.text(0.01, 0.005, footnote, fontsize=7.5, va="bottom", ha="left", wrap=True)
    ax.spines[["top", "right"]].set_visible(False)
    fig.subplots_adjust(left=0.38, right=0.72, bottom=0.18 + 0.02 * footnote.count("\n"), top=0.88 - 0.01 * (rows < 4))
    return fig


def save_forest(fig: "plt.Figure", figures_dir: str | Path, analysis: str) -> list[Path]:
    """Save as ``forest_<analysis>.png`` and ``.svg`` under ``figures_dir``; close the figure."""
    try:
        return save_figure(fig, Path(figures_dir) / f"forest_{analysis}")
    finally:
        plt.close(fig)
