"""The central table parameters that carry a table's latest data quality result.

They are *central-only*: meshgov writes them on the central table, never from the producer's
table (a producer cannot set its own score: :func:`without_quality` strips any it sets), and the
catalog reconcile keeps them as they are (:data:`QUALITY_PARAMETERS` are carried over from the
current central table and never count as a difference: :mod:`meshgov.catalog.canonical`,
:mod:`meshgov.catalog.plan`). Pure: no AWS call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

QUALITY_SCORE = "meshgov:quality_score"
QUALITY_EVALUATED_AT = "meshgov:quality_evaluated_at"
QUALITY_RULES_PASSED = "meshgov:quality_rules_passed"
QUALITY_RULES_FAILED = "meshgov:quality_rules_failed"
QUALITY_RULES_SKIPPED = "meshgov:quality_rules_skipped"
QUALITY_RULESETS = "meshgov:quality_rulesets"
QUALITY_RESULT_ID = "meshgov:quality_result_id"
QUALITY_RUN_ID = "meshgov:quality_run_id"
QUALITY_STATE = "meshgov:quality_state"

QUALITY_PARAMETERS = frozenset(
    {
        QUALITY_SCORE,
        QUALITY_EVALUATED_AT,
        QUALITY_RULES_PASSED,
        QUALITY_RULES_FAILED,
        QUALITY_RULES_SKIPPED,
        QUALITY_RULESETS,
        QUALITY_RESULT_ID,
        QUALITY_RUN_ID,
        QUALITY_STATE,
    }
)


@dataclass(frozen=True)
class QualitySummary:
    """The latest result of a table, as its central parameters hold it (what ``find`` shows)."""

    score: float
    evaluated_at: str  # ISO 8601, UTC
    rules_passed: int
    rules_failed: int
    rules_skipped: int
    rulesets: tuple[str, ...]
    result_id: str
    run_id: str
    state: str

    def as_parameters(self) -> dict[str, str]:
        return {
            QUALITY_SCORE: f"{self.score:.4f}",
            QUALITY_EVALUATED_AT: self.evaluated_at,
            QUALITY_RULES_PASSED: str(self.rules_passed),
            QUALITY_RULES_FAILED: str(self.rules_failed),
            QUALITY_RULES_SKIPPED: str(self.rules_skipped),
            QUALITY_RULESETS: ",".join(self.rulesets),
            QUALITY_RESULT_ID: self.result_id,
            QUALITY_RUN_ID: self.run_id,
            QUALITY_STATE: self.state,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "evaluated_at": self.evaluated_at,
            "rules_passed": self.rules_passed,
            "rules_failed": self.rules_failed,
            "rules_skipped": self.rules_skipped,
            "rulesets": list(self.rulesets),
            "result_id": self.result_id,
            "run_id": self.run_id,
            "state": self.state,
        }


def summary_of(parameters: Mapping[str, Any]) -> QualitySummary | None:
    """The latest result a central table carries; None when it has none (or an unreadable one:
    meshgov wrote them, so that is someone's hand edit, shown as no result)."""
    if QUALITY_SCORE not in parameters:
        return None
    try:
        return QualitySummary(
            score=float(parameters[QUALITY_SCORE]),
            evaluated_at=str(parameters.get(QUALITY_EVALUATED_AT, "")),
            rules_passed=int(parameters.get(QUALITY_RULES_PASSED, 0)),
            rules_failed=int(parameters.get(QUALITY_RULES_FAILED, 0)),
            rules_skipped=int(parameters.get(QUALITY_RULES_SKIPPED, 0)),
            rulesets=tuple(r for r in str(parameters.get(QUALITY_RULESETS, "")).split(",") if r),
            result_id=str(parameters.get(QUALITY_RESULT_ID, "")),
            run_id=str(parameters.get(QUALITY_RUN_ID, "")),
            state=str(parameters.get(QUALITY_STATE, "")),
        )
    except (TypeError, ValueError):
        return None


def quality_of(parameters: Mapping[str, Any]) -> dict[str, str]:
    """The quality parameters among ``parameters`` (what the reconcile carries over)."""
    return {k: str(v) for k, v in parameters.items() if k in QUALITY_PARAMETERS}


def without_quality(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``parameters`` without quality parameters (a producer's own are never propagated)."""
    return {k: v for k, v in parameters.items() if k not in QUALITY_PARAMETERS}
