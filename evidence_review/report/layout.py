"""Tables, styles and page furniture of ``summary.md`` / ``summary.html``: the generic table renderers
(identifiers linked, study ids as "First author year", intervals kept whole), the table of contents built
from the headings, figure captions that say what a figure shows.

Kept apart from ``summary.py`` (which gathers the data and places the sections) so each file has one job.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from evidence_review.report.readable import humanise_times, link_ids_html, link_ids_md, replace_ids

CAPTIONS: dict[str, str] = {
    "prisma": "PRISMA 2020 flow: records identified, screened, excluded (with reasons) and the studies included.",
    "prisma_registers": "Trial registers (PRISMA register stream): registrations identified and how each was "
                        "counted - through its report, ongoing, awaiting classification or not published.",
    "rob_traffic_light": "Risk of bias per study and domain (traffic-light plot); the last column is the overall "
                         "judgement.",
    "rob_summary": "Risk of bias summary: for each domain, the share of studies judged low, some concerns / "
                   "moderate, or high.",
    "swim_effect_direction": "Direction of effect per study and outcome (synthesis without meta-analysis): "
                             "which way each result points and whether its interval excludes no effect.",
    "verdicts_by_category": "Number of claims per verdict in each claim category; regulatory and protocol are "
                            "the clinics' own disclaimers and logistics.",
    "verdicts_by_clinic": "Number of claims per verdict on each clinic page (pages named by their title line).",
}


def caption(stem: str) -> str:
    """What the figure ``stem`` shows (forest plots: the outcome named in the stem)."""
    if stem in CAPTIONS:
        return CAPTIONS[stem]
    if stem.startswith("forest_"):
        what = stem[len("forest_"):].replace("_by_study", "").replace("_", " ")
        return (f"Forest plot, {what}: each study's estimate with its 95% confidence "
                "interval; a diamond marks a pooled estimate when the pooling rules allowed one.")
    return stem.replace("_", " ")


def svg_uri(path: Path) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def figure_html(path: Path, stem: str, classes: str = "fig", alt: str = "") -> str:
    e = html.escape
    return (f'<figure id="fig-{e(stem)}"><img class="{classes}" id="{e(stem)}" alt="{e(alt or caption(stem))}" '
            f'src="{svg_uri(path)}"><figcaption>{e(caption(stem))}</figcaption></figure>')


def figure_md(stem: str) -> list[str]:
    return [f"![{caption(stem)}](figures/{stem}.svg)", "", f"*{caption(stem)}*", ""]


# --------------------------------------------------------------------------------------- tables

def _cell(x: Any) -> str:
    return str("" if x is None or (isinstance(x, float) and pd.isna(x)) else x).replace("\n", " ")


def md_table(df: pd.DataFrame, columns: Iterable[str] | None = None, labels: Mapping[str, str] | None = None) -> str:
    """A Markdown table; identifiers become links, hours a reader's unit, study ids 'First author year'
    when ``labels`` is given."""
    cols = list(columns or df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for rec in df[cols].itertuples(index=False):
        cells = [link_ids_md(humanise_times(replace_ids(_cell(v), labels or {}))).replace("|", "\\|") for v in rec]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _study_sep(labels: Mapping[str, str]) -> re.Pattern:
    """'; ' before '<study label>:' - the renderer starts each study's result on its own line."""
    names = sorted(set(labels.values()), key=len, reverse=True)
    alt = "|".join(re.escape(html.escape(n, quote=False)) for n in names) or r"(?!)"
    return re.compile(r"; (?=(?:" + alt + r"):)")


def html_table(df: pd.DataFrame, columns: Iterable[str] | None = None, table_id: str = "", verdict_col: bool = False,
               labels: Mapping[str, str] | None = None, fixed: bool = False) -> str:
    """An HTML table in a container that must not scroll sideways: cells wrap between words, intervals stay
    whole, PMIDs/DOIs/NCT ids are links, study ids read 'First author year'."""
    cols = list(columns or df.columns)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    sep = _study_sep(labels or {})
    body = []
    for rec in df[cols].to_dict("records"):
        cells: list[str] = []
        for c in cols:
            text = humanise_times(replace_ids(_cell(rec[c]), labels or {}))
            if verdict_col and c == "verdict":
                v = html.escape(text)
                cells.append(f'<td class="v-{v}">{v.replace("_", " ")}</td>')
            else:
                cells.append(f"<td>{sep.sub('<br>', link_ids_html(text))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    tid = f' id="{table_id}"' if table_id else ""
    cls = ' class="fixed"' if fixed else ""
    return (f'<div class="scroll"><table{tid}{cls}><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(body)
            + "\n</tbody></table></div>")


# ------------------------------------------------------------------------------ table of contents

_H2 = re.compile(r'<h2 id="([^"]+)">(.*?)</h2>')


def toc_html(body: str) -> str:
    """Contents: one link per ``<h2 id=...>`` of ``body``, in page order."""
    items = [f'<li><a href="#{i}">{t}</a></li>' for i, t in _H2.findall(body)]
    return '<nav id="toc" aria-label="Contents"><b>Contents</b><ol>' + "".join(items) + "</ol></nav>"


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def toc_md(lines: list[str]) -> list[str]:
    heads = [ln[3:] for ln in lines if ln.startswith("## ")]
    return ["**Contents:** " + " · ".join(f"[{h}](#{slug(h)})" for h in heads), ""]


CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em;margin:0.3em 0}h2{border-bottom:1px solid #ddd;padding-bottom:2px;margin-top:1.6em}
#bottom-line{background:#f3f7fb;border-left:5px solid #2166ac;padding:0.5em 1em;margin:0.6em 0}
#bottom-line h2{margin:0.2em 0;border:0;font-size:1.2em}#bottom-line p{margin:0.3em 0}
#changes-box{background:#fff8e6;border-left:5px solid #e08214;padding:0.3em 1em;margin:0.5em 0}
#changes-box h2{margin:0.2em 0;border:0;font-size:1.1em}
nav#toc{font-size:0.9em;margin:0.5em 0}nav#toc ol{display:inline;padding:0;margin:0}
nav#toc b{margin-right:0.8em}nav#toc li{display:inline;margin-right:0.9em}
table{border-collapse:collapse;margin:1em 0;font-size:0.85em;width:100%}
th,td{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left;overflow-wrap:break-word}
table.fixed{table-layout:fixed}#design-table,#verdict-certainty-table{width:auto;min-width:40%}#sof-table{table-layout:fixed}#sof-table th{font-size:0.8em}#sof-table th:nth-child(1){width:10%}#sof-table th:nth-child(2){width:9%}#sof-table th:nth-child(3){width:7%}#sof-table th:nth-child(4){width:16%}#sof-table th:nth-child(5){width:6%}#sof-table th:nth-child(6){width:6.5%}#sof-table th:nth-child(7){width:9%}#sof-table th:nth-child(8){width:8.5%}#sof-table th:nth-child(9){width:8%}#sof-table th:nth-child(10){width:8%}#sof-table th:nth-child(11){width:12%}th{background:#f0f0f0}
img.fig{max-width:100%;height:auto;display:block;margin:0.5em 0;border:1px solid #eee}
figure{margin:1em 0}figcaption{font-size:0.9em;color:#444}
.v-supported{background:#1b7837;color:#fff}.v-partly_supported{background:#a6dba0}.v-not_supported{background:#f4a582}
.v-contradicted{background:#b2182b;color:#fff}.v-no_evidence{background:#bababa}.v-not_testable{background:#e0e0e0}
code{background:#f6f6f6;padding:0 3px;overflow-wrap:anywhere}.nw{white-space:nowrap}
details summary{cursor:pointer}.muted{color:#666;font-size:0.85em}
.scroll{overflow-x:auto}"""

# Marks figures and tables as rendered once the page has loaded (read by the headless-browser test).
SCRIPT = """window.addEventListener('load',function(){document.querySelectorAll('img.fig').forEach(function(i){
if(i.complete&&i.naturalWidth>0){i.setAttribute('data-rendered','yes');}});
var t=document.getElementById('claims-table-all');if(t&&t.getBoundingClientRect().height>0){t.setAttribute('data-rendered','yes');}});"""
