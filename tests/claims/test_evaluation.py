"""Scoring audit against gold pages (evidence_review.claims.evaluation)."""

from __future__ import annotations

import pandas as pd

from evidence_review.claims.evaluation import score_page

GOLD = [
    {"text": "Is it safe?", "role": "question"},
    {"text": "Ketamine is well tolerated.", "role": "claim", "category": "safety", "accepted": ["not_supported"]},
    {"text": "Relief in hours. Lasting results.", "role": "claim", "category": "onset", "accepted": ["partly_supported"]},
    {"text": "It works for everyone.", "role": "claim", "category": "efficacy", "accepted": ["not_supported"]},
]


def _table(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["text", "role", "verdict", "category"])


def test_recall_precision_agreement_and_judged_non_claims() -> None:
    table = _table([
        ("Is it safe?", "claim", "supported", "safety"),             # a question judged
        ("Ketamine is well tolerated.", "claim", "not_supported", "safety"),
        ("Relief in hours.", "claim", "supported", "onset"),          # half of a gold unit: found, verdict not accepted
        ("Lasting results.", "claim", "partly_supported", "durability"),
        ("It works for everyone.", "description", "", ""),           # missed
    ])
    sc = score_page(table, GOLD, "p")
    assert (sc.gold_claims, sc.found, sc.verdict_ok, sc.audit_claims, sc.true_claims) == (3, 2, 1, 4, 3)
    assert sc.recall == 2 / 3 and sc.precision == 3 / 4 and sc.agreement == 1 / 2
    assert sc.judged_non_claims == {"question": 1}
    assert sc.misses == ["p: It works for everyone."]
    assert sc.category_ok == 2
