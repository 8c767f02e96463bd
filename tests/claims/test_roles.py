"""Sentence roles (evidence_review.claims.roles): claims vs the things audit must never judge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evidence_review.claims.roles import ROLES, classify, classify_all
from evidence_review.claims.sentences import Unit, normalize, split_units

EVAL = Path(__file__).resolve().parents[1] / "fixtures" / "audit_eval"


def role_of(text: str, **kw) -> str:
    unit = Unit(0, text, 1, 1, kw.pop("whole_line", True), kw.pop("list_item", False), kw.pop("prefix", ""))
    return classify(unit).role


@pytest.mark.parametrize("text,role", [
    ("Is ketamine infusion therapy FDA approved for OCD treatment?", "question"),
    ("Can ketamine infusion therapy help my OCD?", "question"),
    ("Discover Lasting Relief from Obsessive Thoughts", "heading"),
    ("Ketamine Therapy for OCD", "heading"),
    ("How the treatment works:", "heading"),
    ("Doubts about safety or harm can fill the whole day.", "description"),
    ("OCD is a long-lasting condition marked by intrusive thoughts and rituals.", "description"),
    ("Most people are first offered an SSRI and exposure therapy.", "description"),
    ("Call 555-0101 to book your free consultation.", "cta"),
    ("If you want to know more, talk to our intake team.", "cta"),
    ('"After two sessions my checking stopped." — Rolf, 52', "testimonial"),
    ("I felt calm for the first time after my infusion.", "testimonial"),
    ("© 2026 Fernhollow Clinic. All rights reserved.", "boilerplate"),
    ("Home | About | Treatments | Contact", "boilerplate"),
    ("We understand how hard this is.", "boilerplate"),
    ("Over 2,000 infusions performed.", "boilerplate"),
    ("Traditional treatments like SSRIs help many people, but up to 40% don't get enough relief.", "description"),
])
def test_non_claims_get_their_role(text: str, role: str) -> None:
    assert role_of(text) == role


@pytest.mark.parametrize("text,kw", [
    ("diminish the power and prevalence of obsessive thoughts and compulsive rituals", {"list_item": True}),
    ("a low dose over about 45 minutes", {"list_item": True}),
    ("A total of six infusions over a few weeks.", {}),
    ("Patients see a significant decrease in symptoms after just one infusion.", {}),
    ("It can work fast.", {"whole_line": False}),
    ("Ketamine is well-tolerated and has few side effects.", {}),
    ("Remission can be maintained with booster infusions every 2-3 weeks.", {}),
    ("Emergent psychotic symptoms have not been reported in OCD cohorts.", {}),
    ("Works in hours, not months", {"list_item": True}),
])
def test_claims_are_found_in_sentences_and_list_items(text: str, kw: dict) -> None:
    assert role_of(text, **kw) == "claim"


def test_every_role_has_a_reason_and_an_elliptical_answer_borrows_its_question() -> None:
    units = split_units("Side effects? Honestly there aren't any.\nCall us today.")
    roles = classify_all(units)
    assert [r.role for r in roles] == ["question", "claim", "cta"]
    assert roles[1].context.startswith("Side effects") and "elliptical" in roles[1].reason
    assert all(r.reason and r.role in ROLES for r in roles)


def _eval_pages():
    manifest = json.loads((EVAL / "manifest.json").read_text(encoding="utf-8"))
    return [(p["id"], EVAL / p["page"], EVAL / p["gold"]) for p in manifest["pages"]]


@pytest.mark.parametrize("page_id,page,gold", _eval_pages(), ids=[p[0] for p in _eval_pages()])
def test_no_question_heading_description_or_cta_is_judged_on_the_eval_pages(page_id: str, page: Path, gold: Path) -> None:
    units = split_units(page.read_text(encoding="utf-8"))
    roles = classify_all(units)
    never = [g for g in json.loads(gold.read_text(encoding="utf-8"))["units"]
             if g["role"] in ("question", "heading", "description", "cta")]
    judged = [u.text for u, r in zip(units, roles) if r.role == "claim"
              and any(normalize(u.text) in normalize(g["text"]) or normalize(g["text"]) in normalize(u.text) for g in never)]
    assert judged == []
