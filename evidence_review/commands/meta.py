"""`evidence-review meta`: pool effect sizes from a CSV (FE, DL, REML or PM; optional Knapp-Hartung).

Example::

    python -m evidence_review meta --input trials.csv --measure RR --method REML --hksj --format json
"""

from __future__ import annotations

import argparse

HELP = "meta-analysis (FE/DL/REML/PM, optional HKSJ) of a CSV with metafor column names or yi/vi"
MEASURES = ("SMD", "MD", "RR", "OR", "RD", "PR", "PLO", "PFT", "SMCR", "SMCC", "GEN")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, help="CSV with yi,vi or the measure's metafor inputs")
    parser.add_argument("--measure", required=True, type=str.upper, choices=MEASURES, help="metafor measure code")
    parser.add_argument("--method", default="REML", type=str.upper, choices=("FE", "DL", "REML", "PM"),
                        help="tau^2 estimator (FE = fixed effect; default REML)")
    parser.add_argument("--hksj", action="store_true", help="Knapp-Hartung (HKSJ) t-based inference (metafor test='knha')")
    parser.add_argument("--format", default="table", choices=("json", "table"), help="output format (default table)")
    parser.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    parser.add_argument("--add", type=float, default=0.5, help="zero-cell increment (default 0.5)")
    parser.add_argument("--to", default="only0", choices=("only0", "all", "if0all", "none"), help="metafor's 'to'")


def run(args: argparse.Namespace) -> int:
    import json

    import pandas as pd

    from evidence_review.stats import extraction, meta

    df = extraction.effect_inputs(args.input, args.measure, add=args.add, to=args.to)
    ni = pd.to_numeric(df["ni"], errors="coerce").to_numpy() if "ni" in df.columns else None
    res = meta.rma(df["yi"].to_numpy(), df["vi"].to_numpy(), method=args.method,
                   test="knha" if args.hksj else "z", measure=args.measure, level=args.level, ni=ni)
    d = res.to_dict()
    if args.format == "json":
        ordered = {k: d[k] for k in meta.JSON_KEYS}
        ordered.update({k: v for k, v in d.items() if k not in ordered})
        print(json.dumps(ordered, indent=2, allow_nan=False, default=str))
    else:
        print(format_table(d))
    return 0


def format_table(d: dict) -> str:
    """Plain-text summary in the order metafor prints it."""
    def f(x) -> str:
        return "NA" if x is None else f"{x:.4f}"

    test = "t" if d["test"] == "knha" else "z"
    lines = [
        f"{'Fixed-effect' if d['method'] == 'FE' else 'Random-effects'} model (k = {d['k']}; "
        f"method: {d['method']}; measure: {d['measure']}; test: {d['test']})",
        f"tau^2 = {f(d['tau2'])} [{f(d['tau2_ci_low'])}, {f(d['tau2_ci_high'])}]   I^2 = {f(d['i2'])}%   "
        f"H^2 = {f(d['h2'])}",
        f"Q(df = {d['q_df']}) = {f(d['q'])}, p = {d['q_p']:.4g}" if d["q_p"] is not None else f"Q = {f(d['q'])}",
        f"estimate = {f(d['estimate'])}  se = {f(d['se'])}  {test} = {f(d['stat'])}  p = {d['pval']:.4g}",
        f"{int(d['level'] * 100)}% CI [{f(d['ci_low'])}, {f(d['ci_high'])}]   "
        f"PI [{f(d['pi_low'])}, {f(d['pi_high'])}]",
    ]
    if d.get("back_estimate") is not None:
        lines.append(f"back-transformed: {f(d['back_estimate'])} [{f(d['back_ci_low'])}, {f(d['back_ci_high'])}]   "
                     f"PI [{f(d['back_pi_low'])}, {f(d['back_pi_high'])}]")
    if d.get("note"):
        lines.append(f"note: {d['note']}")
    return "\n".join(lines)
