"""`evidence-review parse` (placeholder until its stage lands)."""

from __future__ import annotations

import argparse

from evidence_review.errors import EvidenceReviewError

HELP = "parse (not implemented yet)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs=argparse.REMAINDER)


def run(args: argparse.Namespace) -> int:
    raise EvidenceReviewError("'parse' is not implemented yet")
