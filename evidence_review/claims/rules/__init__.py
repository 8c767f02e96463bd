"""Verdict rules by claim family, and the one registry that maps a rule key to its function."""

from __future__ import annotations

from typing import Callable

from evidence_review.claims.evidence_base import EvidenceBase
from evidence_review.claims.rules.common import Verdict
from evidence_review.claims.rules.context import (
    rule_context_durability,
    rule_context_efficacy,
    rule_context_onset,
    rule_mechanism,
)
from evidence_review.claims.rules.documentary import (
    rule_citation,
    rule_evidence_count,
    rule_ongoing_research,
    rule_regulatory,
)
from evidence_review.claims.rules.efficacy import (
    rule_comparative,
    rule_durability,
    rule_efficacy,
    rule_infusions_to_response,
    rule_null_results,
    rule_onset,
    rule_population_compare,
    rule_relapse,
)
from evidence_review.claims.rules.practice import (
    rule_crisis,
    rule_not_testable,
    rule_practice_standard,
    rule_protocol,
)
from evidence_review.claims.rules.safety import (
    rule_ae_reported,
    rule_safety_direct,
    rule_safety_rate,
    rule_safety_transient,
    rule_unmeasured,
)

RULES: dict[str, Callable[[dict, EvidenceBase], Verdict]] = {
    "regulatory": rule_regulatory, "efficacy": rule_efficacy, "onset": rule_onset, "durability": rule_durability,
    "relapse": rule_relapse, "population_compare": rule_population_compare, "safety_rate": rule_safety_rate,
    "safety_transient": rule_safety_transient, "ae_reported": rule_ae_reported, "protocol": rule_protocol,
    "comparative": rule_comparative, "mechanism": rule_mechanism, "evidence_count": rule_evidence_count,
    "ongoing_research": rule_ongoing_research, "context_efficacy": rule_context_efficacy,
    "context_onset": rule_context_onset, "context_durability": rule_context_durability, "citation": rule_citation,
    "infusions_to_response": rule_infusions_to_response, "unmeasured": rule_unmeasured, "not_testable": rule_not_testable,
    "crisis": rule_crisis, "practice_standard": rule_practice_standard, "safety_direct": rule_safety_direct,
    "null_results": rule_null_results,
}
