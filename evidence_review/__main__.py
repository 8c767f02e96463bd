"""`python -m evidence_review <command>`."""

from evidence_review.cli import main

raise SystemExit(main())
