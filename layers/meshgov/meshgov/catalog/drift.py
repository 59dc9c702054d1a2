"""Catalog drift: central objects that differ from meshgov's projection of the published source.

Someone with rights in the central account can change or delete a central table, partition or
database by hand, or add one. The sync ledger (ADR 0004) says what meshgov last *wrote*, not what
central now *holds*, so the sweep compares central itself with the projection of the source
(:mod:`meshgov.catalog.projection`) and puts back what differs (:mod:`meshgov.catalog.reconcile`,
audited as "changed outside meshgov"); ``meshgov posture`` lists the same differences as catalog
drift (:mod:`meshgov.posture`). Both use the functions here, so "drift" means one thing.

Pure: plain Glue structures in, :class:`CatalogDrift` out. Equality is the reconciler's own
(:func:`meshgov.catalog.canonical.comparable`): volatile provenance never counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from meshgov.catalog.canonical import comparable
from meshgov.catalog.naming import Producer
from meshgov.catalog.plan import PartitionKey, plan_partitions
from meshgov.catalog.projection import SOURCE_ACCOUNT, database_input_of, table_input_of
from meshgov.catalog.publication import is_resource_link

CHANGED_OUTSIDE = "changed outside meshgov"
MAX_NAMED = 5  # partition values (or fields) named in one drift's detail


class DriftKind(StrEnum):
    DATABASE_MISSING = "database missing"
    DATABASE_CHANGED = "database changed"
    DATABASE_EXTRA = "database extra"
    TABLE_MISSING = "table missing"
    TABLE_CHANGED = "table changed"
    TABLE_EXTRA = "table extra"
    PARTITIONS_MISSING = "partitions missing"
    PARTITIONS_CHANGED = "partitions changed"
    PARTITIONS_EXTRA = "partitions extra"


_HINTS = {
    DriftKind.DATABASE_MISSING: "deleted centrally: the next sweep recreates it, tables included",
    DriftKind.DATABASE_CHANGED: "edited centrally: the next sweep puts the source's back",
    DriftKind.DATABASE_EXTRA: "no published source explains it: the next sweep deletes it "
    "(one made by hand once the catalog role holds DROP on it)",
    DriftKind.TABLE_MISSING: "deleted centrally: the next sweep recreates it from the source",
    DriftKind.TABLE_CHANGED: "edited centrally: the next sweep puts the source's definition back",
    DriftKind.TABLE_EXTRA: "no published source table explains it: the next sweep deletes it "
    "(one made by hand once the catalog role holds DROP on it)",
    DriftKind.PARTITIONS_MISSING: "deleted centrally: the next sweep recreates them",
    DriftKind.PARTITIONS_CHANGED: "edited centrally: the next sweep puts the source's back",
    DriftKind.PARTITIONS_EXTRA: "not at the source: the next sweep deletes them",
}


@dataclass(frozen=True)
class CatalogDrift:
    """One central object that differs from the projection of the published source."""

    kind: DriftKind
    database: str  # the central database
    table: str = ""
    detail: str = ""  # the fields that differ, or the partition values

    @property
    def resource(self) -> str:
        return f"{self.database}.{self.table}" if self.table else f"database {self.database}"

    @property
    def hint(self) -> str:
        return _HINTS[self.kind]

    @property
    def reason(self) -> str:
        """The audit reason of the repair: says it was drift, and what."""
        detail = f" ({self.detail})" if self.detail else ""
        return f"{CHANGED_OUTSIDE}: {self.kind.value}{detail}"


@dataclass(frozen=True)
class CentralSnapshot:
    """The central catalog as one sweep read it: databases and their tables, by name."""

    databases: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    tables: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, databases: Iterable[Mapping[str, Any]], tables: Iterable[Mapping[str, Any]]
    ) -> CentralSnapshot:
        by_database: dict[str, dict[str, Mapping[str, Any]]] = {}
        for table in tables:
            by_database.setdefault(str(table["DatabaseName"]), {})[str(table["Name"])] = table
        return cls({str(d["Name"]): d for d in databases}, by_database)

    def database(self, name: str) -> Mapping[str, Any] | None:
        return self.databases.get(name)

    def tables_of(self, database: str) -> Mapping[str, Mapping[str, Any]]:
        return self.tables.get(database, {})


def differing_fields(desired: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Which fields differ (``Description``, ``StorageDescriptor.Columns``, ``Parameters.k``),
    comparable forms: what a drift's detail names."""
    want, have = comparable(desired), comparable(current)
    found: list[str] = []
    for key in sorted(set(want) | set(have)):
        a, b = want.get(key), have.get(key)
        if a == b:
            continue
        if isinstance(a, Mapping) or isinstance(b, Mapping):  # pruned when empty
            a, b = a if isinstance(a, Mapping) else {}, b if isinstance(b, Mapping) else {}
            found.extend(
                f"{key}.{inner}"
                for inner in sorted(set(a) | set(b))
                if a.get(inner) != b.get(inner)
            )
        else:
            found.append(key)
    return found


def _named(items: Sequence[str]) -> str:
    more = f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else ""
    return ", ".join(items[:MAX_NAMED]) + more


def database_drift(
    desired: Mapping[str, Any], current: Mapping[str, Any] | None
) -> CatalogDrift | None:
    """``desired``: the projection (a DatabaseInput); ``current``: the central database."""
    name = str(desired["Name"])
    if current is None:
        return CatalogDrift(DriftKind.DATABASE_MISSING, name)
    fields = differing_fields(desired, database_input_of(current))
    return CatalogDrift(DriftKind.DATABASE_CHANGED, name, detail=_named(fields)) if fields else None


def table_drift(
    database: str, desired: Mapping[str, Any], current: Mapping[str, Any] | None
) -> CatalogDrift | None:
    """``desired``: the projection (a TableInput); ``current``: the central table."""
    name = str(desired["Name"])
    if current is None:
        return CatalogDrift(DriftKind.TABLE_MISSING, database, name)
    fields = differing_fields(desired, table_input_of(current))
    if not fields:
        return None
    return CatalogDrift(DriftKind.TABLE_CHANGED, database, name, _named(fields))


def partition_drift(
    database: str,
    table: str,
    desired: Mapping[PartitionKey, dict[str, Any]],
    current: Mapping[PartitionKey, dict[str, Any]],
) -> list[CatalogDrift]:
    """Partitions missing, changed or extra centrally (``partition_input`` forms, by key)."""
    plan = plan_partitions(desired, current)
    found = []
    for kind, keys in (
        (DriftKind.PARTITIONS_MISSING, [tuple(p["Values"]) for p in plan.create]),
        (DriftKind.PARTITIONS_CHANGED, [key for key, _ in plan.update]),
        (DriftKind.PARTITIONS_EXTRA, list(plan.delete)),
    ):
        if keys:
            values = ["/".join(key) for key in sorted(keys)]
            found.append(CatalogDrift(kind, database, table, f"{len(keys)}: {_named(values)}"))
    return found


def owned_by(producer: Producer, database: Mapping[str, Any]) -> bool:
    """Whether a central database is ``producer``'s to govern: it carries the producer's
    provenance, or its name is in the producer's namespace ``<domain>_`` (ADR 0003: a domain has
    no underscore, so the prefix is the producer's alone). Resource links are never meshgov's."""
    if is_resource_link(database):
        return False
    provenance = (database.get("Parameters") or {}).get(SOURCE_ACCOUNT)
    return provenance == producer.account_id or str(database["Name"]).startswith(
        f"{producer.domain}_"
    )


def extra_databases(
    producer: Producer, snapshot: CentralSnapshot, explained: Iterable[str]
) -> list[CatalogDrift]:
    """The producer's central databases that no database it publishes explains."""
    keep = set(explained)
    return [
        CatalogDrift(DriftKind.DATABASE_EXTRA, name)
        for name, database in sorted(snapshot.databases.items())
        if name not in keep and owned_by(producer, database)
    ]


def extra_tables(
    database: str, snapshot: CentralSnapshot, explained: Iterable[str]
) -> list[CatalogDrift]:
    """Tables of a published central database that no published source table explains."""
    keep = set(explained)
    return [
        CatalogDrift(DriftKind.TABLE_EXTRA, database, name)
        for name in sorted(snapshot.tables_of(database))
        if name not in keep
    ]
