"""Counting the AWS calls the handlers make, the way AWS would bill and throttle them.

The handlers build their own clients (``AwsSessions(boto3.Session())``), so the bench patches
``botocore.client.BaseClient._make_api_call`` for the duration of a run: every request a client
sends passes there once (a paginator page is one request). Calls are only recorded inside a
*window*: while a handler runs (the local mesh's router calls :func:`meshgov_local.invoke.invoke`,
which the bench wraps) or while the naive replicator runs. What the producer, the router (SQS
receive/delete) and the bench itself do is never counted.

Classification of one call:

- ``kind``: ``catalog`` for Glue, Lake Formation, STS and EventBridge (the metadata work itself),
  ``bookkeeping`` for DynamoDB (meshgov's sync ledger and audit trail, reported separately),
  ``other`` for anything else (e.g. SQS sends to a dead-letter queue).
- ``access``: ``write`` for operations that change state (Create/Update/Delete/Batch{Create,
  Update,Delete}/Add/Remove/Put/Grant/Revoke...), ``read`` otherwise (Get/List/Search/BatchGet,
  Query, AssumeRole).
- ``side``: ``source`` when the call reads a producer catalog (Glue and Lake Formation by the
  ``CatalogId`` parameter, STS ``AssumeRole`` by the role's account), ``central`` for the central
  account (or the naive replicator's target catalog).
- ``table``: for DynamoDB, ``ledger`` or ``audit`` by the table the request names.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient

CATALOG_SERVICES = {"glue", "lakeformation", "sts", "events"}
BOOKKEEPING_SERVICES = {"dynamodb"}

_WRITE = re.compile(
    r"^(Batch)?(Create|Update|Delete|Put|Add|Remove|Grant|Revoke|Register|Deregister|"
    r"Import|Start|Stop|Tag|Untag|Send|Write|Transact(?!Get))"
)
READ_ONLY = {"AssumeRole", "BatchGetItem", "TransactGetItems"}

GLUE_PARTITION_WRITES = {
    "BatchCreatePartition",
    "BatchUpdatePartition",
    "BatchDeletePartition",
    "CreatePartition",
    "UpdatePartition",
    "DeletePartition",
}
GLUE_PARTITION_READS = {"BatchGetPartition", "GetPartitions", "GetPartition"}


def is_write(operation: str) -> bool:
    return operation not in READ_ONLY and bool(_WRITE.match(operation))


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    kind: str  # catalog | bookkeeping | other
    access: str  # read | write
    side: str  # source | central | ""
    table: str = ""  # ledger | audit | "" (DynamoDB only)

    def as_key(self) -> str:
        parts = [self.kind, self.access, self.side or "-", f"{self.service}:{self.operation}"]
        if self.table:
            parts.append(self.table)
        return " ".join(parts)


Predicate = Callable[[Call], bool]


class CallCounter:
    """Counts calls inside recording windows; thread-safe; cheap enough for 100,000 calls."""

    def __init__(
        self,
        producer_accounts: Iterable[str],
        ledger_table: str = "",
        audit_table: str = "",
    ) -> None:
        self.producers = set(producer_accounts)
        self.ledger_table = ledger_table
        self.audit_table = audit_table
        self.calls: Counter[Call] = Counter()
        self.invocations = 0
        self.invocation_errors: list[str] = []
        self._lock = threading.Lock()
        self._local = threading.local()

    # --- windows ---------------------------------------------------------------------------
    @property
    def recording(self) -> bool:
        return bool(getattr(self._local, "depth", 0))

    @contextmanager
    def window(self) -> Iterator[None]:
        self._local.depth = getattr(self._local, "depth", 0) + 1
        try:
            yield
        finally:
            self._local.depth -= 1

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.invocations = 0
            self.invocation_errors.clear()

    def snapshot(self) -> Counter[Call]:
        with self._lock:
            return Counter(self.calls)

    # --- recording -------------------------------------------------------------------------
    def observe(self, client: Any, operation: str, params: dict[str, Any]) -> None:
        if not self.recording:
            return
        call = self.classify(client.meta.service_model.service_name, operation, params)
        with self._lock:
            self.calls[call] += 1

    def classify(self, service: str, operation: str, params: dict[str, Any]) -> Call:
        if service in CATALOG_SERVICES:
            kind = "catalog"
        elif service in BOOKKEEPING_SERVICES:
            kind = "bookkeeping"
        else:
            kind = "other"
        access = "write" if is_write(operation) else "read"
        side = "central"
        if service in {"glue", "lakeformation"}:
            if str(params.get("CatalogId", "")) in self.producers:
                side = "source"
        elif service == "sts":
            role = str(params.get("RoleArn", ""))
            side = "source" if role.split(":")[4:5] and role.split(":")[4] in self.producers else ""
        table = ""
        if service == "dynamodb":
            table = self._table_label(params)
        return Call(service, operation, kind, access, side, table)

    def _table_label(self, params: dict[str, Any]) -> str:
        names = [params["TableName"]] if "TableName" in params else []
        names += list(params.get("RequestItems") or {})
        names += [
            item.get(op, {}).get("TableName", "")
            for item in params.get("TransactItems") or []
            for op in item
        ]
        if self.ledger_table and self.ledger_table in names:
            return "ledger"
        if self.audit_table and self.audit_table in names:
            return "audit"
        return "other"

    # --- reading ---------------------------------------------------------------------------
    @staticmethod
    def total(calls: Counter[Call], predicate: Predicate = lambda _c: True) -> int:
        return sum(n for call, n in calls.items() if predicate(call))

    @staticmethod
    def breakdown(calls: Counter[Call], predicate: Predicate = lambda _c: True) -> dict[str, int]:
        return {
            call.as_key(): n
            for call, n in sorted(calls.items(), key=lambda item: item[0].as_key())
            if predicate(call)
        }


# --- the usual predicates ------------------------------------------------------------------------
def catalog(call: Call) -> bool:
    return call.kind == "catalog"


def catalog_read(call: Call) -> bool:
    return call.kind == "catalog" and call.access == "read"


def catalog_write(call: Call) -> bool:
    return call.kind == "catalog" and call.access == "write"


def central_write(call: Call) -> bool:
    return catalog_write(call) and call.side == "central"


def bookkeeping(call: Call) -> bool:
    return call.kind == "bookkeeping"


def bookkeeping_read(call: Call) -> bool:
    return call.kind == "bookkeeping" and call.access == "read"


def bookkeeping_write(call: Call) -> bool:
    return call.kind == "bookkeeping" and call.access == "write"


def partition_write(call: Call) -> bool:
    return call.service == "glue" and call.operation in GLUE_PARTITION_WRITES


def partition_read(call: Call) -> bool:
    return call.service == "glue" and call.operation in GLUE_PARTITION_READS


# --- patches -------------------------------------------------------------------------
@contextmanager
def counting(counter: CallCounter) -> Iterator[CallCounter]:
    """Record calls made while a handler of the local mesh runs (and in explicit windows)."""
    import meshgov_local.router as router_module

    original_call = getattr(BaseClient, "_make_api_call")  # noqa: B009 - private, patched
    original_invoke = getattr(router_module, "invoke")  # noqa: B009

    def counted_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        counter.observe(self, operation_name, api_params)
        return original_call(self, operation_name, api_params)

    def counted_invoke(*args: Any, **kwargs: Any) -> Any:
        counter.invocations += 1
        with counter.window():
            try:
                return original_invoke(*args, **kwargs)
            except Exception as exc:
                counter.invocation_errors.append(f"{type(exc).__name__}: {exc}")
                raise

    setattr(BaseClient, "_make_api_call", counted_call)  # noqa: B010
    setattr(router_module, "invoke", counted_invoke)  # noqa: B010
    try:
        yield counter
    finally:
        setattr(BaseClient, "_make_api_call", original_call)  # noqa: B010
        setattr(router_module, "invoke", original_invoke)  # noqa: B010
