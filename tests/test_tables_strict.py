"""tables.read_csv_strict refuses what pandas would silently bend: ragged rows, duplicate and unknown columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidence_review.errors import InputError
from evidence_review.stats import extraction
from evidence_review.tables import read_csv_strict


def csv(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "t.csv"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(("text", "row", "field", "says"), [
    ("a,b\n1,2\n3,4,5\n", 3, None, "3 fields where the header has 2"),
    ("a,b\n1,2,9\n3,4,5\n", 2, None, "3 fields"),  # pandas would turn column a into an index
    ("a,b,c\n1,2,3\n4,5\n", 3, None, "2 fields"),
    ("a,b,a\n1,2,3\n", 1, "a", "duplicate column (columns 1 and 3)"),
    ("\n", 1, None, "empty"),
])
def test_shape_problems_name_the_row(tmp_path: Path, text: str, row: int, field: str | None, says: str) -> None:
    with pytest.raises(InputError) as err:
        read_csv_strict(csv(tmp_path, text))
    assert err.value.row == row and err.value.field == field and says in str(err.value)


def test_unknown_column_suggests_the_closest_known(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="did you mean 'sd1i'") as err:
        read_csv_strict(csv(tmp_path, "m1i,sd1,n1i\n1,2,3\n"), known=("m1i", "sd1i", "n1i"))
    assert err.value.field == "sd1" and err.value.row == 1


def test_what_is_fine_stays_fine(tmp_path: Path) -> None:
    text = '\ufeffa,b\n1,"two\nlines"\n\n3,\n'  # BOM, quoted newline, blank line, empty last field
    df = read_csv_strict(csv(tmp_path, text), required=("a",), known=("a", "b"))
    assert list(df.columns) == ["a", "b"] and df["b"].tolist() == ["two\nlines", ""]


def test_extraction_table_refuses_a_misspelt_extra_column(tmp_path: Path) -> None:
    real = extraction.default_path().read_text(encoding="utf-8").splitlines()
    real[0] += ",ci_lowr"
    real[1:] = [line + "," for line in real[1:]]
    p = csv(tmp_path, "\n".join(real) + "\n")
    with pytest.raises(InputError, match="unknown column") as err:
        extraction.load(p)
    assert err.value.field == "ci_lowr"
