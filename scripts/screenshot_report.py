#!/usr/bin/env python
"""Render the first screen of reports/summary.html (1400x900, headless Chromium) to docs/img/report.png.

The README shows this picture; rerun after the report's layout changes:

    .venv/bin/python scripts/screenshot_report.py [--html reports/summary.html] [--out docs/img/report.png]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=ROOT / "reports" / "summary.html")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "report.png")
    args = parser.parse_args(argv)
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not browser:
        print("error: no Chromium found (Debian: apt-get install chromium)", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
               "--hide-scrollbars", "--window-size=1400,900", f"--screenshot={args.out}", args.html.resolve().as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or not args.out.is_file():
        print(f"error: Chromium failed: {done.stderr.strip()[-400:]}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
