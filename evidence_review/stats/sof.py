"""The pipeline's "sof" stage: GRADE per outcome x comparison and the Summary of Findings table.

Reads the SoF outcomes and GRADE parameters from the topic file (``[[sof_outcomes]]``, ``[grade]``),
the effects of the synthesis stage, the overall risk-of-bias judgements, the study groups of the
records stage (participants counted once per study) and, when the registers stage provides it,
``ctx.tables["non_publication"]``; writes ``reports/tables/sof.csv`` and puts it in
``ctx.tables["sof"]`` for the report and the claim rules (:func:`grade.certainty_for`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from evidence_review.errors import InputError
from evidence_review.stats import comparability, grade
from evidence_review.tables import write_table

if TYPE_CHECKING:  # pragma: no cover
    from evidence_review.pipeline import ReportContext

KINDS = ("benefit", "harm")


def load_grade(path: str | Path) -> tuple[grade.GradeParams, tuple[grade.SofOutcome, ...]]:
    """GRADE parameters and SoF outcomes from a topic file; bad entries name the file and field."""
    path = Path(path)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    g = dict(data.get("grade") or {})
    indirect = g.pop("indirect_outcomes", {}) or {}
    known = set(grade.GradeParams.__dataclass_fields__)
    unknown = sorted(set(g) - known)
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r}", file=path, field=f"grade.{unknown[0]}")
    g.setdefault("outcome_measures", (data.get("outcome") or {}).get("scales") or ())
    g.setdefault("intervention", (data.get("intervention") or {}).get("label") or "the intervention")
    params = grade.GradeParams(**{k: tuple(v) if isinstance(v, list) else float(v) if isinstance(v, (int, float)) else v
                                  for k, v in g.items()}, indirect_outcomes=dict(indirect))
    specs = []
    for i, t in enumerate(data.get("sof_outcomes") or []):
        where = f"sof_outcomes[{i}]"
        for key in ("id", "outcome", "comparison", "outcomes", "comparison_types"):
            if key not in t:
                raise InputError("missing key", file=path, field=f"{where}.{key}")
        kind = t.get("kind", "benefit")
        if kind not in KINDS:
            raise InputError(f"kind must be one of {', '.join(KINDS)}", file=path, field=f"{where}.kind")
        thr = t.get("response_threshold_pct")
        specs.append(grade.SofOutcome(id=t["id"], outcome=t["outcome"], comparison=t["comparison"],
                                      outcomes=tuple(t["outcomes"]), comparison_types=tuple(t["comparison_types"]),
                                      kind=kind, response_threshold_pct=None if thr is None else float(thr)))
    return params, tuple(specs)


def contributing(spec: grade.SofOutcome, extraction: pd.DataFrame, effects: pd.DataFrame) -> pd.DataFrame:
    """Effects rows answering ``spec`` with the fields GRADE needs (display interval as ci_low/ci_high)."""
    ext = extraction.set_index("comparison_id")
    eff = effects[effects["outcome"].isin(spec.outcomes) & effects["comparison_type"].isin(spec.comparison_types)]
    if spec.response_threshold_pct is not None:
        thr = pd.to_numeric(ext.loc[eff["comparison_id"], "response_threshold_pct"], errors="coerce").to_numpy()
        eff = eff[thr == spec.response_threshold_pct]
    out = pd.DataFrame({
        "study_id": eff["study_id"].astype(str), "comparison_id": eff["comparison_id"], "design": eff["design"],
        "comparison_type": eff["comparison_type"], "outcome": eff["outcome"], "scale": eff["scale"],
        "measure": eff["measure"], "yi": eff["yi"].astype(float), "vi": eff["vi"].astype(float),
        "n": pd.to_numeric(eff["n"], errors="coerce"), "ci_low": eff["ci_low_display"].astype(float),
        "ci_high": eff["ci_high_display"].astype(float), "effect_label": eff["effect_label"],
    })
    out["direction"] = [grade.direction_of(m, c, y) for m, c, y in zip(out["measure"], out["comparison_type"], out["yi"])]
    return out.reset_index(drop=True)


def _study_groups(records: pd.DataFrame | None) -> dict[str, str]:
    if records is None or "study_group" not in records.columns:
        return {}
    return {s: g for s, g in zip(records["study_id"].astype(str), records["study_group"].astype(str)) if g}


def _missing_randomized_results(records: pd.DataFrame | None, extraction: pd.DataFrame) -> list[str]:
    """Included randomized studies (study design, not report type) with no extraction rows at all."""
    if records is None or "included" not in records.columns:
        return []
    inc = records[records["included"].astype(str).str.lower().isin(("true", "1", "yes"))]
    design = inc["study_design"] if "study_design" in inc.columns else inc["design"]
    groups = inc["study_group"] if "study_group" in inc.columns else inc["study_id"]
    with_data = {str(g) for s, g in zip(inc["study_id"], groups) if s in set(extraction["study_id"])}
    rct = {str(g) for g, d in zip(groups, design) if d in grade.RANDOMIZED}
    return sorted(rct - with_data)


def build_sof(ctx: "ReportContext") -> pd.DataFrame:
    params, specs = load_grade(ctx.topic_path)
    extraction, effects = ctx.tables["extraction"], ctx.tables["effects"]
    ov = ctx.tables.get("risk_of_bias_overall")
    rob = {} if ov is None else {s: (o, int(v)) for s, o, v in
                                 ov.sort_values("severity", ascending=False).drop_duplicates("study_id")[
                                     ["study_id", "overall", "severity"]].itertuples(index=False)}
    _, classes = comparability.load_rules(ctx.topic_path)
    pops = comparability.population_classes(ctx.shared / "evidence-facts" / "studies.jsonl", classes)
    records = ctx.tables.get("records")
    groups = _study_groups(records)
    # a report from inside another study (e.g. an adverse-event report on trial patients) has that study's population
    pops = {**pops, **{s: pops.get(g, "unspecified") for s, g in groups.items() if s != g and g in pops}}
    missing = _missing_randomized_results(records, extraction)
    nonpub = ctx.tables.get("non_publication")
    pooled = ctx.tables.get("pooled")
    rows = []
    for spec in specs:
        res = contributing(spec, extraction, effects)
        pooled_effect = None
        if pooled is not None and len(pooled) and len(res):
            hit = pooled[pooled["primary"].astype(bool)
                         & pooled["comparison_ids"].apply(lambda c: set(str(c).split("; ")) == set(res["comparison_id"]))]
            if len(hit):
                p = hit.iloc[0]
                pooled_effect = (f"pooled {p['measure']} {p['estimate']:.2f} ({p['ci_low']:.2f} to {p['ci_high']:.2f}), "
                                 f"{p['method']}, k = {int(p['k'])}")
        rows.append(grade.grade_outcome(spec, res, rob, params, pops, groups, missing, nonpub, pooled_effect))
    return pd.DataFrame(rows, columns=list(grade.SOF_COLUMNS))


def report_stage(ctx: "ReportContext") -> None:
    """Pipeline stage "sof": compute GRADE per SoF outcome and write ``reports/tables/sof.csv``."""
    sof = build_sof(ctx)
    ctx.tables["sof"] = sof
    ctx.written.append(write_table(sof, ctx.tables_dir / "sof.csv"))
