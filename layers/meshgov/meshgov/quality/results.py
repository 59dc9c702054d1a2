"""A forwarded Glue Data Quality result, checked: which producer table it scores, and how.

Pure. Central trusts the event's ``account`` (set by EventBridge), never an account id inside
``detail``: a result whose ``context.catalogId`` names another account's catalog is forged
(``QualityForged``: a producer scores only its own tables). A result of a run inside a Glue job
(``contextType`` ``GLUE_JOB``) names no Data Catalog table and is refused (``QualityMalformed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from meshgov.catalog.naming import Producer
from meshgov.contracts.glue_events import EventEnvelope
from meshgov.contracts.quality_events import (
    CATALOG_CONTEXT,
    QUALITY_RESULTS_AVAILABLE,
    QualityResultsDetail,
)
from meshgov.errors import QualityForgedError, QualityMalformedError, one_line
from meshgov.quality.parameters import QualitySummary


@dataclass(frozen=True)
class QualityResult:
    """One result of one producer table. The attributes a catalog event also has
    (``event_id``, ``producer``, ``database``, ``table``, ``tables``, ``change``) let the catalog
    service audit its receipt the same way."""

    event_id: str
    producer: Producer
    database: str  # the producer's database (Glue names: lower case)
    table: str | None
    summary: QualitySummary
    tables: tuple[str, ...] = ()
    change: str = QUALITY_RESULTS_AVAILABLE

    @property
    def table_name(self) -> str:
        return self.table or ""


def parse_quality_event(envelope: EventEnvelope, producer: Producer) -> QualityResult:
    """The result ``envelope`` carries, or :class:`QualityMalformedError` /
    :class:`QualityForgedError` saying why it is refused."""
    try:
        detail = QualityResultsDetail.model_validate(envelope.detail)
    except ValidationError as exc:
        raise QualityMalformedError(f"{QUALITY_RESULTS_AVAILABLE}: {one_line(exc)}") from exc
    context = detail.context
    if context.context_type != CATALOG_CONTEXT or not context.database_name:
        raise QualityMalformedError(
            f"a {context.context_type} result names no Data Catalog table "
            f"(only {CATALOG_CONTEXT} results score a data product)"
        )
    if not context.table_name:
        raise QualityMalformedError("the result's context names no table")
    if context.catalog_id is not None and context.catalog_id != envelope.account:
        raise QualityForgedError(
            f"account {envelope.account} sent a result for a table of catalog "
            f"{context.catalog_id}: a producer scores only its own tables"
        )
    if any(not name.strip() for name in detail.ruleset_names):
        raise QualityMalformedError("a ruleset name is empty")
    return QualityResult(
        event_id=envelope.id,
        producer=producer,
        database=context.database_name.lower(),
        table=context.table_name.lower(),
        summary=QualitySummary(
            score=detail.score,
            evaluated_at=_event_time(envelope),
            rules_passed=detail.rules_succeeded,
            rules_failed=detail.rules_failed,
            rules_skipped=detail.rules_skipped,
            rulesets=tuple(detail.ruleset_names),
            result_id=detail.result_id,
            run_id=context.run_id or "",
            state=detail.state,
        ),
    )


def _event_time(envelope: EventEnvelope) -> str:
    """When the results were available: the envelope's ``time`` (EventBridge's, ISO 8601)."""
    raw = (envelope.model_extra or {}).get("time")
    try:
        when = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError as exc:
        raise QualityMalformedError(f"the event's time {raw!r} is not an ISO 8601 time") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
