"""A second, invented topic runs through the whole main job: `report --topic FILE --out DIR`.

The fixture (tests/fixtures/topics/velmora_drift/, every word and number invented) keeps all its files in
its own folder, so the run reads nothing of the flagship review: the test points the project root and the
shared folder at empty folders to prove it. Every expected value below is worked out by hand from the
fixture's files (the comments say how), never copied from a previous run.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from evidence_review.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "topics" / "velmora_drift"
Z = 1.959963984540054  # standard normal 97.5% quantile


def run_report(topic: Path, out: Path, monkeypatch: pytest.MonkeyPatch, tmp: Path) -> Path:
    """Run the CLI on ``topic`` with the project root and shared folder pointing at empty folders."""
    empty = tmp / "empty_root"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("EVIDENCE_REVIEW_ROOT", str(empty))
    monkeypatch.setenv("EVIDENCE_REVIEW_SHARED", str(empty / "shared"))
    monkeypatch.delenv("EVIDENCE_REVIEW_TOPIC", raising=False)
    monkeypatch.delenv("EVIDENCE_REVIEW_REPORTS", raising=False)
    assert main(["report", "--topic", str(topic), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("velmora")
    try:
        yield run_report(FIXTURE / "topic.toml", tmp / "out", mp, tmp)
    finally:
        mp.undo()


# ------------------------------------------------------------------------------ hand formulas

def rd_and_var(a: int, b: int, c: int, d: int) -> tuple[float, float]:
    """Risk difference of a 2x2 table and its large-sample variance (metafor's RD, no zero cells here):
    RD = a/(a+b) - c/(c+d); var = p1(1-p1)/n1 + p2(1-p2)/n2."""
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    return p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2


def fixed_effect(pairs: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Inverse-variance fixed-effect pool: est = sum(w y)/sum(w), w = 1/v, se = 1/sqrt(sum w), Wald 95% CI."""
    w = [1 / v for _, v in pairs]
    est = sum(wi * y for wi, (y, _) in zip(w, pairs)) / sum(w)
    se = 1 / math.sqrt(sum(w))
    return est, est - Z * se, est + Z * se


def wilson_upper(x: int, n: int) -> float:
    """Upper end of the Wilson score interval: (p + z^2/2n + z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)."""
    p = x / n
    return (p + Z * Z / (2 * n) + Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))) / (1 + Z * Z / n)


def fisher_two_sided(a: int, b: int, c: int, d: int) -> float:
    """Fisher's exact test from the hypergeometric law: the sum of the probabilities of all tables with the
    same margins that are no more likely than the observed one."""
    r1, r2, c1 = a + b, c + d, a + c
    n = r1 + r2
    prob = lambda x: math.comb(r1, x) * math.comb(r2, c1 - x) / math.comb(n, c1)  # noqa: E731
    observed = prob(a)
    return sum(prob(x) for x in range(max(0, c1 - r2), min(r1, c1) + 1) if prob(x) <= observed * (1 + 1e-7))


# 2x2 counts of the fixture's extraction.csv at day 7: (velmorane responders, non-responders, saline
# responders, non-responders) under each response definition (QDRS fall >= 30% / >= 50%).
TARSK = {30: (6, 4, 2, 8), 50: (4, 6, 1, 9)}
OMBRY = {30: (10, 4, 2, 12), 50: (6, 8, 1, 13)}
PLENN = {30: (8, 10), 50: (4, 10)}  # single arm, day 3: responders / n


# ------------------------------------------------------------------------------ tests

def test_prisma_counts(report):
    prisma = json.loads((report / "prisma.json").read_text(encoding="utf-8"))
    # manifest: 9 entries identified, 1 duplicate (same DOI as tarsk2019_rct) -> 8 records screened.
    assert (prisma["identified"], prisma["duplicates_removed"], prisma["screened"]) == (9, 1, 8)
    # title/abstract: grell2017_mice (design override 'preclinical'), drummel2022_review (narrative review),
    # hask2016_brumosis (no 'quennel drift'/'qdd' condition term anywhere in the record) -> 3 excluded.
    assert prisma["excluded_title_abstract"] == 3
    assert prisma["excluded_title_abstract_reasons"] == {
        "not human (preclinical)": 1, "review or guideline, not a primary study": 1, "population not QDD": 1}
    # full text: 8 - 3 = 5 assessed; fenwick2023_imaging excluded by the reviewer's decision -> 4 included.
    assert (prisma["full_text_assessed"], prisma["excluded_full_text"], prisma["included"]) == (5, 1, 4)
    assert prisma["excluded_full_text_reasons"] == {"no clinical outcome": 1}
    assert prisma["included_by_design"] == {"case_report": 1, "open_label_single_arm": 1, "rct_parallel": 2}


def test_pooled_risk_difference_by_hand(report):
    pooled = pd.read_csv(report / "tables" / "pooled.csv")
    assert list(pooled["analysis"]) == ["qdrs_response_vs_placebo_day7"]  # the single-arm rule has k = 1
    row = pooled.iloc[0]
    assert (row["measure"], row["method"], int(row["k"]), int(row["n_total"])) == ("RD", "FE", 2, 48)
    assert row["comparison_ids"] == "tarsk2019_rct:qdrs_response:d7:r30; ombry2021_rct:qdrs_response:d7:r30"
    # tarsk: RD = 6/10 - 2/10 = 0.40, var = .6*.4/10 + .2*.8/10 = 0.040
    # ombry: RD = 10/14 - 2/14 = 0.5714, var = (10/14)(4/14)/14 + (2/14)(12/14)/14 = 64/2744 = 0.02332
    # weights 25 and 42.875 -> RD = (25*.4 + 42.875*.5714)/67.875 = 0.5083, se = 1/sqrt(67.875) = 0.1214,
    # 95% CI 0.2704 to 0.7462.
    est, lo, hi = fixed_effect([rd_and_var(*TARSK[30]), rd_and_var(*OMBRY[30])])
    assert est == pytest.approx(0.50829, abs=5e-5) and lo == pytest.approx(0.27039, abs=5e-5)
    assert (row["estimate"], row["ci_low"], row["ci_high"]) == pytest.approx((est, lo, hi), rel=1e-9)
    audit = pd.read_csv(report / "tables" / "comparability.csv").set_index("analysis")
    assert audit.loc["qdrs_response_uncontrolled", "reason"] == "fewer than 2 comparable studies (k = 1)"


def test_verdicts_by_hand(report):
    claims = pd.read_csv(report / "tables" / "claims.csv").set_index("claim_id")
    got = {cid: (r["verdict"], r["certainty"]) for cid, r in claims.iterrows()}
    # Responder shares under the topic's definition (fall >= 30%), one per study (the velmorane arm of a
    # controlled row): tarsk 6/10 = .60, ombry 10/14 = .714, plenn 8/10 = .80.
    shares = [6 / 10, 10 / 14, 8 / 10]
    # A controlled result must be significant for 'supported': ombry's 10/14 vs 2/14 has Fisher p < 0.05.
    assert fisher_two_sided(*OMBRY[30]) < 0.05 < fisher_two_sided(*TARSK[30])
    # Certainty of the responder verdicts: randomized -> starts high; both trials' risk of bias is 'Some
    # concerns' (D2 in risk_of_bias.csv) -> -1; total n = 20 + 28 + 10 = 58 < 100 -> imprecision -> -1: low.
    # The verdict is then capped by the SoF row it rests on (same two trials): RoB serious (-1) and
    # imprecision very serious (-2: 48 participants, and tarsk's interval crosses 0) -> very low.
    # S001-01 regulatory: fact board_approved_qdd = 'no', the claim says 'no' -> supported (documentary, high).
    assert got["S001-01"] == ("supported", "high")
    # S001-02 'more than half respond' (claimed 0.5): every share >= .5 and a significant controlled result.
    assert min(shares) >= 0.5
    assert got["S001-02"] == ("supported", "very_low")
    downs = claims.loc["S001-02", "downgrades"]
    assert "Some concerns" in downs and "total n=58" in downs and "very low certainty (sof.csv)" in downs
    # S001-03 a statement about the lounge: rule not_testable.
    assert got["S001-03"] == ("not_testable", "very_low")
    # S002-01 'nine out of ten' (claimed 0.9): no share reaches .9, but not every Wilson upper bound lies
    # below .9 (plenn 8/10 -> .943), so it is not contradicted: not supported.
    uppers = [wilson_upper(6, 10), wilson_upper(10, 14), wilson_upper(8, 10)]
    assert max(shares) < 0.9 < max(uppers) and min(uppers) < 0.9
    assert got["S002-01"] == ("not_supported", "very_low")
    # S002-02 'within the first hour' ('<=1h'): the earliest QDRS measurement is day 3 (72 h) -> no evidence.
    assert got["S002-02"][0] == "no_evidence" and "72 h" in claims.loc["S002-02", "reason"]
    # S002-03 teenagers (population qdd_adolescent): no included study has adolescents -> no evidence.
    assert got["S002-03"][0] == "no_evidence"


def test_report_is_the_full_report_of_the_invented_topic(report):
    summary = (report / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("# Velmorane and quennel drift")
    for name in ("records", "effects", "pooled", "claims", "sof", "swim", "registrations"):
        assert (report / "tables" / f"{name}.csv").is_file(), name
    assert (report / "figures" / "forest_qdrs_response_vs_placebo_day7.svg").is_file()
    assert (report / "figures" / "forest_responders_by_study.svg").is_file()
    # nothing of the flagship review leaks into an invented topic's report
    text = " ".join(p.read_text(encoding="utf-8", errors="ignore") for p in report.rglob("*")
                    if p.is_file() and p.suffix in (".md", ".csv", ".json", ".html")).lower()
    for word in ("ketamine", "y-bocs", "obsessive", "ocd"):
        assert word not in text, word


def test_context_facts_trace_to_their_source_lines():
    """The fixture's facts say no more than its (invented) source notes, like the flagship's facts."""
    from evidence_review.claims.evidence_base import load_facts
    from evidence_review.claims.fact_sources import untraceable
    from evidence_review.review.topic import load_topic

    facts = load_facts(FIXTURE / "context_facts.csv", load_topic(FIXTURE / "topic.toml"))
    assert len(facts) == 2 and untraceable(facts, FIXTURE) == []


def test_sof_row_rests_on_the_pooled_trials(report):
    sof = pd.read_csv(report / "tables" / "sof.csv")
    assert list(sof["sof_id"]) == ["qdrs_response_vs_placebo"]
    row = sof.iloc[0]
    # the SoF row rests on the same two trials as the primary pooled analysis (10 + 10 + 14 + 14 = 48)
    assert (row["study_ids"], int(row["participants"])) == ("ombry2021_rct; tarsk2019_rct", 48)
    assert row["effect"].startswith("pooled RD 0.51 (0.27 to 0.75), FE, k = 2")
    assert "velmorane" in row["statement"]


def test_same_inputs_same_tables(report, tmp_path, monkeypatch):
    again = run_report(FIXTURE / "topic.toml", tmp_path / "again", monkeypatch, tmp_path)
    for name in ("records", "effects", "pooled", "claims"):
        assert (again / "tables" / f"{name}.csv").read_bytes() == (report / "tables" / f"{name}.csv").read_bytes()


def copy_fixture(dest: Path) -> Path:
    """The fixture folder copied (its topic file names only files inside it, so the copy is self-contained)."""
    shutil.copytree(FIXTURE, dest)
    return dest / "topic.toml"
