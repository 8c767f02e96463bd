"""One self-contained HTML page for an audited clinic page, in the style of the main report.

The page's claims in page order with verdict (coloured as in ``summary.html``), certainty, a one-line
reason and the studies it rests on; the full reason folds open on click; non-claims are listed, folded,
with their role and why they were not judged. No external files, scripts or fonts.
"""

from __future__ import annotations

import html

import pandas as pd

from evidence_review.claims.rules.common import VERDICTS
from evidence_review.report.summary import CSS
from evidence_review.tables import MULTI_SEP

ONE_LINE = 160  # characters of the reason shown before it folds
EXTRA_CSS = ("details{margin:0.2em 0}summary{cursor:pointer}td.reason{max-width:38em}.muted{color:#666}"
             ".legend span{padding:1px 6px;margin-right:4px;border-radius:3px}")


def _one_line(reason: str) -> str:
    first = reason.split(" | ")[0]
    return first if len(first) <= ONE_LINE else first[:ONE_LINE - 1].rstrip() + "…"


def render_audit_html(df: pd.DataFrame, source: str, topic_title: str = "the review") -> str:
    """The audit table (claims/audit.py columns) as one HTML document; ``topic_title`` names the review."""
    e = html.escape
    claims = df[df["role"] == "claim"]
    others = df[df["role"] != "claim"]
    counts = claims["verdict"].value_counts().reindex(list(VERDICTS), fill_value=0)
    legend = " ".join(f'<span class="v-{v}">{e(v.replace("_", " "))}: {int(n)}</span>' for v, n in counts.items())
    rows = []
    for r in claims.to_dict("records"):
        studies = ", ".join(s for s in str(r["studies"]).split(MULTI_SEP) if s) or "—"
        facts = ", ".join(s for s in str(r["context_facts"]).split(MULTI_SEP) if s)
        full = e(str(r["reason"]))
        reason = (f"<details><summary>{e(_one_line(str(r['reason'])))}</summary><p>{full}</p>"
                  f"<p class=\"muted\">rule {e(str(r['rule']))}; cue: {e(str(r['cue']))}; downgrades: "
                  f"{e(str(r['downgrades']).replace(MULTI_SEP, '; ')) or '—'}</p></details>")
        rows.append(f"<tr><td>{e(str(r['line']))}</td><td>{e(str(r['text']))}</td><td>{e(str(r['category']))}</td>"
                    f'<td class="v-{e(str(r["verdict"]))}">{e(str(r["verdict"]).replace("_", " "))}</td>'
                    f"<td>{e(str(r['certainty']).replace('_', ' '))}</td><td class=\"reason\">{reason}</td>"
                    f'<td class="id">{e(studies)}{("<br><span class=muted>" + e(facts) + "</span>") if facts else ""}</td></tr>')
    claim_table = ('<div class="scroll"><table id="audit-claims"><thead><tr><th>line</th><th>claim</th><th>category</th>'
                   "<th>verdict</th><th>certainty</th><th>reason</th><th>studies / facts</th></tr></thead><tbody>\n"
                   + "\n".join(rows) + "\n</tbody></table></div>") if rows else "<p>No checkable claims found.</p>"
    by_role = others["role"].value_counts().sort_index()
    other_rows = "\n".join(f"<tr><td>{e(str(r['line']))}</td><td>{e(str(r['role']))}</td><td>{e(str(r['text']))}</td>"
                           f"<td class=\"muted\">{e(str(r['role_reason']))}</td></tr>" for r in others.to_dict("records"))
    folded = (f"<details id=\"non-claims\"><summary>{len(others)} units not judged ("
              + ", ".join(f"{e(k)} {int(v)}" for k, v in by_role.items()) + ")</summary>"
              '<div class="scroll"><table><thead><tr><th>line</th><th>role</th><th>text</th><th>why not judged</th></tr>'
              f"</thead><tbody>\n{other_rows}\n</tbody></table></div></details>")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Audit of {e(source)}: clinic claims against the evidence</title>",
        f"<style>{CSS}\n{EXTRA_CSS}</style></head><body>",
        f"<h1>Audit of <code>{e(source)}</code></h1>",
        f"<p>{len(claims)} checkable claims among {len(df)} units of the page, judged against the evidence base of "
        f"{e(topic_title)} with the same rules as the main report. Certainty is GRADE-like (high, moderate, low, very low).</p>",
        f'<p class="legend">{legend}</p>',
        '<h2 id="claims">Claims in page order</h2>', claim_table,
        '<h2 id="not-judged">Not judged</h2>',
        "<p>Questions, headings, descriptions of the condition, calls to action, testimonials and boilerplate are "
        "listed with their role and never judged.</p>", folded,
        "</body></html>", ""])
