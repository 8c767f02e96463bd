"""Clinic claims: the curated registry (``evidence/claims.csv``) and the claim finder behind ``audit``.

The registry says, for every checkable statement on a clinic page, *what* evidence would test it
(outcome, timepoint, design, population, a rule key and the threshold the claim itself asserts) -
never the verdict, which :mod:`evidence_review.claims.verdicts` computes from the evidence tables.

Quotes are checked against the page after collapsing runs of whitespace to one space (the pages
contain double spaces and hard line breaks that a CSV cell cannot show faithfully); apart from that
a quote must be a character-exact excerpt.

The claim finder behind ``audit`` (claims/sentences.py, roles.py, specs.py) turns any page into
registry-like test specifications, so unseen pages are judged by the same verdict engine;
:func:`finder_recall` measures it against this registry.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from evidence_review import paths
from evidence_review.errors import InputError
from evidence_review.review.topic import Topic, load_topic
from evidence_review.tables import read_csv_strict

CATEGORIES: tuple[str, ...] = (
    "onset", "efficacy", "durability", "safety", "population", "protocol",
    "mechanism", "regulatory", "evidence_base", "other",
)


def scopes(topic: Topic) -> tuple[str, ...]:
    """A claim is about the review's condition, one of its context conditions, or nothing specific."""
    return (topic.condition.code, *topic.context.conditions, "general")


RULES: tuple[str, ...] = (
    "regulatory", "efficacy", "onset", "durability", "relapse", "population_compare", "safety_rate",
    "safety_transient", "ae_reported", "protocol", "comparative", "mechanism", "evidence_count",
    "ongoing_research", "context_efficacy", "context_onset", "context_durability", "citation",
    "infusions_to_response", "unmeasured", "not_testable", "crisis", "practice_standard", "safety_direct",
    "null_results",
)
REGISTRY_COLUMNS: tuple[str, ...] = (
    "claim_id", "seed_file", "quote", "category", "scope", "proposition",
    "test_outcome", "test_timepoint", "test_design", "test_population", "rule", "claimed",
)
MAX_QUOTE_WORDS = 40
_CLAIM_ID = re.compile(r"^S\d{3}-\d{2}$")


def normalize(text: str) -> str:
    """Collapse whitespace runs to one space (the one normalisation quotes are allowed)."""
    return re.sub(r"\s+", " ", text).strip()


def load_registry(path: str | Path, seeds: str | Path, topic: Topic | None = None) -> pd.DataFrame:
    """Read and validate the claims registry; any bad cell raises InputError naming file, row, field."""
    topic = topic or load_topic(paths.default_topic())
    path, seeds = Path(path), Path(seeds)
    df = read_csv_strict(path, REGISTRY_COLUMNS)
    pages: dict[str, str] = {}
    seen: set[str] = set()
    for i, rec in enumerate(df.to_dict("records")):
        row = i + 2  # header is row 1
        cid = rec["claim_id"]
        if not _CLAIM_ID.match(cid):
            raise InputError(f"claim_id '{cid}' is not of the form S000-01", file=path, row=row, field="claim_id")
        if cid in seen:
            raise InputError(f"duplicate claim_id '{cid}'", file=path, row=row, field="claim_id")
        seen.add(cid)
        for col, allowed in (("category", CATEGORIES), ("scope", scopes(topic)), ("rule", RULES)):
            if rec[col] not in allowed:
                raise InputError(f"unknown {col} '{rec[col]}' (allowed: {', '.join(allowed)})",
                                 file=path, row=row, field=col)
        if not rec["proposition"].strip():
            raise InputError("empty proposition", file=path, row=row, field="proposition")
        seed = rec["seed_file"]
        if seed not in pages:
            seed_path = seeds / seed
            if not seed or not seed_path.is_file():
                raise InputError(f"seed file '{seed}' not found in {seeds}", file=path, row=row, field="seed_file")
            pages[seed] = normalize(seed_path.read_text(encoding="utf-8"))
        quote = normalize(rec["quote"])
        if not quote:
            raise InputError("empty quote", file=path, row=row, field="quote")
        if len(quote.split()) > MAX_QUOTE_WORDS:
            raise InputError(f"quote has {len(quote.split())} words (max {MAX_QUOTE_WORDS})",
                             file=path, row=row, field="quote")
        if quote not in pages[seed]:
            raise InputError(f"quote is not an exact excerpt of {seed}: '{quote[:60]}...'",
                             file=path, row=row, field="quote")
        if rec["claimed"] and rec["claimed"] != "some" and rec["rule"] in (
                "efficacy", "durability", "safety_rate", "evidence_count", "ongoing_research"):
            try:
                float(rec["claimed"])
            except ValueError:
                raise InputError(f"claimed '{rec['claimed']}' must be a number for rule {rec['rule']}",
                                 file=path, row=row, field="claimed") from None
    return df


# ----------------------------------------------------------------------------------------- finder
# The claim finder behind ``audit`` lives in claims/sentences.py (units), claims/roles.py (roles) and
# claims/specs.py (test specifications); what stays here measures it against the registry.

def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def covers(sentence: str, quote: str, threshold: float = 0.6) -> bool:
    """A found unit covers a registry quote if it contains it, or holds >= 60% of its words."""
    s, q = normalize(sentence).lower(), normalize(quote).lower()
    if q in s or (len(s.split()) >= 5 and s in q):
        return True
    qw = _words(q)
    if not qw:
        return False
    sw = set(_words(s))
    return sum(w in sw for w in qw) / len(qw) >= threshold


def found_claims(text: str) -> list[str]:
    """The units of a page that the finder classifies as claims."""
    from evidence_review.claims.roles import classify_all
    from evidence_review.claims.sentences import split_units

    units = split_units(text)
    return [u.text for u, r in zip(units, classify_all(units)) if r.role == "claim"]


def finder_recall(registry: pd.DataFrame, seeds: str | Path) -> pd.DataFrame:
    """Per seed: registry claims covered by at least one unit the finder calls a claim (its recall)."""
    seeds = Path(seeds)
    rows = []
    for seed, group in registry.groupby("seed_file", sort=True):
        cands = found_claims((seeds / seed).read_text(encoding="utf-8"))
        hit = [any(covers(c, q) for c in cands) for q in group["quote"]]
        rows.append({"seed_file": seed, "claims": len(group), "covered": int(sum(hit)),
                     "candidates": len(cands), "recall": sum(hit) / len(group)})
    df = pd.DataFrame(rows, columns=["seed_file", "claims", "covered", "candidates", "recall"])
    total = {"seed_file": "ALL", "claims": int(df["claims"].sum()), "covered": int(df["covered"].sum()),
             "candidates": int(df["candidates"].sum())}
    total["recall"] = total["covered"] / total["claims"] if total["claims"] else 0.0
    return pd.concat([df, pd.DataFrame([total])], ignore_index=True)
