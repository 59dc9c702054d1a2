"""Check a request against what is published centrally, and find who owns it (pure).

A consumer may only ask for what the central catalog shows: a central database meshgov created
(it carries ``meshgov:source_account``) of a registered producer, its tables and their columns, or
an LF-Tag expression that matches such tables — all of one producer, because only the owning
producer's decision counts and one request has one owner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshgov.access.store import Coverage
from meshgov.catalog.projection import DOMAIN, SOURCE_ACCOUNT
from meshgov.contracts.access_events import NamedResource
from meshgov.contracts.product_metadata import CLASSIFICATION_TAG, classification_of
from meshgov.errors import MeshgovError

# The policy's classification rule has one home (find and posture use it too); re-exported for
# the access service, which imports it from here.
__all__ = [
    "CLASSIFICATION_TAG",
    "AccessRequestRefusedError",
    "MatchedTable",
    "Resolution",
    "classification_of",
    "owner_of",
    "resolve_named",
    "resolve_tagged",
]


class AccessRequestRefusedError(MeshgovError):
    """A request (or decision) meshgov will not act on; ``code`` names the rule it broke."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Resolution:
    owner_account: str
    domain: str
    coverage: tuple[Coverage, ...]
    classifications: tuple[str, ...]  # one per covered table ("" when it has none)
    # (table, classification) of a named request's tables (lower-case names): which tables the
    # approval policy's "needs a filter" rule applies to.
    classified: tuple[tuple[str, str], ...] = ()

    @property
    def table_names(self) -> list[str]:
        return [f"{c.database}.{t}" for c in self.coverage for t in c.tables] or [
            f"{c.database}.*" for c in self.coverage
        ]


def owner_of(database: Mapping[str, Any] | None, name: str, producers: Mapping[str, str]) -> str:
    """The producer account of a central database meshgov published, else refused."""
    params = (database or {}).get("Parameters") or {}
    owner = str(params.get(SOURCE_ACCOUNT, ""))
    if database is None or not owner:
        raise AccessRequestRefusedError(
            "ResourceNotPublished", f"{name} is not a database published in the central catalog"
        )
    if producers.get(owner) != params.get(DOMAIN):
        raise AccessRequestRefusedError(
            "ResourceNotPublished", f"{name} belongs to no registered producer"
        )
    return owner


def resolve_named(
    resource: NamedResource,
    database: Mapping[str, Any] | None,
    tables: Sequence[Mapping[str, Any]],
    producers: Mapping[str, str],
    tags_by_table: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
) -> Resolution:
    """``tables``: every table of the central database (GetTables)."""
    owner = owner_of(database, resource.database, producers)
    by_name = {str(t["Name"]).lower(): t for t in tables if not t.get("TargetTable")}
    tags_by_table = tags_by_table or {}
    if resource.tables:
        missing = [t for t in resource.tables if t.lower() not in by_name]
        if missing:
            raise AccessRequestRefusedError(
                "ResourceNotPublished",
                f"{resource.database} has no published table {', '.join(sorted(missing))}",
            )
        chosen = [by_name[t.lower()] for t in resource.tables]
    else:
        if not by_name:
            raise AccessRequestRefusedError(
                "ResourceNotPublished", f"{resource.database} has no published table"
            )
        chosen = list(by_name.values())
    if resource.columns:
        known = {
            str(c["Name"]).lower()
            for c in [
                *(chosen[0].get("StorageDescriptor") or {}).get("Columns", []),
                *chosen[0].get("PartitionKeys", []),
            ]
        }
        unknown = [c for c in resource.columns if c.lower() not in known]
        if unknown:
            raise AccessRequestRefusedError(
                "ColumnUnknown",
                f"{resource.database}.{resource.tables[0]} has no column {', '.join(unknown)}",
            )
    coverage = Coverage(
        database=resource.database,
        tables=tuple(sorted(str(t["Name"]) for t in chosen)) if resource.tables else (),
        whole=not resource.tables,
        columns=tuple(resource.columns),
    )
    classified = tuple(
        (str(t["Name"]).lower(), classification_of(t, tags_by_table.get(str(t["Name"]).lower())))
        for t in chosen
    )
    classifications = tuple(label for _, label in classified)
    return Resolution(owner, producers[owner], (coverage,), classifications, classified)


@dataclass(frozen=True)
class MatchedTable:
    """A table an LF-Tag expression matched (SearchTablesByLFTags), with its database's params."""

    database: str
    table: str
    database_parameters: Mapping[str, str]
    tags: Mapping[str, Sequence[str]]


def resolve_tagged(matches: Sequence[MatchedTable], producers: Mapping[str, str]) -> Resolution:
    published = [m for m in matches if m.database_parameters.get(SOURCE_ACCOUNT, "") in producers]
    if not published:
        raise AccessRequestRefusedError(
            "ResourceNotPublished", "the LF-Tag expression matches no published table"
        )
    owners = sorted({m.database_parameters[SOURCE_ACCOUNT] for m in published})
    if len(owners) > 1:
        raise AccessRequestRefusedError(
            "ExpressionSpansProducers",
            f"the LF-Tag expression matches tables of {len(owners)} producers "
            f"({', '.join(producers[o] for o in owners)}): send one request per domain",
        )
    owner = owners[0]
    by_database: dict[str, list[str]] = {}
    for match in published:
        by_database.setdefault(match.database, []).append(match.table)
    coverage = tuple(
        Coverage(database=db, tables=tuple(sorted(tables)))
        for db, tables in sorted(by_database.items())
    )
    classified = tuple(
        (f"{m.database}.{m.table}".lower(), classification_of({}, m.tags)) for m in published
    )
    classifications = tuple(label for _, label in classified)
    return Resolution(owner, producers[owner], coverage, classifications, classified)
