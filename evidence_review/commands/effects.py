"""`evidence-review effects`: effect sizes (yi, vi and a CI) for every row of a CSV with metafor column names.

Example::

    python -m evidence_review effects --input trials.csv --measure RR --out trials_rr.csv
"""

from __future__ import annotations

import argparse

from evidence_review.commands.argtypes import confidence_level, non_negative

HELP = "compute effect sizes (yi, vi, ci_low, ci_high) from a CSV with metafor column names"
MEASURES = ("SMD", "MD", "RR", "OR", "RD", "PR", "PLO", "PFT", "SMCR", "SMCC", "GEN")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, help="CSV with metafor names (ai,bi,ci,di | m1i,sd1i,n1i,... | xi,ni | yi,vi)")
    parser.add_argument("--measure", required=True, type=str.upper, choices=MEASURES, help="metafor measure code")
    parser.add_argument("--out", required=True, help="output CSV (input columns + yi, vi, ci_low, ci_high)")
    parser.add_argument("--add", type=non_negative, default=0.5, help="zero-cell increment (default 0.5)")
    parser.add_argument("--to", default="only0", choices=("only0", "all", "if0all", "none"),
                        help="which tables get the increment (metafor's 'to'; default only0)")
    parser.add_argument("--level", type=confidence_level, default=0.95, help="confidence level (default 0.95)")


def run(args: argparse.Namespace) -> int:
    from evidence_review.stats import effects, extraction
    from evidence_review.tables import write_table

    df = extraction.effect_inputs(args.input, args.measure, add=args.add, to=args.to)
    lo, hi = effects.ci_normal(df["yi"].to_numpy(), df["vi"].to_numpy(), args.level)
    df["ci_low"], df["ci_high"] = lo, hi
    write_table(df, args.out)
    print(f"wrote {len(df)} rows ({args.measure}) -> {args.out}")
    return 0
