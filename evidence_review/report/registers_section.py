"""Report section for the trial registers: the register stream of PRISMA, the ongoing trials, the trials
awaiting classification and the non-publication table. Built from the ``registers`` stage's tables
(``ctx.tables['registrations']`` / ``['non_publication']``, ``ctx.facts['register_stream']``); renders
nothing when that stage did not run. Kept apart from ``summary.py``, which only places it.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Callable

import pandas as pd

from evidence_review.report.layout import figure_html, figure_md

if TYPE_CHECKING:  # pragma: no cover
    from evidence_review.pipeline import ReportContext

ONGOING_COLS = ("registry_id", "title", "overall_status", "phase", "enrollment", "start_date", "completion_date",
                "linked_reports")
AWAITING_COLS = ("registry_id", "title", "overall_status", "completion_date", "results_posted", "stream_reason")
NONPUB_COLS = ("registry_id", "title", "overall_status", "completion_date", "years_since_end", "enrollment",
               "results_posted", "reason")


def _views(ctx: "ReportContext") -> tuple[dict, pd.DataFrame, pd.DataFrame, pd.DataFrame] | None:
    stream, reg = ctx.facts.get("register_stream"), ctx.tables.get("registrations")
    if stream is None or reg is None:
        return None
    ongoing = reg.loc[reg["stream_class"] == "ongoing", list(ONGOING_COLS)]
    awaiting = reg.loc[reg["stream_class"] == "awaiting_classification", list(AWAITING_COLS)]
    nonpub = ctx.tables.get("non_publication", pd.DataFrame(columns=NONPUB_COLS))[list(NONPUB_COLS)]
    return stream, *(_blank_na(v) for v in (ongoing, awaiting, nonpub))


def _blank_na(df: pd.DataFrame) -> pd.DataFrame:
    """Unknown numbers (e.g. an enrollment the registry page did not show) print as empty cells."""
    return df.astype(object).where(df.notna(), "").reset_index(drop=True)


def _stream_line(s: dict) -> str:
    by = ", ".join(f"{k} {v}" for k, v in s["identified_by_registry"].items())
    return (f"{s['identified']} registrations identified from registers ({by}), as of {s['as_of']}: "
            f"{s['reported']} reported (counted through their reports), {s['ongoing']} ongoing, "
            f"{s['awaiting_classification']} awaiting classification, {s['non_publication']} ended more than "
            f"{s['non_publication_years']} years ago with neither results nor a report")


def registers_md(ctx: "ReportContext", md_table: Callable[..., str]) -> list[str]:
    views = _views(ctx)
    if views is None:
        return []
    s, ongoing, awaiting, nonpub = views
    out = ["## Trial registers", "", _stream_line(s) + ".", ""]
    if (ctx.figures_dir / "prisma_registers.svg").is_file():
        out += figure_md("prisma_registers")
    out += ["### Ongoing trials", "", md_table(ongoing) if len(ongoing) else "_none_", ""]
    out += ["### Awaiting classification", "", md_table(awaiting) if len(awaiting) else "_none_", ""]
    out += [f"### Non-publication (ended > {s['non_publication_years']} years ago, no results, no report)", "",
            md_table(nonpub) if len(nonpub) else "_none among the registrations searched_", ""]
    return out


def registers_html(ctx: "ReportContext", html_table: Callable[..., str]) -> list[str]:
    views = _views(ctx)
    if views is None:
        return []
    s, ongoing, awaiting, nonpub = views
    e = html.escape
    parts = ['<h2 id="registers">Trial registers</h2>', f"<p>{e(_stream_line(s))}.</p>"]
    svg = ctx.figures_dir / "prisma_registers.svg"
    if svg.is_file():
        parts.append(figure_html(svg, "prisma_registers"))
    parts += ["<h3>Ongoing trials</h3>", html_table(ongoing, table_id="ongoing-table") if len(ongoing) else "<p>none</p>"]
    parts += ["<h3>Awaiting classification</h3>",
              html_table(awaiting, table_id="awaiting-table") if len(awaiting) else "<p>none</p>"]
    parts += [f"<h3>Non-publication (ended &gt; {s['non_publication_years']} years ago, no results, no report)</h3>",
              html_table(nonpub, table_id="non-publication-table") if len(nonpub)
              else "<p>none among the registrations searched</p>"]
    return parts
