"""The report's last section, "Methods and provenance": how the records were identified (stream by stream,
only searches that ran show a query), what the claims registry and evidence tables hold, how verdicts and
certainty are reached, and the library versions. Markdown lines; the HTML renderer turns them into a list.
"""

from __future__ import annotations

from typing import Any


def _rows(ctx: Any, name: str) -> int:
    t = ctx.tables.get(name)
    return 0 if t is None else len(t)


def _matched_text(matched: dict) -> str:
    if not matched:
        return "; none matched a curated study"
    parts = ", ".join(f"{k.replace('_', ' + ')} {v}" for k, v in matched.items())
    return f"; {sum(matched.values())} matched to curated studies ({parts}; `tables/record_matches.csv`)"


def identification_lines(ctx: Any, g: dict) -> list[str]:
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


def methods_lines(ctx: Any, g: dict, claims: Any, topic: Any, vers: dict[str, str]) -> list[str]:
    return [
        "## Methods and provenance", "",
        *identification_lines(ctx, g),
        f"- Claims registry `evidence/claims.csv`: {len(claims)} claims, each quote an exact excerpt of its page "
        "(whitespace collapsed); context facts `evidence/context_facts.csv`.",
        f"- Evidence tables: {_rows(ctx, 'records')} records, {_rows(ctx, 'extraction')} extraction rows, "
        f"{_rows(ctx, 'effects')} effect sizes, {_rows(ctx, 'pooled')} pooled analyses, "
        f"{len(ctx.facts.get('forest_plots') or [])} forest plots; "
        f"{len(getattr(ctx.facts.get('evidence_base'), 'facts', []))} context facts.",
        "- Verdicts come from explicit rules in `evidence_review/claims/rules/` (one module per claim family) over the evidence tables; certainty "
        "is GRADE-like (randomized evidence starts high, other designs low; one level off per downgrade listed); "
        "'contradicted' needs at least low certainty, so very-low-certainty contrary evidence gives 'not_supported'.",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()) + ".", "",
    ]
