"""Settings read from the environment, checked where they are read.

Why: a mistyped value (``EVIDENCE_REVIEW_EUTILS_TIMEOUT=abc``, a base URL without ``https://``) must stop
the command with a sentence naming the variable, not a Python traceback deep inside a client.
Shared ground: imports nothing from the stages.
"""

from __future__ import annotations

import math
import os
import urllib.parse

from evidence_review.errors import InputError


def env_float(name: str, default: float, *, minimum: float = 0.0, maximum: float = math.inf,
              strict_minimum: bool = False) -> float:
    """A number from ``name`` (``default`` when unset or blank), finite and within [minimum, maximum]."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"environment setting {name}={text!r} is not a number; set a number "
                         f"(e.g. {name}={default:g}) or unset it for the default {default:g}") from None
    low_ok = value > minimum if strict_minimum else value >= minimum
    if not math.isfinite(value) or not low_ok or value > maximum:
        bound = f"> {minimum:g}" if strict_minimum else f">= {minimum:g}"
        upper = f" and <= {maximum:g}" if math.isfinite(maximum) else ""
        raise InputError(f"environment setting {name}={text!r} is out of range; it must be {bound}{upper} "
                         f"(unset it for the default {default:g})")
    return value


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int = 2**31) -> int:
    """A whole number from ``name`` (``default`` when unset or blank), within [minimum, maximum]."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"environment setting {name}={text!r} is not a whole number; set one "
                         f"(e.g. {name}={default}) or unset it for the default {default}") from None
    if not minimum <= value <= maximum:
        raise InputError(f"environment setting {name}={text!r} is out of range; it must be between "
                         f"{minimum} and {maximum} (unset it for the default {default})")
    return value


def check_base_url(url: str, setting: str) -> str:
    """An http(s) URL with a host, or an error naming the setting that gave it."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"environment setting {setting}={url!r} is not an http(s) URL; set it to e.g. "
                         "https://host/path/ or unset it for the default")
    return url.strip()
