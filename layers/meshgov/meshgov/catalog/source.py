"""Reading a producer catalog through its reader role (thin adapter over Glue and Lake Formation).

Every read passes ``CatalogId`` (the producer account). Paging uses boto3 paginators; tags are read
with ``SearchTablesByLFTags`` pages (100 tables a call) instead of one ``GetResourceLFTags`` per
table (https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_SearchTablesByLFTags.html).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from meshgov.aws.session import error_code, error_text
from meshgov.catalog.glue_reads import (
    NOT_FOUND,
    all_partitions,
    database_or_none,
    partitions_by_key,
    table_or_none,
)
from meshgov.catalog.tags import TableTags, TagMap, own_tags, tag_map
from meshgov.errors import SourceUnavailableError


@dataclass(frozen=True)
class ProducerTags:
    databases: dict[str, TagMap]
    tables: dict[tuple[str, str], TableTags]


class ProducerCatalog:
    def __init__(self, glue: Any, lakeformation: Any, account_id: str) -> None:
        self._glue = glue
        self._lf = lakeformation
        self.account_id = account_id

    def _unavailable(self, what: str, exc: ClientError) -> SourceUnavailableError:
        return SourceUnavailableError(
            f"cannot read {what} in producer {self.account_id}: {error_text(exc)}"
        )

    def get_database(self, name: str) -> dict[str, Any] | None:
        try:
            return database_or_none(self._glue, self.account_id, name)
        except ClientError as exc:
            raise self._unavailable(f"database {name}", exc) from exc

    def list_databases(self) -> list[dict[str, Any]]:
        try:
            pages = self._glue.get_paginator("get_databases").paginate(CatalogId=self.account_id)
            return [db for page in pages for db in page.get("DatabaseList", [])]
        except ClientError as exc:
            raise self._unavailable("databases", exc) from exc

    def get_table(self, database: str, name: str) -> dict[str, Any] | None:
        try:
            return table_or_none(self._glue, self.account_id, database, name)
        except ClientError as exc:
            raise self._unavailable(f"table {database}.{name}", exc) from exc

    def list_tables(self, database: str) -> list[dict[str, Any]] | None:
        """Every table of ``database``; None if the database no longer exists."""
        try:
            pages = self._glue.get_paginator("get_tables").paginate(
                CatalogId=self.account_id, DatabaseName=database
            )
            return [t for page in pages for t in page.get("TableList", [])]
        except ClientError as exc:
            if error_code(exc) == NOT_FOUND:
                return None
            raise self._unavailable(f"tables of {database}", exc) from exc

    def get_partitions(self, database: str, table: str) -> list[dict[str, Any]]:
        try:
            return all_partitions(self._glue, self.account_id, database, table)
        except ClientError as exc:
            raise self._unavailable(f"partitions of {database}.{table}", exc) from exc

    def batch_get_partitions(
        self, database: str, table: str, keys: Collection[tuple[str, ...]]
    ) -> list[dict[str, Any]]:
        try:
            return partitions_by_key(self._glue, self.account_id, database, table, keys)
        except ClientError as exc:
            raise self._unavailable(f"partitions of {database}.{table}", exc) from exc

    def table_tags(
        self, database: str, table: str, database_tags: TagMap, column_names: list[str]
    ) -> TableTags:
        """One table's own LF-Tags (event path: two calls instead of a search).

        The API reference does not say whether a ``Table`` resource also reports its columns'
        tags, so columns are asked for explicitly (``TableWithColumns``) and both are merged: the
        mirror is right either way.
        """
        table_ref = {"CatalogId": self.account_id, "DatabaseName": database, "Name": table}
        try:
            on_table = self._lf.get_resource_lf_tags(
                CatalogId=self.account_id, Resource={"Table": table_ref}, ShowAssignedLFTags=True
            )
            on_columns = (
                self._lf.get_resource_lf_tags(
                    CatalogId=self.account_id,
                    Resource={"TableWithColumns": {**table_ref, "ColumnNames": column_names}},
                    ShowAssignedLFTags=True,
                )
                if column_names
                else {}
            )
        except ClientError as exc:
            if error_code(exc) == NOT_FOUND:
                return TableTags()
            raise self._unavailable(f"LF-Tags of {database}.{table}", exc) from exc
        columns = {
            str(c["Name"]): c
            for c in [
                *(on_table.get("LFTagsOnColumns") or []),
                *(on_columns.get("LFTagsOnColumns") or []),
            ]
        }
        return own_tags(database_tags, on_table.get("LFTagsOnTable"), list(columns.values()))

    def database_tags(self, database: str) -> TagMap:
        try:
            response = self._lf.get_resource_lf_tags(
                CatalogId=self.account_id,
                Resource={"Database": {"CatalogId": self.account_id, "Name": database}},
                ShowAssignedLFTags=True,
            )
        except ClientError as exc:
            if error_code(exc) == NOT_FOUND:
                return {}
            raise self._unavailable(f"LF-Tags of database {database}", exc) from exc
        return tag_map(response.get("LFTagOnDatabase"))

    def all_tags(self, databases: Iterable[str], tables: Iterable[tuple[str, str]]) -> ProducerTags:
        """LF-Tags of every named database and table, in pages.

        ``SearchTablesByLFTags`` returns each matching table with *all* its tags, so the search
        goes key by key and stops as soon as every table of interest has been seen: a catalog whose
        tables all carry (or inherit) one key costs one page per 100 tables.
        """
        wanted_dbs, wanted_tables = set(databases), set(tables)
        found_dbs: dict[str, TagMap] = {}
        found_tables: dict[tuple[str, str], tuple[Any, Any]] = {}
        try:
            keys = [
                (t["TagKey"], t["TagValues"])
                for page in self._lf.get_paginator("list_lf_tags").paginate(
                    CatalogId=self.account_id
                )
                for t in page.get("LFTags", [])
            ]
            for key, values in keys:
                if wanted_dbs - set(found_dbs):
                    self._search_databases(key, values, wanted_dbs, found_dbs)
            # Keys set on databases first: every table of those databases inherits them, so one
            # such key usually covers every table and the search can stop there.
            on_databases = {k for tags in found_dbs.values() for k in tags}
            for key, values in sorted(keys, key=lambda kv: kv[0] not in on_databases):
                if not wanted_tables - set(found_tables):
                    break
                self._search_tables(key, values, wanted_tables, found_tables)
        except ClientError as exc:
            raise self._unavailable("LF-Tags", exc) from exc
        db_tags = {db: found_dbs.get(db, {}) for db in wanted_dbs}
        table_tags = {
            ref: own_tags(db_tags.get(ref[0], {}), *found_tables.get(ref, (None, None)))
            for ref in wanted_tables
        }
        return ProducerTags(databases=db_tags, tables=table_tags)

    def _search_databases(
        self, key: str, values: list[str], wanted: set[str], found: dict[str, TagMap]
    ) -> None:
        pages = self._lf.get_paginator("search_databases_by_lf_tags").paginate(
            CatalogId=self.account_id, Expression=[{"TagKey": key, "TagValues": values}]
        )
        for page in pages:
            for item in page.get("DatabaseList", []):
                name = item["Database"]["Name"]
                if name in wanted:
                    found[name] = tag_map(item.get("LFTags"))

    def _search_tables(
        self,
        key: str,
        values: list[str],
        wanted: set[tuple[str, str]],
        found: dict[tuple[str, str], tuple[Any, Any]],
    ) -> None:
        pages = self._lf.get_paginator("search_tables_by_lf_tags").paginate(
            CatalogId=self.account_id, Expression=[{"TagKey": key, "TagValues": values}]
        )
        for page in pages:
            for item in page.get("TableList", []):
                ref = (item["Table"]["DatabaseName"], item["Table"]["Name"])
                if ref in wanted:
                    found[ref] = (item.get("LFTagsOnTable"), item.get("LFTagsOnColumns"))
