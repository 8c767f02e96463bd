"""Command-line entry point: ``python -m evidence_review <command>`` / ``evidence-review <command>``.

Each command lives in ``evidence_review/commands/<name>.py`` and exposes ``HELP`` (one line),
``configure(parser)`` and ``run(args) -> int``. Command modules keep heavy imports inside ``run``
so ``--help`` stays fast. Exit codes: 0 ok, 1 failure, 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Sequence

from evidence_review import __version__
from evidence_review.errors import EvidenceReviewError, InputError

# Order = the order of the stages in the pipeline (shown in --help).
COMMANDS: tuple[str, ...] = (
    "pull",
    "refresh",
    "parse",
    "status",
    "import",
    "export",
    "effects",
    "meta",
    "audit",
    "report",
    "screen",
)


MODULES: dict[str, str] = {"import": "import_records"}  # command names that are Python keywords


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evidence-review",
        description="Check health claims against the published literature (PubMed).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"evidence_review.commands.{MODULES.get(name, name)}")
        cmd = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (testable without a shell)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 0 for --help, 2 for bad usage
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args._run(args) or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except EvidenceReviewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: completed batches are kept; re-run the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
