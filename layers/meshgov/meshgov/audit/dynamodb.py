"""The audit trail in the central account's DynamoDB table (``AuditTable`` in template.yaml).

Items: ``pk = AUDIT#<UTC date>``, ``sk = <UTC timestamp>#<record id>`` so one day's records read
back in order with a Query; ``correlation_id`` feeds the ``by-correlation`` index. Each put is
conditional on the key being new: a record is never overwritten.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.audit.model import AuditEntry, AuditOutcome, AuditRecord
from meshgov.errors import AuditWriteError


class DynamoAuditTrail:
    def __init__(
        self,
        dynamodb: Any,
        table_name: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._dynamodb = dynamodb
        self._table = table_name
        self._clock = clock

    def record(self, entry: AuditEntry) -> AuditRecord:
        stored = AuditRecord(record_id=uuid.uuid4().hex, recorded_at=self._clock(), entry=entry)
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item=to_item(stored),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except (ClientError, BotoCoreError) as exc:
            raise AuditWriteError(f"audit record {entry.action} not written: {exc}") from exc
        return stored


def to_item(record: AuditRecord) -> dict[str, Any]:
    data = record.as_dict()
    ts = record.recorded_at.astimezone(UTC)
    return {
        "pk": {"S": f"AUDIT#{ts.date().isoformat()}"},
        "sk": {"S": f"{ts.isoformat(timespec='microseconds')}#{record.record_id}"},
        "record_id": {"S": record.record_id},
        "recorded_at": {"S": ts.isoformat(timespec="microseconds")},
        "action": {"S": data["action"]},
        "outcome": {"S": data["outcome"]},
        "actor": {"S": data["actor"] or "-"},
        "target": {"S": data["target"] or "-"},
        "correlation_id": {"S": data["correlation_id"] or "-"},
        "reason": {"S": data["reason"] or "-"},
        "detail": {"S": json.dumps(data["detail"], sort_keys=True)},
    }


def from_item(item: dict[str, Any]) -> AuditRecord:
    """Read a stored item back (used by the CLI and by tests that inspect the trail)."""

    def text(name: str) -> str:
        value = str(item.get(name, {}).get("S", ""))
        return "" if value == "-" else value

    return AuditRecord(
        record_id=text("record_id"),
        recorded_at=datetime.fromisoformat(text("recorded_at")),
        entry=AuditEntry(
            action=text("action"),
            outcome=AuditOutcome(text("outcome")),
            actor=text("actor"),
            target=text("target"),
            correlation_id=text("correlation_id"),
            reason=text("reason"),
            detail=json.loads(text("detail") or "{}"),
        ),
    )


def read_day(dynamodb: Any, table_name: str, day: str) -> list[AuditRecord]:
    """Every record of one UTC day, oldest first."""
    paginator = dynamodb.get_paginator("query")
    records: list[AuditRecord] = []
    for page in paginator.paginate(
        TableName=table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"AUDIT#{day}"}},
    ):
        records.extend(from_item(item) for item in page.get("Items", []))
    return records
