"""``Contract Published``: a producer names the S3 object of a new contract version for one of
its published tables. Read from the EventBridge envelope, whose ``account`` (set by EventBridge)
is the producer; the table is named as the central catalog shows it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from meshgov.catalog.ledger import SyncLedger
from meshgov.catalog.naming import Producer
from meshgov.catalog.source import ProducerCatalog
from meshgov.contracts.data_contract_events import CONTRACT_PUBLISHED, ContractPublishedDetail
from meshgov.contracts.glue_events import EventEnvelope
from meshgov.contracts_odcs.guard import ContractGuard
from meshgov.contracts_odcs.store import ContractHead
from meshgov.errors import EventRejectedError


@dataclass(frozen=True)
class ContractPublication:
    event_id: str
    producer: Producer
    central_database: str
    table: str
    location: str
    change: str = CONTRACT_PUBLISHED

    @property
    def database(self) -> str:  # what an ``event:received`` record names
        return self.central_database

    @property
    def tables(self) -> tuple[str, ...]:
        return (self.table,)


def parse_publication(envelope: EventEnvelope, producer: Producer) -> ContractPublication:
    """The publication an event asks for (pydantic ``ValidationError`` when malformed)."""
    detail = ContractPublishedDetail.model_validate(envelope.detail)
    return ContractPublication(
        event_id=envelope.id,
        producer=producer,
        central_database=detail.database.lower(),
        table=detail.table.lower(),
        location=detail.location,
    )


class ContractNotOwnerError(EventRejectedError):
    """A ``Contract Published`` naming a central database the sending account does not publish."""

    code = "ContractNotOwner"


class ContractTableUnknownError(EventRejectedError):
    """A ``Contract Published`` naming a table its producer does not publish (or no longer has)."""

    code = "ContractTableUnknown"


class ContractPublications:
    """The ``Contract Published`` event: ownership checked against what the sender publishes
    (the sync ledger), the table read at the source, then the guard's publication path."""

    def __init__(
        self,
        *,
        ledger: SyncLedger,
        source_for: Callable[[Producer], ProducerCatalog],
        guard: ContractGuard,
    ) -> None:
        self._ledger = ledger
        self._source_for = source_for
        self._guard = guard

    def publish(self, event: ContractPublication) -> ContractHead | None:
        account = event.producer.account_id
        owned = {r.central_database: r for r in self._ledger.databases(account).values()}
        db_row = owned.get(event.central_database)
        if db_row is None:
            raise ContractNotOwnerError(
                f"database {event.central_database} is not published by account {account}: "
                f"only a table's producer publishes its contract"
            )
        source_db = db_row.source_database
        known = self._ledger.get_tables(account, source_db, [event.table])
        table = self._source_for(event.producer).get_table(source_db, event.table)
        if event.table not in known or table is None:
            raise ContractTableUnknownError(
                f"table {event.central_database}.{event.table} is not published by account "
                f"{account}"
            )
        return self._guard.check(
            producer=event.producer,
            source_database=source_db,
            central_database=event.central_database,
            table=table,
            location=event.location,
            correlation_id=event.event_id,
            force=True,
        )
