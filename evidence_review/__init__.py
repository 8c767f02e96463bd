"""evidence-review: check health claims against the published literature.

Stages (one module each, data flows one way; see README "Architecture"):

    topic        evidence_review.review.topic        topic file (query, criteria, claims file)
    entrez       evidence_review.pubmed.client       polite E-utilities client (rate limit, retries)
    pull         evidence_review.pubmed.pull         esearch/efetch into an immutable snapshot; refresh
    pubmed_xml   evidence_review.pubmed.parser   streaming PubMed XML -> records (dicts / DataFrame)
    records_io   evidence_review.pubmed.records_io   streaming records-table writer (CSV/Parquet, parallel parse)
    store        evidence_review.pubmed.store        SQLite evidence store (records, versions, pulls)
    snapshot     evidence_review.review.snapshot     the committed offline snapshot under evidence/
    design       evidence_review.review.design       study-design classifier + curated overrides
    screening    evidence_review.review.screening    include/exclude + PRISMA 2020 counts and diagram
    extraction   evidence_review.stats.extraction   validated extraction table (metafor column names)
    effects      evidence_review.stats.effects      effect sizes (yi, vi) - pure functions
    meta         evidence_review.stats.meta         fixed/random-effects meta-analysis - pure functions
    forest       evidence_review.stats.forest       forest plots
    claims       evidence_review.claims.registry       claims registry and claim finder
    verdicts     evidence_review.claims.verdicts     verdict + certainty rules
    summary      evidence_review.report.summary      summary.md / summary.html
    pipeline     evidence_review.pipeline     the main job: runs the stages above into reports/

Support: synthetic_pubmed (synthetic PubMed XML for tests/benchmarks), evidence_base (facts the verdict
rules query), atomic / tables / figures (deterministic, atomic outputs), paths, errors, notebook_tools.
"""

__version__ = "0.1.0"
