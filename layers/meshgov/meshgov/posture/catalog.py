"""Reading the catalog drift for the posture report (thin: the decisions are
:mod:`meshgov.catalog.drift`'s, the same the sweep repairs by).

For each producer: its databases and tables (as the sweep reads them, through the reader role on
AWS), projected as meshgov would write them centrally, against central read once
(:meth:`CentralCatalog.snapshot`); partitions of the published partitioned tables present on
both sides are read on both sides. Names meshgov refuses to publish (ADR 0003 length, look-alikes)
are not expected centrally, so their absence is no drift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from meshgov.aws.arns import Arns
from meshgov.catalog.central import CentralCatalog
from meshgov.catalog.confusables import refusal
from meshgov.catalog.drift import (
    CatalogDrift,
    CentralSnapshot,
    DriftKind,
    database_drift,
    extra_databases,
    extra_tables,
    partition_drift,
    table_drift,
)
from meshgov.catalog.naming import Producer, central_database_name
from meshgov.catalog.projection import (
    central_database_input,
    central_table_input,
    partition_input,
    partition_key,
)
from meshgov.catalog.publication import database_published, is_resource_link, table_published_in
from meshgov.catalog.source import ProducerCatalog
from meshgov.errors import NameInvalidError


@dataclass(frozen=True)
class ProducerSource:
    """A producer and a reader of its catalog (on AWS: its reader role's clients)."""

    producer: Producer
    catalog: ProducerCatalog

    @classmethod
    def of(cls, account_id: str, domain: str, glue: Any, lakeformation: Any) -> ProducerSource:
        """From the clients that read the producer's catalog."""
        return cls(Producer(account_id, domain), ProducerCatalog(glue, lakeformation, account_id))


def _expected(name: str, present: Mapping[str, Any] | None, beside: Sequence[str]) -> bool:
    """Whether meshgov would have published ``name``: a refused name is never central."""
    return present is not None or refusal(name, beside) is None


def producer_drift(
    source: ProducerSource,
    central: CentralCatalog,
    snapshot: CentralSnapshot,
    arns: Arns,
    now: datetime,
) -> list[CatalogDrift]:
    """Every difference between central and the projection of one producer's published source."""
    producer, catalog = source.producer, source.catalog
    found: list[CatalogDrift] = []
    explained: list[str] = []
    for database in catalog.list_databases():
        name = str(database["Name"])
        if is_resource_link(database):
            continue
        tables = catalog.list_tables(name) or []
        published = {str(t["Name"]): t for t in tables if table_published_in(database, t)}
        if not (database_published(database) or published):
            continue
        try:
            central_name = central_database_name(producer, name)
        except NameInvalidError:
            continue
        current = snapshot.database(central_name)
        if not _expected(central_name, current, list(snapshot.databases)):
            continue
        explained.append(central_name)
        drift = database_drift(
            central_database_input(producer, database, central_name, arns, now), current
        )
        if drift is not None:
            found.append(drift)
            if drift.kind is DriftKind.DATABASE_MISSING:
                continue  # its tables went with it: the database says it all
        present = snapshot.tables_of(central_name)
        for table_name, table in sorted(published.items()):
            copy = present.get(table_name)
            if not _expected(table_name, copy, list(present)):
                continue
            desired = central_table_input(producer, table, arns, now)
            drift = table_drift(central_name, desired, copy)
            if drift is not None:
                found.append(drift)
            if copy is not None and desired.get("PartitionKeys"):
                found.extend(
                    partition_drift(
                        central_name,
                        table_name,
                        _partitions(catalog.get_partitions(name, table_name)),
                        _partitions(central.get_partitions(central_name, table_name)),
                    )
                )
        found.extend(extra_tables(central_name, snapshot, published))
    found.extend(extra_databases(producer, snapshot, explained))
    return found


def catalog_drift(
    sources: Sequence[ProducerSource], central: CentralCatalog, arns: Arns, now: datetime
) -> list[CatalogDrift]:
    """The catalog drift of every producer, central read once."""
    snapshot = central.snapshot()
    return [
        drift
        for source in sources
        for drift in producer_drift(source, central, snapshot, arns, now)
    ]


def _partitions(partitions: Sequence[Mapping[str, Any]]) -> dict[tuple[str, ...], Any]:
    return {partition_key(p): partition_input(p) for p in partitions}
