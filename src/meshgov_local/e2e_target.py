"""The mesh an end-to-end test body acts on: the local mesh, or three real AWS accounts.

A test body written against :class:`MeshTarget` runs unchanged on both (``tests/e2e/conftest.py``
parametrizes it). What differs is only *how time passes*:

- locally, events wait in the local router until :meth:`MeshTarget.settle` delivers them to the
  in-process handlers, and schedules run when asked;
- on AWS, EventBridge, SQS and Lambda deliver by themselves, so ``settle`` polls, bounded, until
  the expected state is there; the scheduled functions are invoked with ``lambda:Invoke``.

Everything else — acting as an account (its clients, ``PutEvents`` on its default bus, a role in
it) and looking (requests, audit records, ``can_access``, ``audit verify``) — is one
implementation here, over :meth:`SharedTarget.client` and the stack's physical names, so both
targets run the same code. Lambda code never imports this package.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from meshgov.access.effective import AccessAnswer
from meshgov.access.effective_reads import can_access_through
from meshgov.access.store import RequestRecord, RequestStore
from meshgov.audit import AuditRecord
from meshgov.audit.digests import load_digest_views
from meshgov.audit.dynamodb import read_day, verify_trail
from meshgov.audit.verify import Verdict
from meshgov.aws.arns import Arns
from meshgov.catalog.naming import Producer, central_database_name
from meshgov_local.mesh import LocalMesh

Check = Callable[[], bool]
Cleanup = Callable[[], object]


class NotSettledError(AssertionError):
    """The expected state was not reached: after delivering every queued event (local mesh), or
    before the timeout (real accounts). An AssertionError, so pytest reports it as a failure."""


class CleanupError(RuntimeError):
    """One or more deferred cleanups failed (each was still attempted)."""


@dataclass(frozen=True)
class StackNames:
    """The physical names a test body reads through: central's tables, digest bucket and key."""

    audit_table: str
    requests_table: str
    digest_bucket: str
    digest_key: str


class MeshTarget(Protocol):
    """What an end-to-end test body may use; see the module docstring."""

    name: str

    @property
    def central(self) -> str: ...
    @property
    def producer(self) -> str: ...
    @property
    def consumer(self) -> str: ...
    def client(self, account_id: str, service: str) -> Any: ...
    def central_database(self, source_database: str) -> str: ...
    def put_event(
        self, account_id: str, source: str, detail_type: str, detail: Mapping[str, Any]
    ) -> str: ...
    def create_role(self, account_id: str, name: str) -> str: ...
    def settle(self, until: Check, what: str, timeout: float | None = None) -> None: ...
    def sweep(self) -> Mapping[str, Any]: ...
    def write_digest(self) -> Mapping[str, Any]: ...
    def request(self, request_id: str) -> RequestRecord | None: ...
    def audit_records(self, since: datetime) -> list[AuditRecord]: ...
    def can_access(
        self, principal: str, database: str, table: str, action: str = "SELECT"
    ) -> AccessAnswer: ...
    def verify_audit(self) -> Verdict: ...
    def defer(self, cleanup: Cleanup) -> None: ...
    def run_cleanups(self) -> None: ...


class SharedTarget(ABC):
    """The part of a target that is the same on both: acting and looking through clients."""

    name = "shared"

    def __init__(self) -> None:
        self._cleanups: list[Cleanup] = []

    # --- what each target provides ------------------------------------------------------------
    @property
    @abstractmethod
    def central(self) -> str: ...

    @property
    @abstractmethod
    def producer(self) -> str: ...

    @property
    @abstractmethod
    def consumer(self) -> str: ...

    @property
    @abstractmethod
    def region(self) -> str: ...

    @property
    @abstractmethod
    def producer_domain(self) -> str: ...

    @property
    @abstractmethod
    def names(self) -> StackNames: ...

    @abstractmethod
    def client(self, account_id: str, service: str) -> Any: ...

    @abstractmethod
    def settle(self, until: Check, what: str, timeout: float | None = None) -> None: ...

    @abstractmethod
    def sweep(self) -> Mapping[str, Any]: ...

    @abstractmethod
    def write_digest(self) -> Mapping[str, Any]: ...

    # --- acting as an account -------------------------------------------------------------------
    def central_database(self, source_database: str) -> str:
        """The central name of the producer's ``source_database`` (ADR 0003)."""
        return central_database_name(Producer(self.producer, self.producer_domain), source_database)

    def put_event(
        self, account_id: str, source: str, detail_type: str, detail: Mapping[str, Any]
    ) -> str:
        """Put an event on ``account_id``'s default bus, as a consumer's or producer's CLI does
        (the member stack forwards ``meshgov.*`` events to central); the event id."""
        response = self.client(account_id, "events").put_events(
            Entries=[
                {
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(dict(detail), default=str),
                }
            ]
        )
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"PutEvents failed: {response['Entries']}")
        return str(response["Entries"][0]["EventId"])

    def create_role(self, account_id: str, name: str) -> str:
        """A role in ``account_id`` its own account may assume (a consumer's analyst role)."""
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": Arns.for_region(self.region).arn(
                            "iam", account_id, "root", regional=False
                        )
                    },
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = self.client(account_id, "iam").create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(trust)
        )
        return str(role["Role"]["Arn"])

    # --- looking --------------------------------------------------------------------------------
    def request_store(self) -> RequestStore:
        return RequestStore(self.client(self.central, "dynamodb"), self.names.requests_table)

    def request(self, request_id: str) -> RequestRecord | None:
        return self.request_store().get(request_id)

    def audit_records(self, since: datetime) -> list[AuditRecord]:
        """Every record of each UTC day from ``since``'s to today's, oldest first (the trail is
        partitioned by day; a run that crosses midnight reads both days)."""
        day, today = since.astimezone(UTC).date(), datetime.now(UTC).date()
        records: list[AuditRecord] = []
        dynamodb = self.client(self.central, "dynamodb")
        for current in _days(day, today):
            records.extend(read_day(dynamodb, self.names.audit_table, current.isoformat()))
        return records

    def can_access(
        self, principal: str, database: str, table: str, action: str = "SELECT"
    ) -> AccessAnswer:
        """Whether ``principal`` (a role of a member account) may ``action`` the central table,
        and which request says so — from Lake Formation's grants in both accounts."""
        return can_access_through(
            self.client, self.central, self.request_store(), principal, action, database, table
        )

    def verify_audit(self) -> Verdict:
        """``meshgov audit verify``: the whole chain and every signed digest."""
        central = self.central
        digests = load_digest_views(
            self.client(central, "s3"),
            self.client(central, "kms"),
            self.names.digest_bucket,
            self.names.digest_key,
        )
        verdict, _ = verify_trail(self.client(central, "dynamodb"), self.names.audit_table, digests)
        return verdict

    # --- cleaning up ----------------------------------------------------------------------------
    def defer(self, cleanup: Cleanup) -> None:
        """Run ``cleanup`` when the test ends (last deferred, first run), pass or fail: on real
        accounts, what a test created must not outlive it."""
        self._cleanups.append(cleanup)

    def run_cleanups(self) -> None:
        """Run every deferred cleanup, newest first; each runs even if another failed."""
        failures: list[str] = []
        while self._cleanups:
            cleanup = self._cleanups.pop()
            try:
                cleanup()
            except Exception as exc:  # every cleanup is attempted, then all failures reported
                failures.append(f"{getattr(cleanup, '__name__', cleanup)}: {exc}")
        if failures:
            raise CleanupError(f"{self.name}: cleanup failed: " + "; ".join(failures))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class LocalTarget(SharedTarget):
    """The local mesh (moto, the template deployed, the local router) as a :class:`MeshTarget`.

    ``local`` stays reachable for test bodies that need what only the emulator has (its clock,
    chaos in delivery): such bodies are not marked ``real_aws`` and run on the local mesh only.
    """

    name = "local"

    def __init__(self, mesh: LocalMesh) -> None:
        super().__init__()
        self.local = mesh
        deployment = mesh.deployment
        self._names = StackNames(
            audit_table=deployment.audit_table_name,
            requests_table=deployment.requests_table_name,
            digest_bucket=deployment.digest_bucket_name,
            digest_key=deployment.digest_key_id,
        )

    @property
    def central(self) -> str:
        return self.local.central

    @property
    def producer(self) -> str:
        return self.local.producer

    @property
    def consumer(self) -> str:
        return self.local.consumer

    @property
    def region(self) -> str:
        return self.local.config.region

    @property
    def producer_domain(self) -> str:
        return self.local.config.producers[0].domain or ""

    @property
    def names(self) -> StackNames:
        return self._names

    def client(self, account_id: str, service: str) -> Any:
        return self.local.client(account_id, service)

    def settle(self, until: Check, what: str, timeout: float | None = None) -> None:
        """Deliver every queued event (the router runs until the queues are quiet), then
        require ``until``: locally nothing else can happen later, so there is no waiting."""
        del timeout  # delivery is synchronous here
        self.local.settle()
        if not until():
            raise NotSettledError(f"local mesh: {what}: not reached after delivering every event")

    def sweep(self) -> Mapping[str, Any]:
        return _report(self.local.sweep(), "CatalogSweepFunction")

    def write_digest(self) -> Mapping[str, Any]:
        return _report(self.local.write_digest(), "AuditDigestFunction")


def _report(result: Any, function: str) -> Mapping[str, Any]:
    """A scheduled function's result; the local router returns None when every attempt failed."""
    if not isinstance(result, Mapping):
        raise RuntimeError(f"{function} failed (its failure is in the SweepDLQ): {result!r}")
    return result
