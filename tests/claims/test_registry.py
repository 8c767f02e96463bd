"""Claims registry validation and the claim finder (evidence_review.claims.registry)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from evidence_review import paths
from evidence_review.claims import registry as claims
from evidence_review.errors import InputError
from evidence_review.review.topic import load_topic

REGISTRY = paths.evidence_dir() / "claims.csv"

# Measured on the five seed pages (see scripts/claim_finder_recall.py: 0.969, the four misses are a
# question, a heading and two testimonials, which audit lists but never judges); the floor sits below it.
RECALL_FLOOR = 0.95


@pytest.fixture(scope="module")
def registry(shared_dir: Path) -> pd.DataFrame:
    return claims.load_registry(REGISTRY, paths.seeds_dir())


def test_every_quote_is_an_exact_excerpt_of_its_seed(registry: pd.DataFrame) -> None:
    pages = {p.name: claims.normalize(p.read_text(encoding="utf-8")) for p in paths.seeds_dir().glob("*.txt")}
    for rec in registry.itertuples():
        assert claims.normalize(rec.quote) in pages[rec.seed_file], rec.claim_id
        assert len(rec.quote.split()) <= claims.MAX_QUOTE_WORDS, rec.claim_id


def test_registry_covers_all_five_pages_with_ocd_first(registry: pd.DataFrame) -> None:
    per_seed = registry["seed_file"].value_counts()
    assert len(per_seed) == 5 and per_seed.min() >= 5
    assert set(registry["scope"]) <= set(claims.scopes(load_topic(paths.default_topic())))
    assert (registry["scope"] == "ocd").sum() > len(registry) / 2
    assert registry["claim_id"].is_unique


# Statements an independent reader flags on each page (from the issue brief): each must be in the registry.
KEY_PHRASES = {
    "000": ["not currently approved by the FDA", "off-label", "positive results for many patients", "within minutes",
            "After two treatments nearly all patients", "total of six", "longest lasting", "Cognitive Behavioral Therapy",
            "glutamate", "multiple studies", "safe IV ketamine", "treatment-resistant OCD"],
    "001": ["within hours or a few days", "selective serotonin reuptake inhibitors", "withdrawal symptoms",
            "neuroplasticity", "depression symptoms", "self harm", "even after stopping", "safety is promised",
            "hallucinations", "These are rare", "not to have experienced any side effects", "twice a week",
            "once every two weeks", "once a month", "40 minutes to an hour", "small doses", "fully awake"],
    "002": ["Self-Guided", "dozens of studies", "treatment-resistant depression", "glutamate receptor antagonist", "within hours",
            "intravenous injection", "in crisis", "lifesaving", "SUD and ED"],
    "003": ["haven’t responded well", "such as glutamate", "reset certain neural connections", "is ongoing",
            "particularly in treatment-resistant cases"],
    "004": ["American Journal of Psychiatry", "Journal of Neuropsychiatry and Clinical Neurosciences", "up to two weeks",
            "sustained benefits for weeks", "within hours of their first infusion", "NMDA", "nasal spray",
            "40 minutes to an hour", "long-term", "not responded to other therapies", "avoidance",
            "mechanism of action is particularly beneficial", "closely monitor you throughout the infusion",
            "recovery period", "review your medical history"],
}


@pytest.mark.parametrize("prefix", sorted(KEY_PHRASES))
def test_registry_holds_the_key_statements_of_each_page(registry: pd.DataFrame, prefix: str) -> None:
    quotes = " || ".join(registry.loc[registry["seed_file"].str.startswith(prefix), "quote"])
    missing = [p for p in KEY_PHRASES[prefix] if p not in quotes]
    assert not missing, f"page {prefix}: no registry quote holds {missing}"


def test_registry_states_tests_not_answers(registry: pd.DataFrame) -> None:
    # the registry says what to test; verdicts are computed (no verdict/certainty column may creep in)
    assert not {"verdict", "certainty", "reason"} & set(registry.columns)
    assert set(registry["rule"]) <= set(claims.RULES)


def _write(tmp_path: Path, rows: list[dict]) -> Path:
    p = tmp_path / "claims.csv"
    with open(p, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(claims.REGISTRY_COLUMNS), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return p


def _good_row(seed: str) -> dict:
    return {"claim_id": "S000-01", "seed_file": seed, "quote": "is not currently approved by the FDA for treatment of OCD",
            "category": "regulatory", "scope": "ocd", "proposition": "not FDA approved", "test_outcome": "fda_approved_ocd",
            "test_timepoint": "", "test_design": "regulatory_record", "test_population": "ocd", "rule": "regulatory",
            "claimed": "no"}


SEED0 = "000_ab115e227a6ef148.txt"


def test_good_row_loads(tmp_path: Path, shared_dir: Path) -> None:
    df = claims.load_registry(_write(tmp_path, [_good_row(SEED0)]), paths.seeds_dir())
    assert list(df["claim_id"]) == ["S000-01"]


@pytest.mark.parametrize("field,value,needle", [
    ("quote", "ketamine cures OCD in every patient", "not an exact excerpt"),
    ("category", "miracle", "unknown category"),
    ("scope", "anxiety", "unknown scope"),
    ("rule", "vibes", "unknown rule"),
    ("seed_file", "999_missing.txt", "not found"),
    ("claim_id", "X1", "S000-01"),
    ("quote", " ".join(["word"] * 41), "max 40"),
])
def test_bad_cell_names_file_row_and_field(tmp_path: Path, shared_dir: Path, field: str, value: str, needle: str) -> None:
    good = _good_row(SEED0)
    bad = {**_good_row(SEED0), "claim_id": "S000-02", field: value}
    path = _write(tmp_path, [good, bad])
    with pytest.raises(InputError) as exc:
        claims.load_registry(path, paths.seeds_dir())
    err = exc.value
    assert err.file == str(path) and err.row == 3 and err.field == field
    assert needle in str(err)


def test_missing_column_is_reported(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_text("claim_id,seed_file\nS000-01,x.txt\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        claims.load_registry(p, tmp_path)
    assert exc.value.field == "quote"


def test_duplicate_claim_id(tmp_path: Path, shared_dir: Path) -> None:
    path = _write(tmp_path, [_good_row(SEED0), _good_row(SEED0)])
    with pytest.raises(InputError, match="duplicate"):
        claims.load_registry(path, paths.seeds_dir())


def test_covers_quote_inside_sentence_or_strong_overlap() -> None:
    assert claims.covers("Ketamine, which is not approved by the FDA, is used.", "not approved by the FDA")
    assert not claims.covers("The weather is nice today in Pasadena.", "not approved by the FDA")


def test_finder_recall_on_seeds_meets_measured_floor(registry: pd.DataFrame) -> None:
    rec = claims.finder_recall(registry, paths.seeds_dir())
    overall = rec.loc[rec["seed_file"] == "ALL", "recall"].item()
    assert overall >= RECALL_FLOOR
    assert (rec["recall"] >= 0.85).all()
