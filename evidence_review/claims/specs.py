"""From a claim sentence to a test specification: category, rule and what the claim asserts.

Why a module of its own: a claim's category and test come from the sentence, never from the heading
above it ("Are there side effects?" above "Ketamine works within hours" is an onset claim). The
specification has the same fields a curator writes in the registry (``evidence/claims.csv``), so the
one verdict engine judges registry claims and claims found on unseen pages alike.

Each family below is a readable pattern table; :func:`spec_for_claim` tries them in priority order
(most specific first) and records which cue decided, so the output can say why a rule was chosen.
"""

from __future__ import annotations

import re

from evidence_review import paths
from evidence_review.review.topic import Topic, load_topic

CREDENTIAL_CUE = r"majored in|board[- ]certified|specialist in|fellowship"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# ------------------------------------------------------------------------------------ quantities

WORD_NUMBERS = {"one": 1, "a single": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "a few": 3, "several": 3, "a couple of": 2}
_NUM = r"(\d+(?:\.\d+)?|one|a single|two|three|four|five|six|seven|eight|nine|ten|twelve|a few|several|a couple of)"


def _number(token: str) -> float:
    token = token.lower()
    return float(WORD_NUMBERS.get(token, token)) if token in WORD_NUMBERS or re.match(r"^\d", token) else 0.0


SHARE = _rx(r"(\d+(?:\.\d+)?)\s*(?:%|percent)|\b(half|a third|two thirds|a quarter|three quarters|majority|most|nearly all"
            r"|almost all|all|many|a lot of|lots of|some|a few|few)\b")
SHARE_WORDS = {"half": 0.5, "a third": 0.33, "two thirds": 0.67, "a quarter": 0.25, "three quarters": 0.75,
               "majority": 0.5, "most": 0.5, "nearly all": 0.9, "almost all": 0.9, "all": 1.0}


HYPE = _rx(r"revolution|breakthrough|groundbreaking|game[- ]changer|miracle|thing of the past")


def claimed_share(s: str) -> str:
    """The responder share a sentence asserts: '70 percent' -> 0.7, 'most' or hype ('revolutionary') -> 0.5,
    'some'/'many' -> '0' (can help)."""
    for m in SHARE.finditer(s):
        if m.group(1):
            return f"{float(m.group(1)) / 100:g}"
        word = m.group(2).lower()
        if word in SHARE_WORDS:
            return f"{SHARE_WORDS[word]:g}"
    return "0.5" if HYPE.search(s) else "0"


def window_hours(s: str, default: str) -> str:
    """The time window an onset claim names, as the engine's '<=Xh'."""
    s = s.lower()
    m = re.search(r"within\s+" + _NUM + r"(?:\s*(?:-|–|to)\s*\d+)?\s*(minutes?|min|hours?|days?|weeks?)", s)
    if m:
        n = _number(m.group(1)) or 1
        mult = {"m": 1 / 60, "h": 1, "d": 24, "w": 168}[m.group(2)[0]]
        hi = re.search(r"(?:-|–|to)\s*(\d+)\s*" + m.group(2)[:3], s)
        n = float(hi.group(1)) if hi else n
        return f"<={max(1, round(n * mult)):g}h"
    for pattern, value in ((r"during|minutes|immediate|instant|right away", "<=1h"),
                           (r"hours|same day|same evening|that evening|24|overnight|a day\b|first (?:session|infusion|dose)"
                            r"|single (?:infusion|dose|session)|one (?:infusion|dose|session)", "<=24h"),
                           (r"days|first week|a week|weeks", "<=168h")):
        if re.search(pattern, s):
            return value
    return default


def duration_hours(s: str) -> str:
    """The duration a durability claim names, as '>=Xh' (months/years -> 3 months, weeks -> 2 weeks)."""
    s = s.lower()
    if re.search(r"months|years|long[- ]term|for good|permanent|lasting relief|long-lasting|lasting improvement", s):
        return ">=2160h"
    m = re.search(_NUM + r"\s*(?:-|–|to)?\s*(?:\d+\s*)?weeks?", s)
    if m and _number(m.group(1)) >= 1:
        return f">={_number(m.group(1)) * 168:g}h"
    if re.search(r"\ba week\b", s):
        return ">=168h"
    return ">=336h"


# --------------------------------------------------------------------------------------- families

REGULATORY_FDA = _rx(r"\bFDA\b|Food and Drug Administration|\bapproved\b|approval")
ANAESTHETIC = _rx(r"(?<!sub-)(?<!sub)\ban(?:a)?esthe(?:tic|sia)\b|surgery|surgical|operating rooms?|hospitals have used"
                  r"|around (?:forever|for decades)|used (?:safely )?for decades")
OFF_LABEL = _rx(r"off-label")
MISUSE = _rx(r"misuse|abuse|recreational|schedule iii|controlled substance")
STUDY_COUNT = _rx(r"\b(?:several|many|numerous|dozens|multiple|a handful|handful|few|a number of|only|\d+(?!\s*%|\s*percent)|no)\b[^.;]{0,40}"
                  r"\b(?:studies|trials|reports|publications)\b|\bstudied in\b|\bresearch base\b")
ONGOING = _rx(r"underway|ongoing|being (?:studied|researched|investigated)|early stages|more research is needed"
              r"|upcoming (?:trials|studies)")
NULL_RESULT = _rx(r"not work for everyone|doesn.t work for everyone|not (?:uniform|consistent)|mixed results|none of the"
                  r"|no (?:meaningful )?(?:response|benefit|improvement)|did not improve|far smaller effects|not everyone")
STUDY_FINDING = _rx(r"\b(?:trial|study|studies|data|research|analysis|pooling)\b[^.]{0,80}\b(?:found|showed|shown|show"
                    r"|reported|demonstrat|yields?|suggest)")
COMPARATIVE = _rx(r"better than|superior|outperform|exceed|more effective than|compared (?:with|to) (?:traditional|ssri"
                  r"|standard|other)|than any|\b(?:better|best)\b[^.]{0,40}\bcombin|combin\w*\b[^.]{0,60}\b(?:better|best|enhanc)")
SAFETY_ABSOLUTE_NONE = _rx(r"\bno (?:lasting )?side[- ]effects|without (?:any )?side[- ]effects|aren.t any|are(?:n.t| not) any"
                           r"|free of side|zero side|virtually no|completely safe|totally safe|100% safe|no risks?\b"
                           r"|perfectly safe|absolutely safe|carries no risk|not addictive|non-?addictive|no (?:risk of )?(?:addiction|dependence)")
SAFETY_ABSOLUTE_FEW = _rx(r"\bfew(?:er)? side[- ]effects|side[- ]effects (?:are|were) (?:rare|minimal|uncommon)|rarely"
                          r"|well[- ]tolerated|\btolerable|very safe|safe(?: and effective)?\b|exceedingly rare|\brare\b"
                          r"|minimal side|gentle|(?:strong|excellent|good|proven|established|favou?rable) safety (?:profile|record)")
SAFETY_NOT_REPORTED = _rx(r"(?:have|has) not been reported|never (?:been )?reported|no reports? of|no cases? of")
TRANSIENT = _rx(r"fade|wear(?:s)? off|pass(?:es)?\b|resolve|temporary|transient|short[- ]lived|within (?:an hour|two hours"
                r"|a couple of hours|\d+ hours?)|goes? up for a short|for a short while|mild")
AE_NAMED = _rx(r"dissociat|detached|dreamy|floaty|floating|disconnected|buzzed|nausea|blood pressure|hypertension|dizz"
               r"|hallucinat|euphori|sedat|drowsy|headache|suicid|psycho(?:s|tic)|bladder|urinary|misuse|dependen|addict")
ADOLESCENT = _rx(r"teen|adolescen|children|kids|young people|youth|pediatric|paediatric")
NOT_CAUSE = _rx(r"(?:does(?:n't| not)|won't|will not|never) cause (?:the |any )?([\w -]{3,40}?)(?: that| which|,|\.|$)"
                r"|without (?:causing|the) ([\w -]{3,30}?)(?: that| which|,|\.|$)")
HARM_WORDS = (("psychos", r"psychos|psychotic"), ("suicid", r"suicid"), ("dissociat", r"dissociat"),
              ("dependen", r"dependen|addict|misuse"))

PRACTICES: tuple[tuple[str, str], ...] = (
    ("unsupervised_use", r"self-guided|at[- ]home|unsupervised|by mail|send doses home|take-home"),
    ("psychiatric_evaluation", r"psychiatric (?:evaluation|assessment|interview)|diagnos(?:ed|is) by|psychiatrist (?:evaluates|reviews)"),
    ("pre_treatment_evaluation", r"evaluation|assessment|medical history|screening|ECG|baseline vital|check of your blood pressure"
                                 r"|before (?:your first|treatment|each|every) |records"),
    ("monitoring_during_dose", r"monitor|checks? (?:on you|your vital)|vital signs|recorded every|throughout|the whole time"
                               r"|right there|stays? with you|supervis|from start to finish|watch"),
    ("post_dose_observation", r"recovery|rest in|observed for|after (?:each|every|the|your) (?:infusion|session)|before you leave"
                              r"|until you feel|post-infusion|discharged"),
    ("qualified_staff_present", r"nurse|physician|anesthesiologist|anaesthetist|clinician|doctor|medical (?:staff|team)"),
    ("follow_up_visits", r"follow[- ]?up|at 1, 3 and 6 months|keeps? track"),
)
PRACTICE_CUE = _rx("|".join(p for _, p in PRACTICES))

SCHEDULE_MAINTENANCE = _rx(r"maintenance|booster|top-?ups?|touch-?ups?|every (?:month|\d+\s*(?:-|–|to)\s*\d+ (?:weeks|months))"
                           r"|once a month|monthly|every (?:two|three|four|few) (?:to \w+ )?(?:weeks|months)|every \d+ weeks"
                           r"|intervals of")
SCHEDULE = _rx(r"twice (?:a )?week|twice weekly|three (?:times|infusions) (?:a |per )?week|every other day|once a week|weekly"
               r"|\b(?:six|6|four|4|five|5|eight|8) (?:further )?(?:infusions|sessions|treatments)|series|course|total of")
DURATION_MIN = _rx(r"(?:over|for|take|takes|lasts?|about|approximately|roughly|around)\s+(?:about\s+|approximately\s+|roughly\s+)?(\d+)"
                   r"(?:\s*(?:-|–|to)\s*\d+)?\s*(?:minutes|min)\b")
DOSE = _rx(r"0\.5 ?mg/kg|low[- ]dose|low doses?|small doses|sub-?an(?:a)?esthetic|mg/kg")
ROUTE = _rx(r"intravenous|\bIV\b|drip|infused")

MECHANISMS: tuple[tuple[str, str], ...] = (
    ("nmda_antagonism", r"NMDA|receptor antagonist|blocks? (?:the )?(?:NMDA|glutamate) receptors?"
                        r"|(?:targets?|acts? on|works? on|affects?|modulat\w*) (?:the )?(?:brain.s )?glutamate"),
    ("glutamate", r"glutamate (?:surge|release|levels?|burst)|increas\w* (?:the )?(?:amount|levels?) of glutamate|glutamate is released"),
    ("neurotransmitter", r"GABA|neurotransmitter|serotonin|dopamine"),
    ("neuroplasticity", r"plasticity|synap|new (?:neural )?(?:connections|pathways)|rewir|grow"),
    ("neural_reset", r"reset|loop|circuit|network"),
)

EFFECT = _rx(r"help|reliev|relief|reduc|eas(?:e|es|ed|ing)\b|improv|lower|calmer|quieter"
             r"|(?:calm|quiet)(?:s|ed|ing)? (?:down|the|your|those|these|intrusive|anxi|mind)|(?:calms|quiets) \w+"
             r"|loosen|diminish|decreas|drop|lift"
             r"|alleviat|work|effective|success|respon|remission|benefit|result|difference|shift|lighter|better|hope|chance"
             r"|revolution|breakthrough|groundbreaking|game[- ]changer|miracle")
ONSET = _rx(r"\bfast|rapid|quick|immediate|instant|within (?:the first |a few |the same )?(?:\d|a |an |one |two |few |minutes|hours"
            r"|days|day|week|24)|minutes|hours|same day|overnight|during (?:the|each) infusion|shortly after|first (?:session|infusion|dose)")
DURABLE = _rx(r"\blast|lasting|stick around|persist|sustain|long[- ]?(?:term|lasting)|for (?:weeks|months|years|good)"
              r"|stay well|kept|keep (?:symptoms|results)|permanent|still (?:present|there|felt|seen)|weeks? later|months? later"
              r"|persisted")
RELAPSE = _rx(r"fade|wears? off|wear off|(?:symptoms?|thoughts?|urges?|it|they|benefits?|\w+ions) (?:may |can |will |often )?return"
               r"|returning|return of|relapse|no surefire")
POPULATION_TR = _rx(r"resistant|refractory|not (?:responded|improved)|haven.t responded|failed|tried everything|little relief"
                    r"|other (?:treatments|medications) (?:have )?(?:failed|haven)|candidates?|resisted")


def _words_rx(words: tuple[str, ...] | list[str]) -> re.Pattern[str]:
    """Words that must start at a word boundary (a synonym such as 'obsess' also finds 'obsessive')."""
    return _rx("|".join(rf"(?<!non-)\b{re.escape(w.lower())}" for w in words) or r"(?!x)x")


def scope_of(s: str, topic: Topic) -> str:
    """The condition a sentence is about: the review's condition (its synonyms or scales) unless the
    sentence names only one of the topic's context conditions."""
    scales = [re.sub(r"[^a-z]", "", x.lower()) for x in topic.outcome.scales]
    if _words_rx([*topic.condition.synonyms, *topic.outcome.scales, *scales]).search(s):
        return topic.condition.code
    for scope in topic.context.conditions:
        if _words_rx(topic.context.synonyms.get(scope, (scope,))).search(s):
            return scope
    return topic.condition.code


def _spec(category: str, rule: str, outcome: str = "", claimed: str = "", timepoint: str = "", population: str = "",
          design: str = "any", scope: str = "", cue: str = "") -> dict[str, str]:
    return {"category": category, "scope": scope, "test_outcome": outcome, "test_timepoint": timepoint,
            "test_design": design, "test_population": population, "rule": rule, "claimed": claimed, "cue": cue}


def _practice(s: str) -> str:
    """The practices a sentence names, joined by '+' (each is judged against the practice guidance)."""
    found = [name for name, pat in PRACTICES if re.search(pat, s, re.IGNORECASE)]
    if "psychiatric_evaluation" in found and "pre_treatment_evaluation" in found:
        found.remove("pre_treatment_evaluation")
    if "monitoring_during_dose" in found and "qualified_staff_present" in found:
        found.remove("qualified_staff_present")
    out = "+".join(found[:3])
    if re.search(CREDENTIAL_CUE, s, re.IGNORECASE):
        out += "+specialist_credential"
    return out


def _safety(s: str, scope: str, code: str) -> dict[str, str] | None:
    population = f"{code}_adolescent" if ADOLESCENT.search(s) else code
    if SAFETY_NOT_REPORTED.search(s) and AE_NAMED.search(s):
        harm = next((key for key, pat in HARM_WORDS if re.search(pat, s, re.IGNORECASE)), "serious")
        return _spec("safety", "safety_direct", "serious_adverse_events", "none", population=population, scope=scope,
                     cue=f"'{harm}' said never to have been reported")
    if re.search(r"addict|dependen|abuse|misuse", s, re.IGNORECASE) and SAFETY_ABSOLUTE_NONE.search(s):
        return _spec("safety", "safety_direct", "misuse", "none", scope=scope, cue="no risk of misuse or dependence claimed")
    if SAFETY_ABSOLUTE_NONE.search(s):
        return _spec("safety", "safety_direct", "any_adverse_events", "none", population=population, scope=scope,
                     cue="absolute safety claim (no side effects / completely safe)")
    if re.search(r"serious (?:adverse|side)", s, re.IGNORECASE) and SAFETY_ABSOLUTE_FEW.search(s):
        return _spec("safety", "safety_direct", "serious_adverse_events", "few", population=population, scope=scope,
                     cue="serious harms said to be rare")
    if TRANSIENT.search(s) and (AE_NAMED.search(s) or re.search(r"side[- ]effects?|adverse|symptoms", s, re.IGNORECASE)):
        return _spec("safety", "safety_transient", "transient_adverse_events", scope=scope, cue="side effects said to be short-lived")
    if SAFETY_ABSOLUTE_FEW.search(s) or ADOLESCENT.search(s) and re.search(r"\bsafe|suitable|appropriate", s, re.IGNORECASE):
        return _spec("safety", "safety_direct", "any_adverse_events", "few", population=population, scope=scope,
                     cue="near-absolute safety or tolerability claim")
    if NOT_CAUSE.search(s):
        m = NOT_CAUSE.search(s)
        named = (m.group(1) or m.group(2) or "effect").strip().split()[-1].lower()
        return _spec("safety", "unmeasured", f"named_effect:{named}", re.escape(named[:8]), scope=scope,
                     cue="a side effect said not to occur")
    if MISUSE.search(s):
        return _spec("regulatory", "regulatory", "recreational_misuse", "yes", design="regulatory_record", population="any",
                     scope="general", cue="misuse potential")
    if AE_NAMED.search(s) or re.search(r"(?:real|some|common|possible) (?:side[- ]effects|risks)|side[- ]effects", s, re.IGNORECASE):
        pat = "|".join(m.group(0).lower() for m in AE_NAMED.finditer(s)) or "dissociat|nausea|blood pressure|headache"
        pat = pat.replace("detached", "dissociat").replace("dreamy", "dissociat").replace("floaty", "dissociat") \
                 .replace("floating", "dissociat").replace("disconnected", "dissociat").replace("buzzed", "drunk")
        return _spec("safety", "ae_reported", "adverse_events_reported", pat, scope=scope, cue="side effects said to occur")
    return None


def spec_for_claim(sentence: str, topic: Topic | None = None) -> dict[str, str]:
    """Category, rule and parameters for one claim sentence (registry-shaped, plus the deciding cue)."""
    spec = _spec_for(sentence, topic or load_topic(paths.default_topic()))
    code = (topic or load_topic(paths.default_topic())).condition.code
    spec["scope"] = spec["scope"] or code
    spec["test_population"] = spec["test_population"] or code
    return spec


def _spec_for(s: str, topic: Topic) -> dict[str, str]:
    code, label, drug = topic.condition.code, topic.condition.label, topic.intervention_label
    context = topic.context.conditions
    scope = scope_of(s, topic)
    approval = topic.vocab("audit").get("indirect_approval", {})
    # regulatory facts
    if REGULATORY_FDA.search(s) and not re.search(r"approved by (?:the )?(?:fda|food)[^.]{0,40}anesthe|as an? anesthe", s, re.I):
        if approval and re.search(approval["pattern"], s, re.IGNORECASE) and re.search(approval["condition_pattern"], s, re.I):
            return _spec("regulatory", "regulatory", approval["fact"], "yes", design="regulatory_record",
                         population="any", scope=approval["condition"], cue=approval["cue"])
        negated = re.search(r"\bnot\b|n't|\bno\b|not yet|only", s, re.IGNORECASE)
        key = f"fda_approved_{scope if scope in context else code}"
        return _spec("regulatory", "regulatory", key, "no" if negated else "yes", design="regulatory_record",
                     population="any", scope=scope, cue="FDA approval")
    if OFF_LABEL.search(s):
        return _spec("regulatory", "regulatory", "off_label_psychiatric_use", "yes", design="regulatory_record",
                     population="any", scope="general", cue="off-label use")
    practice_check = re.search(r"monitor|checks?|record|measur|track|watch", s, re.IGNORECASE) and PRACTICE_CUE.search(s)
    safety = None if practice_check and not SAFETY_ABSOLUTE_NONE.search(s) else _safety(s, scope, code) if re.search(
        r"safe|side[- ]effect|tolera|adverse|risk|harm|caus|suitable for (?:teen|adolescen|child)|" + AE_NAMED.pattern, s,
                                            re.IGNORECASE) else None
    if safety:
        return safety
    if ANAESTHETIC.search(s) and not EFFECT.search(s.split("and it")[0] if "and it" in s else ""):
        # an approval documents that the drug may be used, not how widely or why: those parts are tested apart
        parts = ["anaesthetic_approval"] + (["anaesthetic_use_extent"] if re.search(r"widely|commonly|routinely", s) else []) \
            + (["anaesthetic_safety_profile"] if re.search(r"\bsafe(ty)?\b", s) else [])
        return _spec("regulatory", "regulatory", "+".join(parts), "yes", design="regulatory_record", population="any",
                     scope="general", cue="anaesthetic use")
    # what studies exist and what they found
    if NULL_RESULT.search(s):
        return _spec("efficacy", "null_results", f"{code}_symptoms", scope=scope, cue="studies without benefit")
    if ONGOING.search(s) and not STUDY_COUNT.search(s):
        return _spec("evidence_base", "ongoing_research", "ongoing_research", "1", scope=scope, cue="research ongoing")
    if STUDY_COUNT.search(s) and not STUDY_FINDING.search(s) and not re.search(r"no controlled trials? (?:yet )?showing", s, re.I):
        if scope in topic.context.comorbid or re.search(rf"more research on {re.escape(drug)} for", s, re.I):
            return _spec("evidence_base", "evidence_count", "clinical_studies", "2", scope=code, cue="study count")
        few = re.search(r"handful|only|few\b", s, re.IGNORECASE)
        many = re.search(r"dozens", s, re.IGNORECASE) and 24 or re.search(r"many|numerous", s, re.IGNORECASE) and 10 or 2
        rct = re.search(r"randomi[sz]ed|controlled|RCTs?", s, re.IGNORECASE)
        claimed = "-5" if few and rct else str(many)
        return _spec("evidence_base", "evidence_count", "clinical_studies", claimed, scope=scope, cue="study count")
    if re.search(r"no controlled trials?", s, re.IGNORECASE):
        return _spec("durability", "durability", f"{code}_symptoms", "0.5", ">=2160h", scope=scope,
                     cue="no controlled long-term trial (the claim is that none shows durability)")
    if COMPARATIVE.search(s):
        comp = "cbt" if re.search(r"\bcbt\b|exposure|erp|cognitive|psychotherapy|combin", s, re.IGNORECASE) else "standard"
        return _spec("efficacy", "comparative", f"combination_{comp}" if comp == "cbt" else "comparison_standard", comp,
                     scope=scope, cue="comparison with another treatment")
    # mechanism
    mech = [name for name, pat in MECHANISMS if re.search(pat, s, re.IGNORECASE)]
    if mech and re.search(r"brain|receptor|NMDA|glutamate|GABA|synap|neural|neuro", s, re.IGNORECASE):
        claimed = "change" if mech == ["neural_reset"] else "increase"
        return _spec("mechanism", "mechanism", "+".join(mech[:2]), claimed, scope=scope, cue="mechanism")
    # lasting benefit ('benefits last for months after the series') before the schedule it mentions
    if DURABLE.search(s) and EFFECT.search(s) and not ONSET.search(s) and not SCHEDULE_MAINTENANCE.search(s):
        return _spec("durability", "durability", f"{code}_symptoms", "0" if re.search(r"\bsome\b", s, re.I) else "0.5",
                     duration_hours(s), scope=scope, cue="lasting benefit")
    # how it is given
    if SCHEDULE_MAINTENANCE.search(s) and not RELAPSE.search(s):
        feature = "monthly_maintenance" if re.search(r"month", s, re.IGNORECASE) else "maintenance_schedule"
        return _spec("protocol", "protocol", feature, design="any", scope=scope, cue="maintenance schedule")
    if RELAPSE.search(s) and not re.search(r"\bnot\b[^.]{0,20}(?:fade|return)", s, re.IGNORECASE):
        return _spec("durability", "relapse", f"{code}_symptoms", scope=scope, cue="benefit fades")
    dur = DURATION_MIN.search(s)
    if dur or DOSE.search(s) or SCHEDULE.search(s) or (ROUTE.search(s) and not EFFECT.search(s)):
        if dur and 30 <= float(dur.group(1)) <= 60:
            feature = "infusion_40min"
        elif DOSE.search(s):
            feature = "subanaesthetic_dose"
        elif re.search(r"twice", s, re.IGNORECASE):
            feature = "twice_weekly"
        elif re.search(r"\b(?:six|6)\b|total of", s, re.IGNORECASE):
            feature = "six_infusion_course"
        elif re.search(r"once a week|weekly|three (?:times|infusions)", s, re.IGNORECASE):
            feature = "taper_schedule" if re.search(r"once a week|reduced", s, re.IGNORECASE) else "repeated_course"
        elif SCHEDULE.search(s):
            feature = "repeated_course"
        else:
            feature = "route_iv"
        if not (EFFECT.search(s) and not dur and not DOSE.search(s) and not SCHEDULE.search(s)):
            return _spec("protocol", "protocol", feature, scope=scope, cue="how the infusions are given")
    if PRACTICE_CUE.search(s) and not EFFECT.search(s) and not ONSET.search(s):
        practice = _practice(s)
        if practice:
            return _spec("protocol", "practice_standard", practice, design="guideline", population="any",
                         scope="general", cue=f"how the clinic gives {drug}")
    # effects on symptoms
    share = claimed_share(s)
    if scope in context:
        if ONSET.search(s):
            return _spec("onset", "context_onset", f"{scope}_symptoms", scope, window_hours(s, "<=24h"), scope,
                         scope=scope, cue=f"onset in {scope}")
        return _spec("efficacy", "context_efficacy", f"{scope}_symptoms", scope, population=scope, scope=scope,
                     cue=f"benefit in {scope}")
    if DURABLE.search(s) and not ONSET.search(s):
        return _spec("durability", "durability", f"{code}_symptoms", "0" if re.search(r"\bsome\b", s, re.I) else "0.5",
                     duration_hours(s), scope=scope, cue="lasting benefit")
    finding = bool(STUDY_FINDING.search(s))
    if POPULATION_TR.search(s):
        return _spec("population", "efficacy", f"{code}_response", share if share != "0" and not finding else "0",
                     population=f"{code}_tr", scope=scope, cue=f"treatment-resistant {label}")
    if ONSET.search(s) and not (share != "0" and float(share) > 0.5):
        return _spec("onset", "onset", f"{code}_symptoms", timepoint=window_hours(s, "<=24h"), scope=scope,
                     cue="speed of benefit")
    if finding or re.search(r"\bsome (?:patients|people)\b|\bin some\b|for some", s, re.IGNORECASE):
        return _spec("efficacy", "efficacy", f"{code}_response", "some", scope=scope, cue="benefit shown in studies or some patients")
    if EFFECT.search(s):
        return _spec("efficacy", "efficacy", f"{code}_response", share, scope=scope, cue=f"benefit on {label} symptoms")
    return _spec("other", "not_testable", "statement", scope=scope, cue="no testable outcome")
