"""`audit PAGE --format csv|json|html` on pages it has never seen, and its size limit."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evidence_review.claims import audit
from evidence_review.cli import main
from evidence_review.commands.audit import render

PAGE = """Rowanbank Ketamine Rooms
Discover Lasting Relief from OCD

Is ketamine FDA approved for OCD?
Ketamine is not FDA approved for OCD and is used off-label.
Intrusive doubts about harm can take over whole evenings.

Why Rowanbank?
• Relief within hours of the first infusion
• Ketamine is well-tolerated and has few side effects
• Booster infusions every 2-3 weeks keep you in remission

"By the second visit the checking had eased." — Odile, 38
Book your consultation today.
"""


@pytest.fixture(scope="module")
def table(shared_dir: Path) -> pd.DataFrame:
    return audit.audit_text(PAGE, audit.load_evidence_base(), "rowanbank.txt")


def test_claims_judged_and_everything_else_listed_with_its_role(table: pd.DataFrame) -> None:
    roles = dict(zip(table["text"].str[:25], table["role"]))
    assert roles["Is ketamine FDA approved "] == "question"
    assert roles["Discover Lasting Relief f"] == "heading"
    assert roles["Intrusive doubts about ha"] == "description"
    assert roles["Book your consultation to"] == "cta"
    assert roles['"By the second visit the '] == "testimonial"
    claims = table[table["role"] == "claim"].set_index(table[table["role"] == "claim"]["text"].str[:20])
    assert claims.loc["Ketamine is not FDA ", "verdict"] == "supported"
    assert claims.loc["Ketamine is well-tol", "verdict"] == "not_supported"
    assert "OCD harm reports first" in claims.loc["Ketamine is well-tol", "reason"]
    assert claims.loc["Booster infusions ev", "verdict"] == "no_evidence"
    assert (table.loc[table["role"] != "claim", "verdict"] == "").all()
    assert (claims["reason"] != "").all()


def test_formats_hold_the_same_rows(table: pd.DataFrame) -> None:
    csv_text = render(table, "csv", "p.txt")
    assert csv_text.splitlines()[0].startswith("unit_id,line,role,role_reason,text")
    assert len(csv_text.splitlines()) == len(table) + 1
    data = json.loads(render(table, "json", "p.txt"))
    assert [u["unit_id"] for u in data["units"]] == list(table["unit_id"])
    page = render(table, "html", "p.txt")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "src=" not in page and "href=" not in page
    assert page.count('<td class="v-') == int((table["role"] == "claim").sum())
    assert '<details id="non-claims">' in page


def test_cli_writes_one_self_contained_html_page(tmp_path: Path, shared_dir: Path) -> None:
    page = tmp_path / "rowanbank.txt"
    page.write_text(PAGE, encoding="utf-8")
    out = tmp_path / "audit.html"
    assert main(["audit", str(page), "--format", "html", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "Audit of <code>rowanbank.txt</code>" in text and "well-tolerated" in text


def test_oversized_page_is_refused_with_exit_2(tmp_path: Path, capsys) -> None:
    page = tmp_path / "huge.txt"
    page.write_text("Ketamine works fast. " * (audit.MAX_PAGE_BYTES // 20 + 10), encoding="utf-8")
    assert main(["audit", str(page)]) == 2
    assert "audit limit is 1,000,000 bytes" in capsys.readouterr().err


def test_missing_or_binary_page_exits_2(tmp_path: Path) -> None:
    assert main(["audit", str(tmp_path / "nope.txt")]) == 2
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00bad")
    assert main(["audit", str(bad), "--format", "json"]) == 2
