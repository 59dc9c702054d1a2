"""Counting the AWS calls the handlers make, the way AWS would bill and throttle them.

The handlers build their own clients (``AwsSessions(boto3.Session())``), so the bench patches
``botocore.client.BaseClient._make_api_call`` for the duration of a run: every request a client
sends passes there once (a paginator page is one request). Calls are only recorded inside a
*window*: while a handler runs (the local mesh's router calls :func:`meshgov_local.invoke.invoke`,
which the bench wraps), while the naive replicator runs, or while the sharing scenarios act as a
consumer or producer whose own calls belong to the figure (the request's and the decision's
PutEvents). Anything else the producer, the router (SQS receive/delete) and the bench itself do
is never counted.

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
- ``table``: for DynamoDB, ``ledger``, ``audit`` or ``requests`` by the table the request names.
- ``label``: what an optional *labeller* says about the request (the sharing scenarios label each
  ``PutEvents`` with the detail types it carries); empty otherwise.

Every call is also counted by *account*: the account of the function whose invocation made it
(``FunctionBinding.account_id``: central, or the member account a member function runs in), or
the account an explicit window names (the bench acting as a consumer or producer); and by
*source*: the function (``<logical id>@<account>``) or what the explicit window names.
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
    table: str = ""  # ledger | audit | requests | other | "" (DynamoDB only)
    label: str = ""  # set by a labeller (e.g. the detail type of a PutEvents)

    def as_key(self) -> str:
        parts = [self.kind, self.access, self.side or "-", f"{self.service}:{self.operation}"]
        if self.table:
            parts.append(self.table)
        if self.label:
            parts.append(f"[{self.label}]")
        return " ".join(parts)

    def operation_key(self) -> str:
        """``service:operation``, with the DynamoDB table or the label in brackets when known."""
        qualifier = self.table or self.label
        key = f"{self.service}:{self.operation}"
        return f"{key} ({qualifier})" if qualifier else key


Predicate = Callable[[Call], bool]
# (service, operation, params) -> a label for the call ("" for none)
Labeller = Callable[[str, str, dict[str, Any]], str]
AccountCalls = Counter[tuple[str, Call]]


class CallCounter:
    """Counts calls inside recording windows; thread-safe; cheap enough for 100,000 calls."""

    def __init__(
        self,
        producer_accounts: Iterable[str],
        ledger_table: str = "",
        audit_table: str = "",
        requests_table: str = "",
        labeller: Labeller | None = None,
        registry_table: str = "",
        functions: Iterable[str] | None = None,
    ) -> None:
        self.producers = set(producer_accounts)
        self.ledger_table = ledger_table
        self.audit_table = audit_table
        self.requests_table = requests_table
        # The member registry (issue 16): one Query per invocation that needs the producers.
        self.registry_table = registry_table
        self.labeller = labeller
        # Only these functions' calls count (None: all). The propagation figures measure the
        # catalog functions: the access functions that react to a new database (ownership
        # grants) are measured by the sharing figures.
        self.functions = frozenset(functions) if functions is not None else None
        self.calls: Counter[Call] = Counter()
        self.by_account: AccountCalls = Counter()
        self.by_source: AccountCalls = Counter()  # keyed by source instead of account
        self.invocations = 0
        self.invoked: Counter[str] = Counter()  # "<logical id>@<account>" -> invocations
        self.invocation_errors: list[str] = []
        # Each counted invocation's calls, "<logical id>@<account>" and the count (issue 16:
        # the most any single invocation makes).
        self.per_invocation: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._local = threading.local()

    # --- windows ---------------------------------------------------------------------------
    def _windows(self) -> list[tuple[str, str]]:
        stack: list[tuple[str, str]] | None = getattr(self._local, "windows", None)
        if stack is None:
            stack = self._local.windows = []
        return stack

    @property
    def recording(self) -> bool:
        return bool(self._windows())

    @contextmanager
    def window(self, account: str = "", source: str = "") -> Iterator[None]:
        """Record the calls made inside; ``account`` names the account making them and
        ``source`` what makes them (default: the enclosing window's)."""
        stack = self._windows()
        outer_account, outer_source = stack[-1] if stack else ("", "")
        stack.append((account or outer_account, source or outer_source))
        try:
            yield
        finally:
            stack.pop()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.by_account.clear()
            self.by_source.clear()
            self.invocations = 0
            self.invoked.clear()
            self.invocation_errors.clear()
            self.per_invocation.clear()

    def snapshot(self) -> Counter[Call]:
        with self._lock:
            return Counter(self.calls)

    def snapshot_by_account(self) -> AccountCalls:
        with self._lock:
            return Counter(self.by_account)

    def snapshot_by_source(self) -> AccountCalls:
        with self._lock:
            return Counter(self.by_source)

    # --- recording -------------------------------------------------------------------------
    def observe(self, client: Any, operation: str, params: dict[str, Any]) -> None:
        stack = self._windows()
        if not stack:
            return
        account, source = stack[-1]
        if getattr(self._local, "invocation_calls", None) is not None:
            self._local.invocation_calls += 1
        call = self.classify(client.meta.service_model.service_name, operation, params)
        with self._lock:
            self.calls[call] += 1
            self.by_account[(account, call)] += 1
            self.by_source[(source, call)] += 1

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
        label = self.labeller(service, operation, params) if self.labeller else ""
        return Call(service, operation, kind, access, side, table, label)

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
        if self.requests_table and self.requests_table in names:
            return "requests"
        if self.registry_table and self.registry_table in names:
            return "registry"
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

    @staticmethod
    def by_operation(
        calls: AccountCalls, predicate: Predicate = lambda _c: True
    ) -> dict[str, dict[str, int]]:
        """account (or source) -> ``service:operation`` (:meth:`Call.operation_key`) -> calls."""
        grouped: dict[str, Counter[str]] = {}
        for (account, call), n in calls.items():
            if predicate(call):
                grouped.setdefault(account, Counter())[call.operation_key()] += n
        return {
            account: dict(sorted(ops.items())) for account, ops in sorted(grouped.items()) if ops
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
        # invoke(binding, event, sessions, account_id, endpoint_url): the binding says where
        # the function runs (central or a member account).
        binding = args[0] if args else kwargs.get("binding")
        account = str(getattr(binding, "account_id", "") or "")
        logical_id = str(getattr(binding, "logical_id", "?"))
        source = f"{logical_id}@{account or '-'}"
        if counter.functions is not None and logical_id not in counter.functions:
            return original_invoke(*args, **kwargs)
        with counter._lock:
            counter.invocations += 1
            counter.invoked[source] += 1
        counter._local.invocation_calls = 0
        with counter.window(account, source):
            try:
                return original_invoke(*args, **kwargs)
            except Exception as exc:
                counter.invocation_errors.append(f"{type(exc).__name__}: {exc}")
                raise
            finally:
                with counter._lock:
                    counter.per_invocation.append((source, counter._local.invocation_calls))
                counter._local.invocation_calls = None

    setattr(BaseClient, "_make_api_call", counted_call)  # noqa: B010
    setattr(router_module, "invoke", counted_invoke)  # noqa: B010
    try:
        yield counter
    finally:
        setattr(BaseClient, "_make_api_call", original_call)  # noqa: B010
        setattr(router_module, "invoke", original_invoke)  # noqa: B010
