"""Recording the IAM actions each function's code uses, while the local mesh runs it.

Local-mesh side only: Lambda code never imports this module. While
:func:`meshgov_local.invoke.invoke` runs a handler, :func:`recording` wraps
``botocore.client.BaseClient._make_api_call`` (every request a client sends passes there once)
and records each call as the IAM action(s) AWS authorizes it as, with the *principal* that made
it:

- the function's execution role, when the client signs with the execution role's credentials
  (the ones :func:`meshgov_local.invoke.lambda_environment` puts in the environment);
- an assumed role, when the client signs with credentials an ``sts:AssumeRole`` call of this
  invocation returned (e.g. the member's ``CatalogReaderRole``): the recorder sees that call's
  response, so it maps the new access key to the role ARN the call asked for;
- anything else (the emulator, the router, the tests) is not the function's code and is ignored.

The IAM prefix is the service model's signing name (``client.meta.service_model.signing_name``:
``lakeformation``, ``glue``, ``events``...). Operations authorized as another action are mapped
(:data:`ACTION_OF_OPERATION`); DynamoDB transactions are authorized per item as the operation each
item performs (a ``Put`` as ``dynamodb:PutItem``), not as ``TransactWriteItems``
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).

Recording is opt-in: set ``MESHGOV_RECORD_ACTIONS`` to a file path and every process appends its
actions there as JSON lines (``<path>.<pid>`` per process, so pytest-xdist workers never share a
file; :func:`merge` reads them all back). Tests use :class:`ActionRecorder` directly.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.client import BaseClient

ENV_VARIABLE = "MESHGOV_RECORD_ACTIONS"

# Operations whose IAM action is not "<prefix>:<OperationName>" (the Service Authorization
# Reference lists the action each API operation needs). Values are tuples: some operations need
# several actions. Anything not listed is "<signing name>:<operation>".
ACTION_OF_OPERATION: dict[tuple[str, str], tuple[str, ...]] = {
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "ListObjects"): ("s3:ListBucket",),
    ("s3", "ListObjectVersions"): ("s3:ListBucketVersions",),
    # HeadObject needs s3:GetObject; a missing key is a 404 (which the digest writer reads as
    # "not claimed yet") only with s3:ListBucket on the bucket, a 403 without
    # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html, Permissions).
    ("s3", "HeadObject"): ("s3:GetObject", "s3:ListBucket"),
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    # SendMessageBatch is authorized as SendMessage (there is no SendMessageBatch action).
    ("sqs", "SendMessageBatch"): ("sqs:SendMessage",),
    ("sqs", "DeleteMessageBatch"): ("sqs:DeleteMessage",),
    ("sqs", "ChangeMessageVisibilityBatch"): ("sqs:ChangeMessageVisibility",),
}

# DynamoDB transaction items -> the action each is authorized as.
_TRANSACT_ITEM_ACTION = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


def iam_actions(prefix: str, operation: str, params: Mapping[str, Any]) -> tuple[str, ...]:
    """The IAM actions AWS checks for one request (``prefix`` is the signing name)."""
    if prefix == "dynamodb" and operation in {"TransactWriteItems", "TransactGetItems"}:
        items = params.get("TransactItems") or []
        return tuple(sorted({_TRANSACT_ITEM_ACTION[kind] for item in items for kind in item})) or (
            f"dynamodb:{operation}",
        )
    if prefix == "s3" and operation == "GetObject" and params.get("VersionId"):
        return ("s3:GetObjectVersion",)
    if prefix == "s3" and operation == "PutObject" and params.get("ObjectLockMode"):
        # Setting a retention on upload also needs s3:PutObjectRetention.
        return ("s3:PutObject", "s3:PutObjectRetention")
    return ACTION_OF_OPERATION.get((prefix, operation), (f"{prefix}:{operation}",))


@dataclass(frozen=True)
class Use:
    """One action used by a function's code, as a principal."""

    function: str  # the function's logical id
    principal: str  # "execution-role" or the ARN of the role it assumed
    action: str

    def as_json(self) -> dict[str, str]:
        return {"function": self.function, "principal": self.principal, "action": self.action}


EXECUTION_ROLE = "execution-role"


@dataclass
class _Invocation:
    function: str
    access_key: str
    assumed: dict[str, str] = field(default_factory=dict)  # access key -> role ARN


class ActionRecorder:
    """Counts :class:`Use` s; one invocation at a time per thread (handlers are sequential)."""

    def __init__(self) -> None:
        self.uses: Counter[Use] = Counter()
        self._lock = threading.Lock()
        self._current: _Invocation | None = None

    @contextmanager
    def invocation(self, function: str, access_key: str) -> Iterator[None]:
        """Record what ``function``'s code does with ``access_key`` (and roles it assumes)."""
        outer = self._current
        self._current = _Invocation(function, access_key)
        try:
            with _patched(self):
                yield
        finally:
            self._current = outer

    def observe(
        self,
        client: Any,
        operation: str,
        params: Mapping[str, Any],
        response: Mapping[str, Any] | None,
    ) -> None:
        current = self._current
        if current is None:
            return
        key = _access_key(client)
        if key == current.access_key:
            principal = EXECUTION_ROLE
        elif key in current.assumed:
            principal = current.assumed[key]
        else:
            return  # not the function's credentials: the emulator or the router
        prefix = str(client.meta.service_model.signing_name)
        with self._lock:
            for action in iam_actions(prefix, operation, params):
                self.uses[Use(current.function, principal, action)] += 1
        if prefix == "sts" and operation == "AssumeRole" and response:
            new_key = str((response.get("Credentials") or {}).get("AccessKeyId", ""))
            if new_key:
                current.assumed[new_key] = str(params.get("RoleArn", ""))

    # --- reading ---------------------------------------------------------------------------
    def actions(self) -> dict[tuple[str, str], set[str]]:
        """``(function, principal) -> {actions}``."""
        found: dict[tuple[str, str], set[str]] = {}
        for use in self.uses:
            found.setdefault((use.function, use.principal), set()).add(use.action)
        return found

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            for use, count in sorted(self.uses.items(), key=lambda item: repr(item[0])):
                out.write(json.dumps({**use.as_json(), "count": count}) + "\n")


def _access_key(client: Any) -> str:
    credentials = getattr(getattr(client, "_request_signer", None), "_credentials", None)
    if credentials is None:
        return ""
    return str(credentials.get_frozen_credentials().access_key)


_patch_lock = threading.Lock()


@contextmanager
def _patched(recorder: ActionRecorder) -> Iterator[None]:
    """Wrap ``BaseClient._make_api_call`` for the duration of one invocation (and restore
    whatever was there: the bench's call counter may have wrapped it too)."""
    with _patch_lock:
        original = getattr(BaseClient, "_make_api_call")  # noqa: B009 - private, patched

    def recorded_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        try:
            response = original(self, operation_name, api_params)
        except Exception:
            # A refused or failed call was still attempted: the action is needed all the same.
            recorder.observe(self, operation_name, api_params, None)
            raise
        recorder.observe(self, operation_name, api_params, response)
        return response

    setattr(BaseClient, "_make_api_call", recorded_call)  # noqa: B010
    try:
        yield
    finally:
        setattr(BaseClient, "_make_api_call", original)  # noqa: B010


# --- the opt-in hook meshgov_local.invoke calls -------------------------------------------------
_process_recorder: ActionRecorder | None = None


def _env_recorder() -> ActionRecorder | None:
    global _process_recorder
    if not os.environ.get(ENV_VARIABLE):
        return None
    if _process_recorder is None:
        import atexit

        _process_recorder = ActionRecorder()
        atexit.register(flush)
    return _process_recorder


_active: list[ActionRecorder] = []


@contextmanager
def active(recorder: ActionRecorder) -> Iterator[ActionRecorder]:
    """Record every invocation made inside (tests and the bench)."""
    _active.append(recorder)
    try:
        yield recorder
    finally:
        _active.remove(recorder)


@contextmanager
def recording(function: str) -> Iterator[None]:
    """Around one invocation of ``function``: record it when a recorder is active (or
    ``MESHGOV_RECORD_ACTIONS`` is set). Reads the execution role's access key from the
    environment, so call it inside :func:`meshgov_local.invoke.lambda_environment`."""
    recorder = _active[-1] if _active else _env_recorder()
    if recorder is None:
        yield
        return
    with recorder.invocation(function, os.environ.get("AWS_ACCESS_KEY_ID", "")):
        yield


def flush() -> None:
    """Append this process's uses to ``$MESHGOV_RECORD_ACTIONS.<pid>`` (at exit)."""
    target = os.environ.get(ENV_VARIABLE)
    if _process_recorder is None or not target or not _process_recorder.uses:
        return
    _process_recorder.write(Path(f"{target}.{os.getpid()}"))
    _process_recorder.uses.clear()


def merge(target: Path) -> dict[tuple[str, str], set[str]]:
    """Every ``(function, principal) -> {actions}`` the processes wrote for ``target``."""
    found: dict[tuple[str, str], set[str]] = {}
    for path in _files(target):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                found.setdefault((row["function"], row["principal"]), set()).add(row["action"])
    return found


def _files(target: Path) -> Iterable[Path]:
    if target.exists():
        yield target
    yield from sorted(target.parent.glob(f"{target.name}.*"))
