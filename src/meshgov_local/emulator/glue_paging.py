"""Glue catalog paging and batch limits, which moto ignores (it returns one page of everything).

Followed documents (AWS Glue API reference, also in the Glue developer guide's "Table API" and
"Partition API" pages):

- GetDatabases, https://docs.aws.amazon.com/glue/latest/webapi/API_GetDatabases.html and
  GetTables, https://docs.aws.amazon.com/glue/latest/webapi/API_GetTables.html: ``MaxResults``
  from 1 to 100, ``NextToken`` "a continuation token, if the returned list does not contain the
  last" item.
- GetPartitions, https://docs.aws.amazon.com/glue/latest/webapi/API_GetPartitions.html:
  ``MaxResults`` "not less than 1 or more than 1000".
- Batch limits: BatchCreatePartition ``PartitionInputList`` "not more than 100 structures"
  (API_BatchCreatePartition.html), BatchGetPartition ``PartitionsToGet`` "not more than 1000"
  (API_BatchGetPartition.html), BatchDeleteTable ``TablesToDelete`` "not more than 100 strings"
  (API_BatchDeleteTable.html), BatchDeletePartition ``PartitionsToDelete`` "not more than 25"
  (API_BatchDeletePartition.html), BatchUpdatePartition ``Entries`` "a list of up to 100"
  (API_BatchUpdatePartition.html).

A request over a limit fails like AWS does, with the service framework's constraint error:
``ValidationException: 1 validation error detected: Value '[...]' at 'partitionsToDelete' failed to
satisfy constraint: Member must have length less than or equal to 25`` (the text AWS returns, as
reported in https://github.com/dbt-labs/dbt-athena/issues/327). When ``MaxResults`` is absent
pages of 100 are served. Pages follow a stable order (databases and tables by name, partitions
by their values) and ``NextToken`` is opaque (base64 of the last key served).

Partial answers. BatchGetPartition's response member ``UnprocessedKeys`` is "a list of the
partition values in the request for which partitions were not returned"
(https://docs.aws.amazon.com/glue/latest/webapi/API_BatchGetPartition.html): AWS may leave some
requested keys unread, whether or not those partitions exist. moto always reads every key; with
:meth:`~.controls.EmulatorControls.set_unprocessed_partition_rate` on, the keys it chooses are not
read and are listed in ``UnprocessedKeys`` instead (after the batch limit is checked). Off by
default.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.glue.responses import GlueResponse

from ._patching import patch_attr, wrap_method
from .controls import controls

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = {"GetDatabases": 100, "GetTables": 100, "GetPartitions": 1000}
BATCH_LIMITS: dict[str, tuple[str, int]] = {
    # response method: (request member, documented maximum)
    "batch_create_partition": ("PartitionInputList", 100),
    "batch_get_partition": ("PartitionsToGet", 1000),
    "batch_delete_table": ("TablesToDelete", 100),
    "batch_delete_partition": ("PartitionsToDelete", 25),
    "batch_update_partition": ("Entries", 100),
}


def _member(name: str) -> str:
    return name[0].lower() + name[1:]


def validation_error(message: str) -> JsonRESTError:
    error = JsonRESTError("ValidationException", f"1 validation error detected: {message}")
    error.code = 400
    return error


def invalid_input(message: str) -> JsonRESTError:
    error = JsonRESTError("InvalidInputException", message)
    error.code = 400
    return error


def check_batch_size(member: str, items: Sequence[Any] | None, limit: int) -> None:
    if items is not None and len(items) > limit:
        raise validation_error(
            f"Value '{items}' at '{_member(member)}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {limit}"
        )


def page_size(operation: str, max_results: Any) -> int:
    if max_results is None:
        return DEFAULT_PAGE_SIZE
    limit = MAX_PAGE_SIZE[operation]
    value = int(max_results)
    if value > limit:
        raise validation_error(
            f"Value '{value}' at 'maxResults' failed to satisfy constraint: "
            f"Member must have value less than or equal to {limit}"
        )
    if value < 1:
        raise validation_error(
            f"Value '{value}' at 'maxResults' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1"
        )
    return value


def encode_token(operation: str, after: Any) -> str:
    raw = json.dumps({"op": operation, "after": after}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_token(operation: str, token: str | None) -> Any:
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise invalid_input("Invalid pagination token") from error
    if not isinstance(data, dict) or data.get("op") != operation or "after" not in data:
        raise invalid_input("Invalid pagination token")
    return data["after"]


def paginate[T](
    operation: str,
    items: Sequence[T],
    key: Callable[[T], Any],
    max_results: Any,
    next_token: str | None,
) -> tuple[list[T], str | None]:
    """One page of ``items`` in ``key`` order after the token's key, and the next token."""
    size = page_size(operation, max_results)
    after = decode_token(operation, next_token)
    ordered = sorted(items, key=key)
    if after is not None:
        ordered = [item for item in ordered if key(item) > _comparable(after)]
    page = ordered[:size]
    token = encode_token(operation, key(page[-1])) if len(ordered) > size else None
    return page, token


def _comparable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _params(response: Any) -> dict[str, Any]:
    params: dict[str, Any] = response.parameters
    return params


def get_databases(self: Any) -> ActionResult:
    params = _params(self)
    databases, token = paginate(
        "GetDatabases",
        self.glue_backend.get_databases(),
        lambda database: database.name,
        params.get("MaxResults"),
        params.get("NextToken"),
    )
    result: dict[str, Any] = {"DatabaseList": [database.as_dict() for database in databases]}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def get_tables(self: Any) -> ActionResult:
    params = _params(self)
    tables, token = paginate(
        "GetTables",
        self.glue_backend.get_tables(params.get("DatabaseName"), params.get("Expression")),
        lambda table: table.name,
        params.get("MaxResults"),
        params.get("NextToken"),
    )
    result: dict[str, Any] = {"TableList": [table.as_dict() for table in tables]}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def get_partitions(self: Any) -> ActionResult:
    params = _params(self)
    partitions, token = paginate(
        "GetPartitions",
        self.glue_backend.get_partitions(
            params.get("DatabaseName"), params.get("TableName"), params.get("Expression")
        ),
        lambda partition: tuple(str(value) for value in partition.values),
        params.get("MaxResults"),
        params.get("NextToken"),
    )
    result: dict[str, Any] = {"Partitions": [partition.as_dict() for partition in partitions]}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def _limited(member: str, limit: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any) -> Any:
            check_batch_size(member, _params(self).get(member), limit)
            return method(self)

        return wrapper

    return make


def _partial_batch_get_partition(method: Callable[..., Any]) -> Callable[..., Any]:
    """BatchGetPartition leaving the keys the controls choose in ``UnprocessedKeys``, unread."""

    def wrapper(self: Any) -> Any:
        params = _params(self)
        requested = params.get("PartitionsToGet") or []
        withheld = controls.unprocessed_partition_keys(self.current_account, requested)
        if not withheld:
            return method(self)
        body = self.body
        # moto reads its parameters from the body: serve it the keys that are processed.
        self.body = json.dumps(
            {**params, "PartitionsToGet": [key for key in requested if key not in withheld]}
        )
        try:
            result = method(self)
        finally:
            self.body = body
        served: dict[str, Any] = dict(result.result)
        served["UnprocessedKeys"] = [{"Values": list(key["Values"])} for key in withheld]
        return ActionResult(served)

    return wrapper


def _batch_get_partition(
    member: str, limit: int
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The batch limit first (an oversized request fails whole), then the partial answer."""

    def make(method: Callable[..., Any]) -> Callable[..., Any]:
        return _limited(member, limit)(_partial_batch_get_partition(method))

    return make


def install() -> None:
    patch_attr(GlueResponse, "get_databases", get_databases)
    patch_attr(GlueResponse, "get_tables", get_tables)
    patch_attr(GlueResponse, "get_partitions", get_partitions)
    for method_name, (member, limit) in BATCH_LIMITS.items():
        make = (
            _batch_get_partition(member, limit)
            if method_name == "batch_get_partition"
            else _limited(member, limit)
        )
        wrap_method(GlueResponse, method_name, make)
