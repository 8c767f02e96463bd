"""Render-time readability: times in a reader's unit, study labels, page titles, linked identifiers,
the bottom line and the verdict x certainty table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evidence_review.report import claims_section, readable


@pytest.mark.parametrize("hours, text", [(0.67, "40 minutes"), (1, "1 hour"), (2, "2 hours"), (3.83, "3.8 hours"),
                                         (48, "48 hours"), (168, "7 days"), (2016, "12 weeks"), (4368, "26 weeks")])
def test_format_hours(hours: float, text: str) -> None:
    assert readable.format_hours(hours) == text


def test_humanise_times_rewrites_only_hours() -> None:
    got = readable.humanise_times("benefit at 4368 h 1/1; within 72 h: 2 RCTs; 35% at 0.67 h; hb 12 hx")
    assert got == "benefit at 26 weeks 1/1; within 3 days: 2 RCTs; 35% at 40 minutes; hb 12 hx"


def test_study_labels() -> None:
    records = pd.DataFrame({"study_id": ["a2013_x", "niciu2013_AE_cases", "bellvitge_pre", "b1", "b2"],
                            "first_author": ["Mangas Palma I", "", "", "Bloch MH", "Bloch MH"],
                            "year": ["2013", "2013", "", "2012", "2012"]})
    assert readable.study_labels(records) == {"a2013_x": "Mangas Palma 2013", "niciu2013_AE_cases": "Niciu 2013",
                                              "bellvitge_pre": "bellvitge pre", "b1": "Bloch 2012a", "b2": "Bloch 2012b"}
    assert readable.replace_ids("a2013_x: 4/8; a2013_xy", {"a2013_x": "M 2013"}) == "M 2013: 4/8; a2013_xy"


def test_page_title_is_the_first_non_empty_line(tmp_path: Path) -> None:
    (tmp_path / "p.txt").write_text("\n\n  Florp wibble clinic:  \nbody\n", encoding="utf-8")
    (tmp_path / "q.txt").write_text("word " * 40, encoding="utf-8")
    titles = readable.page_titles(tmp_path, ["p.txt", "q.txt", "gone.txt"])
    assert titles["p.txt"] == "Florp wibble clinic" and titles["gone.txt"] == "gone.txt"
    assert titles["q.txt"].endswith("…") and len(titles["q.txt"]) <= 70


def test_identifiers_become_links_and_intervals_stay_whole() -> None:
    got = readable.link_ids_html("PMID:22784486 abstract; DOI:10.21203/rs.3.rs-7417012/v1; NCT01349231 (0.16-0.84)")
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/22784486/">PMID:22784486</a>' in got
    assert '<a href="https://doi.org/10.21203/rs.3.rs-7417012/v1">' in got
    assert '<a href="https://clinicaltrials.gov/study/NCT01349231">' in got
    assert '<span class="nw">0.16-0.84</span>' in got
    assert readable.link_ids_md("PMC3799067 abstract") == \
        "[PMC3799067](https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3799067/) abstract"
    assert readable.link_ids_html("a <b> & c") == "a &lt;b&gt; &amp; c"


def _claims() -> pd.DataFrame:
    return pd.DataFrame({
        "claim_id": ["c1", "c2", "c3", "c4"], "seed_file": ["p", "p", "q", "q"],
        "category": ["efficacy", "onset", "regulatory", "protocol"],
        "verdict": ["supported", "not_supported", "supported", "no_evidence"],
        "certainty": ["moderate", "very_low", "high", "low"]})


def test_verdict_certainty_counts_disclaimers_apart() -> None:
    grid = claims_section.verdict_certainty(_claims()).set_index("verdict")
    assert grid.loc["supported", "moderate certainty"] == 1 and grid.loc["supported", "therapeutic claims"] == 1
    assert grid.loc["supported", "disclaimers and logistics (counted apart)"] == 1
    assert grid.loc["all verdicts", "therapeutic claims"] == 2
    assert grid.loc["all verdicts", "disclaimers and logistics (counted apart)"] == 2


def test_bottom_line_comes_from_the_tables() -> None:
    sof = pd.DataFrame({"outcome": ["response", "severity"], "comparison": ["k vs placebo", "k, no comparator"],
                        "studies": ["1", "3"], "participants": ["15", "40"], "effect": ["s1: RD +0.50", "x"],
                        "certainty": ["very low", "low"]})
    lines = claims_section.bottom_line(sof, _claims(), {"since": {"date": "2026-01-02T00:00"},
                                                        "headline": "no conclusion changed"}, {"s1": "Smith 2013"})
    assert 3 <= len(lines) <= 5
    assert lines[0].startswith("Of the 2 outcomes") and "very low for 1" in lines[0] and "40 participants" in lines[0]
    assert "Smith 2013: RD +0.50" in lines[1] and "Only 1 comparison has" in lines[1]
    assert "Of the 2 therapeutic claims on the 2 clinic pages" in lines[2] and "1 are supported" in lines[2]
    assert "The other 2 claims" in lines[3] and len(lines) == 4  # the change has its own box above
    short = claims_section.bottom_line(None, _claims().iloc[:2], {"since": {"date": "2026-01-02T00:00"},
                                                                  "headline": "no conclusion changed"}, {})
    assert short[-1] == "Since 2026-01-02: no conclusion changed."


def test_long_reasons_fold_under_one_line() -> None:
    short = claims_section.reason_html("0 of 17 studies measured it", "")
    assert "<details>" not in short
    long = claims_section.reason_html("first clause; " + "more words " * 30, "imprecision")
    assert long.startswith("<details><summary>first clause</summary>") and "imprecision" in long
