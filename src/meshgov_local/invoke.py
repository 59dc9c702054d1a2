"""Calling a function of template.yaml in-process, the way the Lambda service would.

Lambda gives a handler its environment variables and its execution role's credentials; so does
this module, around each call. Handlers are imported once per binding (a warm container).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from meshgov_local.accounts import AccountSessions
from meshgov_local.actions import recording as record_actions
from meshgov_local.deploy import FunctionBinding
from meshgov_local.faults import during as faults_during

# Local runs keep the console readable and never try to reach X-Ray or CloudWatch.
LOCAL_ENV = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_DEV": "false",
}

_modules: dict[str, ModuleType] = {}


@dataclass
class FakeContext:
    """The attributes of a Lambda context that Powertools and meshgov read."""

    function_name: str
    aws_request_id: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    timeout_ms: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


def cold_start(logical_ids: Iterable[str] | None = None) -> None:
    """Forget loaded handlers (all, or the named functions): the next call imports them afresh,
    inside their function's environment, as a new Lambda container would."""
    for logical_id in list(_modules if logical_ids is None else logical_ids):
        _modules.pop(logical_id, None)


def loaded_module(logical_id: str) -> ModuleType | None:
    """The handler module of a function, if it has been loaded (a warm container)."""
    return _modules.get(logical_id)


def load_handler(binding: FunctionBinding) -> Any:
    module = _modules.get(binding.logical_id)
    if module is None:
        for path in (*binding.layer_paths, binding.code_path):
            if str(path) not in sys.path:
                sys.path.append(str(path))
        name = f"meshgov_function_{binding.logical_id}"
        spec = importlib.util.spec_from_file_location(name, binding.handler_file)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {binding.handler_file}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _modules[binding.logical_id] = module
    return getattr(module, binding.handler_attribute)


def execution_role_credentials(role_arn: str, region: str) -> dict[str, str]:
    """Credentials of a function's execution role, as the Lambda service obtains them.

    The role trusts ``lambda.amazonaws.com``, not the operator, so the router cannot assume it
    through the STS API (the emulator enforces trust policies): it asks moto's STS backend
    directly, which is what the service principal's AssumeRole amounts to.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sts.models import sts_backends

    role = sts_backends[DEFAULT_ACCOUNT_ID]["aws"].assume_role(
        region_name=region,
        role_session_name="meshgov-local-lambda",
        role_arn=role_arn,
        policy="",
        duration=3600,
        external_id="",
    )
    return {
        "AWS_ACCESS_KEY_ID": role.access_key_id,
        "AWS_SECRET_ACCESS_KEY": role.secret_access_key,
        "AWS_SESSION_TOKEN": role.session_token,
    }


@contextmanager
def lambda_environment(
    binding: FunctionBinding,
    sessions: AccountSessions,
    account_id: str,
    endpoint_url: str | None,
    extra: Mapping[str, str] | None = None,
) -> Iterator[None]:
    """Set the function's environment and role credentials for the duration of one call."""
    if binding.role_arn:
        creds = execution_role_credentials(binding.role_arn, sessions.region)
    else:
        credentials = sessions.session(account_id).get_credentials()
        if credentials is None:
            raise RuntimeError(f"no credentials for account {account_id}")
        frozen = credentials.get_frozen_credentials()
        creds = {
            "AWS_ACCESS_KEY_ID": str(frozen.access_key),
            "AWS_SECRET_ACCESS_KEY": str(frozen.secret_key),
            "AWS_SESSION_TOKEN": str(frozen.token or ""),
        }
    env = {
        **binding.environment,
        **LOCAL_ENV,
        "AWS_REGION": sessions.region,
        "AWS_DEFAULT_REGION": sessions.region,
        **creds,
        "AWS_LAMBDA_FUNCTION_NAME": binding.logical_id,
        **(extra or {}),
    }
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    with temporary_environment(env):
        yield


@contextmanager
def temporary_environment(values: Mapping[str, str], removed: Iterable[str] = ()) -> Iterator[None]:
    """Set ``values`` and unset ``removed`` in ``os.environ``; restore everything on exit."""
    removed = tuple(removed)
    saved = {k: os.environ.get(k) for k in (*values, *removed)}
    os.environ.update(values)
    for key in removed:
        os.environ.pop(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def invoke(
    binding: FunctionBinding,
    event: Mapping[str, Any],
    sessions: AccountSessions,
    account_id: str,
    endpoint_url: str | None,
) -> Any:
    context = FakeContext(
        function_name=binding.logical_id,
        aws_request_id=str(uuid.uuid4()),
        invoked_function_arn=sessions.arns.arn(
            "lambda", account_id, f"function:{binding.logical_id}"
        ),
        timeout_ms=binding.timeout * 1000,
    )
    with (
        lambda_environment(binding, sessions, account_id, endpoint_url),
        record_actions(binding.logical_id),  # opt-in: meshgov_local.actions
        faults_during(binding.logical_id),  # only when a fault injector is armed
    ):
        # Imported inside the function's environment, as Lambda's init phase does: module-level
        # Powertools objects (Metrics' namespace, Logger's service) read it when built.
        handler = load_handler(binding)
        try:
            return handler(dict(event), context)
        finally:
            _forget_metrics(binding.logical_id)


def _forget_metrics(logical_id: str) -> None:
    """Drop the metrics an invocation added. Locally they are never published
    (``POWERTOOLS_METRICS_DISABLED``), so Powertools keeps them in the warm module's ``Metrics``
    across invocations until a metric holds 100 values, then prints that set to stdout whatever
    the setting — into the output of whatever else this process runs (a CLI command under test).
    On Lambda each invocation's flush clears them."""
    metrics = getattr(_modules.get(logical_id), "metrics", None)
    clear = getattr(metrics, "clear_metrics", None)
    if callable(clear):
        clear()
