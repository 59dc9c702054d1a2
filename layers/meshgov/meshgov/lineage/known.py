"""The edges meshgov knows itself, computed when asked from the stores that already hold them.

One home for each fact (docs/adr/0018-lineage.md): nothing is copied into the lineage table.

- **producer table -> central table** (``via`` ``catalog``): the central table carries the
  provenance meshgov writes on every table it propagates, ``meshgov:source_arn``
  (:mod:`meshgov.catalog.projection`); its name is ``<domain>_<database>.<table>``
  (docs/adr/0003-central-naming.md). Downstream of a producer table: the central table of that
  name, if it exists and names it as its source. Upstream of a central table: its source ARN.
- **central table -> consumer link -> principal** (``via`` ``grant``): the access requests that
  hold grants now (``GRANTED``, ``ACTIVE``, ``UNDER_REVIEW``) covering the table. The consumer
  reads it through a database resource link named like the central database
  (docs/adr/0005-access-requests.md), so the link is the table
  ``arn:…:glue:<region>:<consumer>:table/<central db>/<table>`` — the node a consumer's own job
  names as its input (OpenLineage Glue naming). The principal is the request's role.

Reads are cached for one walk: one ``GetTable`` per central table, and the holding requests read
once (one Query per state, the requests table's state index).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.access.states import HOLDING_STATES
from meshgov.access.store import RequestRecord, RequestStore
from meshgov.aws.arns import Arns
from meshgov.aws.session import error_code
from meshgov.catalog.projection import SOURCE_ARN
from meshgov.errors import MeshgovError
from meshgov.lineage import nodes
from meshgov.lineage.graph import Direction
from meshgov.lineage.nodes import GlueTable

CATALOG = "catalog"
GRANT = "grant"
OWNERSHIP = "ownership"


class LineageReadError(MeshgovError):
    """The central catalog or the requests table could not be read."""


def covers(record: RequestRecord, database: str, table: str) -> bool:
    """Whether a request covers central table ``database.table`` (by name or the whole database)."""
    return any(
        c.database.lower() == database
        and (c.whole or not c.tables or table in {t.lower() for t in c.tables})
        for c in record.coverage
    )


class MeshEdges:
    """A neighbour source for :func:`meshgov.lineage.graph.walk`."""

    def __init__(
        self,
        glue: Any,
        requests: RequestStore,
        central_account: str,
        producers: Mapping[str, str],
        arns: Arns,
    ) -> None:
        self._glue = glue
        self._arns = arns
        self._requests = requests
        self._central = central_account
        self._producers = producers
        self._tables: dict[tuple[str, str], Mapping[str, Any] | None] = {}
        self._holding: list[RequestRecord] | None = None

    def know(self, tables: Iterable[Mapping[str, Any]]) -> None:
        """Central tables the caller has read already (``find``'s search results, which carry
        their parameters): no ``GetTable`` for them."""
        for table in tables:
            self._tables[(str(table["DatabaseName"]).lower(), str(table["Name"]).lower())] = table

    def __call__(
        self, level: Sequence[str], direction: Direction
    ) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = {}
        for node in level:
            others = self._of(node, direction)
            if others:
                found[node] = others
        return found

    def _of(self, node: str, direction: Direction) -> list[tuple[str, str]]:
        table = nodes.glue_table(node)
        if table is None:
            if direction is Direction.UPSTREAM and nodes.ROLE.match(node):
                return self._links_of_principal(node)
            return []
        if table.account == self._central:
            return self._of_central(table, direction)
        if direction is Direction.DOWNSTREAM:
            return self._central_copy(table) + self._principals_of_link(table)
        return self._central_behind_link(table)

    # -- producer table <-> central table --------------------------------------------------------
    def _central_copy(self, table: GlueTable) -> list[tuple[str, str]]:
        domain = self._producers.get(table.account)
        if domain is None:
            return []
        central = table.moved(self._central, f"{domain}_{table.database}")
        found = self._central_table(central.database, central.table)
        if found is None or (found.get("Parameters") or {}).get(SOURCE_ARN) != table.arn:
            return []
        return [(central.arn, CATALOG)]

    def _of_central(self, table: GlueTable, direction: Direction) -> list[tuple[str, str]]:
        if direction is Direction.UPSTREAM:
            found = self._central_table(table.database, table.table)
            source = str((found or {}).get("Parameters", {}).get(SOURCE_ARN, ""))
            return [(source.lower(), CATALOG)] if nodes.glue_table(source) else []
        accounts = {r.consumer_account for r in self._holding_requests() if covers(r, *_key(table))}
        return [(table.moved(a).arn, GRANT) for a in sorted(accounts)]

    # -- central table <-> consumer link <-> principal -------------------------------------------
    def _requests_of_link(self, link: GlueTable) -> list[RequestRecord]:
        return [
            r
            for r in self._holding_requests()
            if r.consumer_account == link.account and covers(r, *_key(link))
        ]

    def _central_behind_link(self, link: GlueTable) -> list[tuple[str, str]]:
        if not self._requests_of_link(link):
            return []
        return [(link.moved(self._central).arn, GRANT)]

    def _principals_of_link(self, link: GlueTable) -> list[tuple[str, str]]:
        principals = {r.principal for r in self._requests_of_link(link)}
        return [(p, GRANT) for p in sorted(principals)]

    def _links_of_principal(self, principal: str) -> list[tuple[str, str]]:
        links: set[str] = set()
        for record in self._holding_requests():
            if record.principal != principal:
                continue
            for cover in record.coverage:
                for name in cover.tables or self._tables_of(cover.database):
                    links.add(
                        GlueTable(
                            self._arns.partition,
                            self._arns.region,
                            record.consumer_account,
                            cover.database.lower(),
                            name.lower(),
                        ).arn
                    )
        return [(link, GRANT) for link in sorted(links)]

    # -- reads -------------------------------------------------------------------------------------
    def _holding_requests(self) -> list[RequestRecord]:
        if self._holding is None:
            try:
                self._holding = [
                    r
                    for state in HOLDING_STATES
                    for r in self._requests.in_state(state)
                    if r.kind != OWNERSHIP
                ]
            except MeshgovError as exc:
                raise LineageReadError(f"reading the access requests: {exc}") from exc
        return self._holding

    def _central_table(self, database: str, name: str) -> Mapping[str, Any] | None:
        key = (database, name)
        if key not in self._tables:
            try:
                table = self._glue.get_table(
                    CatalogId=self._central, DatabaseName=database, Name=name
                )["Table"]
            except ClientError as exc:
                if error_code(exc) != "EntityNotFoundException":
                    raise LineageReadError(f"GetTable {database}.{name}: {exc}") from exc
                table = None
            except BotoCoreError as exc:
                raise LineageReadError(f"GetTable {database}.{name}: {exc}") from exc
            self._tables[key] = table
        return self._tables[key]

    def _tables_of(self, database: str) -> list[str]:
        try:
            pages = self._glue.get_paginator("get_tables").paginate(
                CatalogId=self._central, DatabaseName=database
            )
            return [str(t["Name"]) for page in pages for t in page.get("TableList", [])]
        except (ClientError, BotoCoreError) as exc:
            raise LineageReadError(f"GetTables {database}: {exc}") from exc


def _key(table: GlueTable) -> tuple[str, str]:
    return table.database.lower(), table.table.lower()
