"""Count an SQS batch of forwarded ``GetDataAccess`` events into the usage store.

Parse every message (:mod:`meshgov.usage.events`), keep only accesses to tables meshgov published
in the central catalog (one ``GetTables`` per central database the batch names), group what is
left by (table, principal, day) and write each group once (:class:`meshgov.usage.store.UsageStore`).

The audit trail gets ONE ``usage:recorded`` record per batch (how many events, counted, already
counted, skipped twins, refused, groups, failed) and ONE ``REFUSED`` record per refused event with
its code and reason, never one per counted access: usage is the store's job, and the trail must
not become a second copy of CloudTrail. A second delivery is not refused, only counted in the
batch record as a duplicate.

The batch is processed whole (:func:`meshgov.aws.sqs_batch.run_whole`, partial batch failures as
the other SQS handlers): a message whose group could not be written, or
whose table could not be checked, is reported failed and retried (then SQS redrive parks it in
``UsageDLQ``); re-counting it is harmless, the store recognises its ``eventID``. A refused event
is audited and not retried: nothing about it changes by waiting.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.access.envelope import event_id_of
from meshgov.audit import Auditor, AuditOutcome, DynamoAuditTrail
from meshgov.aws.session import AwsSessions, error_code, error_text
from meshgov.aws.sqs_batch import QueueMessage
from meshgov.catalog.projection import SOURCE_ACCOUNT
from meshgov.errors import MeshgovError
from meshgov.registry.directory import RegisteredProducers
from meshgov.registry.store import RegistryStore
from meshgov.settings import UsageSettings
from meshgov.usage import events
from meshgov.usage.events import Refusal, Twin
from meshgov.usage.model import UsageEvent
from meshgov.usage.store import UsageStore, UsageStoreError

ACTION_RECORDED = "usage:recorded"
ACTION_REFUSED = "usage:refused"


class UsageCatalogReadError(MeshgovError):
    """The central catalog could not be read: the events naming that database are retried."""


@dataclass
class UsageBatchResult:
    failed: dict[str, str] = field(default_factory=dict)  # message id -> reason
    events: int = 0
    counted: int = 0
    duplicates: int = 0
    twins: int = 0
    unchecked: int = 0
    groups: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # code -> events

    def summary(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "counted": self.counted,
            "duplicates": self.duplicates,
            "twins": self.twins,
            "unchecked": self.unchecked,
            "groups": self.groups,
            "refused": dict(sorted(self.refused.items())),
            "failed": len(self.failed),
        }


class PublishedTables:
    """Which tables of a central database meshgov published: read once per batch and database.

    A central table is meshgov's when it carries the provenance meshgov writes on every table it
    propagates (``meshgov:source_account``, :mod:`meshgov.catalog.projection`) naming a producer
    whose domain prefixes the database (docs/adr/0003-central-naming.md).
    """

    def __init__(self, glue: Any, central_account: str, producers: Mapping[str, str]) -> None:
        self._glue = glue
        self._central = central_account
        self._producers = producers
        self._known: dict[str, frozenset[str]] = {}

    def contains(self, table: str) -> bool:
        database, _, name = table.partition(".")
        return name.lower() in self.of(database.lower())

    def of(self, database: str) -> frozenset[str]:
        if database not in self._known:
            self._known[database] = self._read(database)
        return self._known[database]

    def _read(self, database: str) -> frozenset[str]:
        try:
            pages = self._glue.get_paginator("get_tables").paginate(
                CatalogId=self._central, DatabaseName=database
            )
            tables = [t for page in pages for t in page.get("TableList", [])]
        except ClientError as exc:
            if error_code(exc) == "EntityNotFoundException":
                return frozenset()
            raise UsageCatalogReadError(f"GetTables {database}: {error_text(exc)}") from exc
        except BotoCoreError as exc:
            raise UsageCatalogReadError(f"GetTables {database}: {exc}") from exc
        return frozenset(
            str(t["Name"]).lower() for t in tables if self._ours(database, t.get("Parameters"))
        )

    def _ours(self, database: str, parameters: Mapping[str, str] | None) -> bool:
        domain = self._producers.get((parameters or {}).get(SOURCE_ACCOUNT, ""))
        return domain is not None and database.startswith(f"{domain}_")


class UsageService:
    def __init__(
        self,
        store: UsageStore,
        glue: Any,
        auditor: Auditor,
        central_account: str,
        producers: Mapping[str, str],
        retention_days: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._glue = glue
        self._auditor = auditor
        self._central = central_account
        self._producers = producers
        self._retention_days = retention_days
        self._clock = clock

    def process(self, messages: Sequence[QueueMessage]) -> UsageBatchResult:
        result = UsageBatchResult(events=len(messages))
        now = self._clock()
        published = PublishedTables(self._glue, self._central, self._producers)
        groups: dict[tuple[str, str, str], list[tuple[str, UsageEvent]]] = defaultdict(list)
        refusals: list[tuple[str, Refusal]] = []
        for message in messages:
            parsed = self._parse(message.body, now)
            if isinstance(parsed, Twin):
                result.twins += 1
            elif isinstance(parsed, Refusal):
                refusals.append((message.message_id, parsed))
            else:
                try:
                    if published.contains(parsed.table):
                        groups[parsed.key].append((message.message_id, parsed))
                    else:
                        refusals.append((message.message_id, _not_published(parsed, message)))
                except UsageCatalogReadError as exc:
                    result.failed[message.message_id] = str(exc)
        for members in groups.values():
            self._record(members, result)
        for message_id, refusal in refusals:
            self._refuse(message_id, refusal, result)
        self._record_batch(messages, result)
        return result

    def _parse(self, body: str, now: datetime) -> events.Parsed:
        try:
            event = json.loads(body)
        except ValueError:
            return Refusal(events.MALFORMED, "the message is not JSON")
        return events.parse(event, self._central, now, self._retention_days)

    def _record(self, members: list[tuple[str, UsageEvent]], result: UsageBatchResult) -> None:
        try:
            outcome = self._store.record([event for _, event in members])
        except UsageStoreError as exc:
            for message_id, _ in members:
                result.failed[message_id] = str(exc)
            return
        result.groups += 1
        result.counted += outcome.counted
        result.duplicates += outcome.duplicates
        result.unchecked += outcome.unchecked

    def _refuse(self, message_id: str, refusal: Refusal, result: UsageBatchResult) -> None:
        try:
            self._auditor.record(
                ACTION_REFUSED,
                AuditOutcome.REFUSED,
                refusal.table or "usage",
                refusal.event_id or message_id,
                refusal.reason,
                error_code=refusal.code,
                account=refusal.account or None,
                principal=refusal.principal or None,
            )
        except (MeshgovError, ClientError, BotoCoreError) as exc:
            result.failed[message_id] = f"{refusal.code}: {refusal.reason}; then {exc}"
            return
        result.refused[refusal.code] = result.refused.get(refusal.code, 0) + 1

    def _record_batch(self, messages: Sequence[QueueMessage], result: UsageBatchResult) -> None:
        """The batch's one record. If it cannot be written, every message fails: the batch
        comes back, its accesses are recognised as counted, and the record is written then."""
        try:
            self._auditor.record(
                ACTION_RECORDED,
                AuditOutcome.SUCCEEDED,
                "usage",
                f"usage-{uuid.uuid4().hex}",
                **result.summary(),
            )
        except (MeshgovError, ClientError, BotoCoreError) as exc:
            for message in messages:
                result.failed.setdefault(message.message_id, f"audit: {exc}")


def _not_published(event: UsageEvent, message: QueueMessage) -> Refusal:
    envelope_id = event_id_of(message.body) or event.event_id
    return Refusal(
        events.NOT_PUBLISHED,
        f"{event.table} is no table meshgov published in the central catalog",
        envelope_id,
        event.consumer_account,
        event.table,
        event.principal,
    )


def build_usage_service(
    settings: UsageSettings,
    sessions: AwsSessions,
    actor: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> UsageService:
    dynamodb = sessions.client("dynamodb")
    return UsageService(
        store=UsageStore(dynamodb, settings.usage_table_name, settings.retention_days),
        glue=sessions.client("glue"),
        auditor=Auditor(DynamoAuditTrail(dynamodb, settings.audit_table_name, clock), actor),
        central_account=settings.central_account_id,
        producers=RegisteredProducers(RegistryStore(dynamodb, settings.registry_table_name)),
        retention_days=settings.retention_days,
        clock=clock,
    )
