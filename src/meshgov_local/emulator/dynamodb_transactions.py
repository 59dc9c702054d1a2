"""DynamoDB ``TransactWriteItems``: atomic and isolated, at the cost of the items it touches.

AWS: the actions of a transaction "are completed atomically so that either all of them succeed,
or all of them fail", and transactions are serializable: a transaction whose condition no longer
holds because another one committed first is cancelled
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html).

moto 5.2.5 checks each action's condition and writes it before looking at the next one, with
no lock, so two threads can both pass a condition on the same item (the audit chain's head) and
both commit: the very fork the transaction exists to prevent. It also backs up every table a
transaction touches with ``copy.deepcopy`` first, a cost that grows with the table (the audit
table grows by one item per record). Here transactions run one at a time under a lock, and only
the items they touch are saved (and put back if the transaction is cancelled); moto's whole-table
copy is skipped while a transaction runs.

Idempotency. "Providing a ``ClientRequestToken`` makes the call to ``TransactWriteItems``
idempotent ... A client request token is valid for 10 minutes after the first request that uses
it is completed ... If you submit a request with the same client token but a change in other
parameters within the 10-minute idempotency window, DynamoDB returns an
``IdempotentParameterMismatch`` exception" (same API reference, ``ClientRequestToken``). botocore
fills the token in and keeps it across its retries, so a transaction whose answer was lost (a
read timeout) is retried with the same token and succeeds without writing twice. moto ignores
the token; here a token that completed within the window (on the emulator's clock) answers
success without changing anything.
"""

from __future__ import annotations

import copy
import json
import threading
from datetime import datetime, timedelta
from typing import Any

from moto.core.responses import ActionResult
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from ._patching import patch_attr, wrap_method
from .controls import controls

TOKEN_WINDOW = timedelta(minutes=10)

_LOCK = threading.RLock()
_STATE = threading.local()

Saved = list[tuple[str, dict[str, Any], dict[str, Any] | None]]


class _CopyModule:
    """moto's ``copy`` module, except that a transaction's whole-table backup is skipped."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if getattr(_STATE, "active", False) and isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


def _save(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Saved:
    saved: Saved = []
    for action in transact_items:
        try:
            op_type, op = next(iter(action.items()))
            table_name = str(op["TableName"])
            table = backend.get_table(table_name)
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = dict(op["Key"])
            current = backend.get_item(table_name, key)
        except Exception:  # noqa: S112 - moto itself reports the malformed action
            continue
        before = copy.deepcopy(current.to_json()["Attributes"]) if current else None
        saved.append((table_name, key, before))
    return saved


def _restore(backend: DynamoDBBackend, saved: Saved) -> None:
    for table_name, key, before in reversed(saved):
        if before is None:
            backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, before, overwrite=True)


def _atomic(original: Any) -> Any:
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        with _LOCK:
            saved = _save(self, transact_items)
            _STATE.active = True
            try:
                return original(self, transact_items)
            except Exception:
                _restore(self, saved)
                raise
            finally:
                _STATE.active = False

    return transact_write_items


class IdempotentParameterMismatchError(DynamodbException):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(
            ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException",
            message="The request uses the same client token as a previous, but non-identical "
            "request.",
        )


def _completed(backend: DynamoDBBackend) -> dict[str, tuple[str, datetime]]:
    """token -> (the request's items, when it completed), kept on the account's backend (a
    moto reset forgets them with everything else)."""
    tokens: dict[str, tuple[str, datetime]] | None = getattr(backend, "_meshgov_tokens", None)
    if tokens is None:
        tokens = {}
        backend._meshgov_tokens = tokens
    return tokens


def _idempotent(original: Any) -> Any:
    def transact_write_items(self: DynamoHandler) -> Any:
        token = self.body.get("ClientRequestToken")
        if not token:
            return original(self)
        key = str(token)
        items = json.dumps(self.body.get("TransactItems"), sort_keys=True)
        now = controls.now()
        with _LOCK:
            completed = _completed(self.dynamodb_backend)
            # Oldest first (the emulator's clock never goes back): drop the expired ones.
            while completed:
                oldest = next(iter(completed))
                if now - completed[oldest][1] <= TOKEN_WINDOW:
                    break
                del completed[oldest]
            seen = completed.get(key)
            if seen is not None:
                if seen[0] != items:
                    raise IdempotentParameterMismatchError()
                return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
            result = original(self)
            completed[key] = (items, controls.now())
            return result

    return transact_write_items


def install() -> None:
    patch_attr(dynamodb_models, "copy", _CopyModule())
    wrap_method(DynamoDBBackend, "transact_write_items", _atomic)
    wrap_method(DynamoHandler, "transact_write_items", _idempotent)
