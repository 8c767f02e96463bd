"""`evidence-review meta`: pool effect sizes from a CSV (FE, DL, REML or PM; optional Knapp-Hartung),
or fit a mixed-effects meta-regression on moderator columns (``--mods``).

Examples::

    python -m evidence_review meta --input trials.csv --measure RR --method REML --hksj --format json
    python -m evidence_review meta --input bcg.csv --measure RR --mods ablat --forest bcg_forest.png
"""

from __future__ import annotations

import argparse

from evidence_review.commands.argtypes import confidence_level, non_negative

HELP = "meta-analysis (FE/DL/REML/PM, optional HKSJ) or meta-regression (--mods) of a CSV with metafor column names"
MEASURES = ("SMD", "MD", "RR", "OR", "RD", "PR", "PLO", "PFT", "SMCR", "SMCC", "GEN")
LABEL_COLUMNS = ("slab", "study", "study_id", "label", "author")
FOREST_FORMATS = ("png", "svg", "pdf")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, help="CSV with yi,vi or the measure's metafor inputs")
    parser.add_argument("--measure", required=True, type=str.upper, choices=MEASURES, help="metafor measure code")
    parser.add_argument("--method", default="REML", type=str.upper, choices=("FE", "DL", "REML", "PM"),
                        help="tau^2 estimator (FE = fixed effect; default REML)")
    parser.add_argument("--hksj", action="store_true", help="Knapp-Hartung (HKSJ) t-based inference (metafor test='knha')")
    parser.add_argument("--mods", nargs="+", metavar="COL",
                        help="moderator columns: mixed-effects meta-regression (text columns become dummies)")
    parser.add_argument("--forest", metavar="FILE", help="write a forest plot to FILE (.png, .svg or .pdf)")
    parser.add_argument("--format", default="table", choices=("json", "table"), help="output format (default table)")
    parser.add_argument("--level", type=confidence_level, default=0.95, help="confidence level (default 0.95)")
    parser.add_argument("--add", type=non_negative, default=0.5, help="zero-cell increment (default 0.5)")
    parser.add_argument("--to", default="only0", choices=("only0", "all", "if0all", "none"), help="metafor's 'to'")


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import pandas as pd

    from evidence_review.errors import InputError
    from evidence_review.stats import extraction, meta, metareg

    if args.forest and Path(args.forest).suffix.lower().lstrip(".") not in FOREST_FORMATS:
        raise InputError(f"--forest file must end in {', '.join('.' + f for f in FOREST_FORMATS)}", field="forest")
    df = extraction.effect_inputs(args.input, args.measure, add=args.add, to=args.to)
    test = "knha" if args.hksj else "z"
    ni = pd.to_numeric(df["ni"], errors="coerce").to_numpy() if "ni" in df.columns else None
    if args.mods:
        x, names = metareg.design_matrix(df, args.mods, source=args.input)
        res = metareg.metareg(df["yi"].to_numpy(), df["vi"].to_numpy(), x, names, method=args.method,
                              test=test, level=args.level)
        d = res.to_dict()
        print(json.dumps(d, indent=2, allow_nan=False) if args.format == "json" else format_metareg(res))
        if args.forest:
            fitted = metareg.fitted_values(res, x)
            coefs = ", ".join(f"{n} {c:.4f}" for n, c in zip(res.names, res.coef))
            note = (f"Meta-regression ({res.method}{', Knapp-Hartung' if test == 'knha' else ''}): {coefs}; "
                    f"residual tau\u00b2 = {res.tau2:.4f}; grey diamonds = fitted values with {int(args.level * 100)}% CI")
            _write_forest(args, df, ni, None, fitted, note)
        return 0
    res1 = meta.rma(df["yi"].to_numpy(), df["vi"].to_numpy(), method=args.method, test=test,
                    measure=args.measure, level=args.level, ni=ni)
    d = res1.to_dict()
    if args.format == "json":
        ordered = {k: d[k] for k in meta.JSON_KEYS}
        ordered.update({k: v for k, v in d.items() if k not in ordered})
        print(json.dumps(ordered, indent=2, allow_nan=False, default=str))
    else:
        print(format_table(d))
    if args.forest:
        _write_forest(args, df, ni, res1, None, "")
    return 0


def study_labels(df) -> list[str]:
    """Row labels for a forest plot: the first label-like column, with ``year`` appended when present."""
    for col in LABEL_COLUMNS:
        if col in df.columns:
            labels = [str(v) for v in df[col]]
            if col == "author" and "year" in df.columns:
                labels = [f"{a}, {y}" for a, y in zip(labels, df["year"])]
            return labels
    return [f"study {i + 1}" for i in range(len(df))]


def _write_forest(args, df, ni, result, fitted, footnote: str) -> None:
    import sys
    from pathlib import Path

    import matplotlib.pyplot as plt

    from evidence_review.figures import save_figure
    from evidence_review.stats import forest

    fig = forest.forest_plot(study_labels(df), df["yi"].to_numpy(), df["vi"].to_numpy(), args.measure,
                             result=result, title=Path(args.input).name, ni=ni, footnote=footnote,
                             level=args.level, fitted=fitted)
    out = Path(args.forest)
    try:
        save_figure(fig, out.with_suffix(""), formats=(out.suffix.lower().lstrip("."),))
    finally:
        plt.close(fig)
    print(f"forest plot: {out}", file=sys.stderr)


def format_table(d: dict) -> str:
    """Plain-text summary in the order metafor prints it (no τ² interval and no PI for a fixed-effect model)."""
    def f(x) -> str:
        return "NA" if x is None else f"{x:.4f}"

    test = "t" if d["test"] == "knha" else "z"
    fixed = d["method"] == "FE"
    het = f"I^2 = {f(d['i2'])}%   H^2 = {f(d['h2'])}"
    lines = [
        f"{'Fixed-effect' if fixed else 'Random-effects'} model (k = {d['k']}; "
        f"method: {d['method']}; measure: {d['measure']}; test: {d['test']})",
        het if fixed else f"tau^2 = {f(d['tau2'])} [{f(d['tau2_ci_low'])}, {f(d['tau2_ci_high'])}]   {het}",
        f"Q(df = {d['q_df']}) = {f(d['q'])}, p = {d['q_p']:.4g}" if d["q_p"] is not None else f"Q = {f(d['q'])}",
        f"estimate = {f(d['estimate'])}  se = {f(d['se'])}  {test} = {f(d['stat'])}  p = {d['pval']:.4g}",
        f"{int(d['level'] * 100)}% CI [{f(d['ci_low'])}, {f(d['ci_high'])}]"
        + ("" if fixed else f"   PI [{f(d['pi_low'])}, {f(d['pi_high'])}]"),
    ]
    if d.get("back_estimate") is not None:
        lines.append(f"back-transformed: {f(d['back_estimate'])} [{f(d['back_ci_low'])}, {f(d['back_ci_high'])}]"
                     + ("" if fixed else f"   PI [{f(d['back_pi_low'])}, {f(d['back_pi_high'])}]"))
    if d.get("note"):
        lines.append(f"note: {d['note']}")
    return "\n".join(lines)


def format_metareg(res) -> str:
    """Plain-text meta-regression summary in the order metafor prints ``rma(yi, vi, mods=)``."""
    def f(x: float, dp: int = 4) -> str:
        return "NA" if x != x else f"{x:.{dp}f}"

    def p(x: float) -> str:
        return "<.0001" if x < 1e-4 else f"{x:.4f}"

    def peq(x: float) -> str:
        return "p < .0001" if x < 1e-4 else f"p = {x:.4f}"

    fixed = res.method == "FE"
    lines = [f"{'Fixed-effects with moderators' if fixed else 'Mixed-effects'} model "
             f"(k = {res.k}; tau^2 estimator: {res.method}; test: {res.test})"]
    if not fixed:
        se = f" (SE = {f(res.tau2_se)})" if res.tau2_se == res.tau2_se else ""
        lines += [f"tau^2 (residual heterogeneity) = {f(res.tau2)}{se}   tau = {f(res.tau2 ** 0.5)}",
                  f"I^2 (residual) = {f(res.i2, 2)}%   H^2 = {f(res.h2, 2)}   R^2 (heterogeneity accounted for) = "
                  f"{f(res.r2, 2)}%"]
    lines.append(f"Test for residual heterogeneity: QE(df = {res.qe_df}) = {f(res.qe)}, {peq(res.qe_p)}")
    qm = res.qm
    which = ", ".join(qm.coefficients)
    if qm.kind == "F":
        lines.append(f"Test of moderators ({which}): F(df1 = {qm.df1}, df2 = {qm.df2}) = {f(qm.stat)}, {peq(qm.pval)}")
    else:
        lines.append(f"Test of moderators ({which}): QM(df = {qm.df1}) = {f(qm.stat)}, {peq(qm.pval)}")
    stat = "tval" if res.test == "knha" else "zval"
    width = max(8, *(len(n) for n in res.names))
    lines.append(f"{'':<{width}} {'estimate':>9} {'se':>8} {stat:>8} {'pval':>8} {'ci.lb':>8} {'ci.ub':>8}")
    for i, name in enumerate(res.names):
        lines.append(f"{name:<{width}} {f(res.coef[i]):>9} {f(res.se[i]):>8} {f(res.stat[i]):>8} "
                     f"{p(res.pval[i]):>8} {f(res.ci_low[i]):>8} {f(res.ci_high[i]):>8}")
    if not res.converged:
        lines.append(f"note: REML did not converge in {res.iterations} iterations")
    return "\n".join(lines)
