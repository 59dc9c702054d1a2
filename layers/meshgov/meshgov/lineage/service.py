"""Recording an SQS batch of forwarded OpenLineage run events in the lineage table.

Each message is read (:func:`meshgov.lineage.events.parse`): a run is written whole
(:class:`meshgov.lineage.store.LineageStore`) and audited once (``lineage:recorded``, SUCCEEDED,
with the job, the run and the counts); a refusal is audited (``lineage:refused``, REFUSED, its
code and reason) and nothing is written — validation is complete before the first write. A
message whose write or audit record fails is reported failed and retried (the puts are
idempotent), then SQS redrive parks it in ``LineageDLQ``. Refusals are not retried: nothing about
them changes by waiting.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.audit import Auditor, AuditOutcome, DynamoAuditTrail
from meshgov.aws.session import AwsSessions
from meshgov.aws.sqs_batch import QueueMessage
from meshgov.errors import MeshgovError
from meshgov.lineage import events
from meshgov.lineage.events import LineageRun, Refusal
from meshgov.lineage.store import LineageStore
from meshgov.settings import LineageSettings

ACTION_RECORDED = "lineage:recorded"
ACTION_REFUSED = "lineage:refused"


@dataclass
class LineageBatchResult:
    failed: dict[str, str] = field(default_factory=dict)  # message id -> reason
    recorded: int = 0
    edges: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # code -> events


class LineageService:
    def __init__(self, store: LineageStore, auditor: Auditor) -> None:
        self._store = store
        self._auditor = auditor

    def process(self, messages: Sequence[QueueMessage]) -> LineageBatchResult:
        result = LineageBatchResult()
        for message in messages:
            parsed = events.parse(message.body)
            try:
                if isinstance(parsed, Refusal):
                    self._refuse(message, parsed)
                    result.refused[parsed.code] = result.refused.get(parsed.code, 0) + 1
                else:
                    result.edges += self._record(message, parsed)
                    result.recorded += 1
            except (MeshgovError, ClientError, BotoCoreError) as exc:
                result.failed[message.message_id] = str(exc)
        return result

    def _record(self, message: QueueMessage, run: LineageRun) -> int:
        written = self._store.record(run)
        self._auditor.record(
            ACTION_RECORDED,
            AuditOutcome.SUCCEEDED,
            run.job,
            run.event_id or message.message_id,
            f"{len(run.edges)} edge(s) of run {run.run_id}",
            account=run.account,
            run_id=run.run_id,
            event_type=run.event_type,
            event_time=run.event_time,
            inputs=list(run.inputs),
            outputs=list(run.outputs),
            items=written,
        )
        return len(run.edges)

    def _refuse(self, message: QueueMessage, refusal: Refusal) -> None:
        self._auditor.record(
            ACTION_REFUSED,
            AuditOutcome.REFUSED,
            refusal.job or "lineage",
            refusal.event_id or message.message_id or f"lineage-{uuid.uuid4().hex}",
            refusal.reason,
            error_code=refusal.code,
            account=refusal.account or None,
        )


def build_lineage_service(
    settings: LineageSettings,
    sessions: AwsSessions,
    actor: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> LineageService:
    dynamodb: Any = sessions.client("dynamodb")
    return LineageService(
        store=LineageStore(dynamodb, settings.lineage_table_name),
        auditor=Auditor(DynamoAuditTrail(dynamodb, settings.audit_table_name, clock), actor),
    )
