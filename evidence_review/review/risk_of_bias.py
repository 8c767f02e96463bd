"""Risk of bias as data: ``evidence/risk_of_bias.csv`` -> validated table, overall judgements, plots.

Why a table and not strings in the verdict rules: a reader (and GRADE) needs to see which tool was
used, every domain of that tool, the judgement in the tool's own words, why, and where it was read.
One curated row per study x domain (x outcome for the outcome-level RoB 2 tools). Tools:

- ``RoB 2`` (parallel randomized trials; domains D1-D5) and ``RoB 2 crossover`` (adds DS, bias from
  period and carry-over effects) - Sterne et al. 2019, Cochrane Handbook ch. 8;
- ``ROBINS-I`` (non-randomized comparisons of interventions; D1-D7) - Sterne et al. 2016;
- ``JBI quasi-experimental`` (uncontrolled before-after trials, 9 items), ``JBI case series``
  (10 items, Munn et al. 2020) and ``JBI case report`` (8 items, Moola et al. 2017).

Overall judgements follow each tool's algorithm (see :func:`overall_judgement`); JBI has none, so the
review fixes one in advance (share of applicable items met) and says so in ``docs/methods.md``.
Loading fails with :class:`InputError` naming file, row and field for an unknown tool, domain or
judgement, an empty support or locator, a duplicated domain or a study missing one of its tool's domains.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import pandas as pd

from evidence_review.errors import InputError
from evidence_review.tables import read_csv_strict, require_values

if TYPE_CHECKING:  # pragma: no cover
    from evidence_review.pipeline import ReportContext

COLUMNS: tuple[str, ...] = ("study_id", "tool", "domain", "outcome", "judgement", "support", "source")
ROB2_JUDGEMENTS = ("Low", "Some concerns", "High", "No information")
ROBINS_JUDGEMENTS = ("Low", "Moderate", "Serious", "Critical", "No information")
JBI_JUDGEMENTS = ("Yes", "No", "Unclear", "Not applicable")

_ROB2_DOMAINS = {
    "D1": "Randomization process",
    "D2": "Deviations from intended interventions",
    "D3": "Missing outcome data",
    "D4": "Measurement of the outcome",
    "D5": "Selection of the reported result",
}


@dataclass(frozen=True)
class Tool:
    """A published appraisal tool: its domains in order, its judgement words, and whether it is
    applied per outcome (RoB 2, ROBINS-I) or per study (JBI checklists)."""

    name: str
    family: str  # "rob2", "robins", "jbi": which overall algorithm and colour scale
    reference: str
    domains: dict[str, str]
    judgements: tuple[str, ...]
    per_outcome: bool


TOOLS: dict[str, Tool] = {t.name: t for t in (
    Tool("RoB 2", "rob2", "Sterne JAC et al. BMJ 2019;366:l4898", dict(_ROB2_DOMAINS), ROB2_JUDGEMENTS, True),
    Tool("RoB 2 crossover", "rob2", "RoB 2 for crossover trials (Higgins et al. 2021 guidance)",
         {"D1": _ROB2_DOMAINS["D1"], "DS": "Period and carry-over effects",
          **{k: v for k, v in _ROB2_DOMAINS.items() if k != "D1"}}, ROB2_JUDGEMENTS, True),
    Tool("ROBINS-I", "robins", "Sterne JAC et al. BMJ 2016;355:i4919", {
        "D1": "Confounding", "D2": "Selection of participants", "D3": "Classification of interventions",
        "D4": "Deviations from intended interventions", "D5": "Missing data", "D6": "Measurement of outcomes",
        "D7": "Selection of the reported result"}, ROBINS_JUDGEMENTS, True),
    Tool("JBI quasi-experimental", "jbi", "JBI checklist for quasi-experimental studies (Tufanaru et al. 2017)", {
        "QE1": "Cause precedes effect", "QE2": "Compared participants similar",
        "QE3": "Same care apart from the intervention", "QE4": "Control group",
        "QE5": "Repeated outcome measures before and after", "QE6": "Follow-up complete or explained",
        "QE7": "Outcomes measured the same way", "QE8": "Reliable outcome measurement",
        "QE9": "Appropriate statistical analysis"}, JBI_JUDGEMENTS, False),
    Tool("JBI case series", "jbi", "JBI checklist for case series (Munn et al. 2020)", {
        "CS1": "Clear inclusion criteria", "CS2": "Condition measured reliably", "CS3": "Valid case identification",
        "CS4": "Consecutive inclusion", "CS5": "Complete inclusion", "CS6": "Demographics reported",
        "CS7": "Clinical information reported", "CS8": "Outcomes reported", "CS9": "Site reported",
        "CS10": "Appropriate statistical analysis"}, JBI_JUDGEMENTS, False),
    Tool("JBI case report", "jbi", "JBI checklist for case reports (Moola et al. 2017)", {
        "CR1": "Demographics described", "CR2": "History and timeline", "CR3": "Condition at presentation",
        "CR4": "Assessment methods and results", "CR5": "Intervention described",
        "CR6": "Condition after the intervention", "CR7": "Adverse events described",
        "CR8": "Lessons stated"}, JBI_JUDGEMENTS, False),
)}

# Overall words per family (the colour scale and GRADE read these) and their severity rank.
OVERALL_LEVELS: dict[str, tuple[str, ...]] = {
    "rob2": ("Low", "Some concerns", "High"),
    "robins": ("Low", "Moderate", "Serious", "Critical", "No information"),
    "jbi": ("Low", "Moderate", "High"),
}
SEVERITY: dict[str, int] = {"Low": 0, "Some concerns": 1, "Moderate": 1, "High": 2, "Serious": 2, "Critical": 3,
                            "No information": 1}
# RoB 2: "High" overall when any domain is High, or when this many domains are not Low ("some concerns
# in multiple domains in a way that substantially lowers confidence" - the review's fixed reading).
ROB2_MANY_CONCERNS = 3
# JBI (no published algorithm): share of applicable items answered "Yes".
JBI_LOW_AT, JBI_MODERATE_AT = 0.70, 0.50


def load(path: str | Path, included: Iterable[str] | None = None) -> pd.DataFrame:
    """Read and validate the curated risk-of-bias table (one row per study x domain [x outcome]).

    ``included``: study ids that must each be assessed (every domain of its tool); rows for ids
    outside it are an error too, so a stale row cannot survive a screening change."""
    path = Path(path)
    df = read_csv_strict(path, COLUMNS)
    seen: dict[tuple[str, str, str], int] = {}
    tool_of: dict[str, tuple[str, int]] = {}
    for i, rec in enumerate(df.to_dict("records")):
        row = i + 2
        require_values(rec, ("study_id", "tool", "domain", "judgement", "support", "source"), path, row)
        tool = TOOLS.get(rec["tool"])
        if tool is None:
            raise InputError(f"unknown tool {rec['tool']!r} (known: {', '.join(TOOLS)})", file=path, row=row, field="tool")
        if rec["domain"] not in tool.domains:
            raise InputError(f"{rec['tool']} has no domain {rec['domain']!r} (domains: {', '.join(tool.domains)})",
                             file=path, row=row, field="domain")
        if rec["judgement"] not in tool.judgements:
            raise InputError(f"{rec['judgement']!r} is not a {rec['tool']} judgement (use: {', '.join(tool.judgements)})",
                             file=path, row=row, field="judgement")
        if tool.per_outcome and not rec["outcome"].strip():
            raise InputError(f"{rec['tool']} is judged per outcome: name the outcome", file=path, row=row, field="outcome")
        prev = tool_of.setdefault(rec["study_id"], (rec["tool"], row))
        if prev[0] != rec["tool"]:
            raise InputError(f"study {rec['study_id']!r} was assessed with {prev[0]} in row {prev[1]}",
                             file=path, row=row, field="tool")
        key = (rec["study_id"], rec["outcome"], rec["domain"])
        if key in seen:
            raise InputError(f"domain {rec['domain']} already judged for this study and outcome in row {seen[key]}",
                             file=path, row=row, field="domain")
        seen[key] = row
        if included is not None and rec["study_id"] not in set(included):
            raise InputError(f"study {rec['study_id']!r} is not an included study", file=path, row=row, field="study_id")
    for (sid, outcome), grp in df.groupby(["study_id", "outcome"], sort=False):
        tool = TOOLS[grp["tool"].iloc[0]]
        missing = [d for d in tool.domains if d not in set(grp["domain"])]
        if missing:
            raise InputError(f"study {sid!r} ({outcome or 'study level'}) lacks {tool.name} domain(s) {', '.join(missing)}",
                             file=path, row=int(grp.index[0]) + 2, field="domain")
    if included is not None:
        absent = sorted(set(included) - set(df["study_id"]))
        if absent:
            raise InputError(f"included stud{'y' if len(absent) == 1 else 'ies'} without a risk-of-bias assessment: "
                             + ", ".join(absent), file=path, field="study_id")
    order = {name: i for i, name in enumerate(TOOLS)}
    df["domain_name"] = [TOOLS[t].domains[d] for t, d in zip(df["tool"], df["domain"])]
    df["domain_order"] = [list(TOOLS[t].domains).index(d) for t, d in zip(df["tool"], df["domain"])]
    df["tool_order"] = df["tool"].map(order)
    return df


def overall_judgement(tool_name: str, judgements: list[str]) -> tuple[str, str]:
    """(overall, reason) from one study's domain judgements under ``tool_name``'s algorithm.

    RoB 2: Low if every domain is Low; High if any is High or if ``ROB2_MANY_CONCERNS`` or more are
    "Some concerns"/"No information"; otherwise Some concerns. ROBINS-I: the worst domain (Critical >
    Serious > Moderate > Low); "No information" only when it is the worst gap and nothing is Serious or
    worse. JBI: share of applicable items answered Yes (>= 70 % Low, >= 50 % Moderate, else High)."""
    tool = TOOLS[tool_name]
    if tool.family == "rob2":
        high = judgements.count("High")
        concerns = sum(j in ("Some concerns", "No information") for j in judgements)
        if high:
            return "High", f"{high} domain(s) at high risk"
        if concerns >= ROB2_MANY_CONCERNS:
            return "High", f"some concerns or no information in {concerns} domains"
        if concerns:
            return "Some concerns", f"some concerns or no information in {concerns} domain(s)"
        return "Low", "all domains low"
    if tool.family == "robins":
        for level in ("Critical", "Serious"):
            if level in judgements:
                return level, f"{judgements.count(level)} domain(s) {level.lower()}"
        if "No information" in judgements:
            return "No information", f"no information in {judgements.count('No information')} domain(s)"
        if "Moderate" in judgements:
            return "Moderate", f"{judgements.count('Moderate')} domain(s) moderate"
        return "Low", "all domains low"
    applicable = [j for j in judgements if j != "Not applicable"]
    yes = applicable.count("Yes")
    share = yes / len(applicable) if applicable else 0.0
    level = "Low" if share >= JBI_LOW_AT else "Moderate" if share >= JBI_MODERATE_AT else "High"
    return level, f"{yes} of {len(applicable)} applicable items met ({share:.0%})"


def overall(table: pd.DataFrame) -> pd.DataFrame:
    """One row per study (x outcome): tool, overall judgement, reason, worst domains."""
    rows = []
    for (sid, outcome), grp in table.groupby(["study_id", "outcome"], sort=True):
        tool = grp["tool"].iloc[0]
        grp = grp.sort_values("domain_order")
        level, reason = overall_judgement(tool, list(grp["judgement"]))
        rows.append({"study_id": sid, "tool": tool, "outcome": outcome, "overall": level, "overall_reason": reason,
                     "severity": SEVERITY[level]})
    return pd.DataFrame(rows, columns=["study_id", "tool", "outcome", "overall", "overall_reason", "severity"])


def participants(studies_jsonl: str | Path) -> dict[str, int]:
    """study id -> participants analysed (or enrolled) as the facts give them; unknown ids are absent.
    Used only to weight the summary plot, so a study with no known n gets no weight."""
    path = Path(studies_jsonl)
    out: dict[str, int] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        n = None
        for value in (d.get("n_analyzed"), d.get("n_randomized"), (d.get("population") or {}).get("n")):
            if isinstance(value, bool):
                continue
            if isinstance(value, (int, float)):
                n = int(value)
            elif isinstance(value, dict):
                nums = [v for k, v in value.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
                arms = all(k.startswith("first_phase_") for k, v in value.items()
                           if isinstance(v, (int, float)) and not isinstance(v, bool))
                if isinstance(value.get("total"), (int, float)):
                    n = int(value["total"])
                elif nums:  # arm sizes add up; alternative counts of the same people do not
                    n = int(sum(nums)) if arms else int(max(nums))
            if n:
                break
        if n:
            out[d["record_id"]] = n
    return out


OUTPUT_COLUMNS: tuple[str, ...] = ("study_id", "tool", "outcome", "domain", "domain_name", "judgement", "support",
                                   "source")


def output_table(table: pd.DataFrame, overall_rows: pd.DataFrame) -> pd.DataFrame:
    """The report table: every domain row, then an "Overall" row per study (x outcome), tool order."""
    body = table.sort_values(["tool_order", "study_id", "outcome", "domain_order"], kind="mergesort")
    out = []
    for (sid, outcome), grp in body.groupby(["study_id", "outcome"], sort=False):
        for rec in grp.to_dict("records"):
            out.append({c: rec[c] for c in OUTPUT_COLUMNS})
        ov = overall_rows[(overall_rows["study_id"] == sid) & (overall_rows["outcome"] == outcome)].iloc[0]
        out.append({"study_id": sid, "tool": ov["tool"], "outcome": outcome, "domain": "Overall",
                    "domain_name": "Overall (tool algorithm)", "judgement": ov["overall"],
                    "support": f"Derived by the {ov['tool']} rule in docs/methods.md: {ov['overall_reason']}.",
                    "source": "derived from the domain rows above"})
    return pd.DataFrame(out, columns=list(OUTPUT_COLUMNS))


def included_study_ids(records: pd.DataFrame | None) -> list[str] | None:
    """Included study ids from the records stage (None when that stage has not run)."""
    if records is None or "included" not in records.columns:
        return None
    inc = records["included"].astype(str).str.lower().isin(("true", "1", "yes"))
    return sorted(set(records.loc[inc, "study_id"].astype(str)) - {""})


def split_awaiting(included: list[str] | None, path: Path) -> tuple[list[str] | None, list[str]]:
    """(ids the table must assess, ids awaiting assessment): a study a search found and a reviewer just
    included (id ``pmid<PMID>``) may wait for its assessment; every curated study must have one."""
    from evidence_review.review.matching import is_derived_id

    if included is None or not path.exists():
        return included, []
    assessed = set(read_csv_strict(path, required=("study_id",))["study_id"].str.strip())
    awaiting = [s for s in included if is_derived_id(s) and s not in assessed]
    return [s for s in included if s not in awaiting], awaiting


def report_stage(ctx: "ReportContext") -> None:
    """Pipeline stage "risk_of_bias": validate the curated table against the included studies, write
    ``reports/tables/risk_of_bias.csv`` and the traffic-light and weighted-summary figures."""
    from evidence_review.review import rob_plots  # plotting only when the stage runs
    from evidence_review.tables import write_table

    path = ctx.topic.files.risk_of_bias
    included, awaiting = split_awaiting(included_study_ids(ctx.tables.get("records")), path)
    ctx.facts["rob_awaiting"] = awaiting
    table = load(path, included)
    ov = overall(table)
    out = output_table(table, ov)
    ctx.tables["risk_of_bias"] = out
    ctx.tables["risk_of_bias_overall"] = ov
    ctx.written.append(write_table(out, ctx.tables_dir / "risk_of_bias.csv"))
    facts_path = ctx.topic.files.studies
    labels = rob_plots.study_labels(facts_path, sorted(set(table["study_id"])))
    weights = participants(facts_path)
    ctx.facts["rob_labels"] = labels
    ctx.facts["rob_weights"] = weights
    ctx.written += rob_plots.save(rob_plots.traffic_light(table, ov, labels), ctx.figures_dir / "rob_traffic_light")
    ctx.written += rob_plots.save(rob_plots.weighted_summary(table, ov, weights), ctx.figures_dir / "rob_summary")
    ctx.facts["rob_figures"] = ["rob_traffic_light", "rob_summary"]
