"""`evidence-review pull`: search PubMed and store every record in a new, immutable snapshot."""

from __future__ import annotations

import argparse

HELP = "search PubMed (E-utilities) and store the records in a resumable, immutable snapshot"


def _batch_size(text: str) -> int:
    from evidence_review.pubmed.pull import MAX_BATCH_SIZE

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= MAX_BATCH_SIZE:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_BATCH_SIZE}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--query", help="PubMed query string")
    what.add_argument("--topic", metavar="FILE", help="topic file (TOML); its query and date window are used")
    parser.add_argument("--store", default="store", metavar="DIR",
                        help="store folder (created if missing); default ./store (git-ignored)")
    parser.add_argument("--batch-size", type=_batch_size, default=500, metavar="N",
                        help="records per efetch request (default 500, max 10000)")
    parser.add_argument("--workers", type=int, default=3, metavar="N",
                        help="concurrent efetch requests, all under the shared rate limit (default 3)")
    parser.epilog = ("Re-running the same command after an interruption fetches only the missing batches. "
                     "Environment: NCBI_EUTILS_URL, NCBI_API_KEY, NCBI_EMAIL.")


def run(args: argparse.Namespace) -> int:
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
    print(f"snapshot: {res.snapshot}")
    return 0
