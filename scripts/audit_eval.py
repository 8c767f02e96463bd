"""Precision, recall and verdict agreement of ``audit`` on the evaluation set, by split.

The evaluation set (tests/fixtures/audit_eval/) holds invented clinic pages whose gold annotations
were written before the audit was tuned; pages p01-p07 were used for tuning, p08-p12 are held out.
The held-out figures are the ones to quote. The seed-page figure (scripts/claim_finder_recall.py) is
in-sample and printed separately here for comparison.

    python scripts/audit_eval.py            # tuning and held-out figures, misses and disagreements
    python scripts/audit_eval.py --quiet    # figures only
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from evidence_review import paths
from evidence_review.claims import registry
from evidence_review.claims.audit import audit_text, load_evidence_base
from evidence_review.claims.evaluation import Score, load_manifest, score_page

EVAL = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "audit_eval"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    eb = load_evidence_base()
    totals = {"tuning": Score(), "held_out": Score()}
    for p in load_manifest(EVAL):
        gold = json.loads(p["gold"].read_text(encoding="utf-8"))["units"]
        sc = score_page(audit_text(p["page"].read_text(encoding="utf-8"), eb, p["id"]), gold, p["id"])
        totals[p["split"]].add(sc)
        print(f"{p['split']:9s} {p['id']:28s} claims {sc.gold_claims:3d} found {sc.found:3d} audit-claims {sc.audit_claims:3d} "
              f"verdicts ok {sc.verdict_ok:3d}")
    for split, sc in totals.items():
        judged = ", ".join(f"{k} {v}" for k, v in sorted(sc.judged_non_claims.items())) or "none"
        print(f"\n{split}: recall {sc.found}/{sc.gold_claims} = {sc.recall:.3f}; precision {sc.true_claims}/{sc.audit_claims} "
              f"= {sc.precision:.3f}; verdict agreement {sc.verdict_ok}/{sc.found} = {sc.agreement:.3f}; "
              f"category agreement {sc.category_ok}/{sc.found}; non-claims judged: {judged}")
        if not args.quiet:
            for label, items in (("missed", sc.misses), ("verdict not accepted", sc.disagreements),
                                 ("judged but not a gold claim", sc.false_claims)):
                for it in items:
                    print(f"  {label}: {it}")
    reg = registry.load_registry(paths.evidence_dir() / "claims.csv", paths.seeds_dir())
    seed = registry.finder_recall(reg, paths.seeds_dir())
    all_row = seed[seed["seed_file"] == "ALL"].iloc[0]
    print(f"\nseed pages (in-sample, registry quotes): recall {all_row['covered']}/{all_row['claims']} = {all_row['recall']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
