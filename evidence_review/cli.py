"""Command-line entry point: ``python -m evidence_review <command>`` / ``evidence-review <command>``.

Each command lives in ``evidence_review/commands/<name>.py`` and exposes ``HELP`` (one line),
``configure(parser)`` and ``run(args) -> int``. Command modules keep heavy imports inside ``run``
so ``--help`` stays fast. Exit codes: 0 ok, 1 failure, 2 bad usage or input; every exception that
reaches :func:`main` becomes one of them with one sentence (``evidence_review.failures``), and a
traceback only under ``-v``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback
from typing import Sequence

from evidence_review import __version__
from evidence_review.errors import EvidenceReviewError
from evidence_review.failures import explain

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
        code = int(args._run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at interpreter exit
        return code
    except KeyboardInterrupt:
        _say("interrupted: completed batches are kept; re-run the same command to resume")
        return 130
    except Exception as exc:  # the one place every failure becomes an exit code and a sentence
        failure = explain(exc, args)
        if isinstance(exc, BrokenPipeError):
            _silence_stdout()
        if args.verbose and (failure.internal or not isinstance(exc, EvidenceReviewError)):
            traceback.print_exc(file=sys.stderr)
        _say(f"error: {failure.message}")
        return failure.code


def _say(text: str) -> None:
    """Write to stderr even when it is a closed pipe (the exit code still tells)."""
    try:
        print(text, file=sys.stderr)
    except (OSError, ValueError):
        pass


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so Python's exit-time flush cannot raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
