"""Reads of a Glue catalog shared by the producer and central adapters.

"Not found" is an answer (None or []), not an error; any other ``ClientError`` goes through, for
the calling adapter to turn into its own error (the source is unavailable; a central write failed).

A partial answer is not "not found". ``BatchGetPartition`` may succeed with some requested keys in
``UnprocessedKeys``, "the partition values in the request for which partitions were not returned"
(https://docs.aws.amazon.com/glue/latest/webapi/API_BatchGetPartition.html); botocore does not
retry a successful request, so :func:`partitions_by_key` asks again for what is left, a few times
with a short backoff, and raises :class:`PartitionReadIncompleteError` if keys stay unread: callers
compare what is returned with what was asked, and an unread key must never look absent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import Any

from botocore.exceptions import ClientError

from meshgov.aws.backoff import full_jitter
from meshgov.aws.session import error_code
from meshgov.catalog.plan import PartitionKey, chunks
from meshgov.errors import PartitionReadIncompleteError

# API_GetPartitions: MaxResults up to 1,000. API_BatchGetPartition: PartitionsToGet, at most 1,000.
GET_PARTITIONS_PAGE = 1000
BATCH_GET_PARTITION_MAX = 1000
# UnprocessedKeys: requests per chunk (the first, then retries of what is left) and their waits,
# at most 0.05 + 0.1 + 0.2 + 0.4 s: short, since a longer outage is the SQS redrive's to wait out.
UNPROCESSED_ATTEMPTS = 5
UNPROCESSED_BACKOFF_BASE = 0.05
UNPROCESSED_BACKOFF_CAP = 0.5


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
    glue: Any,
    catalog_id: str,
    database: str,
    table: str,
    keys: Collection[PartitionKey],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, Any]]:
    """The partitions of ``keys`` that exist: complete, or :class:`PartitionReadIncompleteError`.

    One request per 1,000 keys when Glue reads them all (no extra call on the usual path).
    """
    found: list[dict[str, Any]] = []
    try:
        for chunk in chunks(sorted(keys), BATCH_GET_PARTITION_MAX):
            pending: list[dict[str, Any]] = [{"Values": list(k)} for k in chunk]
            for attempt in range(1, UNPROCESSED_ATTEMPTS + 1):
                if attempt > 1:
                    sleep(
                        full_jitter(attempt - 1, UNPROCESSED_BACKOFF_BASE, UNPROCESSED_BACKOFF_CAP)
                    )
                response = glue.batch_get_partition(
                    CatalogId=catalog_id,
                    DatabaseName=database,
                    TableName=table,
                    PartitionsToGet=pending,
                )
                found.extend(response.get("Partitions", []))
                pending = [
                    {"Values": list(k.get("Values") or [])}
                    for k in response.get("UnprocessedKeys") or []
                ]
                if not pending:
                    break
            if pending:
                raise PartitionReadIncompleteError(
                    f"BatchGetPartition on {database}.{table} in catalog {catalog_id} left "
                    f"{len(pending)} partition(s) in UnprocessedKeys after {UNPROCESSED_ATTEMPTS} "
                    f"attempts (first: {pending[0]['Values']}): the read is incomplete, so "
                    "nothing is concluded from it"
                )
    except ClientError as exc:
        if error_code(exc) == NOT_FOUND:
            return []
        raise
    return found
