"""Reading partitions from a Glue catalog, shared by the producer and central adapters.

Both return [] when the table is gone (``EntityNotFoundException``) and let any other
``ClientError`` through, for the calling adapter to turn into its own error.
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
        if error_code(exc) == "EntityNotFoundException":
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
        if error_code(exc) == "EntityNotFoundException":
            return []
        raise
    return found
