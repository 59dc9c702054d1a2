"""The sync ledger: what meshgov last wrote centrally, per mirrored database and table.

The sweep compares the producer's current state with these rows, not with the central tables, so
a sweep that finds nothing to do reads the source (it must) and the ledger (a few Query pages),
and never pages through the central catalog (docs/adr/0004-sync-ledger.md). Rows are written
only *after* the central write succeeded: if a crash falls between the two, the next sweep sees a
difference, reads the central table and converges.

Keys: ``pk = PRODUCER#<account>`` / ``sk = DB#<source db>`` for databases;
``pk = DB#<account>#<source db>`` / ``sk = TABLE#<table>`` for tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from meshgov.catalog.plan import chunks
from meshgov.catalog.tags import TagMap
from meshgov.errors import CatalogWriteError


@dataclass(frozen=True)
class DatabaseRow:
    account_id: str
    source_database: str
    central_database: str
    content_hash: str
    tags: TagMap = field(default_factory=dict)


@dataclass(frozen=True)
class TableRow:
    account_id: str
    source_database: str
    table: str
    content_hash: str
    tags: dict[str, Any] = field(default_factory=dict)  # TableTags.as_dict()
    partitions_hash: str | None = None
    # meshgov.contracts_odcs.guard.contract_digest: the table's contract location and
    # contracted shape when last checked (None: no contract), so an unchanged one costs no call.
    contract_digest: str | None = None


def _db_key(account_id: str, database: str) -> dict[str, Any]:
    return {"pk": {"S": f"PRODUCER#{account_id}"}, "sk": {"S": f"DB#{database}"}}


def _table_key(account_id: str, database: str, table: str) -> dict[str, Any]:
    return {"pk": {"S": f"DB#{account_id}#{database}"}, "sk": {"S": f"TABLE#{table}"}}


class SyncLedger:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._ddb = dynamodb
        self._table = table_name

    def _wrap(self, what: str, exc: ClientError) -> CatalogWriteError:
        return CatalogWriteError(f"sync ledger {what}: {exc}")

    # --- databases -------------------------------------------------------------------------
    def databases(self, account_id: str) -> dict[str, DatabaseRow]:
        rows: dict[str, DatabaseRow] = {}
        for item in self._query(f"PRODUCER#{account_id}"):
            row = DatabaseRow(
                account_id=account_id,
                source_database=item["sk"]["S"].removeprefix("DB#"),
                central_database=item["central_database"]["S"],
                content_hash=item["content_hash"]["S"],
                tags=json.loads(item.get("tags", {}).get("S", "{}")),
            )
            rows[row.source_database] = row
        return rows

    def get_database(self, account_id: str, database: str) -> DatabaseRow | None:
        try:
            item = self._ddb.get_item(
                TableName=self._table, Key=_db_key(account_id, database), ConsistentRead=True
            ).get("Item")
        except ClientError as exc:
            raise self._wrap("get database", exc) from exc
        if not item:
            return None
        return DatabaseRow(
            account_id=account_id,
            source_database=database,
            central_database=item["central_database"]["S"],
            content_hash=item["content_hash"]["S"],
            tags=json.loads(item.get("tags", {}).get("S", "{}")),
        )

    def put_database(self, row: DatabaseRow) -> None:
        item = {
            **_db_key(row.account_id, row.source_database),
            "central_database": {"S": row.central_database},
            "content_hash": {"S": row.content_hash},
            "tags": {"S": json.dumps(row.tags, sort_keys=True)},
        }
        try:
            self._ddb.put_item(TableName=self._table, Item=item)
        except ClientError as exc:
            raise self._wrap("put database", exc) from exc

    def forget_database(self, account_id: str, database: str) -> None:
        """Remove the database row and every table row under it."""
        tables = list(self.tables(account_id, database))
        self.forget_tables(account_id, database, tables)
        try:
            self._ddb.delete_item(TableName=self._table, Key=_db_key(account_id, database))
        except ClientError as exc:
            raise self._wrap("delete database", exc) from exc

    # --- tables ----------------------------------------------------------------------------
    def tables(self, account_id: str, database: str) -> dict[str, TableRow]:
        return {
            row.table: row
            for row in (
                self._table_row(account_id, database, item)
                for item in self._query(f"DB#{account_id}#{database}")
            )
        }

    def get_tables(
        self, account_id: str, database: str, names: Iterable[str]
    ) -> dict[str, TableRow]:
        rows: dict[str, TableRow] = {}
        for chunk in chunks(sorted(set(names)), 100):
            request: dict[str, Any] = {
                self._table: {"Keys": [_table_key(account_id, database, n) for n in chunk]}
            }
            while request:
                try:
                    response = self._ddb.batch_get_item(RequestItems=request)
                except ClientError as exc:
                    raise self._wrap("batch get", exc) from exc
                for item in response.get("Responses", {}).get(self._table, []):
                    row = self._table_row(account_id, database, item)
                    rows[row.table] = row
                request = response.get("UnprocessedKeys") or {}
        return rows

    def put_table(self, row: TableRow) -> None:
        item = {
            **_table_key(row.account_id, row.source_database, row.table),
            "content_hash": {"S": row.content_hash},
            "tags": {"S": json.dumps(row.tags, sort_keys=True)},
        }
        if row.partitions_hash is not None:
            item["partitions_hash"] = {"S": row.partitions_hash}
        if row.contract_digest is not None:
            item["contract_digest"] = {"S": row.contract_digest}
        try:
            self._ddb.put_item(TableName=self._table, Item=item)
        except ClientError as exc:
            raise self._wrap("put table", exc) from exc

    def forget_tables(self, account_id: str, database: str, names: Sequence[str]) -> None:
        for chunk in chunks(sorted(names), 25):
            request: dict[str, Any] = {
                self._table: [
                    {"DeleteRequest": {"Key": _table_key(account_id, database, n)}} for n in chunk
                ]
            }
            while request:
                try:
                    response = self._ddb.batch_write_item(RequestItems=request)
                except ClientError as exc:
                    raise self._wrap("batch delete", exc) from exc
                request = response.get("UnprocessedItems") or {}

    # --- helpers ---------------------------------------------------------------------------
    def _query(self, pk: str) -> list[dict[str, Any]]:
        try:
            pages = self._ddb.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": pk}},
            )
            return [item for page in pages for item in page.get("Items", [])]
        except ClientError as exc:
            raise self._wrap("query", exc) from exc

    @staticmethod
    def _table_row(account_id: str, database: str, item: dict[str, Any]) -> TableRow:
        return TableRow(
            account_id=account_id,
            source_database=database,
            table=item["sk"]["S"].removeprefix("TABLE#"),
            content_hash=item["content_hash"]["S"],
            tags=json.loads(item.get("tags", {}).get("S", "{}")),
            partitions_hash=item.get("partitions_hash", {}).get("S"),
            contract_digest=item.get("contract_digest", {}).get("S"),
        )
