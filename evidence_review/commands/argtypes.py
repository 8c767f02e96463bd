"""Argument types shared by the commands: a bad value is a usage error (exit 2) that names the option.

Why: ``--level 1.5`` once gave empty intervals with exit 0, and ``--add -1`` a negative variance; argparse
checks these before any work starts and prints the allowed range.
"""

from __future__ import annotations

import argparse
import math


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def confidence_level(text: str) -> float:
    """A confidence level strictly between 0 and 1 (0.95, not 95)."""
    value = _number(text)
    if not 0 < value < 1:
        hint = f" (did you mean {value / 100:g}?)" if 1 < value < 100 else ""
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, e.g. 0.95; got {text!r}{hint}")
    return value


def non_negative(text: str) -> float:
    """A finite number >= 0 (e.g. the zero-cell increment)."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """A whole number >= 1 (workers, jobs)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """A whole number >= 0 (days)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value
