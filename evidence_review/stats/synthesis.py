"""The pipeline's "effects" stage: extraction -> effect sizes -> pooled estimates -> forest plots.

Writes ``reports/tables/effects.csv`` (one row per comparison, every number traceable to
``evidence/extraction.csv``), ``reports/tables/pooled.csv`` (only analyses with >= 2 comparable
studies) and ``reports/figures/forest_<analysis>.png/.svg``.

What counts as comparable is declared in :data:`POOLED_ANALYSES`, as selection rules over extraction
rows (outcome, comparison type, response threshold, time window), not as a list of studies - so a new
row that meets the rule joins the pool and one that does not stays out. Never pooled: RCT contrasts
with single-arm proportions, different response thresholds, undefined "improvement", rows with an
unknown timepoint, or two rows from the same patients.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evidence_review import paths
from evidence_review.stats import effects, extraction, forest, meta
from evidence_review.errors import InputError
from evidence_review.tables import write_table

if TYPE_CHECKING:  # pragma: no cover
    from evidence_review.pipeline import ReportContext

EFFECT_COLUMNS: tuple[str, ...] = (
    "study_id", "comparison_id", "outcome", "scale", "timepoint", "timepoint_days", "design", "comparison_type",
    "comparison", "measure", "yi", "vi", "se", "ci_low", "ci_high", "display_scale", "est_display",
    "ci_low_display", "ci_high_display", "exact_ci_low", "exact_ci_high", "wilson_ci_low", "wilson_ci_high",
    "ri", "sens_ri_low", "sens_ri_high", "sens_ci_low", "sens_ci_high", "n", "effect_label", "computed_from",
    "derived", "source", "included_in_records",
)


@dataclass(frozen=True)
class PooledAnalysis:
    """A declared pooling rule: which extraction rows are comparable enough to combine, and why."""

    analysis: str
    title: str
    outcome: str
    comparison_type: str
    response_threshold_pct: float
    max_days: float
    fits: tuple[tuple[str, str], ...]  # (measure, test); the first is the primary analysis
    method: str
    rationale: str


POOLED_ANALYSES: tuple[PooledAnalysis, ...] = (
    PooledAnalysis(
        analysis="ybocs_response_week1",
        title="Y-BOCS response (>=35% reduction) within the first week after ketamine, single-group proportions",
        outcome="Y-BOCS response",
        comparison_type="single_group",
        response_threshold_pct=35,
        max_days=7,
        fits=(("PLO", "z"), ("PLO", "knha"), ("PFT", "z")),
        method="REML",
        rationale=("ketamine-treated patients only (single-arm studies and ketamine arms), same outcome and 35% "
                   "response threshold, assessed within 7 days of a single IV infusion; RCT contrasts, other "
                   "thresholds, undefined improvement and rows without a timepoint are excluded by rule"),
    ),
)

POOLED_COLUMNS: tuple[str, ...] = (
    "analysis", "primary", "title", "measure", "method", "test", "k", "study_ids", "comparison_ids", "events",
    "n_total", "estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "tau2_ci_low", "tau2_ci_high",
    "i2", "i2_ci_low", "i2_ci_high", "h2", "q", "q_df", "q_p", "back_scale", "back_estimate", "back_ci_low",
    "back_ci_high", "back_pi_low", "back_pi_high", "egger", "rationale", "caveat",
)


def known_study_ids(shared: Path | None = None) -> set[str] | None:
    """record_ids of human studies in the evidence facts, or None when the facts are not at hand."""
    path = (shared / "evidence-facts" if shared else paths.evidence_facts_dir()) / "studies.jsonl"
    if not path.exists():
        return None
    ids = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            ids.add(json.loads(line)["record_id"])
    return ids


def _truthy(v: Any) -> bool:
    return str(v).strip().lower() in ("true", "1", "yes", "y", "t")


def records_inclusion(records: pd.DataFrame | None) -> dict[str, bool]:
    """study_id -> included, from the records stage (empty when that table is absent)."""
    if records is None or "study_id" not in records.columns or "included" not in records.columns:
        return {}
    out: dict[str, bool] = {}
    for sid, inc in zip(records["study_id"].astype(str), records["included"]):
        out[sid] = out.get(sid, False) or _truthy(inc)
    return out


def compute_effects(table: pd.DataFrame, inclusion: dict[str, bool] | None = None, level: float = 0.95) -> pd.DataFrame:
    """One effects row per validated extraction row (see :data:`EFFECT_COLUMNS`)."""
    inclusion = inclusion or {}
    rows = []
    for _, rec in table.iterrows():
        m = rec["measure"]
        yi, vi, how = extraction.row_effect(rec)
        lo, hi = (float(x) for x in effects.ci_normal(yi, vi, level))
        n = extraction.row_n(rec)
        row: dict[str, Any] = {c: rec.get(c, "") for c in ("study_id", "comparison_id", "outcome", "scale", "timepoint",
                                                           "timepoint_days", "design", "comparison_type", "comparison",
                                                           "derived", "source")}
        row.update(measure=m, yi=yi, vi=vi, se=float(np.sqrt(vi)), ci_low=lo, ci_high=hi, n=n, computed_from=how,
                   display_scale=effects.display_scale(m))
        ni = rec["ni"] if m == "PFT" else None
        est_d, lo_d, hi_d = (float(effects.back_transform(m, x, ni)) for x in (yi, lo, hi))
        row.update(est_display=est_d, ci_low_display=lo_d, ci_high_display=hi_d)
        if rec["input_group"] == "proportion":
            cp = effects.clopper_pearson(rec["xi"], rec["ni"], level)
            wl = effects.wilson(rec["xi"], rec["ni"], level)
            row.update(exact_ci_low=float(cp[0]), exact_ci_high=float(cp[1]), wilson_ci_low=float(wl[0]),
                       wilson_ci_high=float(wl[1]))
            label = (f"{int(rec['xi'])}/{int(rec['ni'])} = {rec['xi'] / rec['ni']:.2f} "
                     f"(exact {cp[0]:.2f}-{cp[1]:.2f})")
        elif m == "RD":
            label = f"RD {yi:+.2f} ({lo:+.2f} to {hi:+.2f})"
        elif m in effects.RATIO_MEASURES:
            label = f"{m} {est_d:.2f} ({lo_d:.2f} to {hi_d:.2f})"
        else:
            label = f"{m} {yi:+.2f} ({lo:+.2f} to {hi:+.2f})"
        if rec["input_group"] == "pre_post":
            row["ri"] = rec["ri"]
            if not pd.isna(rec["ri_low"]):
                sens = effects.smcr_sensitivity(rec["m1i"], rec["m2i"], rec["sd1i"], rec["ni"],
                                                [rec["ri_low"], rec["ri_high"]]) if m == "SMCR" else None
                if sens is not None:
                    row.update(sens_ri_low=rec["ri_low"], sens_ri_high=rec["ri_high"],
                               sens_ci_low=float(sens["ci_low"].min()), sens_ci_high=float(sens["ci_high"].max()))
                    label += f"; CI {row['sens_ci_low']:+.2f} to {row['sens_ci_high']:+.2f} for r {rec['ri_low']:g}-{rec['ri_high']:g}"
        row["effect_label"] = label
        sid = str(rec["study_id"])
        row["included_in_records"] = "" if not inclusion else ("yes" if inclusion.get(sid) else
                                                                ("no" if sid in inclusion else "not in records"))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))


def select_for_pooling(table: pd.DataFrame, spec: PooledAnalysis) -> pd.DataFrame:
    """Extraction rows that meet ``spec``'s comparability rule (one per study)."""
    days = pd.to_numeric(table["timepoint_days"], errors="coerce")
    thr = pd.to_numeric(table["response_threshold_pct"], errors="coerce")
    sel = table[(table["outcome"] == spec.outcome) & (table["comparison_type"] == spec.comparison_type)
                & (table["input_group"] == "proportion") & (thr == spec.response_threshold_pct)
                & days.notna() & (days <= spec.max_days)]
    dup = sel["study_id"][sel["study_id"].duplicated()]
    if len(dup):
        raise InputError(f"analysis {spec.analysis}: study '{dup.iloc[0]}' contributes two rows (same patients)",
                         field="study_id")
    return sel


def pool(table: pd.DataFrame, specs: tuple[PooledAnalysis, ...] = POOLED_ANALYSES
         ) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Run every declared analysis with >= 2 studies; return the pooled table and, per analysis,
    the inputs and primary result (for forest plots) or the reason it was skipped."""
    rows, details = [], {}
    for spec in specs:
        sel = select_for_pooling(table, spec)
        if sel["study_id"].nunique() < 2:
            details[spec.analysis] = {"pooled": False,
                                      "reason": f"fewer than 2 comparable studies (k = {sel['study_id'].nunique()})"}
            continue
        xi = sel["xi"].to_numpy(float)
        ni = sel["ni"].to_numpy(float)
        primary_result = None
        for j, (measure, test) in enumerate(spec.fits):
            yi, vi = effects.proportion(measure, xi, ni)
            res = meta.rma(yi, vi, method=spec.method, test=test, measure=measure, ni=ni)
            egger = meta.egger_test(yi, vi)
            caveat = (f"k = {res.k}: tau\u00b2 and I\u00b2 are barely estimable; "
                      + ("HKSJ uses t with k-1 df, hence the very wide interval; " if test == "knha" else "")
                      + "uncontrolled proportions say nothing about efficacy against placebo")
            rows.append({
                "analysis": spec.analysis, "primary": j == 0, "title": spec.title, "measure": measure,
                "method": res.method, "test": test, "k": res.k, "study_ids": "; ".join(sel["study_id"]),
                "comparison_ids": "; ".join(sel["comparison_id"]), "events": int(xi.sum()), "n_total": int(ni.sum()),
                "estimate": res.estimate, "se": res.se, "ci_low": res.ci_low, "ci_high": res.ci_high,
                "pi_low": res.pi_low, "pi_high": res.pi_high, "tau2": res.tau2, "tau2_ci_low": res.tau2_ci_low,
                "tau2_ci_high": res.tau2_ci_high, "i2": res.i2, "i2_ci_low": res.i2_ci_low,
                "i2_ci_high": res.i2_ci_high, "h2": res.h2, "q": res.q, "q_df": res.q_df, "q_p": res.q_p,
                "back_scale": "proportion", "back_estimate": res.back.get("estimate"),
                "back_ci_low": res.back.get("ci_low"), "back_ci_high": res.back.get("ci_high"),
                "back_pi_low": res.back.get("pi_low"), "back_pi_high": res.back.get("pi_high"),
                "egger": egger.reason if not egger.ran else f"t = {egger.t:.2f}, p = {egger.pval:.3f}",
                "rationale": spec.rationale, "caveat": caveat,
            })
            if j == 0:
                primary_result = res
        details[spec.analysis] = {"pooled": True, "spec": spec, "rows": sel, "result": primary_result}
    return pd.DataFrame(rows, columns=list(POOLED_COLUMNS)), details


def _study_label(rec: pd.Series) -> str:
    return f"{rec['study_id']}: {int(rec['xi'])}/{int(rec['ni'])}, day {rec['timepoint_days']:g}"


def make_forest_plots(table: pd.DataFrame, details: dict[str, dict[str, Any]], figures_dir: Path) -> tuple[list[str], list[Path]]:
    """Forest plot per pooled analysis plus a descriptive (unpooled) plot of every Y-BOCS responder
    proportion, so the reader sees what was left out of the pool and why."""
    stems, written = [], []
    for name, det in details.items():
        if not det.get("pooled"):
            continue
        sel, res, spec = det["rows"], det["result"], det["spec"]
        measure = spec.fits[0][0]
        yi, vi = effects.proportion(measure, sel["xi"].to_numpy(float), sel["ni"].to_numpy(float))
        fig = forest.forest_plot([_study_label(r) for _, r in sel.iterrows()], yi, vi, measure, result=res,
                                 title=spec.title, ni=sel["ni"].to_numpy(float), xlabel="proportion responding (95% CI)",
                                 footnote=(f"{spec.method} on the logit (PLO) scale, back-transformed; zero counts get 0.5 added "
                                           f"to both cells, so 0/n plots slightly above 0; k = {res.k}"))
        written += forest.save_forest(fig, figures_dir, name)
        stems.append(f"forest_{name}")
    resp = table[(table["outcome"] == "Y-BOCS response") & (table["input_group"] == "proportion")]
    if len(resp):
        yi, vi = effects.proportion("PLO", resp["xi"].to_numpy(float), resp["ni"].to_numpy(float))
        labels = [f"{r['study_id']}: {int(r['xi'])}/{int(r['ni'])}, >={r['response_threshold_pct']:g}%, "
                  + (f"day {r['timepoint_days']:g}" if not pd.isna(r["timepoint_days"]) else "time n/a")
                  for _, r in resp.iterrows()]
        fig = forest.forest_plot(labels, yi, vi, "PLO", result=None,
                                 title="Y-BOCS responder proportions by study (not pooled: regimens, thresholds and timepoints differ)",
                                 xlabel="proportion responding (95% CI, logit-based)",
                                 footnote="descriptive only; no pooled estimate")
        written += forest.save_forest(fig, figures_dir, "ybocs_response_by_study")
        stems.append("forest_ybocs_response_by_study")
    return stems, written


def synthesis_tables(ctx: "ReportContext") -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """Validated extraction, effects and pooled analyses (and pooling details), without writing or plotting:
    what the "effects" stage computes, for callers that need the tables only (e.g. ``audit``)."""
    ids = known_study_ids(ctx.shared)
    inclusion = records_inclusion(ctx.tables.get("records"))
    if ids is not None:  # studies a search found and a reviewer included can be extracted too
        ids = ids | {s for s, inc in inclusion.items() if inc}
    excluded = [s for s, inc in inclusion.items() if not inc]
    table = extraction.load(ctx.evidence / "extraction.csv", known_study_ids=ids)
    for i, sid in enumerate(table["study_id"]):
        if sid in excluded:
            raise InputError(f"study '{sid}' is excluded by screening but has extraction rows",
                             file=ctx.evidence / "extraction.csv", row=i + 2, field="study_id")
    eff = compute_effects(table, inclusion)
    pooled, details = pool(table)
    return table, eff, pooled, details


def report_stage(ctx: "ReportContext") -> None:
    """Pipeline stage "effects": validate extraction, compute effects, pool, plot; fill ``ctx``."""
    table, eff, pooled, details = synthesis_tables(ctx)
    inclusion = records_inclusion(ctx.tables.get("records"))
    ctx.tables["extraction"] = table
    ctx.tables["effects"] = eff
    ctx.tables["pooled"] = pooled
    ctx.written.append(write_table(eff, ctx.tables_dir / "effects.csv"))
    ctx.written.append(write_table(pooled, ctx.tables_dir / "pooled.csv"))
    stems, written = make_forest_plots(table, details, ctx.figures_dir)
    ctx.written.extend(written)
    ctx.facts["forest_plots"] = stems
    ctx.facts["pooled_skipped"] = {k: d["reason"] for k, d in details.items() if not d.get("pooled")}
    ctx.facts["effects_unconfirmed_studies"] = sorted(
        {s for s in table["study_id"] if inclusion and s not in inclusion})
    ctx.facts["effects_design_mismatches"] = design_mismatches(table, ctx.tables.get("records"))


def design_mismatches(table: pd.DataFrame, records: pd.DataFrame | None) -> list[dict[str, str]]:
    """Studies whose extraction design differs from the records stage's label (reported, not fatal:
    the curated extraction design is the one the effect sizes rest on)."""
    if records is None or "design" not in records.columns or "study_id" not in records.columns:
        return []
    labels = dict(zip(records["study_id"].astype(str), records["design"].astype(str)))
    out = []
    for sid, design in table[["study_id", "design"]].drop_duplicates().itertuples(index=False):
        if sid in labels and labels[sid] != design:
            out.append({"study_id": sid, "extraction": design, "records": labels[sid]})
    return out
