#!/usr/bin/env python
"""Write notebooks/01_literature_pull.ipynb and 02_study_designs.ipynb (thin: cells call the package).

Outputs are empty and execution counts null, as committed. Rerun after editing the cells below.
"""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from evidence_review import paths
from evidence_review.notebook_tools import strip_file

NB01 = [
    new_markdown_cell(
        "# 01 · The literature behind the review\n\n"
        "By default the review runs offline on a committed snapshot of the ketamine/esketamine–OCD literature "
        "(`evidence/snapshot/`). No database search was run to build it: `scripts/build_snapshot.py` compiled it "
        "from the evidence facts (stored copies of public PubMed, PMC, journal and registry pages), and the "
        "report's methods and PRISMA diagram say so. The topic file holds the PubMed query a live pull runs. "
        "This notebook shows the topic, the snapshot manifest, what is known and unknown, how the records were "
        "identified, and the records by year and study design."
    ),
    new_code_cell(
        "from evidence_review import paths\n"
        "from evidence_review.review import design, snapshot\n"
        "from evidence_review.pipeline import ReportContext\n"
        "from evidence_review.review.screening import build_records_table\n"
        "from evidence_review.review.topic import load_topic"
    ),
    new_markdown_cell("## Topic: the PubMed query a live pull runs, and its date window"),
    new_code_cell(
        "topic = load_topic(paths.default_topic())\n"
        "print(topic.query)\n"
        "topic.pubmed_date_range, topic.outcome"
    ),
    new_markdown_cell("## Snapshot manifest: how it was compiled, source hashes, counts"),
    new_code_cell(
        "manifest = snapshot.load_manifest()\n"
        "{k: manifest[k] for k in ('compiled', 'how_compiled', 'sources', 'counts', 'secrets')}"
    ),
    new_markdown_cell("## What is unknown (left empty, never guessed)"),
    new_code_cell("manifest['unknown']"),
    new_markdown_cell("## The records (same columns as a live pull, plus study id and key)"),
    new_code_cell(
        "records = snapshot.load_records()\n"
        "records[['study_id', 'year', 'journal', 'key_source', 'pmid', 'doi', 'pmcid', 'nct_id', 'title']]"
    ),
    new_markdown_cell(
        "## How the records were identified\n\n"
        "The records stage describes each identification stream; for the offline snapshot there is one, "
        "compiled by hand, with `search_run` false (so the report shows no query)."
    ),
    new_code_cell(
        "table, prisma, _, agreement = build_records_table(ReportContext())\n"
        "[{k: v for k, v in s.items() if k != 'how_compiled'} for s in prisma['identification']['streams']]"
    ),
    new_markdown_cell("## Records by publication year and study design (after reviewer overrides)"),
    new_code_cell("design.design_by_year(table)"),
    new_code_cell(
        "from evidence_review.review.design_chart import design_by_year_figure\n"
        "\n"
        "design_by_year_figure(table);"
    ),
    new_markdown_cell(
        "## The living review: a live pull, the report on it, and next month's refresh\n\n"
        "Not executed here (no network in tests; `tests/review/test_living_review.py` runs the same loop "
        "against the loopback stand-in). From the project root:\n\n"
        "```bash\n"
        "export NCBI_EMAIL=you@example.org      # NCBI asks for a contact address; never written to any file\n"
        "export NCBI_API_KEY=...                # optional: 10 instead of 3 requests per second\n"
        "python -m evidence_review pull --topic evidence/topics/ketamine_ocd.toml --store store\n"
        "python -m evidence_review report --store store         # the whole report on the pull, in reports/\n"
        "# screen: fill reports/tables/screening_queue.csv, then\n"
        "python -m evidence_review screen --queue reports/tables/screening_queue.csv --reviewer AB\n"
        "python -m evidence_review refresh --store store                     # next month: new / revised / withdrawn\n"
        "python -m evidence_review report --store store         # 'What changed since <date>' near the top\n"
        "```\n\n"
        "A pull keeps its raw XML batches and manifest in the store folder (`store/snapshots/<pull_id>/`), "
        "never over the committed snapshot. `report --store` reads that pull's records (abstracts, PubMed "
        "publication types and MeSH filled in), matches each to a curated study by PMID, DOI, PMCID, registry id "
        "or title + year (`tables/record_matches.csv`), and the design rules and screening read those fields. "
        "See `docs/living-review.md`. To rebuild the offline snapshot from the facts files instead:\n\n"
        "```bash\n"
        ".venv/bin/python scripts/build_snapshot.py\n"
        "```"
    ),
]

NB02 = [
    new_markdown_cell(
        "# 02 · Study designs, screening and PRISMA\n\n"
        "Every record gets a design label from rules (publication types, MeSH, title/abstract cues), "
        "a reviewer's override where the rule is wrong (`evidence/design_overrides.csv`), and an include/exclude "
        "decision with a reason (rules plus `evidence/screening_decisions.csv`). Records a reviewer still has to "
        "see go to the screening queue."
    ),
    new_code_cell(
        "import pandas as pd\n"
        "from evidence_review import paths\n"
        "from evidence_review.review import design, queue, screening\n"
        "from evidence_review.pipeline import ReportContext\n"
        "from evidence_review.review.snapshot import load_records\n"
        "pd.set_option('display.max_colwidth', 120)\n"
        "pd.set_option('display.max_rows', 100)"
    ),
    new_code_cell(
        "table, prisma, manifest, agreement = screening.build_records_table(ReportContext())\n"
        "table[['study_id', 'year', 'design', 'design_confidence', 'design_source', 'design_reason']]"
    ),
    new_markdown_cell("## Agreement between rule labels and the reviewer's labels"),
    new_code_cell("{k: agreement[k] for k in ('n', 'agree', 'accuracy', 'kappa', 'overrides')}"),
    new_code_cell("design.agreement_frame(agreement)"),
    new_code_cell("design.confusion_frame(table['design_auto'], table['design'])"),
    new_markdown_cell("## The reviewer's overrides"),
    new_code_cell("design.load_overrides(paths.evidence_dir() / 'design_overrides.csv', load_records())"),
    new_markdown_cell("## Screening: included studies and exclusion reasons"),
    new_code_cell("table.loc[table['included'], ['study_id', 'year', 'design', 'screening_source']]"),
    new_code_cell("table.loc[~table['included'], ['study_id', 'design', 'screening_stage', 'exclusion_reason']]"),
    new_markdown_cell(
        "## The screening queue\n\n"
        "Each record's rule decision carries a confidence. A record that is not curated and has no reviewer "
        "decision goes to `reports/tables/screening_queue.csv` when the rules would include it (rules never "
        "include on their own), when the rule is uncertain (confidence below the threshold below), or when it "
        "is new since the previous run. Every snapshot record is curated, so offline the queue is empty; on a "
        "live pull (`report --store`) it is the reviewer's list. Fill `reviewer_decision`, `reviewer_reason` "
        "(and `reviewer_design` to relabel), then `python -m evidence_review screen --queue FILE`."
    ),
    new_code_cell("queue.UNCERTAIN_BELOW, list(queue.QUEUE_COLUMNS)"),
    new_code_cell("table[['study_id', 'curated', 'rule_decision', 'rule_confidence', 'queue_reason']].head(10)"),
    new_code_cell("queue.queue_frame(table)"),
    new_markdown_cell("## PRISMA 2020 counts and flow diagram"),
    new_code_cell("{k: prisma.get(k) for k in ('identified', 'duplicates_removed', 'screened', 'excluded_title_abstract', "
                  "'awaiting_screening', 'full_text_assessed', 'excluded_full_text', 'included')}"),
    new_code_cell("screening.prisma_figure(prisma);"),
    new_markdown_cell(
        "## Risk of bias\n\n"
        "One curated row per study x domain (x outcome for RoB 2) in `evidence/risk_of_bias.csv`: RoB 2 (with the "
        "crossover variant's period and carry-over domain) for randomized trials, ROBINS-I for non-randomized "
        "comparisons, JBI checklists for uncontrolled trials, case series and case reports. Each judgement has a "
        "support sentence and a source locator; the overall judgement follows each tool's rule (`docs/methods.md`)."
    ),
    new_code_cell(
        "from evidence_review.review import risk_of_bias, rob_plots\n"
        "rob = risk_of_bias.load(paths.evidence_dir() / 'risk_of_bias.csv', risk_of_bias.included_study_ids(table))\n"
        "overall = risk_of_bias.overall(rob)\n"
        "overall[['study_id', 'tool', 'outcome', 'overall', 'overall_reason']]"
    ),
    new_code_cell(
        "risk_of_bias.output_table(rob, overall)[['study_id', 'tool', 'domain', 'domain_name', 'judgement', 'support', "
        "'source']]"
    ),
    new_markdown_cell("### Traffic-light plot (every judgement) and weighted summary (share of participants)"),
    new_code_cell(
        "facts = paths.evidence_facts_dir() / 'studies.jsonl'\n"
        "labels = rob_plots.study_labels(facts, sorted(set(rob['study_id'])))\n"
        "rob_plots.traffic_light(rob, overall, labels);"
    ),
    new_code_cell("rob_plots.weighted_summary(rob, overall, risk_of_bias.participants(facts));"),
]


def main() -> int:
    out = paths.project_root() / "notebooks"
    for name, cells in (("01_literature_pull.ipynb", NB01), ("02_study_designs.ipynb", NB02)):
        nb = new_notebook(cells=cells)
        for i, cell in enumerate(nb.cells):
            cell.id = f"{name[:2]}-cell-{i:02d}"  # fixed ids: rerunning the script gives the same file
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        path = out / name
        nbformat.write(nb, path)
        strip_file(path)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
