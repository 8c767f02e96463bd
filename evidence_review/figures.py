"""Deterministic figure saving: same data in, same PNG/SVG bytes out."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on CI or servers
import matplotlib.pyplot as plt  # noqa: E402

from evidence_review.atomic import atomic_path  # noqa: E402

plt.rcParams["svg.hashsalt"] = "evidence-review"  # stable element ids in SVG
plt.rcParams["svg.fonttype"] = "none"  # text stays text (searchable, smaller)


def save_figure(fig: "matplotlib.figure.Figure", stem: str | Path, formats: tuple[str, ...] = ("png", "svg")) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.svg`` atomically, with no timestamps or version stamps."""
    stem = Path(stem)
    written = []
    for fmt in formats:
        out = stem.with_suffix(f".{fmt}")
        metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
        with atomic_path(out) as tmp:
            fig.savefig(tmp, format=fmt, dpi=150, bbox_inches="tight", metadata=metadata)
        written.append(out)
    return written
