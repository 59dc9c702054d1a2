"""One small factory for boto3 clients, per invocation: own account or an assumed role.

Retries (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html): every
client retries in ``standard`` mode, the SDKs' recommended one. Glue and Lake Formation clients
(:data:`PACED_SERVICES`) use ``adaptive`` mode instead: standard mode plus "automatic
client-side rate limiting", because "AWS Glue API requests are throttled for AWS accounts on a
per-Region basis" (https://repost.aws/knowledge-center/glue-throttling-rate-exceeded), and the
Lake Formation calls (grants, revokes, settings) are the other catalog-wide calls every producer's
work funnels into. Neither publishes its request rates as fixed numbers: a throttle is the
common ``ThrottlingException`` (https://docs.aws.amazon.com/glue/latest/webapi/CommonErrors.html).
After a throttle, an adaptive client slows its own sending rate (a token bucket) and backs off.

What that rate limiting holds, and what it does not: botocore keeps the limiter in the client
object, and this factory makes clients per invocation, so one invocation paces itself and
nothing more. Across invocations the bound on an account's calls is the function's SQS maximum
concurrency times one invocation's rate (template.yaml, :mod:`meshgov.aws.pacing`).

Endpoints come from the environment (``AWS_ENDPOINT_URL``), so the same code runs against AWS and
the local mesh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

from meshgov.errors import SourceUnavailableError

# ``max_attempts`` counts retries (botocore's legacy key: 8 retries, 9 requests at most). Eight
# ride out most of a throttled minute: botocore's backoff for throttling errors is
# "rand(0, 1) * min(1 s * 2 ** i, 20 s)", so 8 retries wait about 45 s on average (91 s at most):
# within the sweeps' 900 s, and for a 60 s queue consumer the rest is SQS's redelivery. Each
# client also has botocore's retry quota, so a broken service fails fast, not after every retry.
MAX_RETRIES = 8
# The per-account, per-Region throttled services whose clients pace themselves.
PACED_SERVICES = frozenset({"glue", "lakeformation"})
PACED_CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": MAX_RETRIES})
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": MAX_RETRIES})


def client_config(service: str) -> Config:
    """The one retry configuration of a meshgov client of ``service``."""
    return PACED_CLIENT_CONFIG if service in PACED_SERVICES else CLIENT_CONFIG


# Called with every client the factory creates: the benchmarks count calls with it.
ClientHook = Callable[[Any], None]

# botocore's data loader caches the service models it has read. A warm Lambda container keeps one
# for all its invocations instead of re-reading the JSON models for every new session (tens of
# milliseconds per client). Created on first use, never at import time.
_loader: Any = None


def new_session(**kwargs: Any) -> boto3.Session:
    """A boto3 session (credentials from ``kwargs`` or the environment) sharing the loader."""
    global _loader
    core = botocore.session.get_session()
    if _loader is None:
        _loader = core.get_component("data_loader")
    else:
        core.register_component("data_loader", _loader)
    return boto3.Session(botocore_session=core, **kwargs)


class AwsSessions:
    """Creates and caches clients for one principal; ``assume`` hops to another account."""

    def __init__(
        self,
        session: boto3.Session,
        hooks: Sequence[ClientHook] = (),
        label: str = "self",
    ) -> None:
        self._session = session
        self._hooks = tuple(hooks)
        self._clients: dict[str, Any] = {}
        self._assumed: dict[str, AwsSessions] = {}
        self.label = label

    def client(self, service: str) -> Any:
        if service not in self._clients:
            client = self._session.client(service, config=client_config(service))  # type: ignore[call-overload]
            for hook in self._hooks:
                hook(client)
            self._clients[service] = client
        return self._clients[service]

    def assume(self, role_arn: str, session_name: str) -> AwsSessions:
        """Sessions of ``role_arn`` (cached for the invocation: one AssumeRole per role)."""
        if role_arn not in self._assumed:
            try:
                creds = self.client("sts").assume_role(
                    RoleArn=role_arn, RoleSessionName=session_name[:64]
                )["Credentials"]
            except ClientError as exc:
                reason = f"cannot assume {role_arn}: {error_text(exc)}"
                raise SourceUnavailableError(reason) from exc
            session = new_session(
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
                region_name=self._session.region_name,
            )
            self._assumed[role_arn] = AwsSessions(session, self._hooks, label=role_arn)
        return self._assumed[role_arn]


def error_code(exc: ClientError) -> str:
    """The error code of a refused AWS call (``""`` when the response names none): the one
    reading of botocore's ``ClientError.response["Error"]["Code"]``
    (https://boto3.amazonaws.com/v1/documentation/api/latest/guide/error-handling.html) that
    every adapter, the CLI and the local mesh's deployer branch on."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def error_text(exc: ClientError) -> str:
    """``Code: message``: what an audit record or a dead letter says of a refused call. AWS's
    message names the principal, the action and the resource of an AccessDenied, which is what an
    operator needs to fix the policy."""
    message = str(exc.response.get("Error", {}).get("Message", "")).strip()
    return f"{error_code(exc)}: {message}" if message else error_code(exc)
