"""`evidence-review export` (placeholder until its stage lands)."""

from __future__ import annotations

import argparse

from evidence_review.errors import EvidenceReviewError

HELP = "export (not implemented yet)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs=argparse.REMAINDER)


def run(args: argparse.Namespace) -> int:
    raise EvidenceReviewError("'export' is not implemented yet")
