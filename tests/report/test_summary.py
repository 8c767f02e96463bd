"""The main job's outputs: regenerated reports equal the committed ones; every verdict is traceable."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evidence_review import paths
from evidence_review.cli import main
from evidence_review.pipeline import ReportContext, run
from evidence_review.claims.verdicts import LEVELS, VERDICTS

COMMITTED = paths.project_root() / "reports"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> ReportContext:
    out = tmp_path_factory.mktemp("reports")
    return run(ReportContext(reports=out))


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")}


def test_committed_reports_are_what_the_main_job_regenerates(regenerated: ReportContext) -> None:
    """Tables, Markdown, HTML, JSON and SVG byte for byte. PNGs are compared by decoded pixels:
    their zlib stream may differ between libpng/zlib builds while the image is the same."""
    import matplotlib.image as mpimg

    new_root = regenerated.reports
    assert COMMITTED.is_dir(), "reports/ missing: run `python -m evidence_review report`"
    new, old = _files(new_root), _files(COMMITTED)
    assert new == old, f"only regenerated: {sorted(new - old)}; only committed: {sorted(old - new)}"
    same_libraries = _versions_line(COMMITTED / "summary.md") == _versions_line(new_root / "summary.md")
    if not same_libraries:
        warnings.warn(
            "library versions differ from those that produced the committed reports/; "
            "comparing everything but the 'Versions:' line (rerun `make report` to refresh it)"
        )
    for rel in sorted(new):
        a, b = (new_root / rel), (COMMITTED / rel)
        if rel.endswith(".png"):
            assert np.array_equal(mpimg.imread(a), mpimg.imread(b)), rel
        elif same_libraries:
            assert a.read_bytes() == b.read_bytes(), f"{rel} differs from the committed copy"
        else:
            assert _mask_versions(a.read_bytes()) == _mask_versions(b.read_bytes()), f"{rel} differs from the committed copy"


_VERSIONS = re.compile(rb"Versions: [^\n<]*")


def _versions_line(path: Path) -> bytes:
    found = _VERSIONS.search(path.read_bytes())
    return found.group(0) if found else b""


def _mask_versions(data: bytes) -> bytes:
    """Same inputs means same libraries too; a newer release of a dependency on a fresh machine changes
    only the provenance line (any other byte that changes still fails the test)."""
    return _VERSIONS.sub(b"Versions: <masked>", data)


def test_version_masking_hides_only_the_versions_line() -> None:
    a = b"x\n- Versions: python 3.11.7, pandas 3.1.1.\ny\n"
    b = b"x\n- Versions: python 3.11.7, pandas 3.2.0.\ny\n"
    assert _mask_versions(a) == _mask_versions(b)
    assert _mask_versions(a) != _mask_versions(a.replace(b"y", b"z"))


def test_two_runs_are_byte_identical(regenerated: ReportContext, tmp_path: Path) -> None:
    ctx = run(ReportContext(reports=tmp_path), stages=["summary"])
    for name in ("tables/claims.csv", "summary.md", "summary.html", "figures/verdicts_by_clinic.svg"):
        assert (tmp_path / name).read_bytes() == (regenerated.reports / name).read_bytes(), name
    assert ctx.tables["claims"].equals(regenerated.tables["claims"])


def test_every_claim_has_verdict_certainty_and_numeric_reason(regenerated: ReportContext) -> None:
    claims = pd.read_csv(regenerated.tables_dir / "claims.csv", dtype=str, keep_default_na=False)
    registry = pd.read_csv(paths.evidence_dir() / "claims.csv", dtype=str, keep_default_na=False)
    assert list(claims["claim_id"]) == list(registry["claim_id"])
    assert set(claims["verdict"]) <= set(VERDICTS)
    assert set(claims["certainty"]) <= set(LEVELS)
    for rec in claims.itertuples():
        assert re.search(r"\d", rec.reason), f"{rec.claim_id}: reason without numbers: {rec.reason}"


def test_every_cited_study_exists_in_the_evidence_tables(regenerated: ReportContext) -> None:
    claims = regenerated.tables["claims"]
    records = set(regenerated.tables["records"]["study_id"])
    cited = {s for cell in claims["studies"] for s in cell.split("; ") if s}
    assert cited, "no verdict cites any study"
    assert cited <= records, f"cited but not in records.csv: {sorted(cited - records)}"
    facts = set(pd.read_csv(paths.evidence_dir() / "context_facts.csv", dtype=str)["fact_id"])
    cited_facts = {f for cell in claims["context_facts"] for f in cell.split("; ") if f}
    assert cited_facts <= facts


def test_summary_html_is_self_contained(regenerated: ReportContext) -> None:
    page = (regenerated.reports / "summary.html").read_text(encoding="utf-8")
    assert not re.search(r"""src=["'](?!data:)""", page), "external resource in summary.html"
    assert "<link" not in page, "external stylesheet or icon in summary.html"
    outbound = re.findall(r"""href=["'](?!#)([^"']*)""", page)  # reader-facing links only: PubMed, DOI, registers
    assert outbound and all(u.startswith(("https://pubmed.ncbi.nlm.nih.gov/", "https://doi.org/",
                                          "https://clinicaltrials.gov/study/", "https://www.ncbi.nlm.nih.gov/pmc/"))
                            for u in outbound), sorted(set(outbound))[:5]
    assert "@import" not in page and "url(http" not in page
    assert 'id="study-table"' in page and 'id="claims-table-all"' in page
    assert page.count('class="fig forest"') == len(regenerated.facts["forest_plots"]) >= 1
    for sid in regenerated.tables["claims"]["claim_id"]:
        assert sid in page


def test_summary_md_sections(regenerated: ReportContext) -> None:
    md = (regenerated.reports / "summary.md").read_text(encoding="utf-8")
    heads = [h.split("\n")[0] for h in md.split("\n## ")[1:]]
    for heading in ("Evidence at a glance", "Studies", "Outcomes and effects", "Pooled results", "Claims by clinic page",
                    "Methods and provenance"):
        assert heading in heads
    assert heads[:3] == ["Bottom line", "Summary of findings", "Verdicts by certainty"], heads
    assert "What changed" not in md.split("## Bottom line")[0], "a first run has no baseline: no 'What changed' on top"
    assert "Living review: first run saved with this report" in md
    assert "no database search was run" in md and "pandas" in md  # the offline snapshot ran no search
    assert not re.search(r"\b20\d\d-\d\d-\d\d[T ]\d\d:\d\d", md), "a clock time leaked into the report"


def test_report_cli_runs_named_stages(tmp_path: Path, capsys: pytest.CaptureFixture[str], shared_dir: Path) -> None:
    assert main(["report", "--stages", "claims", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "claims.csv" in printed and (tmp_path / "tables" / "claims.csv").is_file()
    assert not (tmp_path / "summary.html").exists()
    assert main(["report", "--stages", "nonsense", "--out", str(tmp_path)]) == 2
