"""The end-to-end test target on three real AWS accounts where ``sam deploy`` put meshgov.

Built only from a :class:`~meshgov_local.real_accounts_config.RealAccountsConfig`, which exists
only when ``MESHGOV_AWS_PROFILES`` is set: the default test run never reaches this module's AWS
calls. Never imported by Lambda code (``tests/unit/test_architecture.py``).

- Sessions: one per account, from the named AWS CLI profile, with the shared config and
  credentials files the environment named when the run started. An explicit profile disables
  botocore's environment credential provider, so the fake credentials the test suite exports
  are never used against AWS.
- Physical names: read from the deployed stacks with ``cloudformation:DescribeStackResources``
  filtered by ``LogicalResourceId`` (one resource per call, so the 100-resource cap of an
  unfiltered call does not apply:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResources.html),
  and the producer's domain from central's registry (``RegistryTable``)
  (``DescribeStacks``).
- ``settle``: EventBridge, SQS and Lambda deliver by themselves, so it polls the expected state,
  bounded (``MESHGOV_AWS_SETTLE_SECONDS``).
- ``sweep`` / ``write_digest``: a synchronous ``lambda:Invoke`` (``RequestResponse``) of the
  deployed function with a scheduled event; a function error is reported in the response's
  ``FunctionError``, not the HTTP status
  (https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

from meshgov.registry.store import RegistryStore
from meshgov_local.e2e_target import Check, NotSettledError, SharedTarget, StackNames
from meshgov_local.real_accounts_config import SETTLE_VARIABLE, RealAccountsConfig

CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})
# A sweep may run up to the function's timeout (at most 900 s); never retry a synchronous invoke
# that timed out on our side (it would run the sweep twice).
INVOKE_CONFIG = Config(read_timeout=910, connect_timeout=10, retries={"total_max_attempts": 1})
POLL_SECONDS = 5.0
# Stack states whose resources exist and match a template (a failed create leaves none).
USABLE_STACK_STATES = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}
)
SWEEP_FUNCTION = "CatalogSweepFunction"
AUDIT_DIGEST_FUNCTION = "AuditDigestFunction"


class RealAccountsError(RuntimeError):
    """The real accounts are not what the end-to-end tests need (the message says what)."""


def profile_session(config: RealAccountsConfig, profile: str) -> boto3.Session:
    """A session acting as ``profile``, read from the config files named in ``config``."""
    core = botocore.session.Session()
    core.set_config_variable("config_file", str(config.config_file))
    core.set_config_variable("credentials_file", str(config.credentials_file))
    return boto3.Session(botocore_session=core, profile_name=profile, region_name=config.region)


def poll_until(
    until: Check,
    what: str,
    timeout: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = POLL_SECONDS,
) -> int:
    """Check ``until`` now and every ``interval`` seconds until it holds (the number of checks)
    or ``timeout`` seconds have passed (:class:`NotSettledError`)."""
    deadline = clock() + timeout
    checks = 0
    while True:
        checks += 1
        if until():
            return checks
        remaining = deadline - clock()
        if remaining <= 0:
            raise NotSettledError(
                f"real accounts: {what}: not reached within {timeout:.0f} s ({SETTLE_VARIABLE}); "
                "see the functions' CloudWatch logs and `meshgov dlq list`"
            )
        sleep(min(interval, remaining))


def scheduled_event(account_id: str, region: str) -> dict[str, Any]:
    """The event an EventBridge schedule rule gives its function (what the handlers parse;
    https://docs.aws.amazon.com/lambda/latest/dg/with-scheduled-events.html)."""
    return {
        "version": "0",
        "id": f"e2e-{time.time_ns():x}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": {},
    }


class RealAccountsTarget(SharedTarget):
    """Three real accounts (central, producer, consumer) as a :class:`MeshTarget`."""

    name = "real_aws"

    def __init__(
        self,
        config: RealAccountsConfig,
        sessions: Mapping[str, boto3.Session] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__()
        self.config = config
        self._clock, self._sleep = clock, sleep
        by_role = dict(sessions or {})
        for role, account in config.accounts.items():
            by_role.setdefault(role, profile_session(config, account.profile))
        self._roles = {
            role: str(session.client("sts", config=CLIENT_CONFIG).get_caller_identity()["Account"])
            for role, session in by_role.items()
        }
        if len(set(self._roles.values())) != len(self._roles):
            raise RealAccountsError(
                f"the profiles must act as three different accounts, not {self._roles}"
            )
        self._sessions = {self._roles[role]: session for role, session in by_role.items()}
        self._clients: dict[tuple[str, str], Any] = {}
        for role in self._roles:
            self._check_stack(role)
        self._domain = self._producer_domain()
        self._names = StackNames(
            audit_table=self._physical("central", "AuditTable"),
            requests_table=self._physical("central", "AccessRequestsTable"),
            digest_bucket=self._physical("central", "AuditDigestBucket"),
            digest_key=self._physical("central", "AuditDigestKey"),
        )
        self._functions = {
            logical: self._physical("central", logical)
            for logical in (SWEEP_FUNCTION, AUDIT_DIGEST_FUNCTION)
        }

    # --- the accounts ----------------------------------------------------------------------------
    @property
    def central(self) -> str:
        return self._roles["central"]

    @property
    def producer(self) -> str:
        return self._roles["producer"]

    @property
    def consumer(self) -> str:
        return self._roles["consumer"]

    @property
    def region(self) -> str:
        return self.config.region

    @property
    def producer_domain(self) -> str:
        return self._domain

    @property
    def names(self) -> StackNames:
        return self._names

    def client(self, account_id: str, service: str) -> Any:
        if account_id not in self._sessions:
            raise RealAccountsError(
                f"account {account_id} is none of the profiles' accounts {self._roles}"
            )
        key = (account_id, service)
        if key not in self._clients:
            config = INVOKE_CONFIG if service == "lambda" else CLIENT_CONFIG
            self._clients[key] = self._sessions[account_id].client(
                service,  # type: ignore[call-overload]
                config=config,
            )
        return self._clients[key]

    # --- time passing --------------------------------------------------------------------------
    def settle(self, until: Check, what: str, timeout: float | None = None) -> None:
        poll_until(
            until,
            what,
            self.config.settle_seconds if timeout is None else timeout,
            clock=self._clock,
            sleep=self._sleep,
        )

    def sweep(self) -> Mapping[str, Any]:
        return self._invoke(SWEEP_FUNCTION)

    def write_digest(self) -> Mapping[str, Any]:
        return self._invoke(AUDIT_DIGEST_FUNCTION)

    def _invoke(self, logical_id: str) -> Mapping[str, Any]:
        name = self._functions[logical_id]
        response = self.client(self.central, "lambda").invoke(
            FunctionName=name,
            InvocationType="RequestResponse",
            Payload=json.dumps(scheduled_event(self.central, self.region)).encode(),
        )
        body = response["Payload"].read().decode("utf-8", "replace")
        if response.get("FunctionError"):
            raise RealAccountsError(f"{logical_id} ({name}) failed: {body[:1000]}")
        result = json.loads(body) if body else None
        if not isinstance(result, Mapping):
            raise RealAccountsError(f"{logical_id} ({name}) returned {body[:200]!r}, not an object")
        return result

    # --- the stacks ------------------------------------------------------------------------------
    def _stack(self, role: str) -> dict[str, Any]:
        account = self._roles[role]
        stack_name = self.config.account(role).stack_name
        cloudformation = self.client(account, "cloudformation")
        try:
            stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
        except ClientError as exc:
            raise RealAccountsError(
                f"no stack {stack_name} in {role} account {account} ({self.region}): deploy it "
                f"with `sam deploy --config-env {role}` ({exc})"
            ) from exc
        return dict(stacks[0])

    def _check_stack(self, role: str) -> None:
        stack = self._stack(role)
        status = str(stack.get("StackStatus"))
        if status not in USABLE_STACK_STATES:
            raise RealAccountsError(
                f"stack {stack['StackName']} ({role}) is {status}; it must be one of "
                f"{sorted(USABLE_STACK_STATES)}"
            )
        expected = "central" if role == "central" else "member"
        actual = _parameter(stack, "StackRole")
        if actual != expected:
            raise RealAccountsError(
                f"stack {stack['StackName']} of the {role} profile has StackRole={actual!r}, "
                f"not {expected!r}: is the profile for the right account?"
            )

    def _producer_domain(self) -> str:
        """The producer profile's domain, as central's registry holds it (``meshgov accounts
        add``): no registration, no real-accounts run."""
        table = self._physical("central", "RegistryTable")
        registry = RegistryStore(self.client(self.central, "dynamodb"), table)
        member = registry.get(self.producer)
        if member is None or not member.is_producer or not member.domain:
            raise RealAccountsError(
                f"central's registry ({table}) does not hold the producer profile's account "
                f"{self.producer} as a producer: run `meshgov accounts add {self.producer} "
                "--producer --domain <domain>` as the central account"
            )
        return member.domain

    def _physical(self, role: str, logical_id: str) -> str:
        stack_name = self.config.account(role).stack_name
        found = self.client(self._roles[role], "cloudformation").describe_stack_resources(
            StackName=stack_name, LogicalResourceId=logical_id
        )["StackResources"]
        physical = found[0].get("PhysicalResourceId") if found else None
        if not physical:
            raise RealAccountsError(f"stack {stack_name} ({role}) has no resource {logical_id}")
        return str(physical)


def _parameter(stack: Mapping[str, Any], key: str) -> str | None:
    for parameter in stack.get("Parameters", []):
        if parameter.get("ParameterKey") == key:
            return str(parameter.get("ParameterValue", ""))
    return None
