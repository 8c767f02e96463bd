"""The evidence the verdict engine queries, gathered into three plain tables.

* ``studies``  - one row per study: design (screening label when the records stage ran, else the
  compiled facts), n, population flags, how ketamine was given, adverse events. Built from the
  records table plus ``studies.jsonl`` in the shared evidence facts (the only place that holds
  intervention details and adverse events).
* ``findings`` - one row per extraction row about a clinical outcome, with the direction and the
  numbers a rule needs (responders x/n, p, CI) already worked out, in hours since dosing.
* ``facts``    - the curated context facts (``evidence/context_facts.csv``): regulation, safety
  figures, depression and PTSD trials, citation checks - each with its source.

Keeping this separate from :mod:`evidence_review.claims.verdicts` lets the rules be tested on small
synthetic tables built by hand.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evidence_review import paths
from evidence_review.claims.fact_sources import parse_locator
from evidence_review.errors import InputError
from evidence_review.review.snapshot import read_jsonl
from evidence_review.review.studies import count_once as _count_once
from evidence_review.review.topic import Topic, load_topic
from evidence_review.stats.effects import clopper_pearson
from evidence_review.tables import read_csv_strict

RCT_DESIGNS = frozenset({"rct_parallel", "rct_crossover"})
CONTROLLED_DESIGNS = RCT_DESIGNS | {"controlled_nonrandomized"}
PRIMARY_DESIGNS = CONTROLLED_DESIGNS | {
    "open_label_single_arm", "case_series", "case_report", "retrospective_chart_review",
}
DESIGN_ALIASES = {"retrospective": "retrospective_chart_review"}
HIGHER_IS_BETTER = re.compile(r"respon|remission|improvement", re.IGNORECASE)

FACT_COLUMNS: tuple[str, ...] = (
    "fact_id", "topic", "key", "statement", "value", "value_low", "value_high", "unit",
    "numerator", "denominator", "n", "design", "study_id", "source",
    # the fact's own certainty; how any number was derived from its source; the compiled-facts lines it
    # was written from and fragments of them (checked by claims.fact_sources)
    "certainty", "derived", "source_line", "source_terms",
)
FACT_CERTAINTY = ("high", "moderate", "low", "very_low")
# Fact topics every review has; a topic file adds '<condition>_harms', '<condition>_timing' and its context
# conditions (see fact_topics).
GENERIC_FACT_TOPICS = frozenset({"regulatory", "citation", "safety", "pharmacology", "practice"})
# practice facts: what guidance asks of how ketamine is given. key = the practices a source covers, joined
# by '+'; value = expected (guidance asks for it) | against (guidance warns against it) | rationale (data
# on the time course of effects that explains a practice; listed, never graded as guidance).
PRACTICE_VALUES = frozenset({"expected", "against", "rationale"})
# pharmacology facts: how ketamine acts (e.g. NMDA-receptor antagonism), with the indexed records saying so
# ocd_timing facts: when an OCD study saw (or did not see) benefit, for results reported without
# extractable effect sizes (e.g. "largest change at 1-2 h"); value = hours after dosing.
TIMING_KEYS = {"significant_benefit_at": (True, True), "benefit_at": (True, None), "no_benefit_at": (False, None)}
FINDING_COLUMNS: tuple[str, ...] = (
    "study_id", "comparison_id", "outcome", "timepoint", "hours", "hours_from", "controlled", "kind", "k_events", "k_n",
    "c_events", "c_n", "pre", "post", "p", "ci_low", "ci_high", "favours", "significant", "threshold", "summary",
    "source",
)


@dataclass
class EvidenceBase:
    studies: pd.DataFrame
    findings: pd.DataFrame
    facts: pd.DataFrame
    known_ids: frozenset[str] = field(default_factory=frozenset)
    # the synthesis stage's pooled analyses (ctx.tables["pooled"]): only comparable studies are pooled there
    pooled: pd.DataFrame = field(default_factory=pd.DataFrame)
    # GRADE per outcome (ctx.tables["sof"]) and overall risk of bias per study (ctx.tables["risk_of_bias_overall"])
    sof: pd.DataFrame = field(default_factory=pd.DataFrame)
    rob: pd.DataFrame = field(default_factory=pd.DataFrame)
    # every screened record (included or not), so a rule can say what the search found outside the question
    records: pd.DataFrame = field(default_factory=pd.DataFrame)
    topic: Topic = field(default_factory=lambda: default_topic())

    _rows: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    def study(self, study_id: str) -> dict[str, Any]:
        """One study's row as a dict (a copy; rows are cached per studies table, since rules ask often)."""
        key = (id(self.studies), study_id)
        if key not in self._rows:
            self._rows[key] = self.studies.loc[study_id].to_dict() if study_id in self.studies.index else {}
        return dict(self._rows[key])


def default_topic() -> Topic:
    """The project's default topic (evidence/topics/default), for callers that name none."""
    return load_topic(paths.default_topic())


def fact_topics(topic: Topic) -> frozenset[str]:
    """The fact topics a context-facts table may use under this review topic."""
    code = topic.condition.code
    return GENERIC_FACT_TOPICS | {f"{code}_harms", f"{code}_timing"} | set(topic.context.conditions)


# --------------------------------------------------------------------------------- context facts

def load_facts(path: str | Path | None = None, topic: Topic | None = None) -> pd.DataFrame:
    """Read and validate ``evidence/context_facts.csv`` (bad cells -> InputError with row and field)."""
    path = Path(path) if path is not None else paths.evidence_dir() / "context_facts.csv"
    df = read_csv_strict(path, FACT_COLUMNS)
    allowed = fact_topics(topic or default_topic())
    seen = set()
    for i, rec in enumerate(df.to_dict("records")):
        row = i + 2
        if not re.match(r"^[a-z0-9_]+$", rec["fact_id"]) or rec["fact_id"] in seen:
            raise InputError(f"bad or duplicate fact_id '{rec['fact_id']}'", file=path, row=row, field="fact_id")
        seen.add(rec["fact_id"])
        if rec["topic"] not in allowed:
            raise InputError(f"unknown topic '{rec['topic']}' (known: {', '.join(sorted(allowed))})", file=path, row=row,
                             field="topic")
        if rec["topic"] == "practice" and rec["value"] not in PRACTICE_VALUES:
            raise InputError(f"practice value '{rec['value']}' must be one of {', '.join(sorted(PRACTICE_VALUES))}",
                             file=path, row=row, field="value")
        for col in ("statement", "source", "certainty", "source_line"):
            if not rec[col].strip():
                raise InputError(f"empty {col}", file=path, row=row, field=col)
        if rec["certainty"] not in FACT_CERTAINTY:
            raise InputError(f"certainty '{rec['certainty']}' must be one of {', '.join(FACT_CERTAINTY)}",
                             file=path, row=row, field="certainty")
        try:
            parse_locator(rec["source_line"])
        except ValueError as exc:
            raise InputError(str(exc), file=path, row=row, field="source_line") from None
        for col in ("value_low", "value_high", "numerator", "denominator", "n"):
            if rec[col]:
                try:
                    float(rec[col])
                except ValueError:
                    raise InputError(f"'{rec[col]}' is not a number", file=path, row=row, field=col) from None
        if rec["numerator"] and rec["denominator"] and float(rec["numerator"]) > float(rec["denominator"]):
            raise InputError("numerator > denominator", file=path, row=row, field="numerator")
    return df


# --------------------------------------------------------------------------------------- studies

def _first_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, dict):
        for key in ("total", "completed"):
            if isinstance(value.get(key), (int, float)):
                return int(value[key])
        first = [v for k, v in value.items() if k.startswith("first_phase_") and isinstance(v, (int, float))]
        if first:  # a crossover's first period: its arms together are the people randomized
            return int(sum(first))
        nums = [v for v in value.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return int(max(nums)) if nums else None
    m = re.search(r"\d+", str(value))
    return int(m.group(0)) if m else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(v) for v in value)
    return str(value)


def _treatment_resistant(pop: dict) -> bool:
    tr = pop.get("treatment_resistant")
    if tr is True:
        return True
    blob = " ".join(_text(v) for v in pop.values()).lower()
    return bool(re.search(r"resistan|refractory|failed|>=2 adequate", blob)) and not re.search(
        r"unmedicated|drug-free", blob)


def studies_from_facts(path: str | Path | None = None) -> pd.DataFrame:
    """One row per study record of ``studies.jsonl`` with the fields the rules and the report use."""
    path = Path(path) if path is not None else paths.evidence_facts_dir() / "studies.jsonl"
    if not path.is_file():
        raise InputError("studies facts not found (set EVIDENCE_REVIEW_SHARED)", file=path)
    rows = []
    for _, d in read_jsonl(path):
        pop = d.get("population") or {}
        iv = d.get("intervention") or {}
        n_an = _first_int(d.get("n_analyzed"))
        n_rand = _first_int(d.get("n_randomized"))
        n = n_rand or n_an or _first_int(pop.get("n"))
        results = (d.get("outcomes") or {}).get("results") or []
        rows.append({
            "study_id": d["record_id"],
            "record_type": d.get("record_type") or "",
            "first_author": d.get("first_author") or "",
            "year": d.get("year"),
            "journal": _text(d.get("journal")),
            "title": d.get("title") or "",
            "pmid": d.get("pmid") or "",
            "pmcid": d.get("pmcid") or "",
            "doi": d.get("doi") or "",
            "nct_id": d.get("nct_id") or "",
            "design": DESIGN_ALIASES.get(d.get("design") or "", d.get("design") or ""),
            "n": n,
            "n_randomized": n_rand,
            "n_analyzed": n_an,
            "population": "; ".join(f"{k}: {_text(v)}" for k, v in pop.items() if v not in (None, "")),
            "treatment_resistant": _treatment_resistant(pop),
            "adolescent": "adolescent" in _text(pop.get("age_group")).lower(),
            "drug": _text(iv.get("drug")),
            "dose": _text(iv.get("dose")),
            "route": _text(iv.get("route")),
            "infusion_duration": _text(iv.get("infusion_duration")),
            "n_infusions": _text(iv.get("n_infusions")),
            "spacing": _text(iv.get("spacing") or iv.get("duration")),
            "concomitant": _text(iv.get("concomitant_therapy")),
            "control": _text(d.get("control")),
            "adverse_events": _text(d.get("adverse_events")),
            "results_text": " | ".join(f"{_text(r.get('measure'))}: {_text(r.get('value'))}" for r in results),
            "registry_status": _text((d.get("registration") or {}).get("status")),
            "source_url": (d.get("source_urls") or [""])[0],
        })
    return pd.DataFrame(rows).set_index("study_id", drop=False).rename_axis(None)


def merge_records(studies: pd.DataFrame, records: pd.DataFrame | None) -> pd.DataFrame:
    """Prefer the screening stage's design label and inclusion flag where the records table has them."""
    out = studies.copy()
    out["included"] = out["design"].isin(PRIMARY_DESIGNS)
    out["design_source"] = "studies facts"
    # every report is its own study unless the records stage links it to a parent (review.studies)
    out["study_group"] = out["study_id"]
    out["study_design"] = out["design"]
    out["report_type"] = ""
    if records is None or records.empty or "study_id" not in records.columns:
        return out
    rec = records.drop_duplicates("study_id").set_index("study_id")
    out = pd.concat([out, _searched_studies(rec, out)]) if "included" in rec.columns else out
    for sid in out.index:
        if sid not in rec.index:
            continue
        if "design" in rec.columns and str(rec.at[sid, "design"] or ""):
            out.at[sid, "design"] = str(rec.at[sid, "design"])
            out.at[sid, "design_source"] = "records (screening)"
        for col in ("study_group", "study_design", "report_type"):
            if col in rec.columns and str(rec.at[sid, col] or ""):
                out.at[sid, col] = str(rec.at[sid, col])
        if "included" in rec.columns:
            val = str(rec.at[sid, "included"]).strip().lower()
            out.at[sid, "included"] = val in ("true", "1", "yes", "include", "included")
    return out


def _searched_studies(rec: pd.DataFrame, known: pd.DataFrame) -> pd.DataFrame:
    """Included records that the curated facts do not describe (found by a search, included by a reviewer):
    one study row each with what the record says (design, year, identifiers); n comes from extraction."""
    new = [sid for sid in rec.index if sid not in known.index
           and str(rec.at[sid, "included"]).strip().lower() in ("true", "1")]
    rows = []
    for sid in new:
        r = rec.loc[sid]
        get = lambda k: "" if k not in r.index or pd.isna(r[k]) else r[k]  # noqa: E731
        rows.append({"study_id": sid, "record_type": "study", "first_author": get("first_author"),
                     "year": get("year") or None, "journal": get("journal"), "title": get("title"),
                     "pmid": get("pmid"), "pmcid": get("pmcid"), "doi": get("doi"), "nct_id": get("nct_id"),
                     "design": get("design"), "n": None, "n_randomized": None, "n_analyzed": None,
                     "population": "", "treatment_resistant": False, "adolescent": False, "drug": "", "dose": "",
                     "route": "", "infusion_duration": "", "n_infusions": "", "spacing": "", "concomitant": "",
                     "control": "", "adverse_events": "", "results_text": "", "registry_status": "",
                     "source_url": get("source_url")})
    df = pd.DataFrame(rows, columns=list(known.columns.drop(["included", "design_source"], errors="ignore")))
    return df.set_index("study_id", drop=False).rename_axis(None).assign(
        included=df["design"].isin(PRIMARY_DESIGNS).to_numpy() if len(df) else [], design_source="records (search)",
        found_by="search")


def _n_from_extraction(studies: pd.DataFrame, extraction: pd.DataFrame | None) -> pd.DataFrame:
    """Studies a search found enter the evidence once extracted (until then they await extraction and move
    no verdict); their n is the largest total an extraction row gives (n1i + n2i, ni, or the 2x2 cells)."""
    if "found_by" not in studies.columns:
        return studies
    searched = studies.index[studies["found_by"].eq("search")]
    extracted = set() if extraction is None or extraction.empty else set(extraction["study_id"])
    out = studies.drop(index=[s for s in searched if s not in extracted])
    for sid in [s for s in searched if s in extracted]:
        rows = extraction[extraction["study_id"] == sid]
        totals = [max((_f(r.get("n1i")) or 0) + (_f(r.get("n2i")) or 0), _f(r.get("ni")) or 0,
                      sum(_f(r.get(k)) or 0 for k in ("ai", "bi", "ci", "di")))
                  for r in rows.to_dict("records")]
        if totals and max(totals) > 0:
            out.at[sid, "n"] = int(max(totals))
    return out


# -------------------------------------------------------------------------------------- findings

def exact_ci(x: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval for x/n: the review's one interval for a single proportion,
    the same numbers as effects.csv and the forest plots (docs/methods.md)."""
    if n <= 0:
        return (math.nan, math.nan)
    lo, hi = clopper_pearson(x, n, level)
    return (float(lo), float(hi))


def _f(v: Any) -> float | None:
    if v is None or v == "":
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def finding_from_row(rec: dict, effect: dict | None = None, *, response_fraction: float) -> dict:
    """Work out direction, numbers and a one-line summary for one extraction row.

    Direction conventions: responders - more responders with ketamine; symptom scales (Y-BOCS,
    CY-BOCS, OCD-VAS, MADRS ...) - lower is better, so a fall from pre to post favours ketamine;
    test statistics - the curated ``effect_sign`` (direction as reported: -1 = the score fell, which
    favours ketamine on a symptom scale; +1 favours it on a responder/improvement outcome) and ``pval``."""
    g = lambda k: _f(rec.get(k))  # noqa: E731
    days = g("timepoint_days")
    hours = days * 24 if days is not None else None
    design = str(rec.get("design") or "")
    ctype = str(rec.get("comparison_type") or "")
    controlled = design in CONTROLLED_DESIGNS and ctype in ("between_groups", "within_person")
    out = {k: None for k in FINDING_COLUMNS}
    # a window such as "days 1-3" starts at day 1: a null result there also speaks to 24 h
    span = re.search(r"days? (\d+(?:\.\d+)?)\s*-\s*\d+", str(rec.get("timepoint") or ""))
    hours_from = float(span.group(1)) * 24 if span else hours
    out.update(study_id=rec.get("study_id"), comparison_id=rec.get("comparison_id"), outcome=rec.get("outcome"),
               timepoint=rec.get("timepoint"), hours=hours, hours_from=hours_from, controlled=controlled, source=rec.get("source"),
               threshold=g("response_threshold_pct"))
    ci_low = _f((effect or {}).get("ci_low"))
    ci_high = _f((effect or {}).get("ci_high"))
    out.update(ci_low=ci_low, ci_high=ci_high)
    when = f" at {rec.get('timepoint')}" if rec.get("timepoint") else ""
    ai, bi, ci, di = g("ai"), g("bi"), g("ci"), g("di")
    xi, ni = g("xi"), g("ni")
    if None not in (ai, bi, ci, di):
        k_n, c_n = ai + bi, ci + di
        p = float(stats.fisher_exact([[ai, bi], [ci, di]])[1])
        out.update(kind="responders", k_events=ai, k_n=k_n, c_events=ci, c_n=c_n, p=p,
                   favours=(ai / k_n > ci / c_n) if k_n and c_n else None, significant=p < 0.05,
                   summary=f"{rec.get('outcome')} {ai:g}/{k_n:g} vs {ci:g}/{c_n:g}{when} (Fisher p={p:.2g})")
    elif xi is not None and ni is not None:
        lo, hi = exact_ci(xi, ni)
        out.update(kind="responders", k_events=xi, k_n=ni, favours=xi > 0, significant=None,
                   summary=f"{rec.get('outcome')} {xi:g}/{ni:g}{when} (95% CI {lo:.0%}-{hi:.0%})")
    elif g("m1i") is not None and g("m2i") is not None and str(rec.get("input_group", "pre_post")) != "two_means" \
            and ctype in ("pre_post", "single_group"):
        post, pre = g("m1i"), g("m2i")
        sig = None if ci_low is None else (ci_low > 0 or ci_high < 0)
        drop = (pre - post) / pre if pre else 0.0
        # a fall counts as benefit when its CI excludes zero, or (no CI) when it reaches the response level
        fav = post < pre and (sig if sig is not None else drop >= response_fraction)
        out.update(kind="pre_post", pre=pre, post=post, k_n=g("ni"), favours=fav, significant=sig,
                   summary=f"{rec.get('scale') or rec.get('outcome')} {pre:g} -> {post:g}{when} (n={_fmt(g('ni'))})")
    else:
        p = g("pval")
        sign = g("effect_sign")
        n1, n2 = g("n1i"), g("n2i")
        n = g("ni") or ((n1 or 0) + (n2 or 0)) or None
        if p is None and ci_low is not None:
            sig = ci_low > 0 or ci_high < 0
        else:
            sig = None if p is None else p < 0.05
        higher_better = bool(HIGHER_IS_BETTER.search(str(rec.get("outcome") or "")))
        fav = None if sign is None else (sign > 0) == higher_better
        stat = (f"F={_fmt(g('fi'))}" if g("fi") is not None else f"t={_fmt(g('ti'))}" if g("ti") is not None else "")
        pv = f"p={p:.2g}" if p is not None else ""
        out.update(kind="statistic", k_n=n, p=p, favours=fav, significant=sig,
                   summary=f"{rec.get('outcome')}{when}: {', '.join(x for x in (stat, pv) if x)} (n={_fmt(n)})")
    return out


def findings_from_extraction(extraction: pd.DataFrame | None, effects: pd.DataFrame | None = None, *,
                             response_fraction: float) -> pd.DataFrame:
    """One finding per extraction row; CIs come from the effects table when it has the row.
    ``response_fraction`` is the topic's response threshold (e.g. 0.35), never a built-in default."""
    if extraction is None or extraction.empty:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    eff_by_id: dict[str, dict] = {}
    if effects is not None and not effects.empty and "comparison_id" in effects.columns:
        eff_by_id = {str(r["comparison_id"]): r for r in effects.to_dict("records")}
    rows = [finding_from_row(rec, eff_by_id.get(str(rec.get("comparison_id"))), response_fraction=response_fraction)
            for rec in extraction.to_dict("records")]
    df = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    return df.sort_values(["study_id", "hours", "comparison_id"], kind="mergesort", na_position="last").reset_index(drop=True)


def findings_from_timing(facts: pd.DataFrame, studies: pd.DataFrame, topic: Topic | None = None) -> pd.DataFrame:
    """Timing facts (topic '<condition>_timing') as findings, so onset/durability rules see them like rows."""
    topic = topic or default_topic()
    rows = []
    for rec in facts[facts["topic"] == f"{topic.condition.code}_timing"].to_dict("records"):
        fav, sig = TIMING_KEYS.get(rec["key"], (None, None))
        design = studies.at[rec["study_id"], "design"] if rec["study_id"] in studies.index else rec["design"]
        out = {k: None for k in FINDING_COLUMNS}
        hours = float(rec["value"])
        k_ev, k_n = _f(rec["numerator"]), _f(rec["denominator"])
        counts = f" {k_ev:g}/{k_n:g}" if k_ev is not None and k_n is not None else ""
        out.update(study_id=rec["study_id"], comparison_id=rec["fact_id"], outcome=f"{topic.condition.label} symptoms (timing)",
                   timepoint=f"{hours:g} h", hours=hours, hours_from=hours, controlled=design in CONTROLLED_DESIGNS, kind="timing",
                   favours=fav, significant=sig, source=rec["source"],
                   summary=f"{rec['key'].replace('_', ' ')} {hours:g} h{counts} [{rec['fact_id']}]")
        rows.append(out)
    return pd.DataFrame(rows, columns=FINDING_COLUMNS)


def build(tables: dict[str, pd.DataFrame], facts: pd.DataFrame | None = None,
          studies: pd.DataFrame | None = None, topic: Topic | None = None) -> EvidenceBase:
    """Assemble the evidence base from the pipeline's tables (records, extraction, effects)."""
    topic = topic or default_topic()
    studies = studies if studies is not None else studies_from_facts(topic.files.studies if topic.files else None)
    studies = merge_records(studies, tables.get("records"))
    studies = _n_from_extraction(studies, tables.get("extraction"))
    facts = facts if facts is not None else load_facts(topic.files.context_facts if topic.files else None, topic)
    findings = findings_from_extraction(tables.get("extraction"), tables.get("effects"),
                                        response_fraction=topic.outcome.response_threshold)
    timing = findings_from_timing(facts, studies, topic)
    if not timing.empty:
        findings = pd.concat([findings, timing], ignore_index=True) if not findings.empty else timing
        findings = findings.sort_values(["study_id", "hours", "comparison_id"], kind="mergesort",
                                        na_position="last").reset_index(drop=True)
    known = set(studies.index)
    if tables.get("records") is not None and "study_id" in tables["records"].columns:
        known |= set(tables["records"]["study_id"].astype(str))
    pooled = tables.get("pooled")
    sof, rob = tables.get("sof"), tables.get("risk_of_bias_overall")
    records = tables.get("records")
    return EvidenceBase(studies=studies, findings=findings, facts=facts, known_ids=frozenset(known),
                        pooled=pooled if pooled is not None else pd.DataFrame(),
                        sof=sof if sof is not None else pd.DataFrame(), rob=rob if rob is not None else pd.DataFrame(),
                        topic=topic, records=records if records is not None else pd.DataFrame())


def count_once(studies: pd.DataFrame, ids: Any = None) -> dict[str, Any]:
    """Reports, distinct studies and participants among ``ids`` (all rows if None), each study once.

    Reports of the same study (``study_group``) share participants: a study counts its largest n."""
    return _count_once(studies, ids, "n")


def nan_to_none(x: Any) -> Any:
    return None if isinstance(x, float) and np.isnan(x) else x
