"""AWS Glue Data Catalog events, which moto never emits.

Followed documents:

- "Automating AWS Glue with EventBridge",
  https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html:
  ``Glue Data Catalog Database State Change`` is generated for CreateDatabase, DeleteDatabase,
  CreateTable, DeleteTable and BatchDeleteTable; ``typeOfChange`` is the API operation,
  ``databaseName`` the affected database, ``changedTables`` up to 100 table names per notification.
  ``Glue Data Catalog Table State Change`` is generated for UpdateTable, CreatePartition,
  BatchCreatePartition, UpdatePartition, DeletePartition, BatchUpdatePartition and
  BatchDeletePartition, with ``databaseName``, ``tableName``, ``typeOfChange`` and
  ``changedPartitions`` (up to 100 per notification; a partition is its values joined by a comma:
  keys Year and Month give ``"2018,01"``). UpdateDatabase is not in either list: it emits nothing.
- "AWS Glue events", https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-glue.html:
  source ``aws.glue``, delivery type best effort (see :mod:`.controls` for the drop switch).

Events are put on the *default* bus of the account and Region that own the catalog, after the
operation succeeded; batch operations name only the items that succeeded; events carry names,
never schemas, and the names are the stored ones (lower case: :mod:`.glue_names` folds the
arguments before this patch reads them). ``resources`` holds the ARNs of the database or tables
concerned (format from https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html).

The patch wraps ``GlueBackend`` methods, so the in-process mock and the moto server both emit.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from moto.events.models import events_backends
from moto.glue.models import GlueBackend

from ._patching import wrap_method
from .controls import controls

LOGGER = logging.getLogger(__name__)

SOURCE = "aws.glue"
DATABASE_STATE_CHANGE = "Glue Data Catalog Database State Change"
TABLE_STATE_CHANGE = "Glue Data Catalog Table State Change"
MAX_NAMES_PER_EVENT = 100

# Depth of nested catalog calls (BatchDeleteTable calls delete_table): only the outermost emits.
_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("meshgov_glue_depth", default=0)


@dataclass(frozen=True)
class CatalogChange:
    """What one successful Glue operation changed, by name."""

    operation: str
    database: str
    table: str | None = None
    tables: list[str] = field(default_factory=list)
    partitions: list[list[str]] = field(default_factory=list)


def _chunks(items: Sequence[Any], size: int = MAX_NAMES_PER_EVENT) -> Iterator[Sequence[Any]]:
    if not items:
        yield items
        return
    for start in range(0, len(items), size):
        yield items[start : start + size]


def partition_name(values: Iterable[str]) -> str:
    """The documented ``changedPartitions`` item: the partition values joined by a comma."""
    return ",".join(str(value) for value in values)


def build_entries(change: CatalogChange, account_id: str, region: str) -> list[dict[str, Any]]:
    """The PutEvents entries AWS Glue would send for ``change``."""
    arn_prefix = f"arn:aws:glue:{region}:{account_id}"
    entries: list[dict[str, Any]] = []
    if change.table is None:
        for names in _chunks(change.tables):
            detail = {
                "databaseName": change.database,
                "typeOfChange": change.operation,
                "changedTables": list(names),
            }
            resources = [f"{arn_prefix}:table/{change.database}/{name}" for name in names] or [
                f"{arn_prefix}:database/{change.database}"
            ]
            entries.append(_entry(DATABASE_STATE_CHANGE, detail, resources))
    else:
        for parts in _chunks(change.partitions):
            detail = {
                "databaseName": change.database,
                "tableName": change.table,
                "typeOfChange": change.operation,
                "changedPartitions": [partition_name(values) for values in parts],
            }
            resources = [f"{arn_prefix}:table/{change.database}/{change.table}"]
            entries.append(_entry(TABLE_STATE_CHANGE, detail, resources))
    return entries


def _entry(detail_type: str, detail: dict[str, Any], resources: list[str]) -> dict[str, Any]:
    return {
        "Source": SOURCE,
        "DetailType": detail_type,
        "Detail": json.dumps(detail),
        "Resources": resources,
        "EventBusName": "default",
    }


def emit(change: CatalogChange, account_id: str, region: str) -> None:
    """Put the events of ``change`` on the default bus, unless the drop switch loses them."""
    backend = events_backends[account_id][region]
    for entry in build_entries(change, account_id, region):
        if controls.should_drop_glue_event():
            LOGGER.info("dropped Glue event %s %s", entry["DetailType"], entry["Detail"])
            continue
        try:
            backend.put_events([dict(entry)])
        except Exception:  # best effort: a failing target must not fail the Glue call
            LOGGER.exception("putting Glue event %s failed", entry["Detail"])
            continue
        controls.record_glue_event(account_id, entry)


# --- what each operation changed -------------------------------------------------------------

Describe = Callable[[dict[str, Any], Any], CatalogChange | None]


def _failed_values(errors: Any, key: str) -> list[list[str]]:
    return [list(error.get(key) or []) for error in errors or []]


def _database_op(operation: str) -> Describe:
    def describe(args: dict[str, Any], _result: Any) -> CatalogChange:
        return CatalogChange(operation, args["database_name"])

    return describe


def _table_op(operation: str) -> Describe:
    def describe(args: dict[str, Any], _result: Any) -> CatalogChange:
        return CatalogChange(operation, args["database_name"], tables=[args["table_name"]])

    return describe


def _batch_delete_table(args: dict[str, Any], errors: Any) -> CatalogChange | None:
    failed = {error.get("TableName") for error in errors or []}
    deleted = [name for name in args["tables"] or [] if name not in failed]
    if not deleted:
        return None
    return CatalogChange("BatchDeleteTable", args["database_name"], tables=deleted)


def _update_table(args: dict[str, Any], _result: Any) -> CatalogChange:
    return CatalogChange("UpdateTable", args["database_name"], table=args["table_name"])


def _partition_values(part_input: dict[str, Any] | None, fallback: Any = None) -> list[str]:
    values = (part_input or {}).get("Values") or fallback or []
    return [str(value) for value in values]


def _create_partition(args: dict[str, Any], _result: Any) -> CatalogChange:
    values = _partition_values(args["part_input"])
    return CatalogChange(
        "CreatePartition", args["database_name"], table=args["table_name"], partitions=[values]
    )


def _batch_create_partition(args: dict[str, Any], errors: Any) -> CatalogChange | None:
    failed = _failed_values(errors, "PartitionValues")
    created = [
        values
        for values in (_partition_values(item) for item in args["partition_input"] or [])
        if values not in failed
    ]
    if not created:
        return None
    return CatalogChange(
        "BatchCreatePartition", args["database_name"], table=args["table_name"], partitions=created
    )


def _update_partition(args: dict[str, Any], _result: Any) -> CatalogChange:
    values = _partition_values(args["part_input"], args["part_to_update"])
    return CatalogChange(
        "UpdatePartition", args["database_name"], table=args["table_name"], partitions=[values]
    )


def _batch_update_partition(args: dict[str, Any], errors: Any) -> CatalogChange | None:
    failed = _failed_values(errors, "PartitionValueList")
    updated = [
        _partition_values(entry.get("PartitionInput"), entry.get("PartitionValueList"))
        for entry in args["entries"] or []
        if [str(v) for v in entry.get("PartitionValueList") or []] not in failed
    ]
    if not updated:
        return None
    return CatalogChange(
        "BatchUpdatePartition", args["database_name"], table=args["table_name"], partitions=updated
    )


def _delete_partition(args: dict[str, Any], _result: Any) -> CatalogChange:
    values = [str(value) for value in args["part_to_delete"] or []]
    return CatalogChange(
        "DeletePartition", args["database_name"], table=args["table_name"], partitions=[values]
    )


def _batch_delete_partition(args: dict[str, Any], errors: Any) -> CatalogChange | None:
    failed = _failed_values(errors, "PartitionValues")
    deleted = [
        values
        for values in (_partition_values(item) for item in args["parts"] or [])
        if values not in failed
    ]
    if not deleted:
        return None
    return CatalogChange(
        "BatchDeletePartition", args["database_name"], table=args["table_name"], partitions=deleted
    )


OPERATIONS: dict[str, Describe] = {
    "create_database": _database_op("CreateDatabase"),
    "delete_database": _database_op("DeleteDatabase"),
    "create_table": _table_op("CreateTable"),
    "delete_table": _table_op("DeleteTable"),
    "batch_delete_table": _batch_delete_table,
    "update_table": _update_table,
    "create_partition": _create_partition,
    "batch_create_partition": _batch_create_partition,
    "update_partition": _update_partition,
    "batch_update_partition": _batch_update_partition,
    "delete_partition": _delete_partition,
    "batch_delete_partition": _batch_delete_partition,
}


def _emitting(describe: Describe) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(method: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(method)

        @functools.wraps(method)  # keeps the signature visible to the patches wrapping this one
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            token = _DEPTH.set(_DEPTH.get() + 1)
            try:
                result = method(self, *args, **kwargs)
            finally:
                _DEPTH.reset(token)
            if _DEPTH.get() == 0:
                bound = signature.bind(self, *args, **kwargs)
                bound.apply_defaults()
                change = describe(dict(bound.arguments), result)
                if change is not None:
                    emit(change, self.account_id, self.region_name)
            return result

        return wrapper

    return make


def install() -> None:
    for name, describe in OPERATIONS.items():
        wrap_method(GlueBackend, name, _emitting(describe))
