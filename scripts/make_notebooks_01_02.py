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
        "The review runs offline on a committed snapshot of the ketamine/esketamine–OCD literature "
        "(`evidence/snapshot/`), built by `scripts/build_snapshot.py` from the compiled evidence facts. "
        "This notebook shows the topic (the PubMed query), the snapshot manifest, what is known and unknown, "
        "and the records by year and study design."
    ),
    new_code_cell(
        "from evidence_review import paths\n"
        "from evidence_review.review import design, snapshot\n"
        "from evidence_review.pipeline import ReportContext\n"
        "from evidence_review.review.screening import build_records_table\n"
        "from evidence_review.review.topic import load_topic"
    ),
    new_markdown_cell("## Topic: the PubMed query and the date window"),
    new_code_cell(
        "topic = load_topic(paths.evidence_dir() / 'topics' / 'ketamine_ocd.toml')\n"
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
    new_markdown_cell("## Records by publication year and study design (after reviewer overrides)"),
    new_code_cell(
        "table, prisma, _, agreement = build_records_table(ReportContext())\n"
        "design.design_by_year(table)"
    ),
    new_code_cell(
        "from evidence_review.review.design_chart import design_by_year_figure\n"
        "\n"
        "design_by_year_figure(table);"
    ),
    new_markdown_cell(
        "## Running a live pull and a refresh\n\n"
        "Not executed here (no network in tests). With network access, run from the project root:\n\n"
        "```bash\n"
        "export NCBI_EMAIL=you@example.org      # NCBI asks for a contact address; never written to any file\n"
        "export NCBI_API_KEY=...                # optional: 10 instead of 3 requests per second\n"
        "python -m evidence_review pull --help\n"
        "python -m evidence_review pull --topic evidence/topics/ketamine_ocd.toml\n"
        "python -m evidence_review refresh --help   # later: fetch only new / revised / withdrawn records\n"
        "```\n\n"
        "A live pull writes a new snapshot beside the committed one (it never overwrites it) with abstracts, "
        "PubMed publication types and MeSH filled in; the design rules and screening then read those fields. "
        "To rebuild the offline snapshot from the facts files instead:\n\n"
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
        "decision with a reason (rules plus `evidence/screening_decisions.csv`)."
    ),
    new_code_cell(
        "import pandas as pd\n"
        "from evidence_review import paths\n"
        "from evidence_review.review import design, screening\n"
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
    new_markdown_cell("## PRISMA 2020 counts and flow diagram"),
    new_code_cell("{k: prisma[k] for k in ('identified', 'duplicates_removed', 'screened', 'excluded_title_abstract', "
                  "'full_text_assessed', 'excluded_full_text', 'included')}"),
    new_code_cell("screening.prisma_figure(prisma);"),
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
