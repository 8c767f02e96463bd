"""The order of ``summary.md`` and ``summary.html``: the answer first, the detail after.

1. title; "What changed since <date>" (only when a baseline run exists - the living-review headline);
2. the bottom line (3-5 generated sentences); a table of contents;
3. Summary of Findings; the verdicts of the therapeutic claims by certainty, disclaimers and logistics apart;
4. evidence at a glance, studies, outcomes, registers, risk of bias, pooled results and synthesis;
5. the claims of each clinic page (named by its title line), reasons folded; methods and provenance.

Both files follow the same order and are built from the same :class:`PageData`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evidence_review.claims.verdicts import VERDICTS
from evidence_review.report import claims_section, registers_section, review_sections
from evidence_review.report.layout import (CSS, SCRIPT, figure_html, figure_md, html_table, md_table, toc_html,
                                           toc_md)
from evidence_review.report.methods_section import methods_lines


@dataclass
class PageData:
    ctx: Any
    glance: dict
    studies: pd.DataFrame
    outcomes: pd.DataFrame
    pooled: pd.DataFrame
    claims: pd.DataFrame
    versions: dict
    labels: dict        # study_id -> "First author year"
    pages: dict         # seed file -> title line


def _summary():  # late import: summary imports this module
    from evidence_review.report import summary

    return summary


def _changes(d: PageData) -> tuple[list[str], list[str]]:
    """(lines for the top of the page, lines for the methods): a first run has nothing to compare with."""
    ch = d.ctx.facts.get("changes")
    if not ch:
        return [], []
    if ch.get("since"):
        return _summary().changes_lines(ch), []
    return [], [f"- Living review: first run saved with this report ({ch['run']['label']}); the next run reports "
                "what changed since this one."]


def _figures(d: PageData, stems: list[str]) -> list[str]:
    return [s for s in stems if (d.ctx.figures_dir / f"{s}.svg").is_file()]


def _verdict_line(claims: pd.DataFrame) -> str:
    vc = claims["verdict"].value_counts().reindex(list(VERDICTS), fill_value=0)
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in vc.items())


# ------------------------------------------------------------------------------------------ Markdown

def render_markdown(d: PageData) -> str:
    ctx, g, s = d.ctx, d.glance, _summary()
    top, note = _changes(d)
    sof = ctx.tables.get("sof")
    tab = lambda df, cols=None: md_table(df, cols, labels=d.labels)  # noqa: E731
    head = [f"# {ctx.topic.report_title}", "", *top,
            "## Bottom line", "", " ".join(claims_section.bottom_line(sof, d.claims, ctx.facts.get("changes"), d.labels)), ""]
    body: list[str] = []
    body += review_sections.sof_md(ctx, tab)
    body += ["## Verdicts by certainty", "", _verdict_lead(d.claims), "",
             md_table(claims_section.verdict_certainty(d.claims)), ""]
    for stem in _figures(d, ["verdicts_by_category", "verdicts_by_clinic"]):
        body += figure_md(stem)
    body += ["## Evidence at a glance", "",
             f"- Records: **{g['source']}**; records identified {g['identified']}, screened {g['screened']}, "
             f"{s.glance_lines(g)[0]}.",
             f"- {s.glance_lines(g)[1]}.", "",
             md_table(pd.DataFrame({"design": [x.replace("_", " ") for x in g["by_design"].index],
                                    "studies": g["by_design"].values})), ""]
    body += [ln for stem in _figures(d, ["prisma"]) for ln in figure_md(stem)]
    body += ["## Studies", "", tab(d.studies, s.STUDY_COLS) if not d.studies.empty else "_no studies_", ""]
    body += ["## Outcomes and effects", "", "One outcome per row; effects with 95% confidence intervals.", "",
             tab(d.outcomes) if not d.outcomes.empty else "_no effect sizes_", ""]
    body += registers_section.registers_md(ctx, tab)
    body += review_sections.rob_md(ctx, tab)
    body += ["## Pooled results", "", tab(d.pooled) if not d.pooled.empty else "_nothing pooled_", ""]
    body += review_sections.synthesis_md(ctx, tab)
    for stem in _figures(d, list(ctx.facts.get("forest_plots") or [])):
        body += figure_md(stem)
    body += ["## Claims by clinic page", "", f"{len(d.claims)} claims from {d.claims['seed_file'].nunique()} clinic "
             f"pages: {_verdict_line(d.claims)}.", ""]
    view = claims_section.claims_view(d.claims, d.labels)
    for seed, grp in view.groupby("seed_file", sort=True):
        grp = grp.assign(reason=[claims_section.reason_md(r, x) for r, x in zip(grp["reason"], grp["downgrades"])])
        body += [f"### {d.pages.get(seed, seed)}", "", f"Page file `{seed}`.", "",
                 md_table(grp, claims_section.CLAIM_VIEW_COLS), ""]
    meth = methods_lines(ctx, g, d.claims, ctx.topic, d.versions)
    body += meth[:-1] + note + [""]
    return "\n".join(head + toc_md(head[2:] + body) + body) + "\n"


def _verdict_lead(claims: pd.DataFrame) -> str:
    ther, apart = claims_section.split_claims(claims)
    return (f"{len(ther)} therapeutic claims (what the treatment does) by verdict and certainty; the last column "
            f"counts the {len(apart)} disclaimers and logistics apart "
            f"({', '.join(claims_section.APART.values())}), which say nothing about whether it works.")


# ---------------------------------------------------------------------------------------------- HTML

def render_html(d: PageData) -> str:
    ctx, g, s, e = d.ctx, d.glance, _summary(), html.escape
    top, note = _changes(d)
    sof = ctx.tables.get("sof")
    tab = lambda df, cols=None, **kw: html_table(df, cols, labels=d.labels, **kw)  # noqa: E731
    bottom = claims_section.bottom_line(sof, d.claims, ctx.facts.get("changes"), d.labels)
    head = [f"<h1>{e(ctx.topic.report_title)}</h1>", *s.changes_html(top),
            '<section id="bottom-line"><h2 id="bottom-line-h">Bottom line</h2>',
            *(f"<p>{e(x)}</p>" for x in bottom), "</section>"]
    body: list[str] = []
    body += review_sections.sof_html(ctx, tab)
    body += ['<h2 id="verdicts">Verdicts by certainty</h2>', f"<p>{e(_verdict_lead(d.claims))}</p>",
             html_table(claims_section.verdict_certainty(d.claims), table_id="verdict-certainty-table")]
    for stem in _figures(d, ["verdicts_by_category", "verdicts_by_clinic"]):
        body.append(figure_html(ctx.figures_dir / f"{stem}.svg", stem))
    body += ['<h2 id="glance">Evidence at a glance</h2>',
             f"<p>Records: <b>{e(str(g['source']))}</b>; records identified {e(str(g['identified']))}, "
             f"screened {e(str(g['screened']))}, " + s._bold_html(s.glance_lines(g)[0]) + "; "
             + s._bold_html(s.glance_lines(g)[1][0].lower() + s.glance_lines(g)[1][1:]) + ".</p>",
             html_table(pd.DataFrame({"design": [x.replace("_", " ") for x in g["by_design"].index],
                                      "studies": g["by_design"].values}), table_id="design-table")]
    body += [figure_html(ctx.figures_dir / "prisma.svg", "prisma") for _ in _figures(d, ["prisma"])]
    body += ['<h2 id="studies">Studies</h2>',
             tab(d.studies, s.STUDY_COLS, table_id="study-table") if not d.studies.empty else "<p>no studies</p>",
             '<h2 id="outcomes">Outcomes and effects</h2>',
             "<p>One outcome per row; effects with 95% confidence intervals.</p>",
             tab(d.outcomes, table_id="outcome-table") if not d.outcomes.empty else "<p>no effect sizes</p>"]
    body += registers_section.registers_html(ctx, tab)
    body += review_sections.rob_html(ctx, tab)
    body += ['<h2 id="pooled">Pooled results</h2>',
             tab(d.pooled, table_id="pooled-table") if not d.pooled.empty else "<p>nothing pooled</p>"]
    body += review_sections.synthesis_html(ctx, tab)
    for stem in _figures(d, list(ctx.facts.get("forest_plots") or [])):
        body.append(figure_html(ctx.figures_dir / f"{stem}.svg", stem, classes="fig forest"))
    body += ['<h2 id="claims">Claims by clinic page</h2>',
             f"<p>{len(d.claims)} claims from {d.claims['seed_file'].nunique()} clinic pages: "
             f"{e(_verdict_line(d.claims))}. Each reason is one line; click it for the full reason and the "
             "certainty downgrades.</p>", '<div id="claims-table-all">']
    view = claims_section.claims_view(d.claims, d.labels)
    for i, (seed, grp) in enumerate(view.groupby("seed_file", sort=True)):
        body += [f'<h3 id="page-{i + 1}">{e(d.pages.get(seed, seed))} <span class="muted">({e(seed)})</span></h3>',
                 claims_section.claims_html_table(grp, f"claims-page-{i + 1}")]
    body.append("</div>")
    meth = methods_lines(ctx, g, d.claims, ctx.topic, d.versions) + note
    body.append('<h2 id="methods">Methods and provenance</h2><ul>')
    for line in meth[2:]:
        if line.startswith("- "):
            body.append("<li>" + re.sub(r"`([^`]*)`", r"<code>\1</code>", e(line[2:])) + "</li>")
    body.append("</ul>")
    main = "\n".join(body)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{e(ctx.topic.report_title)}</title>", f"<style>{CSS}</style></head><body>",
             *head, toc_html(main), main, f"<script>{SCRIPT}</script>", "</body></html>"]
    return "\n".join(parts) + "\n"
