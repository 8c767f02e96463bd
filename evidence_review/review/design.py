"""Study-design labels: automatic rules, curated overrides, and how well the two agree.

The rules read what a PubMed record carries - publication types (the strongest signal, assigned by NLM
indexers), MeSH headings, the title and abstract - plus, for the offline snapshot, publisher labels
(``source_labels``) and registry ids. Each record gets one label from :data:`LABELS`, a confidence in
[0, 1] and a one-line reason naming the cue, so a reviewer can see *why* and overrule it. Confidence is
a rule's prior reliability, not a calibrated probability: PubMed types score highest, title words lower,
"other" lowest.

A reviewer's labels in ``evidence/design_overrides.csv`` (study_id or pmid, design, reviewer, reason) win.
Agreement between the automatic and the final (curated) labels is reported as accuracy and Cohen's kappa.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from evidence_review.errors import InputError
from evidence_review.tables import claim_once, read_csv_strict, require_values

LABELS: tuple[str, ...] = (
    "rct_parallel", "rct_crossover", "controlled_nonrandomized", "open_label_single_arm", "case_series",
    "case_report", "retrospective_chart_review", "systematic_review", "meta_analysis", "narrative_review",
    "guideline", "preclinical", "trial_registration", "letter_comment", "other",
)
PRIMARY_CLINICAL: frozenset[str] = frozenset({
    "rct_parallel", "rct_crossover", "controlled_nonrandomized", "open_label_single_arm", "case_series",
    "case_report", "retrospective_chart_review",
})
REVIEW_LIKE: frozenset[str] = frozenset({"systematic_review", "meta_analysis", "narrative_review", "guideline"})

OVERRIDE_COLUMNS = ("study_id", "pmid", "design", "reviewer", "reason")


@dataclass(frozen=True)
class DesignLabel:
    label: str
    confidence: float
    reason: str


def _words(text: str) -> str:
    return " " + re.sub(r"\s+", " ", text.lower().replace("‐", "-").replace("–", "-")) + " "


def _has(text: str, *patterns: str) -> str | None:
    """The first pattern (regex, matched at a word start) found in ``text``, else None."""
    for p in patterns:
        m = re.search(r"(?<![a-z0-9])" + p, text)
        if m:
            return m.group(0).strip()
    return None


_NONHUMAN = (r"mice\b", r"mouse\b", r"rats?\b", r"rodents?\b", r"murine", r"marble[- ]burying", r"knockout",
             r"sapap3", r"zebrafish", r"in vitro", r"[a-z]+-like behaviou?rs?", r"animal models?", r"monkeys?\b", r"primates?\b")
_CROSSOVER = (r"cross[- ]?over",)
_RANDOMIZED = (r"randomi[sz]ed", r"randomly assigned", r"randomi[sz]ation")
_OPEN = (r"open[- ]label", r"open trial", r"single[- ]arm", r"uncontrolled")
_CHART = (r"chart review", r"retrospective", r"medical records?", r"case notes")
_MANY_CASES = (r"case series", r"(two|three|four|five|six|seven|eight|nine|ten|\d+) (consecutive )?(cases|patients)\b",
               r"cases of\b", r"series of\b")
_ONE_CASE = (r"case report", r"a case\b", r"a patient\b", r"single case", r"a \d+-year-old", r"clinical case")
_CONTROLLED = (r"placebo", r"controlled", r"double[- ]blind", r"versus\b", r"vs\.?\s", r"compared with")


def _design_cues(text: str, base: float) -> DesignLabel | None:
    """Primary-study design from title/abstract words; ``base`` is the confidence for a title cue."""
    rand, cross = _has(text, *_RANDOMIZED), _has(text, *_CROSSOVER)
    if rand and cross:
        return DesignLabel("rct_crossover", base + 0.05, f"text says '{rand}' and '{cross}'")
    if cross and _has(text, r"double[- ]blind", r"placebo", r"controlled"):
        return DesignLabel("rct_crossover", base - 0.1, f"text describes a blinded/controlled '{cross}' study")
    if rand:
        return DesignLabel("rct_parallel", base, f"text says '{rand}' (no crossover cue)")
    # first matching cue wins: the order encodes precedence (a chart review of cases is not a case report)
    for patterns, label in ((_OPEN, "open_label_single_arm"), (_CHART, "retrospective_chart_review"),
                            (_MANY_CASES, "case_series"), (_ONE_CASE, "case_report")):
        cue = _has(text, *patterns)
        if cue:
            return DesignLabel(label, base, f"text says '{cue}'")
    return None


def _review_cues(text: str, base: float) -> DesignLabel | None:
    cue = _has(text, r"meta-?analy[sz]\w*", r"pooled analysis")
    if cue:
        return DesignLabel("meta_analysis", base + 0.05, f"text says '{cue}'")
    cue = _has(text, r"systematic(ally)? review", r"scoping review", r"umbrella review")
    if cue:
        return DesignLabel("systematic_review", base, f"text says '{cue}'")
    cue = _has(text, r"guidelines?\b", r"consensus statement", r"recommendations for")
    if cue:
        return DesignLabel("guideline", base, f"text says '{cue}'")
    return None


def as_list(value: Any) -> list[str]:
    """A multi-valued field as a list, whether it arrives as a list (frames) or "; "-joined text (CSV)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(v) for v in value if str(v)]
    if isinstance(value, str) and value:
        return [v for v in value.split("; ") if v]
    return []


def classify(record: Mapping[str, Any]) -> DesignLabel:
    """Label one record (a dict with RECORD_COLUMNS keys; snapshot extras used when present)."""
    title = str(record.get("title") or "")
    abstract = str(record.get("abstract") or "")
    text = _words(f"{title} {abstract}")
    title_text = _words(title)
    types = {t.strip().lower() for t in as_list(record.get("publication_types"))}
    labels = {t.strip().lower() for t in as_list(record.get("source_labels"))}
    mesh = {m.rstrip("*").strip().lower() for m in as_list(record.get("mesh_terms"))}
    has_pub_id = any(str(record.get(k) or "") for k in ("pmid", "doi", "pmcid")) or bool(str(record.get("journal") or ""))
    registry = str(record.get("nct_id") or "") or str(record.get("other_registry_id") or "")

    # 1. Registry entries: no publication identifiers, only a registry id.
    if registry and not has_pub_id:
        return DesignLabel("trial_registration", 0.99, f"registry record {registry} with no publication identifiers")
    if "clinical trial protocol" in types:
        return DesignLabel("trial_registration", 0.7, "PubMed type 'Clinical Trial Protocol' (protocol, no results)")

    # 2. Animal / laboratory work.
    if "animals" in mesh and "humans" not in mesh:
        return DesignLabel("preclinical", 0.95, "MeSH 'Animals' without 'Humans'")
    cue = _has(text, *_NONHUMAN)
    if cue and not _has(text, r"patients?\b", r"humans?\b", r"participants", r"adults?\b", r"adolescents?\b"):
        return DesignLabel("preclinical", 0.85, f"text mentions '{cue}' and no patients")

    # 3. NLM publication types (most reliable when present).
    if "meta-analysis" in types:
        return DesignLabel("meta_analysis", 0.95, "PubMed type 'Meta-Analysis'")
    if "systematic review" in types:
        return DesignLabel("systematic_review", 0.92, "PubMed type 'Systematic Review'")
    if types & {"practice guideline", "guideline", "consensus development conference"}:
        return DesignLabel("guideline", 0.92, "PubMed type 'Practice Guideline'/'Guideline'")
    if "randomized controlled trial" in types:
        if _has(text, *_CROSSOVER):
            return DesignLabel("rct_crossover", 0.92, "PubMed type 'Randomized Controlled Trial' and a crossover cue")
        return DesignLabel("rct_parallel", 0.88, "PubMed type 'Randomized Controlled Trial', no crossover cue")
    if "congress" in types or "congress" in labels:
        # a meeting abstract is a kind of report, not a design: label the study it reports (its report_type,
        # "conference abstract", is kept by review.studies); no cue -> "other" until a reviewer decides
        src = "PubMed type" if "congress" in types else "publisher label"
        found = _review_cues(title_text, 0.7) or _design_cues(text, 0.7)
        if found:
            return DesignLabel(found.label, found.confidence, f"{src} 'Congress' (meeting abstract); {found.reason}")
        return DesignLabel("other", 0.3, f"{src} 'Congress' (meeting abstract) with no design cue")
    if "case reports" in types:
        many = _has(text, *_MANY_CASES)
        if many:
            return DesignLabel("case_series", 0.8, f"PubMed type 'Case Reports' and text says '{many}'")
        return DesignLabel("case_report", 0.88, "PubMed type 'Case Reports'")
    if types & {"clinical trial", "clinical trial, phase i", "clinical trial, phase ii", "clinical trial, phase iii",
                "clinical trial, phase iv", "controlled clinical trial", "observational study", "comparative study"}:
        found = _design_cues(text, 0.8)
        if found:
            return DesignLabel(found.label, found.confidence, "PubMed trial/observational type; " + found.reason)
        if "controlled clinical trial" in types:
            return DesignLabel("controlled_nonrandomized", 0.75, "PubMed type 'Controlled Clinical Trial', no randomisation cue")
        if "observational study" in types:
            return DesignLabel("other", 0.4, "PubMed type 'Observational Study' without a design cue")
        return DesignLabel("open_label_single_arm", 0.55, "PubMed type 'Clinical Trial' with no control or randomisation cue")

    # 4. Title/abstract cues: reviews first (their titles name the designs they summarise).
    found = _review_cues(title_text, 0.85) or _review_cues(text, 0.7)
    if found:
        return found
    if "review" in types or "review" in labels:
        src = "PubMed type" if "review" in types else "publisher label"
        return DesignLabel("narrative_review", 0.8, f"{src} 'Review' without systematic/meta-analysis cue")
    found = _design_cues(text, 0.75)
    if found:
        return found
    if labels & {"case reports"}:
        return DesignLabel("case_report", 0.75, "publisher label 'Case Report'")
    cue = _has(title_text, r"(a )?review\b", r"literature\b", r"perspective", r"overview", r"update on")
    if cue or "perspective" in labels:
        return DesignLabel("narrative_review", 0.65, f"title says '{cue}'" if cue else "publisher label 'Perspective'")
    if types & {"letter", "comment", "editorial"} or "letter" in labels:
        src = "PubMed type" if types & {"letter", "comment", "editorial"} else "publisher label"
        return DesignLabel("letter_comment", 0.65, f"{src} 'Letter'/'Comment' and no study-design cue")
    cue = _has(text, *_CONTROLLED)
    if cue and _has(text, r"trial\b", r"study\b"):
        return DesignLabel("controlled_nonrandomized", 0.45, f"text says '{cue}' without randomisation")
    return DesignLabel("other", 0.3, "no publication type or design cue in title/abstract")


def classify_frame(records: pd.DataFrame) -> pd.DataFrame:
    """study_id, pmid, design_auto, design_confidence_auto, design_reason_auto for every record."""
    rows = []
    for rec in records.to_dict(orient="records"):
        lab = classify(rec)
        rows.append({"study_id": rec.get("study_id", rec.get("pmid", "")), "pmid": rec.get("pmid", ""),
                     "design_auto": lab.label, "design_confidence_auto": lab.confidence, "design_reason_auto": lab.reason})
    return pd.DataFrame(rows, columns=["study_id", "pmid", "design_auto", "design_confidence_auto", "design_reason_auto"])


# ---------------------------------------------------------------------------------------------- overrides


def resolve_record_id(rec: Mapping[str, str], row: int, path: Path, records: pd.DataFrame | None) -> str | None:
    """The study_id a curated CSV row names (by study_id or pmid), checked against ``records`` if given.

    None for a row about a record known only from a search (id ``pmid<PMID>``, written by ``screen``) that
    this run does not hold: the offline snapshot, or an older pull, does not list it, and that is no error."""
    sid, pmid = rec.get("study_id", "").strip(), rec.get("pmid", "").strip()
    if not sid and not pmid:
        raise InputError("give a study_id or a pmid", file=path, row=row, field="study_id")
    if records is None:
        return sid or pmid
    if sid and sid not in set(records["study_id"]):
        if re.fullmatch(r"pmid\d+", sid):
            return None
        raise InputError(f"unknown study_id {sid!r}", file=path, row=row, field="study_id")
    by_pmid = {p: s for p, s in zip(records["pmid"], records["study_id"]) if p}
    if pmid and pmid not in by_pmid:
        raise InputError(f"unknown pmid {pmid!r}", file=path, row=row, field="pmid")
    if sid and pmid and by_pmid[pmid] != sid:
        raise InputError(f"pmid {pmid} belongs to {by_pmid[pmid]!r}, not {sid!r}", file=path, row=row, field="pmid")
    return sid or by_pmid[pmid]


def load_overrides(path: str | Path, records: pd.DataFrame | None = None) -> pd.DataFrame:
    """Validated overrides (columns study_id, design, reviewer, reason; one row per record).

    Each row names a record by ``study_id`` or ``pmid`` (a pmid is resolved to its study_id); an unknown
    label, an unknown id (when ``records`` is given), a missing field or a record named twice raises
    InputError naming the file, row (header = row 1) and field."""
    path = Path(path)
    df = read_csv_strict(path, required=("design", "reviewer", "reason"))
    if "study_id" not in df.columns and "pmid" not in df.columns:
        raise InputError("needs a 'study_id' or 'pmid' column", file=path, row=1, field="study_id")
    out, seen = [], {}
    for i, rec in enumerate(df.to_dict(orient="records")):
        row = i + 2
        sid = resolve_record_id(rec, row, path, records)
        design = rec["design"].strip()
        if design not in LABELS:
            raise InputError(f"unknown design label {design!r} (known: {', '.join(LABELS)})", file=path, row=row, field="design")
        require_values(rec, ("reviewer", "reason"), path, row)
        if sid is None:
            continue  # a searched record this run does not hold
        claim_once(seen, sid, path, row, "study_id", "overridden")
        out.append({"study_id": sid, "design": design, "reviewer": rec["reviewer"].strip(), "reason": rec["reason"].strip()})
    return pd.DataFrame(out, columns=["study_id", "design", "reviewer", "reason"])


def apply_overrides(auto: pd.DataFrame, overrides: pd.DataFrame) -> pd.DataFrame:
    """Final labels: the reviewer's where one exists (confidence 1, source 'override'), else the rule's."""
    out = auto.copy()
    by_id = overrides.set_index("study_id")
    final, conf, reason, source = [], [], [], []
    for rec in out.to_dict(orient="records"):
        sid = rec["study_id"]
        if sid in by_id.index:
            o = by_id.loc[sid]
            final.append(o["design"])
            conf.append(1.0)
            agrees = "confirms" if o["design"] == rec["design_auto"] else f"overrides rule label {rec['design_auto']}"
            reason.append(f"reviewer {o['reviewer']} ({agrees}): {o['reason']}")
            source.append("override")
        else:
            final.append(rec["design_auto"])
            conf.append(rec["design_confidence_auto"])
            reason.append(rec["design_reason_auto"])
            source.append("auto")
    return out.assign(design=final, design_confidence=conf, design_reason=reason, design_source=source)


# ---------------------------------------------------------------------------------------------- agreement


def cohens_kappa(a: Sequence[str], b: Sequence[str]) -> float:
    """Cohen's kappa for two raters' nominal labels: (p_o - p_e) / (1 - p_e).

    Returns 1.0 when both raters use a single identical category throughout (p_e = 1)."""
    if len(a) != len(b) or not len(a):
        raise ValueError("kappa needs two equal-length, non-empty label sequences")
    cats = sorted(set(a) | set(b))
    table = confusion_table(a, b, cats)
    n = table.sum()
    p_o = np.trace(table) / n
    p_e = float((table.sum(axis=1) * table.sum(axis=0)).sum()) / n**2
    if p_e == 1.0:
        return 1.0
    return float((p_o - p_e) / (1 - p_e))


def confusion_table(a: Sequence[str], b: Sequence[str], cats: Sequence[str]) -> np.ndarray:
    """Counts with rows = rater a's labels and columns = rater b's, in ``cats`` order."""
    index = {c: i for i, c in enumerate(cats)}
    table = np.zeros((len(cats), len(cats)), dtype=int)
    for x, y in zip(a, b):
        table[index[x], index[y]] += 1
    return table


def agreement(auto: Sequence[str], curated: Sequence[str]) -> dict[str, Any]:
    """Accuracy and Cohen's kappa of automatic labels against curated ones, plus per-label counts."""
    auto, curated = list(auto), list(curated)
    n = len(auto)
    agree = sum(x == y for x, y in zip(auto, curated))
    per_label = {}
    for lab in sorted(set(curated) | set(auto)):
        per_label[lab] = {
            "curated": sum(y == lab for y in curated),
            "auto": sum(x == lab for x in auto),
            "agree": sum(x == y == lab for x, y in zip(auto, curated)),
        }
    return {"n": n, "agree": agree, "accuracy": agree / n if n else float("nan"),
            "kappa": cohens_kappa(auto, curated) if n else float("nan"), "per_label": per_label}


def agreement_frame(result: dict[str, Any]) -> pd.DataFrame:
    """Per-label table for reports/tables/design_agreement.csv (an 'all' row carries accuracy and kappa)."""
    rows = [{"label": lab, **counts} for lab, counts in result["per_label"].items()]
    rows.append({"label": "all", "curated": result["n"], "auto": result["n"], "agree": result["agree"]})
    df = pd.DataFrame(rows, columns=["label", "curated", "auto", "agree"])
    df["accuracy"] = [None] * (len(df) - 1) + [result["accuracy"]]
    df["kappa"] = [None] * (len(df) - 1) + [result["kappa"]]
    return df


def label_records(records: pd.DataFrame, overrides_path: str | Path | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Rule labels + overrides for every record, and the agreement between them.

    Returns (frame with study_id, design_auto..., design, design_confidence, design_reason, design_source,
    agreement dict). The reviewer checked every snapshot record, so the curated label of a record without an
    override is the rule's label; agreement is computed over all records given. A live-pull frame without
    ``study_id`` is keyed by PMID."""
    if "study_id" not in records.columns:
        records = records.assign(study_id=records["pmid"].astype(str))
    auto = classify_frame(records)
    if overrides_path is not None and Path(overrides_path).exists():
        overrides = load_overrides(overrides_path, records)
    else:
        overrides = pd.DataFrame(columns=["study_id", "design", "reviewer", "reason"])
    final = apply_overrides(auto, overrides)
    result = agreement(final["design_auto"], final["design"])
    result["overrides"] = int(len(overrides))
    result["overrides_changing_label"] = int((final["design_source"].eq("override") & final["design"].ne(final["design_auto"])).sum())
    return final, result


def confusion_frame(auto: Sequence[str], curated: Sequence[str]) -> pd.DataFrame:
    """Rule label (rows) x curated label (columns) counts, for reading where the rules go wrong."""
    cats = [lab for lab in LABELS if lab in set(auto) | set(curated)]
    table = confusion_table(list(auto), list(curated), cats)
    return pd.DataFrame(table, index=pd.Index(cats, name="rule label"), columns=pd.Index(cats, name="curated label"))


def design_by_year(table: pd.DataFrame) -> pd.DataFrame:
    """Records per publication year (rows; 'unknown' last) and design label (columns), with totals."""
    years = table["year"].astype("string").fillna("unknown")
    out = pd.crosstab(years, table["design"], margins=True, margins_name="total")
    order = sorted((y for y in out.index if y not in ("unknown", "total"))) + [y for y in ("unknown", "total") if y in out.index]
    return out.loc[order]
