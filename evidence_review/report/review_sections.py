"""Report sections for the review methods: risk of bias (and, when those stages ran, Summary of
Findings and the synthesis without meta-analysis). Kept apart from ``summary.py`` so each section
is built from its own table and the summary only places it.

Each ``*_md`` returns Markdown lines; each ``*_html`` returns HTML fragments (figures inlined as
SVG data URIs, like the rest of the page). A section whose table is absent renders nothing.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Callable

import pandas as pd

from evidence_review.report.layout import figure_html, figure_md

if TYPE_CHECKING:  # pragma: no cover
    from evidence_review.pipeline import ReportContext

ROB_VIEW_COLS = ("study", "tool", "outcome", "overall", "why", "domains (judgement)")


def rob_view(ctx: "ReportContext") -> pd.DataFrame:
    """One row per study (x outcome): tool, overall judgement and reason, every domain's judgement."""
    table = ctx.tables.get("risk_of_bias")
    ov = ctx.tables.get("risk_of_bias_overall")
    if table is None or ov is None:
        return pd.DataFrame(columns=ROB_VIEW_COLS)
    labels = ctx.facts.get("rob_labels") or {}
    rows = []
    for (sid, outcome), grp in table.groupby(["study_id", "outcome"], sort=False):
        body = grp[grp["domain"] != "Overall"]
        o = ov[(ov["study_id"] == sid) & (ov["outcome"] == outcome)].iloc[0]
        rows.append({"study": labels.get(sid, sid), "tool": grp["tool"].iloc[0], "outcome": outcome or "study level",
                     "overall": o["overall"], "why": o["overall_reason"],
                     "domains (judgement)": "; ".join(f"{d} {j}" for d, j in zip(body["domain"], body["judgement"]))})
    return pd.DataFrame(rows, columns=ROB_VIEW_COLS)


def rob_counts(ctx: "ReportContext") -> str:
    ov = ctx.tables.get("risk_of_bias_overall")
    table = ctx.tables.get("risk_of_bias")
    if ov is None or table is None:
        return ""
    from evidence_review.review.risk_of_bias import TOOLS
    per_tool = ov.groupby("tool")["study_id"].nunique().reindex([t for t in TOOLS if t in set(ov["tool"])])
    n_rows = int((table["domain"] != "Overall").sum())
    return (f"{ov['study_id'].nunique()} included reports assessed, {n_rows} domain judgements "
            f"({', '.join(f'{t}: {k}' for t, k in per_tool.items())}); overall: "
            + ", ".join(f"{lvl} {c}" for lvl, c in ov["overall"].value_counts().sort_index().items()) + ".")


def rob_md(ctx: "ReportContext", md_table: Callable[[pd.DataFrame], str]) -> list[str]:
    view = rob_view(ctx)
    if view.empty:
        return []
    out = ["## Risk of bias", "",
           rob_counts(ctx) + " Judgements, supports and locators: `tables/risk_of_bias.csv`; tools and rules: "
           "`docs/methods.md`.", "", md_table(view), ""]
    out += [ln for s in ctx.facts.get("rob_figures") or [] if (ctx.figures_dir / f"{s}.svg").is_file()
            for ln in figure_md(s)]
    return out + [""]


def rob_html(ctx: "ReportContext", html_table: Callable[..., str]) -> list[str]:
    view = rob_view(ctx)
    if view.empty:
        return []
    parts = ['<h2 id="risk-of-bias">Risk of bias</h2>', f"<p>{html.escape(rob_counts(ctx))}</p>",
             html_table(view, table_id="rob-table")]
    for stem in ctx.facts.get("rob_figures") or []:
        p = ctx.figures_dir / f"{stem}.svg"
        if p.is_file():
            parts.append(figure_html(p, stem, classes="fig rob"))
    return parts


SWIM_VIEW_COLS = ("group", "study_id", "design", "outcome", "timepoint", "n", "effect", "direction",
                  "interval_excludes_null", "risk_of_bias")


def _synthesis_parts(ctx: "ReportContext") -> tuple[str, pd.DataFrame, pd.DataFrame, pd.DataFrame] | None:
    audit = ctx.tables.get("comparability")
    sw = ctx.tables.get("swim")
    if audit is None or sw is None:
        return None
    pooled = int(audit["pooled"].astype(bool).sum())
    lead = (f"{len(audit)} comparability rules in the topic file; {pooled} passed. "
            + ("Nothing met the rules for pooling, so there is no meta-analysis; the results are synthesised "
               "without meta-analysis (SWiM) by direction of effect below. " if pooled == 0 else "")
            + "Intervals: exact (Clopper-Pearson) for single proportions, Newcombe hybrid score for risk "
              "differences, Wald for standardised mean differences and changes.")
    rules = audit[["analysis", "role", "k_selected", "pooled", "reason"]]
    tests = ctx.tables.get("swim_sign_tests", pd.DataFrame())
    return lead, rules, sw[list(SWIM_VIEW_COLS)], tests


def synthesis_md(ctx: "ReportContext", md_table: Callable[[pd.DataFrame], str]) -> list[str]:
    parts = _synthesis_parts(ctx)
    if parts is None:
        return []
    lead, rules, sw, tests = parts
    out = [lead, "", md_table(rules), "", f"### Synthesis without meta-analysis (SWiM): {ctx.topic.condition.label} symptoms", "", md_table(sw), ""]
    if not tests.empty:
        out += ["Sign test by direction of effect (two-sided exact binomial):", "", md_table(tests), ""]
    fig = ctx.facts.get("swim_figure")
    if fig and (ctx.figures_dir / f"{fig}.svg").is_file():
        out += figure_md(fig)
    return out


def synthesis_html(ctx: "ReportContext", html_table: Callable[..., str]) -> list[str]:
    parts = _synthesis_parts(ctx)
    if parts is None:
        return []
    lead, rules, sw, tests = parts
    out = [f"<p>{html.escape(lead)}</p>", html_table(rules, table_id="comparability-table"),
           f'<h3 id="swim">Synthesis without meta-analysis (SWiM): {html.escape(ctx.topic.condition.label)} symptoms</h3>', html_table(sw, table_id="swim-table")]
    if not tests.empty:
        out += ["<p>Sign test by direction of effect (two-sided exact binomial):</p>",
                html_table(tests, table_id="sign-test-table")]
    fig = ctx.facts.get("swim_figure")
    if fig and (ctx.figures_dir / f"{fig}.svg").is_file():
        out.append(figure_html(ctx.figures_dir / f"{fig}.svg", fig))
    return out


SOF_VIEW_COLS = ("outcome", "comparison", "studies (participants)", "effect (95% CI)", "certainty", "risk of bias",
                 "inconsistency", "indirectness", "imprecision", "publication bias", "what it means")


def sof_view(ctx: "ReportContext") -> pd.DataFrame:
    sof = ctx.tables.get("sof")
    if sof is None:
        return pd.DataFrame(columns=SOF_VIEW_COLS)
    rows = []
    for r in sof.to_dict("records"):
        rows.append({"outcome": r["outcome"], "comparison": r["comparison"],
                     "studies (participants)": f"{r['studies']} ({r['participants']})", "effect (95% CI)": r["effect"],
                     "certainty": str(r["certainty"]).upper() if r["certainty"] else "", "risk of bias": r["risk_of_bias"],
                     "inconsistency": r["inconsistency"], "indirectness": r["indirectness"],
                     "imprecision": r["imprecision"], "publication bias": r["publication_bias"],
                     "what it means": r["statement"]})
    return pd.DataFrame(rows, columns=SOF_VIEW_COLS)


SOF_LEAD = ("GRADE certainty per outcome and comparison, computed from the risk-of-bias table, the results and the "
            "topic's PICO (rules: `docs/methods.md`; every domain's reason: `tables/sof.csv`). Randomized evidence "
            "starts high, other evidence low; each serious concern moves one level down.")


def sof_md(ctx: "ReportContext", md_table: Callable[[pd.DataFrame], str]) -> list[str]:
    view = sof_view(ctx)
    if view.empty:
        return []
    return ["## Summary of findings", "", SOF_LEAD, "", md_table(view), ""]


def sof_html(ctx: "ReportContext", html_table: Callable[..., str]) -> list[str]:
    view = sof_view(ctx)
    if view.empty:
        return []
    lead = html.escape(SOF_LEAD).replace("`docs/methods.md`", "<code>docs/methods.md</code>").replace(
        "`tables/sof.csv`", "<code>tables/sof.csv</code>")
    return ['<h2 id="sof">Summary of findings</h2>', f"<p>{lead}</p>", html_table(view, table_id="sof-table")]
