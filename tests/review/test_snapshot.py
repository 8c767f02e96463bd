from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from evidence_review import paths
from evidence_review.errors import InputError
from evidence_review.pubmed.schema import RECORD_COLUMNS
from evidence_review.review.snapshot import (SNAPSHOT_COLUMNS, build_snapshot, load_manifest, load_records,
                                      snapshot_dir, write_snapshot)

FACTS = paths.evidence_facts_dir()


def _facts_lines() -> list[dict]:
    out = []
    for name in ("studies.jsonl", "bibliography.jsonl"):
        out += [json.loads(line) for line in (FACTS / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("snap")
    return write_snapshot(out, FACTS)


def test_build_is_deterministic_and_committed_copy_is_current(built, tmp_path: Path) -> None:
    again = write_snapshot(tmp_path, FACTS)
    for a, b in zip(built, again):
        assert a.read_bytes() == b.read_bytes()
    committed = snapshot_dir()
    assert (committed / "records.csv").read_bytes() == built[0].read_bytes(), "rerun scripts/build_snapshot.py"
    assert (committed / "manifest.json").read_bytes() == built[1].read_bytes(), "rerun scripts/build_snapshot.py"


def test_columns_start_with_record_columns(built) -> None:
    header = built[0].read_text(encoding="utf-8").splitlines()[0].split(",")
    assert tuple(header[: len(RECORD_COLUMNS)]) == RECORD_COLUMNS
    assert tuple(header) == SNAPSHOT_COLUMNS
    assert {"study_id", "key_source", "nct_id"} <= set(header)


def test_no_invented_identifiers(built) -> None:
    df = load_records(built[0])
    facts = _facts_lines()
    for col, key in (("pmid", "pmid"), ("pmcid", "pmcid"), ("nct_id", "nct_id")):
        known = {str(d.get(key)) for d in facts if d.get(key)}
        for value in df[col]:
            if value:
                assert value in known, f"{col} {value} not in the facts files"
    known_dois = {d["doi"].lower() for d in facts if d.get("doi")}
    assert set(df.loc[df["doi"] != "", "doi"]) <= known_dois
    # the first OCD RCT has no known PMID: it stays empty and is keyed by DOI
    row = df.set_index("study_id").loc["rodriguez2013_rct"]
    assert row["pmid"] == "" and row["doi"] == "10.1038/npp.2013.150" and row["pmcid"] == "PMC3799067"
    assert row["key_source"] == "doi"


def test_no_abstract_text(built) -> None:
    df = load_records(built[0])
    assert (df["abstract"] == "").all()


def test_every_study_kept_once_and_keyed(built) -> None:
    df = load_records(built[0])
    ids = [d["record_id"] for d in _facts_lines() if d.get("record_id")]
    assert set(ids) <= set(df["study_id"])
    assert df["study_id"].is_unique
    assert set(df["key_source"]) <= {"pmid", "doi", "pmcid", "nct", "registry", "title"}
    for sid in df["study_id"]:
        assert re.fullmatch(r"[A-Za-z0-9_\-]+", sid)


def test_dedup_counts_and_registration_kept_apart(built) -> None:
    manifest = load_manifest(built[1])
    facts = _facts_lines()
    df = load_records(built[0])
    c = manifest["counts"]
    assert c["identified"] == len(facts)
    assert c["records"] == len(df) and c["duplicates_removed"] == len(facts) - len(df) > 0
    assert sum(s["entries"] for s in manifest["sources"]) == len(facts)
    for s in manifest["sources"]:
        assert re.fullmatch(r"[0-9a-f]{64}", s["sha256"])
    by_id = df.set_index("study_id")
    # a paper and its registration share NCT01349231 but stay two records, linked
    assert by_id.loc["reg_NCT01349231", "linked_study_id"] == "bloch2012_openlabel"
    assert by_id.loc["bloch2012_openlabel", "pmid"] == "22784486"
    # merged entries keep facts from both files (Adams 2017: PMID from one, journal/DOI from the other)
    assert by_id.loc["adams2017_in_ketamine_cbt_case", "journal"] == "J Clin Psychopharmacol"
    assert len(by_id.loc["adams2017_in_ketamine_cbt_case", "sources"]) == 2
    assert "no api key" in manifest["secrets"].lower()
    text = built[1].read_text(encoding="utf-8")
    for var in ("NCBI_API_KEY", "NCBI_EMAIL"):
        if os.environ.get(var):
            assert os.environ[var] not in text
    assert set(manifest["unknown"]["pmid_missing"]) == set(df.loc[df["pmid"] == "", "study_id"])


def test_multivalued_fields_are_lists(built) -> None:
    df = load_records(built[0])
    bloch = df.set_index("study_id").loc["bloch2012_openlabel"]
    assert isinstance(bloch["mesh_terms"], list) and "Obsessive-Compulsive Disorder*" in bloch["mesh_terms"]
    assert all(isinstance(v, list) for v in df["publication_types"])
    assert str(df["year"].dtype) == "Int64"


def _facts(tmp_path: Path, studies: list[dict], bib: list[dict]) -> Path:
    (tmp_path / "studies.jsonl").write_text("".join(json.dumps(s) + "\n" for s in studies))
    (tmp_path / "bibliography.jsonl").write_text("".join(json.dumps(b) + "\n" for b in bib))
    return tmp_path


def test_synthetic_dedup_by_title_and_ids(tmp_path: Path) -> None:
    studies = [{"record_id": "smith2020_rct", "title": "A Trial: of Ketamine.", "year": 2020, "doi": "10.1/ABC"},
               {"record_id": "reg_NCT00000001", "title": "Registered trial", "nct_id": "NCT00000001"}]
    bib = [{"title": "a trial of ketamine", "year": 2020, "pmid": "123", "first_author": "Smith J", "journal": "J X"},
           {"title": "A trial of ketamine", "year": 2019, "first_author": "Smith J"},  # different year: kept
           {"title": "Other", "year": 2021, "doi": "10.1/abc", "first_author": "Jones AB"}]  # same DOI, any case
    df, manifest = build_snapshot(_facts(tmp_path, studies, bib))
    assert manifest["counts"] == {**manifest["counts"], "identified": 5, "records": 3, "duplicates_removed": 2}
    smith = df.set_index("study_id").loc["smith2020_rct"]
    assert smith["pmid"] == "123" and smith["doi"] == "10.1/abc" and smith["journal"] == "J X"
    assert "smith2019_trial" in set(df["study_id"])
    assert df.set_index("study_id").loc["reg_NCT00000001", "key_source"] == "nct"


def test_conflicting_pmids_are_an_error(tmp_path: Path) -> None:
    studies = [{"record_id": "a2020_x", "title": "T", "year": 2020, "doi": "10.1/x", "pmid": "1"}]
    bib = [{"title": "T2", "year": 2020, "doi": "10.1/x", "pmid": "2"}]
    with pytest.raises(InputError) as err:
        build_snapshot(_facts(tmp_path, studies, bib))
    assert err.value.field == "pmid" and err.value.row == 1 and err.value.file.endswith("bibliography.jsonl")


def test_bad_json_and_bad_identifier(tmp_path: Path) -> None:
    _facts(tmp_path, [{"record_id": "a", "title": "T"}], [])
    with open(tmp_path / "studies.jsonl", "a") as fh:
        fh.write("{not json\n")
    with pytest.raises(InputError) as err:
        build_snapshot(tmp_path)
    assert err.value.row == 2
    _facts(tmp_path, [{"record_id": "a", "title": "T", "pmid": "PMID 12"}], [])
    with pytest.raises(InputError) as err:
        build_snapshot(tmp_path)
    assert err.value.field == "pmid"
