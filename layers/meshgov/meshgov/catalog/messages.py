"""From queued EventBridge events to units of work: parse, trust-check, group.

A batch often names the same table many times (a producer adding partitions in a loop). Grouping by
database and table turns N events into one reconcile per table, with the partitions they named
merged, which is what keeps partition propagation at one BatchCreatePartition per 100 partitions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import ValidationError

from meshgov.catalog.naming import Producer
from meshgov.catalog.plan import PartitionKey
from meshgov.contracts.data_contract_events import CONTRACT_PUBLISHED
from meshgov.contracts.glue_events import (
    CATALOG_SOURCE,
    CATALOG_SYNC_REQUESTED,
    DATABASE_STATE_CHANGE,
    TABLE_STATE_CHANGE,
    CatalogSyncRequestedDetail,
    DatabaseChange,
    DatabaseStateChangeDetail,
    EventEnvelope,
    TableChange,
    TableStateChangeDetail,
)
from meshgov.contracts.quality_events import QUALITY_RESULTS_AVAILABLE, QUALITY_SOURCE
from meshgov.contracts_odcs.publication import ContractPublication, parse_publication
from meshgov.errors import EventMalformedError, ProducerUnknownError, one_line
from meshgov.quality.results import QualityResult, parse_quality_event

MAX_BODY_BYTES = 256 * 1024  # an EventBridge event is at most 256 KB


@dataclass(frozen=True)
class CatalogEvent:
    """A validated event: who sent it (per EventBridge) and what it names."""

    event_id: str
    producer: Producer
    database: str
    whole_database: bool
    tables: tuple[str, ...] = ()
    table: str | None = None
    partitions: tuple[PartitionKey, ...] | None = ()  # None: could not read them, take all
    change: str = ""


def parse_event(
    body: str, producers: Mapping[str, Producer]
) -> CatalogEvent | QualityResult | ContractPublication:
    if len(body.encode()) > MAX_BODY_BYTES:
        raise EventMalformedError(f"event body of {len(body.encode())} bytes exceeds 256 KB")
    try:
        raw = json.loads(body)
        envelope = EventEnvelope.model_validate(raw)
    except (ValueError, ValidationError) as exc:
        raise EventMalformedError(
            f"not an EventBridge event meshgov accepts: {one_line(exc)}"
        ) from exc
    producer = producers.get(envelope.account)
    if producer is None:
        raise ProducerUnknownError(
            f"account {envelope.account} is not a registered producer (PRODUCER_DOMAINS)"
        )
    try:
        return _to_event(envelope, producer)
    except ValidationError as exc:
        raise EventMalformedError(f"{envelope.detail_type}: {one_line(exc)}") from exc


def _to_event(
    envelope: EventEnvelope, producer: Producer
) -> CatalogEvent | QualityResult | ContractPublication:
    if envelope.source == QUALITY_SOURCE and envelope.detail_type == QUALITY_RESULTS_AVAILABLE:
        return parse_quality_event(envelope, producer)  # a producer table's quality result
    if envelope.source == "aws.glue" and envelope.detail_type == DATABASE_STATE_CHANGE:
        db = DatabaseStateChangeDetail.model_validate(envelope.detail)
        whole = db.type_of_change in (
            DatabaseChange.CREATE_DATABASE,
            DatabaseChange.DELETE_DATABASE,
        )
        if not whole and not db.changed_tables:
            raise EventMalformedError(f"{db.type_of_change} event names no table")
        return CatalogEvent(
            event_id=envelope.id,
            producer=producer,
            database=db.database_name.lower(),
            whole_database=whole,
            tables=tuple(t.lower() for t in db.changed_tables),
            change=db.type_of_change.value,
        )
    if envelope.source == "aws.glue" and envelope.detail_type == TABLE_STATE_CHANGE:
        tb = TableStateChangeDetail.model_validate(envelope.detail)
        partitions: tuple[PartitionKey, ...] | None = ()
        if tb.type_of_change is not TableChange.UPDATE_TABLE:
            partitions = parse_partitions(tb.changed_partitions)
        return CatalogEvent(
            event_id=envelope.id,
            producer=producer,
            database=tb.database_name.lower(),
            whole_database=False,
            table=tb.table_name.lower(),
            partitions=partitions,
            change=tb.type_of_change.value,
        )
    if envelope.source == CATALOG_SOURCE and envelope.detail_type == CONTRACT_PUBLISHED:
        return parse_publication(envelope, producer)  # a contract version for one table
    if envelope.source == CATALOG_SOURCE and envelope.detail_type == CATALOG_SYNC_REQUESTED:
        req = CatalogSyncRequestedDetail.model_validate(envelope.detail)
        return CatalogEvent(
            event_id=envelope.id,
            producer=producer,
            database=req.database_name.lower(),
            whole_database=not req.table_names,
            tables=tuple(t.lower() for t in req.table_names),
            change=CATALOG_SYNC_REQUESTED,
        )
    raise EventMalformedError(f"unexpected event {envelope.source}/{envelope.detail_type}")


_BRACKETED = re.compile(r"^\[(.*)\]$")


def parse_partitions(items: list[str]) -> tuple[PartitionKey, ...] | None:
    """Glue names a partition by its values joined with commas (``"2018,01"`` for Year, Month:
    https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html);
    a bracketed ``"[2018, 01]"`` form is read too. A value containing a comma makes the split
    ambiguous: the reconciler checks each key against the table's partition keys and looks at
    every partition when they disagree. A hint that cannot be read costs reads, never
    correctness (None: all partitions)."""
    keys: list[PartitionKey] = []
    for item in items:
        text = item.strip()
        match = _BRACKETED.match(text)
        if match:
            keys.append(tuple(v.strip() for v in match.group(1).split(",")))
        elif text:
            keys.append(tuple(text.split(",")))
        else:
            return None
    return tuple(keys) if keys else None


@dataclass
class WorkItem:
    """Everything a batch asks of one producer database."""

    producer: Producer
    database: str
    whole_database: bool = False
    tables: set[str] = field(default_factory=set)
    # table -> partitions named by events; None means every partition
    partition_scopes: dict[str, frozenset[PartitionKey] | None] = field(default_factory=dict)
    message_ids: list[str] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)

    def add(self, event: CatalogEvent, message_id: str) -> None:
        self.message_ids.append(message_id)
        self.event_ids.append(event.event_id)
        if event.whole_database:
            self.whole_database = True
        self.tables.update(event.tables)
        if event.table is not None:
            self.tables.add(event.table)
            scope = self.partition_scopes.get(event.table, frozenset())
            if scope is None or event.partitions is None:
                self.partition_scopes[event.table] = None
            else:
                self.partition_scopes[event.table] = scope | frozenset(event.partitions)
