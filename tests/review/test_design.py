from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import cohens_kappa as sm_kappa

from evidence_review import paths
from evidence_review.review.design import (LABELS, agreement, apply_overrides, classify, classify_frame, cohens_kappa,
                                    confusion_table, label_records, load_overrides)
from evidence_review.errors import InputError
from evidence_review.review.snapshot import load_records


def rec(title: str = "", abstract: str = "", types=(), mesh=(), **kw) -> dict:
    return {"pmid": kw.pop("pmid", "1"), "title": title, "abstract": abstract, "journal": kw.pop("journal", "J"),
            "publication_types": list(types), "mesh_terms": list(mesh), **kw}


@pytest.mark.parametrize("record, label", [
    (rec("Ketamine in OCD", types=["Journal Article", "Randomized Controlled Trial"]), "rct_parallel"),
    (rec("Ketamine in OCD", "A double-blind crossover design.", ["Randomized Controlled Trial"]), "rct_crossover"),
    (rec("Ketamine for OCD", types=["Case Reports"]), "case_report"),
    (rec("Three cases of ketamine for OCD", types=["Case Reports", "Letter"]), "case_series"),
    (rec("Ketamine for psychiatric disorders", types=["Journal Article", "Meta-Analysis", "Systematic Review"]), "meta_analysis"),
    (rec("Ketamine for OCD", types=["Systematic Review", "Review"]), "systematic_review"),
    (rec("Glutamate and OCD", types=["Review"]), "narrative_review"),
    (rec("Ketamine and OCD", types=["Letter", "Comment"]), "letter_comment"),
    (rec("Treating OCD", types=["Practice Guideline"]), "guideline"),
    (rec("Ketamine in OCD", "Ten patients received one open-label infusion.", ["Clinical Trial"]), "open_label_single_arm"),
    (rec("Ketamine in OCD", "We compared ketamine with saline.", ["Controlled Clinical Trial"]), "controlled_nonrandomized"),
    (rec("Ketamine in OCD", types=["Congress"]), "other"),
    (rec("Efficacy of ketamine in OCD: a randomized controlled trial", types=["Congress"]), "rct_parallel"),
    (rec("Ketamine in OCD - a case report and literature review", types=["Congress"]), "case_report"),
    (rec("Ketamine reduces grooming", mesh=["Animals", "Mice", "Ketamine*"]), "preclinical"),
    (rec("Ketamine reduces marble burying in mice"), "preclinical"),
    (rec("Ketamine for refractory OCD: a retrospective chart review"), "retrospective_chart_review"),
    (rec("Randomized controlled crossover trial of ketamine in OCD"), "rct_crossover"),
    (rec("Ketamine for OCD: a systematic review and meta-analysis of randomized controlled trials"), "meta_analysis"),
    (rec("Ketamine in an adolescent: a case report"), "case_report"),
    (rec("Ketamine in OCD", pmid="", journal="", nct_id="NCT01234567"), "trial_registration"),
    (rec("Effects of ketamine in OCD"), "other"),
])
def test_rules_on_real_pubmed_types(record: dict, label: str) -> None:
    got = classify(record)
    assert got.label == label, got
    assert got.label in LABELS and 0 < got.confidence <= 1 and got.reason and "\n" not in got.reason


def test_publication_type_beats_title_cue() -> None:
    # an RCT whose title mentions a review of prior work is still an RCT
    got = classify(rec("Ketamine after a review of prior trials", types=["Randomized Controlled Trial"]))
    assert got.label == "rct_parallel" and got.confidence > classify(rec("A randomized trial")).confidence


def test_multivalued_fields_accept_csv_strings() -> None:
    record = {**rec("x"), "publication_types": "Journal Article; Case Reports"}
    assert classify(record).label == "case_report"


def _records() -> pd.DataFrame:
    return pd.DataFrame([
        {"study_id": "a", "pmid": "11", "title": "Ketamine in OCD", "abstract": "", "publication_types": ["Letter"], "journal": "J"},
        {"study_id": "b", "pmid": "", "title": "A case report", "abstract": "", "publication_types": [], "journal": "J"},
    ])


def _csv(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "overrides.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_overrides_win_and_are_resolved_by_pmid(tmp_path: Path) -> None:
    p = _csv(tmp_path, "study_id,pmid,design,reviewer,reason\n,11,case_report,rev,one patient described\n")
    final, result = label_records(_records(), p)
    a = final.set_index("study_id").loc["a"]
    assert a["design_auto"] == "letter_comment" and a["design"] == "case_report"
    assert a["design_source"] == "override" and a["design_confidence"] == 1.0 and "one patient" in a["design_reason"]
    assert final.set_index("study_id").loc["b", "design_source"] == "auto"
    assert result["overrides"] == 1 and result["accuracy"] == pytest.approx(0.5)


@pytest.mark.parametrize("body, row, field", [
    ("a,,rct_maybe,rev,why\n", 2, "design"),
    ("a,,case_report,rev,why\nzzz,,case_report,rev,why\n", 3, "study_id"),
    (",999,case_report,rev,why\n", 2, "pmid"),
    ("a,,case_report,,why\n", 2, "reviewer"),
    ("a,,case_report,rev,\n", 2, "reason"),
    (",,case_report,rev,why\n", 2, "study_id"),
    ("a,,case_report,rev,why\na,,case_series,rev,why\n", 3, "study_id"),
    ("b,11,case_report,rev,why\n", 2, "pmid"),
])
def test_bad_overrides_name_file_row_field(tmp_path: Path, body: str, row: int, field: str) -> None:
    p = _csv(tmp_path, "study_id,pmid,design,reviewer,reason\n" + body)
    with pytest.raises(InputError) as err:
        load_overrides(p, _records())
    assert (err.value.file, err.value.row, err.value.field) == (str(p), row, field)


def test_missing_column(tmp_path: Path) -> None:
    p = _csv(tmp_path, "study_id,design,reason\na,case_report,why\n")
    with pytest.raises(InputError) as err:
        load_overrides(p, _records())
    assert err.value.field == "reviewer" and err.value.row == 1


def test_kappa_hand_computed_and_statsmodels() -> None:
    # 10 items, two raters. Table (rows rater a: x, y; columns rater b): [[4, 1], [2, 3]]
    a = ["x"] * 5 + ["y"] * 5
    b = ["x", "x", "x", "x", "y", "x", "x", "y", "y", "y"]
    # p_o = 7/10; p_e = (5*6 + 5*4)/100 = 0.5; kappa = (0.7-0.5)/(1-0.5) = 0.4
    assert cohens_kappa(a, b) == pytest.approx(0.4)
    table = confusion_table(a, b, ["x", "y"])
    assert table.tolist() == [[4, 1], [2, 3]]
    assert cohens_kappa(a, b) == pytest.approx(sm_kappa(table).kappa)


def test_kappa_three_categories_against_statsmodels() -> None:
    rng = np.random.default_rng(7)
    cats = ["p", "q", "r"]
    a = list(rng.choice(cats, 60))
    b = [x if rng.random() < 0.7 else rng.choice(cats) for x in a]
    assert cohens_kappa(a, b) == pytest.approx(sm_kappa(confusion_table(a, b, cats)).kappa)
    assert cohens_kappa(a, a) == pytest.approx(1.0)


def test_agreement_counts() -> None:
    r = agreement(["x", "x", "y", "z"], ["x", "y", "y", "z"])
    assert r["n"] == 4 and r["agree"] == 3 and r["accuracy"] == pytest.approx(0.75)
    assert r["per_label"]["y"] == {"curated": 2, "auto": 1, "agree": 1}


def test_shipped_overrides_are_valid_and_change_labels() -> None:
    records = load_records()
    overrides = load_overrides(paths.evidence_dir() / "design_overrides.csv", records)
    final = apply_overrides(classify_frame(records), overrides)
    assert set(final["design"]) <= set(LABELS)
    changed = final[final["design_source"] == "override"]
    assert len(changed) == len(overrides) > 0
    by_id = final.set_index("study_id")
    assert by_id.loc["rodriguez2013_rct", "design"] == "rct_crossover"
    assert by_id.loc["bloch2012_openlabel", "design"] == "open_label_single_arm"


PUBMED_XML = b"""<?xml version="1.0"?>
<PubmedArticleSet>
<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">90000001</PMID>
<Article><Journal><Title>Journal A</Title><JournalIssue><PubDate><Year>2020</Year></PubDate></JournalIssue></Journal>
<ArticleTitle>Ketamine versus midazolam in obsessive-compulsive disorder.</ArticleTitle>
<Abstract><AbstractText>Adults were randomly assigned to one infusion. Y-BOCS response was measured.</AbstractText></Abstract>
<PublicationTypeList><PublicationType UI="D016428">Journal Article</PublicationType>
<PublicationType UI="D016449">Randomized Controlled Trial</PublicationType></PublicationTypeList></Article>
<MeshHeadingList><MeshHeading><DescriptorName UI="D000818" MajorTopicYN="N">Humans</DescriptorName></MeshHeading></MeshHeadingList>
</MedlineCitation></PubmedArticle>
<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">90000002</PMID>
<Article><Journal><Title>Journal B</Title><JournalIssue><PubDate><Year>2021</Year></PubDate></JournalIssue></Journal>
<ArticleTitle>Ketamine for OCD.</ArticleTitle>
<PublicationTypeList><PublicationType UI="D016428">Journal Article</PublicationType>
<PublicationType UI="D016454">Review</PublicationType></PublicationTypeList></Article>
</MedlineCitation></PubmedArticle>
</PubmedArticleSet>
"""


def test_live_pull_frame_is_labelled_by_pmid(tmp_path: Path) -> None:
    pubmed_xml = pytest.importorskip("evidence_review.pubmed.parser")
    frame = pubmed_xml.records_frame(PUBMED_XML)
    final, result = label_records(frame, None)
    by_pmid = final.set_index("study_id")
    assert by_pmid.loc["90000001", "design"] == "rct_parallel"
    assert by_pmid.loc["90000002", "design"] == "narrative_review"
    assert result["n"] == 2 and result["overrides"] == 0
