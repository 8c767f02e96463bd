"""The report's answer: the bottom line, the verdict x certainty table and the claims per clinic page.

A clinic page's "supported" disclaimer ("not approved by the FDA") or logistics ("40 minutes to an hour")
says nothing about whether ketamine helps OCD, so the claims are split: the therapeutic claims (what the
treatment does) are counted by verdict and certainty; the clinics' own disclaimers and logistics
(categories in :data:`APART`) are counted apart and labelled as such. Every number comes from the
claims and Summary of Findings tables; nothing is typed in.
"""

from __future__ import annotations

import html
import re
from typing import Any, Mapping

import pandas as pd

from evidence_review.claims.verdicts import LEVELS, VERDICTS
from evidence_review.report.readable import humanise_times, link_ids_html, replace_ids

APART: dict[str, str] = {"regulatory": "regulatory statements", "protocol": "protocol and practice logistics"}
LEVEL_NAMES = {lvl: lvl.replace("_", " ") for lvl in LEVELS}
ONE_LINE = 140  # characters of a reason shown before the rest is folded


def split_claims(claims: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(therapeutic claims, disclaimers and logistics)."""
    apart = claims["category"].isin(APART)
    return claims[~apart], claims[apart]


def verdict_certainty(claims: pd.DataFrame) -> pd.DataFrame:
    """Rows: verdicts; columns: certainty levels of the therapeutic claims, their total, and the
    disclaimers/logistics counted apart (one column, labelled). Last row: totals."""
    ther, apart = split_claims(claims)
    grid = pd.crosstab(ther["verdict"], ther["certainty"]).reindex(index=list(VERDICTS), columns=list(LEVELS),
                                                                    fill_value=0)
    grid.columns = [f"{LEVEL_NAMES[c]} certainty" for c in grid.columns]
    grid["therapeutic claims"] = grid.sum(axis=1)
    grid["disclaimers and logistics (counted apart)"] = (
        apart["verdict"].value_counts().reindex(list(VERDICTS), fill_value=0))
    grid.loc["all verdicts"] = grid.sum(axis=0)
    grid = grid.astype(int).reset_index(names="verdict")
    grid["verdict"] = grid["verdict"].str.replace("_", " ")
    return grid


def _counts(series: pd.Series, order: tuple[str, ...]) -> dict[str, int]:
    vc = series.value_counts()
    return {k: int(vc.get(k, 0)) for k in order}


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def bottom_line(sof: pd.DataFrame | None, claims: pd.DataFrame, changes: Mapping[str, Any] | None,
                labels: Mapping[str, str]) -> list[str]:
    """3-5 sentences from the Summary of Findings and the verdicts; the living-review change only when
    they leave room (the page shows it in its own box just above)."""
    out: list[str] = []
    if sof is not None and not sof.empty:
        cert = sof["certainty"].astype(str).str.replace("_", " ")
        counts = cert.value_counts()
        n = len(sof)
        if len(counts) == 1:
            first = f"For all {n} outcomes in the Summary of Findings the certainty of the evidence is {counts.index[0]}"
        else:
            first = (f"Of the {n} outcomes in the Summary of Findings, the certainty of the evidence is "
                     + _join([f"{lvl} for {k}" for lvl, k in counts.items()]))
        parts = pd.to_numeric(sof["participants"], errors="coerce").fillna(0).astype(int)
        big = sof.iloc[int(parts.values.argmax())]
        out.append(f"{first}; the largest rests on {big['studies']} {'study' if str(big['studies']) == '1' else 'studies'} "
                   f"with {int(parts.max())} participants ({big['outcome']}).")
        controlled = sof[~sof["comparison"].astype(str).str.contains("no comparator")]
        if len(controlled):
            bits = [f"{r['comparison']}, {r['outcome']}: {replace_ids(str(r['effect']), labels)} "
                    f"({r['participants']} participants)" for r in controlled.to_dict("records")]
            out.append(f"Only {len(controlled)} comparison{'s' if len(controlled) > 1 else ''} "
                       f"{'have' if len(controlled) > 1 else 'has'} a control group: " + "; ".join(bits) + ".")
    ther, apart = split_claims(claims)
    v = _counts(ther["verdict"], VERDICTS)
    strong = ther[ther["verdict"].isin(["supported", "partly_supported"]) & ther["certainty"].isin(["high", "moderate"])]
    by_cat = ", ".join(f"{c.replace('_', ' ')} {k}" for c, k in strong["category"].value_counts().sort_index().items())
    cats = sorted(set(ther["category"]))
    out.append(f"Of the {len(ther)} therapeutic claims on the {claims['seed_file'].nunique()} clinic pages "
               f"({', '.join(c.replace('_', ' ') for c in cats)}), {v['supported']} are supported and "
               f"{v['partly_supported']} partly supported ({len(strong)} of these at moderate or high certainty"
               + (f": {by_cat}" if by_cat else "") + "), "
               f"while {v['not_supported']} are not supported, {v['contradicted']} contradicted and "
               f"{v['no_evidence']} have no evidence.")
    if len(apart):
        a = _counts(apart["verdict"], VERDICTS)
        out.append(f"The other {len(apart)} claims are the clinics' own disclaimers and logistics "
                   f"({_join(list(APART.values()))}), counted apart: {a['supported']} of them are supported, "
                   "which says nothing about whether the treatment works.")
    if changes and changes.get("since") and len(out) < 4:  # the 'What changed' box above already says it
        out.append(f"Since {str(changes['since']['date'])[:10]}: {changes.get('headline', '')}.")
    return out


# --------------------------------------------------------------------------------- claims by page

CLAIM_VIEW_COLS = ("claim", "category", "quote", "verdict", "certainty", "studies", "reason")


_BRACKET_IDS = re.compile(r" ?\[[a-z0-9_]+\]")  # finding ids such as [ocd_time_x]: kept in the full reason


def one_line(text: str, limit: int = ONE_LINE) -> tuple[str, str]:
    """(first line, rest): the first clause (up to ';') if short enough, else the text cut at a word."""
    text = " ".join(str(text or "").split())
    if len(text) <= limit:
        return text, ""
    head = _BRACKET_IDS.sub("", re.split(r"; | \| ", text)[0]).strip()
    if len(head) > limit:
        head = head[:limit].rsplit(" ", 1)[0] + " …"
    return head, text


def claims_view(claims: pd.DataFrame, labels: Mapping[str, str]) -> pd.DataFrame:
    """One row per claim: readable studies, times in days/weeks, reason with its full text and downgrades."""
    rows = []
    for r in claims.to_dict("records"):
        studies = [labels.get(s, s) for s in str(r.get("studies") or "").split("; ") if s]
        reason = humanise_times(replace_ids(str(r["reason"]), labels))
        down = humanise_times(replace_ids(str(r.get("downgrades") or ""), labels))
        rows.append({"claim": r["claim_id"], "category": str(r["category"]).replace("_", " "), "quote": r["quote"],
                     "verdict": r["verdict"], "certainty": LEVEL_NAMES.get(r["certainty"], r["certainty"]),
                     "studies": "; ".join(studies), "reason": reason, "downgrades": down,
                     "seed_file": r["seed_file"]})
    return pd.DataFrame(rows)


def reason_html(reason: str, downgrades: str) -> str:
    """A one-line reason; the full reason and the certainty downgrades folded in <details>."""
    first, rest = one_line(reason)
    extra = ("<br><i>certainty downgrades:</i> " + link_ids_html(downgrades)) if downgrades else ""
    if not rest and not extra:
        return link_ids_html(first)
    body = link_ids_html(rest or reason) + extra
    return f"<details><summary>{link_ids_html(first)}</summary>{body}</details>"


def reason_md(reason: str, downgrades: str) -> str:
    return reason + (f" (certainty downgrades: {downgrades})" if downgrades else "")


def claims_html_table(view: pd.DataFrame, table_id: str) -> str:
    """The claims of one page; fixed column widths so long quotes and reasons wrap instead of overflowing."""
    e = html.escape
    widths = ("5.5em", "7em", "24%", "7.5em", "6.5em", "12%", "auto")
    cols = "".join(f'<col style="width:{w}">' for w in widths)
    head = "".join(f"<th>{c}</th>" for c in CLAIM_VIEW_COLS)
    body = []
    for r in view.to_dict("records"):
        v = e(r["verdict"])
        body.append(
            f'<tr id="claim-{e(r["claim"])}"><td>{e(r["claim"])}</td><td>{e(r["category"])}</td><td>{e(r["quote"])}</td>'
            f'<td class="v-{v}">{v.replace("_", " ")}</td><td>{e(r["certainty"])}</td><td>{e(r["studies"])}</td>'
            f"<td>{reason_html(r['reason'], r['downgrades'])}</td></tr>")
    return (f'<div class="scroll"><table class="fixed claims" id="{e(table_id)}"><colgroup>{cols}</colgroup>'
            f"<thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table></div>")
