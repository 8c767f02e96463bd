"""The extraction table (``evidence/extraction.csv``): schema, validation and per-row effect sizes.

One row per study x comparison x outcome x timepoint, with metafor's input names and exactly one
complete group of effect-size inputs (Metapsy data standard). Every row names where its numbers were
read (``source``) and how any number was derived (``derived``). A bad row fails with an
:class:`~evidence_review.errors.InputError` naming the file, the spreadsheet row (header = row 1)
and the field, so a curator can fix it without reading code.

Input groups (which columns a row may fill, by measure)
    table_2x2      ai, bi, ci, di                                 RR, OR, RD
    two_means      m1i, sd1i, n1i, m2i, sd2i, n2i                 SMD, MD
    pre_post       m1i (post), m2i (pre), sd1i (pre SD), ni, ri   SMCR; SMCC also needs sd2i
                   optional: sd2i (post SD), ti (paired t that implies ri), ri_low, ri_high
    proportion     xi, ni                                         PR, PLO, PFT
    stat_within    ni, effect_sign + one of ti / fi / pval        SMCC (within-person contrast)
                   optional: df1, df2, pval beside ti/fi (checked for consistency)
    stat_between   n1i, n2i, effect_sign + one of ti / fi / pval  SMD
    given          yi, vi                                          any measure
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
from scipy import stats

from evidence_review import paths
from evidence_review.errors import InputError
from evidence_review.stats import effects
from evidence_review.tables import read_csv_strict

DESIGNS: frozenset[str] = frozenset({
    "rct_parallel", "rct_crossover", "controlled_nonrandomized", "open_label_single_arm", "case_series",
    "case_report", "retrospective_chart_review", "systematic_review", "meta_analysis", "narrative_review",
    "guideline", "preclinical", "trial_registration", "letter_comment", "other",
})

COMPARISON_TYPES: frozenset[str] = frozenset({"between_groups", "single_group", "pre_post", "within_person"})

ID_COLUMNS: tuple[str, ...] = (
    "comparison_id", "study_id", "design", "comparison_type", "comparison", "outcome", "scale", "timepoint",
    "timepoint_days", "response_threshold_pct", "measure",
)
INPUT_COLUMNS: tuple[str, ...] = (
    "ai", "bi", "ci", "di", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i", "xi", "ni", "ri", "ri_low", "ri_high",
    "ti", "fi", "df1", "df2", "pval", "effect_sign", "yi", "vi",
)
TEXT_COLUMNS: tuple[str, ...] = ("derived", "source", "notes")
COLUMNS: tuple[str, ...] = ID_COLUMNS + INPUT_COLUMNS + TEXT_COLUMNS
REQUIRED_TEXT: tuple[str, ...] = ("comparison_id", "study_id", "design", "comparison_type", "outcome", "timepoint",
                                  "measure", "source")

# `PMID:22784486 abstract`, `PMC3799067 table 2`, `DOI:10.1089/cap.2024.0127 abstract`, `NCT01349231 results`
SOURCE_RE = re.compile(
    r"^(PMID:\d{1,9}|PMC\d{3,9}|DOI:10\.\d{4,9}/\S+|NCT\d{8})"
    r" (abstract|results|full text|table \S+|figure \S+|supplement(?: \S+)?)(?: \([^()]+\))?$"
)
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.:+-]*$")


@dataclass(frozen=True)
class InputGroup:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    measures: frozenset[str]
    one_of: tuple[str, ...] = ()  # at least one of these (test statistics)


GROUPS: tuple[InputGroup, ...] = (
    InputGroup("table_2x2", ("ai", "bi", "ci", "di"), (), frozenset({"RR", "OR", "RD"})),
    InputGroup("two_means", ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"), (), frozenset({"SMD", "MD"})),
    InputGroup("pre_post", ("m1i", "m2i", "sd1i", "ni", "ri"), ("sd2i", "ti", "ri_low", "ri_high"),
               frozenset({"SMCR", "SMCC"})),
    InputGroup("proportion", ("xi", "ni"), (), frozenset({"PR", "PLO", "PFT"})),
    InputGroup("stat_within", ("ni", "effect_sign"), ("df1", "df2", "pval", "ti", "fi"), frozenset({"SMCC"}),
               one_of=("ti", "fi", "pval")),
    InputGroup("stat_between", ("n1i", "n2i", "effect_sign"), ("df1", "df2", "pval", "ti", "fi"),
               frozenset({"SMD"}), one_of=("ti", "fi", "pval")),
    InputGroup("given", ("yi", "vi"), (), frozenset(effects.MEASURES)),
)

COUNT_FIELDS = ("ai", "bi", "ci", "di", "xi", "ni", "n1i", "n2i")


def default_path() -> Path:
    return paths.evidence_dir() / "extraction.csv"


def _num(df: pd.DataFrame, i: int, col: str, file: Path) -> float | None:
    raw = str(df.at[i, col]).strip() if col in df.columns else ""
    if raw == "":
        return None
    try:
        val = float(raw)
    except ValueError:
        raise InputError(f"'{raw}' is not a number", file=file, row=i + 2, field=col) from None
    if not math.isfinite(val):
        raise InputError(f"'{raw}' is not a finite number", file=file, row=i + 2, field=col)
    return val


def match_group(measure: str, filled: set[str], file: Path, row: int) -> InputGroup:
    """The one input group this row's filled inputs form, or an error naming the offending field."""
    candidates = [g for g in GROUPS if measure in g.measures]
    problems: list[tuple[str, str]] = []
    for g in candidates:
        allowed = set(g.required) | set(g.optional) | set(g.one_of)
        foreign = sorted(filled - allowed)
        missing = [c for c in g.required if c not in filled]
        if measure == "SMCC" and g.name == "pre_post" and "sd2i" not in filled:
            missing.append("sd2i")
        if g.one_of and not (filled & set(g.one_of)):
            missing.append("/".join(g.one_of))
        if not foreign and not missing:
            return g
        if foreign:
            problems.append((foreign[0], f"'{foreign[0]}' is not an input of {g.name} (measure {measure}); "
                                         f"a row holds exactly one group of effect-size inputs"))
        if missing:
            problems.append((missing[0], f"measure {measure} ({g.name}) needs '{missing[0]}'"))
    # prefer the explanation from the group the row resembles most (fewest foreign fields)
    if not filled:
        raise InputError("no effect-size inputs filled", file=file, row=row, field="measure")
    best = min(candidates, key=lambda g: (len(filled - (set(g.required) | set(g.optional) | set(g.one_of))),
                                          g.name == "given"))
    for fld, msg in problems:
        if best.name in msg:
            raise InputError(msg, file=file, row=row, field=fld)
    fld, msg = problems[0]
    raise InputError(msg, file=file, row=row, field=fld)


def validate(df: pd.DataFrame, file: str | Path = "extraction.csv",
             known_study_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Check every row; return a typed copy (numbers as floats, text stripped) plus ``input_group``.

    Raises :class:`InputError` at the first problem, naming ``file``, the spreadsheet row and the field.
    """
    file = Path(file)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"missing column(s): {', '.join(missing)}", file=file, row=1, field=missing[0])
    extra = [c for c in df.columns if c not in COLUMNS]
    if extra:
        raise InputError(f"unknown column(s): {', '.join(extra)}", file=file, row=1, field=extra[0])
    df = df.reset_index(drop=True)
    known = set(known_study_ids) if known_study_ids is not None else None
    out_rows = []
    seen: dict[str, int] = {}
    for i in range(len(df)):
        row = i + 2
        rec: dict[str, object] = {}
        for col in ID_COLUMNS + TEXT_COLUMNS:
            rec[col] = str(df.at[i, col]).strip()
        for col in REQUIRED_TEXT:
            if not rec[col]:
                raise InputError("required value is empty", file=file, row=row, field=col)
        cid = str(rec["comparison_id"])
        if not ID_RE.match(cid):
            raise InputError(f"'{cid}' is not a valid id (lower-case letters, digits, _ . : + -)", file=file,
                             row=row, field="comparison_id")
        if cid in seen:
            raise InputError(f"duplicate comparison_id '{cid}' (first at row {seen[cid]})", file=file, row=row,
                             field="comparison_id")
        seen[cid] = row
        if known is not None and rec["study_id"] not in known:
            raise InputError(f"study_id '{rec['study_id']}' is not an included study", file=file, row=row,
                             field="study_id")
        if rec["design"] not in DESIGNS:
            raise InputError(f"unknown design '{rec['design']}'", file=file, row=row, field="design")
        if rec["comparison_type"] not in COMPARISON_TYPES:
            raise InputError(f"unknown comparison_type '{rec['comparison_type']}' "
                             f"(known: {', '.join(sorted(COMPARISON_TYPES))})", file=file, row=row,
                             field="comparison_type")
        try:
            rec["measure"] = effects.check_measure(str(rec["measure"]))
        except InputError as exc:
            raise InputError(exc.message, file=file, row=row, field="measure") from None
        if not SOURCE_RE.match(str(rec["source"])):
            raise InputError(f"source locator '{rec['source']}' is not well-formed (e.g. 'PMID:22784486 abstract', "
                             "'PMC3799067 table 2', 'DOI:10.1089/cap.2024.0127 abstract', 'NCT01349231 results')",
                             file=file, row=row, field="source")
        for col in ("timepoint_days", "response_threshold_pct"):
            v = _num(df, i, col, file)
            if v is not None and v < 0:
                raise InputError("must be >= 0", file=file, row=row, field=col)
            rec[col] = v
        values = {c: _num(df, i, c, file) for c in INPUT_COLUMNS}
        filled = {c for c, v in values.items() if v is not None}
        group = match_group(str(rec["measure"]), filled, file, row)
        check_values(values, group, file, row)
        rec.update(values)
        rec["input_group"] = group.name
        out_rows.append(rec)
    cols = list(COLUMNS) + ["input_group"]
    return pd.DataFrame(out_rows, columns=cols)


def check_values(v: dict[str, float | None], group: InputGroup, file: Path, row: int) -> None:
    def bad(field: str, msg: str) -> InputError:
        return InputError(msg, file=file, row=row, field=field)

    for c in COUNT_FIELDS:
        x = v.get(c)
        if x is not None and (x < 0 or x != int(x)):
            raise bad(c, f"count must be a whole number >= 0, got {x:g}")
    for c in ("ni", "n1i", "n2i"):
        x = v.get(c)
        if x is not None and x < 1:
            raise bad(c, "sample size must be >= 1")
    for c in ("sd1i", "sd2i"):
        x = v.get(c)
        if x is not None and x <= 0:
            raise bad(c, "SD must be > 0")
    if group.name == "table_2x2":
        if v["ai"] + v["bi"] < 1:
            raise bad("bi", "group 1 has no participants (ai + bi = 0)")
        if v["ci"] + v["di"] < 1:
            raise bad("di", "group 2 has no participants (ci + di = 0)")
    if group.name == "proportion" and v["xi"] > v["ni"]:
        raise bad("xi", f"events ({v['xi']:g}) exceed n ({v['ni']:g})")
    if group.name == "two_means" and v["n1i"] + v["n2i"] <= 2:
        raise bad("n2i", "need n1i + n2i > 2")
    for c in ("ri", "ri_low", "ri_high"):
        x = v.get(c)
        if x is not None and not -1 <= x <= 1:
            raise bad(c, "a correlation must lie in [-1, 1]")
    if v.get("ri_low") is not None and v.get("ri_high") is not None and v.get("ri") is not None:
        if not v["ri_low"] <= v["ri"] <= v["ri_high"]:
            raise bad("ri", "need ri_low <= ri <= ri_high")
    if (v.get("ri_low") is None) != (v.get("ri_high") is None):
        raise bad("ri_high" if v.get("ri_high") is None else "ri_low", "give both ri_low and ri_high, or neither")
    if group.name == "pre_post" and v.get("ti") is not None:
        if v.get("sd2i") is None:
            raise bad("sd2i", "a paired t implies ri only with both SDs (sd2i = post SD)")
        r = float(effects.r_from_paired_t(v["m1i"], v["m2i"], v["sd1i"], v["sd2i"], v["ni"], v["ti"]))
        if abs(r - v["ri"]) > 0.01:
            raise bad("ri", f"ri {v['ri']:g} disagrees with the r implied by ti ({r:.3f})")
    if v.get("vi") is not None and v["vi"] <= 0:
        raise bad("vi", "vi must be > 0")
    if v.get("pval") is not None and not 0 < v["pval"] <= 1:
        raise bad("pval", "p must lie in (0, 1]")
    if v.get("fi") is not None and v["fi"] <= 0:
        raise bad("fi", "F must be > 0")
    for c in ("df1", "df2"):
        if v.get(c) is not None and v[c] < 1:
            raise bad(c, "degrees of freedom must be >= 1")
    if group.name.startswith("stat_"):
        if v["effect_sign"] not in (-1.0, 1.0):
            raise bad("effect_sign", "effect_sign must be -1 or 1 (direction as reported)")
        if v.get("fi") is not None and v.get("df1") not in (None, 1.0):
            raise bad("df1", "only F with 1 numerator df converts to an effect size")
        df_expected = v["ni"] - 1 if group.name == "stat_within" else v["n1i"] + v["n2i"] - 2
        if v.get("df2") is not None and v["df2"] != df_expected:
            raise bad("df2", f"error df {v['df2']:g} does not match the sample size (expected {df_expected:g})")
        if v.get("pval") is not None and (v.get("fi") is not None or v.get("ti") is not None):
            t = math.sqrt(v["fi"]) if v.get("fi") is not None else abs(v["ti"])
            p = float(2 * stats.t.sf(t, df_expected))
            if abs(p - v["pval"]) > 0.005:
                raise bad("pval", f"p {v['pval']:g} disagrees with the statistic (implies p = {p:.4f})")


def load(path: str | Path | None = None, known_study_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Read and validate the extraction table (default ``evidence/extraction.csv``)."""
    path = Path(path) if path is not None else default_path()
    df = read_csv_strict(path, required=COLUMNS, known=COLUMNS)  # a misspelt extra column is an error
    return validate(df, file=path, known_study_ids=known_study_ids)


# ---------------------------------------------------------------------------------------------
# per-row effect sizes
# ---------------------------------------------------------------------------------------------

def row_effect(rec: pd.Series | dict, add: float = 0.5, to: str = "only0") -> tuple[float, float, str]:
    """``(yi, vi, how)`` for one validated row, dispatched on its input group and measure.

    RD is computed without a zero-cell correction (``to="none"``): it is defined with zero cells, and
    adding 0.5 would shrink the very difference being measured.
    """
    g, m = rec["input_group"], rec["measure"]
    if g == "given":
        return float(rec["yi"]), float(rec["vi"]), "yi/vi as reported"
    if g == "table_2x2":
        rule = "none" if m == "RD" else to
        yi, vi = effects.table_2x2(m, rec["ai"], rec["bi"], rec["ci"], rec["di"], add=add, to=rule)
        zero = min(rec["ai"], rec["bi"], rec["ci"], rec["di"]) == 0
        how = f"2x2 table; zero cell: {'no correction (RD)' if m == 'RD' else f'add {add} ({rule})'}" if zero else "2x2 table"
        return float(yi), float(vi), how
    if g == "two_means":
        f = effects.smd if m == "SMD" else effects.md
        yi, vi = f(rec["m1i"], rec["sd1i"], rec["n1i"], rec["m2i"], rec["sd2i"], rec["n2i"])
        return float(yi), float(vi), "means and SDs"
    if g == "pre_post":
        if m == "SMCR":
            yi, vi = effects.smcr(rec["m1i"], rec["m2i"], rec["sd1i"], rec["ni"], rec["ri"])
        else:
            yi, vi = effects.smcc(rec["m1i"], rec["m2i"], rec["sd1i"], rec["sd2i"], rec["ni"], rec["ri"])
        return float(yi), float(vi), f"pre-post means, r = {rec['ri']:g}"
    if g == "proportion":
        yi, vi = effects.proportion(m, rec["xi"], rec["ni"], add=add, to=to)
        zero = rec["xi"] in (0, rec["ni"])
        how = "events / n" + (f"; add {add} ({to})" if zero and m != "PFT" else "")
        return float(yi), float(vi), how
    sign = rec["effect_sign"]
    if g == "stat_within":
        if _has(rec, "ti"):
            yi, vi = effects.smcc_from_t(sign * abs(rec["ti"]), rec["ni"])
            how = "within-person d_z from t"
        elif _has(rec, "fi"):
            yi, vi = effects.smcc_from_f(rec["fi"], rec["ni"], sign)
            how = "within-person d_z from F(1, n-1)"
        else:
            yi, vi = effects.smcc_from_p(rec["pval"], rec["ni"], sign)
            how = "within-person d_z from p"
        return float(yi), float(vi), how
    if _has(rec, "ti"):
        yi, vi = effects.smd_from_t(sign * abs(rec["ti"]), rec["n1i"], rec["n2i"])
        how = "Hedges' g from t"
    elif _has(rec, "fi"):
        yi, vi = effects.smd_from_f(rec["fi"], rec["n1i"], rec["n2i"], sign)
        how = "Hedges' g from F(1, df)"
    else:
        yi, vi = effects.smd_from_p(rec["pval"], rec["n1i"], rec["n2i"], sign)
        how = "Hedges' g from p"
    return float(yi), float(vi), how


def _has(rec, col: str) -> bool:
    v = rec.get(col) if isinstance(rec, dict) else rec[col]
    return v is not None and not (isinstance(v, float) and np.isnan(v))


def row_n(rec: pd.Series | dict) -> int | None:
    """Participants behind a row (for display)."""
    g = rec["input_group"]
    if g == "table_2x2":
        return int(rec["ai"] + rec["bi"] + rec["ci"] + rec["di"])
    if g in ("two_means", "stat_between"):
        return int(rec["n1i"] + rec["n2i"])
    if g in ("pre_post", "proportion", "stat_within"):
        return int(rec["ni"])
    return None


def effect_inputs(path: str | Path, measure: str, add: float = 0.5, to: str = "only0") -> pd.DataFrame:
    """Read a CSV with metafor column names and return it with ``yi, vi`` for ``measure``.

    Rows already holding ``yi`` and ``vi`` keep them; other rows need the measure's inputs
    (e.g. ``ai, bi, ci, di`` for RR). Every problem names the file, spreadsheet row and field.
    Used by the ``effects`` and ``meta`` commands.
    """
    path = Path(path)
    measure = effects.check_measure(measure)
    df = read_csv_strict(path)
    if df.empty:
        raise InputError("no data rows", file=path, row=2)
    group = next(g for g in GROUPS if measure in g.measures and g.name != "given") if measure != "GEN" else None
    has_given = "yi" in df.columns and "vi" in df.columns
    yi_out, vi_out = [], []
    for i in range(len(df)):
        row = i + 2
        if has_given and str(df.at[i, "yi"]).strip() != "" and str(df.at[i, "vi"]).strip() != "":
            yi, vi = _num(df, i, "yi", path), _num(df, i, "vi", path)
            if vi <= 0:
                raise InputError("vi must be > 0", file=path, row=row, field="vi")
        else:
            if group is None:
                raise InputError("measure GEN needs yi and vi", file=path, row=row, field="yi")
            needed = list(group.required)
            if group.name == "pre_post" and measure == "SMCC":
                needed.append("sd2i")
            vals: dict[str, float | None] = {}
            for c in needed:
                if c not in df.columns:
                    raise InputError(f"column '{c}' is needed for measure {measure} (or give yi and vi)", file=path,
                                     row=1, field=c)
                v = _num(df, i, c, path)
                if v is None:
                    raise InputError(f"empty value (measure {measure} needs {', '.join(needed)})", file=path,
                                     row=row, field=c)
                vals[c] = v
            check_values(vals, group, path, row)
            res = effects.escalc(measure, {k: [x] for k, x in vals.items()}, add=add, to=to)
            yi, vi = float(res["yi"].iloc[0]), float(res["vi"].iloc[0])
        if not (math.isfinite(yi) and math.isfinite(vi)):
            raise InputError(f"effect size not finite (zero cells with to='{to}'?)", file=path, row=row, field="yi")
        if vi < 0:
            raise InputError("the sampling variance vi came out negative; check the inputs", file=path, row=row,
                             field="vi")
        yi_out.append(yi)
        vi_out.append(vi)
    out = df.copy()
    out["yi"] = yi_out
    out["vi"] = vi_out
    return out
