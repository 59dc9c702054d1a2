"""The usage service over one SQS batch: grouping, one batch record, refusals, partial failures."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from meshgov.audit import Auditor, MemoryAuditTrail
from meshgov.aws.sqs_batch import QueueMessage
from meshgov.usage.model import UsageEvent
from meshgov.usage.service import UsageService
from meshgov.usage.store import GroupRecorded, UsageStoreError
from tests.unit.test_usage_events import CENTRAL, CONSUMER, link_access

PRODUCER = "222222222222"
NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


class Glue:
    """Central's catalog: sales_sales holds orders and customers (meshgov's provenance on both),
    and scratch (none); every GetTables page is counted."""

    def __init__(self) -> None:
        self.reads: list[str] = []

    def get_paginator(self, operation: str) -> Any:
        assert operation == "get_tables"
        glue = self

        class Pages:
            def paginate(self, CatalogId: str, DatabaseName: str) -> list[dict[str, Any]]:  # noqa: N803
                assert CatalogId == CENTRAL
                glue.reads.append(DatabaseName)
                ours = {"meshgov:source_account": PRODUCER}
                tables = [
                    {"Name": "orders", "Parameters": ours},
                    {"Name": "customers", "Parameters": ours},
                    {"Name": "scratch", "Parameters": {}},
                ]
                return [{"TableList": tables if DatabaseName == "sales_sales" else []}]

        return Pages()


class Store:
    """Records the groups written; fails the tables named in ``failing``."""

    def __init__(self, failing: Sequence[str] = ()) -> None:
        self.groups: list[list[UsageEvent]] = []
        self.failing = set(failing)

    def record(self, events: Sequence[UsageEvent]) -> GroupRecorded:
        if events[0].table in self.failing:
            raise UsageStoreError("throttled")
        self.groups.append(list(events))
        return GroupRecorded(events[0].key, len(events), 0)


def message(n: int, table: str = "orders", **changes: Any) -> QueueMessage:
    event = link_access(
        id=f"envelope-{n}",
        detail__eventID=f"evt-{n}",
        detail__requestParameters={
            "tableArn": f"arn:aws:glue:eu-west-1:{CONSUMER}:table/sales_sales/{table}"
        },
        **changes,
    )
    return QueueMessage(f"m-{n}", json.dumps(event))


def service(store: Store, glue: Glue, trail: MemoryAuditTrail) -> UsageService:
    return UsageService(
        store=store,  # type: ignore[arg-type]
        glue=glue,
        auditor=Auditor(trail, "meshgov:usage"),
        central_account=CENTRAL,
        producers={PRODUCER: "sales"},
        retention_days=400,
        clock=lambda: NOW,
    )


def test_a_batch_is_grouped_checked_once_per_database_and_audited_once() -> None:
    store, glue, trail = Store(), Glue(), MemoryAuditTrail()
    messages = [
        message(1),
        message(2),
        message(3, "customers"),
        message(4, "scratch"),  # central holds it, but meshgov did not publish it
        message(5, account="444444444444"),  # forwarded by another account
        QueueMessage("m-6", "not json"),
    ]

    result = service(store, glue, trail).process(messages)

    assert [[e.event_id for e in group] for group in store.groups] == [
        ["evt-1", "evt-2"],
        ["evt-3"],
    ]
    assert glue.reads == ["sales_sales"]
    assert result.failed == {}
    records = [r.entry for r in trail.records]
    refused = [
        (r.correlation_id, r.detail["error_code"]) for r in records if r.action == "usage:refused"
    ]
    assert refused == [
        ("envelope-4", "UsageNotPublished"),
        ("envelope-5", "UsageForged"),
        ("m-6", "UsageMalformed"),
    ]
    [batch] = [r for r in records if r.action == "usage:recorded"]
    assert batch.detail == {
        "events": 6,
        "counted": 3,
        "duplicates": 0,
        "twins": 0,
        "unchecked": 0,
        "groups": 2,
        "refused": {"UsageForged": 1, "UsageMalformed": 1, "UsageNotPublished": 1},
        "failed": 0,
    }


def test_a_group_that_cannot_be_written_fails_its_messages_only() -> None:
    store, trail = Store(failing=["sales_sales.customers"]), MemoryAuditTrail()

    result = service(store, Glue(), trail).process([message(1), message(2, "customers")])

    assert set(result.failed) == {"m-2"}
    assert "m-1" not in result.failed
    [batch] = [r.entry for r in trail.records if r.entry.action == "usage:recorded"]
    assert (batch.detail["counted"], batch.detail["failed"]) == (1, 1)
