"""Sentence roles: is a unit of a clinic page a checkable claim, or something that must not be judged?

Why: a page is mostly not claims. Questions ("Is ketamine FDA approved for OCD?"), headlines
("Discover Lasting Relief from OCD"), descriptions of the condition ("intrusive thoughts about harm
can eat up hours"), calls to action, testimonials and navigation must be listed with their role and
never judged - judging them produced verdicts on things the page never asserted.

The rules are ordered; the first that fires decides, and its reason is kept:

1. ``question``     ends with '?' or carries a 'Q:' label
2. ``boilerplate``  copyright, navigation bars (several '|' or '·' separated items), bylines, dates,
                    disclaimers ("results vary", "not a guarantee"), contact details, insurance
3. ``testimonial``  a quotation with an attribution, or a first-person account ("I", "my") of a
                    treatment experience, or what one named/described patient said
4. ``cta``          an imperative to act (call, book, schedule, text, visit, reach out ...) or
                    contact details without a claim
5. ``heading``      a line of its own without closing punctuation that is short or in title case,
                    or ends with ':'; a list item is never a heading
6. ``description``  talks about the condition or standard care (obsessions, rituals, SSRIs ...) and
                    neither about ketamine/the treatment nor with a treatment-effect predicate
7. ``claim``        has a claim cue: an effect, onset, durability, safety, regulatory, evidence,
                    mechanism, population or protocol predicate, or numbers with units
8. ``boilerplate``  anything else (no claim cue: transitions, opinions, pleasantries)

Cues are general language (modal verbs, claim predicates, numbers with units, absolute words), not
strings from particular pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evidence_review import paths
from evidence_review.claims.sentences import Unit
from evidence_review.review.topic import Topic, load_topic

ROLES: tuple[str, ...] = ("claim", "question", "heading", "description", "cta", "testimonial", "boilerplate")
NON_CLAIM_ROLES = ROLES[1:]


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# The treatment the pages are about (an explicit subject), and anaphora that refer to it.
TREATMENT_GENERIC = (r"\binfusions?\b|\bdrip\b|\bbooster|\btop-?ups?\b|\bmaintenance\b"
                r"|\bsessions?\b|\bdos(?:e|es|ing)\b|\bIV\b|\bintravenous|\bintramuscular|\bnasal spray\b|\binjection"
                r"|\bthis (?:treatment|therapy|medicine|medication|program|approach|protocol)\b"
                r"|\bour (?:treatment|therapy|program|protocol|infusions?|clinic|team|nurses?|physicians?|staff|patients|clients|guests)\b"
                r"|\bthe (?:treatment|therapy|medicine|program|protocol|procedure)\b|\bNMDA\b")
# Words about the condition or its symptoms that hold for any condition; the topic adds its own.
CONDITION_GENERIC = r"\b(?:doubts?|fears?|worr\w*|anxiety|disorder|condition|symptoms?|thoughts|exhausting|stuck|repeat)\b"


@dataclass(frozen=True)
class TopicCues:
    """The topic's words compiled once: the treatment, the condition, and symptom themes ('doubts about
    harm' describes a symptom, not a safety claim)."""

    treatment: re.Pattern[str]
    condition: re.Pattern[str]
    theme: re.Pattern[str]


_CUES: dict[str, TopicCues] = {}


def topic_cues(topic: Topic | None = None) -> TopicCues:
    topic = topic or load_topic(paths.default_topic())
    key = str(topic.path)
    if key not in _CUES:
        audit = topic.vocab("audit")
        drug = "|".join(rf"\b{re.escape(t)}\b" for t in topic.inclusion.intervention_terms)
        _CUES[key] = TopicCues(
            treatment=_rx("|".join(x for x in (audit.get("treatment", ""), drug, TREATMENT_GENERIC) if x)),
            condition=_rx("|".join(x for x in (audit.get("condition", ""), CONDITION_GENERIC) if x)),
            theme=_rx(audit.get("symptom_theme") or r"(?!x)x"))
    return _CUES[key]
PRONOUN_START = _rx(r"^(?:it|this|they|these|its)\b")
# Predicates of an effect on symptoms (what a treatment claim says happens).
EFFECT = _rx(r"\b(?:help|relie|reduc|eas(?:e|es|ed|ing)\b|improv|calm|quiet|lower|loosen|diminish|shrink|lessen|lift"
             r"|alleviat|decreas|drop|fade|wear|work|effective|efficacy|success|respon|remission|benefit|result"
             r"|relief|better|difference|shift|change[sd]? (?:in|for)|heal|cure|break|free|transform|revolution"
             r"|breakthrough|promising|encouraging|hope|proven|recover|less (?:intense|severe|frequent|distressing|anxious)|fewer"
             r"|weaker|quieter|lighter|milder|thing of the past|life back|game[- ]changer|transformative|new world)")
ONSET = _rx(r"\b(?:fast|rapid|quick|immediate|instant|same day|within (?:the first |a few |the same )?(?:\d|a |an |one |two |few |minutes|hours|days|day|week|24)"
            r"|minutes|hours|overnight|first (?:session|infusion|dose|treatment)|after (?:just )?(?:one|a single|the first)"
            r"|take effect|takes? (?:several |many )?weeks|kicks? in)")
DURABILITY = _rx(r"\b(?:last|lasting|stick around|persist|sustain|long[- ]?(?:term|lasting)|for (?:weeks|months|years|good)"
                 r"|months|years|permanent|maintain|remission|wears? off|fades?|booster|top-?up|maintenance|relapse|return)")
SAFETY = _rx(r"\b(?:safe|safety|side[- ]effects?|tolera|adverse|risks?|dissociat|nausea|blood pressure|hypertension"
             r"|heart rate|psychos|psychotic|suicid|misuse|abuse|addict|dependen|bladder|urinary|floaty|buzzed|detached"
             r"|dreamy|disconnected|dizz|hallucinat|euphori|sedat|toxic|harm|does(?:n't| not) cause|blunting|weight gain"
             r"|sexual (?:side|dysfunction))")
REGULATORY = _rx(r"\b(?:FDA|approved|approval|off-label|anesthe|anaesthe|surgery|surgical|hospitals?|schedule iii"
                 r"|controlled substance|essential medicines)")
EVIDENCE = _rx(r"\b(?:stud(?:y|ies)|trials?|research|evidence|meta-analy|data|clinically|scientific|published|journal"
               r"|participants|randomi[sz]ed|placebo|saline|peer-reviewed|literature|reports?)\b")
MECHANISM = _rx(r"\b(?:NMDA|glutamat|GABA|receptor|neuroplastic|synap|neural|neuron|neurotransmit|brain|rewir|reset"
                r"|circuit|connections|antagonist|mechanism)")
POPULATION = _rx(r"\b(?:resistant|refractory|not (?:responded|improved)|haven.t responded|failed|tried everything"
                 r"|little relief|candidates?|teen|adolescen|children|adults?|elderly|pregnan)")
PROTOCOL = _rx(r"\b(?:mg/kg|\d+\s*(?:mg|min|minutes|hours?|weeks?|days?)\b|minutes|infusions?|sessions?|weekly|twice"
               r"|three times|once (?:a|every|per)|every (?:\d|other|two|three|four|few)|series|course|protocol"
               r"|nurse|physician|doctor|clinician|anesthesiologist|psychiatrist|monitor|observ|supervis|evaluat"
               r"|assessment|interview|screen(?:ing|ed)|vital signs|recovery|rest(?:s)? |ECG|low[- ]dose|dose"
               r"|small (?:doses|quantities|amounts)|treatment plans?|tailored|personali[sz]ed)")
NUMBER_UNIT = _rx(r"\d+(?:\.\d+)?\s*(?:%|percent|mg|mg/kg|minutes|min\b|hours|days|weeks|months|infusions|sessions|points)")
ABSOLUTE = _rx(r"\b(?:no|never|always|all|every|completely|totally|guarantee|proven|only|most|nearly all|virtually|basically)\b")
CLAIM_FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("effect", EFFECT), ("onset", ONSET), ("durability", DURABILITY), ("safety", SAFETY),
    ("regulatory", REGULATORY), ("evidence", EVIDENCE), ("mechanism", MECHANISM), ("population", POPULATION),
    ("protocol", PROTOCOL), ("number with unit", NUMBER_UNIT),
)

STANDARD_CARE = _rx(r"\b(?:SSRIs?|SRIs?|serotonin|ERP|exposure and response|CBT|cognitive behaviou?ral|standard (?:care|approach"
                    r"|treatment)|first-line|usual medications?|traditional treatments?|conventional)\b")

COPYRIGHT = _rx(r"©|\(c\) \d{4}|all rights reserved|privacy policy|terms of (?:use|service)|cookie")
BYLINE = _rx(r"^(?:posted|published|updated|written|reviewed|by)\b.*(?:\d{4}|read|team|dr\.|md\b|staff|by )|\bmin(?:ute)? read\b"
             r"|^(?:share|related posts|tags|categories|media contact|for immediate release|contact:|phone:|email:|fax:)"
             r"|^#+$|^(?:[A-Z][A-Z .]+,\s+)?[A-Z][a-z]+ \d{1,2}, \d{4}\s+[—–-]")
DISCLAIMER = _rx(r"results (?:may )?vary|not (?:a )?guarantee|not medical advice|for informational purposes|consult your"
                 r"|individual (?:results|experiences)|testimonials reflect|insurance|gift cards?|available (?:monday|mon)"
                 r"|office hours|\bcareers\b")
SEPARATORS = re.compile(r"\s[|·•/]\s")
FIRST_PERSON = _rx(r"\b(?:I|I'm|I've|I'd|me|my|myself)\b")
PATIENT_REPORT = _rx(r"\b(?:a|one) (?:patient|client|guest|mother|father|veteran|woman|man)\b(?: of ours)? (?:described|said|told|wrote|shared)"
                     r"|\b(?:described|said|told us|wrote|shared)\b.*\b(?:her|his) (?:mind|life|symptoms)")
QUOTED = re.compile(r"^[\"“‘'].{10,}[\"”’']\s*(?:[—–-]|,?\s*(?:said|says|according))|^[\"“].{10,}[\"”]$")
ATTRIBUTION = re.compile(r"[\"”]\s*[—–-]\s*[A-Z][\w.]*")
CTA = _rx(r"^(?:call|book|schedule|contact|visit|tap|click|text|email|start|get started|sign up|request|reach out|learn more"
          r"|find out|take the|ready|join|claim|apply|talk to|ask|don't wait|let us|fill out|submit|grab|see if|discover how)\b"
          r"|^if [^,]{3,80}, (?:call|talk|ask|contact|book|schedule|reach out|speak|visit|email|text)\b"
          r"|\b(?:reach out to|contact us|call us|text us|book (?:a|your)|schedule (?:a|your)|free (?:\d+-minute )?(?:phone )?"
          r"(?:consult|consultation|screening)|referring clinicians may|for referrals)")
CONTACT = re.compile(r"\(?\d{3}\)?[\s.-]\d{3}[\s.-]?\d{4}|\d{3}-\d{4}\b|@\w+\.\w+|\bwww\.|\.(?:com|example|org)\b|https?://")
DESCRIBE = _rx(r"\b(?:characteri[sz]ed by|marked by|affects|involves|is an? (?:chronic|common|debilitating|mental)|can feel"
               r"|takes? over|steal|eat up|lose|suffer|struggle|live with)\b")
LOGISTICS = _rx(r"\b(?:drive (?:you )?home|ride home|arrange (?:a )?(?:ride|transport)|parking|wear comfortable|eat or drink"
                r"|payment|financing|pricing|cost[s]? (?:is|are|start))\b")
ANNOUNCE = _rx(r"\b(?:(?:over|more than) [\d,]+\+? (?:infusions|patients|treatments|sessions|clients)(?: (?:performed|given"
               r"|administered|treated|served|helped))?|[\w-]+-star|rated by|appointments available|announce[sd]?|launch(?:es|ed)?|will (?:also )?(?:take part|participate|join|open|offer)|upcoming"
               r"|is (?:an|a) (?:outpatient|independent|leading|private|boutique|full-service) (?:\w+ )?(?:clinic|practice|center|centre))\b")
HEADING_END = re.compile(r"[.!?…\"”)]$")


@dataclass(frozen=True)
class Role:
    role: str
    reason: str
    context: str = ""  # text a claim's test is read from, when more than the unit (an elliptical answer)


def _title_case(text: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-z][\w'-]*", text) if len(w) > 3]
    return bool(words) and sum(w[0].isupper() for w in words) >= 0.75 * len(words)


def claim_cues(text: str) -> list[str]:
    """Names of the claim-cue families present in a text (empty: nothing checkable)."""
    return [name for name, rx in CLAIM_FAMILIES if rx.search(text)]


def classify(unit: Unit, topic: Topic | None = None) -> Role:
    """The role of one unit, with the rule that decided it."""
    topical = topic_cues(topic)
    t = unit.text
    if t.rstrip(" \"”’)").endswith("?") or unit.prefix == "Q":
        return Role("question", "ends with a question mark" if unit.prefix != "Q" else "labelled Q:")
    if COPYRIGHT.search(t) or BYLINE.search(t):
        return Role("boilerplate", "copyright, byline, date line or contact header")
    if len(SEPARATORS.findall(t)) >= 2 and not re.search(r"[.!?]$", t):
        return Role("boilerplate", "navigation: items separated by | or ·")
    if LOGISTICS.search(t) or ANNOUNCE.search(t):
        return Role("boilerplate", "logistics or clinic announcement, not a claim about the treatment")
    if DISCLAIMER.search(t) and not topical.treatment.search(t.split(":")[0] if ":" in t else ""):
        return Role("boilerplate", "disclaimer or administrative note")
    if QUOTED.search(t) or ATTRIBUTION.search(t):
        return Role("testimonial", "quotation with an attribution")
    if FIRST_PERSON.search(t):
        return Role("testimonial" if topical.treatment.search(t) or EFFECT.search(t) or ONSET.search(t) else "boilerplate",
                    "first-person account (I/my), not a claim by the clinic")
    if PATIENT_REPORT.search(t):
        return Role("testimonial", "what one patient said or described")
    cues = claim_cues(t)
    if CTA.search(t) and not (topical.treatment.search(t) and len(cues) >= 2 and not CONTACT.search(t)):
        return Role("cta", "call to action (imperative to call, book, contact ...)")
    if CONTACT.search(t) and len(cues) < 2:
        return Role("cta", "contact details")
    if unit.whole_line and not unit.list_item and not HEADING_END.search(t):
        if t.endswith(":"):
            return Role("heading", "own line ending with ':'")
        if unit.words <= 6 or _title_case(t) or t.isupper():
            return Role("heading", "own line without closing punctuation, short or in title case")
    has_treatment = bool(topical.treatment.search(t))
    implicit = unit.list_item or bool(PRONOUN_START.search(t)) or unit.prefix == "A"
    if not has_treatment and (topical.condition.search(t) or STANDARD_CARE.search(t)):
        t = topical.theme.sub(" ", t)  # 'doubts about safety or harm' is a symptom, not a safety claim
        strong = (SAFETY.search(t) or POPULATION.search(t) or NUMBER_UNIT.search(t) or ONSET.search(t) or DURABILITY.search(t)
                  or MECHANISM.search(t) or PROTOCOL.search(t))
        effect = EFFECT.search(t)
        if (DESCRIBE.search(t) or (STANDARD_CARE.search(t) and not POPULATION.search(t))
                or not (strong or (effect and implicit))):
            return Role("description", "about the condition or standard care, not about the treatment")
    if not cues:
        return Role("boilerplate", "no claim cue (no effect, onset, durability, safety, regulatory, evidence, "
                                   "mechanism, population or protocol language)")
    if not has_treatment and not implicit and cues == ["evidence"] and unit.words < 6:
        return Role("boilerplate", "too short to state a checkable claim")
    return Role("claim", "claim cues: " + ", ".join(cues) + ("" if has_treatment else " (subject implied)"))


ELLIPTICAL = _rx(r"\b(?:any|none|no|not|yes|few|rare|rarely|nothing|absolutely|definitely)\b")


def classify_all(units: list[Unit], topic: Topic | None = None) -> list[Role]:
    """Roles for a page's units in order.

    An answer with no claim cue of its own right after a question ("Side effects? Honestly there
    aren't any.") is read together with the question: the pair is classified, and if it is a claim
    the question's words become the claim's context (the answer alone asserts nothing testable)."""
    roles = [classify(u, topic) for u in units]
    for i in range(1, len(units)):
        u, prev = units[i], units[i - 1]
        if (roles[i].role == "boilerplate" and roles[i].reason.startswith("no claim cue") and roles[i - 1].role == "question"
                and prev.paragraph == u.paragraph and ELLIPTICAL.search(u.text)):
            pair = f"{prev.text.rstrip('?')}: {u.text}"
            r = classify(Unit(u.index, pair, u.line, u.paragraph, False, u.list_item, "A"), topic)
            if r.role == "claim":
                roles[i] = Role("claim", f"elliptical answer to the question '{prev.text}'; {r.reason}", pair)
    return roles
