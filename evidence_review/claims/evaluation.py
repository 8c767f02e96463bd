"""Scoring ``audit`` against hand-written gold pages: claim precision and recall, verdict agreement.

Why a module: the figures in docs/audit.md must be reproducible by anyone (scripts/audit_eval.py) and
the scoring itself must be tested, not trusted. Gold format: tests/fixtures/audit_eval/README.md.

Matching: a unit found by audit matches a gold unit when, after collapsing whitespace and case, one
text contains the other (the splitter may cut a gold unit in two, or keep a list marker's line whole).
- recall: gold claims matched by at least one unit that audit calls a claim;
- precision: units audit calls claims that match a gold claim (a claim matching no gold unit counts
  against precision);
- verdict agreement: among gold claims found, those whose verdict (of the first matching unit) is one
  of the verdicts the gold accepts;
- judged non-claims: gold non-claims (by role) matched by a unit audit judged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evidence_review.claims.sentences import normalize


def _same(a: str, b: str) -> bool:
    a, b = normalize(a).lower(), normalize(b).lower()
    return bool(a and b) and (a in b or b in a)


@dataclass
class Score:
    gold_claims: int = 0
    found: int = 0
    audit_claims: int = 0
    true_claims: int = 0
    verdict_ok: int = 0
    category_ok: int = 0
    judged_non_claims: dict[str, int] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    false_claims: list[str] = field(default_factory=list)

    def add(self, other: "Score") -> None:
        for k in ("gold_claims", "found", "audit_claims", "true_claims", "verdict_ok", "category_ok"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        for k, v in other.judged_non_claims.items():
            self.judged_non_claims[k] = self.judged_non_claims.get(k, 0) + v
        self.misses += other.misses
        self.disagreements += other.disagreements
        self.false_claims += other.false_claims

    @property
    def recall(self) -> float:
        return self.found / self.gold_claims if self.gold_claims else 0.0

    @property
    def precision(self) -> float:
        return self.true_claims / self.audit_claims if self.audit_claims else 0.0

    @property
    def agreement(self) -> float:
        return self.verdict_ok / self.found if self.found else 0.0


def score_page(table: pd.DataFrame, gold_units: list[dict], page_id: str = "") -> Score:
    """Score one audited page (claims/audit.py table) against its gold units."""
    sc = Score()
    claims = table[table["role"] == "claim"]
    gold_claims = [g for g in gold_units if g["role"] == "claim"]
    sc.gold_claims = len(gold_claims)
    for g in gold_claims:
        hits = claims[[_same(t, g["text"]) for t in claims["text"]]]
        if hits.empty:
            sc.misses.append(f"{page_id}: {g['text']}")
            continue
        sc.found += 1
        first = hits.iloc[0]
        if first["verdict"] in g["accepted"]:
            sc.verdict_ok += 1
        else:
            sc.disagreements.append(f"{page_id}: {first['verdict']} (accepted: {', '.join(g['accepted'])}) | {g['text']}")
        sc.category_ok += first["category"] == g.get("category")
    sc.audit_claims = len(claims)
    for text in claims["text"]:
        matched = [g for g in gold_units if _same(text, g["text"])]
        if any(g["role"] == "claim" for g in matched):
            sc.true_claims += 1
        else:
            sc.false_claims.append(f"{page_id}: {text}")
            for g in matched[:1]:
                sc.judged_non_claims[g["role"]] = sc.judged_non_claims.get(g["role"], 0) + 1
    return sc


def load_manifest(folder: str | Path) -> list[dict]:
    """The pages of an evaluation set (manifest.json), paths made absolute."""
    folder = Path(folder)
    pages = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["pages"]
    return [{**p, "page": folder / p["page"], "gold": folder / p["gold"]} for p in pages]
