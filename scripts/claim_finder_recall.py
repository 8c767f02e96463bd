"""Recall of the claim finder (``audit``) against the curated registry, per seed page and overall.

A registry claim counts as found when a candidate sentence contains its quote or holds >= 60% of its
words (evidence_review.claims.registry.covers). Note: the cue patterns were written while reading these same
five pages, so this is in-sample recall; a new page will do worse.

    python scripts/claim_finder_recall.py
"""

from __future__ import annotations

from evidence_review import paths
from evidence_review.claims import registry as claims


def main() -> int:
    registry = claims.load_registry(paths.evidence_dir() / "claims.csv", paths.seeds_dir())
    table = claims.finder_recall(registry, paths.seeds_dir())
    for rec in table.itertuples():
        print(f"{rec.seed_file:28s} claims {rec.claims:3d}  covered {rec.covered:3d}  candidates {rec.candidates:3d}  recall {rec.recall:.3f}")
    cats = registry.assign(found=[
        any(claims.covers(c.sentence, q) for c in claims.find_candidates((paths.seeds_dir() / s).read_text(encoding="utf-8")))
        for s, q in zip(registry["seed_file"], registry["quote"])])
    missed = cats[~cats["found"]]
    for rec in missed.itertuples():
        print(f"missed {rec.claim_id}: {rec.quote[:80]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
