"""Recall of the claim finder (``audit``) against the curated registry, per seed page and overall.

A registry claim counts as found when a unit the finder classifies as a claim contains its quote or
holds >= 60% of its words (evidence_review.claims.registry.covers). This is an in-sample figure: the
registry was written from these five pages and earlier cue lists were read off them. The held-out
figure of the finder comes from scripts/audit_eval.py.

    python scripts/claim_finder_recall.py
"""

from __future__ import annotations

from evidence_review import paths
from evidence_review.claims import registry as claims
from evidence_review.claims.roles import classify_all
from evidence_review.claims.sentences import split_units


def main() -> int:
    registry = claims.load_registry(paths.evidence_dir() / "claims.csv", paths.seeds_dir())
    table = claims.finder_recall(registry, paths.seeds_dir())
    for rec in table.itertuples():
        print(f"{rec.seed_file:28s} claims {rec.claims:3d}  covered {rec.covered:3d}  candidates {rec.candidates:3d}  recall {rec.recall:.3f}")
    for seed, group in registry.groupby("seed_file", sort=True):
        units = split_units((paths.seeds_dir() / seed).read_text(encoding="utf-8"))
        roles = classify_all(units)
        for rec in group.itertuples():
            if any(r.role == "claim" and claims.covers(u.text, rec.quote) for u, r in zip(units, roles)):
                continue
            why = next((f"{r.role}: {r.reason}" for u, r in zip(units, roles) if claims.covers(u.text, rec.quote)), "no unit")
            print(f"missed {rec.claim_id}: {rec.quote[:70]}  [{why}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
