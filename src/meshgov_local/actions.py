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
``lakeformation``, ``glue``, ``events``...). Which action an operation is authorized as (a DynamoDB
transaction per item, S3's ``ListObjectsV2`` as ``s3:ListBucket``...) is decided in one place,
:func:`meshgov_local.emulator.iam_requests.iam_actions`, which the emulator's authorization
uses too.

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

from meshgov_local.emulator import iam_enforcement
from meshgov_local.emulator.iam_requests import iam_actions

ENV_VARIABLE = "MESHGOV_RECORD_ACTIONS"


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

    def observe_on_behalf(self, access_key: str, action: str) -> None:
        """An action a service authorized against the signer of one of this invocation's
        requests (Lake Formation sharing through RAM for a grant): the role's all the same."""
        current = self._current
        if current is None:
            return
        if access_key == current.access_key:
            principal = EXECUTION_ROLE
        elif access_key in current.assumed:
            principal = current.assumed[access_key]
        else:
            return
        with self._lock:
            self.uses[Use(current.function, principal, action)] += 1

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
    iam_enforcement.add_on_behalf_listener(recorder.observe_on_behalf)
    try:
        yield
    finally:
        iam_enforcement.remove_on_behalf_listener(recorder.observe_on_behalf)
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
