"""Splitting pages into sentences and list items (evidence_review.claims.sentences)."""

from __future__ import annotations

from evidence_review.claims.sentences import split_units


def test_lines_sentences_and_abbreviations() -> None:
    units = split_units("A heading line\nKetamine works fast, e.g. within hours. It is safe! Is it?  Yes it is.\n")
    assert [u.text for u in units] == ["A heading line", "Ketamine works fast, e.g. within hours.", "It is safe!",
                                       "Is it?", "Yes it is."]
    assert units[0].whole_line and not units[1].whole_line


def test_list_markers_are_dropped_and_remembered() -> None:
    page = "Why us\n• Works in hours\n- Few side effects\n✔ Gentle doses\n1. Free consult\n2) Six infusions over 2 weeks\n"
    units = split_units(page)
    assert [u.text for u in units] == ["Why us", "Works in hours", "Few side effects", "Gentle doses", "Free consult",
                                       "Six infusions over 2 weeks"]
    assert [u.list_item for u in units] == [False, True, True, True, True, True]


def test_decimal_doses_are_not_list_markers_and_qa_labels_are_kept_apart() -> None:
    units = split_units("0.5 mg/kg over 40 minutes.\nQ: Is it safe?\nA: Mostly. Dr. Vell checks you.\n")
    assert [u.text for u in units] == ["0.5 mg/kg over 40 minutes.", "Is it safe?", "Mostly.", "Dr. Vell checks you."]
    assert [u.prefix for u in units] == ["", "Q", "A", "A"]
    assert not units[0].list_item


def test_a_quotation_stays_one_unit_with_its_attribution() -> None:
    units = split_units('"I was worried. Then it got quiet." — Tamsin, 33\nNext line here.')
    assert units[0].text == '"I was worried. Then it got quiet." — Tamsin, 33'


def test_paragraphs_are_counted_and_lowercase_continuations_kept() -> None:
    units = split_units("First para here.\n\nSecond (it works!) and more text. Third one.")
    assert [u.paragraph for u in units] == [1, 2, 2]
    assert units[1].text == "Second (it works!) and more text."
