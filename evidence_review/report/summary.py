"""The pipeline's "summary" stage: ``reports/summary.md`` and a self-contained ``reports/summary.html``.

Both are built from the tables earlier stages left in the context (records, PRISMA, effects, pooled,
claims) - nothing is recomputed here. The HTML embeds every figure as a ``data:image/svg+xml``
URI (SVG text is the same on every platform, unlike rasterised PNG bytes), uses no external file,
font or script source, and carries no clock time: the same inputs give the same bytes.
"""

from __future__ import annotations

import base64
import html
import importlib.metadata
import platform
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from evidence_review import __version__  # noqa: E402
from evidence_review.atomic import atomic_write_text  # noqa: E402
from evidence_review.claims.evidence_base import PRIMARY_DESIGNS, RCT_DESIGNS, count_once  # noqa: E402
from evidence_review.report import registers_section, review_sections  # noqa: E402
from evidence_review.claims.verdicts import VERDICTS  # noqa: E402
from evidence_review.figures import save_figure  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from evidence_review.pipeline import ReportContext

VERDICT_COLOURS = {
    "supported": "#1b7837", "partly_supported": "#a6dba0", "not_supported": "#f4a582",
    "contradicted": "#b2182b", "no_evidence": "#bababa", "not_testable": "#e0e0e0",
}
LIBRARIES = ("pandas", "numpy", "scipy", "statsmodels", "matplotlib", "lxml", "requests")


# ------------------------------------------------------------------------------------------- data

def study_table(ctx: "ReportContext") -> pd.DataFrame:
    """Included primary studies with design, n, population, dosing, comparator and their effects."""
    eb = ctx.facts.get("evidence_base")
    if eb is None:
        return pd.DataFrame()
    st = eb.studies[eb.studies["included"].astype(bool) & eb.studies["design"].isin(PRIMARY_DESIGNS)]
    effects = ctx.tables.get("effects", pd.DataFrame())
    rows = []
    for sid, s in st.sort_values(["year", "study_id"], kind="mergesort").iterrows():
        eff = effects[effects["study_id"] == sid] if not effects.empty else effects
        outcome = "; ".join(f"{r['outcome']} ({r['timepoint']})" for _, r in eff.iterrows()) if len(eff) else "no extractable numbers"
        effect = "; ".join(str(r["effect_label"]) for _, r in eff.iterrows()) if len(eff) else ""
        src = "; ".join(dict.fromkeys(str(r["source"]) for _, r in eff.iterrows())) if len(eff) else \
            (f"PMID:{s['pmid']}" if s["pmid"] else s["pmcid"] or (f"DOI:{s['doi']}" if s["doi"] else s["source_url"]))
        dose_route = ", ".join(x for x in (s["drug"], s["dose"], s["route"], s["n_infusions"] and f"{s['n_infusions']} dose(s)") if x)
        rows.append({
            "study": _study_label(s, sid),
            "study_id": sid, "study_group": s.get("study_group") or sid,
            "design": s.get("study_design") or s["design"], "report": s.get("report_type") or "",
            "n": "" if pd.isna(s["n"]) else int(s["n"]),
            "population": _short(re.sub(r"^n: \d+; ", "", str(s["population"])).replace("_", " "), 90), "dose / route": _short(dose_route, 90),
            "comparator": _short(s["control"] or "none", 50), "outcome": _short(outcome, 120),
            "effect (95% CI)": _short(effect, 140), "source": src,
        })
    return pd.DataFrame(rows)


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

def verdict_figure(claims: pd.DataFrame, by: str = "seed_file") -> "matplotlib.figure.Figure":
    """Stacked horizontal bars: number of claims per verdict, for each clinic (or category)."""
    counts = pd.crosstab(claims[by], claims["verdict"]).reindex(columns=list(VERDICTS), fill_value=0)
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


def _svg_uri(path: Path) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


# ------------------------------------------------------------------------------------- rendering

def _md_cell(x: Any) -> str:
    return str("" if x is None or (isinstance(x, float) and pd.isna(x)) else x).replace("|", "\\|").replace("\n", " ")


def md_table(df: pd.DataFrame, columns: Iterable[str] | None = None) -> str:
    cols = list(columns or df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for rec in df[cols].itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(v) for v in rec) + " |")
    return "\n".join(lines)


def html_table(df: pd.DataFrame, columns: Iterable[str] | None = None, table_id: str = "", verdict_col: bool = False) -> str:
    cols = list(columns or df.columns)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for rec in df[cols].to_dict("records"):
        cells: list[str] = []
        for c in cols:
            v = html.escape(_md_cell(rec[c]).replace("\\|", "|"))
            if verdict_col and c == "verdict":
                cells.append(f'<td class="v-{v}">{v.replace("_", " ")}</td>')
            elif c in ("source", "studies", "study_id", "study") or v.startswith("http"):
                cells.append(f'<td class="id">{v}</td>')  # long identifiers and URLs may break anywhere
            else:
                cells.append(f"<td>{v}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    tid = f' id="{table_id}"' if table_id else ""
    return (f'<div class="scroll"><table{tid}><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(body)
            + "\n</tbody></table></div>")


POOLED_COLS = ("analysis", "role", "k", "study_ids", "events", "n_total", "measure", "method", "estimate (95% CI)",
               "prediction interval", "I²", "tau²")


def _study_label(s: dict, sid: str) -> str:
    """'Mangas Palma 2024' from 'Mangas Palma I' (surname = all but the initials); the study id when the
    first author is unknown."""
    author = str(s.get("first_author") or "").split()
    if author and len(author) > 1 and author[-1].isupper() and len(author[-1]) <= 3:
        author = author[:-1]
    return f"{' '.join(author) if author else sid} {_year(s['year'])}".strip()


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


CLAIM_COLS = ("claim_id", "scope", "quote", "verdict", "certainty", "studies", "reason", "downgrades")  # grouped by category


def render_markdown(ctx: "ReportContext", g: dict, studies: pd.DataFrame, pooled: pd.DataFrame, claims: pd.DataFrame,
                    forest: list[str], topic: Any, vers: dict[str, str]) -> str:
    out = [f"# {ctx.topic.report_title}", ""]
    out += review_sections.sof_md(ctx, md_table)
    out += changes_lines(ctx.facts.get("changes"))
    out += ["## Evidence at a glance", "",
            f"- Records: **{g['source']}**; records identified {g['identified']}, screened {g['screened']}, "
            f"{glance_lines(g)[0]}.",
            f"- {glance_lines(g)[1]}.", "",
            md_table(pd.DataFrame({"design": g["by_design"].index, "studies": g["by_design"].values})), "",
            *(["![PRISMA flow](figures/prisma.svg)", ""] if (ctx.figures_dir / "prisma.svg").is_file() else [])]
    out += ["## Studies", "", md_table(studies) if not studies.empty else "_no studies_", ""]
    out += registers_section.registers_md(ctx, md_table)
    out += review_sections.rob_md(ctx, md_table)
    out += ["## Pooled results", "", md_table(pooled) if not pooled.empty else "_nothing pooled_", ""]
    out += review_sections.synthesis_md(ctx, md_table)
    out += [f"![{s}](figures/{s}.svg)" for s in forest] + [""]
    vc = claims["verdict"].value_counts().reindex(list(VERDICTS), fill_value=0)
    out += ["## Claims versus evidence", "",
            f"{len(claims)} claims from {claims['seed_file'].nunique()} clinic pages: " +
            ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in vc.items()) + ".", "",
            "![verdicts by clinic](figures/verdicts_by_clinic.svg)", ""]
    for seed, grp in claims.groupby("seed_file", sort=True):
        out += [f"### {seed}", ""]
        for cat, sub in grp.groupby("category", sort=True):
            out += [f"#### {cat}", "", md_table(sub, CLAIM_COLS), ""]
    out += methods_lines(ctx, g, claims, topic, vers)
    return "\n".join(out) + "\n"


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
    """The 'What changed' Markdown lines as HTML (heading, paragraph, list; **bold** kept)."""
    out, items = [], []
    bold = lambda t: re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(t, quote=False))  # noqa: E731
    for line in lines:
        if line.startswith("## "):
            out.append(f'<h2 id="changes">{html.escape(line[3:])}</h2>')
        elif line.startswith("- "):
            items.append(f"<li>{bold(line[2:])}</li>")
        elif line:
            out.append(f"<p>{bold(line)}</p>")
    return out + (["<ul>", *items, "</ul>"] if items else [])


def _rows(ctx, name: str) -> int:
    t = ctx.tables.get(name)
    return 0 if t is None else len(t)


def _matched_text(matched: dict) -> str:
    if not matched:
        return "; none matched a curated study"
    parts = ", ".join(f"{k.replace('_', ' + ')} {v}" for k, v in matched.items())
    return f"; {sum(matched.values())} matched to curated studies ({parts}; `tables/record_matches.csv`)"


def identification_lines(ctx, g) -> list[str]:
    """How the records were identified, stream by stream - only searches that were run show a query."""
    ident = ctx.facts.get("identification") or {}
    prisma = ctx.facts.get("prisma") or {}
    lines = []
    for s in ident.get("streams", []):
        if s.get("search_run"):
            window = s.get("date_window") or ["", ""]
            lines.append(f"- Identification ({s['stream']}): {s['source']} searched {s.get('date_run', '')} "
                         f"(pull `{s.get('pull_id', '')}`), query `{s.get('query', '')}`"
                         + (f", publication dates {window[0]} to {window[1]}" if window and window[0] else "")
                         + f"; {s.get('identified')} records (esearch count {s.get('esearch_count')}"
                         + (f", {s['missing_pmids']} listed but not returned" if s.get("missing_pmids") else "")
                         + ")" + _matched_text(s.get("matched_to_curated") or {}) + ".")
        elif ident.get("search_run"):
            lines.append(f"- Identification ({s['stream']}): {s['source']}, compiled {s.get('compiled', '')}: "
                         f"{s.get('identified')} curated records, {s.get('duplicates_of_search', 0)} of them also "
                         f"returned by the search (duplicates across sources), {s.get('records')} kept as records "
                         "identified by other methods with their curated decisions"
                         + (f"; {s['registrations_to_register_stream']} trial registrations are counted in the "
                            "register stream" if s.get("registrations_to_register_stream") else "") + ".")
        else:
            files = ", ".join(f"`{f['file']}` ({f['entries']} entries)" for f in s.get("files", []))
            lines.append(f"- Identification: no database search was run. The offline snapshot "
                         f"(`evidence/snapshot/`, compiled {s.get('compiled', '')}) holds {s.get('records')} records "
                         f"built from {files}: {s.get('how_compiled', '')} "
                         f"{s.get('identified')} entries, {s.get('duplicates_removed')} duplicates merged.")
    if not lines:
        lines.append("- Identification: unknown (the records stage did not run)")
    lines.append(f"- PRISMA: identified {g['identified']}, screened {g['screened']}, included {g['included']} studies "
                 f"({g.get('reports', g['included'])} reports"
                 + (f"; reports from the search {prisma['included_databases']}, by other methods "
                    f"{prisma['other_methods']['included']}" if prisma.get("other_methods") else "") + ").")
    return lines


def methods_lines(ctx, g, claims, topic, vers) -> list[str]:
    return [
        "## Methods and provenance", "",
        *identification_lines(ctx, g),
        f"- Claims registry `evidence/claims.csv`: {len(claims)} claims, each quote an exact excerpt of its page "
        "(whitespace collapsed); context facts `evidence/context_facts.csv`.",
        f"- Evidence tables: {_rows(ctx, 'records')} records, {_rows(ctx, 'extraction')} extraction rows, "
        f"{_rows(ctx, 'effects')} effect sizes, {_rows(ctx, 'pooled')} pooled analyses, "
        f"{len(ctx.facts.get('forest_plots') or [])} forest plots; "
        f"{len(getattr(ctx.facts.get('evidence_base'), 'facts', []))} context facts.",
        "- Verdicts come from explicit rules in `evidence_review/verdicts.py` over the evidence tables; certainty "
        "is GRADE-like (randomized evidence starts high, other designs low; one level off per downgrade listed); "
        "'contradicted' needs at least low certainty, so very-low-certainty contrary evidence gives 'not_supported'.",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()) + ".", "",
    ]


CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.85em;width:100%}th,td{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left;overflow-wrap:break-word;min-width:3.5em}
th{background:#f0f0f0}img.fig{max-width:100%;height:auto;display:block;margin:1em 0;border:1px solid #eee}
.v-supported{background:#1b7837;color:#fff}.v-partly_supported{background:#a6dba0}.v-not_supported{background:#f4a582}
.v-contradicted{background:#b2182b;color:#fff}.v-no_evidence{background:#bababa}.v-not_testable{background:#e0e0e0}
code{background:#f6f6f6;padding:0 3px;word-break:break-all}td.id{word-break:break-all;min-width:6em}
.scroll{overflow-x:auto}"""

# Marks figures and tables as rendered once the page has loaded (read by the headless-browser test).
SCRIPT = """window.addEventListener('load',function(){document.querySelectorAll('img.fig').forEach(function(i){
if(i.complete&&i.naturalWidth>0){i.setAttribute('data-rendered','yes');}});
var t=document.getElementById('claims-table-all');if(t&&t.getBoundingClientRect().height>0){t.setAttribute('data-rendered','yes');}});"""


def render_html(ctx, g, studies, pooled, claims, forest_paths: dict[str, Path], verdict_svg: Path, topic, vers,
                prisma_svg: Path | None = None) -> str:
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{e(ctx.topic.report_title)}</title>", f"<style>{CSS}</style></head><body>",
             f"<h1>{e(ctx.topic.report_title)}</h1>",
             *review_sections.sof_html(ctx, html_table),
             *changes_html(changes_lines(ctx.facts.get("changes"))),
             '<h2 id="glance">Evidence at a glance</h2>',
             f"<p>Records: <b>{e(str(g['source']))}</b>; records identified {e(str(g['identified']))}, "
             f"screened {e(str(g['screened']))}, " + _bold_html(glance_lines(g)[0]) + "; "
             + _bold_html(glance_lines(g)[1][0].lower() + glance_lines(g)[1][1:]) + ".</p>",
             html_table(pd.DataFrame({"design": g["by_design"].index, "studies": g["by_design"].values}), table_id="design-table"),
             *([f'<img class="fig" id="prisma" alt="PRISMA flow diagram" src="{_svg_uri(prisma_svg)}">']
               if prisma_svg is not None else []),
             '<h2 id="studies">Studies</h2>', html_table(studies, table_id="study-table") if not studies.empty else "<p>no studies</p>",
             *registers_section.registers_html(ctx, html_table),
             *review_sections.rob_html(ctx, html_table),
             '<h2 id="pooled">Pooled results</h2>', html_table(pooled, table_id="pooled-table") if not pooled.empty else "<p>nothing pooled</p>",
             *review_sections.synthesis_html(ctx, html_table)]
    for stem, p in forest_paths.items():
        parts.append(f'<figure><img class="fig forest" id="{e(stem)}" alt="forest plot {e(stem)}" src="{_svg_uri(p)}">'
                     f"<figcaption>{e(stem)}</figcaption></figure>")
    vc = claims["verdict"].value_counts().reindex(list(VERDICTS), fill_value=0)
    parts += ['<h2 id="claims">Claims versus evidence</h2>',
              f"<p>{len(claims)} claims from {claims['seed_file'].nunique()} clinic pages: " +
              e(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in vc.items())) + ".</p>",
              f'<img class="fig" id="verdict-chart" alt="verdicts by clinic" src="{_svg_uri(verdict_svg)}">',
              '<div id="claims-table-all">']
    for seed, grp in claims.groupby("seed_file", sort=True):
        parts.append(f"<h3>{e(seed)}</h3>")
        for cat, sub in grp.groupby("category", sort=True):
            parts.append(f"<h4>{e(cat)}</h4>")
            parts.append(html_table(sub, CLAIM_COLS, table_id=f"claims-{e(seed[:3])}-{e(cat)}", verdict_col=True))
    parts.append("</div>")
    meth = methods_lines(ctx, g, claims, topic, vers)
    parts.append('<h2 id="methods">Methods and provenance</h2><ul>')
    for line in meth[2:]:
        if line.startswith("- "):
            text = e(line[2:])
            text = re.sub(r"`([^`]*)`", r"<code>\1</code>", text)
            parts.append(f"<li>{text}</li>")
    parts += ["</ul>", f"<script>{SCRIPT}</script>", "</body></html>"]
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------------------------------ stage

def report_stage(ctx: "ReportContext") -> None:
    """Pipeline stage 'summary': write summary.md, summary.html and the verdict chart."""
    claims = ctx.tables.get("claims")
    if claims is None:
        from evidence_review.errors import EvidenceReviewError
        raise EvidenceReviewError("summary needs the claims stage's table (run the pipeline from the start)")
    topic = ctx.topic
    studies = study_table(ctx)
    g = glance(ctx, studies)
    pooled = pooled_view(ctx.tables.get("pooled"))
    vers = versions()
    fig = verdict_figure(claims)
    written = save_figure(fig, ctx.figures_dir / "verdicts_by_clinic")
    plt.close(fig)
    fig = verdict_figure(claims, by="category")
    written += save_figure(fig, ctx.figures_dir / "verdicts_by_category")
    plt.close(fig)
    forest = list(ctx.facts.get("forest_plots") or [])
    forest_paths = {s: ctx.figures_dir / f"{s}.svg" for s in forest if (ctx.figures_dir / f"{s}.svg").is_file()}
    md = render_markdown(ctx, g, studies, pooled, claims, list(forest_paths), topic, vers)
    prisma_svg = ctx.figures_dir / "prisma.svg"
    page = render_html(ctx, g, studies, pooled, claims, forest_paths, ctx.figures_dir / "verdicts_by_clinic.svg", topic, vers,
                       prisma_svg if prisma_svg.is_file() else None)
    atomic_write_text(ctx.reports / "summary.md", md)
    atomic_write_text(ctx.reports / "summary.html", page)
    ctx.written += written + [ctx.reports / "summary.md", ctx.reports / "summary.html"]


def _year(y: Any) -> str:
    try:
        return str(int(float(y)))
    except (TypeError, ValueError):
        return ""
