"""Writing the central catalog (thin adapter over Glue and Lake Formation in the central account).

Batch sizes follow the Glue API reference: BatchDeleteTable takes at most 100 names,
BatchCreatePartition and BatchUpdatePartition at most 100 entries, BatchDeletePartition at most
25, BatchGetPartition at most 1000 (https://docs.aws.amazon.com/glue/latest/webapi/).
Creates are idempotent: ``AlreadyExistsException`` means "already there"; the caller has read the
state and will update it if it differs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from meshgov.aws.session import error_code, error_text
from meshgov.catalog.drift import CentralSnapshot
from meshgov.catalog.glue_reads import (
    NOT_FOUND,
    all_partitions,
    database_or_none,
    partitions_by_key,
    table_or_none,
)
from meshgov.catalog.plan import PartitionKey, chunks
from meshgov.catalog.tags import TagMap, tag_map, tag_pairs
from meshgov.errors import CatalogWriteError

ALREADY_EXISTS = "AlreadyExistsException"
# SearchTables: MaxResults from 1 to 1,000 (the service model; GetTables stops at 100), "a list of
# the requested Table objects" across every database of the catalog, "only the tables that you
# have access to" (https://docs.aws.amazon.com/glue/latest/webapi/API_SearchTables.html): the
# catalog functions' role is a data lake administrator of central, so it sees every table.
SEARCH_TABLES_PAGE = 1000


class CentralCatalog:
    def __init__(self, glue: Any, lakeformation: Any, account_id: str) -> None:
        self._glue = glue
        self._lf = lakeformation
        self.account_id = account_id
        self._known_tags: dict[str, set[str]] | None = None

    def _failed(self, what: str, exc: ClientError) -> CatalogWriteError:
        return CatalogWriteError(f"{what} failed in the central catalog: {error_text(exc)}")

    # --- the whole catalog -----------------------------------------------------------------
    def snapshot(self) -> CentralSnapshot:
        """Every central database and table, for the sweep's drift check: one ``GetDatabases``
        page per 100 databases and one ``SearchTables`` page per 1,000 tables (10,000 tables in
        10 databases: 11 reads, where ``GetTables`` would take 100)."""
        try:
            databases = [
                d
                for page in self._glue.get_paginator("get_databases").paginate(
                    CatalogId=self.account_id
                )
                for d in page.get("DatabaseList", [])
            ]
            tables: list[dict[str, Any]] = []
            # botocore has no paginator for SearchTables: NextToken by hand.
            request: dict[str, Any] = {
                "CatalogId": self.account_id,
                "MaxResults": SEARCH_TABLES_PAGE,
            }
            while True:
                page = self._glue.search_tables(**request)
                tables.extend(page.get("TableList", []))
                if not page.get("NextToken"):
                    break
                request["NextToken"] = page["NextToken"]
        except ClientError as exc:
            raise self._failed("GetDatabases/SearchTables", exc) from exc
        return CentralSnapshot.of(databases, tables)

    def databases(self) -> list[dict[str, Any]]:
        """Every central database (one ``GetDatabases`` page per 100): what a fan-out sweep's
        planner reads once, to hand each producer the central databases of its provenance."""
        try:
            return [
                d
                for page in self._glue.get_paginator("get_databases").paginate(
                    CatalogId=self.account_id
                )
                for d in page.get("DatabaseList", [])
            ]
        except ClientError as exc:
            raise self._failed("GetDatabases", exc) from exc

    def database_snapshot(self, name: str) -> CentralSnapshot:
        """One central database and its tables, for a fan-out sweep's page of that database:
        one ``GetDatabase`` and one ``SearchTables`` page per 1,000 tables, filtered on the
        database (string filters match tokens, "a fuzzy match algorithm",
        https://docs.aws.amazon.com/glue/latest/webapi/API_SearchTables.html: what comes back
        is kept only when its database is exactly ``name``); empty when it is not there."""
        database = self.get_database(name)
        if database is None:
            return CentralSnapshot()
        request: dict[str, Any] = {
            "CatalogId": self.account_id,
            "Filters": [{"Key": "DatabaseName", "Value": name}],
            "MaxResults": SEARCH_TABLES_PAGE,
        }
        tables: list[dict[str, Any]] = []
        try:
            while True:
                page = self._glue.search_tables(**request)
                tables.extend(t for t in page.get("TableList", []) if t.get("DatabaseName") == name)
                if not page.get("NextToken"):
                    break
                request["NextToken"] = page["NextToken"]
        except ClientError as exc:
            raise self._failed(f"SearchTables {name}", exc) from exc
        return CentralSnapshot.of([database], tables)

    # --- databases -------------------------------------------------------------------------
    def get_database(self, name: str) -> dict[str, Any] | None:
        try:
            return database_or_none(self._glue, self.account_id, name)
        except ClientError as exc:
            raise self._failed(f"GetDatabase {name}", exc) from exc

    def create_database(self, database_input: dict[str, Any]) -> bool:
        """True if created, False if it already existed."""
        try:
            self._glue.create_database(CatalogId=self.account_id, DatabaseInput=database_input)
            return True
        except ClientError as exc:
            if error_code(exc) == ALREADY_EXISTS:
                return False
            raise self._failed(f"CreateDatabase {database_input['Name']}", exc) from exc

    def update_database(self, database_input: dict[str, Any]) -> None:
        try:
            self._glue.update_database(
                CatalogId=self.account_id, Name=database_input["Name"], DatabaseInput=database_input
            )
        except ClientError as exc:
            raise self._failed(f"UpdateDatabase {database_input['Name']}", exc) from exc

    def delete_database(self, name: str) -> bool:
        """Deleting a database deletes its tables and partitions too (API_DeleteDatabase)."""
        try:
            self._glue.delete_database(CatalogId=self.account_id, Name=name)
            return True
        except ClientError as exc:
            if error_code(exc) == NOT_FOUND:
                return False
            raise self._failed(f"DeleteDatabase {name}", exc) from exc

    # --- tables ----------------------------------------------------------------------------
    def get_table(self, database: str, name: str) -> dict[str, Any] | None:
        try:
            return table_or_none(self._glue, self.account_id, database, name)
        except ClientError as exc:
            raise self._failed(f"GetTable {database}.{name}", exc) from exc

    def create_table(self, database: str, table_input: dict[str, Any]) -> bool:
        try:
            self._glue.create_table(
                CatalogId=self.account_id, DatabaseName=database, TableInput=table_input
            )
            return True
        except ClientError as exc:
            if error_code(exc) == ALREADY_EXISTS:
                return False
            raise self._failed(f"CreateTable {database}.{table_input['Name']}", exc) from exc

    def update_table(self, database: str, table_input: dict[str, Any], skip_archive: bool) -> None:
        try:
            self._glue.update_table(
                CatalogId=self.account_id,
                DatabaseName=database,
                TableInput=table_input,
                SkipArchive=skip_archive,
            )
        except ClientError as exc:
            raise self._failed(f"UpdateTable {database}.{table_input['Name']}", exc) from exc

    def delete_tables(self, database: str, names: Sequence[str]) -> list[str]:
        """Delete tables in batches of 100; returns the names that were deleted."""
        deleted: list[str] = []
        for chunk in chunks(sorted(names), 100):
            try:
                response = self._glue.batch_delete_table(
                    CatalogId=self.account_id, DatabaseName=database, TablesToDelete=chunk
                )
            except ClientError as exc:
                if error_code(exc) == NOT_FOUND:  # the database itself is gone
                    continue
                raise self._failed(f"BatchDeleteTable {database}", exc) from exc
            errors = {
                e["TableName"]: e.get("ErrorDetail", {}).get("ErrorCode", "")
                for e in response.get("Errors", [])
            }
            real = {name: code for name, code in errors.items() if code != NOT_FOUND}
            if real:
                raise CatalogWriteError(f"BatchDeleteTable {database} failed for {real}")
            deleted.extend(name for name in chunk if name not in errors)
        return deleted

    # --- partitions ------------------------------------------------------------------------
    def get_partitions(self, database: str, table: str) -> list[dict[str, Any]]:
        try:
            return all_partitions(self._glue, self.account_id, database, table)
        except ClientError as exc:
            raise self._failed(f"GetPartitions {database}.{table}", exc) from exc

    def table_and_partitions(
        self, database: str, table: str
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """A central table and, if it is partitioned, its partitions (the freshness check:
        :mod:`meshgov.contracts_odcs.freshness_check`); ``(None, [])`` when it is gone."""
        found = self.get_table(database, table)
        if found is None or not found.get("PartitionKeys"):
            return found, []
        return found, self.get_partitions(database, table)

    def batch_get_partitions(
        self, database: str, table: str, keys: Collection[PartitionKey]
    ) -> list[dict[str, Any]]:
        try:
            return partitions_by_key(self._glue, self.account_id, database, table, keys)
        except ClientError as exc:
            raise self._failed(f"BatchGetPartition {database}.{table}", exc) from exc

    def create_partitions(
        self, database: str, table: str, inputs: Sequence[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Create in batches of 100; returns the inputs that already existed (to be compared)."""
        existing: list[dict[str, Any]] = []
        by_key = {tuple(i["Values"]): i for i in inputs}
        for chunk in chunks(list(inputs), 100):
            try:
                response = self._glue.batch_create_partition(
                    CatalogId=self.account_id,
                    DatabaseName=database,
                    TableName=table,
                    PartitionInputList=chunk,
                )
            except ClientError as exc:
                raise self._failed(f"BatchCreatePartition {database}.{table}", exc) from exc
            for error in response.get("Errors", []):
                code = error.get("ErrorDetail", {}).get("ErrorCode", "")
                key = tuple(error.get("PartitionValues", []))
                if code == ALREADY_EXISTS and key in by_key:
                    existing.append(by_key[key])
                else:
                    raise CatalogWriteError(
                        f"BatchCreatePartition {database}.{table} failed for {key}: {code}"
                    )
        return existing

    def update_partitions(
        self, database: str, table: str, updates: Sequence[tuple[PartitionKey, dict[str, Any]]]
    ) -> None:
        for chunk in chunks(list(updates), 100):
            try:
                response = self._glue.batch_update_partition(
                    CatalogId=self.account_id,
                    DatabaseName=database,
                    TableName=table,
                    Entries=[
                        {"PartitionValueList": list(key), "PartitionInput": value}
                        for key, value in chunk
                    ],
                )
            except ClientError as exc:
                raise self._failed(f"BatchUpdatePartition {database}.{table}", exc) from exc
            if response.get("Errors"):
                raise CatalogWriteError(
                    f"BatchUpdatePartition {database}.{table} failed: {response['Errors'][:3]}"
                )

    def delete_partitions(self, database: str, table: str, keys: Sequence[PartitionKey]) -> None:
        for chunk in chunks(list(keys), 25):
            try:
                response = self._glue.batch_delete_partition(
                    CatalogId=self.account_id,
                    DatabaseName=database,
                    TableName=table,
                    PartitionsToDelete=[{"Values": list(k)} for k in chunk],
                )
            except ClientError as exc:
                raise self._failed(f"BatchDeletePartition {database}.{table}", exc) from exc
            real = [
                e
                for e in response.get("Errors", [])
                if e.get("ErrorDetail", {}).get("ErrorCode") != NOT_FOUND
            ]
            if real:
                raise CatalogWriteError(f"BatchDeletePartition {database}.{table}: {real[:3]}")

    # --- LF-Tags ---------------------------------------------------------------------------
    def ensure_tag_values(self, needed: Mapping[str, set[str]]) -> None:
        """Create central LF-Tag keys and add missing values (the union over producers)."""
        if not needed:
            return
        try:
            if self._known_tags is None:
                self._known_tags = {
                    key: set(values)
                    for key, values in tag_map(
                        t
                        for page in self._lf.get_paginator("list_lf_tags").paginate(
                            CatalogId=self.account_id
                        )
                        for t in page.get("LFTags", [])
                    ).items()
                }
            for key, values in sorted(needed.items()):
                known = self._known_tags.get(key)
                if known is None:
                    self._lf.create_lf_tag(
                        CatalogId=self.account_id, TagKey=key, TagValues=sorted(values)
                    )
                    self._known_tags[key] = set(values)
                elif missing := values - known:
                    self._lf.update_lf_tag(
                        CatalogId=self.account_id, TagKey=key, TagValuesToAdd=sorted(missing)
                    )
                    known.update(missing)
        except ClientError as exc:
            self._known_tags = None
            raise self._failed("LF-Tag definition", exc) from exc

    def change_tags(self, resource: dict[str, Any], add: TagMap, remove: TagMap) -> None:
        try:
            if remove:
                self._lf.remove_lf_tags_from_resource(
                    CatalogId=self.account_id, Resource=resource, LFTags=tag_pairs(remove)
                )
            if add:
                self._lf.add_lf_tags_to_resource(
                    CatalogId=self.account_id, Resource=resource, LFTags=tag_pairs(add)
                )
        except ClientError as exc:
            raise self._failed(f"LF-Tags on {resource}", exc) from exc

    def resource_tags(
        self, resource: dict[str, Any], column_names: Sequence[str] = ()
    ) -> tuple[TagMap, dict[str, TagMap]]:
        """Tags assigned directly to a central resource: (resource tags, column tags).

        Only needed when the ledger has no row (lost or never written): the columns are asked
        for explicitly, as on the source side.
        """
        responses = []
        try:
            responses.append(
                self._lf.get_resource_lf_tags(
                    CatalogId=self.account_id, Resource=resource, ShowAssignedLFTags=True
                )
            )
            if column_names and "Table" in resource:
                with_columns = {**resource["Table"], "ColumnNames": list(column_names)}
                responses.append(
                    self._lf.get_resource_lf_tags(
                        CatalogId=self.account_id,
                        Resource={"TableWithColumns": with_columns},
                        ShowAssignedLFTags=True,
                    )
                )
        except ClientError as exc:
            if error_code(exc) == NOT_FOUND:
                return {}, {}
            raise self._failed(f"GetResourceLFTags {resource}", exc) from exc
        own = tag_map(responses[0].get("LFTagsOnTable") or responses[0].get("LFTagOnDatabase"))
        columns = {
            str(c["Name"]).lower(): tag_map(c.get("LFTags"))
            for response in responses
            for c in response.get("LFTagsOnColumns") or []
            if c.get("LFTags")
        }
        return own, columns

    def database_resource(self, database: str) -> dict[str, Any]:
        return {"Database": {"CatalogId": self.account_id, "Name": database}}

    def table_resource(self, database: str, table: str) -> dict[str, Any]:
        return {"Table": {"CatalogId": self.account_id, "DatabaseName": database, "Name": table}}

    def column_resource(self, database: str, table: str, column: str) -> dict[str, Any]:
        return {
            "TableWithColumns": {
                "CatalogId": self.account_id,
                "DatabaseName": database,
                "Name": table,
                "ColumnNames": [column],
            }
        }
