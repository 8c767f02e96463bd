"""Every number in the extraction table is on its study's record in the compiled facts, or says how it was derived."""

from __future__ import annotations

import json
import re

import pandas as pd

from evidence_review import paths
from evidence_review.stats import extraction

NUMERIC = ("ai", "bi", "ci", "di", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i", "xi", "ni", "ri", "ti", "fi", "df1",
           "df2", "pval")


def _numbers(text: str) -> set[str]:
    text = str(text).replace("−", "-")
    return {f"{float(n):g}" for n in re.findall(r"(?<![A-Za-z0-9.])\d+(?:\.\d+)?", text)}


def _study_text() -> dict[str, str]:
    out = {}
    for line in (paths.evidence_facts_dir() / "studies.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out[d["record_id"]] = json.dumps(d, ensure_ascii=False)
    return out


def test_extracted_numbers_are_on_the_study_record_or_derived(shared_dir) -> None:
    df = extraction.load()
    text = _study_text()
    problems = []
    for rec in df.to_dict("records"):
        src = _numbers(text.get(rec["study_id"], "")) | _numbers(rec["derived"])
        for col in NUMERIC:
            v = rec.get(col)
            if v is None or pd.isna(v) or str(v) == "":
                continue
            if f"{float(v):g}" not in src:
                problems.append(f"{rec['comparison_id']}: {col}={v} is not on the study record and 'derived' does not say how")
    assert problems == []


def test_timepoint_days_stated_or_derived() -> None:
    """timepoint_days must be the day the timepoint names, else the 'derived' note explains the conversion."""
    df = extraction.load()
    for rec in df.to_dict("records"):
        days = rec.get("timepoint_days")
        if days is None or pd.isna(days) or str(days) == "":
            continue
        m = re.search(r"\bday (\d+)\b", str(rec["timepoint"]))
        if m and float(m.group(1)) == float(days):
            continue
        assert "timepoint_days" in str(rec["derived"]), f"{rec['comparison_id']}: timepoint_days {days} not derived"
