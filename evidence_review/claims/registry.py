"""Clinic claims: the curated registry (``evidence/claims.csv``) and the claim finder behind ``audit``.

The registry says, for every checkable statement on a clinic page, *what* evidence would test it
(outcome, timepoint, design, population, a rule key and the threshold the claim itself asserts) -
never the verdict, which :mod:`evidence_review.claims.verdicts` computes from the evidence tables.

Quotes are checked against the page after collapsing runs of whitespace to one space (the pages
contain double spaces and hard line breaks that a CSV cell cannot show faithfully); apart from that
a quote must be a character-exact excerpt.

The claim finder splits any page into sentences and proposes candidates with a category from cue
patterns, then :func:`spec_for_candidate` turns a candidate into the same kind of test specification
the registry holds, so ``audit`` judges unseen pages with the same verdict engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evidence_review.errors import InputError
from evidence_review.tables import read_csv_strict

CATEGORIES: tuple[str, ...] = (
    "onset", "efficacy", "durability", "safety", "population", "protocol",
    "mechanism", "regulatory", "evidence_base", "other",
)
SCOPES: tuple[str, ...] = ("ocd", "ptsd", "depression", "general")
RULES: tuple[str, ...] = (
    "regulatory", "efficacy", "onset", "durability", "relapse", "population_compare", "safety_rate",
    "safety_transient", "ae_reported", "protocol", "comparative", "mechanism", "evidence_count",
    "ongoing_research", "context_efficacy", "context_onset", "context_durability", "citation",
    "infusions_to_response", "unmeasured", "not_testable", "crisis", "practice_standard",
)
REGISTRY_COLUMNS: tuple[str, ...] = (
    "claim_id", "seed_file", "quote", "category", "scope", "proposition",
    "test_outcome", "test_timepoint", "test_design", "test_population", "rule", "claimed",
)
MAX_QUOTE_WORDS = 40
_CLAIM_ID = re.compile(r"^S\d{3}-\d{2}$")


def normalize(text: str) -> str:
    """Collapse whitespace runs to one space (the one normalisation quotes are allowed)."""
    return re.sub(r"\s+", " ", text).strip()


def load_registry(path: str | Path, seeds: str | Path) -> pd.DataFrame:
    """Read and validate the claims registry; any bad cell raises InputError naming file, row, field."""
    path, seeds = Path(path), Path(seeds)
    df = read_csv_strict(path, REGISTRY_COLUMNS)
    pages: dict[str, str] = {}
    seen: set[str] = set()
    for i, rec in enumerate(df.to_dict("records")):
        row = i + 2  # header is row 1
        cid = rec["claim_id"]
        if not _CLAIM_ID.match(cid):
            raise InputError(f"claim_id '{cid}' is not of the form S000-01", file=path, row=row, field="claim_id")
        if cid in seen:
            raise InputError(f"duplicate claim_id '{cid}'", file=path, row=row, field="claim_id")
        seen.add(cid)
        for col, allowed in (("category", CATEGORIES), ("scope", SCOPES), ("rule", RULES)):
            if rec[col] not in allowed:
                raise InputError(f"unknown {col} '{rec[col]}' (allowed: {', '.join(allowed)})",
                                 file=path, row=row, field=col)
        if not rec["proposition"].strip():
            raise InputError("empty proposition", file=path, row=row, field="proposition")
        seed = rec["seed_file"]
        if seed not in pages:
            seed_path = seeds / seed
            if not seed or not seed_path.is_file():
                raise InputError(f"seed file '{seed}' not found in {seeds}", file=path, row=row, field="seed_file")
            pages[seed] = normalize(seed_path.read_text(encoding="utf-8"))
        quote = normalize(rec["quote"])
        if not quote:
            raise InputError("empty quote", file=path, row=row, field="quote")
        if len(quote.split()) > MAX_QUOTE_WORDS:
            raise InputError(f"quote has {len(quote.split())} words (max {MAX_QUOTE_WORDS})",
                             file=path, row=row, field="quote")
        if quote not in pages[seed]:
            raise InputError(f"quote is not an exact excerpt of {seed}: '{quote[:60]}...'",
                             file=path, row=row, field="quote")
        if rec["claimed"] and rec["claimed"] != "some" and rec["rule"] in (
                "efficacy", "durability", "safety_rate", "evidence_count", "ongoing_research"):
            try:
                float(rec["claimed"])
            except ValueError:
                raise InputError(f"claimed '{rec['claimed']}' must be a number for rule {rec['rule']}",
                                 file=path, row=row, field="claimed") from None
    return df


# ----------------------------------------------------------------------------------------- finder

_ABBREV = re.compile(r"\b(?:e\.g|i\.e|etc|vs|Dr|Mr|Mrs|Ms|approx|al)\.$", re.IGNORECASE)


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of a page: split at line breaks and at . ! ? followed by a space.

    Headings and list items stand alone on their lines, so a line break always ends a unit; inside a
    line we split after terminal punctuation unless it closes a common abbreviation (e.g., vs.)."""
    out: list[str] = []
    for line in text.splitlines():
        line = normalize(line)
        if not line:
            continue
        start = 0
        for m in re.finditer(r"[.!?][\"”’)]?\s+", line):
            head = line[start:m.start() + 1]
            if _ABBREV.search(head):
                continue
            out.append(line[start:m.end()].strip())
            start = m.end()
        if line[start:].strip():
            out.append(line[start:].strip())
    return [s for s in out if len(s.split()) >= 3]


# Practice statements and the practice each names (rule practice_standard), first match wins.
PRACTICE_OUTCOMES: tuple[tuple[str, str], ...] = (
    ("unsupervised_use", r"self-guided|at[- ]home|unsupervised|by mail"),
    ("post_dose_observation", r"recovery period|ready to go home|after (?:your|the|each) infusion"),
    ("follow_up_visits", r"follow-up|keeps? track of your"),
    ("monitoring_during_dose", r"\bmonitor(?:s|ed|ing)? you\b|\bobserves? you\b|keeps? watch"),
    ("qualified_staff_present", r"present during|qualified medical (?:professional|practitioner) (?:is|to be) present"),
    ("pre_treatment_evaluation", r"diagnosed by|evaluation|medical history|mental health records|eligibility|assessment"),
    ("treatment_plan", r"personali[sz]ed treatment plan|treatment plans? (?:are|is) tailored|plan will include"),
)
PRACTICE_CUE = "|".join(p for _, p in PRACTICE_OUTCOMES)
CREDENTIAL_CUE = r"majored in|board[- ]certified|specialist in|fellowship"

# Cue patterns per category, in priority order (first match wins). Each is a readable regex.
CUES: tuple[tuple[str, str], ...] = (
    ("regulatory", r"\bFDA\b|approved|off-label|anesthe(?:tic|sia)|anaesthe(?:tic|sia)|recreational|schedule iii"),
    ("evidence_base", r"\b(?:dozens|multiple|several|many|numerous|recent|preliminary|initial)\b[^.]{0,40}\b(?:studies|trials|research|findings)\b|\bstud(?:y|ies) (?:published|have shown|suggest)|journal of|research (?:into|investigating)|still in its early stages|being researched|investigating"),
    # how the clinic gives it (evaluation, staff, monitoring, observation, plans, home use): before 'safety',
    # since "monitor you ... to ensure your safety" is a practice claim, not a claim about harm rates
    ("protocol", PRACTICE_CUE),
    ("safety", r"\bsafe(?:ty)?\b|side effects?|tolerab|hallucinat|euphoria|awake|risk of self|lifesaving|adverse"),
    ("onset", r"within (?:minutes|hours|days|\d+ hours)|\bminutes after\b|\brapid\b|\bimmediate|fast-acting|quick|almost immediately|take effect|weeks(?: or months)? to (?:take|show)"),
    ("durability", r"long[- ]?(?:term|lasting)|lasting(?! (?:about )?\d+ ?min)|\blasts? (?:for|up to)|for (?:weeks|months)|months after|sustain|returning|after stopping|maintenance|touch-ups|up to (?:two|\d+) weeks"),
    ("protocol", r"\binfusions?\b.*\b(?:apart|twice|once|every|minutes to an hour|total of)|intravenous|\bIV\b|intramuscular|nasal spray|small (?:doses|quantities)|twice a week|once a (?:week|month)|every once|40 minutes|\bsessions?\b|treatments? (?:are|is) recommended|full course|diagnosed by|evaluation"),
    ("mechanism", r"mechanism of action|glutamate|NMDA|receptor|neuroplasticity|neural connections|neurotransmitter|synaptic|hormones|reset|chain of reactions|within the brain"),
    ("population", r"treatment-resistant|resistant to|haven.t responded|not responded|ideal (?:treatment|for)|in crisis|tried using traditional|without much change"),
    ("efficacy", r"\beffective\b|efficacy|relief|reduc|improv|alleviate|results|success|benefit|helps?\b|\brespond|\d+ ?% of|promising|breakthrough|groundbreaking|revolution|\bworked\b|thing of the past|given me hope|life back"),
    ("other", r"non-invasive|painless|stigma|burden on"),
)


@dataclass(frozen=True)
class Candidate:
    sentence: str
    category: str
    cue: str
    index: int


def find_candidates(text: str) -> list[Candidate]:
    """Propose candidate claims: every sentence that talks about the treatment and matches a cue."""
    out = []
    for i, sent in enumerate(split_sentences(text)):
        for category, pattern in CUES:
            m = re.search(pattern, sent, re.IGNORECASE)
            if m:
                out.append(Candidate(sent, category, m.group(0), i))
                break
    return out


def candidates_frame(text: str, source: str = "") -> pd.DataFrame:
    rows = [{"candidate_id": f"C{c.index + 1:03d}", "source": source, "sentence": c.sentence,
             "category": c.category, "cue": c.cue} for c in find_candidates(text)]
    return pd.DataFrame(rows, columns=["candidate_id", "source", "sentence", "category", "cue"])


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def covers(sentence: str, quote: str, threshold: float = 0.6) -> bool:
    """A candidate sentence covers a registry quote if it contains it, or holds >= 60% of its words."""
    s, q = normalize(sentence).lower(), normalize(quote).lower()
    if q in s or (len(s.split()) >= 5 and s in q):
        return True
    qw = _words(q)
    if not qw:
        return False
    sw = set(_words(s))
    return sum(w in sw for w in qw) / len(qw) >= threshold


def finder_recall(registry: pd.DataFrame, seeds: str | Path) -> pd.DataFrame:
    """Per seed: registry claims covered by at least one candidate sentence (the finder's recall)."""
    seeds = Path(seeds)
    rows = []
    for seed, group in registry.groupby("seed_file", sort=True):
        cands = find_candidates((seeds / seed).read_text(encoding="utf-8"))
        hit = [any(covers(c.sentence, q) for c in cands) for q in group["quote"]]
        rows.append({"seed_file": seed, "claims": len(group), "covered": int(sum(hit)),
                     "candidates": len(cands), "recall": sum(hit) / len(group)})
    df = pd.DataFrame(rows, columns=["seed_file", "claims", "covered", "candidates", "recall"])
    total = {"seed_file": "ALL", "claims": int(df["claims"].sum()), "covered": int(df["covered"].sum()),
             "candidates": int(df["candidates"].sum())}
    total["recall"] = total["covered"] / total["claims"] if total["claims"] else 0.0
    return pd.concat([df, pd.DataFrame([total])], ignore_index=True)


# ----------------------------------------------------------------- candidate -> test specification

def _scope(sentence: str) -> str:
    s = sentence.lower()
    if "ptsd" in s or "post-traumatic" in s or "trauma" in s:
        return "ptsd"
    if "ocd" in s or "obsess" in s or "compuls" in s:
        return "ocd"
    if "depress" in s:
        return "depression"
    return "ocd"  # clinic pages under review are about OCD unless the sentence says otherwise


def _hours(sentence: str, default: str) -> str:
    s = sentence.lower()
    for pattern, value in ((r"minute|immediate", "<=1h"), (r"24 hours|within hours|hours", "<=24h"),
                           (r"few days|days", "<=72h")):
        if re.search(pattern, s):
            return value
    return default


def spec_for_candidate(sentence: str, category: str) -> dict[str, str]:
    """Turn a candidate sentence into a registry-like test specification (rule + parameters).

    These are the same cue-to-parameter choices a curator makes in the registry, written as code so
    unseen pages are tested the same way; anything the cues cannot place is 'unmeasured'."""
    s = sentence.lower()
    scope = _scope(sentence)
    pop = {"ocd": "ocd", "ptsd": "ptsd", "depression": "depression"}.get(scope, "ocd")
    spec = {"category": category, "scope": scope, "test_outcome": "", "test_timepoint": "",
            "test_design": "any", "test_population": pop, "rule": "unmeasured", "claimed": ""}
    most = re.search(r"nearly all|\bmost\b|\ball\b|ideal|majority|thing of the past", s)
    if category == "regulatory":
        if "fda" in s or "approved" in s:
            key = "fda_approved_ptsd" if scope == "ptsd" else "fda_approved_ocd"
            spec.update(rule="regulatory", test_outcome=key, claimed="no" if re.search(r"\bnot\b|n't", s) else "yes")
        elif "off-label" in s:
            spec.update(rule="regulatory", test_outcome="off_label_psychiatric_use", claimed="yes")
        else:
            extent = ["anaesthetic_use_extent"] if re.search(r"widely|commonly|routinely", s) else []
            why = ["anaesthetic_safety_profile"] if re.search(r"\bsafe(ty)?\b", s) else []
            spec.update(rule="regulatory", test_outcome="+".join(["anaesthetic_approval", *extent, *why]), claimed="yes")
    elif category == "evidence_base":
        if "journal of" in s:
            journal = re.search(r"(american journal of psychiatry|journal of [a-z ]+)", s).group(1)
            spec.update(rule="citation", test_outcome="citation",
                        claimed=f"{journal}|{'single_infusion' if 'single' in s else 'infusion'}")
        elif re.search(r"ongoing|investigating|being researched|early stages", s):
            spec.update(rule="ongoing_research", test_outcome="ongoing_research", claimed="1")
        else:
            n = 24 if "dozens" in s else 10 if re.search(r"many|numerous", s) else 2
            spec.update(rule="evidence_count", test_outcome="clinical_studies", claimed=str(n))
            if scope in ("ptsd", "depression"):
                spec.update(rule="context_efficacy", claimed=scope)
    elif category == "safety":
        if re.search(r"euphoria|relax", s):
            spec.update(rule="ae_reported", test_outcome="euphoria", claimed="euphori|drunk|relax")
        elif re.search(r"fade|mild|quickly|transient", s):
            spec.update(rule="safety_transient", test_outcome="transient_adverse_events")
        elif "awake" in s:
            spec.update(rule="safety_rate", test_outcome="sedation", claimed="0")
        elif re.search(r"self.?harm|lifesaving|suicid", s):
            spec.update(rule="unmeasured", test_outcome="self_harm", claimed="suicid")
        elif re.search(r"no side effects|not to have experienced any|most patients", s):
            spec.update(rule="safety_rate", test_outcome="any_adverse_events", claimed="0.5")
        elif "tolerab" in s:
            spec.update(rule="safety_rate", test_outcome="dropout_adverse_events", claimed="0.05")
        else:
            spec.update(rule="safety_rate", test_outcome="serious_adverse_events",
                        claimed="0" if re.search(r"promised|guarantee|no risk", s) else "0.05")
    elif category == "onset":
        if re.search(r"antidepressants", s) and re.search(r"weeks|months", s):
            # 'faster than antidepressants, which take weeks': ketamine's onset within the first week, in depression
            spec.update(rule="onset", scope="depression", test_population="depression",
                        test_outcome="depression_symptoms", test_timepoint="<=168h")
        elif scope in ("ptsd", "depression"):
            spec.update(rule="context_onset", test_outcome=f"{scope}_symptoms", claimed=scope,
                        test_timepoint=_hours(s, "<=24h"))
        else:
            spec.update(rule="onset", test_outcome="ocd_symptoms", test_timepoint=_hours(s, "<=24h"))
    elif category == "durability":
        if re.search(r"returning|no surefire|relapse", s):
            spec.update(rule="relapse", test_outcome="ocd_symptoms")
        elif scope == "ptsd":
            spec.update(rule="context_durability", test_outcome="ptsd_symptoms", test_timepoint=">=336h",
                        claimed="ptsd_single")
        else:
            long_term = re.search(r"long[- ]term|months|years", s)
            spec.update(rule="durability", test_outcome="ocd_symptoms",
                        test_timepoint=">=2160h" if long_term else ">=336h",
                        claimed="0" if re.search(r"\bsome\b", s) else "0.5")
    elif category == "protocol" and re.search(PRACTICE_CUE, s):
        practice = next(name for name, pat in PRACTICE_OUTCOMES if re.search(pat, s))
        if practice == "pre_treatment_evaluation" and re.search(r"diagnos|psychiatr", s):
            practice = "psychiatric_evaluation"
        if re.search(CREDENTIAL_CUE, s):
            practice += "+specialist_credential"
        spec.update(rule="practice_standard", test_outcome=practice, test_design="guideline", test_population="any",
                    scope="general" if scope == "ocd" and not re.search(r"ocd|obsess|compuls", s) else scope)
    elif category == "protocol":
        feature = ("infusion_40min" if "40 minutes" in s else "twice_weekly" if "twice" in s
                   else "maintenance_schedule" if "month" in s or "maintenance" in s
                   else "taper_schedule" if "once a week" in s
                   else "six_infusion_course" if re.search(r"six|total of", s)
                   else "routes_iv_im_in" if re.search(r"intramuscular|nasal", s)
                   else "subanaesthetic_dose" if re.search(r"small (?:doses|quantities)|low dose", s)
                   else "route_iv" if re.search(r"intravenous|\biv\b", s) else "repeated_course")
        spec.update(rule="protocol", test_outcome=feature)
    elif category == "mechanism" and re.search(r"particularly (?:beneficial|effective)|especially (?:beneficial|effective)", s):
        # 'its mechanism is particularly beneficial for X': a large benefit in X
        if scope == "ptsd":
            spec.update(rule="context_efficacy", test_outcome="ptsd_symptoms", claimed="ptsd:large", test_design="rct")
        else:
            spec.update(rule="efficacy", test_outcome="ocd_response", claimed="0.35")
    elif category == "mechanism":
        raises = "glutamate" in s and re.search(r"increase|level|released", s)
        outcome = ("nmda_antagonism+glutamate" if re.search(r"antagonist|nmda|binds to receptors", s) and raises
                   else "nmda_antagonism" if re.search(r"antagonist|nmda", s)
                   else "glutamate" if raises
                   else "neuroplasticity" if re.search(r"plasticity|neural connections", s)
                   else "neurotransmitter" if re.search(r"neurotransmitter|glutamate", s)
                   else "neural_reset")
        spec.update(rule="mechanism", test_outcome=outcome, claimed="increase" if outcome != "neural_reset" else "change")
    elif category == "population":
        if re.search(r"\bcrisis|suicid", s):
            spec.update(rule="crisis", test_outcome="crisis_outcomes", claimed="suicid")
        elif scope == "ptsd":
            spec.update(rule="context_efficacy", test_outcome="ptsd_symptoms", claimed="ptsd_tr", test_population="ptsd_tr")
        elif "particularly" in s or "especially" in s and "resistant" in s:
            spec.update(rule="population_compare", test_outcome="ocd_response_tr_vs_other", test_population="ocd_tr")
        else:
            spec.update(rule="efficacy", test_outcome="ocd_response", test_population="ocd_tr",
                        claimed="0.5" if most else "0")
    elif category == "efficacy":
        if scope in ("ptsd", "depression"):
            spec.update(rule="context_efficacy", test_outcome=f"{scope}_symptoms", claimed=scope)
        elif re.search(r"\bcbt\b|cognitive behavio", s) and re.search(r"best|better", s):
            spec.update(rule="comparative", test_outcome="combination_cbt", claimed="cbt")
        else:
            pct = re.search(r"(\d+(?:\.\d+)?) ?% of (?:patients|people|clients)", s)
            claimed = (f"{float(pct.group(1)) / 100:g}" if pct else
                       "0.5" if most or re.search(r"revolution|groundbreaking", s) else "0")
            spec.update(rule="efficacy", test_outcome="ocd_response", claimed=claimed)
    elif category == "other":
        spec.update(rule="not_testable")
    return spec


def audit_specs(text: str, source: str) -> pd.DataFrame:
    """Candidates of one page as registry-shaped rows (claim ids ``A-<n>``), ready for the verdict engine."""
    rows = []
    for c in find_candidates(text):
        spec = spec_for_candidate(c.sentence, c.category)
        quote = " ".join(c.sentence.split()[:MAX_QUOTE_WORDS])
        rows.append({"claim_id": f"A-{c.index + 1:03d}", "seed_file": source, "quote": quote,
                     "proposition": c.sentence, "cue": c.cue, **spec})
    cols = list(REGISTRY_COLUMNS) + ["cue"]
    return pd.DataFrame(rows, columns=cols)
