"""robvis-style risk-of-bias figures drawn from the risk-of-bias table alone.

Why two plots: the traffic light shows every judgement of every study (nothing averaged away); the
weighted summary shows how much of the evidence (participants) sits at each level per domain. One
panel per tool, because domains differ between tools. "No information" (and JBI's "Unclear") keep a
colour of their own, so missing reporting is not confused with a concern.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from evidence_review.figures import save_figure
from evidence_review.review.risk_of_bias import OVERALL_LEVELS, TOOLS

COLOURS: dict[str, str] = {
    "Low": "#02C100", "Yes": "#02C100",
    "Some concerns": "#E2DF07", "Moderate": "#E2DF07",
    "High": "#BF0000", "Serious": "#BF0000", "No": "#BF0000",
    "Critical": "#820000",
    "No information": "#4EA1F7", "Unclear": "#4EA1F7",
    "Not applicable": "#CCCCCC",
}
SYMBOLS: dict[str, str] = {"Low": "+", "Yes": "+", "Some concerns": "-", "Moderate": "-", "High": "X", "Serious": "X",
                           "No": "X", "Critical": "!", "No information": "?", "Unclear": "?", "Not applicable": ""}
LEVEL_ORDER: tuple[str, ...] = ("Low", "Yes", "Some concerns", "Moderate", "No information", "Unclear", "High",
                                "Serious", "No", "Critical", "Not applicable")


def study_labels(studies_jsonl: str | Path, ids: list[str]) -> dict[str, str]:
    """'Rodriguez 2013' style labels from the facts (surname + year); the id, spaced, when unknown.
    Two studies with the same label get their id appended so rows stay distinct."""
    facts: dict[str, dict] = {}
    path = Path(studies_jsonl)
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                facts[d["record_id"]] = d
    labels = {}
    for sid in ids:
        d = facts.get(sid, {})
        words = str(d.get("first_author") or "").split()
        if len(words) > 1 and words[-1].isupper() and len(words[-1]) <= 3:
            words = words[:-1]
        year = d.get("year")
        labels[sid] = f"{' '.join(words)} {year}" if words and year else sid.replace("_", " ")
    counts = pd.Series(list(labels.values())).value_counts()
    return {sid: (f"{lab} ({sid})" if counts[lab] > 1 else lab) for sid, lab in labels.items()}


def _panels(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    return [(tool, table[table["tool"] == tool]) for tool in TOOLS if (table["tool"] == tool).any()]


def traffic_light(table: pd.DataFrame, overall_rows: pd.DataFrame, labels: dict[str, str]) -> "plt.Figure":
    """One panel per tool: rows = study (x outcome), columns = domains + Overall, coloured dots."""
    panels = _panels(table)
    heights = [max(len(t.groupby(["study_id", "outcome"])), 1) + 1.6 for _, t in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10.5, 0.42 * sum(heights) + 0.8),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (tool, sub) in zip(axes[:, 0], panels):
        domains = list(TOOLS[tool].domains) + ["Overall"]
        keys = sorted(sub.groupby(["study_id", "outcome"]).groups, key=lambda k: (labels.get(k[0], k[0]), k[1]))
        for yi, (sid, outcome) in enumerate(keys):
            cells = sub[(sub["study_id"] == sid) & (sub["outcome"] == outcome)].set_index("domain")["judgement"].to_dict()
            ov = overall_rows[(overall_rows["study_id"] == sid) & (overall_rows["outcome"] == outcome)]["overall"]
            cells["Overall"] = ov.iloc[0]
            for xi, dom in enumerate(domains):
                j = cells[dom]
                ax.scatter(xi, -yi, s=260, color=COLOURS[j], edgecolors="#555555", linewidths=0.5, zorder=3)
                ax.text(xi, -yi, SYMBOLS[j], ha="center", va="center", fontsize=8, fontweight="bold", zorder=4)
        ax.set_xticks(range(len(domains)))
        ax.set_xticklabels(domains, fontsize=8)
        ax.xaxis.tick_top()
        ax.set_yticks([-i for i in range(len(keys))])
        ax.set_yticklabels([labels.get(s, s) for s, _ in keys], fontsize=8)
        ax.set_xlim(-0.6, len(domains) - 0.4)
        ax.set_ylim(-len(keys) + 0.4, 0.6)
        ax.set_title(f"{tool}", fontsize=9, loc="left", pad=18)
        ax.axvline(len(domains) - 1.5, color="#999999", lw=0.6)
        ax.spines[:].set_visible(False)
        ax.tick_params(length=0)
        words = [j for j in LEVEL_ORDER if j in TOOLS[tool].judgements or j in _overall_words(tool)]
        legend = "   ".join(f"{SYMBOLS[j] or 'blank'} {j}" for j in dict.fromkeys(words))
        domain_key = "; ".join(f"{d}: {n}" for d, n in TOOLS[tool].domains.items())
        ax.set_xlabel(textwrap.fill(domain_key, 150) + "\n" + legend, fontsize=6.5, loc="left")
    fig.tight_layout()
    return fig


def _overall_words(tool: str) -> tuple[str, ...]:
    return OVERALL_LEVELS[TOOLS[tool].family]


def weighted_summary(table: pd.DataFrame, overall_rows: pd.DataFrame, weights: dict[str, int]) -> "plt.Figure":
    """One panel per tool: per domain (and overall), the share of participants at each judgement.
    Studies without a known n carry no weight; the panel title says how many were left out."""
    panels = _panels(table)
    heights = [len(TOOLS[t].domains) + 2.2 for t, _ in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(9.5, 0.3 * sum(heights) + 0.8),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (tool, sub) in zip(axes[:, 0], panels):
        ov = overall_rows[overall_rows["tool"] == tool].assign(domain="Overall", judgement=lambda d: d["overall"])
        data = pd.concat([sub[["study_id", "outcome", "domain", "judgement"]],
                          ov[["study_id", "outcome", "domain", "judgement"]]])
        data = data.assign(w=data["study_id"].map(weights).fillna(0.0))
        unweighted = sorted(set(data.loc[data["w"] == 0, "study_id"]))
        domains = list(TOOLS[tool].domains) + ["Overall"]
        for yi, dom in enumerate(domains):
            d = data[data["domain"] == dom]
            total = d["w"].sum()
            left = 0.0
            for j in LEVEL_ORDER:
                share = d.loc[d["judgement"] == j, "w"].sum() / total * 100 if total else 0.0
                if share:
                    ax.barh(-yi, share, left=left, color=COLOURS[j], edgecolor="white", height=0.7,
                            label=j if j not in ax.get_legend_handles_labels()[1] else None)
                    left += share
        ax.set_yticks([-i for i in range(len(domains))])
        ax.set_yticklabels([f"{d} {TOOLS[tool].domains.get(d, 'Overall')}" if d != "Overall" else "Overall"
                            for d in domains], fontsize=7.5)
        ax.set_xlim(0, 100)
        ax.set_xlabel("% of participants", fontsize=7.5)
        n_st = sub["study_id"].nunique()
        note = f"; no known n (no weight): {', '.join(unweighted)}" if unweighted else ""
        ax.set_title(f"{tool}: {n_st} stud{'y' if n_st == 1 else 'ies'}, weighted by participants{note}",
                     fontsize=8.5, loc="left")
        ax.legend(fontsize=7, ncol=6, loc="upper center", bbox_to_anchor=(0.5, -0.35 if len(domains) < 8 else -0.22),
                  frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def save(fig: "plt.Figure", stem: Path) -> list[Path]:
    try:
        return save_figure(fig, stem)
    finally:
        plt.close(fig)
