"""Reads of a Glue catalog shared by the producer and central adapters.

"Not found" is an answer (None or []), not an error; any other ``ClientError`` goes through, for
the calling adapter to turn into its own error (the source is unavailable; a central write failed).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from botocore.exceptions import ClientError

from meshgov.aws.session import error_code
from meshgov.catalog.plan import PartitionKey, chunks

# API_GetPartitions: MaxResults up to 1,000. API_BatchGetPartition: PartitionsToGet, at most 1,000.
GET_PARTITIONS_PAGE = 1000
BATCH_GET_PARTITION_MAX = 1000


NOT_FOUND = "EntityNotFoundException"


def database_or_none(glue: Any, catalog_id: str, name: str) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] = glue.get_database(CatalogId=catalog_id, Name=name)["Database"]
        return result
    except ClientError as exc:
        if error_code(exc) == NOT_FOUND:
            return None
        raise


def table_or_none(glue: Any, catalog_id: str, database: str, name: str) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] = glue.get_table(
            CatalogId=catalog_id, DatabaseName=database, Name=name
        )["Table"]
        return result
    except ClientError as exc:
        if error_code(exc) == NOT_FOUND:
            return None
        raise


def all_partitions(glue: Any, catalog_id: str, database: str, table: str) -> list[dict[str, Any]]:
    try:
        pages = glue.get_paginator("get_partitions").paginate(
            CatalogId=catalog_id,
            DatabaseName=database,
            TableName=table,
            PaginationConfig={"PageSize": GET_PARTITIONS_PAGE},
        )
        return [p for page in pages for p in page.get("Partitions", [])]
    except ClientError as exc:
        if error_code(exc) == NOT_FOUND:
            return []
        raise


def partitions_by_key(
    glue: Any, catalog_id: str, database: str, table: str, keys: Collection[PartitionKey]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    try:
        for chunk in chunks(sorted(keys), BATCH_GET_PARTITION_MAX):
            response = glue.batch_get_partition(
                CatalogId=catalog_id,
                DatabaseName=database,
                TableName=table,
                PartitionsToGet=[{"Values": list(k)} for k in chunk],
            )
            found.extend(response.get("Partitions", []))
    except ClientError as exc:
        if error_code(exc) == NOT_FOUND:
            return []
        raise
    return found
