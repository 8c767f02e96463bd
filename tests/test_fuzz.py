"""Property tests (Hypothesis): generated malformed CSVs, topic files, XML and command lines.

Whatever is thrown at a command, it returns exit 0, 1 or 2 (never raises, never an "internal error"),
and an exit 0 of `effects` never carries a negative or non-finite variance; an exit 0 of `parse` never
a record without a numeric PMID. Example counts are kept small so the file runs in well under a minute.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import math
import os
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence_review import cli
from evidence_review.pubmed import synthetic as sp
from evidence_review.pubmed import synthetic_xml as sx

FAST = settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
ROOT = Path(__file__).resolve().parents[1]

CELL_NAMES = ["yi", "vi", "ai", "bi", "ci", "di", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i", "xi", "ni", "ri",
              "study", "yi ", "", "vi.1"]
CELLS = st.one_of(
    st.integers(-5, 50).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "NA", "nan", "inf", "-inf", "1e400", "-1e-400", "0", "0.0", " ", "abc", "1,5", '"', "1e308"]),
    st.text(max_size=6),
)


@contextlib.contextmanager
def isolated():
    """A scratch folder as the working directory, the project root, the reports and the network."""
    old_cwd = os.getcwd()
    keys = ("EVIDENCE_REVIEW_ROOT", "EVIDENCE_REVIEW_REPORTS", "NCBI_EUTILS_URL", "CTGOV_API_URL",
            "EVIDENCE_REVIEW_EUTILS_TRIES", "EVIDENCE_REVIEW_CTGOV_TRIES")
    saved = {k: os.environ.get(k) for k in keys}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "root").mkdir()
        os.environ.update({
            "EVIDENCE_REVIEW_ROOT": str(root / "root"), "EVIDENCE_REVIEW_REPORTS": str(root / "reports"),
            "NCBI_EUTILS_URL": "http://127.0.0.1:9/", "CTGOV_API_URL": "http://127.0.0.1:9/api/v2",
            "EVIDENCE_REVIEW_EUTILS_TRIES": "1", "EVIDENCE_REVIEW_CTGOV_TRIES": "1",
        })
        os.chdir(root)
        try:
            yield root
        finally:
            os.chdir(old_cwd)
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    text = err.getvalue()
    assert code in (0, 1, 2), f"{argv}: exit {code}\n{text}"
    assert "internal error" not in text and "Traceback" not in text, f"{argv}\n{text}"
    return code, text


@st.composite
def csv_texts(draw) -> str:
    header = draw(st.lists(st.sampled_from(CELL_NAMES), min_size=0, max_size=6))
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=8), max_size=5))
    lines = [",".join(header)] + [",".join(r) for r in rows]
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))


@FAST
@given(text=csv_texts(), measure=st.sampled_from(["GEN", "OR", "RR", "RD", "SMD", "PLO", "PR", "MD"]),
       add=st.sampled_from(["0.5", "0", "-1", "nan"]), level=st.sampled_from(["0.95", "1", "0", "95", "0.5"]))
def test_effects_on_generated_csv(text: str, measure: str, add: str, level: str) -> None:
    with isolated() as tmp:
        (tmp / "in.csv").write_text(text, encoding="utf-8")
        code, _ = run(["effects", "--input", "in.csv", "--measure", measure, "--out", "out.csv", "--add", add,
                       "--level", level])
        if code == 0:
            df = pd.read_csv(tmp / "out.csv")
            assert df["vi"].map(lambda v: math.isfinite(v) and v >= 0).all(), df
            assert df["yi"].map(math.isfinite).all()


@FAST
@given(text=csv_texts(), method=st.sampled_from(["FE", "DL", "REML", "PM"]), hksj=st.booleans())
def test_meta_on_generated_csv(text: str, method: str, hksj: bool) -> None:
    with isolated() as tmp:
        (tmp / "in.csv").write_text(text, encoding="utf-8")
        run(["meta", "--input", "in.csv", "--measure", "GEN", "--method", method, "--format", "json"]
            + (["--hksj"] if hksj else []))


def _base_xml() -> bytes:
    return sx.corpus_xml(sp.generate_records(3, seed=9), deleted=["123"])


@FAST
@given(cut=st.integers(0, 4000), junk=st.binary(max_size=40), at=st.integers(0, 4000), zipped=st.booleans(),
       replace=st.booleans())
def test_parse_on_damaged_xml(cut: int, junk: bytes, at: int, zipped: bool, replace: bool) -> None:
    xml = _base_xml()
    data = xml[:at] + junk + xml[at + (len(junk) if replace else 0):]
    data = data[: max(cut, 1) * 4] if cut % 3 == 0 else data
    if zipped:
        data = gzip.compress(data, mtime=0)
        data = data[: len(data) - (cut % 7)]
    with isolated() as tmp:
        name = "in.xml.gz" if zipped else "in.xml"
        (tmp / name).write_bytes(data)
        code, _ = run(["parse", name, "--out", "out.csv"])
        if code == 0:
            df = pd.read_csv(tmp / "out.csv", dtype=str, keep_default_na=False)
            assert df["pmid"].str.fullmatch(r"\d+").all(), df["pmid"].tolist()


TOPIC_TEXT = (ROOT / "evidence" / "topics" / "ketamine_ocd.toml").read_text(encoding="utf-8")
TOPIC_LINES = TOPIC_TEXT.splitlines()


@settings(max_examples=30, deadline=None, database=None)
@given(drop=st.lists(st.integers(0, len(TOPIC_LINES) - 1), max_size=3),
       insert=st.lists(st.tuples(st.integers(0, len(TOPIC_LINES)), st.sampled_from(
           ["quer = 'x'", "[outcome]", "response_threshold = 35", "start = 2030-01-01", "name = 1", "[[x]]",
            "claims_file = ''", "title = \"\"\"", "end = 1900-01-01", "= 3", "report_title = 'x'"])), max_size=2))
def test_pull_with_a_mutated_topic_file(drop: list[int], insert: list[tuple[int, str]]) -> None:
    lines = [line for i, line in enumerate(TOPIC_LINES) if i not in set(drop)]
    for pos, text in insert:
        lines.insert(min(pos, len(lines)), text)
    with isolated() as tmp:
        (tmp / "t.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        code, err = run(["pull", "--topic", "t.toml", "--store", "s"])
        assert code != 0  # a valid topic still meets no server (nothing listens on 127.0.0.1:9)


OPTION_VALUES = st.sampled_from(["", "x", "-1", "0", "1.5", "nan", "store", "out.csv", "out.txt", ".", "..",
                                 "--", "GEN", "RR", "REML", "records", "pulls", "in.csv", "zzz.toml", "medline",
                                 "ris", "auto", "in.ris"])
COMMAND_OPTIONS = {
    "pull": ["--query", "--topic", "--store", "--batch-size", "--workers", "--source"],
    "refresh": ["--store", "--source", "--batch-size", "--overlap-days", "--workers"],
    "parse": ["--out", "--jobs", "--deleted-out"],
    "status": ["--store"],
    "export": ["--store", "--table", "--format", "--out", "--pull", "--allow-incomplete", "--include-withdrawn"],
    "effects": ["--input", "--measure", "--out", "--add", "--to", "--level"],
    "meta": ["--input", "--measure", "--method", "--hksj", "--format", "--level", "--forest", "--mods"],
    "audit": ["--out", "--format"],
    "report": ["--stages", "--out", "--store", "--pull", "--topic"],
    "screen": ["--queue", "--decisions", "--overrides", "--check", "--replace"],
    "import": ["--store", "--format", "--label"],
}


@st.composite
def command_lines(draw) -> list[str]:
    name = draw(st.sampled_from(sorted(set(cli.COMMANDS) & set(COMMAND_OPTIONS))))
    argv = [name]
    for _ in range(draw(st.integers(0, 4))):
        argv.append(draw(st.sampled_from(COMMAND_OPTIONS[name])))
        if draw(st.booleans()):
            argv.append(draw(OPTION_VALUES))
    if name in ("parse", "import") and draw(st.booleans()):
        argv.insert(1, draw(OPTION_VALUES))
    return argv


@settings(max_examples=60, deadline=None, database=None)
@given(argv=command_lines())
def test_generated_command_lines(argv: list[str]) -> None:
    with isolated() as tmp:
        (tmp / "in.csv").write_text("yi,vi\n0.1,0.2\n0.3,-1\n", encoding="utf-8")
        (tmp / "in.ris").write_text("TY  - JOUR\nTI  - half a record\nXX  -\n", encoding="utf-8")
        run(argv)


def test_every_command_is_covered_by_the_command_line_fuzz() -> None:
    uncovered = set(cli.COMMANDS) - set(COMMAND_OPTIONS)
    assert not uncovered, f"add {sorted(uncovered)} to COMMAND_OPTIONS"


@pytest.mark.parametrize("name", sorted(COMMAND_OPTIONS))
def test_each_command_alone_fails_cleanly_in_an_empty_folder(name: str) -> None:
    with isolated():
        run([name])
