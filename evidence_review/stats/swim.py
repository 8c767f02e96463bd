"""Synthesis without meta-analysis (SWiM, Campbell et al. BMJ 2020): effect direction per study.

Why: where the comparability rules let nothing be pooled, the honest summary is a per-study table of
which way each result points, grouped by how it was obtained (randomized contrast, uncontrolled
before-after change, uncontrolled proportion), with a sign test of direction where a direction exists.
An uncontrolled responder proportion has no reference value, so it gets no direction and does not
enter a sign test. One row per study: the study's most informative result in the domain (a randomized
between-group contrast, then a within-person contrast, then a before-after change, then a proportion).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from evidence_review.figures import save_figure
from evidence_review.tables import write_table

if TYPE_CHECKING:  # pragma: no cover
    from evidence_review.pipeline import ReportContext

PRIORITY = {"between_groups": 0, "within_person": 1, "pre_post": 2, "single_group": 3}
GROUPS = {"between_groups": "randomized contrast", "within_person": "randomized contrast",
          "pre_post": "uncontrolled before-after change", "single_group": "uncontrolled proportion (no comparator)"}
SYMPTOM_MEASURES = frozenset({"SMD", "MD", "SMCR", "SMCC"})  # lower score = fewer symptoms
SWIM_COLUMNS: tuple[str, ...] = ("domain", "group", "study_id", "design", "comparison", "outcome", "timepoint", "n",
                                 "measure", "effect", "ci_method", "direction", "interval_excludes_null",
                                 "risk_of_bias", "comparison_id", "source")
SIGN_COLUMNS: tuple[str, ...] = ("domain", "group", "k_with_direction", "favourable", "unfavourable", "p_two_sided",
                                 "note")


def load_domain(topic_path: str | Path) -> tuple[str, tuple[str, ...]]:
    data = tomllib.loads(Path(topic_path).read_text(encoding="utf-8"))
    sw = data.get("swim") or {}
    return str(sw.get("domain", "")), tuple(sw.get("outcomes", ()))


def direction(measure: str, ctype: str, yi: float) -> str:
    """'favourable' / 'unfavourable' / 'no change' / 'no reference' for one result (point estimate)."""
    if ctype == "single_group":
        return "no reference"
    if yi == 0:
        return "no change"
    better = yi < 0 if measure in SYMPTOM_MEASURES else yi > 0
    return "favourable" if better else "unfavourable"


def swim_table(table: pd.DataFrame, eff: pd.DataFrame, domain: str, outcomes: tuple[str, ...],
               rob: dict[str, str] | None = None, threshold: float | None = None) -> pd.DataFrame:
    """One row per study with a result in ``outcomes``: its best result, direction and RoB."""
    rob = rob or {}
    e = eff.set_index("comparison_id")
    rows = table[table["outcome"].isin(outcomes)].copy()
    if rows.empty:
        return pd.DataFrame(columns=list(SWIM_COLUMNS))
    rows["_prio"] = rows["comparison_type"].map(PRIORITY).fillna(9)
    thr = pd.to_numeric(rows["response_threshold_pct"], errors="coerce")
    rows["_thr"] = 0 if threshold is None else (thr != threshold).astype(int)
    rows = rows.sort_values(["study_id", "_prio", "_thr", "comparison_id"], kind="mergesort")
    out = []
    for sid, grp in rows.groupby("study_id", sort=True):
        r = grp.iloc[0]
        ef = e.loc[r["comparison_id"]]
        ctype = str(r["comparison_type"])
        lo, hi = float(ef["ci_low_display"]), float(ef["ci_high_display"])
        null = 0.0 if r["measure"] in SYMPTOM_MEASURES or r["measure"] == "RD" else None
        out.append({
            "domain": domain, "group": GROUPS.get(ctype, ctype), "study_id": sid, "design": r["design"],
            "comparison": r["comparison"], "outcome": r["outcome"], "timepoint": r["timepoint"], "n": ef["n"],
            "measure": r["measure"], "effect": ef["effect_label"], "ci_method": ef["ci_method"],
            "direction": direction(r["measure"], ctype, float(ef["yi"])),
            "interval_excludes_null": "n/a" if null is None or ctype == "single_group" else
            ("yes" if lo > null or hi < null else "no"),
            "risk_of_bias": rob.get(sid, "not assessed"), "comparison_id": r["comparison_id"], "source": r["source"],
        })
    df = pd.DataFrame(out, columns=list(SWIM_COLUMNS))
    order = {g: i for i, g in enumerate(dict.fromkeys(GROUPS.values()))}
    return df.sort_values(["group", "study_id"], key=lambda c: c.map(order) if c.name == "group" else c,
                          kind="mergesort").reset_index(drop=True)


def sign_tests(swim: pd.DataFrame) -> pd.DataFrame:
    """Two-sided exact binomial (sign) test of favourable vs unfavourable directions per group;
    groups whose results have no reference value are listed as not applicable."""
    out = []
    for group, grp in swim.groupby("group", sort=False):
        fav = int((grp["direction"] == "favourable").sum())
        unf = int((grp["direction"] == "unfavourable").sum())
        k = fav + unf
        if k == 0:
            out.append({"domain": grp["domain"].iloc[0], "group": group, "k_with_direction": 0, "favourable": 0,
                        "unfavourable": 0, "p_two_sided": np.nan,
                        "note": "not applicable: results have no comparator or reference value"})
            continue
        p = float(stats.binomtest(fav, k, 0.5).pvalue)
        out.append({"domain": grp["domain"].iloc[0], "group": group, "k_with_direction": k, "favourable": fav,
                    "unfavourable": unf, "p_two_sided": p,
                    "note": (f"{fav} of {k} favourable; with k = {k} even unanimous direction cannot reach p < 0.05"
                             if k < 6 else f"{fav} of {k} favourable")})
    return pd.DataFrame(out, columns=list(SIGN_COLUMNS))


ROB_FILL = {"Low": "#02C100", "Some concerns": "#E2DF07", "Moderate": "#E2DF07", "High": "#BF0000",
            "Serious": "#BF0000", "Critical": "#820000"}


def direction_plot(swim: pd.DataFrame, labels: dict[str, str] | None = None, condition: str = "Symptoms") -> "plt.Figure":
    """Effect-direction plot: one row per study, grouped; up triangle favourable, down unfavourable,
    circle no reference; marker area by n; fill by overall risk of bias."""
    labels = labels or {}
    fig, ax = plt.subplots(figsize=(9.5, 0.42 * len(swim) + 1.6))
    y = np.arange(len(swim))[::-1]
    marker = {"favourable": "^", "unfavourable": "v", "no change": "D", "no reference": "o"}
    for yi, rec in zip(y, swim.to_dict("records")):
        size = 40 + 12 * float(rec["n"] or 0)
        ax.scatter(0, yi, marker=marker[rec["direction"]], s=size, color=ROB_FILL.get(rec["risk_of_bias"], "#4EA1F7"),
                   edgecolors="black", linewidths=0.6, zorder=3)
        ax.text(0.08, yi, f"{rec['direction']}; {rec['effect']}", va="center", fontsize=7.5)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{labels.get(s, s)} [{g.split(' (')[0]}]" for s, g in zip(swim["study_id"], swim["group"])],
                       fontsize=7.5)
    ax.set_xlim(-0.1, 1.6)
    ax.set_xticks([])
    ax.spines[:].set_visible(False)
    ax.set_title(f"{condition} symptoms: direction of effect per study (SWiM; not pooled)", fontsize=9, loc="left")
    fig.text(0.01, 0.01, "^ favourable  v unfavourable  o no reference value (uncontrolled proportion); marker area ~ n; "
             "fill = overall risk of bias (green low, yellow some concerns/moderate, red high)", fontsize=7)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def report_stage(ctx: "ReportContext", table: pd.DataFrame, eff: pd.DataFrame, pooled: pd.DataFrame) -> None:
    """Write ``swim.csv``, ``swim_sign_tests.csv`` and the effect-direction plot (called by the effects stage)."""
    domain, outcomes = load_domain(ctx.topic_path)
    if not outcomes:
        return
    ov = ctx.tables.get("risk_of_bias_overall")
    rob = {} if ov is None else ov.groupby("study_id")["overall"].first().to_dict()
    topic_thr = None
    try:
        from evidence_review.review.topic import load_topic
        topic_thr = load_topic(ctx.topic_path).outcome.response_threshold * 100
    except Exception:  # noqa: BLE001 - a topic without an outcome block still gets a table
        topic_thr = None
    sw = swim_table(table, eff, domain, outcomes, rob, topic_thr)
    tests = sign_tests(sw)
    ctx.tables["swim"] = sw
    ctx.tables["swim_sign_tests"] = tests
    ctx.written.append(write_table(sw, ctx.tables_dir / "swim.csv"))
    ctx.written.append(write_table(tests, ctx.tables_dir / "swim_sign_tests.csv"))
    fig = direction_plot(sw, ctx.facts.get("rob_labels"), ctx.topic.condition.label)
    try:
        ctx.written += save_figure(fig, ctx.figures_dir / "swim_effect_direction")
    finally:
        plt.close(fig)
    ctx.facts["swim_figure"] = "swim_effect_direction"
    ctx.facts["primary_pooled"] = int(pooled["primary"].astype(bool).sum()) if len(pooled) else 0
