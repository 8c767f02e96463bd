"""`evidence-review pull`: search PubMed or a trial register and store every record in a new, immutable snapshot."""

from __future__ import annotations

import argparse

from evidence_review.commands.argtypes import positive_int

HELP = "search PubMed (E-utilities) or ClinicalTrials.gov and store the records in a resumable, immutable snapshot"
SOURCES = ("pubmed", "clinicaltrials")


def _batch_size(text: str) -> int:
    from evidence_review.pubmed.pull import MAX_BATCH_SIZE

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= MAX_BATCH_SIZE:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_BATCH_SIZE}")
    return value


def _page_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError("must be between 1 and 1000")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", choices=SOURCES, default="pubmed",
                        help="where to search: pubmed (default) or clinicaltrials (ClinicalTrials.gov API v2)")
    parser.add_argument("--query", help="PubMed query string (--source pubmed)")
    parser.add_argument("--topic", metavar="FILE",
                        help="topic file (TOML): its query and date window, or its [registers] search")
    reg = parser.add_argument_group("registry search (--source clinicaltrials; ANDed)")
    reg.add_argument("--cond", help="condition terms (query.cond)")
    reg.add_argument("--intr", help="intervention terms (query.intr)")
    reg.add_argument("--term", help="any-field terms (query.term)")
    reg.add_argument("--page-size", type=_page_size, default=100, metavar="N",
                     help="studies per registry page (default 100, max 1000)")
    parser.add_argument("--store", default="store", metavar="DIR",
                        help="store folder (created if missing); default ./store (git-ignored)")
    parser.add_argument("--batch-size", type=_batch_size, default=500, metavar="N",
                        help="records per efetch request (default 500, max 10000)")
    parser.add_argument("--workers", type=positive_int, default=3, metavar="N",
                        help="concurrent efetch requests, all under the shared rate limit (default 3)")
    parser.epilog = ("Re-running the same command after an interruption fetches only what is missing. "
                     "Environment: NCBI_EUTILS_URL, NCBI_API_KEY, NCBI_EMAIL; CTGOV_API_URL, CTGOV_RATE.")


def run(args: argparse.Namespace) -> int:
    from evidence_review.errors import InputError

    registry_terms = any(getattr(args, k) for k in ("cond", "intr", "term"))
    if args.source == "clinicaltrials":
        if args.query:
            raise InputError("--query is a PubMed query; with --source clinicaltrials use --cond/--intr/--term",
                             field="query")
        if bool(args.topic) == registry_terms:
            raise InputError("give either --topic or --cond/--intr/--term", field="topic")
        return _run_registry(args)
    if registry_terms:
        raise InputError("--cond/--intr/--term need --source clinicaltrials", field="source")
    if bool(args.query) == bool(args.topic):
        raise InputError("give either --query or --topic", field="query")
    return _run_pubmed(args)


def _run_pubmed(args: argparse.Namespace) -> int:
    from evidence_review.pubmed.pull import pull

    topic_name, date_range = None, None
    query = args.query
    if args.topic:
        from evidence_review.review.topic import load_topic

        topic = load_topic(args.topic)
        query, topic_name, date_range = topic.query, topic.name, topic.pubmed_date_range
    res = pull(args.store, query, batch_size=args.batch_size, topic=topic_name, date_range=date_range,
               workers=args.workers)
    how = "resumed" if res.resumed else "new"
    print(f"pull {res.pull_id} ({how}): {res.n_pmids} PMIDs (count {res.count}) in {res.batches_total} batches; "
          f"fetched {res.batches_fetched}, reused {res.batches_reused} from disk, {res.requests} requests")
    if res.missing:
        print(f"warning: {len(res.missing)} PMIDs listed by esearch were not returned by efetch "
              f"(see missing_pmids in the manifest)")
    if res.diff:
        print(f"since pull {res.diff['parent_pull_id']}: {len(res.diff['withdrawn'])} PMIDs the query no longer "
              "returns, marked withdrawn")
    print(f"snapshot: {res.snapshot}")
    return 0


def _run_registry(args: argparse.Namespace) -> int:
    from evidence_review.errors import InputError
    from evidence_review.registers.client import search_params
    from evidence_review.registers.pull import pull

    topic_name = None
    cond, intr, term = args.cond, args.intr, args.term
    if args.topic:
        from evidence_review.review.topic import load_topic

        topic = load_topic(args.topic)
        if topic.registers is None:
            raise InputError("the topic file has no [registers] table (cond / intr / term)", file=args.topic,
                             field="registers")
        cond, intr, term, topic_name = topic.registers.cond, topic.registers.intr, topic.registers.term, topic.name
    res = pull(args.store, search_params(cond=cond, intr=intr, term=term), page_size=args.page_size,
               topic=topic_name)
    how = "resumed" if res.resumed else "new"
    print(f"registry pull {res.pull_id} ({how}): {res.n_studies} studies (totalCount {res.total}) in "
          f"{res.pages} pages, {res.requests} requests")
    for w in res.warnings:
        print(f"warning: {w}")
    print(f"snapshot: {res.snapshot}")
    return 0
