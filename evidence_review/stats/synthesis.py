"""The pipeline's "effects" stage: extraction -> effect sizes -> pooled estimates (only where the topic's
comparability rules pass) -> forest plots, and a synthesis without meta-analysis (SWiM) where they do not.

Writes ``reports/tables/effects.csv`` (one row per comparison, every number traceable to
``evidence/extraction.csv``), ``reports/tables/pooled.csv`` (only analyses whose rows pass a rule of
``[[comparability_rules]]`` in the topic file), ``reports/tables/comparability.csv`` (every rule, what it
selected and why it did or did not pool), ``reports/tables/swim.csv`` and the figures.

One interval per measure everywhere (tables, plots, claims): exact Clopper-Pearson for a single
proportion, Newcombe's hybrid score interval for a risk difference, Wald on the analysis scale for
standardised mean differences and changes (``ci_method`` names it on every row).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evidence_review import paths
from evidence_review.errors import InputError
from evidence_review.stats import comparability, effects, extraction, forest, meta, swim
from evidence_review.stats.comparability import ComparabilityRule
from evidence_review.tables import write_table

if TYPE_CHECKING:  # pragma: no cover
    from evidence_review.pipeline import ReportContext

EFFECT_COLUMNS: tuple[str, ...] = (
    "study_id", "comparison_id", "outcome", "scale", "timepoint", "timepoint_days", "design", "comparison_type",
    "comparison", "measure", "yi", "vi", "se", "ci_low", "ci_high", "display_scale", "est_display",
    "ci_low_display", "ci_high_display", "ci_method", "exact_ci_low", "exact_ci_high",
    "ri", "sens_ri_low", "sens_ri_high", "sens_ci_low", "sens_ci_high", "n", "effect_label", "computed_from",
    "caveat", "alt_effect_label", "derived", "source", "included_in_records",
)


POOLED_COLUMNS: tuple[str, ...] = (
    "analysis", "role", "primary", "title", "measure", "method", "test", "k", "study_ids", "comparison_ids", "events",
    "n_total", "estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "tau2_ci_low", "tau2_ci_high",
    "i2", "i2_ci_low", "i2_ci_high", "h2", "q", "q_df", "q_p", "back_scale", "back_estimate", "back_ci_low",
    "back_ci_high", "back_pi_low", "back_pi_high", "egger", "rationale", "caveat",
)


def known_study_ids(shared: Path | None = None, studies_file: Path | None = None) -> set[str] | None:
    """record_ids of human studies in the evidence facts (the topic's studies file, else the shared
    folder's), or None when the facts are not at hand."""
    path = studies_file or (shared / "evidence-facts" if shared else paths.evidence_facts_dir()) / "studies.jsonl"
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


# A pre-post change standardised by a baseline SD this much smaller than the follow-up SD is flagged:
# entry criteria (e.g. "MADRS >= 35") restrict the baseline range, shrink its SD and inflate SMCR.
RANGE_RESTRICTION_RATIO = 0.5

CI_METHODS: dict[str, str] = {
    "proportion": "exact (Clopper-Pearson)",
    "RD": "Newcombe hybrid score (method 10)",
    "other": "Wald on the analysis scale",
}


def _range_restriction(rec: pd.Series, level: float) -> tuple[str, str]:
    """(caveat, alternative) for an SMCR whose baseline SD looks range-restricted; ('', '') otherwise.
    The alternative standardises by the change-score SD implied by the reported paired t (SMCC)."""
    if rec["measure"] != "SMCR" or pd.isna(rec.get("sd2i")) or pd.isna(rec.get("sd1i")) or not rec["sd2i"]:
        return "", ""
    ratio = float(rec["sd1i"]) / float(rec["sd2i"])
    if ratio >= RANGE_RESTRICTION_RATIO:
        return "", ""
    caveat = (f"baseline SD {rec['sd1i']:g} is {ratio:.2f} x the follow-up SD {rec['sd2i']:g} (range restricted by "
              "entry criteria), so the pre-test-SD standardisation inflates the change")
    alt = ""
    if not pd.isna(rec.get("ti")):
        y, v = effects.smcc_from_t(rec["ti"], rec["ni"])
        lo, hi = effects.ci_normal(y, v, level)
        sign = -1.0 if rec["m1i"] < rec["m2i"] else 1.0
        y, lo, hi = sign * float(y), *sorted((sign * float(lo), sign * float(hi)))
        alt = f"SMCC {y:+.2f} ({lo:+.2f} to {hi:+.2f}) from paired t({int(rec['ni']) - 1}) = {rec['ti']:g}"
    return caveat, alt


def compute_effects(table: pd.DataFrame, inclusion: dict[str, bool] | None = None, level: float = 0.95) -> pd.DataFrame:
    """One effects row per validated extraction row (see :data:`EFFECT_COLUMNS`).

    ``ci_low``/``ci_high`` are Wald on the analysis scale (what pooling uses); the ``*_display``
    interval and the label use the review's one interval per measure (:data:`CI_METHODS`)."""
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
        method = CI_METHODS["other"]
        if rec["input_group"] == "proportion":
            cp = effects.clopper_pearson(rec["xi"], rec["ni"], level)
            est_d, lo_d, hi_d = rec["xi"] / rec["ni"], float(cp[0]), float(cp[1])
            row.update(exact_ci_low=lo_d, exact_ci_high=hi_d)
            method = CI_METHODS["proportion"]
            label = f"{int(rec['xi'])}/{int(rec['ni'])} = {est_d:.2f} (exact {lo_d:.2f}-{hi_d:.2f})"
        elif m == "RD":
            lo_d, hi_d = (float(x) for x in effects.newcombe_rd(rec["ai"], rec["bi"], rec["ci"], rec["di"], level))
            est_d = float(yi)
            method = CI_METHODS["RD"]
            label = f"RD {yi:+.2f} (Newcombe {lo_d:+.2f} to {hi_d:+.2f})"
        elif m in effects.RATIO_MEASURES:
            label = f"{m} {est_d:.2f} ({lo_d:.2f} to {hi_d:.2f})"
        else:
            label = f"{m} {yi:+.2f} ({lo:+.2f} to {hi:+.2f})"
        row.update(est_display=est_d, ci_low_display=lo_d, ci_high_display=hi_d, ci_method=method)
        if rec["input_group"] == "pre_post":
            row["ri"] = rec["ri"]
            if not pd.isna(rec["ri_low"]):
                sens = effects.smcr_sensitivity(rec["m1i"], rec["m2i"], rec["sd1i"], rec["ni"],
                                                [rec["ri_low"], rec["ri_high"]]) if m == "SMCR" else None
                if sens is not None:
                    row.update(sens_ri_low=rec["ri_low"], sens_ri_high=rec["ri_high"],
                               sens_ci_low=float(sens["ci_low"].min()), sens_ci_high=float(sens["ci_high"].max()))
                    label += f"; CI {row['sens_ci_low']:+.2f} to {row['sens_ci_high']:+.2f} for r {rec['ri_low']:g}-{rec['ri_high']:g}"
            caveat, alt = _range_restriction(rec, level)
            if caveat:
                row.update(caveat=caveat, alt_effect_label=alt)
                label += " [inflated: range-restricted baseline SD" + (f"; {alt}]" if alt else "]")
        row["effect_label"] = label
        sid = str(rec["study_id"])
        row["included_in_records"] = "" if not inclusion else ("yes" if inclusion.get(sid) else
                                                                ("no" if sid in inclusion else "not in records"))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))


COMPARABILITY_COLUMNS: tuple[str, ...] = ("analysis", "role", "title", "k_selected", "study_ids", "comparison_ids",
                                          "populations", "pooled", "reason", "rationale")


def pool(table: pd.DataFrame, rules: tuple[ComparabilityRule, ...], classes: comparability.Classes,
         populations: dict[str, str]) -> tuple[pd.DataFrame, dict[str, dict[str, Any]], pd.DataFrame]:
    """Run every rule whose selected rows pass :func:`comparability.check`; return the pooled table,
    per rule the inputs and main result (for forest plots) or the reason it was not pooled, and the
    comparability table (one row per rule)."""
    rows, details, audit = [], {}, []
    for spec in rules:
        sel = comparability.select(table, spec, classes)
        reason = comparability.check(sel, populations)
        audit.append({"analysis": spec.analysis, "role": spec.role, "title": spec.title,
                      "k_selected": sel["study_id"].nunique(), "study_ids": "; ".join(sel["study_id"]),
                      "comparison_ids": "; ".join(sel["comparison_id"]),
                      "populations": "; ".join(f"{s}: {populations.get(s, 'unspecified')}" for s in sel["study_id"]),
                      "pooled": reason is None, "reason": reason or "all comparability rules pass",
                      "rationale": spec.rationale})
        if reason is not None:
            details[spec.analysis] = {"pooled": False, "reason": reason, "spec": spec}
            continue
        main_result = None
        for j, (measure, test) in enumerate(spec.fits):
            if measure in effects.PROPORTION_MEASURES:
                xi, ni = sel["xi"].to_numpy(float), sel["ni"].to_numpy(float)
                yi, vi = effects.proportion(measure, xi, ni)
                events, n_total = int(xi.sum()), int(ni.sum())
            else:
                pairs = [extraction.row_effect(r)[:2] for _, r in sel.iterrows()]
                yi, vi = np.array([p[0] for p in pairs], float), np.array([p[1] for p in pairs], float)
                ni = None
                events, n_total = None, int(sum(extraction.row_n(r) for _, r in sel.iterrows()))
            res = meta.rma(yi, vi, method=spec.method, test=test, measure=measure, ni=ni)
            egger = meta.egger_test(yi, vi)
            caveat = (f"k = {res.k}: tau\u00b2 and I\u00b2 are barely estimable"
                      + ("; HKSJ uses t with k-1 df" if test == "knha" else "")
                      + ("; uncontrolled proportions say nothing about efficacy against a comparator"
                         if spec.comparison_type == "single_group" else ""))
            back = res.back or {}
            rows.append({
                "analysis": spec.analysis, "role": spec.role if j == 0 else "sensitivity",
                "primary": spec.role == "primary" and j == 0, "title": spec.title, "measure": measure,
                "method": res.method, "test": test, "k": res.k, "study_ids": "; ".join(sel["study_id"]),
                "comparison_ids": "; ".join(sel["comparison_id"]), "events": events, "n_total": n_total,
                "estimate": res.estimate, "se": res.se, "ci_low": res.ci_low, "ci_high": res.ci_high,
                "pi_low": res.pi_low, "pi_high": res.pi_high, "tau2": res.tau2, "tau2_ci_low": res.tau2_ci_low,
                "tau2_ci_high": res.tau2_ci_high, "i2": res.i2, "i2_ci_low": res.i2_ci_low,
                "i2_ci_high": res.i2_ci_high, "h2": res.h2, "q": res.q, "q_df": res.q_df, "q_p": res.q_p,
                "back_scale": "proportion" if back else "", "back_estimate": back.get("estimate"),
                "back_ci_low": back.get("ci_low"), "back_ci_high": back.get("ci_high"),
                "back_pi_low": back.get("pi_low"), "back_pi_high": back.get("pi_high"),
                "egger": egger.reason if not egger.ran else f"t = {egger.t:.2f}, p = {egger.pval:.3f}",
                "rationale": spec.rationale, "caveat": caveat,
            })
            if j == 0:
                main_result = (res, yi, vi, ni)
        details[spec.analysis] = {"pooled": True, "spec": spec, "rows": sel, "result": main_result}
    return (pd.DataFrame(rows, columns=list(POOLED_COLUMNS)), details,
            pd.DataFrame(audit, columns=list(COMPARABILITY_COLUMNS)))


def _row_label(rec: pd.Series) -> str:
    when = f"day {rec['timepoint_days']:g}" if not pd.isna(rec["timepoint_days"]) else "time n/a"
    if rec["input_group"] == "proportion":
        return f"{rec['study_id']}: {int(rec['xi'])}/{int(rec['ni'])}, {when}"
    return f"{rec['study_id']}: {rec['measure']}, {when}"


def _display_triplet(eff: pd.DataFrame, ids: pd.Series) -> tuple[list[float], list[float], list[float]]:
    e = eff.set_index("comparison_id").loc[list(ids)]
    return list(e["est_display"]), list(e["ci_low_display"]), list(e["ci_high_display"])


def make_forest_plots(table: pd.DataFrame, eff: pd.DataFrame, details: dict[str, dict[str, Any]],
                      figures_dir: Path, measure_name: str = "") -> tuple[list[str], list[Path]]:
    """Forest plot per pooled analysis plus a descriptive (unpooled) plot of every Y-BOCS responder
    proportion. Study rows show the review's interval for their measure (the same numbers as
    effects.csv: x/n with its exact interval), never a continuity-corrected back-transform."""
    stems, written = [], []
    for name, det in details.items():
        if not det.get("pooled"):
            continue
        sel, spec = det["rows"], det["spec"]
        res, yi, vi, ni = det["result"]
        measure = spec.fits[0][0]
        fig = forest.forest_plot([_row_label(r) for _, r in sel.iterrows()], yi, vi, measure, result=res,
                                 title=f"{spec.title} [{spec.role}]", ni=ni,
                                 display=_display_triplet(eff, sel["comparison_id"]),
                                 footnote=(f"{spec.method}; study intervals: {eff.set_index('comparison_id').loc[sel['comparison_id'].iloc[0], 'ci_method']}; "
                                           f"k = {res.k}"))
        written += forest.save_forest(fig, figures_dir, name)
        stems.append(f"forest_{name}")
    resp = table[(table["outcome"] == f"{measure_name} response") & (table["input_group"] == "proportion")]
    if len(resp):
        yi, vi = effects.proportion("PLO", resp["xi"].to_numpy(float), resp["ni"].to_numpy(float))
        labels = [f"{r['study_id']}: {int(r['xi'])}/{int(r['ni'])}, >={r['response_threshold_pct']:g}%, "
                  + (f"day {r['timepoint_days']:g}" if not pd.isna(r["timepoint_days"]) else "time n/a")
                  for _, r in resp.iterrows()]
        fig = forest.forest_plot(labels, yi, vi, "PLO", result=None,
                                 title=f"{measure_name} responder proportions by study (not pooled: comparators, populations, regimens and timepoints differ)",
                                 xlabel="proportion responding (95% exact Clopper-Pearson CI)",
                                 display=_display_triplet(eff, resp["comparison_id"]),
                                 footnote="descriptive only; no pooled estimate; uncontrolled proportions are not evidence of efficacy")
        written += forest.save_forest(fig, figures_dir, "responders_by_study")
        stems.append("forest_responders_by_study")
    return stems, written


def synthesis_tables(ctx: "ReportContext") -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict, pd.DataFrame]:
    """Validated extraction, effects, pooled analyses, pooling details and the comparability audit,
    without writing or plotting: what the "effects" stage computes, for callers that need the tables
    only (e.g. ``audit``)."""
    ids = known_study_ids(studies_file=ctx.topic.files.studies)
    extraction_file = ctx.topic.files.extraction
    inclusion = records_inclusion(ctx.tables.get("records"))
    if ids is not None:  # studies a search found and a reviewer included can be extracted too
        ids = ids | {s for s, inc in inclusion.items() if inc}
    excluded = [s for s, inc in inclusion.items() if not inc]
    table = extraction.load(extraction_file, known_study_ids=ids)
    for i, sid in enumerate(table["study_id"]):
        if sid in excluded:
            raise InputError(f"study '{sid}' is excluded by screening but has extraction rows",
                             file=extraction_file, row=i + 2, field="study_id")
    eff = compute_effects(table, inclusion)
    rules, classes = comparability.load_rules(ctx.topic_path)
    populations = comparability.population_classes(ctx.topic.files.studies, classes)
    pooled, details, audit = pool(table, rules, classes, populations)
    return table, eff, pooled, details, audit


def report_stage(ctx: "ReportContext") -> None:
    """Pipeline stage "effects": validate extraction, compute effects, pool where the topic's
    comparability rules pass, plot, and write the SWiM table and plot; fill ``ctx``."""
    table, eff, pooled, details, audit = synthesis_tables(ctx)
    inclusion = records_inclusion(ctx.tables.get("records"))
    ctx.tables["extraction"] = table
    ctx.tables["effects"] = eff
    ctx.tables["pooled"] = pooled
    ctx.tables["comparability"] = audit
    ctx.written.append(write_table(eff, ctx.tables_dir / "effects.csv"))
    ctx.written.append(write_table(pooled, ctx.tables_dir / "pooled.csv"))
    ctx.written.append(write_table(audit, ctx.tables_dir / "comparability.csv"))
    stems, written = make_forest_plots(table, eff, details, ctx.figures_dir, ctx.topic.outcome.measure)
    ctx.written.extend(written)
    ctx.facts["forest_plots"] = stems
    ctx.facts["pooled_skipped"] = {k: d["reason"] for k, d in details.items() if not d.get("pooled")}
    ctx.facts["effects_unconfirmed_studies"] = sorted(
        {s for s in table["study_id"] if inclusion and s not in inclusion})
    ctx.facts["effects_design_mismatches"] = design_mismatches(table, ctx.tables.get("records"))
    swim.report_stage(ctx, table, eff, pooled)


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
