"""The offline registrations: the review's hand-compiled trial registrations as API v2-shaped studies.

Why this shape: the committed file (``evidence/registers/registrations.json``) goes through the same
``registers.table.registration_row`` as a live ClinicalTrials.gov pull, so the review treats a registration
the same whichever way it arrived. ``build_offline`` compiles it from the evidence facts
(``studies.jsonl``, records with ``design`` = trial_registration); ``load_offline`` reads and checks it.

Saying no more than the facts: a field is filled only when the facts state it; every value that is read
out of free text (a date in "Dec 1, 2013", a count in "10 (actual)") is listed under the study's
``derived`` map with the text it came from and the rule used; conflicting or missing facts stay empty.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidence_review.errors import InputError

FORMAT = "evidence-review offline registrations 1"
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_STATUS = {"completed": "COMPLETED", "terminated": "TERMINATED", "recruiting": "RECRUITING",
           "active, not recruiting": "ACTIVE_NOT_RECRUITING", "pending": "PENDING",
           "not yet recruiting": "NOT_YET_RECRUITING", "withdrawn": "WITHDRAWN", "suspended": "SUSPENDED"}
_PHASES = {"1": ["PHASE1"], "2": ["PHASE2"], "3": ["PHASE3"], "4": ["PHASE4"], "1/2": ["PHASE1", "PHASE2"]}


@dataclass(frozen=True)
class Vocabulary:
    """The topic's words for reading registrations: drug names to list as interventions, and the
    condition a title names (pattern, and the condition name to record). Passed in by the caller, so
    retrieval needs no review code."""

    drugs: tuple[str, ...] = ()
    condition_pattern: str = r"(?!x)x"
    condition_name: str = ""
_REGISTRIES = (("NCT", "ClinicalTrials.gov"), ("IRCT", "IRCT (Iranian Registry of Clinical Trials)"),
               ("RBR-", "ReBEC (Brazilian Clinical Trials Registry)"))


def parse_date(text: str) -> str:
    """The first date in ``text`` as YYYY-MM-DD or YYYY-MM (as precise as written); '' if none."""
    t = text.strip()
    m = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", t)
    if m:
        return m.group(0)
    m = re.search(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", t)  # registry pages in US order: MM/DD/YYYY
    if m:
        return f"{m.group(3)}-{int(m.group(1)):02d}-{int(m.group(2)):02d}"
    m = re.search(r"\b([A-Za-z]{3})[a-z]*\.?\s+(?:(\d{1,2}),?\s+)?(\d{4})\b", t)
    if m and m.group(1).lower() in _MONTHS:
        month = _MONTHS[m.group(1).lower()]
        return f"{m.group(3)}-{month:02d}-{int(m.group(2)):02d}" if m.group(2) else f"{m.group(3)}-{month:02d}"
    return ""


def parse_enrollment(text: str) -> tuple[int | None, str]:
    """(count, ACTUAL / ESTIMATED / '') from e.g. '10 (actual)', 'target 15', '120 (estimated)'."""
    m = re.search(r"\d+", text or "")
    if not m:
        return None, ""
    low = text.lower()
    head = low[: m.end() + 12]  # the words around the first number decide its type
    if "actual" in head or "started" in head:
        return int(m.group()), "ACTUAL"
    if any(w in head for w in ("target", "planned", "estimated")):
        return int(m.group()), "ESTIMATED"
    return int(m.group()), ""


def _registry(reg_id: str) -> str:
    return next((name for prefix, name in _REGISTRIES if reg_id.startswith(prefix)), "other registry")


def _status(text: str) -> str:
    low = re.split(r"\s\(", text.strip().lower(), maxsplit=1)[0]
    return _STATUS.get(low, "")


def _results(text: str) -> bool | str | None:
    low = text.strip().lower()
    if re.match(r"yes\b", low):
        return True
    if re.match(r"no\b", low):
        return False
    return "unclear" if low else None


def study_from_fact(d: dict, line: int, facts_name: str = "studies.jsonl", vocab: Vocabulary = Vocabulary()) -> dict:
    """One facts record (design trial_registration) as an API v2-shaped study with sources and derivations."""
    reg = d.get("registration") or {}
    details = reg.get("details") or {}
    reg_id = d.get("nct_id") or re.split(r"\s", d.get("other_registry_id") or "")[0]
    if not reg_id:
        raise InputError("registration without a registry id", file=facts_name, row=line, field="nct_id")
    derived: dict[str, str] = {}

    def note(field: str, source: str, rule: str) -> None:
        derived[field] = f"{rule}, from {source}"

    status_text = reg.get("status") or ""
    status = _status(status_text)
    if status:
        note("overallStatus", f"registration.status {status_text!r}", "registry status word")
    phases = _PHASES.get(str(details.get("phase") or "").strip(), [])
    if phases:
        note("phases", f"details.phase {details['phase']!r}", "phase number")
    count, kind = parse_enrollment(reg.get("enrollment") or "")
    if count is not None:
        note("enrollmentInfo", f"registration.enrollment {reg['enrollment']!r}",
             "first number; ACTUAL if written 'actual'/'started', ESTIMATED if 'target'/'planned'/'estimated'")
    design_text = " ".join(str(details.get(k) or "") for k in ("design", "intervention", "arms")).lower()
    allocation = ("RANDOMIZED" if "randomized" in design_text else "NA" if "single arm" in design_text else "")
    if allocation:
        note("allocation", "details.design", "'randomized' -> RANDOMIZED; 'single arm' -> NA (one group)")
    masking = next((m.upper() for m in ("quadruple", "triple", "double", "single") if f"{m} masked" in design_text
                    or f"{m}-blind" in design_text), "NONE" if "open label" in design_text else "")
    if masking:
        note("masking", "details.design / details.intervention", "'<level> masked' or 'open label' (NONE)")
    text = design_text + " " + (d.get("title") or "").lower()
    drugs = [x for x in vocab.drugs if re.search(rf"\b{re.escape(x)}\b", text)]
    # a name inside a longer matched name ('<x>' in 'es<x>') counts only where it also stands alone
    drugs = [x for x in drugs if not any(y != x and y.endswith(x) for y in drugs)
             or re.search(rf"(?<![a-z]){re.escape(x)}\b", text)]
    if drugs:
        note("interventions", "title and details.design/intervention/arms", "drug names mentioned")
    dates: dict[str, str] = {}
    for api, keys in (("startDateStruct", ("start",)), ("primaryCompletionDateStruct", ("primary_completion",)),
                      ("completionDateStruct", ("completion", "trial_end", "end")),
                      ("lastUpdatePostDateStruct", ("last_update",))):
        for key in keys:
            text = str(details.get(key) or "")
            if text and "/" in text and re.search(r"\)\s*/", text):
                continue  # two mirrors disagree (e.g. 'June 2024 (A) / Jun 1 2023 (B)'): leave it empty
            value = parse_date(text)
            if value:
                dates[api] = value
                note(api, f"details.{key} {text!r}", "first date written")
                break
    if "lastUpdatePostDateStruct" not in dates:
        m = re.search(r"last (?:update|updated)[^)]*", status_text + " " + str(details.get("completion") or ""))
        if m and parse_date(m.group()):
            dates["lastUpdatePostDateStruct"] = parse_date(m.group())
            note("lastUpdatePostDateStruct", repr(m.group()), "date after 'last update(d)'")
    results = _results(reg.get("results_posted") or "")
    note("hasResults", f"registration.results_posted {reg.get('results_posted')!r}",
         "'yes…' -> true, 'no…' -> false, anything else -> 'unclear'")
    title = (d.get("title") or "").strip()
    status_module: dict[str, Any] = {"overallStatus": status} if status else {}
    status_module.update({k: {"date": v} for k, v in dates.items()})
    design: dict[str, Any] = {"studyType": "INTERVENTIONAL"}
    note("studyType", "the registration describes drug given to participants", "interventional trial")
    if phases:
        design["phases"] = phases
    info = {k: v for k, v in (("allocation", allocation), ("maskingInfo", {"masking": masking} if masking else None)) if v}
    if info:
        design["designInfo"] = info
    if count is not None:
        design["enrollmentInfo"] = {"count": count, **({"type": kind} if kind else {})}
    protocol: dict[str, Any] = {
        "identificationModule": {"nctId": d.get("nct_id") or "", "briefTitle": title},
        "statusModule": status_module,
        "designModule": design,
        "sponsorCollaboratorsModule": {"leadSponsor": {"name": reg.get("sponsor") or ""}},
    }
    if drugs:
        protocol["armsInterventionsModule"] = {"interventions": [{"type": "DRUG", "name": x} for x in drugs]}
    if vocab.condition_name and re.search(vocab.condition_pattern, title, re.IGNORECASE):
        protocol["conditionsModule"] = {"conditions": [vocab.condition_name]}
        note("conditions", "the title", "the condition named in the title")
    study: dict[str, Any] = {"protocolSection": protocol, "registry": _registry(reg_id), "registry_id": reg_id,
                             "source": f"{facts_name}:{line}", "source_urls": list(d.get("source_urls") or []),
                             "derived": dict(sorted(derived.items()))}
    if results is not None:
        study["hasResults"] = results
    return study


def build_offline(facts_dir: str | Path, compiled: str, vocab: Vocabulary = Vocabulary()) -> dict:
    """The offline registrations document from ``studies.jsonl`` (deterministic: same facts, same bytes)."""
    path = Path(facts_dir) / "studies.jsonl"
    studies = []
    for line, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        d = json.loads(text)
        if d.get("design") == "trial_registration":
            studies.append(study_from_fact(d, line, path.name, vocab))
    studies.sort(key=lambda s: (s["registry"], s["registry_id"]))
    return {"format": FORMAT, "compiled": compiled, "source": f"evidence-facts/{path.name}",
            "note": "Registry facts as read from registry pages and mirrors; empty fields are unknown; "
                    "'derived' says how each value was read from the facts' text.",
            "studies": studies}


def load_offline(path: str | Path) -> tuple[list[dict], str]:
    """(studies, compiled date) of a committed offline registrations file, checked."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("offline registrations file not found", file=path) from exc
    except ValueError as exc:
        raise InputError(f"not JSON: {exc}", file=path) from exc
    if doc.get("format") != FORMAT:
        raise InputError(f"expected format {FORMAT!r}, got {doc.get('format')!r}", file=path, field="format")
    try:
        compiled = dt.date.fromisoformat(str(doc.get("compiled"))).isoformat()
    except ValueError as exc:
        raise InputError(f"compiled must be a date, got {doc.get('compiled')!r}", file=path, field="compiled") from exc
    seen: set[str] = set()
    for i, s in enumerate(doc.get("studies") or []):
        rid = str(s.get("registry_id") or "")
        if not rid or rid in seen:
            raise InputError(f"study {i}: missing or duplicate registry_id {rid!r}", file=path, field="registry_id")
        seen.add(rid)
        nct = str(((s.get("protocolSection") or {}).get("identificationModule") or {}).get("nctId") or "")
        if nct and not re.fullmatch(r"NCT\d{8}", nct):
            raise InputError(f"study {i}: malformed NCT id {nct!r}", file=path, field="nctId")
    return list(doc.get("studies") or []), compiled
