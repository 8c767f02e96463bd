"""The pipeline's "summary" stage: ``reports/summary.md`` and a self-contained ``reports/summary.html``.

Both are built from the tables earlier stages left in the context (records, PRISMA, effects, pooled,
claims) - nothing is recomputed here. The HTML embeds every figure as a ``data:image/svg+xml``
URI (SVG text is the same on every platform, unlike rasterised PNG bytes), uses no external file,
font or script source, and carries no clock time: the same inputs give the same bytes.
"""

from __future__ import annotations

import html
import importlib.metadata
import platform
import re
from typing import TYPE_CHECKING, Any, Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from evidence_review import __version__  # noqa: E402
from evidence_review.atomic import atomic_write_text  # noqa: E402
from evidence_review.claims.evidence_base import PRIMARY_DESIGNS, RCT_DESIGNS, count_once  # noqa: E402
from evidence_review.claims.verdicts import VERDICTS  # noqa: E402
from evidence_review.figures import save_figure  # noqa: E402
from evidence_review.report import page  # noqa: E402
from evidence_review.report.layout import CSS, html_table, md_table  # noqa: E402,F401  (re-exported)
from evidence_review.report.readable import page_titles, study_label, study_labels  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from evidence_review.pipeline import ReportContext

VERDICT_COLOURS = {
    "supported": "#1b7837", "partly_supported": "#a6dba0", "not_supported": "#f4a582",
    "contradicted": "#b2182b", "no_evidence": "#bababa", "not_testable": "#e0e0e0",
}
LIBRARIES = ("pandas", "numpy", "scipy", "statsmodels", "matplotlib", "lxml", "requests")


# ------------------------------------------------------------------------------------------- data

def _included(ctx: "ReportContext") -> pd.DataFrame:
    eb = ctx.facts.get("evidence_base")
    if eb is None:
        return pd.DataFrame()
    st = eb.studies[eb.studies["included"].astype(bool) & eb.studies["design"].isin(PRIMARY_DESIGNS)]
    return st.sort_values(["year", "study_id"], kind="mergesort")


def _identifiers(s: Any) -> str:
    """'PMID:123; DOI:10.x/y; PMC4; NCT0...' - what the HTML and Markdown renderers turn into links."""
    ids = [f"PMID:{s['pmid']}" if s.get("pmid") else "", str(s.get("pmcid") or ""),
           f"DOI:{s['doi']}" if s.get("doi") else "", str(s.get("nct_id") or "")]
    ids = [i for i in ids if i]
    return "; ".join(ids) if ids else str(s.get("source_url") or "")


def study_table(ctx: "ReportContext") -> pd.DataFrame:
    """Included primary studies, one row each: design, n, population, dosing, comparator, identifiers."""
    st = _included(ctx)
    rows = []
    for sid, s in st.iterrows():
        dose_route = ", ".join(x for x in (s["drug"], s["dose"], s["route"], s["n_infusions"] and f"{s['n_infusions']} dose(s)") if x)
        rows.append({
            "study": _study_label(s, sid),
            "study_id": sid, "study_group": s.get("study_group") or sid,
            "design": str(s.get("study_design") or s["design"]).replace("_", " "), "report": s.get("report_type") or "",
            "n": "" if pd.isna(s["n"]) else int(s["n"]),
            "population": _short(re.sub(r"^n: \d+; ", "", str(s["population"])).replace("_", " "), 90),
            "dose / route": _short(dose_route, 90), "comparator": _short(s["control"] or "none", 50),
            "identifiers": _identifiers(s),
        })
    return pd.DataFrame(rows)


STUDY_COLS = ("study", "design", "report", "n", "population", "dose / route", "comparator", "identifiers")
OUTCOME_COLS = ("study", "outcome", "timepoint", "effect (95% CI)", "source")


def outcome_table(ctx: "ReportContext", studies: pd.DataFrame) -> pd.DataFrame:
    """One outcome per row: each effect size of the included studies, with its source."""
    effects = ctx.tables.get("effects", pd.DataFrame())
    if effects is None or effects.empty or studies.empty:
        return pd.DataFrame(columns=OUTCOME_COLS)
    label = dict(zip(studies["study_id"], studies["study"]))
    order = {sid: i for i, sid in enumerate(studies["study_id"])}
    eff = effects[effects["study_id"].isin(order)].copy()
    eff["_o"] = eff["study_id"].map(order)
    rows = [{"study": label[r["study_id"]], "outcome": r["outcome"], "timepoint": r["timepoint"],
             "effect (95% CI)": r["effect_label"], "source": r["source"]}
            for r in eff.sort_values("_o", kind="mergesort").to_dict("records")]
    return pd.DataFrame(rows, columns=OUTCOME_COLS)


def _short(text: Any, n: int) -> str:
    text = re.sub(r"\s+", " ", str(text or "")).strip()
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def glance(ctx: "ReportContext", studies: pd.DataFrame) -> dict[str, Any]:
    """Headline counts: reports vs studies, participants once per study, and randomized trials split by
    whether they gave outcome data (a stopped trial with none is listed, never counted as evidence)."""
    manifest = ctx.facts.get("snapshot_manifest") or {}
    prisma = ctx.facts.get("prisma") or {}
    eb = ctx.facts.get("evidence_base")
    st = pd.DataFrame()
    if eb is not None and not studies.empty:
        st = eb.studies[eb.studies["study_id"].isin(set(studies["study_id"]))]
    once = count_once(st) if not st.empty else {"reports": 0, "studies": 0, "participants": 0, "unknown_n": 0}
    parents = st[st["study_id"] == st["study_group"]] if not st.empty else st
    by_design = parents["design"].value_counts().sort_index() if not parents.empty else pd.Series(dtype=int)
    extraction = ctx.tables.get("extraction")
    with_data = set(extraction["study_id"].astype(str)) if extraction is not None and "study_id" in extraction else set()
    rct = parents[parents["design"].isin(RCT_DESIGNS)] if not parents.empty else parents
    rct_data = rct[rct["study_id"].isin(with_data)] if not rct.empty else rct
    no_data = []
    for sid, r in (rct[~rct["study_id"].isin(with_data)].iterrows() if not rct.empty else []):
        size = "n not reported" if pd.isna(r["n"]) else f"n = {int(r['n'])}"
        kind = f"{r['report_type']}; " if r.get("report_type") and r["report_type"] != "journal article" else ""
        no_data.append(f"{_study_label(r, sid)} ({kind}{size})")
    return {
        "snapshot_date": manifest.get("compiled") or manifest.get("snapshot_date") or "unknown",
        "source": (ctx.facts.get("identification") or {}).get("label")
        or f"offline snapshot compiled {manifest.get('compiled') or 'unknown'}",
        "identified": prisma.get("identified", ""), "screened": prisma.get("screened", ""),
        "included": prisma.get("included_studies", once["studies"]),
        "reports": prisma.get("included_reports", once["reports"]), "by_design": by_design,
        "participants": once["participants"], "unknown_n": once["unknown_n"],
        "rct_k": len(rct), "rct_data_k": len(rct_data), "rct_n": count_once(rct_data)["participants"] if len(rct_data) else 0,
        "rct_no_data": no_data,
    }


def glance_lines(g: dict[str, Any]) -> tuple[str, str]:
    """The two headline sentences (markdown bold; the HTML renderer swaps the markers)."""
    unknown = (f"; {g['unknown_n']} {'study does not report its' if g['unknown_n'] == 1 else 'studies do not report their'} size"
               if g.get("unknown_n") else "")
    studies = (f"included **{g['included']}** primary clinical studies in {g['reports']} reports "
               f"({g['participants']} participants, each study counted once{unknown})")
    rcts = (f"Randomized trials: **{g['rct_k']}**, of which {g['rct_data_k']} with outcome data (n = {g['rct_n']})"
            + (f"; without outcome data: {'; '.join(g['rct_no_data'])}" if g.get("rct_no_data") else ""))
    return studies, rcts


def _bold_html(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(text))


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "evidence-review": __version__}
    for lib in LIBRARIES:
        try:
            out[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            out[lib] = "not installed"
    return out


# ---------------------------------------------------------------------------------------- figures

def verdict_figure(claims: pd.DataFrame, by: str = "seed_file",
                   names: Mapping[str, str] | None = None) -> "matplotlib.figure.Figure":
    """Stacked horizontal bars: number of claims per verdict, for each clinic (or category); ``names``
    relabels the bars (a clinic page's title line instead of its file name)."""
    counts = pd.crosstab(claims[by], claims["verdict"]).reindex(columns=list(VERDICTS), fill_value=0)
    if names:
        counts.index = [names.get(str(i), str(i)) for i in counts.index]
    counts = counts.sort_index(ascending=False)
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(counts) + 1.6))
    left = pd.Series(0, index=counts.index)
    for verdict in VERDICTS:
        ax.barh(counts.index, counts[verdict], left=left, color=VERDICT_COLOURS[verdict],
                edgecolor="white", label=verdict.replace("_", " "))
        left = left + counts[verdict]
    ax.set_xlabel("claims")
    ax.set_title(f"Verdicts by {'clinic page' if by == 'seed_file' else by}")
    ax.legend(ncol=3, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18 if len(counts) > 6 else -0.3), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


POOLED_COLS = ("analysis", "role", "k", "study_ids", "events", "n_total", "measure", "method", "estimate (95% CI)",
               "prediction interval", "I²", "tau²")


def _study_label(s: Any, sid: str) -> str:
    """'First author year' (:func:`readable.study_label`)."""
    return study_label(s.get("first_author"), s.get("year"), sid)


def pooled_view(pooled: pd.DataFrame) -> pd.DataFrame:
    if pooled is None or pooled.empty:
        return pd.DataFrame(columns=POOLED_COLS)
    rows = []
    for r in pooled.to_dict("records"):
        back = r.get("back_estimate")
        use_back = back is not None and not pd.isna(back)
        est, lo, hi = (r["back_estimate"], r["back_ci_low"], r["back_ci_high"]) if use_back else (r["estimate"], r["ci_low"], r["ci_high"])
        plo, phi = (r["back_pi_low"], r["back_pi_high"]) if use_back else (r["pi_low"], r["pi_high"])
        scale = f" ({r['back_scale']})" if use_back else ""
        rows.append({
            "analysis": r["analysis"], "role": "primary" if _truthy(r.get("primary")) else "sensitivity",
            "k": r["k"], "study_ids": r["study_ids"], "events": _fmt(r.get("events")),
            "n_total": _fmt(r.get("n_total")), "measure": f"{r['measure']}{scale}",
            "method": r["method"] + (" + Knapp-Hartung" if r.get("test") == "knha" else ""),
            "estimate (95% CI)": f"{est:.2f} ({lo:.2f} to {hi:.2f})",
            "prediction interval": f"{plo:.2f} to {phi:.2f}" if not pd.isna(plo) else "",
            "I²": f"{r['i2']:.0f}%" if not pd.isna(r["i2"]) else "", "tau²": f"{r['tau2']:.3g}",
        })
    return pd.DataFrame(rows, columns=POOLED_COLS)


def _truthy(x: Any) -> bool:
    return str(x).strip().lower() in ("true", "1", "yes")


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and pd.isna(x)):
        return ""
    return f"{x:g}" if isinstance(x, float) else str(x)


def changes_lines(ch: dict | None) -> list[str]:
    """'What changed since <date>' (Markdown): changed conclusions first, then records and screening."""
    if not ch:
        return []
    since = ch.get("since")
    if since is None:
        return ["## What changed", "", f"- First review run saved with this report ({ch['run']['label']}): "
                "nothing earlier to compare with; the next run reports what changed since this one.", ""]
    out = [f"## What changed since {str(since['date'])[:10]}", "",
           f"**{ch['headline'][0].upper() + ch['headline'][1:]}.** Compared with {since['label']}.", ""]
    for v in ch["verdict_changes"]:
        moved = f" Moved by: {', '.join(v['moved_by'])}." if v["moved_by"] else ""
        out.append(f"- **{v['claim_id']}** \"{_short(v['quote'], 100)}\": {v['old']['verdict']} ({v['old']['certainty']}) "
                   f"→ **{v['new']['verdict']} ({v['new']['certainty']})**.{moved}")
    def ids(key: str, label: str) -> None:
        if ch[key]:
            shown = ", ".join(ch[key][:15]) + (f", … (+{len(ch[key]) - 15})" if len(ch[key]) > 15 else "")
            out.append(f"- {label} ({len(ch[key])}): {shown}")
    ids("new_records", "New records (PMID)")
    ids("updated_records", "Revised records (PMID)")
    ids("withdrawn_records", "Withdrawn records (PMID)")
    ids("newly_included", "Newly included studies")
    ids("newly_excluded", "Newly excluded studies")
    ids("awaiting_screening", "Awaiting screening (tables/screening_queue.csv)")
    ids("awaiting_extraction", "Included, awaiting extraction")
    if ch["provisional_claims"]:
        out.append(f"- Provisional verdicts ({len(ch['provisional_claims'])} claims judged on study evidence) "
                   "could change once the studies awaiting extraction are extracted.")
    return out + [""]


def changes_html(lines: list[str]) -> list[str]:
    """The 'What changed' Markdown lines as HTML: heading and headline in a box, the list folded below."""
    out, items = [], []
    bold = lambda t: re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(t, quote=False))  # noqa: E731
    for line in lines:
        if line.startswith("## "):
            out.append(f'<h2 id="changes">{html.escape(line[3:])}</h2>')
        elif line.startswith("- "):
            items.append(f"<li>{bold(line[2:])}</li>")
        elif line:
            out.append(f"<p>{bold(line)}</p>")
    if items:
        out += [f"<details><summary>{len(items)} item(s): conclusions, records and screening</summary><ul>",
                *items, "</ul></details>"]
    return ['<section id="changes-box">', *out, "</section>"] if out else []


# ------------------------------------------------------------------------------------------ stage

def report_stage(ctx: "ReportContext") -> None:
    """Pipeline stage 'summary': write summary.md, summary.html and the two verdict charts."""
    claims = ctx.tables.get("claims")
    if claims is None:
        from evidence_review.errors import EvidenceReviewError
        raise EvidenceReviewError("summary needs the claims stage's table (run the pipeline from the start)")
    studies = study_table(ctx)
    data = page.PageData(
        ctx=ctx, glance=glance(ctx, studies), studies=studies, outcomes=outcome_table(ctx, studies),
        pooled=pooled_view(ctx.tables.get("pooled")), claims=claims, versions=versions(),
        labels=study_labels(ctx.tables.get("records")),
        pages=page_titles(ctx.topic.files.pages, claims["seed_file"]),
    )
    fig = verdict_figure(claims, names=data.pages)
    written = save_figure(fig, ctx.figures_dir / "verdicts_by_clinic")
    plt.close(fig)
    fig = verdict_figure(claims, by="category")
    written += save_figure(fig, ctx.figures_dir / "verdicts_by_category")
    plt.close(fig)
    atomic_write_text(ctx.reports / "summary.md", page.render_markdown(data))
    atomic_write_text(ctx.reports / "summary.html", page.render_html(data))
    ctx.written += written + [ctx.reports / "summary.md", ctx.reports / "summary.html"]
