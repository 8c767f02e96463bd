"""Error types shared by every stage.

Bad input must name the file, row and field so a researcher can fix it without reading code;
the CLI turns :class:`InputError` into exit code 2 and any other :class:`EvidenceReviewError` into 1.
"""

from __future__ import annotations

from pathlib import Path


class EvidenceReviewError(Exception):
    """Base class: a failure the user can act on (exit code 1)."""


class InputError(EvidenceReviewError):
    """Bad input data or usage (exit code 2). Names the file, row and field where known.

    ``row`` is the 1-based data row as a spreadsheet shows it (header = row 1, first record = row 2)
    for CSV files, or the line number for other text files.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.row = row
        self.field = field
        self.message = message
        where = []
        if self.file:
            where.append(self.file)
        if row is not None:
            where.append(f"row {row}")
        if field:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class NetworkError(EvidenceReviewError):
    """E-utilities could not be reached or kept failing after every retry."""
