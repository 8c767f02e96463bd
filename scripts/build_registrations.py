#!/usr/bin/env python
"""Build the offline registrations (evidence/registers/registrations.json) from the evidence facts.

The trial registrations of ../shared/evidence-facts/studies.jsonl become ClinicalTrials.gov API v2-shaped
studies (see evidence_review.registers.offline), so the review reads them through the same code as a
live registry pull. Deterministic: the same facts give byte-identical output.

    .venv/bin/python scripts/build_registrations.py [--facts DIR] [--out FILE] [--compiled YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import json

from evidence_review import paths
from evidence_review.atomic import atomic_write_text
from evidence_review.registers.offline import build_offline
from evidence_review.review.registers import registrations_vocabulary
from evidence_review.review.topic import load_topic

COMPILED = "2026-11-21"  # the date the evidence facts were compiled (their README)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", default=str(paths.evidence_facts_dir()), help="evidence-facts folder")
    parser.add_argument("--out", default=str(paths.evidence_dir() / "registers" / "registrations.json"))
    parser.add_argument("--compiled", default=COMPILED, help="date the facts were compiled (YYYY-MM-DD)")
    parser.add_argument("--topic", default=str(paths.default_topic()), help="topic file (its registration vocabulary)")
    args = parser.parse_args(argv)
    doc = build_offline(args.facts, args.compiled, registrations_vocabulary(load_topic(args.topic)))
    atomic_write_text(args.out, json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"wrote {args.out} ({len(doc['studies'])} registrations)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
