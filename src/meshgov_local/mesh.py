"""The local mesh: one moto, three (or more) accounts, template.yaml deployed, handlers routed.

Used the same way by the tests (in-process under ``mock_aws``), the demo and ``meshgov mesh up``
(moto server on loopback). Lambda code never imports this package.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshgov.access.effective import AccessAnswer
from meshgov.access.effective_reads import CentralReaders, ConsumerReaders, can_access_through
from meshgov.access.store import RequestRecord, RequestStore
from meshgov.audit import Auditor, AuditOutcome, AuditRecord, DynamoAuditTrail
from meshgov.audit.dynamodb import read_correlated, read_day
from meshgov.aws.arns import Arns
from meshgov.contracts.registry_events import MEMBER_ADD_REQUESTED
from meshgov.contracts_odcs.store import ContractStore
from meshgov.deadletters import (
    CENTRAL_DLQS,
    FORWARD_DLQ,
    INVOCATION_DLQS,
    MEMBER_DLQS,
    SOURCE_QUEUES,
    AsyncInvokeTarget,
    DeadLetterOffice,
    DeadLetterQueue,
    DefaultBusTarget,
    RedriveError,
    RedriveTarget,
    ReplayReport,
    SourceQueueTarget,
)
from meshgov.posture import PostureReport, ProducerSource, posture
from meshgov.registry.requests import put_registry_change
from meshgov.registry.store import RegistryStore
from meshgov.usage.store import UsageStore
from meshgov_local import emulator
from meshgov_local.accounts import AccountSessions
from meshgov_local.config import MeshConfig, registration_of
from meshgov_local.deploy import Deployment, FunctionBinding, deploy
from meshgov_local.emulator import controls as emulator_controls
from meshgov_local.invoke import execution_role_credentials
from meshgov_local.query_access import query_as
from meshgov_local.router import INVOCATION_FAILURES, Chaos, DeliveryReport, EventRouter
from meshgov_local.template import TEMPLATE_PATH, Template

SYNC_FUNCTION = "CatalogSyncFunction"
SWEEP_FUNCTION = "CatalogSweepFunction"
ACCESS_SWEEP_FUNCTION = "AccessSweepFunction"
MEMBER_ACCESS_FUNCTION = "MemberAccessFunction"
AUDIT_DIGEST_FUNCTION = "AuditDigestFunction"


# What a consumer's platform team gives its analysts in IAM: Glue reads (of its own catalog and of
# what is shared with it) and Lake Formation data access; Lake Formation decides the rest.
if TYPE_CHECKING:
    from meshgov_cli.query.engine import QueryResult

CONSUMER_READ_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "glue:GetDatabase",
                "glue:GetDatabases",
                "glue:GetTable",
                "glue:GetTables",
                "glue:GetPartitions",
                "lakeformation:GetDataAccess",
            ],
            "Resource": "*",
        }
    ],
}


class LocalMesh:
    def __init__(
        self,
        config: MeshConfig | None = None,
        endpoint_url: str | None = None,
        template_path: Path = TEMPLATE_PATH,
        parameter_overrides: Mapping[str, str] | None = None,
        deployment: Deployment | None = None,
        *,
        register_members: bool = True,
    ) -> None:
        """``parameter_overrides``: template parameter values for every stack, over the local
        mesh's own (e.g. the approval policy's ``{"ReviewEveryDays": "30"}``). ``deployment``:
        what an earlier deploy of the same config created, its state restored into moto
        (:mod:`meshgov_local.snapshot`): the mesh is built around it, nothing is deployed.
        ``register_members``: after a deploy, register every member of ``config`` in central's
        registry the way the platform team does (``meshgov accounts add``: an event on the
        central bus, handled by the access function); the demo does it itself, step by step."""
        emulator.install()
        self.config = config or MeshConfig()
        self.endpoint_url = endpoint_url
        self.sessions = AccountSessions(self.config.region, endpoint_url)
        self.template = Template.load(template_path)
        self.deployment: Deployment = deployment or deploy(
            self.config, self.sessions, self.template, parameter_overrides=parameter_overrides
        )
        self.router = EventRouter(self.deployment, self.sessions, endpoint_url)
        if deployment is None and register_members:
            self.register_members()

    # --- acting as an account ----------------------------------------------------------------
    def client(self, account_id: str, service: str) -> Any:
        return self.sessions.client(account_id, service)

    @property
    def central(self) -> str:
        return self.config.central_account

    @property
    def producer(self) -> str:
        return self.config.producers[0].account_id

    @property
    def consumer(self) -> str:
        return self.config.consumers[0].account_id

    def create_role(self, account_id: str, name: str) -> str:
        """A role in ``account_id`` its own account may assume (a consumer's analyst role)."""
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": self.sessions.arns.arn("iam", account_id, "root", regional=False)
                    },
                    # TagSession: a query engine tags its session for Lake Formation
                    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html).
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                }
            ],
        }
        role = self.client(account_id, "iam").create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(trust)
        )
        return str(role["Role"]["Arn"])

    def create_consumer_role(self, account_id: str, name: str) -> str:
        """A consumer's role as its platform team would set it up: trusted by its account, and
        allowed by IAM to read the catalog and ask Lake Formation for data (what it may see is
        Lake Formation's to decide, through what meshgov grants)."""
        arn = self.create_role(account_id, name)
        self.client(account_id, "iam").put_role_policy(
            RoleName=name,
            PolicyName="catalog-read",
            PolicyDocument=json.dumps(CONSUMER_READ_POLICY),
        )
        return arn

    def consumer_glue(self, account_id: str, name: str) -> Any:
        """A Glue client with ``name``'s own credentials, as the consumer's AWS CLI would hold
        them: the local mesh answers it with exactly what IAM and Lake Formation allow."""
        return self.sessions.role_session(account_id, name).client(
            "glue", endpoint_url=self.endpoint_url
        )

    def query(self, account_id: str, role: str, sql: str) -> QueryResult:
        """``meshgov query`` as ``role`` of ``account_id``: what Lake Formation lets it read of
        the Parquet objects, and nothing else (raises the engine's ``QueryError``)."""
        return query_as(
            self.client,
            self.sessions.arns,
            self.endpoint_url,
            self.config.region,
            account_id,
            role,
            sql,
        )

    def put_event(
        self, account_id: str, source: str, detail_type: str, detail: Mapping[str, Any]
    ) -> str:
        """Put an event on ``account_id``'s default bus, as a consumer's or producer's CLI does
        (the member's forwarding rule takes ``meshgov.*`` events to central)."""
        response = self.client(account_id, "events").put_events(
            Entries=[
                {
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, default=str),
                }
            ]
        )
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"PutEvents failed: {response['Entries']}")
        return str(response["Entries"][0]["EventId"])

    def request_registry_change(self, detail_type: str, detail: Mapping[str, Any]) -> str:
        """Put a ``meshgov.registry`` event on the central bus as the central account (what
        ``meshgov accounts`` does); its event id, the correlation id of its audit record."""
        return put_registry_change(
            self.client(self.central, "events"), self.deployment.bus_name, detail_type, detail
        )

    def register_members(self) -> None:
        """Register every member of the config not registered yet (a deploy converging an
        existing mesh keeps its registry), producers with their domain, and deliver."""
        registered = {m.account for m in self.registry().members()}
        ids = [
            self.request_registry_change(MEMBER_ADD_REQUESTED, registration_of(member))
            for member in self.config.members
            if member.account_id not in registered
        ]
        if not ids:
            return
        self.settle()
        refused = [
            r.entry.reason
            for r in self.audit_records()
            if r.entry.correlation_id in ids and r.entry.outcome is AuditOutcome.REFUSED
        ]
        if refused:
            raise RuntimeError(f"registering the mesh's members was refused: {refused}")

    def registry(self) -> RegistryStore:
        return RegistryStore(
            self.client(self.central, "dynamodb"), self.deployment.registry_table_name
        )

    # --- time passing --------------------------------------------------------------------------
    def settle(self, chaos: Chaos | None = None) -> DeliveryReport:
        """Deliver every queued event to its handler until the queues are quiet."""
        return self.router.deliver(chaos)

    def sweep(self) -> Any:
        """Run the scheduled catalog sweep to its end: the planner, then every work item it and
        its workers queue (delivered until the queues are quiet); the sweep's report (summed
        over its items, as its ``sweep:completed`` record has it), or the planner's answer when
        it started none (a sweep still running), or None when the planner failed."""
        planned = self.router.run_schedule(SWEEP_FUNCTION)
        if not isinstance(planned, Mapping) or "sweep" not in planned:
            return planned
        self.settle()
        sweep_id = str(planned["sweep"])
        completed = [
            r.entry
            for r in read_correlated(
                self.client(self.central, "dynamodb"), self.deployment.audit_table_name, sweep_id
            )
            if r.entry.action == "sweep:completed"
        ]
        if not completed:
            return {"sweep": sweep_id, "completed": False, "failed": ["the sweep did not finish"]}
        report = dict(completed[-1].detail.get("report") or {})
        report["failed"] = [*planned.get("failed", []), *report.get("failed", [])]
        return {**report, "sweep": sweep_id, "completed": True}

    def access_sweep(self) -> Any:
        """Run the central access sweep (expiry, warnings, unpublished), then deliver."""
        result = self.router.run_schedule(ACCESS_SWEEP_FUNCTION)
        self.settle()
        return result

    def write_digest(self) -> Any:
        """Run the scheduled audit digest once: ``{"digest": <key or None>}``, or None when
        every attempt failed (the failure is then in the SweepDLQ, as Lambda would put it)."""
        return self.router.run_schedule(AUDIT_DIGEST_FUNCTION)

    def invitation_sweep(self, account_id: str) -> Any:
        """Run a member's scheduled invitation answering, then deliver."""
        result = self.router.run_schedule(MEMBER_ACCESS_FUNCTION, account_id)
        self.settle()
        return result

    def can_access(
        self, principal: str, database: str, table: str, action: str = "SELECT"
    ) -> AccessAnswer:
        """Whether ``principal`` (a role of a member account) may ``action`` the central table,
        and which request says so — from Lake Formation's grants in both accounts."""
        return can_access_through(
            self.client, self.central, self.request_store(), principal, action, database, table
        )

    def request_store(self) -> RequestStore:
        return RequestStore(
            self.client(self.central, "dynamodb"), self.deployment.requests_table_name
        )

    def requests(self) -> list[RequestRecord]:
        return self.request_store().all()

    def usage_store(self) -> UsageStore:
        """The central usage table (issue 14), as central reads it."""
        return UsageStore(self.client(self.central, "dynamodb"), self.deployment.usage_table_name)

    # --- looking ---------------------------------------------------------------------------------
    def audit_records(self, day: str | None = None) -> list[AuditRecord]:
        day = day or datetime.now(UTC).date().isoformat()
        return read_day(
            self.client(self.central, "dynamodb"), self.deployment.audit_table_name, day
        )

    def dead_letters(
        self, logical_id: str = "CatalogEventsDLQ", account_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Every message parked in a central DLQ, left there (visible again) afterwards.

        Messages are hidden while being collected, so each receive returns new ones, then made
        visible again: looking does not consume them.
        """
        account = account_id or self.central
        sqs = self.client(account, "sqs")
        url = (
            self.deployment.queue_urls[logical_id]
            if account == self.central
            else self.deployment.member_queue_urls[account][logical_id]
        )
        seen: dict[str, dict[str, Any]] = {}
        while True:
            batch = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                VisibilityTimeout=60,
            ).get("Messages", [])
            if not batch:
                break
            seen.update((m["MessageId"], m) for m in batch)
        for message in seen.values():
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        return list(seen.values())

    def chaos(self, seed: int = 0, duplicate_rate: float = 0.0) -> Chaos:
        return Chaos(seed=seed, shuffle=True, duplicate_rate=duplicate_rate)

    # --- dead letters and posture (issue 5) -------------------------------------------------------
    def dead_letter_queues(self) -> list[DeadLetterQueue]:
        """Every DLQ of the mesh: central's, then each member's (template.yaml logical ids)."""
        queues = [
            DeadLetterQueue(name, self.central, self.deployment.queue_urls[name])
            for name in CENTRAL_DLQS
            if name in self.deployment.queue_urls
        ]
        for account, urls in sorted(self.deployment.member_queue_urls.items()):
            queues.extend(
                DeadLetterQueue(name, account, urls[name]) for name in MEMBER_DLQS if name in urls
            )
        return queues

    def dead_letter_office(self) -> DeadLetterOffice:
        return DeadLetterOffice(lambda account: self.client(account, "sqs"))

    def binding(self, function: str, account_id: str | None = None) -> FunctionBinding | None:
        """The function ``function`` (logical id) of ``account_id``'s stack (central's default)."""
        account = account_id or self.central
        bindings = (
            self.deployment.functions
            if account == self.central
            else self.deployment.member_functions.get(account, {})
        )
        return bindings.get(function)

    def function_client(self, function: str, service: str, account_id: str | None = None) -> Any:
        """A client signed with ``function``'s execution role, as the function's code holds it:
        what the role may do, and nothing more (the local mesh authorizes as IAM would)."""
        binding = self.binding(function, account_id)
        if binding is None or not binding.role_arn:
            raise KeyError(f"no function {function} with a role in {account_id or self.central}")
        credentials = execution_role_credentials(binding.role_arn, self.config.region)
        return self.sessions.session(account_id or self.central).client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=credentials["AWS_SESSION_TOKEN"],
        )

    def run_function(self, function: str, payload: Any, account_id: str | None = None) -> str:
        """Invoke a function of the mesh in-process with ``payload`` (the local stand-in for an
        asynchronous ``lambda:Invoke``); its result, as JSON. Raises RedriveError when it fails
        (on AWS the invocation would be retried, then recorded in its OnFailure DLQ again)."""
        account = account_id or self.central
        binding = self.binding(function, account)  # the router names failures by logical id
        if binding is None:
            raise RedriveError(f"no function {function} in account {account}")
        if not isinstance(payload, dict):
            raise RedriveError(f"{function} takes an event object, not {type(payload).__name__}")
        try:
            result = self.router.invoke_async(binding, payload, account)
        except INVOCATION_FAILURES as exc:  # the function failed: the dead letter stays
            raise RedriveError(f"{function} failed again: {type(exc).__name__}: {exc}") from exc
        return json.dumps(result, default=str)[:200]

    def redrive_target(self, queue: DeadLetterQueue) -> RedriveTarget:
        """Where ``queue``'s messages go back to: the source queue, the function (in-process),
        or the member's default bus."""
        if queue.name in INVOCATION_DLQS:
            return AsyncInvokeTarget(
                lambda name, payload: self.run_function(name, payload, queue.account_id)
            )
        if queue.name == FORWARD_DLQ:
            return DefaultBusTarget(self.client(queue.account_id, "events"))
        source = SOURCE_QUEUES[queue.name]
        urls = (
            self.deployment.queue_urls
            if queue.account_id == self.central
            else self.deployment.member_queue_urls[queue.account_id]
        )
        return SourceQueueTarget(self.client(queue.account_id, "sqs"), urls[source])

    def replay_dead_letters(
        self,
        queue_name: str = "CatalogEventsDLQ",
        message_ids: Sequence[str] = (),
        *,
        dry_run: bool = True,
        account_id: str | None = None,
        actor: str = "meshgov:operator",
    ) -> list[ReplayReport]:
        """Replay (or, by default, dry-run) the messages of one DLQ, in every account that has
        it (or in ``account_id``); each message is one ``dlq:replay`` audit record."""
        auditor = Auditor(
            DynamoAuditTrail(
                self.client(self.central, "dynamodb"), self.deployment.audit_table_name
            ),
            actor,
        )
        office = self.dead_letter_office()
        return [
            office.replay(queue, self.redrive_target(queue), auditor, message_ids, dry_run=dry_run)
            for queue in self.dead_letter_queues()
            if queue.name == queue_name and account_id in (None, queue.account_id)
        ]

    def posture(self, expiring_days: int = 7) -> PostureReport:
        """The posture report of the mesh as of the emulated clock, every member read (each
        producer's catalog too, for the catalog drift), with the last use of each grant and the
        status of each data contract."""
        central = self.central
        return posture(
            CentralReaders.of(central, self.client),
            [ConsumerReaders.of(m.account_id, self.client) for m in self.config.members],
            self.request_store(),
            emulator_controls.now(),
            expiring_days,
            producers=[
                ProducerSource.of(
                    p.account_id,
                    p.domain or "",
                    self.client(p.account_id, "glue"),
                    self.client(p.account_id, "lakeformation"),
                )
                for p in self.config.producers
            ],
            arns=Arns.for_region(self.config.region),
            usage=self.usage_store(),
            contracts=ContractStore(
                self.client(central, "dynamodb"), self.deployment.ledger_table_name
            ),
        )


def differences(mesh: LocalMesh) -> list[str]:
    """Empty when the central catalog equals the published source (see :mod:`verify`)."""
    from meshgov_local.verify import catalog_differences

    producers = [
        (p.account_id, p.domain or "", mesh.client(p.account_id, "glue"))
        for p in mesh.config.producers
    ]
    return catalog_differences(producers, mesh.client(mesh.central, "glue"), mesh.central)
